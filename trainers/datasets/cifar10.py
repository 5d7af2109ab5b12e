"""``cifar10``: CIFAR-10 (Krizhevsky 2009), 3 x 32 x 32 in [-1, 1]; the 50,000 training images train, the 10,000
test images are held out (FID against the test split).

Folder (``--data-dir``): the one holding ``cifar-10-batches-bin`` or ``cifar-10-batches-py`` (as the archives
from https://www.cs.toronto.edu/~kriz/cifar.html unpack), or that batches folder itself; the binary layout is
read when both are there. Both layouts give identical tensors:

* binary: ``data_batch_1.bin`` .. ``data_batch_5.bin`` and ``test_batch.bin``, each 10,000 records of 3073 bytes:
  1 label byte (0..9), then 3072 pixel bytes: the R plane, the G plane, the B plane, each 32 x 32 row-major;
* python: ``data_batch_1`` .. ``data_batch_5`` and ``test_batch``, pickles (Python 2) of a dict whose ``data``
  is a uint8 10000 x 3072 array in the same pixel order and ``labels`` a list of ints. A pickle can run any code
  while it loads, so these are read only through :class:`ArraysOnlyUnpickler`, which resolves no global but the
  three a numpy array needs (``_reconstruct``, ``ndarray``, ``dtype``); dicts, lists, ints, str and bytes take
  no global. Anything else is refused, before it is built, with one line naming the file.

Every batch must hold the same number of records (10,000 in the real files), so a batch truncated at a record
boundary is caught as well as one that is not. Range: ``x / 127.5 - 1`` in [-1, 1], the DCGAN / SN-GAN
convention (a tanh generator); the papers' CIFAR-10 FIDs compare 8-bit images, which this maps one to one.
"""
from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_eval.errors import GanEvalError, first_line
from trainers.datasets.arrays import ArrayDataset
from trainers.datasets.files import content_identity
from trainers.datasets.options import dataset_options

RECORD = 1 + 3 * 32 * 32
TRAIN = [f"data_batch_{i}" for i in range(1, 6)]
TEST = "test_batch"
#: layout folder -> file suffix, in the order they are looked for
LAYOUTS = {"cifar-10-batches-bin": ".bin", "cifar-10-batches-py": ""}
EXPECTED = (
    "cifar-10-batches-bin/ (data_batch_1.bin .. data_batch_5.bin, test_batch.bin) or cifar-10-batches-py/"
    " (data_batch_1 .. data_batch_5, test_batch) from https://www.cs.toronto.edu/~kriz/cifar.html"
)

try:  # numpy >= 2 moved the module; pickles written under either name must load
    from numpy._core.multiarray import _reconstruct
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core.multiarray import _reconstruct  # type: ignore[no-redef]

#: the only globals a pickled numpy array references (protocols 0-4)
ARRAY_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class ArraysOnlyUnpickler(pickle.Unpickler):
    """An unpickler that builds dicts, lists, numbers, strings, bytes and numpy arrays, and nothing else."""

    def __init__(self, file: Any, path: Path) -> None:
        super().__init__(file, encoding="bytes")  # the files were written by Python 2: its str is bytes
        self.path = path

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in ARRAY_GLOBALS:
            return ARRAY_GLOBALS[(module, name)]
        raise GanEvalError(
            f"{self.path}: the pickle references {module}.{name}, which a CIFAR-10 batch (a dict of arrays and"
            " lists) never does; refused unread. Use the original file, or the binary cifar-10-batches-bin"
        )

    def persistent_load(self, pid: Any) -> Any:
        raise GanEvalError(f"{self.path}: the pickle holds a persistent reference, which a CIFAR-10 batch never does; refused unread")


def find_layout(data_dir: Path) -> tuple[Path, str]:
    """The batches folder and its file suffix: ``data_dir``'s layout folder (binary first), or ``data_dir`` itself
    when it is one or holds the batch files; one line naming the folder and the expected files if there is none."""
    if not data_dir.is_dir():
        raise GanEvalError(f"{data_dir}: no such folder; pass --data-dir DIR holding {EXPECTED}")
    for folder, suffix in LAYOUTS.items():
        if (data_dir / folder).is_dir():
            return data_dir / folder, suffix
        if data_dir.name == folder:
            return data_dir, suffix
    for suffix in LAYOUTS.values():
        if any((data_dir / f"{name}{suffix}").is_file() for name in (*TRAIN, TEST)):
            return data_dir, suffix
    raise GanEvalError(f"{data_dir}: no CIFAR-10 batches here; expected {EXPECTED}")


