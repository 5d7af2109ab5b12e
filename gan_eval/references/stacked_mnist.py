"""Stacked MNIST: three MNIST digits as the three channels of one image, 10^3 = 1000 modes.

As the papers define it (see ``PROTOCOLS.md`` in the project's shared notes): VEEGAN (Srivastava et al. 2017,
Sec. 5.2) and PacGAN's code for "the VEEGAN setting" (Lin et al. 2018) draw each channel independently and
uniformly from a pool of MNIST digits; the mode of a sample is the triple of its digits (a, b, c) of channels
(0, 1, 2), labelled ``100 a + 10 b + c``.

Pools (:data:`POOLS`): ``"train+test"``, the 60,000 training + 10,000 test images (PacGAN's VEEGAN setting,
the default); ``"train"``, the 60,000 training images (the unrolled-GAN setting, Metz et al. 2017, which
PacGAN's Table 3 follows); ``"test"``, the 10,000 test images (digits the bundled classifier never saw,
used by the tests).

Sizes: 28 x 28, or 32 x 32 made by zero-padding each digit with 2 pixels on every side (MNIST digits are on
a black background, so the padding is background; the classifier crops it back off).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from gan_eval.errors import GanEvalError
from gan_eval.io.mnist import load_mnist

#: pool name -> the MNIST splits it concatenates, in this order
POOLS = {"train+test": ("train", "test"), "train": ("train",), "test": ("test",)}
SIZES = (28, 32)
N_MODES = 1000


@dataclass
class StackedMnist:
    """``images``: uint8 N x 3 x size x size; ``digits``: int64 N x 3 (the digit of each channel);
    ``labels``: int64 N, ``100 * digits[:, 0] + 10 * digits[:, 1] + digits[:, 2]``."""

    images: torch.Tensor
    digits: torch.Tensor

    @property
    def labels(self) -> torch.Tensor:
        return triple_labels(self.digits)


def triple_labels(digits: torch.Tensor) -> torch.Tensor:
    """Mode index ``100 a + 10 b + c`` of each row (a, b, c) of an N x 3 digit tensor."""
    return digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2]


def digit_pool(mnist_dir: str | Path, pool: str = "train+test") -> tuple[np.ndarray, np.ndarray]:
    """The MNIST images (uint8 N x 28 x 28) and labels of a named pool (see :data:`POOLS`)."""
    if pool not in POOLS:
        raise GanEvalError(f"Stacked-MNIST pool {pool!r} is unknown; use one of {', '.join(POOLS)}")
    parts = [load_mnist(mnist_dir, split) for split in POOLS[pool]]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def build_stacked(
    images: np.ndarray | torch.Tensor,
    labels: np.ndarray | torch.Tensor,
    n: int,
    *,
    seed: int = 0,
    size: int = 28,
) -> StackedMnist:
    """``n`` Stacked-MNIST samples from a digit pool (uint8 M x 28 x 28 and its labels), deterministic from ``seed``.

    Each of the ``3 n`` channels is an independent uniform draw (with replacement) from the pool, drawn on the
    CPU with a seeded ``torch.Generator`` (row-major: sample 0 channels 0, 1, 2, then sample 1, ...).
    """
    if size not in SIZES:
        raise GanEvalError(f"Stacked-MNIST size {size} is not one of {SIZES}; 32 pads each digit by 2 px")
    images = torch.as_tensor(images)
    labels = torch.as_tensor(labels).to(torch.int64)
    if images.dtype != torch.uint8 or images.ndim != 3 or len(images) != len(labels) or len(images) == 0:
        raise GanEvalError(f"digit pool: expected uint8 M x H x W images with M labels, got {tuple(images.shape)} {images.dtype}")
    generator = torch.Generator().manual_seed(seed)
    index = torch.randint(len(images), (n, 3), generator=generator)
    stacked = images[index]  # n x 3 x 28 x 28
    if size == 32:
        stacked = F.pad(stacked, (2, 2, 2, 2))
    return StackedMnist(images=stacked.contiguous(), digits=labels[index])
