"""The metric contract: a registered metric turns a :class:`ScoreRequest` into a :class:`MetricResult`.

A metric module defines a pure function on tensors (the Python API), an ``Options`` dataclass of its
tunable settings (``--set key=value`` on the CLI) and an ``evaluate(request, options)`` adapter that
reads the request's samples and reference and calls the pure function. It is registered with::

    @register_metric("modes", options=ModeOptions, needs_reference=True, summary="...")
    def evaluate(request: ScoreRequest, options: ModeOptions) -> MetricResult: ...

A metric that reads images through a feature extractor declares the one it uses without ``--features``
(``default_features="inception"``), which ``gan-eval metrics`` lists, and passes the same name to its code.
"""
from __future__ import annotations

import dataclasses
import json
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import numpy as np
import torch

from gan_eval.errors import GanEvalError
from gan_eval.io.ranges import ValueRange, check_comparable, holds_images, resolve_range
from gan_eval.io.samples import SampleSource
from gan_eval.registry import Registry


def _identity(items: Iterable, total: int | None = None, desc: str = "") -> Iterable:
    return items


@dataclass
class ScoreRequest:
    """Everything a metric may read. Fields a metric does not use are ignored by it.

    ``reference`` is a string the metric resolves itself (a mixture name, a statistics file, an image file).
    ``progress`` wraps long iterables (the CLI passes a tqdm bar; the core never prints).
    ``output`` is where a metric that draws or saves arrays writes them (e.g. the birthday pair grid).
    ``value_range`` and ``reference_range`` state the range of the samples and of reference images (``auto``:
    declared or inferred); metrics resolve them through :meth:`range_of`, which records each resolved range for
    the result's protocol. ``weights`` is a path to the weights of the network that reads the samples (the FID
    Inception file, the stacked-mnist digit classifier, a user extractor's state dict); None means that
    network's default. ``skip_unreadable``: leave out image files of a folder that cannot be decoded; how many
    were left out is recorded per role in ``skipped`` (by :meth:`range_of`, which every image input goes through).
    ``on_success``: writes a metric defers until the whole score has succeeded (the reference statistics cache),
    so a score that fails on its samples writes nothing.
    """

    samples: SampleSource
    reference: str | None = None
    features: str | None = None
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
        """The samples in batches of ``batch_size``, through the progress wrapper."""
        total = math.ceil(len(self.samples) / self.batch_size)
        yield from self.progress(self.samples.batches(self.batch_size), total=total, desc=desc)


@dataclass
class MetricResult:
    """A score with its protocol, so a number in a JSON file can be traced and re-run.

    ``values``: the headline numbers (shown first, in order). ``details``: per-mode tables and arrays
    (JSON-able lists). ``protocol``: what was compared, n, seed, thresholds, extractor, version.
    ``files``: paths the metric wrote.
    """

    metric: str
    values: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)
    protocol: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(dataclasses.asdict(self))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


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
class MetricSpec:
    """A registered metric: its name, what it needs, its options type and its CLI adapter.

    ``default_features``: the feature extractor (or classifier) it reads images with when ``--features`` is not
    given; None for metrics that use none. ``needs_generator``: it uses the generator itself (IvOM optimises
    its latents), so a samples file is refused before any work."""

    name: str
    evaluate: Callable[[ScoreRequest, Any], MetricResult]
    options: type
    needs_reference: bool
    summary: str
    images: bool = True
    default_features: str | None = None
    needs_generator: bool = False

    def make_options(self, overrides: Mapping[str, Any] | None = None) -> Any:
        """Build the options dataclass from ``key=value`` overrides, converting strings to field types."""
        hints = typing.get_type_hints(self.options)
        kwargs = {}
        for key, value in (overrides or {}).items():
            key = key.replace("-", "_")
            if key not in hints:
                known = ", ".join(f.name for f in dataclasses.fields(self.options)) or "none"
                raise GanEvalError(f"metric {self.name}: unknown option {key!r}; its options are: {known}")
            kwargs[key] = _convert(value, hints[key], f"metric {self.name}: option {key}")
        return self.options(**kwargs)


_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def _convert(value: Any, kind: Any, what: str) -> Any:
    """Convert a CLI string to ``kind`` (bool, int, float, str, or ``X | None``); other values pass through."""
    if not isinstance(value, str):
        return value
    args = typing.get_args(kind)
    if type(None) in args:
        if value.lower() == "none":
            return None
        kind = next(a for a in args if a is not type(None))
    try:
        if kind is bool:
            if value.lower() not in _TRUE + _FALSE:
                raise ValueError(value)
            return value.lower() in _TRUE
        if kind in (int, float):
            return kind(value)
    except ValueError:
        name = getattr(kind, "__name__", str(kind))
        raise GanEvalError(f"{what}={value!r} is not a valid {name}") from None
    return value


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
) -> Callable[[Callable[[ScoreRequest, Any], MetricResult]], Callable[[ScoreRequest, Any], MetricResult]]:
    """Decorator that registers a metric's ``evaluate(request, options)`` adapter under ``name``. ``images``:
    whether it can read images (so ``--range`` applies); False for metrics on vectors only. The other keywords
    are :class:`MetricSpec`'s fields."""

    def decorate(fn: Callable[[ScoreRequest, Any], MetricResult]) -> Callable[[ScoreRequest, Any], MetricResult]:
        summary_line = summary or (fn.__doc__ or "").strip().split("\n")[0]
        METRICS.add(name, MetricSpec(name, fn, options, needs_reference, summary_line, images, default_features, needs_generator))
        return fn

    return decorate
