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
from gan_eval.io.ranges import holds_images, parse_range
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
    reference_range: str = "auto",
    weights: str | Path | None = None,
    skip_unreadable: bool = False,
    **options: Any,
) -> MetricResult:
    """Score ``samples`` with a registered metric.

    ``samples``: a file (.npz/.npy/.pt), an array, a tensor or a :class:`SampleSource`; or a generator (a
    ``.pt2`` / TorchScript file, ``pkg.module:factory``, ``nn.Module``; ``generator`` holds its latent spec) sampled on
    the fly. ``n``: samples to draw from a generator, or the first ``n`` of a file (see :mod:`gan_eval.io.sources`).
    ``reference``: what the metric compares against (a mixture name for ``modes``; see each metric).
    ``value_range`` / ``reference_range``: the range of the sample images (or a generator's outputs) / of the
    reference images: ``auto`` (declared or inferred, :mod:`gan_eval.io.ranges`), ``0,1``, ``-1,1`` or ``0,255``;
    the range used is stated in the result's ``protocol["value_range"]``. ``weights``: the weights file
    of the network that reads the samples (the FID Inception file, the stacked-mnist classifier).
    ``skip_unreadable``: leave out image files that cannot be decoded from folders of samples or reference images
    (counted in ``protocol["skipped_unreadable"]``); by default such a file is an error naming it.
    ``options``: the metric's own settings (``gan-eval metrics`` lists them), e.g. ``threshold_std=3``.

    >>> score(np.zeros((10, 2)), "modes", "ring8").values["modes"]
    0
    """
    spec = METRICS.get(metric)
    if spec.needs_reference and reference is None:
        raise GanEvalError(f"metric {metric} needs a reference (--reference); see `gan-eval metrics`")
    value_range, reference_range = parse_range(value_range, "--range"), parse_range(reference_range, "--reference-range")
    if not spec.images and value_range != "auto":
        raise GanEvalError(f"--range {value_range}: metric {metric} reads vectors, not images, so it has no value range; drop --range")
    if not (spec.images and spec.needs_reference) and reference_range != "auto":
        raise GanEvalError(f"--reference-range {reference_range}: metric {metric} reads no reference images; drop --reference-range")
    opts = spec.make_options(options)
    request = ScoreRequest(
        samples=open_source(samples, key, n=n, seed=seed, device=device, generator=generator, skip_unreadable=skip_unreadable),
        reference=reference,
        features=features,
        device=torch.device(device),
        seed=seed,
        batch_size=batch_size,
        output=Path(output) if output is not None else None,
        progress=progress,
        value_range=value_range,
        reference_range=reference_range,
        weights=str(weights) if weights is not None else None,
        skip_unreadable=skip_unreadable,
    )
    if spec.needs_generator and not isinstance(request.samples, GeneratorSource):
        raise GanEvalError(
            f"{request.samples.name}: {metric} needs the generator itself (a generator file or pkg.module:factory),"
            " not samples; pass the generator"
        )
    if value_range != "auto" and not holds_images(request.samples):
        raise GanEvalError(f"--range {value_range}: {request.samples.name} holds N x D vectors, not images; drop --range")
    result = spec.evaluate(request, opts)
    for write in request.on_success:
        write()
    if getattr(request.samples, "skipped", None):  # metrics may read a copy held in memory
        request.skipped["samples"] = len(request.samples.skipped)
    drawn = isinstance(request.samples, GeneratorSource)  # a generator's n may be None (metrics that use G itself)
    result.protocol = {
        "metric": metric,
        "n": request.samples.n if drawn else len(request.samples),
        **({"generator": request.samples.describe()} if drawn else {}),
        "seed": seed,
        "device": str(request.device),
        "options": dataclasses.asdict(opts),
        **({"value_range": {role: r.describe() for role, r in request.ranges.items()}} if request.ranges else {}),
        **({"skipped_unreadable": request.skipped} if skip_unreadable else {}),
        "gan_eval_version": __version__,
        **result.protocol,
    }
    return result
