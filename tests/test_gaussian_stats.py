"""Streaming Gaussian statistics: exact merge, numpy's mean/cov, the statistics file round trip."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_eval.errors import GanEvalError
from gan_eval.io.stats_file import is_stats_file, load_stats, save_stats
from gan_eval.stats.gaussian import GaussianStats


def test_merge_of_halves_equals_whole():
    x = torch.from_numpy(np.random.RandomState(0).rand(257, 9))
    whole = GaussianStats.of(x)
    merged = GaussianStats.of(x[:100]).merge(GaussianStats.of(x[100:]))
    assert merged.count == whole.count == 257
    torch.testing.assert_close(merged.total, whole.total, rtol=1e-13, atol=0)
    torch.testing.assert_close(merged.outer, whole.outer, rtol=1e-13, atol=0)
    torch.testing.assert_close(merged.cov(), whole.cov(), rtol=1e-12, atol=1e-15)


def test_mean_and_cov_equal_numpy():
    x = np.random.RandomState(1).randn(300, 5) * 3 + 10
    stats = GaussianStats.of(torch.from_numpy(x))
    np.testing.assert_allclose(stats.mean().numpy(), x.mean(0), rtol=1e-13)
    np.testing.assert_allclose(stats.cov().numpy(), np.cov(x, rowvar=False), rtol=1e-10)


def test_merge_refuses_other_features():
    a = GaussianStats.of(torch.rand(4, 3), {"extractor": {"name": "inception", "weights": "a"}, "layer": "pool"})
    b = GaussianStats.of(torch.rand(4, 3), {"extractor": {"name": "inception", "weights": "b"}, "layer": "pool"})
    with pytest.raises(GanEvalError, match="weights"):
        a.merge(b)


def test_stats_file_round_trip_is_readable_as_mu_sigma(tmp_path):
    x = torch.rand(50, 4, dtype=torch.float64)
    stats = GaussianStats.of(x, {"extractor": {"name": "pixels"}, "layer": "pixels"})
    save_stats(tmp_path / "s.npz", stats, features=x)
    assert is_stats_file(tmp_path / "s.npz")
    loaded = load_stats(tmp_path / "s.npz")
    assert loaded.moments.n == 50 and loaded.moments.meta["layer"] == "pixels"
    torch.testing.assert_close(loaded.moments.sigma, stats.cov())
    torch.testing.assert_close(loaded.features, x.float())
    with np.load(tmp_path / "s.npz") as plain:  # what pytorch-fid reads
        np.testing.assert_allclose(plain["mu"], x.mean(0).numpy())
