"""The FID Inception-v3 in plain torch: the TensorFlow graph ``inception-2015-12-05`` that TTUR's FID and
OpenAI's Inception Score run, as torch-fidelity (``feature_extractor_inceptionv3.py``) and pytorch-fid
(``FIDInception*`` blocks) port it. Written here without torchvision.

Faithful to the TF graph (Heusel et al. 2017, TTUR ``fid.py``; Salimans et al. 2016, ``inception_score.py``):

* input: 8-bit RGB values v in 0..255 (float images in [0, 1] are quantised with round(255 x), as every
  reference implementation saves or casts them to uint8 first), resized to 299 x 299, then (v - 128) / 128;
* resize ``"tf1"`` (default): TF 1.x ``resize_bilinear(align_corners=False)``: source coordinate
  dst * (in / out), no half-pixel shift, edge clamping; computed in float32 exactly as torch-fidelity does,
  so numbers match TTUR and torch-fidelity. ``"clean"``: clean-fid's resize, PIL bicubic on each float
  channel, clipped to [0, 255] (Parmar et al. 2022); matches clean-fid ``mode="clean"``;
* the graph's quirks: 3 x 3 average pools inside the A, C and first E blocks ignore the zero padding
  (``count_include_pad=False``), and the last E block (``Mixed_7c``) max-pools where the paper average-pools;
  batch norm eps 1e-3; convolutions without bias (at load each batch norm is folded into its convolution,
  :func:`fold_batch_norms`: the same function up to float round-off, one pass over each activation fewer);
* layers: ``pool`` = the 2048-d global average pool (``pool_3``, FID and KID); ``logits_unbiased`` = pool @ W^T,
  the 1008-way logits without bias that OpenAI's IS code and torch-fidelity use; ``logits`` = with bias.

Weights: both published conversions of the TF weights load unchanged (same key names):
pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` and torch-fidelity's
``weights-inception-2015-12-05-6726825d.pth``; see :mod:`gan_eval.features.weights` for where they are found.

Proven by ``tests/test_fid.py``: with the same random weights written to one file, features agree with
torch-fidelity 0.4.0 to 1e-4 (``tf1``), the ``tf1`` resize equals torch-fidelity's bit for bit, the folded network
equals the unfolded one in float64, and the ``clean`` resize agrees with clean-fid's resizer.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from gan_eval.errors import GanEvalError
from gan_eval.features.base import FEATURES
from gan_eval.features.weights import load_inception_state, resolve_inception_weights

INPUT_SIZE = 299
RESIZES = ("tf1", "clean")
# "fp32" is IEEE float32 (cuDNN's TF32 convolutions are switched off for the call); "tf32" allows them.
PRECISIONS = {
    "fp32": torch.float32, "tf32": torch.float32, "fp64": torch.float64, "fp16": torch.float16, "bf16": torch.bfloat16
}


@contextlib.contextmanager
def cudnn_conv_precision(precision: str) -> Iterator[None]:
    """cuDNN convolutions in IEEE float32 (``ieee``) or TF32 (``tf32``) for the duration, restored after."""
    conv = getattr(torch.backends.cudnn, "conv", None)
    if conv is not None and hasattr(conv, "fp32_precision"):
        saved = conv.fp32_precision
        conv.fp32_precision = precision
        try:
            yield
        finally:
            conv.fp32_precision = saved
    else:  # torch < 2.9: the legacy flag
        saved = torch.backends.cudnn.allow_tf32
        torch.backends.cudnn.allow_tf32 = precision == "tf32"
        try:
            yield
        finally:
            torch.backends.cudnn.allow_tf32 = saved


class BasicConv2d(nn.Module):
    """Convolution without bias, batch norm (eps 1e-3), ReLU: the unit of every Inception branch
    (:func:`fold_batch_norms` turns it into convolution with bias, ReLU, for inference)."""

    def __init__(self, cin: int, cout: int, kernel: int | tuple[int, int], stride: int = 1, padding: int | tuple[int, int] = 0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # in place: a fresh N x C x H x W buffer per unit costs more than the ReLU itself (page faults)
        return F.relu(self.bn(self.conv(x)), inplace=True)


def _avg_pool_unpadded(x: torch.Tensor) -> torch.Tensor:
    """TF's SAME 3 x 3 average pool: the mean over the pixels inside the image only."""
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class InceptionA(nn.Module):
    """Mixed_5b/c/d: 1x1, 1x1-5x5, 1x1-3x3-3x3 and pool-1x1 branches (35 x 35)."""

    def __init__(self, cin: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 64, 1)
        self.branch5x5_1 = BasicConv2d(cin, 48, 1)
        self.branch5x5_2 = BasicConv2d(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(
            [
                self.branch1x1(x),
                self.branch5x5_2(self.branch5x5_1(x)),
                self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                self.branch_pool(_avg_pool_unpadded(x)),
            ],
            1,
        )


class InceptionB(nn.Module):
    """Mixed_6a: grid reduction 35 -> 17."""

    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, 3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(
            [
                self.branch3x3(x),
                self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                F.max_pool2d(x, 3, stride=2),
            ],
            1,
        )


class InceptionC(nn.Module):
    """Mixed_6b..e: factorised 7 x 7 branches (17 x 17)."""

    def __init__(self, cin: int, c7: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 192, 1)
        self.branch7x7_1 = BasicConv2d(cin, c7, 1)
        self.branch7x7_2 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, 1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d7 = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            d7 = layer(d7)
        return torch.cat([self.branch1x1(x), b7, d7, self.branch_pool(_avg_pool_unpadded(x))], 1)


class InceptionD(nn.Module):
    """Mixed_7a: grid reduction 17 -> 8."""

    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, 1)
        self.branch3x3_2 = BasicConv2d(192, 320, 3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, 1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7x3_1(x)
        for layer in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            b7 = layer(b7)
        return torch.cat([self.branch3x3_2(self.branch3x3_1(x)), b7, F.max_pool2d(x, 3, stride=2)], 1)


class InceptionE(nn.Module):
    """Mixed_7b / Mixed_7c: expanded 3 x 3 branches (8 x 8). ``max_pool`` marks the TF graph's Mixed_7c quirk."""

    def __init__(self, cin: int, max_pool: bool) -> None:
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = BasicConv2d(cin, 320, 1)
        self.branch3x3_1 = BasicConv2d(cin, 384, 1)
        self.branch3x3_2a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, 1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_1(x)
        d3 = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        pooled = F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool else _avg_pool_unpadded(x)
        return torch.cat(
            [
                self.branch1x1(x),
                self.branch3x3_2a(b3),
                self.branch3x3_2b(b3),
                self.branch3x3dbl_3a(d3),
                self.branch3x3dbl_3b(d3),
                self.branch_pool(pooled),
            ],
            1,
        )


class FIDInceptionV3(nn.Module):
    """The network from normalised 299 x 299 input to (pool 2048, fc weights); parameter names are the
    published files' keys (torchvision's ``Inception3`` names)."""

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, 3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, 1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, 3)
        self.Mixed_5b = InceptionA(192, 32)
        self.Mixed_5c = InceptionA(256, 64)
        self.Mixed_5d = InceptionA(288, 64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, 128)
        self.Mixed_6c = InceptionC(768, 160)
        self.Mixed_6d = InceptionC(768, 160)
        self.Mixed_6e = InceptionC(768, 192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280, max_pool=False)
        self.Mixed_7c = InceptionE(2048, max_pool=True)
        self.fc = nn.Linear(2048, 1008)

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        """N x 3 x 299 x 299 in [-1, 1] -> N x 2048 (``pool_3``)."""
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, 3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, 3, stride=2)
        for block in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a, self.Mixed_6b, self.Mixed_6c,
                      self.Mixed_6d, self.Mixed_6e, self.Mixed_7a, self.Mixed_7b, self.Mixed_7c):
            x = block(x)
        return x.mean(dim=(2, 3))


