"""What a training dataset is: a sample shape and range, training batches, a held-out split, default evaluators.

A dataset module defines a :class:`Dataset` subclass and registers a factory ``(options, data_dir) -> Dataset``
with one line in :mod:`trainers.datasets`. ``build_dataset("name:key=value,...", data_dir)`` makes one;
names not registered fall back to :func:`gan_eval.references.get_reference` (the mixtures, moons and the
``ring:n=6,...`` families), which train as :class:`trainers.datasets.mixture.MixtureDataset`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, ClassVar, Literal

import torch

from gan_eval.errors import GanEvalError
from gan_eval.options import parse_spec
from gan_eval.registry import Registry


class Sampler:
    """Training batches, deterministic given the generator passed to :meth:`batch`; its state is checkpointed so
    a resumed run draws the same batches as an uninterrupted one."""

    def batch(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` float32 samples ``[n, *shape]`` on the CPU."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        del state


class Dataset:
    """A training dataset. ``shape`` is one sample's shape (``(d,)`` vectors, ``(C, H, W)`` images);
    ``value_range`` the range of its samples (what a generator should output); ``default_evaluators`` the
    evaluators (:mod:`trainers.evaluators`) a run scores with unless told otherwise."""

    name: str
    shape: tuple[int, ...]
    kind: ClassVar[Literal["vector", "image"]]
    value_range: tuple[float, float] | None
    default_evaluators: ClassVar[tuple[str, ...]]

    def sampler(self, train_size: int | None, set_seed: int) -> Sampler:
        """Training batches: ``train_size`` None for the dataset's natural training set (fresh samples for
        a known distribution), N for a fixed set of N samples drawn once from ``set_seed``."""
        raise NotImplementedError

    def held_out(self) -> torch.Tensor | None:
        """The held-out split (float32, in ``value_range``), None when the dataset has none."""
        return None

    def describe(self) -> dict[str, Any]:
        """JSON-able identity stored in the run's configuration: name, options and a content identity."""
        raise NotImplementedError


DatasetFactory = Callable[[dict[str, Any], "Path | None"], Dataset]
DATASETS: Registry[DatasetFactory] = Registry("dataset")


def build_dataset(spec: str, data_dir: str | Path | None = None) -> Dataset:
    """A registered dataset (``stacked-mnist``, ``cifar10``, ``folder:size=64``...) or a known reference."""
    name, options = parse_spec(spec, "dataset", "folder:size=64")
    if name in DATASETS:
        return DATASETS.get(name)(options, None if data_dir is None else Path(data_dir))
    from gan_eval.references import get_reference
    from trainers.datasets.mixture import MixtureDataset

    if data_dir is not None:
        raise GanEvalError(f"--data-dir {data_dir}: dataset {spec!r} is a known distribution and reads no files; drop --data-dir")
    try:
        return MixtureDataset(get_reference(spec))
    except GanEvalError as exc:
        raise GanEvalError(f"{exc}; or a dataset: {', '.join(DATASETS.names())}") from None
