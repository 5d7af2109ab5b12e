"""The metric contract: a registered metric turns a :class:`ScoreRequest` into a :class:`MetricResult`.

A metric module defines a pure function on tensors (the Python API), an ``Options`` dataclass of its
tunable settings (``--set key=value`` on the CLI) and an ``evaluate(request, options)`` adapter that
reads the request's samples and reference and calls the pure function. It is registered with::

    @register_metric("modes", options=ModeOptions, needs_reference=True, summary="...")
    def evaluate(request: ScoreRequest, options: ModeOptions) -> MetricResult: ...

A metric declares what it needs (:class:`Needs`): the features of a layer (:class:`FeatureNeed`, read from the
call's one feature stage, :mod:`gan_eval.features.stage`), a reference of some kind, the generator itself, and
the statistic it keeps with its reduction across processes (``sum`` or ``gather``). ``gan-eval metrics`` lists
them, the features stage plans one pass from them, and ``tests/test_metric_contract.py`` checks every metric
against them.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import numpy as np
import torch

from gan_eval.errors import GanEvalError
from gan_eval.features.stage import FeatureStage
from gan_eval.io.ranges import ValueRange, check_comparable, holds_images, resolve_range
from gan_eval.io.samples import SampleSource
from gan_eval.options import fill_options
from gan_eval.stats.dist import shard, sum_over_ranks
from gan_eval.registry import Registry


def _identity(items: Iterable, total: int | None = None, desc: str = "") -> Iterable:
    return items


@dataclass
class ScoreRequest:
    """Everything a metric may read. Fields a metric does not use are ignored by it.

    ``reference`` is a string the metric resolves itself (a mixture name, a statistics file, an image file).
    ``progress`` wraps long iterables (the CLI passes a tqdm bar; the core never prints).
    ``output``: where the edge writes the artefacts a metric returns (e.g. the birthday pair grid); a metric
    reads it only to know whether to make them.
    ``value_range`` and ``reference_range`` state the range of the samples and of reference images (``auto``:
    declared or inferred); metrics resolve them through :meth:`range_of`, which records each resolved range for
    the result's protocol. ``weights`` is a path to the weights of the network that reads the samples (the FID
    Inception file, the stacked-mnist digit classifier, a user extractor's state dict); None means that
    network's default. ``skip_unreadable``: leave out image files of a folder that cannot be decoded; how many
    were left out is recorded per role in ``skipped`` (by :meth:`range_of`, which every image input goes through).
    ``on_success``: writes a metric defers until the whole score has succeeded (the reference statistics cache),
    so a score that fails on its samples writes nothing. ``features``: a registered name, ``pkg.module:factory``,
    or (from Python) an ``nn.Module`` or extractor object. ``reference``: a name or path, or (from Python) an
    array, tensor or statistics object (:mod:`gan_eval.references.given`). ``stage``: the call's one features
    stage, shared by every metric of the call.
    """

    samples: SampleSource
    reference: Any = None
    features: Any = None
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    seed: int = 0
    batch_size: int = 10_000
    output: Path | None = None
    progress: Callable[..., Iterable] = _identity
    value_range: str = "auto"
    reference_range: str = "auto"
    weights: str | None = None
    skip_unreadable: bool = False
    ranges: dict[str, ValueRange] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    on_success: list[Callable[[], None]] = field(default_factory=list)
    stage: FeatureStage = field(default_factory=FeatureStage)

    def range_of(self, source: SampleSource, role: str = "samples") -> ValueRange:
        """The value range of the samples or of the reference images (``role``), resolved once from the stated
        range (:mod:`gan_eval.io.ranges`), recorded, and checked against the other side's."""
        if role not in self.ranges:
            self.record_range(role, resolve_range(source, *self._stated(role)))
            if getattr(source, "skipped", None):
                self.skipped[role] = len(source.skipped)
        return self.ranges[role]

    def range_if_images(self, source: SampleSource, role: str = "samples") -> ValueRange | None:
        """:meth:`range_of` for images; None for N x D vectors, which have no range (and refuse a stated one)."""
        if holds_images(source):
            return self.range_of(source, role)
        stated, option = self._stated(role)
        if stated != "auto":
            raise GanEvalError(f"{source.name}: holds N x D vectors, not images, so {option} does not apply; drop it")
        return None

    def record_range(self, role: str, value_range: ValueRange) -> None:
        """Record a range resolved elsewhere (one a statistics file recorded) and check the two sides agree."""
        self.ranges[role] = value_range
        check_comparable({r: (v, self._stated(r)[1]) for r, v in self.ranges.items()})

    def _stated(self, role: str) -> tuple[str, str]:
        return (self.value_range, "--range") if role == "samples" else (self.reference_range, "--reference-range")

    def batches(self, desc: str = "samples") -> Iterator[torch.Tensor]:
        """This rank's share of the samples (all of them outside ``torchrun``, :mod:`gan_eval.stats.dist`) in
        batches of ``batch_size``, through the progress wrapper; reduce what is computed from them over ranks."""
        share = shard(self.samples)
        total = math.ceil(len(share) / self.batch_size)
        yield from self.progress(share.batches(self.batch_size), total=total, desc=desc)

    def summed(self, metric: str, accumulate: Callable[["ScoreRequest", Any, Iterable[torch.Tensor]], Any], options: Any) -> Any:
        """A metric's ``sum`` statistic of the samples (its ``accumulate`` over :meth:`batches`, summed over the
        ranks), once per call; a stream (:mod:`gan_eval.streaming`) hands in the one it accumulated instead."""
        return self.stage.memo(("summed", metric), lambda: sum_over_ranks(accumulate(self, options, self.batches())))

    def hold_summed(self, metric: str, statistic: Any) -> None:
        """The ``sum`` statistic :meth:`summed` returns for ``metric``, accumulated elsewhere (a stream)."""
        self.stage.memo(("summed", metric), lambda: statistic)


