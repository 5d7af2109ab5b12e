"""NDB (Richardson & Weiss 2018): the per-bin test equals scipy's chi-square test of the 2 x 2 table, JS equals
scipy's; samples of the reference distribution give NDB/K near alpha, samples of one bin give NDB/K = 1; k-means
reaches scikit-learn's inertia; the CLI of the issue."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency
from typer.testing import CliRunner

from gan_eval.cli import app
import gan_eval.ops.knn as knn_module
from gan_eval.metrics.ndb import column_mean_and_std, js_divergence, make_bins, ndb, two_proportion_z_test
from gan_eval.ops.kmeans import kmeans


CENTRES = torch.randn(20, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 3


def mixture(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return CENTRES[torch.randint(20, (n,), generator=g)] + torch.randn(n, 8, generator=g, dtype=torch.float64)


@pytest.fixture(scope="module")
def bins():
    return make_bins(mixture(10_000, 1), 50, seed=0)


def test_z_test_equals_chi_square_of_the_two_by_two_table():
    p1, n1 = torch.tensor([0.10, 0.02, 0.30], dtype=torch.float64), 5000
    p2, n2 = torch.tensor([0.12, 0.02, 0.25], dtype=torch.float64), 800
    _, p_values = two_proportion_z_test(p1, n1, p2, n2)
    for a, b, p in zip(p1.tolist(), p2.tolist(), p_values.tolist()):
        table = [[a * n1, (1 - a) * n1], [b * n2, (1 - b) * n2]]
        assert p == pytest.approx(chi2_contingency(table, correction=False).pvalue, rel=1e-9)


def test_js_equals_scipy():
    p, q = torch.tensor([0.5, 0.3, 0.2, 0.0], dtype=torch.float64), torch.tensor([0.1, 0.1, 0.4, 0.4], dtype=torch.float64)
    assert js_divergence(p, q) == pytest.approx(jensenshannon(p.numpy(), q.numpy()) ** 2, rel=1e-12)


def test_reference_samples_give_ndb_near_alpha(bins):
    rates = [ndb(mixture(4000, seed), bins).ndb / 50 for seed in range(10, 14)]
    # each bin is a false positive with probability ~alpha = .05; over 4 x 50 bins expect ~10 of 200
    assert 0.0 < np.mean(rates) <= 0.10, rates


def test_samples_from_one_bin_give_ndb_one(bins):
    real = mixture(10_000, 1)
    one = real[bins.assign(real) == 0]
    collapsed = one[torch.randint(len(one), (4000,), generator=torch.Generator().manual_seed(0))]
    result = ndb(collapsed, bins)
    assert result.ndb / result.k == 1.0 and result.js > 0.5


def test_kmeans_reaches_sklearn_inertia_and_is_seeded():
    from sklearn.cluster import KMeans as SkKMeans

    x = mixture(4000, 3)
    ours = kmeans(x, 20, seed=0, n_init=10)
    inertia = float(((x - ours.centres[ours.labels]) ** 2).sum())
    sk = SkKMeans(20, max_iter=100, n_init=10, random_state=0).fit(x.numpy())
    assert inertia <= sk.inertia_ * 1.02
    assert torch.equal(kmeans(x, 20, seed=5).labels, kmeans(x, 20, seed=5).labels)
    assert ours.inertia == pytest.approx(inertia, rel=1e-12)


# Row chunking (knn_module.ROW_CHUNK): k-means and NDB convert features to float64 chunk by chunk, never as a whole.
# The sets below fit in one default chunk (the arithmetic of the unchunked formulas), so it is forced down to 64 rows.
SMALL_CHUNK = 64


def features32(n: int, d: int, seed: int) -> torch.Tensor:
    """float32 features (as extractors give them) from a 20-component mixture in ``d`` dims, off the origin."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(20, d, generator=torch.Generator().manual_seed(0)) * 3 + 5
    return (centres[torch.randint(20, (n,), generator=g)] + torch.randn(n, d, generator=g)).float()


def test_kmeans_in_row_chunks_is_bit_identical_to_one_chunk_and_to_a_float64_copy(monkeypatch):
    x = features32(700, 24, 4)
    whole = kmeans(x, 12, seed=1, n_init=2)
    # the former path: the whole set converted to float64 first (float32 -> float64 is exact)
    as_float64 = kmeans(x.double(), 12, seed=1, n_init=2)
    monkeypatch.setattr(knn_module, "ROW_CHUNK", SMALL_CHUNK)
    chunked = kmeans(x, 12, seed=1, n_init=2)
    for other in (as_float64, chunked):
        assert torch.equal(other.centres, whole.centres) and torch.equal(other.labels, whole.labels)
        assert other.iterations == whole.iterations and other.inertia == whole.inertia


@pytest.mark.parametrize("whiten", [False, True])
@pytest.mark.parametrize("dim", [16, 1200])  # 1200 > 1000: the reference code's random d // 6 dims
def test_ndb_in_row_chunks_gives_bit_identical_results(monkeypatch, whiten, dim):
    real, fake = features32(600, dim, 1), features32(300, dim, 2) * 1.02

    def everything():
        bins = make_bins(real, 10, whiten=whiten, seed=0, max_iter=30, n_init=2)
        return bins, ndb(fake, bins)

    whole_bins, whole = everything()
    monkeypatch.setattr(knn_module, "ROW_CHUNK", SMALL_CHUNK)
    bins, chunked = everything()
    assert torch.equal(bins.dims, whole_bins.dims) and len(bins.dims) == (dim if dim <= 1000 else dim // 6)
    for name in ("proportions", "reference_proportions", "z", "p_values", "different"):
        assert torch.equal(getattr(chunked, name), getattr(whole, name)), name
    assert chunked.ndb == whole.ndb and chunked.js == whole.js
    if whiten:  # the chunked column means add ten chunk sums in order: last-bit differences in the centres only
        assert torch.allclose(bins.centres, whole_bins.centres, rtol=1e-12, atol=1e-12)
    else:
        assert torch.equal(bins.centres, whole_bins.centres)


def test_column_mean_and_std_in_chunks_equal_numpy(monkeypatch):
    x = features32(700, 24, 5) * 50
    monkeypatch.setattr(knn_module, "ROW_CHUNK", SMALL_CHUNK)
    mean, std = column_mean_and_std(x)
    np.testing.assert_allclose(mean.numpy(), x.double().numpy().mean(0), rtol=1e-13)
    np.testing.assert_allclose(std.numpy(), x.double().numpy().std(0), rtol=1e-12)


def test_cli_ndb_against_a_reference_file(tmp_path):
    np.savez(tmp_path / "real.npz", x=mixture(3000, 1).numpy())
    np.savez(tmp_path / "fake.npz", x=mixture(1000, 2).numpy())
    args = ["score", str(tmp_path / "fake.npz"), "--metric", "ndb", "--reference", str(tmp_path / "real.npz"), "--set", "k=20", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["values"]["k"] == 20 and len(data["details"]["bins"]["z"]) == 20
    assert data["values"]["ndb_over_k"] <= 0.25
