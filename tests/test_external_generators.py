"""Generators as researchers have them (issue 18): a third-party script written here, not our trainers' exports.

The module below is shaped like eriklindernoren/PyTorch-GAN's ``dcgan.py``: it parses the command line and makes
an output folder at import, its ``Generator`` takes constructor arguments and N x d x 1 x 1 latents, and its
weights are saved inside a training checkpoint from DataParallel (``module.`` keys).
"""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import torch
from torch import nn
from typer.testing import CliRunner

import gan_eval
from gan_eval.cli import app
from gan_eval.errors import GanEvalError
from gan_eval.io.generators import PROBE_ROWS, GeneratorSource, latent_batches, load_generator
from gan_eval.io.latent import LatentSpec

runner = CliRunner()

SCRIPT = '''
import argparse, os
import torch
from torch import nn

parser = argparse.ArgumentParser()
parser.add_argument("--img_size", type=int, default=8)
parser.add_argument("--latent_dim", type=int, default=4)
opt = parser.parse_args()
os.makedirs("images", exist_ok=True)
print("training script: starting")


class Generator(nn.Module):
    def __init__(self, img_size=opt.img_size, latent_dim=opt.latent_dim):
        super().__init__()
        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, 3, img_size), nn.BatchNorm2d(3), nn.Dropout(0.3), nn.Tanh()
        )

    def forward(self, z):  # N x d x 1 x 1, as DCGAN code draws them
        return self.net(z)
'''


def write_script(folder, text=SCRIPT):
    folder.mkdir(exist_ok=True)
    (folder / "dcgan.py").write_text(text)
    return folder / "dcgan.py"


def trained(img_size=8, latent_dim=4, seed=0):
    """A Generator of the script with batch-norm statistics moved off (0, 1), as training leaves them."""
    namespace: dict = {}
    argv, sys.argv = sys.argv, ["dcgan.py"]
    try:
        exec(compile(SCRIPT.replace('os.makedirs("images", exist_ok=True)', ""), "dcgan", "exec"), namespace)
    finally:
        sys.argv = argv
    torch.manual_seed(seed)
    net = namespace["Generator"](img_size=img_size, latent_dim=latent_dim)
    with torch.no_grad():
        for _ in range(3):
            net(torch.randn(16, latent_dim, 1, 1) * 2 + 1)
    return net.eval()


def expected_samples(net, n, seed, latent_dim=4):
    with torch.no_grad():
        return torch.cat([net(z[:, :, None, None]) for z in latent_batches(LatentSpec(latent_dim), seed, n, 1000)]).numpy()


def ddp_checkpoint(net, path):
    """``{"generator": DataParallel state dict, "discriminator": ..., "epoch": 3}``."""
    state = {f"module.{k}": v for k, v in net.state_dict().items()}
    torch.save({"generator": state, "discriminator": {"module.fc.weight": torch.ones(2, 2)}, "epoch": 3}, path)
    return path