@dataclass
class MetricResult:
    """A score with its protocol, so a number in a JSON file can be traced and re-run.

    ``values``: the headline numbers (shown first, in order). ``details``: per-mode tables and arrays
    (JSON-able lists). ``protocol``: what was compared, n, seed, thresholds, extractor, version.
    ``files``: paths written for it (by the edge, from ``artefacts``: image grids and arrays the metric returns,
    :mod:`gan_eval.artefacts`, never part of the JSON).
    """

    metric: str
    values: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)
    protocol: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    artefacts: list[Any] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        fields = ("metric", "values", "details", "protocol", "files")
        return _jsonable({name: getattr(self, name) for name in fields})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


@dataclass
class Results:
    """The results of several metrics scored in one call (one feature pass per input), by metric name; ``protocol``
    holds what the call shared (``feature_passes``: extractor passes run for all of them)."""

    results: dict[str, MetricResult]
    protocol: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"metrics": {name: result.to_dict() for name, result in self.results.items()}, "protocol": _jsonable(self.protocol)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def __getitem__(self, metric: str) -> MetricResult:
        return self.results[metric]


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, torch.Tensor):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None  # JSON has no NaN; null means "undefined here" and the details say why
    if isinstance(obj, Path):
        return str(obj)
    return obj


@dataclass(frozen=True)
class FeatureNeed:
    """Features a metric reads: the first of ``layers`` the extractor offers (else its first layer), from the
    metric's default extractor unless ``--features`` names another; ``keep``: the features themselves (a
    *gather* statistic: k-NN, kernels, k-means), else only their Gaussian moments (a *sum* statistic);
    ``reference``: the reference goes through the same features."""

    layers: tuple[str, ...] = ("pool",)
    keep: bool = False
    reference: bool = True


