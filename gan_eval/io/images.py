"""Image arrays in, the core's one convention out: float32 tensors N x C x H x W with values in [0, 1].

Accepted: uint8 (0..255), or floats in [0, 1], [-1, 1] or [0, 255]; layouts N x H x W (grayscale), N x C x H x W
and N x H x W x C with C in {1, 3}. The value range of an input is resolved once by :mod:`gan_eval.io.ranges`
(stated, declared or inferred, and reported), so every batch of one input converts the same way.
"""
from __future__ import annotations

import torch

from gan_eval.errors import GanEvalError


def check_image_shape(shape: tuple[int, ...], name: str = "images") -> None:
    """One-line error unless ``shape`` is an image batch: N x H x W, N x C x H x W or N x H x W x C, C in {1, 3}."""
    if len(shape) == 3 or (len(shape) == 4 and (shape[1] in (1, 3) or shape[3] in (1, 3))):
        return
    raise GanEvalError(
        f"{name}: shape {tuple(shape)} is not an image batch; expected N x H x W, N x C x H x W or"
        " N x H x W x C with C = 1 or 3"
    )


def to_nchw(batch: torch.Tensor, name: str = "images") -> torch.Tensor:
    """Reorder an image batch to N x C x H x W (C in {1, 3}); grayscale N x H x W gains C = 1."""
    check_image_shape(tuple(batch.shape), name)
    if batch.ndim == 3:
        return batch[:, None]
    return batch if batch.shape[1] in (1, 3) else batch.permute(0, 3, 1, 2)


def to_unit_float(batch: torch.Tensor, value_range: str, name: str = "images") -> torch.Tensor:
    """An image batch (any layout above) as float32 N x C x H x W in [0, 1], given its value range."""
    x = to_nchw(batch, name).to(torch.float32)
    if value_range == "0,255":
        x = x / 255.0
    elif value_range == "-1,1":
        x = (x + 1.0) / 2.0
    elif value_range != "0,1":
        from gan_eval.io.ranges import RANGES  # here: ranges imports this module for check_image_shape

        raise GanEvalError(f"{name}: unknown value range {value_range!r}; use one of {', '.join(RANGES)}")
    return x.contiguous()


def to_rgb(x: torch.Tensor) -> torch.Tensor:
    """Repeat a single channel to three; RGB passes through."""
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x
