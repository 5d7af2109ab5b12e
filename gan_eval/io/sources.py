"""What ``gan-eval score X`` reads: a samples file or a generator, told apart here once.

A ``.pt2`` file is a generator; a ``.pt`` may be either: a TorchScript or ``torch.export`` archive is a
generator (see :func:`~gan_eval.io.generator_files.is_generator_file`), a ``torch.save`` tensor file holds samples.
``pkg.module:factory``, ``file.py:factory`` (with optional arguments, :mod:`gan_eval.io.factories`) and
``nn.Module`` objects are generators.

``n``: for a generator, how many samples to draw (required by metrics that read samples). For a samples file
or array, the first ``n`` rows (an error if there are fewer): generators write samples in random order, so
``gan-eval score fake.npz -n 2500`` scores exactly what ``gan-eval score generator.pt2 -n 2500`` draws.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gan_eval.errors import GanEvalError
from gan_eval.io.generator_files import is_generator_file
from gan_eval.io.factories import is_factory_spec
from gan_eval.io.generators import GeneratorSource, load_generator
from gan_eval.io.samples import ArraySource, SampleSource, as_source


@dataclass(frozen=True)
class GeneratorOptions:
    """How to load a generator: state-dict weights for a factory (``FILE`` or ``FILE:KEY``), latent-spec flags that
    override its JSON, and the factory's ``key=value`` arguments (:mod:`gan_eval.io.factories`)."""

    weights: str | Path | None = None
    latent_dim: int | None = None
    latent_distribution: str | None = None
    factory_args: tuple[str, ...] = ()


def is_generator(samples: object) -> bool:
    """True for an ``nn.Module``, a ``pkg.module:factory`` string, or a generator file (``.pt2`` or TorchScript)."""
    if isinstance(samples, nn.Module):
        return True
    if isinstance(samples, (str, Path)):
        return is_factory_spec(samples) or is_generator_file(samples)
    return False


def open_source(
    samples: str | Path | np.ndarray | torch.Tensor | nn.Module | SampleSource,
    key: str | None = None,
    *,
    n: int | None = None,
    seed: int = 0,
    device: torch.device | str = "cpu",
    generator: GeneratorOptions = GeneratorOptions(),
    skip_unreadable: bool = False,
) -> SampleSource:
    """A :class:`SampleSource` for a samples file/array/tensor or a generator (see the module docstring);
    ``skip_unreadable`` leaves out an image folder's files that cannot be decoded."""
    if n is not None and n <= 0:
        raise GanEvalError(f"-n {n}: the number of samples must be positive")
    if is_generator(samples):
        loaded = load_generator(
            samples,
            weights=generator.weights,
            latent_dim=generator.latent_dim,
            latent_distribution=generator.latent_distribution,
            factory_args=generator.factory_args,
            device=device,
        )
        return GeneratorSource(loaded, n, seed)
    if generator != GeneratorOptions():
        raise GanEvalError(f"{samples}: is a samples file, so generator flags (--latent-dim, ...) do not apply; drop them")
    source = as_source(samples, key, skip_unreadable=skip_unreadable)
    if n is None:
        return source
    if n > len(source):
        raise GanEvalError(f"{source.name}: holds {len(source)} samples but -n asks for {n}; lower -n or draw more")
    return ArraySource(source.array()[:n], name=source.name)
