"""``name:key=value,...`` specs, one parser for every place that takes them: references (``ring:n=6,radius=2``),
and the trainers' datasets (``folder:size=64``) and evaluators (``fid:features=pixels``)."""
from __future__ import annotations

from typing import Any

from gan_eval.errors import GanEvalError


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
    """``--set key=value`` pairs as a dict."""
    settings = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise GanEvalError(f"--set {item!r}: expected key=value, e.g. --set threshold_std=3")
        settings[key.strip()] = value.strip()
    return settings
