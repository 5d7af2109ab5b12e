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


# Row chunking (ROW_CHUNK): the float64 norms and means are computed per chunk of rows so that no N x d float64
# copy exists. The sets here (600 rows) fit in one default chunk, so the chunk is forced down to 64 rows.
SMALL_CHUNK = 64


def offset_features(n: int, dtype: torch.dtype) -> torch.Tensor:
    """Features far from the origin, as Inception's are (so a relative tolerance on their mean is meaningful)."""
    g = torch.Generator().manual_seed(3)
    return (3.0 + torch.randn(n, 48, generator=g, dtype=torch.float64)).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_row_sq_norms_in_chunks_are_bit_identical_to_the_whole_set_formula(monkeypatch, dtype):
    z = offset_features(600, torch.float32)
    shift = z.double().mean(0).to(dtype)
    monkeypatch.setattr(knn_module, "ROW_CHUNK", SMALL_CHUNK)
    # each row is reduced on its own, in the same order: chunking changes no bit
    assert torch.equal(knn_module.row_sq_norms(z, dtype), z.to(dtype).pow(2).sum(1))
    assert torch.equal(knn_module.row_sq_norms(z, dtype, shift), (z.to(dtype) - shift).pow(2).sum(1))


def test_float64_mean_in_chunks_equals_the_correctly_rounded_mean(monkeypatch):
    import math

    # float64 data: sums of float32 values this size would be exact in float64 whatever the order
    z = offset_features(600, torch.float64)
    previous = z.to(torch.float64).mean(0)
    assert torch.equal(knn_module.float64_mean(z), previous)  # one chunk: same sum, same division, same bits
    monkeypatch.setattr(knn_module, "ROW_CHUNK", SMALL_CHUNK)
    chunked = knn_module.float64_mean(z)
    # ten chunk sums added in order: another summation order, so equal to 1e-12 relative (not bit for bit), both
    # to the previous formula and to the correctly rounded mean (math.fsum, an exact sum)
    exact = torch.tensor([math.fsum(col) / len(z) for col in z.T.tolist()], dtype=torch.float64)
    assert torch.allclose(chunked, previous, rtol=1e-12, atol=0) and torch.allclose(chunked, exact, rtol=1e-12, atol=0)


def test_centred_float32_in_chunks_is_the_float32_rounding_of_the_centred_set(monkeypatch):
    x, y = offset_features(600, torch.float32), offset_features(300, torch.float64)
    monkeypatch.setattr(knn_module, "ROW_CHUNK", SMALL_CHUNK)
    mean = knn_module.float64_mean(x)
    cx, cy = knn_module.centred_float32(x, y, x)
    assert torch.equal(cx, (x.double() - mean).float()) and torch.equal(cy, (y - mean).float())
    cx, cx_again = knn_module.centred_float32(x, x, x)
    assert cx_again is cx


@pytest.mark.parametrize("backend", BACKENDS)
def test_knn_pairs_radii_and_ball_counts_do_not_change_with_the_row_chunk(monkeypatch, points, backend):
    # x: float64 (its chunked mean differs in the last bits, so the centring moves); y: float32 features, converted
    # per chunk; x has a triple of exact duplicates (ties must resolve the same way)
    x, y = points, offset_features(400, torch.float32) - 3.0
    q = x[:150] + 0.01

    def everything() -> list[torch.Tensor]:
        nb, cross = knn(x, x, 7, exclude_self=True, backend=backend), knn(q, x, 5, backend=backend)
        pairs = nearest_pairs(x, 25, backend=backend)
        rx2, ry2 = kth_neighbour_sq_radii(x, 3, backend=backend), kth_neighbour_sq_radii(y, 3, backend=backend)
        balls = ball_counts(x, y, rx2, ry2)
        return [nb.indices, nb.sq_distances, cross.indices, cross.sq_distances, pairs.first, pairs.second,
                pairs.distances, rx2, ry2, balls.y_in_x_balls, balls.x_ball_nonempty, balls.x_in_some_y_ball]

    whole = everything()  # one chunk: the arithmetic of the unchunked formulas
    monkeypatch.setattr(knn_module, "ROW_CHUNK", SMALL_CHUNK)
    monkeypatch.setattr(knn_module, "BLOCK_ELEMENTS", 64 * 128)  # several base blocks per query chunk too
    for before, after in zip(whole, everything(), strict=True):
        assert torch.equal(before, after)  # exact results: the float32 search may move, the answers may not


def test_self_search_from_the_upper_blocks_equals_float64_brute_force(monkeypatch, points):
    """knn(x, x) computes each off-diagonal distance block once and merges it into its rows' and (transposed) its
    columns' lists: with blocks of 37 rows (17 per side, one partial) its neighbours equal the float64 brute force
    and the full search of the same points as a separate base (x.clone(): every block computed)."""
    monkeypatch.setattr(knn_module, "ROW_CHUNK", 37)
    calls = []
    self_search = knn_module._candidates_torch_self
    monkeypatch.setattr(knn_module, "_candidates_torch_self", lambda *a: calls.append(1) or self_search(*a))
    d2 = brute_sq(points, points)
    d2.fill_diagonal_(float("inf"))
    ref = torch.sort(d2, dim=1, stable=True)
    got = knn(points, points, 7, exclude_self=True, backend="torch")
    full = knn(points, points.clone(), 7, exclude_self=True, backend="torch")
    assert calls == [1]  # the clone took the full search
    assert torch.equal(got.indices, ref.indices[:, :7]) and torch.equal(got.indices, full.indices)
    assert torch.equal(got.sq_distances, full.sq_distances)
    assert torch.allclose(got.sq_distances, ref.values[:, :7], rtol=1e-12, atol=0)
