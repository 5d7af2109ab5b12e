"""Every metric that reads samples as they come, as torchmetrics offers them: ``update`` / ``compute`` / ``reset``
/ ``merge``:

>>> fid = StreamingMetric("fid", device="cuda")                 # doctest: +SKIP
>>> for real, fake in loader: fid.update(real=real, fake=fake)  # doctest: +SKIP
>>> fid.compute()["fid"]                                        # doctest: +SKIP

One mechanism serves every metric, driven by the statistic it declares (:class:`~gan_eval.metrics.base.Needs`):
each side (real, fake) keeps a *sum* statistic (its tensors add up: the Gaussian moments of features, or the
metric's own ``accumulate`` statistic such as the mode histogram of ``modes``) and/or a *gather* bank (rows kept
in order: the features of k-NN / kernel / k-means metrics, or the images of metrics that read images themselves,
MS-SSIM and LPIPS diversity). ``compute()`` runs the registered metric itself on them, so the result (and its
protocol) equals ``gan_eval.score`` on the same samples whatever the batch sizes; inside an initialised
``torch.distributed`` group it first reduces the sides over the ranks (sums summed, banks gathered rank after
rank; :mod:`gan_eval.stats.dist`), as torchmetrics' ``dist_reduce_fx`` does. ``merge`` adds another stream's
statistics (e.g. from a data-parallel worker). :meth:`StreamingMetric.state` names the tensors with their
reduction, which is what :mod:`gan_eval.integrations.torchmetrics` registers. :class:`FrechetDistance` is the FID
of this, returning a float. Not streamed: metrics that need the generator itself (IvOM) and Stacked MNIST
(which classifies a seeded subset of all the samples).

Images are tensors in any layout and range that :mod:`gan_eval.io.images` accepts; ``value_range`` states the range
of both sides (``auto``: each side's range is resolved from its first batch by :mod:`gan_eval.io.ranges`; later
batches must fit it, and two inferred sides must agree; metrics that keep the images resolve it on all of them,
as ``gan_eval.score`` does).
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
from gan_eval.stats.dist import all_sum, gather_rank_major, sum_over_ranks, world
from gan_eval.stats.gaussian import GaussianStats, Moments

#: torchmetrics' name of each reduction (its ``dist_reduce_fx``)
REDUCTIONS = {"sum": "sum", "gather": "cat"}


def streamable(name: str) -> bool:
    """Whether a registered metric reads its samples batch by batch (features, images, or a sum statistic)."""
    spec = METRICS.get(name)
    return not spec.needs.generator and name != "stacked-mnist" and (
        spec.needs.features is not None or spec.accumulate is not None or spec.needs.reduction == "gather"
    )


@dataclass
class _Side:
    """What one side (real or fake) has accumulated: ``rows`` seen, its sum statistic (None before the first
    batch when its shape comes from the data) and its gathered bank."""

    rows: int = 0
    total: Any = None
    bank: list[torch.Tensor] = field(default_factory=list)

    def reduced(self, over_ranks: bool) -> tuple[int, Any, torch.Tensor | None]:
        """(rows, sum statistic, bank) over the ranks of an initialised group when ``over_ranks`` (else this
        process's)."""
        bank = torch.cat(self.bank) if self.bank else None
        if not over_ranks:
            return self.rows, self.total, bank
        rows = int(all_sum(torch.tensor(self.rows, dtype=torch.int64)))
        return rows, sum_over_ranks(self.total), None if bank is None else gather_rank_major(bank)


class _Held:
    """The fake side as the metric's sample source: its statistics are already in the request."""

    def __init__(self, count: int, value_range: ValueRange | None) -> None:
        self.name, self.count, self.value_range = "fake", count, value_range

    def __len__(self) -> int:
        return self.count

    def batches(self, batch_size: int):
        raise GanEvalError("streaming: the fake samples were reduced to statistics as they came; nothing to re-read")

    def array(self) -> np.ndarray:
        raise GanEvalError("streaming: the fake samples were reduced to statistics as they came; nothing to re-read")


class StreamingMetric:
    """A registered metric of everything passed as ``fake`` (and, for feature metrics with a reference, against
    everything passed as ``real`` or given as ``real_stats``; ``reference``: a metric's named reference, e.g. the
    mixture of ``modes``)."""

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
        reference: Any = None,
        seed: int = 0,
        **options: Any,
    ) -> None:
        self.spec = METRICS.get(metric)
        if not streamable(metric):
            others = ", ".join(n for n in METRICS if streamable(n))
            raise GanEvalError(f"streaming: {metric} does not read its samples batch by batch; use one of {others}")
        need = self.spec.needs.features
        self.device, self.seed, self.reference, self.weights = torch.device(device), seed, reference, weights
        self.options = self.spec.make_options({**options, **({"layer": layer} if layer else {})})
        self.stated_range = value_range
        self.value_range = parse_range(value_range, "value_range")
        self.keep = need.keep if need is not None else self.spec.accumulate is None
        self.extractor = self.layer = None
        if need is not None:
            self.extractor = make_extractor(features or self.spec.default_features, self.device, weights, resize=resize)
            self.layer = check_layer(self.extractor, layer) if layer else default_layer(self.extractor, need.layers)
            self.meta = {"extractor": self.extractor.describe(), "layer": self.layer}
        elif features is not None:
            raise GanEvalError(f"streaming: {metric} reads no features; drop features={features!r}")
        if self.spec.needs_reference and need is None and reference is None:
            raise GanEvalError(f"streaming: {metric} needs reference=... ({self.spec.needs.reference})")
        self.streamed = ("real", "fake") if need is not None and need.reference and real_stats is None else ("fake",)
        self.real_stats = real_stats
        self.ranges: dict[str, ValueRange] = {}
        recorded = ValueRange.from_meta(real_stats.meta) if real_stats is not None else None
        if recorded is not None:
            self.ranges["real"] = recorded
        self.sides = {side: self._empty() for side in self.streamed}

    def _empty(self) -> _Side:
        if self.spec.accumulate is not None:
            return _Side(total=self.spec.accumulate(self._request(), self.options, []))
        dim = self.extractor.layers.get(self.layer, -1) if self.extractor is not None else -1
        return _Side(total=GaussianStats.empty(dim, self.device, self.meta) if dim > 0 else None)

    def _request(self, samples: Any = None) -> ScoreRequest:
        return ScoreRequest(
            samples=samples or _Held(0, None), reference=self.reference, features=self.extractor, device=self.device, seed=self.seed,
            value_range=self.stated_range, weights=None if self.weights is None else str(self.weights),
        )

    def _resolve_range(self, images: torch.Tensor, side: str) -> ValueRange:
        if side not in self.ranges:
            first = resolve_range(ArraySource(images.detach().cpu().numpy(), side), self.value_range, "value_range")
            check_comparable({s: (r, "value_range") for s, r in {**self.ranges, side: first}.items()})
            self.ranges[side] = first
        return self.ranges[side]

    def _add(self, batch: torch.Tensor, side: str) -> None:
        held = self.sides[side]
        if self.extractor is not None:
            value_range = self._resolve_range(batch, side)
            with torch.inference_mode():
                features = layer_features(self.extractor, unit_images(batch, value_range, side).to(self.device), self.layer, side)
            if held.total is None:
                held.total = GaussianStats.empty(features.shape[1], self.device)
            if not held.rows:
                held.total.meta = {**self.meta, **value_range.to_meta()}
            held.total.add_(features)
            if self.keep:
                held.bank.append(features.to("cpu", torch.float32))
        elif self.spec.accumulate is not None:
            held.total = held.total.merge(self.spec.accumulate(self._request(), self.options, [batch]))
        else:
            held.bank.append(batch.detach().cpu())
        held.rows += len(batch)

    def update(self, real: torch.Tensor | None = None, fake: torch.Tensor | None = None) -> None:
        """Add a batch of real and/or fake samples. ``real`` is ignored by a metric that compares with no real
        samples (IS, Vendi, modes...), so one loop can feed several metrics alike."""
        if real is not None and self.real_stats is not None:
            raise GanEvalError(f"{self.spec.name}: real statistics were given precomputed as real_stats; pass only fake images")
        if real is not None and "real" in self.streamed:
            self._add(real, "real")
        if fake is not None:
            self._add(fake, "fake")

    def reset(self, real: bool = False) -> None:
        """Forget the fake samples (and the real ones when ``real``), to start a new evaluation."""
        for side in ("fake", "real") if real else ("fake",):
            if side in self.streamed:
                self.sides[side] = self._empty()
                self.ranges.pop(side, None)

    def merge(self, other: "StreamingMetric") -> "StreamingMetric":
        """Add ``other``'s accumulated samples (the same metric and features) to this one's; returns self."""
        for name, side in self.sides.items():
            theirs = other.sides[name]
            if theirs.rows:
                side.total = theirs.total if side.total is None else side.total.merge(theirs.total)
                side.bank += theirs.bank
                side.rows += theirs.rows
        return self

    def state(self) -> dict[str, tuple[torch.Tensor | list[torch.Tensor], str]]:
        """Every accumulated tensor by name (``<side>_rows``, ``<side>_<sum field>``, ``<side>_bank``) with its
        reduction, ``sum`` or ``gather``. A sum statistic whose shape comes from the first batch (the moments of
        features) is absent before it."""
        out: dict[str, tuple[Any, str]] = {}
        for name, side in self.sides.items():
            out[f"{name}_rows"] = (torch.tensor(side.rows, dtype=torch.int64), "sum")
            if side.total is not None:
                out.update({f"{name}_{key}": (value, "sum") for key, value in side.total.state().items()})
            if self.keep:
                out[f"{name}_bank"] = (side.bank, "gather")
        return out

    def load_state(self, state: dict[str, Any]) -> None:
        """Replace what was accumulated by ``state`` (names as :meth:`state`; a bank as a list of tensors or one
        tensor), e.g. after a torchmetrics sync. A sum statistic absent from ``state`` keeps this stream's shape."""
        for name, side in self.sides.items():
            side.rows = int(state[f"{name}_rows"])
            fields = {key[len(name) + 1 :]: value for key, value in state.items() if key.startswith(f"{name}_") and key[len(name) + 1 :] not in ("rows", "bank")}
            if fields and side.total is not None:
                side.total = side.total.with_state(fields)
            if self.keep:
                bank = state[f"{name}_bank"]
                side.bank = list(bank) if isinstance(bank, (list, tuple)) else [bank]

    def compute(self, over_ranks: bool = True) -> MetricResult:
        """The metric on everything seen (reduced over ranks inside a process group unless ``over_ranks`` is
        False, e.g. when torchmetrics has reduced the state already), with its protocol."""
        for side in self.streamed:
            if not self.sides[side].rows:
                needed = "update(real=...) and update(fake=...)" if "real" in self.streamed else "update(fake=...)"
                raise GanEvalError(f"{self.spec.name}.compute(): call {needed} first")
        over_ranks = over_ranks and world()[1] > 1
        rows, total, bank = self.sides["fake"].reduced(over_ranks)
        if self.extractor is None and self.spec.accumulate is None:  # the metric reads the images themselves
            return self.spec.evaluate(self._request(ArraySource(bank.numpy(), "fake")), self.options)
        request = self._request(_Held(rows, self.ranges.get("fake")))
        if self.spec.accumulate is not None:
            request.hold_summed(self.spec.name, total)
            return self.spec.evaluate(request, self.options)
        if "real" in self.streamed and self.spec.needs.features.reference:
            _, real_total, real_bank = self.sides["real"].reduced(over_ranks)
            request.reference = StatsFile(real_total.moments(), real_total, real_bank)
        elif self.real_stats is not None:
            given = self.real_stats
            request.reference = StatsFile(given) if isinstance(given, Moments) else StatsFile(given.moments(), given, None)
        request.record_range("samples", self.ranges["fake"])
        request.stage.hold("samples", request.samples, self.extractor, {self.layer: LayerFeatures(total, bank)})
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
