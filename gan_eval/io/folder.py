"""A folder of PNG/JPEG/BMP/WebP images (searched recursively, sorted by path) as a :class:`SampleSource`.

Images are decoded with Pillow, in threads, one batch at a time; they are uint8 N x H x W x 3, or N x H x W when
every image is grayscale, and all must have the same size. The folder states its range (0..255), so nothing
reads all images up front. A file Pillow cannot decode (truncated, corrupt, not an image) is a one-line error naming
it; with ``skip_unreadable`` every file is decoded once up front instead, the unreadable ones are left out and
listed in ``skipped``, and a warning says how many.
"""
from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from gan_eval.errors import GanEvalError
from gan_eval.io.ranges import ValueRange

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


# What Pillow raises for a file it cannot decode (its PNG reader raises SyntaxError for a broken chunk).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError)


class FolderSource:
    """Images under ``root``; their ``value_range`` is declared 0..255 (uint8). ``skip_flag``: the option that leaves
    unreadable files out, named in the error for one (None where the caller has none: the trainers' ``folder``)."""

    value_range = ValueRange("0,255", "8-bit image files")

    def __init__(self, root: str | Path, threads: int = 8, skip_unreadable: bool = False, skip_flag: str | None = "--skip-unreadable") -> None:
        self.root = Path(root)
        self.skip_flag = skip_flag
        self.name = str(root)
        self.threads = threads
        self.files = sorted(p for p in self.root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not self.files:
            raise GanEvalError(f"{root}: no images ({', '.join(IMAGE_SUFFIXES)}) in this folder; check the path")
        self.skipped: list[Path] = []
        if skip_unreadable:
            self._leave_out_unreadable()
        with self._open(self.files[0]) as first:
            self.mode = "L" if first.mode in ("L", "1", "I;16", "I") else "RGB"
            self.size = first.size

    def __len__(self) -> int:
        return len(self.files)

    def _leave_out_unreadable(self) -> None:
        with ThreadPoolExecutor(self.threads) as pool:
            readable = list(pool.map(_decodes, self.files))
        self.skipped = [p for p, ok in zip(self.files, readable) if not ok]
        self.files = [p for p, ok in zip(self.files, readable) if ok]
        if not self.files:
            raise GanEvalError(f"{self.root}: none of its {len(self.skipped)} image files can be decoded; check the folder")
        if self.skipped:
            warnings.warn(f"{self.root}: skipped {len(self.skipped)} unreadable image file(s) (first: {self.skipped[0]})", stacklevel=2)

    def _open(self, path: Path):
        from PIL import Image

        try:
            return Image.open(path)
        except _DECODE_ERRORS as exc:
            raise self._unreadable(path, exc) from None

    def _unreadable(self, path: Path, exc: BaseException) -> GanEvalError:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]
        skip = f", or pass {self.skip_flag} to leave such files out" if self.skip_flag else ""
        return GanEvalError(f"{path}: not a readable image ({reason}); remove or re-save it{skip}")

    def _read(self, path: Path) -> np.ndarray:
        with self._open(path) as image:
            if image.size != self.size:
                raise GanEvalError(
                    f"{path}: size {image.size[0]}x{image.size[1]} differs from {self.size[0]}x{self.size[1]} of"
                    f" {self.files[0].name}; resize all images to one size"
                )
            try:  # Pillow decodes lazily: a truncated file fails here, not in open()
                return np.asarray(image.convert(self.mode), dtype=np.uint8)
            except _DECODE_ERRORS as exc:
                raise self._unreadable(path, exc) from None

    def batches(self, batch_size: int) -> Iterator[torch.Tensor]:
        with ThreadPoolExecutor(self.threads) as pool:
            for start in range(0, len(self.files), batch_size):
                arrays = list(pool.map(self._read, self.files[start : start + batch_size]))
                yield torch.from_numpy(np.stack(arrays))

    def array(self) -> np.ndarray:
        return np.concatenate([b.numpy() for b in self.batches(1000)])


def _decodes(path: Path) -> bool:
    """Whether Pillow decodes the whole file."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.load()
    except _DECODE_ERRORS:
        return False
    return True

