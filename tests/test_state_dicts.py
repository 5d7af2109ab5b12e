"""Model weights given where samples are expected: refused in one line that names the file and the real fix
(``pkg.module:factory`` with ``--generator-weights``), with or without ``--key``; dicts of samples still load."""
from __future__ import annotations

import json

import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from gan_eval.cli import app
from gan_eval.io.state_dicts import generator_key, is_state_dict

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


@pytest.mark.parametrize("key", [None, "weight", "bias"])
def test_a_state_dict_is_refused_with_the_generator_weights_fix(tmp_path, key):
    """nn.Linear(2, 2).state_dict(): its 2 x 2 weight once scored as two 2-D samples with exit 0."""
    path = tmp_path / "linear.pt"
    torch.save(nn.Linear(2, 2).state_dict(), path)
    line = one_error_line(invoke("score", path, "-r", "ring8", *(["--key", key] if key else [])))
    assert str(path) in line and "state dict" in line
    assert "pkg.module:factory" in line and f"--generator-weights {path}" in line and "--key" not in line


def test_batch_norm_and_nested_module_state_dicts_are_recognised():
    """Real torch.nn state dicts: dotted names, running statistics, spectral norm's weight_orig."""
    conv = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.utils.spectral_norm(nn.Linear(2, 2)))
    assert is_state_dict(conv.state_dict()) and is_state_dict(nn.BatchNorm1d(3).state_dict())
    assert is_state_dict(nn.MultiheadAttention(4, 2).state_dict())
    assert not is_state_dict({"samples": torch.zeros(3, 2)}) and not is_state_dict({"images": torch.zeros(3, 2), "labels": torch.zeros(3)})
    assert not is_state_dict({}) and not is_state_dict({"weight": 3})


def test_a_checkpoint_of_state_dicts_names_the_generators_key(tmp_path):
    path = tmp_path / "ckpt.pt"
    torch.save({"G": nn.Linear(2, 2).state_dict(), "D": nn.Linear(2, 1).state_dict(), "epoch": 3}, path)
    line = one_error_line(invoke("score", path, "-r", "ring8"))
    assert str(path) in line and "checkpoint['G']" in line and "--generator-weights" in line
    line = one_error_line(invoke("score", path, "-r", "ring8", "--key", "G"))  # following the old advice
    assert str(path) in line and "checkpoint['G']" in line and "--generator-weights" in line


def _run_checkpoint(path, trainer_keys: bool = True) -> None:
    """A checkpoint shaped like the trainers' (trainers/loop.py): one flat ``nets`` state dict of G.* and D.* keys."""
    nets = {f"G.{k}": v for k, v in nn.Linear(2, 2).state_dict().items()} | {f"D.{k}": v for k, v in nn.Linear(2, 1).state_dict().items()}
    torch.save({"step": 10, "nets": nets, "optimizers": {"G": {}, "D": {}}} if trainer_keys else {"nets": nets}, path)


@pytest.mark.parametrize("key", [None, "nets"])
def test_a_runs_checkpoint_points_at_the_runs_generator(tmp_path, key):
    """Not "save checkpoint['nets'] and pass --generator-weights": nets holds G and D together. A generator.pt2
    beside the file is the generator to score, found by the trainer's keys or by that file alone."""
    path = tmp_path / "checkpoint.pt"
    _run_checkpoint(path)
    line = one_error_line(invoke("score", path, "-r", "ring8", *(["--key", key] if key else [])))
    assert line == f"error: {path}: is a training run's checkpoint (networks and optimizers), not samples; score the generator.pt2 the run writes in {tmp_path} when it finishes"
    (tmp_path / "generator.pt2").write_bytes(b"")
    _run_checkpoint(path, trainer_keys=False)
    line = one_error_line(invoke("score", path, "-r", "ring8", *(["--key", key] if key else [])))
    assert line.endswith(f"not samples; score the run's generator, {tmp_path / 'generator.pt2'}") and "--generator-weights" not in line


def test_generator_key_prefers_the_moving_average_and_refuses_to_guess():
    assert generator_key(["netG", "netD"]) == "netG"
    assert generator_key(["G", "D", "G_ema"]) == "G_ema" and generator_key(["generator", "discriminator", "g_ema"]) == "g_ema"
    assert generator_key(["state_dict"]) == "state_dict"  # a checkpoint's only state dict
    assert generator_key(["model", "critic"]) is None and generator_key(["G1", "G2"]) is None


def test_dicts_of_samples_still_load(tmp_path):
    x = torch.randn(40, 2, generator=torch.Generator().manual_seed(0))
    torch.save({"samples": x}, tmp_path / "one.pt")
    torch.save({"samples": x, "model": nn.Linear(2, 2).state_dict()}, tmp_path / "mixed.pt")
    for args in (["one.pt"], ["mixed.pt", "--key", "samples"]):
        result = invoke("score", tmp_path / args[0], *args[1:], "-r", "ring8", "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["protocol"]["n"] == 40


def test_the_advised_fix_scores_the_generator(tmp_path, monkeypatch):
    """What the error says to do works: the factory with --generator-weights draws from the saved weights."""
    (tmp_path / "state_dict_test_factory.py").write_text("from torch import nn\n\ndef build():\n    return nn.Linear(2, 2)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    weights = tmp_path / "linear.pt"
    torch.save(nn.Linear(2, 2).state_dict(), weights)
    result = invoke(
        "score", "state_dict_test_factory:build", "--generator-weights", weights, "--latent-dim", 2, "-n", 30, "-r", "ring8", "--json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["protocol"]["n"] == 30
