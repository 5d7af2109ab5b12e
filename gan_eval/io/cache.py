"""The cache of reference statistics: an image file or folder's features statistics, kept so that scoring many
checkpoints against one reference (CIFAR-10's 50k images, say) extracts the reference features once.

Location: ``$GAN_EVAL_CACHE``, else ``$XDG_CACHE_HOME/gan-eval``, else ``~/.cache/gan-eval``. An entry is keyed by
the reference's content (a file's sha256; for a folder, every file's relative name, size and modification time)
and by everything that changes the numbers: the extractor's description (name, weights hash, resize), the layer,
whether features are kept, and the device type (CPU and CUDA sums differ in the last bits).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20


def cache_dir() -> Path:
    """The gan-eval cache folder (not created here)."""
    if os.environ.get("GAN_EVAL_CACHE"):
        return Path(os.environ["GAN_EVAL_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "gan-eval"


def content_fingerprint(path: str | Path) -> str:
    """sha256 of a file's bytes, or of a folder's (relative name, size, mtime_ns) list."""
    path = Path(path)
    digest = hashlib.sha256()
    if path.is_dir():
        for item in sorted(p for p in path.rglob("*") if p.is_file()):
            st = item.stat()
            digest.update(f"{item.relative_to(path).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    else:
        with open(path, "rb") as f:
            while block := f.read(_CHUNK):
                digest.update(block)
    return digest.hexdigest()


def reference_stats_path(reference: str | Path, identity: dict[str, Any]) -> Path:
    """Where the statistics of ``reference`` under ``identity`` (extractor, layer, ...) are cached."""
    key = json.dumps({"content": content_fingerprint(reference), **identity}, sort_keys=True, default=str)
    return cache_dir() / "reference-stats" / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.npz"
