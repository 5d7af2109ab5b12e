"""What a ``reference=`` may be, turned into one of the forms the metrics read: a name or path (a mixture, a
statistics npz, a samples file, an image folder), a sample source (an array or tensor from Python), statistics
(:class:`~gan_eval.io.stats_file.StatsFile`, from saved or in-memory :class:`GaussianStats` / :class:`Moments`)
or a known-mode :class:`~gan_eval.references.base.Reference`.

Named statistics of the user's own data (``gan-eval stats DIR --name mydata``) live in the user cache
(:func:`gan_eval.io.cache.cache_dir` / ``references``), so ``--reference mydata`` finds them and
``gan-eval references`` lists them. A name never shadows an existing path or a built-in reference.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_eval.errors import GanEvalError
from gan_eval.io.cache import cache_dir
from gan_eval.io.samples import SampleSource, as_source
from gan_eval.io.stats_file import StatsFile, read_meta
from gan_eval.references.base import Reference
from gan_eval.stats.gaussian import GaussianStats, Moments

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def named_dir() -> Path:
    """Where named reference statistics are kept (not created here)."""
    return cache_dir() / "references"


def named_path(name: str) -> Path:
    """The statistics file of the named reference ``name`` (checked to be a plain name)."""
    from gan_eval.references import FAMILIES, REFERENCES

    if not _NAME.match(name) or name.endswith(".npz"):
        raise GanEvalError(f"--name {name!r}: use letters, digits, '_', '-' or '.', e.g. --name cifar10-train")
    if name in REFERENCES or name in FAMILIES:
        raise GanEvalError(f"--name {name}: a built-in reference has that name (see `gan-eval references`); choose another")
    return named_dir() / f"{name}.npz"


def named_references() -> dict[str, dict[str, Any]]:
    """Every named reference in the user cache and the metadata its statistics recorded."""
    folder = named_dir()
    found = {}
    for path in sorted(folder.glob("*.npz")) if folder.is_dir() else []:
        try:
            found[path.stem] = {"path": str(path), **read_meta(path)}
        except GanEvalError:  # a damaged file is listed as such, not a reason to fail the listing
            found[path.stem] = {"path": str(path), "damaged": True}
    return found


def given_reference(reference: Any) -> Any:
    """``reference`` in a form the metrics read (see the module docstring); None stays None."""
    if reference is None or isinstance(reference, (Reference, StatsFile, SampleSource)):
        return reference
    if isinstance(reference, (str, Path)):
        text = str(reference)
        if not Path(text).exists() and _NAME.match(text) and (named_dir() / f"{text}.npz").is_file():
            return str(named_dir() / f"{text}.npz")
        return text
    if isinstance(reference, GaussianStats):
        return StatsFile(reference.moments(), reference, None)
    if isinstance(reference, Moments):
        return StatsFile(reference)
    if isinstance(reference, (np.ndarray, torch.Tensor)):
        source = as_source(reference)
        source.name = "<reference array>"
        return source
    raise GanEvalError(
        f"reference: a {type(reference).__name__} is not a reference; pass a name or path, an array or tensor, GaussianStats,"
        " Moments or StatsFile"
    )

