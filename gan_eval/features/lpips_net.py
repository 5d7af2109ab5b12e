"""The LPIPS perceptual distance in plain torch (no torchvision), loading the published weights by path.

Zhang, Isola, Efros, Shechtman & Wang, "The Unreasonable Effectiveness of Deep Features as a Perceptual Metric",
CVPR 2018; reference code richzhang/PerceptualSimilarity, the ``lpips`` package (``lpips/lpips.py``, ``LPIPS``
with ``version="0.1"``; ``pretrained_networks.py`` for the layers tapped). For images x, y in [-1, 1]:

    d(x, y) = sum_l mean_{h,w} sum_c w_{l,c} (f_l(x)_{c,h,w} - f_l(y)_{c,h,w})^2

where f_l is layer l's activation of the backbone after the input is shifted and scaled per channel
(shift (-.030, -.088, -.188), scale (.458, .448, .450)) and divided along channels by its L2 norm (+ 1e-10),
and w_l >= 0 are the learned linear weights ("lin" layers, 1 x 1 convolutions without bias).
Backbones: ``alex`` (default, as the package's): AlexNet ``features`` tapped after ReLUs 1-5 (indices 1, 4, 7,
9, 11); ``vgg``: VGG-16 ``features`` after relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 (3, 8, 15, 22, 29).

Weights. Module names follow torchvision's (``features.N.weight``), so torchvision's ImageNet files load
unchanged: ``alexnet-owt-7be5be79.pth`` / ``vgg16-397923af.pth`` (``--weights``, else ``$GAN_EVAL_LPIPS_WEIGHTS``,
else torch hub's cache ``torch.hub.get_dir()/checkpoints``, where torchvision leaves its downloads). The linear
layers come from the same file when it holds them (a state dict of the package's whole ``LPIPS`` module, keys
``net.sliceK.N.*`` and ``linK.model.1.weight``), else from ``linear`` (``$GAN_EVAL_LPIPS_LINEAR``), else from the
installed ``lpips`` package's ``weights/v0.1/{alex,vgg}.pth`` (found without importing it, as it imports
torchvision). Nothing is downloaded. The identity is a content hash of all the loaded tensors.

Proven by ``tests/test_lpips_diversity.py``: on random weights written in torchvision's and lpips' file formats,
distances equal a closed form of the definition written with ``torch.nn.functional`` in the test, and the
``lpips`` package (with torchvision stubbed to hand it the same backbone) to 1e-6.
"""
from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gan_eval.errors import GanEvalError
from gan_eval.features.weights import hub_checkpoints, read_state_dict, state_hash

ENV_WEIGHTS = "GAN_EVAL_LPIPS_WEIGHTS"
ENV_LINEAR = "GAN_EVAL_LPIPS_LINEAR"
# conv: (out channels, kernel, stride, padding); "M": max pool (kernel, stride)
ARCHITECTURES: dict[str, list[Any]] = {
    "alex": [(64, 11, 4, 2), ("M", 3, 2), (192, 5, 1, 2), ("M", 3, 2), (384, 3, 1, 1), (256, 3, 1, 1), (256, 3, 1, 1)],
    "vgg": [(64, 3, 1, 1), (64, 3, 1, 1), ("M", 2, 2), (128, 3, 1, 1), (128, 3, 1, 1), ("M", 2, 2)]
    + [(256, 3, 1, 1)] * 3 + [("M", 2, 2)] + [(512, 3, 1, 1)] * 3 + [("M", 2, 2)] + [(512, 3, 1, 1)] * 3,
}
TAPS = {"alex": (1, 4, 7, 9, 11), "vgg": (3, 8, 15, 22, 29)}
BACKBONE_FILES = {"alex": "alexnet-owt-7be5be79.pth", "vgg": "vgg16-397923af.pth"}
BACKBONE_URLS = {net: f"https://download.pytorch.org/models/{name}" for net, name in BACKBONE_FILES.items()}
LINEAR_URL = "https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/{net}.pth"
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
EPS = 1e-10


def backbone_layers(net: str) -> nn.Sequential:
    """torchvision's ``features`` stack of AlexNet or VGG-16 up to the last tapped ReLU (same indices, so the
    state-dict keys match)."""
    layers: list[nn.Module] = []
    channels = 3
    for spec in ARCHITECTURES[net]:
        if spec[0] == "M":
            layers.append(nn.MaxPool2d(spec[1], spec[2]))
        else:
            out, kernel, stride, padding = spec
            layers += [nn.Conv2d(channels, out, kernel, stride, padding), nn.ReLU(inplace=False)]
            channels = out
    return nn.Sequential(*layers)


def min_side(net: str) -> int:
    """The smallest square input side for which every layer of the backbone has an output."""
    side = 1
    while True:
        size = side
        for spec in ARCHITECTURES[net]:
            kernel, stride, padding = (spec[1], spec[2], 0) if spec[0] == "M" else spec[1:]
            size = (size + 2 * padding - kernel) // stride + 1
            if size < 1:
                break
        else:
            return side
        side += 1


