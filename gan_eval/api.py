"""The short top-level API: ``gan_eval.score(samples, metric, reference=...)``."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import torch

from gan_eval import __version__
from gan_eval.errors import GanEvalError
from gan_eval.io.generators import GeneratorSource
from gan_eval.io.samples import SampleSource
from gan_eval.io.sources import GeneratorOptions, open_source
from gan_eval.metrics import METRICS, MetricResult, ScoreRequest
from gan_eval.metrics.base import _identity


def score(
    samples: str | Path | np.ndarray | torch.Tensor | SampleSource,
    metric: str,
    reference: str | None = None,
    *,
    features: str | None = None,
    device: str | torch.device = "cpu",
    seed: int = 0,
    batch_size: int = 10_000,
    output: str | Path | None = None,
    key: str | None = None,
    n: int | None = None,
    generator: GeneratorOptions = GeneratorOptions(),
    progress: Callable[..., Iterable] = _identity,
    value_range: str = "auto",
    weights: str | Path | None = None,
    **options: Any,
) -> MetricResult:
    """Score ``samples`` with a registered metric.

    ``samples``: a file (.npz/.npy/.pt), an array, a tensor or a :class:`SampleSource`; or a generator (a
    ``.pt2`` / TorchScript file, ``pkg.module:factory``, ``nn.Module``; ``generator`` holds its latent spec) sampled on
    the fly. ``n``: samples to draw from a generator, or the first ``n`` of a file (see :mod:`gan_eval.io.sources`).
    ``reference``: what the metric compares against (a mixture name for ``modes``; see each metric).
    ``value_range``: the images' range (``auto``, ``0,1``, ``-1,1``, ``0,255``); ``weights``: the weights file
    of the network that reads the samples (the FID Inception file, the stacked-mnist classifier).
    ``options``: the metric's own settings (``gan-eval metrics`` lists them), e.g. ``threshold_std=3``.

    >>> score(np.zeros((10, 2)), "modes", "ring8").values["modes"]
    0
    """
    spec = METRICS.get(metric)
    if spec.needs_reference and reference is None:
        raise GanEvalError(f"metric {metric} needs a reference (--reference); see `gan-eval metrics`")
    opts = spec.make_options(options)
    request = ScoreRequest(
        samples=open_source(samples, key, n=n, seed=seed, device=device, generator=generator),
        reference=reference,
        features=features,
        device=torch.device(device),
        seed=seed,
        batch_size=batch_size,
        output=Path(output) if output is not None else None,
        progress=progress,
        value_range=value_range,
        weights=str(weights) if weights is not None else None,
    )
    result = spec.evaluate(request, opts)
    drawn = isinstance(request.samples, GeneratorSource)  # a generator's n may be None (metrics that use G itself)
    result.protocol = {
        "metric": metric,
        "n": request.samples.n if drawn else len(request.samples),
        **({"generator": request.samples.describe()} if drawn else {}),
        "seed": seed,
        "device": str(request.device),
        "options": dataclasses.asdict(opts),
        "gan_eval_version": __version__,
        **result.protocol,
    }
    return result
