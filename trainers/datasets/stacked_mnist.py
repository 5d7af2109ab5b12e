"""``stacked-mnist``: three MNIST digits as the R, G, B channels of one 3 x 28 x 28 image (1000 modes), in the two
settings of the papers (``../shared/PROTOCOLS.md``, "Stacked MNIST" and the Addendum), one option apart:

* ``stacked-mnist`` (``setting=veegan``, VEEGAN Table 2 and PacGAN Table 2): the digit pool is MNIST's 60,000
  training + 10,000 test digits, values in [0, 1]. PacGAN's code for this setting
  (github.com/fjxmlzn/PacGAN, ``stacked_MNIST_experiments/VEEGAN_experiment``: ``model.py`` ``load_mnist`` and
  ``config.py`` ``num_training_sample: 128000``) draws a *fixed* set of 128,000 triples once, each channel an
  independent uniform draw from the pool, and trains 50 epochs over it; so ``train_size=None`` is that set of
  128,000 triples, drawn from the run's training-set seed. (That code then re-draws 128,000 of the triples with
  replacement into a fixed epoch order, also forming PacGAN's packs; we visit the 128,000 in shuffled epochs,
  and a packing method packs consecutive draws.)
* ``stacked-mnist:setting=unrolled`` (the "D = 1/4 G, 1/2 G" setting of the unrolled GAN paper, PacGAN Table 3):
  the pool is the 60,000 training digits only, values in [-1, 1] (``x / 127.5 - 1``). Its code
  (``unrolled_GAN_experiment/D=0.25G/model.py`` ``generate_stacked_mnist``, called for every batch; the config
  notes "the experiments in Unrolled GAN paper generate data on the fly") draws *fresh* triples for every batch;
  so ``train_size=None`` draws each batch's 3 n digit indices from the data generator (nothing to checkpoint).

One name with an option rather than two names: the settings share their files, code and evaluator, the paper's
default stays ``stacked-mnist``, and the setting is recorded in :meth:`StackedMnistDataset.describe`.
``train_size=N`` in either setting is a fixed set of N triples drawn once from the run's training-set seed.

Held-out split (for FID; the default evaluator ``stacked-mnist`` needs none: it classifies each channel with the
bundled classifier): 10,000 triples of the 10,000 MNIST *test* digits, drawn with seed 0 by
:func:`gan_eval.references.stacked_mnist.build_stacked`, in the setting's range. In the VEEGAN setting these
digits are also in the training pool (the paper's pool), so the split is held out as triples, not as digits.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from gan_eval.errors import GanEvalError
from gan_eval.io.mnist import load_mnist
from gan_eval.references.stacked_mnist import build_stacked, digit_pool
from trainers.datasets.arrays import ShuffledEpochs, scale_uint8
from trainers.datasets.base import Dataset, Sampler
from trainers.datasets.mnist import mnist_folder, mnist_identity
from trainers.datasets.options import dataset_options

HELD_OUT = 10_000


@dataclass(frozen=True)
class Setting:
    pool: str  # a key of gan_eval.references.stacked_mnist.POOLS
    value_range: tuple[float, float]
    train_size: int | None  # the paper's training set: N fixed triples, None for fresh triples every batch


SETTINGS = {
    "veegan": Setting("train+test", (0.0, 1.0), 128_000),
    "unrolled": Setting("train", (-1.0, 1.0), None),
}


class FreshTriples(Sampler):
    """Every batch ``n`` new triples, each channel a uniform draw (with replacement) from the digit pool."""

    def __init__(self, pool: torch.Tensor, value_range: tuple[float, float]) -> None:
        self.pool, self.value_range = pool, value_range

    def batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return scale_uint8(self.pool[torch.randint(len(self.pool), (n, 3), generator=generator)], self.value_range)


class StackedMnistDataset(Dataset):
    kind = "image"
    default_evaluators = ("stacked-mnist",)

    def __init__(self, folder: Path, setting: str) -> None:
        self.name = "stacked-mnist"
        self.setting = setting
        self.config = SETTINGS[setting]
        self.shape = (3, 28, 28)
        self.value_range = self.config.value_range
        self.identity = mnist_identity(folder)
        self.folder = folder
        self.pool = torch.from_numpy(digit_pool(folder, self.config.pool)[0])

    def sampler(self, train_size: int | None, set_seed: int) -> Sampler:
        size = self.config.train_size if train_size is None else train_size
        if size is None:
            return FreshTriples(self.pool, self.value_range)
        if size <= 0:
            raise GanEvalError(f"dataset 'stacked-mnist': train size {size} must be positive")
        triples = torch.randint(len(self.pool), (size, 3), generator=torch.Generator().manual_seed(set_seed))
        return ShuffledEpochs(lambda positions: scale_uint8(self.pool[triples[positions]], self.value_range), size)

    def held_out(self) -> torch.Tensor:
        images, labels = load_mnist(self.folder, "test")
        return scale_uint8(build_stacked(images, labels, HELD_OUT, seed=0).images, self.value_range)

    def describe(self) -> dict[str, Any]:
        train = self.config.train_size
        return {
            "name": self.name, "options": {"setting": self.setting}, "pool": self.config.pool,
            "shape": list(self.shape), "value_range": list(self.value_range),
            "default_train": "fresh triples every batch" if train is None else f"{train} triples drawn once",
            "held_out": f"{HELD_OUT} triples of the test digits, seed 0", **self.identity,
        }


def build_stacked_mnist(options: dict[str, Any], data_dir: Path | None) -> StackedMnistDataset:
    setting = dataset_options("stacked-mnist", options, {"setting": "veegan"})["setting"]
    if setting not in SETTINGS:
        raise GanEvalError(f"dataset 'stacked-mnist': setting={setting!r} is unknown; use one of {', '.join(SETTINGS)}")
    return StackedMnistDataset(mnist_folder(data_dir), setting)
