"""LPIPS (Zhang et al. 2018) in plain torch: on random weights written in torchvision's and lpips' file formats it
equals a closed form of the definition written here with torch.nn.functional, and the ``lpips`` package itself
(torchvision stubbed to hand it the same backbone); the lpips-diversity metric and its CLI."""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from typer.testing import CliRunner

from gan_eval.cli import app
from gan_eval.errors import GanEvalError
from gan_eval.features.lpips_net import load_lpips
from gan_eval.metrics.lpips_diversity import lpips_diversity
from conftest import stub_torchvision


# torchvision's `features` stacks, written from torchvision/models/alexnet.py and vgg.py: ("C", in, out, kernel,
# stride, padding), ("R",) ReLU, ("M", kernel, stride); the taps are lpips' pretrained_networks.py slices.
ALEX = [("C", 3, 64, 11, 4, 2), ("R",), ("M", 3, 2), ("C", 64, 192, 5, 1, 2), ("R",), ("M", 3, 2), ("C", 192, 384, 3, 1, 1), ("R",),
        ("C", 384, 256, 3, 1, 1), ("R",), ("C", 256, 256, 3, 1, 1), ("R",), ("M", 3, 2)]
VGG_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
VGG, _channels = [], 3
for _v in VGG_CFG:
    if _v == "M":
        VGG.append(("M", 2, 2))
    else:
        VGG += [("C", _channels, _v, 3, 1, 1), ("R",)]
        _channels = _v
NETS = {"alex": (ALEX, (1, 4, 7, 9, 11)), "vgg": (VGG, (3, 8, 15, 22, 29))}


def random_files(tmp_path, net: str, seed: int = 0):
    """A torchvision-format backbone file (with a classifier key, as torchvision's) and an lpips-format linear file."""
    layers, taps = NETS[net]
    gen = torch.Generator().manual_seed(seed)
    backbone = {"classifier.1.weight": torch.randn(10, 9216, generator=gen)}
    for i, spec in enumerate(layers):
        if spec[0] == "C":
            _, cin, cout, k, _, _ = spec
            backbone[f"features.{i}.weight"] = torch.randn(cout, cin, k, k, generator=gen) * (2 / (cin * k * k)) ** 0.5
            backbone[f"features.{i}.bias"] = torch.randn(cout, generator=gen) * 0.1
    linear = {}
    for j, tap in enumerate(taps):
        channels = backbone[f"features.{tap - 1}.weight"].shape[0]
        linear[f"lin{j}.model.1.weight"] = torch.rand(1, channels, 1, 1, generator=gen)
    torch.save(backbone, tmp_path / f"{net}-backbone.pth")
    torch.save(linear, tmp_path / f"{net}-linear.pth")
    return backbone, linear, tmp_path / f"{net}-backbone.pth", tmp_path / f"{net}-linear.pth"


def closed_form_lpips(x, y, backbone, linear, net):
    """LPIPS v0.1 by its definition: scale the [-1, 1] input, run the conv stack, at each tapped ReLU divide by the
    channel L2 norm (+1e-10), square the difference, weight channels by lin_l, average over space, sum over layers."""
    layers, taps = NETS[net]
    shift = torch.tensor([-0.030, -0.088, -0.188])[None, :, None, None]
    scale = torch.tensor([0.458, 0.448, 0.450])[None, :, None, None]

    def tapped(image):
        h, out = (image - shift) / scale, []
        for i, spec in enumerate(layers[: taps[-1] + 1]):
            if spec[0] == "C":
                h = F.conv2d(h, backbone[f"features.{i}.weight"], backbone[f"features.{i}.bias"], stride=spec[4], padding=spec[5])
            elif spec[0] == "R":
                h = F.relu(h)
            else:
                h = F.max_pool2d(h, spec[1], spec[2])
            if i in taps:
                out.append(h / (torch.sqrt((h**2).sum(1, keepdim=True)) + 1e-10))
        return out

    total = 0
    for j, (a, b) in enumerate(zip(tapped(x), tapped(y))):
        w = linear[f"lin{j}.model.1.weight"].flatten()
        total = total + (((a - b) ** 2) * w[None, :, None, None]).sum(1).mean((1, 2))
    return total


def images(n: int, side: int, seed: int) -> torch.Tensor:
    return torch.rand(n, 3, side, side, generator=torch.Generator().manual_seed(seed)) * 2 - 1


@pytest.mark.parametrize("net,side", [("alex", 64), ("vgg", 32)])
def test_lpips_equals_closed_form_of_its_definition_on_random_weights(tmp_path, net, side):
    backbone, linear, backbone_path, linear_path = random_files(tmp_path, net)
    model, described = load_lpips(net, backbone_path, linear_path)
    x, y = images(4, side, 1), images(4, side, 2)
    with torch.no_grad():
        torch.testing.assert_close(model(x, y), closed_form_lpips(x, y, backbone, linear, net), rtol=1e-5, atol=1e-7)
        assert model(x, x).abs().max() == 0
    assert described["net"] == net and described["backbone_file"] == backbone_path.name and len(described["weights"]) == 16


