"""FID inside a training loop, as torchmetrics' ``FrechetInceptionDistance`` offers:

>>> fid = FrechetDistance(device="cuda")                       # doctest: +SKIP
>>> for real, fake in loader: fid.update(real=real); fid.update(fake=fake)   # doctest: +SKIP
>>> fid.compute()                                               # doctest: +SKIP

Images are tensors in any layout and range that :mod:`gan_eval.io.images` accepts; ``value_range`` states the range
of both sides (``auto``: each side's range is resolved from its first batch by :mod:`gan_eval.io.ranges`; later
batches must fit it, and two inferred sides must agree). Both sides accumulate :class:`~gan_eval.stats.GaussianStats`
(float64 sums), so the result is the same as ``gan-eval score`` on the same images, whatever the batch sizes;
``reset_fake()`` starts a new evaluation against the same real statistics, and ``real_stats`` may be given
precomputed (e.g. from ``gan-eval stats``).
"""
from __future__ import annotations

from pathlib import Path

import torch

from gan_eval.errors import GanEvalError
from gan_eval.features.extract import layer_features
from gan_eval.features.resolve import check_layer, default_layer, make_extractor
from gan_eval.io.images import to_unit_float
from gan_eval.io.ranges import ValueRange, check_batch, check_comparable, parse_range, resolve_range
from gan_eval.io.samples import ArraySource
from gan_eval.metrics.fid import fid_of_moments
from gan_eval.stats.gaussian import GaussianStats, Moments


class FrechetDistance:
    """Streaming FID between everything passed as ``real`` and everything passed as ``fake``."""

    def __init__(
        self,
        features: str | None = "inception",
        *,
        device: torch.device | str = "cpu",
        weights: str | Path | None = None,
        layer: str | None = None,
        resize: str | None = None,
        value_range: str = "auto",
        real_stats: GaussianStats | Moments | None = None,
    ) -> None:
        self.device = torch.device(device)
        self.extractor = make_extractor(features, self.device, weights, resize=resize)
        self.layer = check_layer(self.extractor, layer) if layer else default_layer(self.extractor, ("pool",))
        self.value_range = parse_range(value_range, "value_range")
        self.meta = {"extractor": self.extractor.describe(), "layer": self.layer}
        self.real: GaussianStats | Moments | None = real_stats
        self.fake: GaussianStats | None = None
        self.ranges: dict[str, ValueRange] = {}
        recorded = ValueRange.from_meta(real_stats.meta) if real_stats is not None else None
        if recorded is not None:
            self.ranges["real"] = recorded

    def _add(self, stats: GaussianStats | None, images: torch.Tensor, side: str) -> GaussianStats:
        if side not in self.ranges:
            first = resolve_range(ArraySource(images.detach().cpu().numpy(), side), self.value_range, "value_range")
            check_comparable({s: (r, "value_range") for s, r in {**self.ranges, side: first}.items()})
            self.ranges[side] = first
        check_batch(images, self.ranges[side], side)
        with torch.inference_mode():
            features = layer_features(self.extractor, to_unit_float(images, self.ranges[side].range, side).to(self.device), self.layer, side)
        if stats is None:
            stats = GaussianStats.empty(features.shape[1], self.device, {**self.meta, **self.ranges[side].to_meta()})
        return stats.add_(features)

    def update(self, real: torch.Tensor | None = None, fake: torch.Tensor | None = None) -> None:
        """Add a batch of real and/or fake images."""
        if real is not None:
            if isinstance(self.real, Moments):
                raise GanEvalError("real statistics were given precomputed as mean/covariance; pass only fake images")
            self.real = self._add(self.real, real, "real")
        if fake is not None:
            self.fake = self._add(self.fake, fake, "fake")

    def reset_fake(self) -> None:
        self.fake = None
        self.ranges.pop("fake", None)

    def compute(self) -> float:
        if self.real is None or self.fake is None:
            raise GanEvalError("FrechetDistance.compute(): call update(real=...) and update(fake=...) first")
        real = self.real.moments() if isinstance(self.real, GaussianStats) else self.real
        return fid_of_moments(self.fake.moments(), real, "fake", "real")
