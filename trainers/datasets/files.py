"""The content identity of a dataset's files, for a run's configuration: names, sizes and sha256 prefixes.

A run records *what* it trained on, not *where* it was: the folder's path is left out, so moving the data does
not break a resume, while a changed or different file changes the identity. Each file's sha256 is computed once
per process (keyed by its resolved path, size and modification time), so describing a dataset twice, or two
datasets over the same files (``mnist`` and ``stacked-mnist``), reads the bytes once.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Sequence

#: hex digits of sha256 kept: 64 bits, enough to tell data sets apart (this is an identity, not a signature)
PREFIX = 16
#: up to this many files are listed one by one; beyond it (an image folder) a count, total size and one digest
LISTED = 16
_CHUNK = 1 << 20
_DIGESTS: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """The sha256 hex digest of a file's bytes, memoised per process."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while block := f.read(_CHUNK):
                digest.update(block)
        _DIGESTS[key] = digest.hexdigest()
    return _DIGESTS[key]


def content_identity(files: Sequence[Path], root: Path) -> dict[str, Any]:
    """``{"files": [{"name", "bytes", "sha256"}, ...]}`` with names relative to ``root``; for more than
    :data:`LISTED` files, ``{"files": count, "bytes": total, "sha256": digest of the name/size/sha256 lines}``."""
    rows = [(p.relative_to(root).as_posix(), p.stat().st_size, file_sha256(p)) for p in files]
    if len(rows) <= LISTED:
        return {"files": [{"name": name, "bytes": size, "sha256": sha[:PREFIX]} for name, size, sha in rows]}
    digest = hashlib.sha256("".join(f"{name}\0{size}\0{sha}\n" for name, size, sha in rows).encode())
    return {"files": len(rows), "bytes": sum(size for _, size, _ in rows), "sha256": digest.hexdigest()[:PREFIX]}
