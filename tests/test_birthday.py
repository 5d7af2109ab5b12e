"""Birthday-paradox pairs (Arora & Zhang 2017): planted duplicates found first, backends agree, the support
estimate recovers N for a uniform distribution, the closed-form collision probability; the CLI of the issue."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from gan_eval.api import score
from gan_eval.cli import app
from gan_eval.metrics.birthday import birthday, collision_probability



def images_with_duplicates(n: int = 400, seed: int = 0) -> tuple[np.ndarray, list[tuple[int, int]]]:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(n, 16, 16), dtype=np.uint8)
    planted = [(3, 250), (17, 18), (40, 399), (123, 321)]
    for a, b in planted:
        x[b] = x[a]
    return x, planted


@pytest.mark.parametrize("backend", ["faiss", "torch"])
def test_planted_duplicates_are_all_found_and_ranked_first(backend):
    x, planted = images_with_duplicates()
    result = score(x, "birthday", pairs=10, backend=backend)
    pairs = list(zip(result.details["pairs"]["first"], result.details["pairs"]["second"]))
    assert sorted(pairs[:4]) == sorted(planted)
    assert result.details["pairs"]["distance"][:4] == [0.0] * 4 and result.details["pairs"]["distance"][4] > 0
    assert result.values["duplicate_rate"] == pytest.approx(8 / 400)
    assert result.values["duplicate_pairs"] == 4 and result.values["duplicate_pairs_exact"]
    assert result.values["support_estimate"] == pytest.approx(400 * 399 / 8)


def test_faiss_and_torch_return_the_same_pairs():
    x = torch.from_numpy(np.random.default_rng(5).normal(size=(1500, 128)))
    a, b = birthday(x, 50, backend="faiss"), birthday(x, 50, backend="torch")
    assert torch.equal(a.pairs.first, b.pairs.first) and torch.equal(a.pairs.second, b.pairs.second)
    assert torch.equal(a.pairs.distances, b.pairs.distances)


def test_support_estimate_recovers_a_uniform_support():
    """E[duplicate pairs] = C(s, 2) / N for s uniform draws on N items; here about 900 pairs, so ~3 % noise."""
    n_support, s = 5000, 3000
    draws = torch.from_numpy(np.random.default_rng(2).integers(0, n_support, size=s)).double()[:, None]
    result = birthday(draws, 8)
    assert result.duplicate_pairs_exact and result.support_estimate == pytest.approx(n_support, rel=0.1)


def test_heavy_duplication_makes_the_pair_count_a_flagged_lower_bound():
    x = torch.zeros(50, 3, dtype=torch.float64)  # one image 50 times: 1225 duplicate pairs, lists hold 5 each
    result = birthday(x, 5)
    assert not result.duplicate_pairs_exact and result.duplicate_pairs < 1225 and result.duplicate_rate == 1.0


def test_collision_closed_form_is_half_at_1177_sqrt_n():
    n = 1_000_000
    assert collision_probability(round(1.1774 * math.sqrt(n)), n) == pytest.approx(0.5, abs=1e-3)


def test_sample_size_draws_a_seeded_subset_and_reports_original_indices():
    x, planted = images_with_duplicates()
    a = score(x, "birthday", seed=3, sample_size=200, pairs=5)
    b = score(x, "birthday", seed=3, sample_size=200, pairs=5)
    assert a.details == b.details and a.values["n"] == 200
    for i, j in zip(a.details["pairs"]["first"], a.details["pairs"]["second"]):
        assert (i, j) in planted or not np.array_equal(x[i], x[j])


def test_cli_birthday_writes_the_pair_grid(tmp_path):
    x, planted = images_with_duplicates()
    np.savez(tmp_path / "fake.npz", images=x)
    out = tmp_path / "pairs.png"
    result = CliRunner().invoke(app, ["score", str(tmp_path / "fake.npz"), "--metric", "birthday", "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["files"] == [str(out)] and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data["details"]["pairs"]["first"]) == 20


def test_cli_birthday_grid_of_non_images_is_an_error(tmp_path):
    np.savez(tmp_path / "points.npz", x=np.random.default_rng(0).normal(size=(50, 2)))
    result = CliRunner().invoke(app, ["score", str(tmp_path / "points.npz"), "--metric", "birthday", "-o", str(tmp_path / "p.png")])
    assert result.exit_code == 2 and "not images" in result.output