@dataclass(frozen=True)
class Needs:
    """What a metric reads and keeps. ``reference``: the kind of reference it compares against (None: none);
    ``generator``: the generator itself, not samples; ``statistic``: what it accumulates; ``reduction``: how
    that statistic combines across batches and processes, ``sum`` (moments, histograms, counts: exact) or
    ``gather`` (every sample's features, for k-NN, kernels, k-means)."""

    features: FeatureNeed | None = None
    reference: str | None = None
    generator: bool = False
    statistic: str = ""
    reduction: str = "sum"

    def describe(self) -> dict[str, Any]:
        return _jsonable(dataclasses.asdict(self))


@dataclass(frozen=True)
class MetricSpec:
    """A registered metric: its name, what it needs, its options type and its CLI adapter.

    ``default_features``: the feature extractor (or classifier) it reads images with when ``--features`` is not
    given; None for metrics that use none. ``needs_generator``: it uses the generator itself (IvOM optimises
    its latents), so a samples file is refused before any work. ``accumulate(request, options, batches)``: for a
    ``sum`` statistic read from the samples themselves (not features), that statistic of some batches; what
    :meth:`ScoreRequest.summed` and a stream add up. ``writes``: what ``--out`` receives from it, ``figure`` (an
    image grid, :mod:`gan_eval.artefacts`) and/or ``arrays`` (an npz); none: ``--out`` is refused for it."""

    name: str
    evaluate: Callable[[ScoreRequest, Any], MetricResult]
    options: type
    needs_reference: bool
    summary: str
    images: bool = True
    default_features: str | None = None
    needs_generator: bool = False
    needs: Needs = field(default_factory=Needs)
    accumulate: Callable[[ScoreRequest, Any, Iterable[torch.Tensor]], Any] | None = None
    writes: tuple[str, ...] = ()

    def make_options(self, overrides: Mapping[str, Any] | None = None) -> Any:
        """Build the options dataclass from ``key=value`` overrides, converting strings to field types."""
        return fill_options(self.options, overrides, f"metric {self.name}")


@dataclass(frozen=True)
class NoOptions:
    """For metrics without tunable settings."""


METRICS: Registry[MetricSpec] = Registry("metric")


def register_metric(
    name: str,
    *,
    options: type = NoOptions,
    needs_reference: bool = False,
    summary: str = "",
    images: bool = True,
    default_features: str | None = None,
    needs_generator: bool = False,
    features: FeatureNeed | None = None,
    reference: str | None = None,
    statistic: str = "",
    reduction: str = "sum",
    accumulate: Callable[[ScoreRequest, Any, Iterable[torch.Tensor]], Any] | None = None,
    writes: tuple[str, ...] = (),
) -> Callable[[Callable[[ScoreRequest, Any], MetricResult]], Callable[[ScoreRequest, Any], MetricResult]]:
    """Decorator that registers a metric's ``evaluate(request, options)`` adapter under ``name``. ``images``:
    whether it can read images (so ``--range`` applies); False for metrics on vectors only. ``features``,
    ``reference``, ``statistic`` and ``reduction`` fill its :class:`Needs` (``reference`` defaults to "any" when
    ``needs_reference``). The other keywords are :class:`MetricSpec`'s fields."""
    if reduction not in ("sum", "gather"):
        raise ValueError(f"metric {name}: reduction must be sum or gather, not {reduction!r}")
    if not set(writes) <= {"figure", "arrays"}:
        raise ValueError(f"metric {name}: writes holds figure and/or arrays, not {writes!r}")
    needs = Needs(features, reference or ("any" if needs_reference else None), needs_generator, statistic, reduction)

    def decorate(fn: Callable[[ScoreRequest, Any], MetricResult]) -> Callable[[ScoreRequest, Any], MetricResult]:
        summary_line = summary or (fn.__doc__ or "").strip().split("\n")[0]
        METRICS.add(name, MetricSpec(name, fn, options, needs_reference, summary_line, images, default_features, needs_generator, needs, accumulate, writes))
        return fn

    return decorate
