"""Image metrics without the Inception weights: the extractor recorded in a statistics reference is used when
``--features`` is not given, each metric declares its default extractor (listed by ``gan-eval metrics``), and
the missing-weights error names the offline alternatives. The Inception weights are made unreachable in every
test here (``$GAN_EVAL_INCEPTION_WEIGHTS`` unset or pointing nowhere, an empty torch hub folder, no network), so
a test that passes ran without them."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from gan_eval.cli import app
from gan_eval.features import weights as inception_weights
from gan_eval.features.mnist_classifier import WEIGHTS_PATH
from gan_eval.io.mnist import load_mnist
from gan_eval.metrics import METRICS

runner = CliRunner()

OFFLINE_ALTERNATIVES = ("--features mnist", "--features pixels", "--features pkg.module:factory", "--weights PATH", "GAN_EVAL_INCEPTION_WEIGHTS")


@pytest.fixture(autouse=True)
def no_inception(tmp_path, monkeypatch):
    """No Inception weights anywhere: the environment variable unset, an empty hub folder, no network."""
    monkeypatch.delenv(inception_weights.ENV_VAR, raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "empty-hub"))
    monkeypatch.setattr(inception_weights, "_online", lambda *a, **k: False)


@pytest.fixture(scope="module")
def digits(mnist_dir, tmp_path_factory):
    """Two disjoint sets of 300 MNIST t10k digits saved as files, and `gan-eval stats --features mnist` of the second."""
    images, _ = load_mnist(mnist_dir, "test")
    folder = tmp_path_factory.mktemp("digits")
    fake, real, stats = folder / "fake.npz", folder / "real.npz", folder / "real_stats.npz"
    np.savez(fake, x=images[:300])
    np.savez(real, x=images[300:600])
    made = invoke("stats", real, "-o", stats, "--features", "mnist", "--keep-features", "--no-progress")
    assert made.exit_code == 0, made.output
    return fake, real, stats


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def scored(*args) -> dict:
    result = invoke("score", *args, "--json", "--no-progress")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


@pytest.mark.parametrize("metric, settings", [("fid", []), ("kid", ["--set", "subset_size=100", "--set", "subsets=5"]), ("prdc", [])])
def test_statistics_made_with_mnist_need_no_features_flag_offline(digits, metric, settings):
    """Scoring against `stats --features mnist` without --features uses mnist (name and layer from the file),
    says so in the protocol, and equals the score with --features mnist stated."""
    fake, _, stats = digits
    implicit = scored(fake, "-m", metric, "-r", stats, *settings)
    explicit = scored(fake, "-m", metric, "-r", stats, "--features", "mnist", *settings)
    features = implicit["protocol"]["features"]
    assert (features["name"] if isinstance(features, dict) else features) == "mnist"
    assert implicit["protocol"]["features_from"].startswith("recorded in the reference statistics")
    assert implicit["values"] == explicit["values"]
    if "layer" in implicit["protocol"]:
        assert implicit["protocol"]["layer"] == "penultimate"


def test_prdc_against_kept_features_equals_prdc_against_the_images(digits):
    """The statistics file's float32 features give the PRDC of the images they came from (float64 features),
    up to one sample in a ball's boundary."""
    fake, real, stats = digits
    from_stats = scored(fake, "-m", "prdc", "-r", stats)["values"]
    from_images = scored(fake, "-m", "prdc", "-r", real, "--features", "mnist")["values"]
    for name, value in from_images.items():
        assert from_stats[name] == pytest.approx(value, abs=1 / 300 + 1e-12), name


def test_explicit_features_that_disagree_with_the_statistics_still_fail(digits):
    fake, _, stats = digits
    for metric in ("fid", "prdc"):
        line = one_error_line(invoke("score", fake, "-m", metric, "-r", stats, "--features", "pixels"))
        assert "different feature extractors" in line and str(stats) in line


def test_recorded_weights_are_checked_by_their_hash(digits, tmp_path):
    """Statistics made with other mnist weights are refused when the bundled ones are found instead, and when the
    same weights path now holds other numbers (the file's sha256 is part of the identity)."""
    fake, real, _ = digits
    state = torch.load(WEIGHTS_PATH, weights_only=True)
    state["head.1.bias"] = state["head.1.bias"] + 1.0
    other = tmp_path / "other_mnist.pt"
    torch.save(state, other)
    stats = tmp_path / "other_stats.npz"
    assert invoke("stats", real, "-o", stats, "--features", "mnist", "--weights", other, "--no-progress").exit_code == 0
    assert "different feature extractors" in one_error_line(invoke("score", fake, "-m", "fid", "-r", stats))
    assert scored(fake, "-m", "fid", "-r", stats, "--weights", other)["values"]["fid"] > 0
    state["head.1.bias"] = state["head.1.bias"] + 1.0
    torch.save(state, other)
    line = one_error_line(invoke("score", fake, "-m", "fid", "-r", stats, "--weights", other))
    assert "different feature extractors (weights:" in line  # the content hash, not the path


@pytest.mark.filterwarnings("ignore:.*singular covariance")
def test_a_recorded_user_factory_is_imported_again(tmp_path):
    rng = np.random.default_rng(0)
    real, fake, stats = tmp_path / "real.npy", tmp_path / "fake.npy", tmp_path / "stats.npz"
    np.save(real, rng.random((40, 1, 6, 6), dtype=np.float32))
    np.save(fake, rng.random((40, 1, 6, 6), dtype=np.float32) ** 2)
    assert invoke("stats", real, "-o", stats, "--features", "torch.nn:Flatten", "--no-progress").exit_code == 0
    result = scored(fake, "-m", "fid", "-r", stats)
    assert result["protocol"]["features"]["name"] == "torch.nn:Flatten" and result["values"]["fid"] > 0


def test_metrics_lists_each_metrics_declared_default_extractor():
    output = invoke("metrics").output
    header, _, *rows = output.splitlines()
    column = re.split(r"\s{2,}", header).index("features (default)")
    listed = {cells[0]: cells[column] for cells in (re.split(r"\s{2,}", row) for row in rows)}
    assert set(listed) == set(METRICS)
    for name in METRICS:
        assert listed[name] == (METRICS.get(name).default_features or "-"), name
    assert listed["fid"] == "inception" and listed["ndb"] == "pixels" and listed["stacked-mnist"] == "mnist"


@pytest.mark.parametrize("environment", ["unset", "nowhere"])
@pytest.mark.parametrize("metric", ["fid", "prdc"])
def test_missing_inception_weights_is_one_line_listing_the_offline_alternatives(digits, monkeypatch, environment, metric):
    fake, real, _ = digits
    if environment == "nowhere":
        monkeypatch.setenv(inception_weights.ENV_VAR, str(real.parent / "no-such-weights.pth"))
    line = one_error_line(invoke("score", fake, "-m", metric, "-r", real))
    for alternative in OFFLINE_ALTERNATIVES:
        assert alternative in line, alternative


def test_default_extractor_is_what_the_metric_runs(digits):
    """ndb and birthday declare pixels and score image files in pixel space without --features."""
    fake, real, _ = digits
    ndb = scored(fake, "-m", "ndb", "-r", real, "--set", "k=10", "--set", "n_init=1")["protocol"]["features"]
    assert ndb["name"] == METRICS.get("ndb").default_features
    assert scored(fake, "-m", "birthday")["protocol"]["features"]["name"] == METRICS.get("birthday").default_features
