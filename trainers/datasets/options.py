"""The options of a dataset spec (``folder:size=64,crop=108``), checked against what the dataset takes."""
from __future__ import annotations

from typing import Any

from gan_eval.errors import GanEvalError


def dataset_options(name: str, given: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """``defaults`` updated with ``given``; an option the dataset does not take is a one-line error naming those it does."""
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        takes = ", ".join(defaults) if defaults else "no options"
        raise GanEvalError(f"dataset {name!r}: unknown option {unknown[0]!r}; it takes {takes}")
    return {**defaults, **given}


def fraction_option(name: str, key: str, value: Any) -> float:
    """An option that is a fraction in [0, 1), e.g. ``held_out=0.1``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise GanEvalError(f"dataset {name!r}: {key}={value!r} must be a fraction in [0, 1), e.g. {key}=0.1")
    return float(value)
