"""What an evaluator is: named scalars of a run's evaluation samples (or of its generator), read generically.

An evaluator module defines an :class:`Evaluator` subclass and registers it with one line in
:mod:`trainers.evaluators`. The loop, ``curves``, ``reproduce`` and the CLI know no metric names: they write,
plot and tabulate whatever scalars the run's evaluators return, headed by each evaluator's ``keys``.

An evaluator is named by a spec, ``name`` or ``name:key=value,...`` (the syntax of datasets,
:func:`gan_eval.options.parse_spec`); the options fill the evaluator's ``Options`` dataclass, are checked
before any training and are recorded by :meth:`Evaluator.describe` in the run's configuration.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from gan_eval.errors import GanEvalError
from gan_eval.io.latent import LatentSpec
from gan_eval.io.ranges import ValueRange
from gan_eval.options import fill_options, parse_spec
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


@dataclass(frozen=True)
class NoOptions:
    """For evaluators without options."""


class Evaluator:
    """Scores evaluation samples. ``keys``: the headline scalars in display order (progress, tables, curves),
    a class attribute, or set by the constructor where options choose them; ``__call__`` may return more
    (bookkeeping such as ``n``). ``Options``: the dataclass the spec's ``key=value`` options fill."""

    name: ClassVar[str]
    keys: tuple[str, ...]
    Options: ClassVar[type] = NoOptions

    def __init__(self, dataset: Dataset, device: torch.device, options: Any = None) -> None:
        self.dataset = dataset
        self.device = device
        self.options = self.Options() if options is None else options

    def __call__(self, evaluation: EvalInput) -> Values:
        raise NotImplementedError

    def artefacts(self, seed: int) -> dict[str, Any]:
        """Arrays of the run with evaluation seed ``seed``'s last evaluation that its run keeps beside its samples
        (``NAME.npz``, written when the run finishes): IvOM's nearest-image pairs. None here."""
        del seed
        return {}

    def undefined(self) -> Values:
        """The values of samples that hold NaN or Inf (a diverged run): every key undefined unless the
        evaluator knows better."""
        return {key: None for key in self.keys}

    def describe(self) -> dict[str, Any]:
        """What the run's configuration records of this evaluator: its name, and its options where it has some
        (JSON values, the same for the same options, so that a resumed run finds its configuration unchanged)."""
        options = dataclasses.asdict(self.options)
        return {"name": self.name, "options": options} if options else {"name": self.name}


EVALUATORS: Registry[type[Evaluator]] = Registry("evaluator")


def evaluator_options(name: str, options_type: type, given: dict[str, Any]) -> Any:
    """``options_type`` filled from a spec's options (already int, float, bool or str, :func:`parse_spec`); an
    unknown key or a value of the wrong type is a one-line error naming the evaluator's options."""
    return fill_options(options_type, given, f"evaluator {name!r}")


def build_evaluators(specs: tuple[str, ...] | list[str] | None, dataset: Dataset, device: torch.device) -> list[Evaluator]:
    """The evaluators named by ``specs`` (``fid``, ``fid:features=pixels,reference_n=5000``; default: the
    dataset's), with their options, checked against the dataset before any training."""
    specs = list(dataset.default_evaluators if specs is None else specs)
    evaluators = []
    for spec in specs:
        name, given = parse_spec(spec, "evaluator", "fid:features=pixels")
        cls = EVALUATORS.get(name)
        evaluators.append(cls(dataset, device, evaluator_options(name, cls.Options, given)))
    keys = [k for e in evaluators for k in e.keys]
    clash = sorted({k for k in keys if keys.count(k) > 1})
    if clash:
        raise GanEvalError(f"evaluators {', '.join(specs)} both report {clash[0]!r}; pick one of them")
    return evaluators


def dataset_range(dataset: Dataset) -> ValueRange:
    """The dataset's value range as gan_eval's :class:`ValueRange`: the range the evaluation samples are in."""
    assert dataset.value_range is not None
    low, high = dataset.value_range
    return ValueRange(f"{low:g},{high:g}", f"the training data's range ({dataset.name})")


def held_out_images(evaluator: str, dataset: Dataset) -> torch.Tensor:
    """The dataset's held-out images, or a one-line error before training: vectors, or no held-out split."""
    if dataset.kind != "image" or dataset.value_range is None:
        raise GanEvalError(f"evaluator {evaluator}: dataset {dataset.name} holds {dataset.kind}s; {evaluator} scores images (e.g. --dataset mnist)")
    held = dataset.held_out()
    if held is None:
        raise GanEvalError(
            f"evaluator {evaluator}: dataset {dataset.name} has no held-out split for {evaluator}; give it one"
            " (e.g. npz:held_out=0.1, folder:held_out=0.1) or choose other evaluators with --eval"
        )
    return held


def headline(evaluators: list[Evaluator]) -> tuple[str, ...]:
    return tuple(k for e in evaluators for k in e.keys)


def describe_values(values: Values, keys: tuple[str, ...] | list[str]) -> str:
    """``modes 8, hq_percent 71.2, kl 0.031``: the headline scalars of an evaluation line, in the given order, and
    ``samples not finite`` where the line's samples were not (the run diverged)."""
    parts = []
    for key in keys:
        value = values.get(key)
        parts.append(f"{key} {'-' if value is None else (f'{value:.4g}' if isinstance(value, float) else value)}")
    return ", ".join(parts + (["samples not finite"] if values.get("finite") is False else []))
