"""PRDC equals the ``prdc`` package (clovaai, compute_prdc) on the same features; the CLI command of the issue."""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from gan_eval.cli import app
from gan_eval.errors import GanEvalError
from gan_eval.metrics.prdc import prdc



def peer_prdc(real: np.ndarray, fake: np.ndarray, k: int) -> dict:
    from prdc import compute_prdc

    with contextlib.redirect_stdout(io.StringIO()):  # it prints the sample counts
        return compute_prdc(real, fake, k)


@pytest.mark.parametrize("k", [3, 5])
@pytest.mark.parametrize("backend", ["faiss", "torch"])
def test_prdc_equals_prdc_package(k, backend):
    rng = np.random.default_rng(k)
    real = rng.normal(size=(800, 64))
    fake = rng.normal(size=(700, 64)) * 1.2 + 0.2
    ours = prdc(torch.from_numpy(real), torch.from_numpy(fake), k, backend=backend)
    ref = peer_prdc(real, fake, k)
    for name, value in ours.values().items():
        assert value == pytest.approx(float(ref[name]), abs=1e-6), name


def test_prdc_float32_features_equal_prdc_package_float64():
    rng = np.random.default_rng(7)
    real, fake = rng.normal(size=(500, 2048)).astype(np.float32), rng.normal(size=(500, 2048)).astype(np.float32) + 0.05
    ours = prdc(torch.from_numpy(real), torch.from_numpy(fake), 5)
    ref = peer_prdc(real.astype(np.float64), fake.astype(np.float64), 5)
    assert ours.values() == pytest.approx({k: float(v) for k, v in ref.items()}, abs=1e-6)


def test_coincident_points_follow_the_strict_definition_exactly():
    """With fakes equal to reals, d(real_l, fake_j) equals the radius R_l exactly when the copied real is l's
    k-th neighbour; prdc's rounded expansion may count such boundary points, the definition (strict <) does not.
    Checked against the paper's formulas on direct-difference float64 distances."""
    rng = np.random.default_rng(3)
    real = rng.normal(size=(300, 16))
    fake = np.concatenate([real[:100], rng.normal(size=(200, 16))])
    d = np.sqrt(((real[:, None] - fake[None]) ** 2).sum(-1))
    r_real = np.sort(np.sqrt(((real[:, None] - real[None]) ** 2).sum(-1)), 1)[:, 5]
    r_fake = np.sort(np.sqrt(((fake[:, None] - fake[None]) ** 2).sum(-1)), 1)[:, 5]
    inside = d < r_real[:, None]
    expected = {
        "precision": inside.any(0).mean(),
        "recall": (d < r_fake[None]).any(1).mean(),
        "density": inside.sum() / (5 * len(fake)),
        "coverage": (d.min(1) < r_real).mean(),
    }
    assert prdc(torch.from_numpy(real), torch.from_numpy(fake), 5).values() == pytest.approx(expected, abs=1e-12)


def test_identical_sets_are_perfect_and_collapse_loses_recall():
    x = torch.randn(300, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    same = prdc(x, x)
    assert (same.precision, same.recall, same.coverage) == (1.0, 1.0, 1.0)
    collapsed = prdc(x, x[:1].repeat(300, 1) + 1e-3 * x[:300])
    assert collapsed.recall < 0.1 and collapsed.coverage < 0.1


def test_mismatched_dimensions_are_a_one_line_error():
    with pytest.raises(GanEvalError, match="same D"):
        prdc(torch.zeros(10, 3), torch.zeros(10, 4))


def test_cli_prdc_on_feature_files(tmp_path):
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(400, 16)), rng.normal(size=(300, 16))
    np.savez(tmp_path / "real.npz", features=real)
    np.savez(tmp_path / "fake.npz", features=fake)
    result = CliRunner().invoke(
        app, ["score", str(tmp_path / "fake.npz"), "--metric", "prdc", "--reference", str(tmp_path / "real.npz"), "--json"]
    )
    assert result.exit_code == 0, result.output
    values = json.loads(result.stdout)["values"]
    ref = peer_prdc(real, fake, 5)
    assert values == pytest.approx({k: float(v) for k, v in ref.items()}, abs=1e-6)


def test_cli_prdc_without_reference_is_an_error(tmp_path):
    np.savez(tmp_path / "fake.npz", features=np.zeros((10, 2)))
    result = CliRunner().invoke(app, ["score", str(tmp_path / "fake.npz"), "--metric", "prdc"])
    assert result.exit_code == 2 and "needs a reference" in result.output
