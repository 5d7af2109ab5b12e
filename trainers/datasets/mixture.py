"""A known reference (the mixtures, moons) as a training dataset, drawn in the two ways the papers do it.

* ``train_size=None`` (VEEGAN's notebooks): every batch is fresh, drawn from the reference with a seed
  taken from the data generator.
* ``train_size=N`` (PacGAN and ALI code: a 100,000-point set drawn once; the moons mini-project:
  ``make_moons(32, noise=0)``, i.e. the same 32 points every batch): a fixed set drawn once from the run's
  training-set seed, visited in shuffled epochs (a new permutation from the data generator each epoch).
  With N equal to the batch size every batch is the whole set.

The state (the current permutation and position) is saved in checkpoints so a resumed run draws the same
batches as an uninterrupted one.
"""
from __future__ import annotations

from typing import Any

import torch

from gan_eval.references import Reference
from trainers.datasets.arrays import ShuffledEpochs
from trainers.datasets.base import Dataset


class MixtureDataset(Dataset):
    """Vectors from a known reference; no held-out split is needed (the evaluators know the distribution)."""

    kind = "vector"
    default_evaluators = ("modes",)

    def __init__(self, reference: Reference) -> None:
        self.reference = reference
        self.name = reference.name
        self.shape = (reference.dim,)
        self.value_range = None

    def sampler(self, train_size: int | None, set_seed: int) -> "TrainingData":
        return TrainingData(self.reference, train_size, set_seed)

    def describe(self) -> dict[str, Any]:
        return self.reference.describe()


class TrainingData(ShuffledEpochs):
    """Batches of ``reference`` samples for training, deterministic given the generators: fresh ones every batch,
    or a fixed set of ``train_size`` drawn once, visited in shuffled epochs."""

    def __init__(self, reference: Reference, train_size: int | None, set_seed: int) -> None:
        self.reference = reference
        self.train_size = train_size
        self.pool = reference.sample(train_size, set_seed) if train_size else None
        super().__init__(lambda index: self.pool[index], train_size or 0)

    def batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` float32 samples on the CPU."""
        if self.pool is None:
            seed = int(torch.randint(0, 2**62, (1,), generator=generator))
            return self.reference.sample(n, seed)
        return super().batch(n, generator)
