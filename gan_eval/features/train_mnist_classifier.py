"""Training the bundled MNIST classifier (:mod:`gan_eval.features.mnist_classifier`), deterministically from a seed.

Recipe (the defaults of :class:`TrainSettings`): the 60,000 MNIST training images only; batch 128; AdamW
(lr 2e-3, weight decay 1e-4) with the learning rate following a cosine from 2e-3 to 0 over all steps;
each training image shifted by a random whole number of pixels in [-2, 2] along each axis (zero fill),
a standard light augmentation for MNIST; 6 epochs. Run on the CPU with a fixed thread count and
``torch.use_deterministic_algorithms(True)``, the same seed gives the same weights; every random draw
(initialisation, order, shifts, dropout) comes from the seed.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from gan_eval.features.mnist_classifier import MnistNet


@dataclass(frozen=True)
class TrainSettings:
    epochs: int = 6
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 1e-4
    max_shift: int = 2
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def as_unit_batch(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 N x 28 x 28 -> float32 N x 1 x 28 x 28 in [0, 1]."""
    return torch.as_tensor(images).to(torch.float32).div_(255.0).unsqueeze(1)


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each image of N x 1 x H x W by its own whole-pixel offset in [-max_shift, max_shift]^2, zero fill."""
    if max_shift == 0:
        return x
    n, _, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, n), generator=generator)
    rows = (dy[:, None] + torch.arange(h))[:, :, None]
    cols = (dx[:, None] + torch.arange(w))[:, None, :]
    return padded[torch.arange(n)[:, None, None], 0, rows, cols].unsqueeze(1)


def train_classifier(
    images: np.ndarray | torch.Tensor,
    labels: np.ndarray | torch.Tensor,
    settings: TrainSettings = TrainSettings(),
    progress: Callable[..., Iterable] | None = None,
) -> dict[str, torch.Tensor]:
    """Train :class:`MnistNet` on uint8 images (N x 28 x 28) and labels (N); returns its state dict (CPU).

    The caller's global RNG state is left untouched (the run works inside ``torch.random.fork_rng``).
    """
    x_all = as_unit_batch(images)
    y_all = torch.as_tensor(labels).to(torch.int64)
    steps_per_epoch = math.ceil(len(x_all) / settings.batch_size)
    total_steps = settings.epochs * steps_per_epoch
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(settings.seed)  # initialisation and dropout
            data_rng = torch.Generator().manual_seed(settings.seed + 1)  # order and shifts
            net = MnistNet()
            opt = torch.optim.AdamW(net.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
            sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 0.5 * (1 + math.cos(math.pi * step / total_steps)))
            batches: Iterable[torch.Tensor] = _batch_indices(len(x_all), settings, data_rng)
            if progress is not None:
                batches = progress(batches, total=total_steps, desc="training")
            net.train()
            for idx in batches:
                x = random_shift(x_all[idx], settings.max_shift, data_rng)
                loss = F.cross_entropy(net(x)["logits"], y_all[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
    finally:
        torch.use_deterministic_algorithms(was_deterministic)
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def _batch_indices(n: int, settings: TrainSettings, data_rng: torch.Generator) -> Iterator[torch.Tensor]:
    """The indices of every batch of every epoch, each epoch's order drawn from ``data_rng`` as it starts
    (between the last batch's shifts and the next batch's, as a nested loop would: the same weights)."""
    for _ in range(settings.epochs):
        order = torch.randperm(n, generator=data_rng)
        for start in range(0, n, settings.batch_size):
            yield order[start : start + settings.batch_size]


def accuracy(net: torch.nn.Module, images: np.ndarray | torch.Tensor, labels: np.ndarray | torch.Tensor, batch_size: int = 256) -> float:
    """Fraction of ``images`` (uint8 N x 28 x 28) whose predicted digit equals ``labels``."""
    net.eval()
    x_all = as_unit_batch(images)
    y_all = torch.as_tensor(labels).to(torch.int64)
    correct = 0
    with torch.inference_mode():
        for start in range(0, len(x_all), batch_size):
            pred = net(x_all[start : start + batch_size])["logits"].argmax(dim=1)
            correct += int((pred == y_all[start : start + batch_size]).sum())
    return correct / len(x_all)
