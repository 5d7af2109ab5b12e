"""One inputs -> features -> statistics stage for every metric of a call (issue 14 items 1 and 3).

Several metrics in one ``gan-eval score`` run read each input through the extractor exactly once (an extractor
that counts its images proves it) and give the numbers each metric gives alone; references passed from Python
(arrays, tensors, in-memory statistics) give the numbers their files give; named reference statistics live in
the user cache and are listed by ``gan-eval references``; a reference of another feature space is one line
naming both inputs.
"""
from __future__ import annotations

import json
import math
import sys
import textwrap

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import gan_eval
from gan_eval.cli import app
from gan_eval.errors import GanEvalError
from gan_eval.features.resolve import make_extractor
from gan_eval.stats.collect import collect_statistics
from gan_eval.io.samples import ArraySource

runner = CliRunner()
N_FAKE, N_REAL = 90, 110
COUNTING = """
import torch

IMAGES = []  # images seen by every extractor made here, one entry per batch


class Counting(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(3 * 8 * 8, 12)
        with torch.no_grad():
            seeded = torch.Generator().manual_seed(0)  # the same network from every call of the factory
            self.proj.weight.copy_(torch.randn(12, 3 * 8 * 8, generator=seeded) / 14)
            self.proj.bias.copy_(torch.randn(12, generator=seeded))

    def forward(self, x):
        IMAGES.append(len(x))
        return self.proj(x.flatten(1))


def factory(device="cpu"):
    return Counting().to(device)
"""


@pytest.fixture
def counting(tmp_path, monkeypatch):
    """A ``pkg.module:factory`` extractor that records how many images it was given."""
    (tmp_path / "counting_features.py").write_text(textwrap.dedent(COUNTING))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "counting_features", raising=False)
    import counting_features

    return counting_features


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(0)
    fake = rng.integers(0, 256, (N_FAKE, 3, 8, 8), dtype=np.uint8)
    real = rng.integers(0, 256, (N_REAL, 3, 8, 8), dtype=np.uint8)
    np.savez(tmp_path / "fake.npz", samples=fake)
    np.savez(tmp_path / "real.npz", samples=real)
    return tmp_path / "fake.npz", tmp_path / "real.npz", fake, real


KID = ["--set", "subset_size=40", "--set", "subsets=5"]


def scored(*args):
    result = runner.invoke(app, ["score", *map(str, args), "--json", "--no-progress", "--batch-size", "32"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_several_metrics_extract_each_input_once_and_equal_the_metrics_alone(images, counting, monkeypatch, tmp_path):
    """fid, kid, prdc and is in one call: the extractor sees every fake and every real image exactly once (not
    once per metric), and each metric's values equal those of the metric scored alone."""
    fake, real, _, _ = images
    monkeypatch.setenv("GAN_EVAL_CACHE", str(tmp_path / "cache"))
    joint = scored(fake, "-m", "fid,kid,prdc,is", "-r", real, "--features", "counting_features:factory", *KID)
    assert sum(counting.IMAGES) == N_FAKE + N_REAL
    assert joint["protocol"]["feature_passes"] == 2
    assert list(joint["metrics"]) == ["fid", "kid", "prdc", "is"]
    for metric, result in joint["metrics"].items():
        assert result["protocol"]["features"]["name"] == "counting_features:factory"
        alone = scored(fake, "-m", metric, "-r", real, "--features", "counting_features:factory", *(KID if metric == "kid" else []))
        assert alone["values"] == pytest.approx(result["values"], rel=1e-12, abs=1e-15), metric


def test_several_metrics_print_one_table(images, counting):
    fake, real, _, _ = images
    result = runner.invoke(app, ["score", str(fake), "-m", "fid,prdc", "-r", str(real), "--features", "counting_features:factory", "--no-progress"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1].split() == ["metric", "value"] and {"fid", "prdc"} <= {line.split()[0] for line in lines[3:] if line.strip()}


def test_an_option_no_metric_has_is_refused(images, counting):
    fake, real, _, _ = images
    result = runner.invoke(app, ["score", str(fake), "-m", "fid,prdc", "-r", str(real), "--features", "counting_features:factory", "--set", "nope=1"])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "nope" in result.stderr


def test_references_from_python_equal_their_files(images):
    """An array, a tensor, GaussianStats and Moments as references give the FID of the same reference as a file
    (to 1e-9), with an nn.Module as the features."""
    fake, real_file, _, real = images
    module = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(192, 10))
    torch.nn.init.normal_(module[1].weight, generator=torch.Generator().manual_seed(1))
    expected = gan_eval.score(fake, "fid", real_file, features=module)["fid"]
    stats, _ = collect_statistics(ArraySource(real), make_extractor(module), "features", batch_size=50, device="cpu")
    for given in (real, torch.from_numpy(real), stats, stats.moments()):
        assert gan_eval.score(fake, "fid", given, features=module)["fid"] == pytest.approx(expected, rel=1e-9)
    with pytest.raises(GanEvalError, match="not a reference"):
        gan_eval.score(fake, "fid", object(), features=module)


def test_named_reference_statistics_live_in_the_user_cache(images, monkeypatch, tmp_path):
    """`gan-eval stats DIR --name mydata` keeps statistics in $XDG_CACHE_HOME/gan-eval; `--reference mydata` scores
    against them as against the same statistics saved to a file; `gan-eval references` lists them."""
    fake, real, _, _ = images
    monkeypatch.delenv("GAN_EVAL_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    common = ["--features", "pixels", "--no-progress"]
    made = runner.invoke(app, ["stats", str(real), "--name", "mydata", *common])
    assert made.exit_code == 0, made.output
    assert (tmp_path / "xdg" / "gan-eval" / "references" / "mydata.npz").is_file()
    assert runner.invoke(app, ["stats", str(real), "-o", str(tmp_path / "real_stats.npz"), *common]).exit_code == 0
    by_name = scored(fake, "-m", "fid", "-r", "mydata")
    assert by_name["values"]["fid"] == scored(fake, "-m", "fid", "-r", tmp_path / "real_stats.npz")["values"]["fid"]
    listing = runner.invoke(app, ["references"]).stdout
    assert "mydata" in listing and "pixels" in listing
    clash = runner.invoke(app, ["stats", str(real), "--name", "ring8", *common])
    assert clash.exit_code == 2 and clash.stderr.startswith("error: --name ring8")


def test_reference_of_another_feature_space_is_one_line_naming_both(images, tmp_path):
    fake, real, _, _ = images
    assert runner.invoke(app, ["stats", str(real), "-o", str(tmp_path / "pixels.npz"), "--features", "pixels", "--no-progress"]).exit_code == 0
    result = runner.invoke(app, ["score", str(fake), "-m", "fid", "-r", str(tmp_path / "pixels.npz"), "--features", "mnist"])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert str(fake) in result.stderr and str(tmp_path / "pixels.npz") in result.stderr


def test_joint_protocol_states_each_metric_and_is_json(images, counting):
    fake, real, _, _ = images
    joint = scored(fake, "-m", "fid,is", "-r", real, "--features", "counting_features:factory", "--seed", "3")
    for result in joint["metrics"].values():
        assert result["protocol"]["seed"] == 3 and result["protocol"]["gan_eval_version"] == gan_eval.__version__
        assert all(math.isfinite(v) for v in result["values"].values())