class LPIPS(nn.Module):
    """LPIPS v0.1 (see the module docstring): ``forward(x, y)`` of N x 3 x H x W images in [-1, 1] -> N distances."""

    def __init__(self, net: str = "alex") -> None:
        super().__init__()
        if net not in ARCHITECTURES:
            raise GanEvalError(f"lpips: net={net!r} is not one of {', '.join(ARCHITECTURES)}")
        self.net = net
        self.features = backbone_layers(net)
        self.taps = TAPS[net]
        for i, tap in enumerate(self.taps):
            self.add_module(f"lin{i}", nn.Conv2d(self.features[tap - 1].out_channels, 1, 1, bias=False))
        self.register_buffer("shift", torch.tensor(SHIFT)[None, :, None, None], persistent=False)
        self.register_buffer("scale", torch.tensor(SCALE)[None, :, None, None], persistent=False)

    def activations(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The tapped layers, each unit-normalised along channels."""
        x = (x - self.shift) / self.scale
        out = []
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in self.taps:
                out.append(x / (x.pow(2).sum(1, keepdim=True).sqrt() + EPS))
        return out

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        distance = torch.zeros(len(x), dtype=x.dtype, device=x.device)
        for i, (fx, fy) in enumerate(zip(self.activations(x), self.activations(y))):
            distance = distance + getattr(self, f"lin{i}")((fx - fy).pow(2)).mean((1, 2, 3))
        return distance


def _our_keys(state: dict[str, torch.Tensor], net: str) -> dict[str, torch.Tensor]:
    """torchvision keys (``features.N.*``, classifier dropped) and lpips keys (``net.sliceK.N.*``,
    ``linK.model.M.weight``; scaling constants dropped) as this module's."""
    ours = {}
    for key, value in state.items():
        if m := re.fullmatch(r"(?:features|net\.slice\d)\.(\d+)\.(weight|bias)", key):
            if int(m[1]) <= TAPS[net][-1]:
                ours[f"features.{m[1]}.{m[2]}"] = value
        elif m := re.fullmatch(r"(lin\d)(?:\.model\.\d)?\.weight", key):
            ours[f"{m[1]}.weight"] = value
    return ours


def _weights_file(given: str | Path | None, option: str, env: str, found: list[Path], fix: str, absent: str) -> Path:
    """``given`` > the file ``$env`` names > the first of ``found`` that exists; ``fix`` and ``absent`` end errors."""
    if given is not None or os.environ.get(env):
        path, origin = (Path(given), option) if given is not None else (Path(os.environ[env]), env)
        if not path.is_file():
            raise GanEvalError(f"{origin}: {path} is not a file; {fix}")
        return path
    existing = [path for path in found if path.is_file()]
    if not existing:
        raise GanEvalError(absent)
    return existing[0]


def backbone_file(net: str, weights: str | Path | None = None) -> Path:
    """The backbone weights file: ``weights`` > ``$GAN_EVAL_LPIPS_WEIGHTS`` > torch hub's cache."""
    cached = hub_checkpoints() / BACKBONE_FILES[net]
    return _weights_file(
        weights, "--weights", ENV_WEIGHTS, [cached],
        f"give torchvision's {BACKBONE_FILES[net]} ({BACKBONE_URLS[net]}) or a saved lpips.LPIPS state dict",
        f"lpips: no {net} backbone weights; pass --weights PATH, set {ENV_WEIGHTS}, or put {BACKBONE_FILES[net]}"
        f" ({BACKBONE_URLS[net]}) in {cached.parent}",
    )


def linear_file(net: str, linear: str | Path | None = None) -> Path:
    """The linear-layer weights file: ``linear`` > ``$GAN_EVAL_LPIPS_LINEAR`` > the installed lpips package's."""
    spec = importlib.util.find_spec("lpips")
    packaged = [Path(folder) / "weights" / "v0.1" / f"{net}.pth" for folder in (spec.submodule_search_locations or [])] if spec else []
    return _weights_file(
        linear, "--set linear", ENV_LINEAR, packaged,
        f"give the lpips v0.1 linear weights {net}.pth ({LINEAR_URL.format(net=net)})",
        f"lpips: no linear-layer weights for {net}; pass --set linear=PATH, set {ENV_LINEAR}, or `pip install --no-deps lpips`;"
        f" the file is {LINEAR_URL.format(net=net)}",
    )


def load_lpips(net: str = "alex", weights: str | Path | None = None, linear: str | Path | None = None,
               device: torch.device | str = "cpu") -> tuple[LPIPS, dict[str, Any]]:
    """The LPIPS network with its weights loaded (see the module docstring) and a description of them for a
    result: net, version, content hash, file names."""
    model = LPIPS(net)
    expected = set(model.state_dict())
    backbone = backbone_file(net, weights)
    state = _our_keys(read_state_dict(backbone, f"give torchvision's {BACKBONE_FILES[net]}"), net)
    files = {"backbone_file": backbone.name}
    if not any(key.startswith("lin") for key in state):
        lin_path = linear_file(net, linear)
        state |= {k: v for k, v in _our_keys(read_state_dict(lin_path, "give lpips' v0.1 linear weights"), net).items() if k.startswith("lin")}
        files["linear_file"] = lin_path.name
    missing = sorted(expected - set(state))
    shapes = [k for k in expected & set(state) if state[k].shape != model.state_dict()[k].shape]
    if missing or shapes:
        raise GanEvalError(
            f"{backbone}: not LPIPS-{net} weights (missing {missing[:2]}, wrong shapes {shapes[:2]}); give torchvision's"
            f" {BACKBONE_FILES[net]} and lpips' v0.1 {net}.pth"
        )
    model.load_state_dict(state)
    model.eval().requires_grad_(False).to(device)
    return model, {"net": net, "version": "0.1", "weights": state_hash(state), **files}
