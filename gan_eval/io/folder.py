"""A folder of PNG/JPEG/BMP/WebP images (searched recursively, sorted by path) as a :class:`SampleSource`.

Images are decoded with Pillow, in threads, one batch at a time; they are uint8 N x H x W x 3, or N x H x W when
every image is grayscale, and all must have the same size. The folder states its range (0..255), so nothing
reads all images up front.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from gan_eval.errors import GanEvalError
from gan_eval.io.ranges import ValueRange

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


class FolderSource:
    """Images under ``root``; their ``value_range`` is declared 0..255 (uint8)."""

    value_range = ValueRange("0,255", "8-bit image files")

    def __init__(self, root: str | Path, threads: int = 8) -> None:
        self.root = Path(root)
        self.name = str(root)
        self.threads = threads
        self.files = sorted(p for p in self.root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not self.files:
            raise GanEvalError(f"{root}: no images ({', '.join(IMAGE_SUFFIXES)}) in this folder; check the path")
        with self._open(self.files[0]) as first:
            self.mode = "L" if first.mode in ("L", "1", "I;16", "I") else "RGB"
            self.size = first.size

    def __len__(self) -> int:
        return len(self.files)

    @staticmethod
    def _open(path: Path):
        from PIL import Image, UnidentifiedImageError

        try:
            return Image.open(path)
        except (UnidentifiedImageError, OSError) as exc:
            raise GanEvalError(f"{path}: not a readable image ({exc}); remove or re-save it") from None

    def _read(self, path: Path) -> np.ndarray:
        with self._open(path) as image:
            if image.size != self.size:
                raise GanEvalError(
                    f"{path}: size {image.size[0]}x{image.size[1]} differs from {self.size[0]}x{self.size[1]} of"
                    f" {self.files[0].name}; resize all images to one size"
                )
            return np.asarray(image.convert(self.mode), dtype=np.uint8)

    def batches(self, batch_size: int) -> Iterator[torch.Tensor]:
        with ThreadPoolExecutor(self.threads) as pool:
            for start in range(0, len(self.files), batch_size):
                arrays = list(pool.map(self._read, self.files[start : start + batch_size]))
                yield torch.from_numpy(np.stack(arrays))

    def array(self) -> np.ndarray:
        return np.concatenate([b.numpy() for b in self.batches(1000)])
