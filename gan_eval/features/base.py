"""The feature-extractor contract and registry.

A feature extractor is an ``nn.Module``-backed callable that maps float32 images N x C x H x W in [0, 1]
(see :mod:`gan_eval.io.images`) to a dict of named layers (e.g. ``{"pool": N x 2048, "logits": N x 1008}``).
It exposes named layers, never per-metric tables; each metric picks the layer it needs.
Registered factories take ``device`` and optional ``weights`` (a path) and return the extractor.
"""
from __future__ import annotations

from typing import Any, Callable, Protocol

import torch

from gan_eval.registry import Registry


class FeatureExtractor(Protocol):
    name: str
    #: layer name -> feature dimension
    layers: dict[str, int]

    def __call__(self, images: torch.Tensor) -> dict[str, torch.Tensor]: ...

    def describe(self) -> dict[str, Any]:
        """What identifies these features in a result or statistics file: name, weights hash, preprocessing."""
        ...


FEATURES: Registry[Callable[..., FeatureExtractor]] = Registry("feature extractor")