def read_binary(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images ``[N, 3, 32, 32]`` and labels ``[N]`` of one binary batch."""
    data = np.fromfile(path, dtype=np.uint8)
    if data.size == 0 or data.size % RECORD:
        raise GanEvalError(
            f"{path}: {data.size} bytes is not a whole number of {RECORD}-byte records (1 label byte + 3072 pixel"
            " bytes; CIFAR-100's are 3074): truncated or not a CIFAR-10 binary batch, download it again"
        )
    records = data.reshape(-1, RECORD)
    return records[:, 1:].reshape(-1, 3, 32, 32), records[:, 0]


def read_pickled(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images ``[N, 3, 32, 32]`` and labels ``[N]`` of one python batch, through :class:`ArraysOnlyUnpickler`."""
    try:
        with open(path, "rb") as f:
            batch = ArraysOnlyUnpickler(f, path).load()
    except GanEvalError:
        raise
    except Exception as exc:  # a broken pickle raises almost anything (EOFError, UnpicklingError, ValueError, ...)
        raise GanEvalError(f"{path}: not a readable CIFAR-10 python batch ({first_line(exc)}); download it again") from None
    if isinstance(batch, dict):
        batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
    data = batch.get("data") if isinstance(batch, dict) else None
    labels = np.asarray(batch.get("labels", []) if isinstance(batch, dict) else [])
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != RECORD - 1 or not len(data):
        found = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise GanEvalError(f"{path}: 'data' is {found}, not a uint8 N x 3072 array (N > 0); this is not a CIFAR-10 python batch")
    if labels.shape != (len(data),) or labels.dtype.kind not in "iu":
        raise GanEvalError(f"{path}: 'labels' is not a list of {len(data)} integers; this is not a CIFAR-10 python batch")
    return data.reshape(-1, 3, 32, 32), labels


def read_batches(folder: Path, suffix: str) -> tuple[list[Path], torch.Tensor, torch.Tensor]:
    """The six files, the training images and the test images (uint8 ``[N, 3, 32, 32]``)."""
    files = [folder / f"{name}{suffix}" for name in (*TRAIN, TEST)]
    missing = [p.name for p in files if not p.is_file()]
    if missing:
        raise GanEvalError(f"{folder}: no {', '.join(missing)}; expected {EXPECTED}")
    read = read_binary if suffix else read_pickled
    batches = [read(path) for path in files]
    for path, (images, labels) in zip(files, batches):
        if len(images) != len(batches[0][0]):
            raise GanEvalError(
                f"{path}: {len(images)} records but {files[0].name} has {len(batches[0][0])}; a batch is truncated, download it again"
            )
        outside = labels[(labels < 0) | (labels > 9)]
        if outside.size:
            raise GanEvalError(f"{path}: label {int(outside[0])} is not a class 0..9; this is not CIFAR-10")
    train = torch.from_numpy(np.concatenate([images for images, _ in batches[:-1]]))
    return files, train, torch.from_numpy(np.ascontiguousarray(batches[-1][0]))


class Cifar10Dataset(ArrayDataset):
    kind = "image"
    default_evaluators = ("fid",)


def build_cifar10(options: dict[str, Any], data_dir: Path | None) -> Cifar10Dataset:
    dataset_options("cifar10", options, {})
    if data_dir is None:
        raise GanEvalError(f"dataset 'cifar10' reads the user's copy: pass --data-dir DIR holding {EXPECTED}")
    folder, suffix = find_layout(data_dir)
    files, train, test = read_batches(folder, suffix)
    identity = {"options": {}, "layout": "binary" if suffix else "python", **content_identity(files, folder)}
    return Cifar10Dataset("cifar10", train, test, (-1.0, 1.0), identity)
