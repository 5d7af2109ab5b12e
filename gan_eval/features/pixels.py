"""The identity feature extractor: images flattened to vectors (layer ``pixels``), values in [0, 1]."""
from __future__ import annotations

import math
from typing import Any

import torch

from gan_eval.features.base import FEATURES


class Pixels:
    """Flattened pixels: the feature space of pixel-distance metrics (birthday pairs, NDB on raw images)."""

    name = "pixels"
    layers = {"pixels": -1}  # dimension depends on the image size

    def __init__(self, device: torch.device | str = "cpu", weights: str | None = None) -> None:
        self.device = torch.device(device)

    def __call__(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"pixels": images.flatten(1)}

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "weights": None, "preprocessing": "flatten, values in [0, 1]"}


def image_shape_of(dim: int) -> tuple[int, int, int] | None:
    """C x H x W of the square 1- or 3-channel images whose pixel features have ``dim`` values, else None (then
    the images are not square, or have other channels). Unique when it exists: 3 s^2 is never a square."""
    for channels in (1, 3):
        side = math.isqrt(dim // channels)
        if channels * side * side == dim:
            return channels, side, side
    return None


FEATURES.add("pixels", Pixels)