def fold_batch_norms(net: FIDInceptionV3) -> FIDInceptionV3:
    """``net`` (in eval mode) with each unit's batch norm folded into its convolution, in place:
    w' = w g / sqrt(v + eps), b' = beta - m g / sqrt(v + eps), computed in float64 so that casting to the run's
    precision rounds each folded weight once. Exact algebra: in float32 the features move by less than float32's
    own error (folded and unfolded both differ from float64 by ~3e-5 relative on random weights); it saves
    one pass over every activation (~10 % of a CPU pass).
    """
    net.double()
    for unit in net.modules():
        if isinstance(unit, BasicConv2d):
            unit.conv, unit.bn = fuse_conv_bn_eval(unit.conv, unit.bn), nn.Identity()
    return net


def resize_tf1_bilinear(x: torch.Tensor, size: int = INPUT_SIZE) -> torch.Tensor:
    """TF 1.x ``resize_bilinear(align_corners=False)`` of float N x C x H x W to ``size`` x ``size``, returned in
    channels-last layout (the convolutions' input layout).

    Source coordinate s = d * (in / out) in float32 (no half-pixel offset), lo = floor(s), hi = min(lo + 1, in - 1),
    out = a + (b - a) * frac along x then along y: the arithmetic of TF's kernel and torch-fidelity's port.
    Each input row is interpolated along x once, before the rows are picked, rather than after (as TF does per
    output row): the same operations on the same values, so bit-identical, on H_in rather than ``size`` rows.
    """

    def axis(n_in: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        src = torch.arange(size, dtype=torch.float32, device=x.device) * torch.tensor(n_in / size, dtype=torch.float32)
        lo = src.long()
        return lo, (lo + 1).clamp_max(n_in - 1), (src - lo.float()).to(x.dtype)

    ylo, yhi, dy = axis(x.shape[2])
    xlo, xhi, dx = axis(x.shape[3])
    nhwc = x.permute(0, 2, 3, 1)  # index_select writes its result contiguous in this order: channels-last
    left, right = nhwc.index_select(2, xlo), nhwc.index_select(2, xhi)
    rows = left + (right - left) * dx[:, None]
    upper, lower = rows.index_select(1, ylo), rows.index_select(1, yhi)
    return (upper + (lower - upper) * dy[:, None, None]).permute(0, 3, 1, 2)


def resize_clean_bicubic(x: torch.Tensor, size: int = INPUT_SIZE) -> torch.Tensor:
    """clean-fid's ``"clean"`` resize: PIL bicubic on each float32 channel (values 0..255), clipped to [0, 255].

    Runs on the CPU (PIL), one channel at a time, as clean-fid does; the result returns to ``x``'s device.
    """
    from PIL import Image

    array = x.detach().to("cpu", torch.float32).numpy()
    out = np.empty(array.shape[:2] + (size, size), dtype=np.float32)
    for i in range(array.shape[0]):
        for c in range(array.shape[1]):
            out[i, c] = np.asarray(Image.fromarray(array[i, c]).resize((size, size), resample=Image.BICUBIC))
    return torch.from_numpy(out.clip(0, 255)).to(x.device, x.dtype)


class Inception:
    """The registered ``inception`` extractor: images N x C x H x W in [0, 1] -> ``pool``, ``logits_unbiased``,
    ``logits`` (see the module docstring)."""

    name = "inception"
    layers = {"pool": 2048, "logits_unbiased": 1008, "logits": 1008}

    def __init__(
        self,
        device: torch.device | str = "cpu",
        weights: str | Path | None = None,
        resize: str = "tf1",
        precision: str = "fp32",
    ) -> None:
        if resize not in RESIZES:
            raise GanEvalError(f"inception: resize {resize!r} is unknown; use one of {', '.join(RESIZES)}")
        if precision not in PRECISIONS:
            raise GanEvalError(f"inception: precision {precision!r} is unknown; use one of {', '.join(PRECISIONS)}")
        self.device = torch.device(device)
        self.resize = resize
        self.precision = precision
        self.dtype = PRECISIONS[precision]
        self.weights_path = resolve_inception_weights(weights)
        state, self.weights_hash = load_inception_state(self.weights_path)
        self.net = FIDInceptionV3()
        expected = self.net.state_dict()
        # the same names with other shapes (torchvision's ImageNet Inception: fc 1000 x 2048, not 1008) would make
        # load_state_dict raise mid-load; they are another network, said in one line like other keys
        reshaped = [k for k, v in state.items() if k in expected and v.shape != expected[k].shape]
        missing = [k for k in expected if k not in state and not k.endswith("num_batches_tracked")]
        unexpected = [k for k in state if k not in expected]
        if missing or unexpected or reshaped:
            shapes = f", other shapes {[f'{k} {tuple(state[k].shape)}' for k in reshaped[:2]]}" if reshaped else ""
            raise GanEvalError(
                f"{self.weights_path}: not FID Inception weights (missing {missing[:2]}, unexpected {unexpected[:2]}{shapes});"
                " use pt_inception-2015-12-05-6726825d.pth"
            )
        self.net.load_state_dict(state, strict=False)
        # channels-last lets oneDNN / cuDNN pick faster convolutions (1.6x on CPU); same arithmetic up to round-off.
        fold_batch_norms(self.net.eval()).requires_grad_(False).to(self.device, self.dtype, memory_format=torch.channels_last)

    def __call__(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        x = (images.to(self.device, torch.float32) * 255.0).round_().clamp_(0.0, 255.0)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if x.shape[1] != 3:
            raise GanEvalError(f"inception: images have {x.shape[1]} channels; pass grayscale or RGB images")
        x = resize_tf1_bilinear(x) if self.resize == "tf1" else resize_clean_bicubic(x)
        x = x.sub_(128.0).div_(128.0).to(self.dtype).contiguous(memory_format=torch.channels_last)
        tf32 = contextlib.nullcontext()
        if self.device.type == "cuda" and self.precision in ("fp32", "tf32"):
            tf32 = cudnn_conv_precision("tf32" if self.precision == "tf32" else "ieee")
        with torch.inference_mode(), tf32:
            pool = self.net.pool(x).to(torch.float32)
            unbiased = pool @ self.net.fc.weight.to(torch.float32).T
        return {"pool": pool, "logits_unbiased": unbiased, "logits": unbiased + self.net.fc.bias.to(torch.float32)}

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "weights": self.weights_hash,
            "weights_file": self.weights_path.name,
            "resize": self.resize,
            "precision": self.precision,
            "preprocessing": f"round(255 x), resize {self.resize} to {INPUT_SIZE}, (v - 128) / 128",
        }


FEATURES.add("inception", Inception)
