"""Atomic writes: a result file is either the old one or the complete new one, never half-written."""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from gan_eval.errors import GanEvalError


def check_target(path: str | os.PathLike, example: str = "out.npz") -> Path:
    """``path`` as a Path unless it is an existing folder, which an output file would need to replace (one
    error line naming it, before any work when the caller checks early, and in :func:`atomic_path` always);
    ``example`` is the file name the message suggests inside it."""
    path = Path(path)
    if path.is_dir():
        raise GanEvalError(f"{path}: is a folder, not a file; name the file to write, e.g. {path / example}")
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``, on error delete it.

    The temporary file keeps ``path``'s suffix (or ``suffix``) so writers that pick a format from the
    extension (numpy, matplotlib) behave as for the final name. The result gets the permissions of the
    file it replaces, or those of a plain ``open()`` (0666 less the umask), not ``mkstemp``'s private 0600.
    """
    path = check_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix or path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, path.stat().st_mode & 0o7777 if path.exists() else _new_file_mode())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _new_file_mode() -> int:
    umask = os.umask(0)  # reading the umask means setting it; restore at once
    os.umask(umask)
    return 0o666 & ~umask


def write_with(path: str | os.PathLike, writer: Callable[[Path], Any]) -> Path:
    """Call ``writer(tmp_path)`` and atomically move the result to ``path``."""
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


def save_npz(path: str | os.PathLike, **arrays: Any) -> Path:
    """``np.savez`` written atomically (arrays only, never pickled objects)."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)

    return write_with(path, write)


def save_json(path: str | os.PathLike, obj: Any) -> Path:
    """JSON written atomically, indented, UTF-8."""
    return write_with(path, lambda tmp: tmp.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8"))
