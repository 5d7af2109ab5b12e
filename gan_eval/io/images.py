"""Image arrays in, the core's one convention out: float32 tensors N x C x H x W with values in [0, 1].

Accepted: uint8 (0..255), or floats in [0, 1] or [-1, 1]; layouts N x H x W (grayscale), N x C x H x W and
N x H x W x C with C in {1, 3}. The value range of floats is stated (``"0,1"``, ``"-1,1"``) or detected
over the whole array once (``"auto"``) and reported, so every batch of one array converts the same way.
"""
from __future__ import annotations

import numpy as np
import torch

from gan_eval.errors import GanEvalError

RANGES = ("auto", "0,1", "-1,1", "0,255")


def detect_range(array: np.ndarray | torch.Tensor, name: str = "images", value_range: str = "auto") -> str:
    """The value range of a whole image array: ``"0,255"`` for uint8, else ``"0,1"`` or ``"-1,1"``.

    A stated ``value_range`` is checked against the data; ``"auto"`` picks the narrowest range that fits.
    """
    if value_range not in RANGES:
        raise GanEvalError(f"{name}: --range {value_range!r} is not one of {', '.join(RANGES)}")
    if array.dtype in (np.uint8, torch.uint8):
        if value_range not in ("auto", "0,255"):
            raise GanEvalError(f"{name}: uint8 images are 0..255, but --range {value_range} was given; drop --range")
        return "0,255"
    lo, hi = float(array.min()), float(array.max())
    fits = {"0,1": lo >= 0.0 and hi <= 1.0, "-1,1": lo >= -1.0 and hi <= 1.0, "0,255": lo >= 0.0 and hi <= 255.0}
    if value_range == "auto":
        for candidate in ("0,1", "-1,1"):
            if fits[candidate]:
                return candidate
        raise GanEvalError(
            f"{name}: float values span [{lo:.4g}, {hi:.4g}], outside [0, 1] and [-1, 1];"
            " rescale them, save uint8, or state --range 0,255"
        )
    if not fits[value_range]:
        raise GanEvalError(f"{name}: values span [{lo:.4g}, {hi:.4g}], outside the stated --range {value_range}")
    return value_range


def to_nchw(batch: torch.Tensor, name: str = "images") -> torch.Tensor:
    """Reorder an image batch to N x C x H x W (C in {1, 3}); grayscale N x H x W gains C = 1."""
    if batch.ndim == 3:
        return batch[:, None]
    if batch.ndim == 4:
        if batch.shape[1] in (1, 3):
            return batch
        if batch.shape[3] in (1, 3):
            return batch.permute(0, 3, 1, 2)
    raise GanEvalError(
        f"{name}: shape {tuple(batch.shape)} is not an image batch; expected N x H x W, N x C x H x W or"
        " N x H x W x C with C = 1 or 3"
    )


def to_unit_float(batch: torch.Tensor, value_range: str, name: str = "images") -> torch.Tensor:
    """An image batch (any layout above) as float32 N x C x H x W in [0, 1], given its value range."""
    x = to_nchw(batch, name).to(torch.float32)
    if value_range == "0,255":
        x = x / 255.0
    elif value_range == "-1,1":
        x = (x + 1.0) / 2.0
    elif value_range != "0,1":
        raise GanEvalError(f"{name}: unknown value range {value_range!r}; use one of {', '.join(RANGES[1:])}")
    return x.contiguous()


def to_rgb(x: torch.Tensor) -> torch.Tensor:
    """Repeat a single channel to three; RGB passes through."""
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x
