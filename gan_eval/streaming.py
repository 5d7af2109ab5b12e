"""Feature metrics inside a training loop, as torchmetrics offers them: ``update`` / ``compute`` / ``reset`` /
``merge``, for every registered metric that reads features of samples (and of a reference):

>>> fid = StreamingMetric("fid", device="cuda")                 # doctest: +SKIP
>>> for real, fake in loader: fid.update(real=real, fake=fake)  # doctest: +SKIP
>>> fid.compute()["fid"]                                        # doctest: +SKIP

Each side keeps the statistic the metric declares (:class:`~gan_eval.metrics.base.Needs`): Gaussian moments
(float64 sums, reduction ``sum``) and, for metrics that keep features (KID, PRDC, NDB, IS, birthday), the feature
bank (reduction ``gather``). ``compute()`` runs the registered metric itself on them, so the result (and its
protocol) equals ``gan_eval.score`` on the same images whatever the batch sizes; inside an initialised
``torch.distributed`` group it first reduces the sides over the ranks (sums summed, banks gathered rank after
rank; :mod:`gan_eval.stats.dist`), as torchmetrics' ``dist_reduce_fx`` does. ``merge`` adds another stream's
statistics (e.g. from a data-parallel worker). :class:`FrechetDistance` is the FID of this, returning a float.

Images are tensors in any layout and range that :mod:`gan_eval.io.images` accepts; ``value_range`` states the range
of both sides (``auto``: each side's range is resolved from its first batch by :mod:`gan_eval.io.ranges`; later
batches must fit it, and two inferred sides must agree).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_eval.errors import GanEvalError
from gan_eval.features.extract import LayerFeatures, layer_features, unit_images
from gan_eval.features.resolve import check_layer, default_layer, make_extractor
from gan_eval.io.ranges import ValueRange, check_comparable, parse_range, resolve_range
from gan_eval.io.samples import ArraySource
from gan_eval.io.stats_file import StatsFile
from gan_eval.metrics import METRICS, MetricResult, ScoreRequest
from gan_eval.stats.dist import gather_rank_major, world
from gan_eval.stats.gaussian import GaussianStats, Moments


@dataclass
class _Side:
    """What one side (real or fake) has accumulated: its statistics and, when kept, its features."""

    stats: GaussianStats | None = None
    kept: list[torch.Tensor] = field(default_factory=list)

    def features(self) -> torch.Tensor | None:
        return torch.cat(self.kept) if self.kept else None

    def reduced(self, keep: bool) -> LayerFeatures:
        """Over the ranks of an initialised group (itself outside one)."""
        bank = self.features()
        if world()[1] > 1:
            return LayerFeatures(self.stats.reduced_over_ranks(), gather_rank_major(bank) if keep else None)
        return LayerFeatures(self.stats, bank)


class _Held:
    """The fake side as the metric's sample source: its features are already in the request's features stage."""

    def __init__(self, count: int, value_range: ValueRange) -> None:
        self.name, self.count, self.value_range = "fake", count, value_range

    def __len__(self) -> int:
        return self.count

    def batches(self, batch_size: int):
        raise GanEvalError("streaming: the fake images were reduced to features as they came; nothing to re-read")

    def array(self) -> np.ndarray:
        raise GanEvalError("streaming: the fake images were reduced to features as they came; nothing to re-read")


class StreamingMetric:
    """A registered feature metric between everything passed as ``real`` and everything passed as ``fake``."""

    def __init__(
        self,
        metric: str,
        features: Any = None,
        *,
        device: torch.device | str = "cpu",
        weights: str | Path | None = None,
        layer: str | None = None,
        resize: str | None = None,
        value_range: str = "auto",
        real_stats: GaussianStats | Moments | None = None,
        seed: int = 0,
        **options: Any,
    ) -> None:
        self.spec = METRICS.get(metric)
        need = self.spec.needs.features
        if need is None or self.spec.needs.generator or metric == "stacked-mnist":
            streamable = [n for n in METRICS if METRICS.get(n).needs.features is not None and n != "stacked-mnist"]
            raise GanEvalError(f"streaming: {metric} does not read features of samples as they come; use one of {', '.join(streamable)}")
        self.device, self.seed, self.keep = torch.device(device), seed, need.keep
        self.options = self.spec.make_options({**options, **({"layer": layer} if layer else {})})
        self.extractor = make_extractor(features or self.spec.default_features, self.device, weights, resize=resize)
        self.layer = check_layer(self.extractor, layer) if layer else default_layer(self.extractor, need.layers)
        self.value_range = parse_range(value_range, "value_range")
        self.meta = {"extractor": self.extractor.describe(), "layer": self.layer}
        self.sides = {"real": _Side(), "fake": _Side()}
        self.ranges: dict[str, ValueRange] = {}
        self.real_moments: Moments | None = None
        if isinstance(real_stats, Moments):
            self.real_moments = real_stats
        elif real_stats is not None:
            self.sides["real"].stats = real_stats
        recorded = ValueRange.from_meta(real_stats.meta) if real_stats is not None else None
        if recorded is not None:
            self.ranges["real"] = recorded

    def _add(self, images: torch.Tensor, side: str) -> None:
        if side not in self.ranges:
            first = resolve_range(ArraySource(images.detach().cpu().numpy(), side), self.value_range, "value_range")
            check_comparable({s: (r, "value_range") for s, r in {**self.ranges, side: first}.items()})
            self.ranges[side] = first
        with torch.inference_mode():
            features = layer_features(self.extractor, unit_images(images, self.ranges[side], side).to(self.device), self.layer, side)
        held = self.sides[side]
        if held.stats is None:
            held.stats = GaussianStats.empty(features.shape[1], self.device, {**self.meta, **self.ranges[side].to_meta()})
        held.stats.add_(features)
        if self.keep:
            held.kept.append(features.to("cpu", torch.float32))

    def update(self, real: torch.Tensor | None = None, fake: torch.Tensor | None = None) -> None:
        """Add a batch of real and/or fake images."""
        if real is not None:
            if self.real_moments is not None:
                raise GanEvalError("real statistics were given precomputed as mean/covariance; pass only fake images")
            self._add(real, "real")
        if fake is not None:
            self._add(fake, "fake")

    def reset(self, real: bool = False) -> None:
        """Forget the fake images (and the real ones when ``real``), to start a new evaluation."""
        for side in ("fake", "real") if real else ("fake",):
            self.sides[side] = _Side()
            self.ranges.pop(side, None)

    def merge(self, other: "StreamingMetric") -> "StreamingMetric":
        """Add ``other``'s accumulated images (the same metric and features) to this one's; returns self."""
        for name, side in self.sides.items():
            theirs = other.sides[name]
            if theirs.stats is not None:
                side.stats = theirs.stats if side.stats is None else side.stats.merge(theirs.stats)
                side.kept += theirs.kept
        return self

    def compute(self) -> MetricResult:
        """The metric on everything seen (reduced over ranks inside a process group), with its protocol."""
        fake = self.sides["fake"]
        if fake.stats is None:
            raise GanEvalError(f"{self.spec.name}.compute(): call update(fake=...) first")
        needs_real = self.spec.needs.features.reference
        if needs_real and self.sides["real"].stats is None and self.real_moments is None:
            raise GanEvalError(f"{self.spec.name}.compute(): call update(real=...) and update(fake=...) first")
        done = fake.reduced(self.keep)
        samples = _Held(done.stats.count, self.ranges["fake"])
        reference = None
        if needs_real:
            if self.real_moments is not None:
                reference = StatsFile(self.real_moments)
            else:
                real = self.sides["real"].reduced(self.keep)
                reference = StatsFile(real.stats.moments(), real.stats, real.features)
        request = ScoreRequest(samples=samples, reference=reference, features=self.extractor, device=self.device, seed=self.seed)
        request.record_range("samples", self.ranges["fake"])
        request.stage.hold("samples", samples, self.extractor, {self.layer: done})
        return self.spec.evaluate(request, self.options)


class FrechetDistance(StreamingMetric):
    """Streaming FID between everything passed as ``real`` and everything passed as ``fake``; ``compute()`` is the
    FID as a float. ``reset_fake()`` starts a new evaluation against the same real statistics, and
    ``real_stats`` may be given precomputed (e.g. from ``gan-eval stats``)."""

    def __init__(self, features: Any = "inception", **kwargs: Any) -> None:
        super().__init__("fid", features, **kwargs)

    def reset_fake(self) -> None:
        self.reset()

    def compute(self) -> float:  # type: ignore[override]
        return float(super().compute()["fid"])
