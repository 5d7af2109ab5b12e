"""Human-readable tables of results for the terminal (``--json`` bypasses this)."""
from __future__ import annotations

import dataclasses
import typing
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:  # the metrics (and torch) load only when a result is drawn
    from gan_eval.metrics import MetricResult
    from gan_eval.metrics.base import Results


def format_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.6g}"
    return str(value)


def dataclass_options(cls: type) -> list[str]:
    """A settings dataclass's fields as ``name=default (type)`` strings."""
    hints = typing.get_type_hints(cls)
    return [f"{f.name}={f.default!r} ({getattr(hints[f.name], '__name__', str(hints[f.name]))})" for f in dataclasses.fields(cls)]


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain, aligned text table: numbers to the right, text (and the first column) to the left."""
    cells = [[str(h) for h in headers]] + [[format_value(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [j > 0 and all(isinstance(row[j], (int, float)) or row[j] is None for row in rows) for j in range(len(headers))]
    lines = ["  ".join(c.rjust(w) if numeric[j] else c.ljust(w) for j, (c, w) in enumerate(zip(row, widths))).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render(result: MetricResult, label: str | None = None) -> str:
    """Headline values as a one-row table, then each column-table found in ``details``."""
    parts = []
    heads = list(result.values)
    parts.append(table(["samples", *heads], [[label or result.protocol.get("samples", ""), *result.values.values()]]))
    for name, detail in result.details.items():
        if isinstance(detail, dict) and detail and all(isinstance(v, list) for v in detail.values()):
            lengths = {len(v) for v in detail.values()}
            if len(lengths) == 1 and next(iter(lengths)) <= 1000:
                n = lengths.pop()
                rows = [[i, *(_cell(col[i]) for col in detail.values())] for i in range(n)]
                parts.append(f"{name}:\n" + table(["#", *detail], rows))
    for path in result.files:
        parts.append(f"wrote {path}")
    parts.extend(f"note: {note}" for note in preprocessing_notes(result.protocol))
    return "\n\n".join(parts)


def render_results(results: Results, label: str) -> str:
    """Several metrics of one call as one table (metric, value name, value), then each metric's files and notes."""
    rows = [[name, key, value] for name, result in results.results.items() for key, value in result.values.items()]
    parts = [f"{label}:\n" + table(["metric", "value", ""], rows)]
    parts += [f"wrote {path}" for result in results.results.values() for path in result.files]
    notes = [note for result in results.results.values() for note in preprocessing_notes(result.protocol)]
    parts += [f"note: {note}" for note in dict.fromkeys(notes)]
    return "\n\n".join(parts)


def preprocessing_notes(protocol: dict[str, Any]) -> list[str]:
    """What preprocessing changed in the images (the ``changed`` lists the size policy leaves in the protocol and
    in the extractor's description, :mod:`gan_eval.io.resize`), each with how to choose otherwise."""
    found = [*protocol.get("changed", [])]
    for value in protocol.values():
        if isinstance(value, dict):
            found.extend(value.get("changed", []))
    return [
        f"{note}; --set resize=crop|resize chooses, and the reference should be made with the generator's own"
        " preprocessing (README: Preprocessing)"
        for note in dict.fromkeys(found)
    ]


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return "(" + ", ".join(format_value(v) for v in value) + ")"
    return value
