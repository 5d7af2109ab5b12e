"""gan-eval: mode collapse and sample quality metrics for generative models.

>>> import gan_eval
>>> gan_eval.score("samples.npz", "modes", reference="ring8")   # doctest: +SKIP
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

from gan_eval.errors import GanEvalError  # noqa: E402

#: Public names and their modules, imported on first use (PEP 562): ``import gan_eval`` (and every ``gan-eval``
#: command's start-up, ``--help`` included) does not pay for torch, scipy and the metrics until they are used.
_LAZY = {
    "METRICS": "gan_eval.metrics", "MetricResult": "gan_eval.metrics", "mode_coverage": "gan_eval.metrics",
    "REFERENCES": "gan_eval.references", "get_reference": "gan_eval.references", "score": "gan_eval.api",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'gan_eval' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = ["METRICS", "REFERENCES", "GanEvalError", "MetricResult", "__version__", "get_reference", "mode_coverage", "score"]
