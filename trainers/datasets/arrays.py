"""Datasets held in memory as arrays (MNIST, CIFAR-10, an image folder, an ``.npz``), and how they are visited.

* Storage: images stay uint8 ``[N, C, H, W]`` (a quarter of float32's memory: CIFAR-10's 50,000 training images
  are 154 MB) and are scaled to the dataset's range one batch at a time, ``x / 255`` for [0, 1] and
  ``x / 127.5 - 1`` for [-1, 1] (DCGAN-tensorflow's ``transform``: ``image / 127.5 - 1.``). Float arrays (an
  ``.npz`` of floats) are used as they are.
* Training set: ``train_size=None`` is the whole training split; ``train_size=N`` a fixed subset of N rows
  chosen once, without replacement, from the run's training-set seed.
* Visiting (:class:`ShuffledEpochs`): the set is visited in epochs, each a new permutation drawn from the data
  generator; a batch that crosses an epoch's end takes the rest of that epoch and the start of the next. The
  state (permutation and position) is checkpointed, so a resumed run draws the same batches.
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from gan_eval.errors import GanEvalError
from trainers.datasets.base import Dataset, Sampler


def scale_uint8(images: torch.Tensor, value_range: tuple[float, float]) -> torch.Tensor:
    """uint8 0..255 as floats of torch's default dtype (float32 unless a float64 test sets it) in ``value_range``:
    (0, 1) is ``x / 255``, (-1, 1) is ``x / 127.5 - 1``."""
    x = images.to(torch.get_default_dtype())
    if value_range == (0.0, 1.0):
        return x / 255.0
    if value_range == (-1.0, 1.0):
        return x / 127.5 - 1.0
    raise ValueError(f"uint8 images scale to (0, 1) or (-1, 1), not {value_range}")


def fixed_subset(available: int, train_size: int | None, set_seed: int, name: str) -> torch.Tensor:
    """The rows of the training set: all (``None``), or ``train_size`` chosen once from ``set_seed``."""
    if train_size is None:
        return torch.arange(available)
    if not 0 < train_size <= available:
        raise GanEvalError(f"dataset {name!r}: train size {train_size} must be between 1 and its {available} training samples")
    return torch.randperm(available, generator=torch.Generator().manual_seed(set_seed))[:train_size]


class ShuffledEpochs(Sampler):
    """``size`` rows visited in shuffled epochs; ``rows(index)`` turns positions ``[n]`` into a float batch."""

    def __init__(self, rows: Callable[[torch.Tensor], torch.Tensor], size: int) -> None:
        self.rows = rows
        self.size = size
        self.order = torch.empty(0, dtype=torch.int64)
        self.position = 0

    def positions(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """The next ``n`` positions of the epoch order, starting a new permutation whenever one runs out."""
        taken: list[torch.Tensor] = []
        while n > 0:
            if self.position >= len(self.order):
                self.order, self.position = torch.randperm(self.size, generator=generator), 0
            part = self.order[self.position : self.position + n]
            self.position += len(part)
            n -= len(part)
            taken.append(part)
        return torch.cat(taken) if taken else torch.empty(0, dtype=torch.int64)

    def batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return self.rows(self.positions(n, generator))

    def state_dict(self) -> dict[str, Any]:
        return {"order": self.order.clone(), "position": self.position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.order = state["order"].clone()
        self.position = int(state["position"])


class ArrayDataset(Dataset):
    """A training split and an optional held-out split in memory: uint8 images (scaled to ``value_range`` per
    batch) or float arrays (used as they are). ``identity``: the content identity and options for :meth:`describe`."""

    def __init__(
        self,
        name: str,
        train: torch.Tensor,
        held_out: torch.Tensor | None,
        value_range: tuple[float, float] | None,
        identity: dict[str, Any],
    ) -> None:
        self.name = name
        self.train = train
        self.test = held_out
        self.shape = tuple(train.shape[1:])
        self.value_range = value_range
        self.identity = identity

    def to_float(self, rows: torch.Tensor) -> torch.Tensor:
        if rows.dtype == torch.uint8:
            assert self.value_range is not None
            return scale_uint8(rows, self.value_range)
        return rows.to(torch.float32)

    def sampler(self, train_size: int | None, set_seed: int) -> ShuffledEpochs:
        subset = fixed_subset(len(self.train), train_size, set_seed, self.name)
        return ShuffledEpochs(lambda positions: self.to_float(self.train[subset[positions]]), len(subset))

    def held_out(self) -> torch.Tensor | None:
        return None if self.test is None else self.to_float(self.test)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "shape": list(self.shape), "value_range": None if self.value_range is None else list(self.value_range),
                "train": len(self.train), "held_out": 0 if self.test is None else len(self.test), **self.identity}