def one_error_line(result, *needles):
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: "), result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_script_module_with_arguments_and_a_ddp_checkpoint_samples_as_its_eval_mode(tmp_path, monkeypatch):
    """A file path with literal constructor arguments, imported with a clean sys.argv (the script's argparse sees
    none of gan-eval's flags) inside a temporary folder (its os.makedirs leaves nothing in the user's folder),
    weights found inside the checkpoint with ``module.`` stripped: the samples are G.eval()'s, bit for bit."""
    write_script(tmp_path / "foreign")
    net = trained(img_size=6)
    ddp_checkpoint(net, tmp_path / "ckpt.pt")
    monkeypatch.chdir(tmp_path)
    for spec, extra in (("foreign/dcgan.py:Generator(img_size=6, latent_dim=4)", []), ("foreign/dcgan.py:Generator", ["--factory-arg", "img_size=6"])):
        for weights in ("ckpt.pt:generator", "ckpt.pt"):  # named, and found by itself (one state dict named generator)
            result = runner.invoke(app, ["sample", spec, "-n", "40", "-o", "s.npz", "--seed", "3", "--latent-dim", "4",
                                         "--generator-weights", weights, "--device", "cpu", "--no-progress", *extra])
            assert result.exit_code == 0, result.output
            np.testing.assert_array_equal(np.load("s.npz")["samples"], expected_samples(net, 40, 3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt", "foreign", "s.npz"]  # no images/ folder


def test_weights_that_do_not_fit_name_the_keys_and_shapes(tmp_path, monkeypatch):
    """Weights of a 6-px generator loaded into an 8-px one: the error names the mismatched key with both shapes;
    an ambiguous checkpoint lists its top-level keys; a pickled object is refused (weights_only=True)."""
    write_script(tmp_path / "foreign")
    ddp_checkpoint(trained(img_size=6), tmp_path / "ckpt.pt")
    torch.save({"netA": trained().state_dict(), "netB": trained().state_dict()}, tmp_path / "two.pt")
    torch.save({"generator": trained().state_dict(), "opt": object.__new__(torch.nn.Identity)}, tmp_path / "pickled.pt")
    monkeypatch.chdir(tmp_path)

    def sample(weights):
        return runner.invoke(app, ["sample", "foreign/dcgan.py:Generator", "-n", "4", "-o", "s.npz", "--device", "cpu",
                                   "--latent-dim", "4", "--generator-weights", weights])

    one_error_line(sample("ckpt.pt:generator"), "ckpt.pt:generator: does not fit", "of another shape", "net.0.weight saved 4x3x6x6, model 4x3x8x8")
    one_error_line(sample("ckpt.pt:gen"), "no key 'gen'", "generator, discriminator, epoch")
    one_error_line(sample("two.pt"), "two.pt", "keys: netA, netB", "pass two.pt:KEY")
    one_error_line(sample("pickled.pt"), "pickled.pt: cannot be read as tensors")
    assert not (tmp_path / "s.npz").exists()


def test_a_script_that_exits_or_fails_at_import_is_one_line(tmp_path, monkeypatch):
    """argparse with a required flag exits at import: one line naming the module, the exit and what it printed."""
    write_script(tmp_path / "strict", SCRIPT.replace('"--img_size", type=int, default=8', '"--img_size", type=int, required=True'))
    write_script(tmp_path / "broken", SCRIPT + "\nraise RuntimeError('CUDA only')\n")
    monkeypatch.chdir(tmp_path)
    args = ["-n", "4", "-o", "s.npz", "--latent-dim", "4", "--device", "cpu"]
    one_error_line(runner.invoke(app, ["sample", "strict/dcgan.py:Generator", *args]), "importing strict/dcgan.py exited (exit code 2", "required")
    one_error_line(runner.invoke(app, ["sample", "broken/dcgan.py:Generator", *args]), "cannot import broken/dcgan.py (RuntimeError: CUDA only")
    one_error_line(runner.invoke(app, ["sample", "missing/dcgan.py:Generator", *args]), "no such Python file missing/dcgan.py")
    one_error_line(runner.invoke(app, ["sample", "strict/dcgan.py:Generator(size=open('x'))", *args]), "must be Python literals")
    one_error_line(runner.invoke(app, ["sample", "broken/dcgan.py:Generator", "--factory-arg", "oops", *args]), "--factory-arg 'oops'")
    assert sys.argv[0] != "dcgan.py" and not (tmp_path / "images").exists()


def test_a_sidecar_named_after_the_weights_is_read_and_a_missing_one_is_named(tmp_path, monkeypatch):
    """``G.json`` beside ``G.pt`` gives the latent spec; without it the error names G.json and generator.json."""
    write_script(tmp_path / "foreign")
    net = trained()
    torch.save(net.state_dict(), tmp_path / "G.pt")
    monkeypatch.chdir(tmp_path)
    args = ["sample", "foreign/dcgan.py:Generator", "-n", "8", "-o", "s.npz", "--device", "cpu", "--generator-weights", "G.pt"]
    one_error_line(runner.invoke(app, args), "latent size is unknown", "--latent-dim", "save G.json or generator.json")
    (tmp_path / "G.json").write_text(json.dumps({"latent_dim": 4, "latent_distribution": "normal"}))
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(np.load("s.npz")["samples"], expected_samples(net, 8, 0))


@pytest.mark.filterwarnings("ignore:.*singular covariance")
def test_python_api_scores_a_module_once_with_keywords_and_restores_its_mode(tmp_path):
    """``gan_eval.score(G, "fid", reference=..., latent_dim=4, n=...)``: the module is run n + PROBE_ROWS rows in all
    (one sampling pass, counted by a forward hook), the FID equals scoring G.eval()'s samples as an array, G is back
    in train mode, and a mistake is phrased with Python keywords, not flags."""
    net = trained().train()
    rows = []
    net.register_forward_hook(lambda module, inputs, out: rows.append(len(out)))
    reference = tmp_path / "ref.npz"
    np.savez(reference, samples=np.random.default_rng(0).uniform(-1, 1, (64, 3, 8, 8)).astype(np.float32))
    live = gan_eval.score(net, "fid", reference=str(reference), latent_dim=4, n=96, features="pixels", seed=5)
    assert sum(rows) == 96 + PROBE_ROWS
    assert net.training and all(m.training for m in net.modules())
    drawn = expected_samples(net.eval(), 96, 5)
    offline = gan_eval.score(drawn, "fid", reference=str(reference), features="pixels", value_range="-1,1", seed=5)
    assert live.values == pytest.approx(offline.values, rel=1e-9)
    assert live.protocol["generator"]["latent_shape"] == "N x d x 1 x 1"
    with pytest.raises(GanEvalError, match=r"pass latent_dim=D") as caught:
        gan_eval.score(trained(), "fid", reference=str(reference), n=8, features="pixels")
    assert "--" not in str(caught.value)


def test_a_generator_source_is_sampled_once_however_often_it_is_read():
    """``batches`` twice and ``array`` after them run the generator once (forward rows counted)."""
    net = trained()
    rows = []
    net.register_forward_hook(lambda module, inputs, out: rows.append(len(out)))
    source = GeneratorSource(load_generator(net, latent_dim=4), 50, seed=1)
    first = torch.cat(list(source.batches(16)))
    second = torch.cat(list(source.batches(7)))
    assert torch.equal(first, second) and np.array_equal(source.array(), first.numpy())
    assert sum(rows) == PROBE_ROWS + 50


def test_module_prefix_is_kept_when_the_module_itself_wraps(tmp_path):
    """A DataParallel-style module whose own keys start with ``module.`` loads its keys as they are."""
    inner = trained()
    wrapper = nn.Sequential()
    wrapper.add_module("module", inner)
    torch.save(wrapper.state_dict(), tmp_path / "w.pt")
    fresh = nn.Sequential()
    fresh.add_module("module", trained(seed=1))
    loaded = load_generator(fresh, weights=tmp_path / "w.pt", latent_dim=4)
    assert "stripped_prefix" not in loaded.weights
    assert all(torch.equal(a, b) for a, b in zip(fresh.state_dict().values(), inner.state_dict().values()))
