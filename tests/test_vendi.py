"""Vendi score (Friedman & Dieng 2023): closed forms (identical samples 1, orthonormal vectors n, the rank at q = 0),
the d x d path equals the n x n path, and equality with the ``vendi-score`` package on the same input; the CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from gan_eval.cli import app
from gan_eval.errors import GanEvalError
from gan_eval.metrics.vendi import linear_spectrum, vendi_score



def features(n: int, d: int, seed: int) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
@pytest.mark.parametrize("q", [0.0, 1.0, 2.0, float("inf")])
def test_identical_samples_score_one(kernel, q):
    x = features(1, 7, 0).repeat(50, 1)
    assert vendi_score(x, kernel=kernel, q=q, bandwidth=1.0).value == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("q", [0.0, 0.5, 1.0, 2.0, float("inf")])
def test_orthonormal_vectors_score_n_at_every_order(q):
    """n orthonormal rows (a random rotation's first n rows in 64-d): K = I, every eigenvalue 1/n, VS_q = n."""
    rotation, _ = torch.linalg.qr(features(64, 64, 1))
    assert vendi_score(rotation[:40], q=q).value == pytest.approx(40.0, rel=1e-10)


def test_far_apart_points_score_n_with_the_rbf_kernel():
    x = torch.arange(30, dtype=torch.float64)[:, None] * 100.0
    assert vendi_score(x, kernel="rbf", bandwidth=1.0).value == pytest.approx(30.0, rel=1e-12)


def test_q_zero_is_the_rank_of_the_kernel():
    """Samples spanning a 5-dimensional subspace of 32-d: the cosine kernel has rank 5."""
    x = features(200, 5, 2) @ features(5, 32, 3)
    assert vendi_score(x, q=0.0).value == pytest.approx(5.0, abs=1e-9)


def test_d_by_d_path_equals_n_by_n_path():
    for n, d in [(300, 20), (20, 300)]:
        x = features(n, d, n)
        gram, dual = (linear_spectrum(x, dual=flag) for flag in (False, True))
        top = min(n, d)
        torch.testing.assert_close(gram.sort().values[-top:], dual.sort().values[-top:], rtol=0, atol=1e-12)
        assert vendi_score(x).eigenproblem == ("d x d (X^T X / n)" if d < n else "n x n (K / n)")


@pytest.mark.parametrize("q", [1.0, 2.0, 0.5, float("inf")])
def test_linear_equals_vendi_score_package(q):
    """The package's ``score_dual`` (cosine-normalised rows, d x d) at every order; its ``score_X`` (n x n) at q = 1
    (0.0.3's score_X ignores q)."""
    vendi = pytest.importorskip("vendi_score.vendi")
    x = features(400, 24, 4) + 0.5
    ours = vendi_score(x, q=q).value
    assert ours == pytest.approx(vendi.score_dual(x.numpy(), q="inf" if q == float("inf") else q), rel=1e-9)
    if q == 1.0:
        assert ours == pytest.approx(vendi.score_X(x.numpy()), rel=1e-9)


@pytest.mark.parametrize("q", [1.0, 2.0])
def test_rbf_equals_vendi_score_package_on_the_same_kernel(q):
    """The package's ``score_K`` on the RBF kernel built here with scipy at the median-distance bandwidth."""
    vendi = pytest.importorskip("vendi_score.vendi")
    from scipy.spatial.distance import pdist, squareform

    x = features(300, 6, 5)
    distances = pdist(x.numpy())
    sigma = np.median(distances)
    kernel = np.exp(-squareform(distances) ** 2 / (2 * sigma**2))
    ours = vendi_score(x, kernel="rbf", q=q)
    assert ours.bandwidth == pytest.approx(sigma, rel=1e-12)
    assert ours.value == pytest.approx(vendi.score_K(kernel, q=q), rel=1e-9)


def test_bad_options_are_one_line_errors():
    with pytest.raises(GanEvalError, match="kernel"):
        vendi_score(features(5, 2, 0), kernel="poly")
    with pytest.raises(GanEvalError, match="bandwidth"):
        vendi_score(torch.ones(5, 2), kernel="rbf")
    with pytest.raises(GanEvalError, match="q = -1"):
        vendi_score(features(5, 2, 0), q=-1)


def test_cli_prints_vendi_with_its_protocol(tmp_path):
    """Vectors as given: 8 well-separated clusters in 8 orthogonal directions have a cosine Vendi score near 8."""
    centres = torch.eye(8, dtype=torch.float64) * 10
    x = centres.repeat(50, 1) + 0.01 * features(400, 8, 6)
    path = tmp_path / "fake.npz"
    np.savez(path, x.numpy())
    result = CliRunner().invoke(app, ["score", str(path), "--metric", "vendi", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["values"]["vendi"] == pytest.approx(8.0, rel=1e-3) and out["values"]["n"] == 400
    assert out["protocol"]["kernel"].startswith("cosine") and out["protocol"]["eigenproblem"].startswith("d x d")
    result = CliRunner().invoke(app, ["score", str(path), "--metric", "vendi", "--set", "kernel=rbf", "--set", "q=inf", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["protocol"]["bandwidth_from"] == "median distance"
    result = CliRunner().invoke(app, ["score", str(path), "--metric", "vendi", "--set", "kernel=poly"])
    assert result.exit_code == 2 and "kernel" in result.output


def test_the_readmes_default_kernel_is_the_options_and_is_cosine_similarity():
    """README: the default is kernel=linear on unit-length rows (normalise=true), i.e. cosine similarity; those are
    VendiOptions' defaults, `kernel=cosine` is not a kernel name, and the spectrum is that of the cosine matrix."""
    from pathlib import Path

    from gan_eval.metrics.vendi import VendiOptions

    readme = " ".join((Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8").split())
    bullet = readme[readme.index("- Vendi (Friedman & Dieng 2023)"):][:400]
    assert "default kernel is `kernel=linear`" in bullet and "(`normalise=true`), which is cosine similarity" in bullet
    assert (VendiOptions().kernel, VendiOptions().normalise) == ("linear", True)
    with pytest.raises(GanEvalError, match="kernel='cosine' is not one of"):
        vendi_score(features(20, 4, 0), kernel="cosine")
    x = features(30, 5, 1) * torch.linspace(0.5, 3.0, 30, dtype=torch.float64)[:, None]  # rows of unequal length
    unit = x / x.norm(dim=1, keepdim=True)
    cosine = torch.linalg.eigvalsh(unit @ unit.T / len(x)).clamp(min=0).sort(descending=True).values[:5]
    assert torch.allclose(linear_spectrum(x).sort(descending=True).values[:5], cosine, atol=1e-12)
