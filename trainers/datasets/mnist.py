"""``mnist``: MNIST digits, 1 x 28 x 28 in [0, 1]; the 60,000 training digits train, the 10,000 test digits are held out.

Files: the four IDX files from LeCun's site (``.gz`` or unzipped, or torchvision's ``MNIST/raw/`` layout), read by
:func:`gan_eval.io.mnist.load_mnist`. Folder: ``--data-dir``, else gan-eval's cache folder ``mnist``
(``$GAN_EVAL_CACHE/mnist``, else ``~/.cache/gan-eval/mnist``; ``gan-eval stacked-mnist --mnist-dir DIR --download``
fills one). Range [0, 1] (``x / 255``), the usual convention for MNIST GANs with a sigmoid output.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from gan_eval.errors import GanEvalError
from gan_eval.io.cache import cache_dir
from gan_eval.io.mnist import FILES, find_mnist_file, load_mnist
from trainers.datasets.arrays import ArrayDataset
from trainers.datasets.files import content_identity
from trainers.datasets.options import dataset_options

EXPECTED = ", ".join(f"{name}.gz" for pair in FILES.values() for name in pair)


def mnist_folder(data_dir: Path | None) -> Path:
    """``data_dir``, else the cache's ``mnist`` folder."""
    return data_dir if data_dir is not None else cache_dir() / "mnist"


def mnist_files(folder: Path) -> list[Path]:
    """The four IDX files in ``folder``; one line naming the folder and the four expected names if any is missing."""
    if not folder.is_dir():
        raise GanEvalError(f"{folder}: no such folder; pass --data-dir DIR, a folder holding the four MNIST files {EXPECTED}")
    found, missing = [], []
    for name in (name for pair in FILES.values() for name in pair):
        try:
            found.append(find_mnist_file(folder, name))
        except GanEvalError:
            missing.append(name)
    if missing:
        raise GanEvalError(
            f"{folder}: missing {', '.join(missing)} (.gz or unzipped, here or in MNIST/raw/); an MNIST folder"
            f" holds the four files {EXPECTED}; pass it with --data-dir"
        )
    return found


def mnist_identity(folder: Path) -> dict[str, Any]:
    """The content identity of the four files (their names relative to ``folder``; the folder itself is left out)."""
    return content_identity(mnist_files(folder), folder)


def digits(folder: Path, split: str) -> torch.Tensor:
    """uint8 ``[N, 28, 28]`` digits of one split (``train`` or ``test``)."""
    return torch.from_numpy(load_mnist(folder, split)[0])


class MnistDataset(ArrayDataset):
    kind = "image"
    default_evaluators = ("fid",)


def build_mnist(options: dict[str, Any], data_dir: Path | None) -> MnistDataset:
    dataset_options("mnist", options, {})
    folder = mnist_folder(data_dir)
    identity = mnist_identity(folder)
    train, test = (digits(folder, split)[:, None] for split in ("train", "test"))
    return MnistDataset("mnist", train, test, (0.0, 1.0), {"options": {}, **identity})
