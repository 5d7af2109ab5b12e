"""The value range of an image input, resolved once by one rule for every metric, ``stats`` and the streaming FID.

Ranges: ``0,1`` and ``-1,1`` (floats), ``0,255`` (uint8, or floats when stated). Every image input -- the samples,
a generator's outputs, reference images, IvOM's test images -- gets one :class:`ValueRange`, which says where it
came from and is stated in the result's protocol (``value_range``), found in this order:

1. stated: ``--range`` for the samples, ``--reference-range`` for the reference. Checked against the data (every
   value must lie in it; uint8 data is 0..255 and nothing else); a statement that contradicts what the input
   declares (below) is an error, never an override.
2. declared by the input: uint8 arrays and image folders are 0..255; a generator's latent spec (its JSON sidecar)
   may hold ``value_range``.
3. inferred from the data (all values of an array; a generator's probe samples, with every later batch checked to
   fit): values with a negative are ``-1,1``; values within [0, 1] are read as ``0,1``. Floats beyond [-1, 1] are
   not guessed at: 0..255 floats must be stated.

Comparisons (samples against reference images, a generator against test images). The data of one input cannot
tell a [0, 1] input from a [-1, 1] one that never went negative. When both sides were inferred and disagree (one
has negatives, the other none) that doubt decides whether they are on one scale, so the comparison is refused
with one line asking for the ranges. Sides that were stated or declared may differ (a tanh generator against
uint8 test images); two inferred sides that agree are read by the same rule, so they are compared on one scale
whichever reading is true (unless exactly one of them is a [-1, 1] input with no negative value anywhere, which no
data can reveal: the protocol marks every inferred range as such).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from gan_eval.errors import GanEvalError
from gan_eval.io.images import check_image_shape

RANGES = ("0,1", "-1,1", "0,255")
CHOICES = ("auto", *RANGES)
_BOUNDS = {"0,1": (0.0, 1.0), "-1,1": (-1.0, 1.0), "0,255": (0.0, 255.0)}


@dataclass(frozen=True)
class ValueRange:
    """A resolved range (one of :data:`RANGES`), where it came from, and whether it was inferred from data."""

    range: str
    origin: str
    inferred: bool = False

    def describe(self) -> dict[str, str]:
        """For a result's protocol."""
        return {"range": self.range, "from": self.origin}

    def to_meta(self) -> dict[str, Any]:
        """For a statistics file's metadata (flat keys; ``value_range`` as files before these keys had it)."""
        return {"value_range": self.range, "value_range_from": self.origin, "value_range_inferred": self.inferred}

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> ValueRange | None:
        """The range recorded by :meth:`to_meta`; None where a file records none (pytorch-fid/TTUR statistics)."""
        if meta.get("value_range") not in RANGES:
            return None
        return cls(meta["value_range"], meta.get("value_range_from", "recorded in the statistics file"), bool(meta.get("value_range_inferred")))


def parse_range(text: str, option: str = "--range") -> str:
    """``text`` as one of :data:`CHOICES` (spaces ignored), else a one-line error naming ``option``."""
    value = str(text).replace(" ", "")
    if value not in CHOICES:
        raise GanEvalError(f"{option} {text!r} is not a value range; use one of {', '.join(CHOICES)} (auto: declared or inferred)")
    return value


def declared(text: str, origin: str) -> ValueRange:
    """A range an input declares (e.g. ``value_range`` in a generator's JSON), validated."""
    value = parse_range(text, f"value_range ({origin})")
    if value == "auto":
        raise GanEvalError(f"value_range ({origin}) must be one of {', '.join(RANGES)}, not auto")
    return ValueRange(value, origin)


def holds_images(source: Any) -> bool:
    """Whether a sample source holds images (N x H x W, N x C x H x W, N x H x W x C) rather than N x D vectors."""
    if getattr(source, "value_range", None) is not None:
        return True
    shape = getattr(source, "sample_shape", None)  # a generator knows it from its probe
    return len(shape) >= 2 if shape is not None else source.array().ndim >= 3


