"""What an evaluator is: named scalars of a run's evaluation samples (or of its generator), read generically.

An evaluator module defines an :class:`Evaluator` subclass and registers it with one line in
:mod:`trainers.evaluators`. The loop, ``curves``, ``reproduce`` and the CLI know no metric names: they write,
plot and tabulate whatever scalars the run's evaluators return, headed by each evaluator's ``keys``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from gan_eval.errors import GanEvalError
from gan_eval.io.latent import LatentSpec
from gan_eval.registry import Registry
from trainers.datasets.base import Dataset

Values = dict[str, Any]


@dataclass
class EvalInput:
    """One evaluation: ``samples`` (CPU float32, [n, *shape], drawn with the generator in eval mode from the
    run's evaluation seed), the ``generator`` itself (eval mode, on ``device``) and its latent spec, for
    evaluators that use G rather than its samples (IvOM)."""

    samples: torch.Tensor
    generator: torch.nn.Module
    latent: LatentSpec
    seed: int
    device: torch.device


class Evaluator:
    """Scores evaluation samples. ``keys``: the headline scalars in display order (progress, tables, curves);
    ``__call__`` may return more (bookkeeping such as ``n``)."""

    name: ClassVar[str]
    keys: ClassVar[tuple[str, ...]]

    def __init__(self, dataset: Dataset, device: torch.device) -> None:
        self.dataset = dataset
        self.device = device

    def __call__(self, evaluation: EvalInput) -> Values:
        raise NotImplementedError

    def undefined(self) -> Values:
        """The values of samples that hold NaN or Inf (a diverged run): every key undefined unless the
        evaluator knows better."""
        return {key: None for key in self.keys}

    def describe(self) -> dict[str, Any]:
        """What the run's configuration records of this evaluator (its name; options where it has some)."""
        return {"name": self.name}


EVALUATORS: Registry[type[Evaluator]] = Registry("evaluator")


def build_evaluators(names: tuple[str, ...] | list[str] | None, dataset: Dataset, device: torch.device) -> list[Evaluator]:
    """The named evaluators (default: the dataset's), checked against the dataset before any training."""
    names = list(dataset.default_evaluators if names is None else names)
    evaluators = []
    for name in names:
        cls = EVALUATORS.get(name)
        evaluators.append(cls(dataset, device))
    keys = [k for e in evaluators for k in e.keys]
    clash = sorted({k for k in keys if keys.count(k) > 1})
    if clash:
        raise GanEvalError(f"evaluators {', '.join(names)} both report {clash[0]!r}; pick one of them")
    return evaluators


def headline(evaluators: list[Evaluator]) -> tuple[str, ...]:
    return tuple(k for e in evaluators for k in e.keys)


def describe_values(values: Values, keys: tuple[str, ...] | list[str]) -> str:
    """``modes 8, hq_percent 71.2, kl 0.031``: the headline scalars of an evaluation line, in the given order."""
    parts = []
    for key in keys:
        value = values.get(key)
        parts.append(f"{key} {'-' if value is None else (f'{value:.4g}' if isinstance(value, float) else value)}")
    return ", ".join(parts)