@pytest.fixture
def lpips_package(monkeypatch):
    """The lpips package with torchvision stubbed: its ``tv.alexnet`` / ``tv.vgg16`` hand back the backbone that
    ``backbones[net]`` holds (built by the test in torchvision's layout)."""
    stub_torchvision()
    backbones: dict[str, nn.Sequential] = {}

    class Holder:
        def __init__(self, net):
            self.features = backbones[net]

    monkeypatch.setattr(sys.modules["torchvision"].models, "alexnet", lambda **kw: Holder("alex"), raising=False)
    monkeypatch.setattr(sys.modules["torchvision"].models, "vgg16", lambda **kw: Holder("vgg"), raising=False)
    try:
        import lpips
    except ImportError as exc:
        pytest.skip(f"the lpips package does not import here ({exc}); `pip install --no-deps lpips`")
    return lpips, backbones


def torchvision_layout(backbone, net) -> nn.Sequential:
    modules = []
    for spec in NETS[net][0]:
        modules.append(nn.Conv2d(*spec[1:4], stride=spec[4], padding=spec[5]) if spec[0] == "C" else nn.ReLU() if spec[0] == "R" else nn.MaxPool2d(spec[1], spec[2]))
    stack = nn.Sequential(*modules)
    stack.load_state_dict({k.removeprefix("features."): v for k, v in backbone.items() if k.startswith("features.")})
    return stack


@pytest.mark.parametrize("net,side", [("alex", 64), ("vgg", 32)])
def test_lpips_equals_lpips_package_with_its_packaged_linear_weights(tmp_path, lpips_package, net, side):
    """Random backbone, the package's own v0.1 linear weights (found here without --set linear): same distances."""
    lpips, backbones = lpips_package
    backbone, _, backbone_path, _ = random_files(tmp_path, net)
    backbones[net] = torchvision_layout(backbone, net)
    peer = lpips.LPIPS(net=net, pnet_rand=True, verbose=False)
    model, described = load_lpips(net, backbone_path)
    assert described["linear_file"] == f"{net}.pth"
    x, y = images(4, side, 3), images(4, side, 4)
    with torch.no_grad():
        torch.testing.assert_close(model(x, y), peer(x, y).flatten(), rtol=1e-5, atol=1e-7)
        # the package's whole-module state dict as one --weights file loads too
        torch.save(peer.state_dict(), tmp_path / "whole.pth")
        whole, described = load_lpips(net, tmp_path / "whole.pth")
        assert "linear_file" not in described
        torch.testing.assert_close(whole(x, y), peer(x, y).flatten(), rtol=1e-5, atol=1e-7)


def test_diversity_of_identical_images_is_zero_and_seeded(tmp_path):
    _, _, backbone_path, linear_path = random_files(tmp_path, "alex")
    model, _ = load_lpips("alex", backbone_path, linear_path)
    same = np.repeat(np.random.default_rng(0).random((1, 3, 40, 40), dtype=np.float32), 10, axis=0)
    assert lpips_diversity(same, model, 30)[2].abs().max() == 0
    varied = np.random.default_rng(1).random((10, 3, 40, 40), dtype=np.float32)
    first = lpips_diversity(varied, model, 30, seed=5)
    again = lpips_diversity(varied, model, 30, seed=5)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert (first[0] != first[1]).all() and (first[2] > 0).all()
    with pytest.raises(GanEvalError, match="too small"):
        lpips_diversity(varied[:, :, :28, :28], model, 5)


def test_wrong_weights_are_one_line_errors(tmp_path):
    _, _, backbone_path, linear_path = random_files(tmp_path, "alex")
    with pytest.raises(GanEvalError, match="not LPIPS-vgg weights"):
        load_lpips("vgg", backbone_path, linear_path)
    with pytest.raises(GanEvalError, match="is not a file"):
        load_lpips("alex", tmp_path / "missing.pth", linear_path)
    (tmp_path / "junk.pth").write_bytes(b"not a state dict")
    with pytest.raises(GanEvalError, match="not a readable torch state dict"):
        load_lpips("alex", tmp_path / "junk.pth", linear_path)


def test_cli_scores_lpips_diversity_and_states_the_conversion(tmp_path):
    _, _, backbone_path, linear_path = random_files(tmp_path, "alex")
    samples = tmp_path / "fake.npz"
    np.savez(samples, (np.random.default_rng(2).random((12, 32, 32, 3)) * 255).astype(np.uint8))
    runner = CliRunner()
    base = ["score", str(samples), "--metric", "lpips-diversity", "--set", f"linear={linear_path}", "--set", "pairs=16"]
    result = runner.invoke(app, [*base, "--weights", str(backbone_path), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["values"]["pairs"] == 16 and out["values"]["lpips"] > 0
    assert out["protocol"]["input"].startswith("0,255 -> [0, 1] -> [-1, 1]")
    assert out["protocol"]["lpips"]["backbone_file"] == backbone_path.name
    result = runner.invoke(app, [*base, "--weights", str(tmp_path / "missing.pth")])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1 and "missing.pth" in result.output
