"""Reading MNIST from its standard IDX files (``.gz`` or raw), as LeCun's site and torchvision's download leave them.

IDX format (http://yann.lecun.com/exdb/mnist/): a big-endian int32 magic number, 2051 for images and 2049
for labels, then one big-endian int32 per dimension (images: count, rows, cols; labels: count), then the
uint8 data, nothing after it. Every check failure is a one-line :class:`GanEvalError` naming the file.

A folder is searched for the four files directly, then in torchvision's ``<root>/MNIST/raw/`` layout.
"""
from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path
from typing import Callable

import numpy as np

from gan_eval.errors import GanEvalError

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
#: split -> (images file, labels file), the names LeCun's site and torchvision use (without ``.gz``)
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
SPLIT_SIZES = {"train": 60_000, "test": 10_000}


def read_idx(path: str | Path, magic: int) -> np.ndarray:
    """The uint8 array of one IDX file (``.gz`` or raw) whose magic number must be ``magic`` (2051 or 2049)."""
    path = Path(path)
    ndim = {IMAGES_MAGIC: 3, LABELS_MAGIC: 1}[magic]
    kind = "images" if magic == IMAGES_MAGIC else "labels"
    try:
        opener: Callable = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise GanEvalError(f"{path}: no such file; pass the folder holding the four MNIST IDX files") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise GanEvalError(f"{path}: cannot be read ({exc}); download the MNIST file again") from None
    header = 4 + 4 * ndim
    if len(data) < header:
        raise GanEvalError(f"{path}: {len(data)} bytes is shorter than an IDX {kind} header; download the file again")
    found = struct.unpack(">i", data[:4])[0]
    if found != magic:
        raise GanEvalError(
            f"{path}: magic number {found} is not {magic} (IDX {kind}); this is not an MNIST {kind} file"
        )
    shape = struct.unpack(f">{ndim}i", data[4:header])
    expected = int(np.prod(shape))
    if len(data) - header != expected:
        raise GanEvalError(
            f"{path}: header says {shape} = {expected} bytes of data but the file holds {len(data) - header};"
            " the file is truncated or corrupt, download it again"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape).copy()  # writable, as torch wants


def find_mnist_file(folder: str | Path, name: str) -> Path:
    """``name`` or ``name.gz`` in ``folder`` or ``folder/MNIST/raw`` (torchvision); raw files win over ``.gz``."""
    folder = Path(folder)
    for where in (folder, folder / "MNIST" / "raw"):
        for candidate in (where / name, where / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    raise GanEvalError(
        f"{folder}: no {name}[.gz] here nor in {folder / 'MNIST' / 'raw'}; pass the folder holding the four"
        " MNIST IDX files, or add --download"
    )


def load_mnist(folder: str | Path, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Images (uint8 N x 28 x 28, 0 = background) and labels (uint8 N) of one split, ``"train"`` or ``"test"``."""
    if split not in FILES:
        raise GanEvalError(f"MNIST split {split!r} is unknown; use one of {', '.join(FILES)}")
    image_file, label_file = (find_mnist_file(folder, name) for name in FILES[split])
    images = read_idx(image_file, IMAGES_MAGIC)
    labels = read_idx(label_file, LABELS_MAGIC)
    if images.shape[1:] != (28, 28):
        raise GanEvalError(f"{image_file}: images are {images.shape[1]}x{images.shape[2]}, MNIST's are 28x28")
    if len(images) != len(labels):
        raise GanEvalError(f"{image_file} holds {len(images)} images but {label_file} {len(labels)} labels; re-download both")
    if labels.size and labels.max() > 9:
        raise GanEvalError(f"{label_file}: label {int(labels.max())} is not a digit 0..9; this is not MNIST")
    return images, labels


def download_mnist(folder: str | Path) -> Path:
    """Fetch MNIST into ``folder/MNIST/raw`` with torchvision (optional dependency; needs internet access)."""
    try:
        from torchvision.datasets import MNIST
    except ImportError:
        raise GanEvalError(
            "--download needs torchvision (pip install torchvision); or fetch the four IDX files yourself"
        ) from None
    try:
        MNIST(str(folder), train=True, download=True)
        MNIST(str(folder), train=False, download=True)
    except (OSError, RuntimeError) as exc:
        raise GanEvalError(f"downloading MNIST into {folder} failed ({exc}); check the connection or fetch the files yourself") from None
    return Path(folder)