def resolve_range(source: Any, stated: ValueRange | str = "auto", option: str = "--range") -> ValueRange:
    """The value range of an image source: ``stated`` (checked), else declared by the source, else inferred
    (see the module docstring). A :class:`ValueRange` passes through, so callers may resolve once and hand it on.

    A source may carry ``value_range`` (a declared :class:`ValueRange`: folders, generators with a spec) and
    ``probe_span`` (a generator's (min, max) over its probe samples); otherwise its array is read.
    """
    if isinstance(stated, ValueRange):
        return stated
    stated = parse_range(stated, option)
    name = source.name
    if not holds_images(source):
        shape = "x".join(map(str, source.array().shape))
        fix = f"drop {option}" if stated != "auto" else "pass images N x H x W, N x C x H x W or N x H x W x C"
        raise GanEvalError(f"{name}: holds {shape} vectors, not images, so it has no value range; {fix}")
    own = getattr(source, "value_range", None)
    if own is not None:
        if stated not in ("auto", own.range):
            raise GanEvalError(f"{name}: {option} {stated} contradicts its range {own.range} ({own.origin}); drop {option}")
        return own
    shape = getattr(source, "sample_shape", None)  # a generator's, from its probe; else the array's
    check_image_shape((1, *shape) if shape is not None else source.array().shape, name)
    lo, hi, is_uint8, evidence = _span(source)
    if is_uint8:
        if stated not in ("auto", "0,255"):
            raise GanEvalError(f"{name}: uint8 images are 0..255, but {option} {stated} was given; drop {option}")
        return ValueRange("0,255", "uint8 data")
    if stated != "auto":
        check_within(lo, hi, stated, name, f"{option} {stated}", evidence)
        return ValueRange(stated, option)
    return infer_range(lo, hi, name, evidence, option)


def infer_range(lo: float, hi: float, name: str, evidence: str, option: str = "--range") -> ValueRange:
    """The range of floats spanning [lo, hi]: ``-1,1`` when any is negative, else ``0,1`` (module docstring)."""
    if lo >= 0.0 and hi <= 1.0:
        return ValueRange("0,1", f"inferred from {evidence}: no negative values", inferred=True)
    if lo >= -1.0 and hi <= 1.0:
        return ValueRange("-1,1", f"inferred from {evidence}: negative values", inferred=True)
    fix = f"state {option} 0,255" if lo >= 0.0 and hi <= 255.0 else "rescale them to [0, 1] or [-1, 1], or save uint8"
    raise GanEvalError(f"{name}: float values span [{lo:.4g}, {hi:.4g}] ({evidence}), outside [0, 1] and [-1, 1]; {fix}")


def check_within(lo: float, hi: float, value_range: str, name: str, what: str, evidence: str = "the data") -> None:
    """One-line error unless [lo, hi] lies within ``value_range`` (``what`` says who stated it)."""
    low, high = _BOUNDS[value_range]
    if lo < low or hi > high:
        raise GanEvalError(f"{name}: values span [{lo:.4g}, {hi:.4g}] ({evidence}), outside {what}; state the range they are in")


def check_batch(batch: torch.Tensor, value_range: ValueRange, name: str) -> None:
    """Every batch read must lie within the range its input was resolved to (a generator's range rests on a probe)."""
    if batch.dtype != torch.uint8 and batch.numel():
        check_within(float(batch.min()), float(batch.max()), value_range.range, name, f"its range {value_range.range} ({value_range.origin})", "a batch")


def check_comparable(sides: dict[str, tuple[ValueRange, str]]) -> None:
    """Refuse two inferred ranges that disagree (module docstring). ``sides``: role -> (range, option stating it)."""
    if len(sides) < 2 or not all(r.inferred for r, _ in sides.values()) or len({r.range for r, _ in sides.values()}) == 1:
        return
    found = " but ".join(f"{role} {r.range} ({r.origin})" for role, (r, _) in sides.items())
    options = " and ".join(f"{option} R" for _, option in sides.values())
    raise GanEvalError(
        f"value ranges inferred from data disagree: {found}; data without negatives may be a [-1, 1] input that never"
        f" went negative, so state them: {options} (R: {', '.join(RANGES)})"
    )


def _span(source: Any) -> tuple[float, float, bool, str]:
    """(min, max, is uint8, what they were measured on) of a source's values."""
    probe = getattr(source, "probe_span", None)
    if probe is not None:
        return probe[0], probe[1], False, probe[2]
    array = source.array()
    if array.dtype == np.uint8:
        return 0.0, 255.0, True, "the data"
    return float(array.min()), float(array.max()), False, "the data"
