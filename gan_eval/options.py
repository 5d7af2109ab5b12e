"""The one typed ``key=value`` parser: ``--set key=value`` settings, ``name:key=value,...`` specs (references
``ring:n=6,radius=2``, the trainers' datasets ``folder:size=64`` and evaluators ``fid:features=pixels``), and
filling an options dataclass (a metric's options, a method's hyper-parameters, an evaluator's options) from them
with each value converted to its field's type."""
from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Mapping

from gan_eval.errors import GanEvalError

_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def parse_value(text: str) -> object:
    """``"3"`` -> 3, ``"0.5"`` -> 0.5, ``"true"`` -> True; anything else stays a string."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def parse_spec(spec: str, kind: str, example: str) -> tuple[str, dict[str, Any]]:
    """``"name:key=value,..."`` -> (name, options), values by :func:`parse_value`, ``-`` in keys read as ``_``;
    ``kind`` and ``example`` word the one-line error for an item that is not ``key=value``."""
    name, _, arg_text = spec.partition(":")
    options: dict[str, Any] = {}
    for item in filter(None, arg_text.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise GanEvalError(f"{kind} {spec!r}: {item!r} is not key=value; e.g. {example}")
        options[key.strip().replace("-", "_")] = parse_value(value.strip())
    return name, options


def parse_settings(items: list[str] | None) -> dict[str, str]:
    """``--set key=value`` pairs as a dict (values stay strings until :func:`fill_options` types them)."""
    settings = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise GanEvalError(f"--set {item!r}: expected key=value, e.g. --set threshold_std=3")
        settings[key.strip()] = value.strip()
    return settings


def convert(value: Any, hint: Any, what: str) -> Any:
    """``value`` as the type ``hint`` (bool, int, float, str, or ``X | None``). A string (from the command line)
    is parsed (``none`` is None where allowed); a value already typed (from :func:`parse_spec`) is checked: an int
    is a float, a bool is neither, and a string field takes any text (a file named 123 parses as a number)."""
    kinds = typing.get_args(hint) if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union else (hint,)
    if type(None) in kinds and (value is None or (isinstance(value, str) and value.lower() == "none")):
        return None
    for kind in kinds:
        if kind is type(None):
            continue
        converted = _as_kind(value, kind)
        if converted is not _NO:
            return converted
    wanted = " or ".join("none" if k is type(None) else getattr(k, "__name__", str(k)) for k in kinds)
    raise GanEvalError(f"{what}={value!r} is not {wanted}")


_NO = object()


def _as_kind(value: Any, kind: Any) -> Any:
    if kind is str:
        return value if isinstance(value, str) else str(value)
    if kind not in (bool, int, float):
        return value  # other annotations (literals, paths) are left to the dataclass
    if isinstance(value, str):
        if kind is bool:
            return value.lower() in _TRUE if value.lower() in _TRUE + _FALSE else _NO
        try:
            return kind(value)
        except ValueError:
            return _NO
    if isinstance(value, bool):
        return value if kind is bool else _NO
    if kind is int:
        return value if isinstance(value, int) else _NO
    if kind is float:
        return float(value) if isinstance(value, (int, float)) else _NO
    return _NO


def positive(default: Any) -> Any:
    """A dataclass field, with ``default``, that :func:`fill_options` refuses at zero or below (a count, a size,
    a scale): a bad value is one line before any work, not a division by zero or a failed split deep inside."""
    return dataclasses.field(default=default, metadata={"positive": True})


def check_positive(value: Any, said: str) -> Any:
    """``value`` unless it is zero or below (None passes: "unset"); ``said`` begins the one-line error, which
    ends "must be positive" (``-n 0: the number of samples``, ``metric modes: option chunk_size=0``)."""
    if value is not None and not isinstance(value, bool) and value <= 0:
        raise GanEvalError(f"{said} must be positive")
    return value


def fill_options(cls: type, overrides: Mapping[str, Any] | None, owner: str, noun: str = "option", label: str = "option") -> Any:
    """``cls`` (a dataclass) built from ``key=value`` overrides, each converted to its field's type; an unknown key
    is a one-line error listing what ``owner`` takes, and so is a value at or below zero for a :func:`positive`
    field. ``noun`` names a key in that message, ``label`` in a value's."""
    hints = typing.get_type_hints(cls)
    must_be_positive = {f.name for f in dataclasses.fields(cls) if f.metadata.get("positive")}
    kwargs = {}
    for key, value in (overrides or {}).items():
        key = key.replace("-", "_")
        if key not in hints:
            raise GanEvalError(f"{owner}: unknown {noun} {key!r}; it takes {', '.join(hints) or f'no {noun}s'}")
        kwargs[key] = convert(value, hints[key], f"{owner}: {label} {key}")
        if key in must_be_positive:
            check_positive(kwargs[key], f"{owner}: {label} {key}={kwargs[key]}")
    return cls(**kwargs)
