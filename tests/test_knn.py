"""Exact k-NN, nearest pairs and ball counts against float64 brute force (torch.cdist / numpy), on both backends."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import gan_eval.ops.knn as knn_module
from gan_eval.errors import GanEvalError
from gan_eval.ops.knn import ball_counts, knn, kth_neighbour_sq_radii, nearest_pairs

BACKENDS = ["faiss", "torch"]


def brute_sq(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """float64 squared distances by direct differences (no expansion): the ground truth."""
    return (x[:, None, :].double() - y[None, :, :].double()).pow(2).sum(-1)


@pytest.fixture(scope="module")
def points() -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(600, 48, generator=g, dtype=torch.float64)
    x[100] = x[5]
    x[200] = x[5]  # a triple of exact duplicates: ties at distance 0
    return x


@pytest.mark.parametrize("backend", BACKENDS)
def test_knn_equals_float64_brute_force_with_index_tie_break(points, backend):
    d2 = brute_sq(points, points)
    d2.fill_diagonal_(float("inf"))
    ref = torch.sort(d2, dim=1, stable=True)  # stable: ties by smaller index
    got = knn(points, points, 7, exclude_self=True, backend=backend)
    assert torch.equal(got.indices, ref.indices[:, :7])
    assert torch.allclose(got.distances, ref.values[:, :7].sqrt(), rtol=1e-12, atol=0)
    assert got.indices[5, :2].tolist() == [100, 200] and got.distances[5, :2].tolist() == [0.0, 0.0]


def test_knn_backends_agree_on_cross_queries(points):
    q = points[:150] + 0.01
    a, b = knn(q, points, 5, backend="faiss"), knn(q, points, 5, backend="torch")
    assert torch.equal(a.indices, b.indices) and torch.equal(a.distances, b.distances)


def test_kth_radius_equals_prdc_nearest_neighbour_distances(points):
    from prdc.prdc import compute_nearest_neighbour_distances

    ref = compute_nearest_neighbour_distances(points.numpy(), 5)
    np.testing.assert_allclose(kth_neighbour_sq_radii(points, 5).sqrt().numpy(), ref, rtol=1e-10, atol=1e-7)


def test_certification_falls_back_to_exhaustive_search_on_near_ties(monkeypatch):
    # 300 points on a sphere around the query: float32 cannot order them, the float64 answer must still come out
    g = torch.Generator().manual_seed(1)
    u = torch.randn(300, 32, generator=g, dtype=torch.float64)
    base = 100.0 + u / u.norm(dim=1, keepdim=True) * (1.0 + 1e-9 * torch.arange(300, dtype=torch.float64)[:, None])
    query = torch.full((1, 32), 100.0, dtype=torch.float64)
    calls = []
    exhaustive = knn_module._exhaustive_row
    monkeypatch.setattr(knn_module, "_exhaustive_row", lambda *a: calls.append(1) or exhaustive(*a))
    got = knn(query, base, 3, backend="torch")
    assert calls, "the float32 candidates should not have been certifiable here"
    assert got.indices[0].tolist() == [0, 1, 2]


@pytest.mark.parametrize("backend", BACKENDS)
def test_nearest_pairs_equal_brute_force_top_pairs(points, backend):
    d2 = brute_sq(points, points)
    i, j = torch.triu_indices(len(points), len(points), 1)
    order = torch.sort(d2[i, j], stable=True).indices[:25]  # triu order: ties by (i, j)
    got = nearest_pairs(points, 25, backend=backend)
    assert got.first.tolist() == i[order].tolist() and got.second.tolist() == j[order].tolist()
    assert got.first[:3].tolist() == [5, 5, 100] and got.distances[:3].tolist() == [0.0, 0.0, 0.0]


def test_ball_counts_equal_dense_comparisons(points):
    g = torch.Generator().manual_seed(2)
    y = torch.randn(400, 48, generator=g, dtype=torch.float64) * 1.1
    rx2, ry2 = kth_neighbour_sq_radii(points, 3), kth_neighbour_sq_radii(y, 3)
    dense = brute_sq(points, y)
    got = ball_counts(points, y, rx2, ry2)
    assert torch.equal(got.y_in_x_balls, (dense < rx2[:, None]).sum(0))
    assert torch.equal(got.x_ball_nonempty, (dense < rx2[:, None]).any(1))
    assert torch.equal(got.x_in_some_y_ball, (dense < ry2[None, :]).any(1))


def test_bad_k_is_a_one_line_error(points):
    with pytest.raises(GanEvalError, match="k = 600"):
        knn(points, points, 600, exclude_self=True)
    with pytest.raises(GanEvalError, match="backend"):
        knn(points, points, 1, backend="annoy")
