"""The short top-level API: ``gan_eval.score(samples, metric, reference=...)``."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import torch
from torch import nn

from gan_eval import __version__
from gan_eval.errors import GanEvalError, for_python
from gan_eval.io.generators import GeneratorSource
from gan_eval.io.ranges import holds_images, parse_range
from gan_eval.io.samples import SampleSource
from gan_eval.io.sources import GeneratorOptions, open_source
from gan_eval.metrics import METRICS, MetricResult, ScoreRequest
from gan_eval.metrics.base import MetricSpec, _identity


def score(
    samples: str | Path | np.ndarray | torch.Tensor | nn.Module | SampleSource,
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
    latent_dim: int | None = None,
    latent_distribution: str | None = None,
    generator_weights: str | Path | None = None,
    factory_args: Iterable[str] | dict[str, Any] = (),
    progress: Callable[..., Iterable] = _identity,
    value_range: str = "auto",
    reference_range: str = "auto",
    weights: str | Path | None = None,
    skip_unreadable: bool = False,
    **options: Any,
) -> MetricResult:
    """Score ``samples`` with a registered metric.

    ``samples``: a file (.npz/.npy/.pt), an array, a tensor or a :class:`SampleSource`; or a generator sampled
    on the fly, once for the call: an ``nn.Module`` (sampled in eval mode; its train/eval flags are restored
    afterwards), a ``.pt2`` / TorchScript file, or ``pkg.module:Generator`` / ``file.py:Generator`` with optional
    literal arguments (``'mod:Generator(img_size=32)'``, :mod:`gan_eval.io.factories`). Its latent spec:
    ``latent_dim`` and ``latent_distribution`` (``normal`` or ``uniform``; else from the JSON beside the generator or
    its weights, else a ``latent_dim`` attribute); ``generator_weights``: a state dict (``FILE`` or ``FILE:KEY``,
    :mod:`gan_eval.io.generator_weights`); ``factory_args``: ``{"img_size": 32}`` or ``["img_size=32"]``.
    ``n``: samples to draw from a generator, or the first ``n`` of a file (see :mod:`gan_eval.io.sources`).
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

    Errors are :class:`GanEvalError`, one line naming the input and the fix, phrased with these keywords (the
    ``gan-eval`` command phrases the same messages with its flags).
    """
    if isinstance(factory_args, dict):
        factory_args = [f"{key}={value!r}" for key, value in factory_args.items()]
    generator = GeneratorOptions(generator_weights, latent_dim, latent_distribution, tuple(factory_args))
    try:
        spec = METRICS.get(metric)  # the call's own mistakes first, before a generator is imported or sampled
        if spec.needs_reference and reference is None:
            raise GanEvalError(f"metric {metric} needs a reference (--reference); see `gan-eval metrics`")
        value_range, reference_range = parse_range(value_range, "--range"), parse_range(reference_range, "--reference-range")
        if not spec.images and value_range != "auto":
            raise GanEvalError(f"--range {value_range}: metric {metric} reads vectors, not images, so it has no value range; drop --range")
        if not (spec.images and spec.needs_reference) and reference_range != "auto":
            raise GanEvalError(f"--reference-range {reference_range}: metric {metric} reads no reference images; drop --reference-range")
        opts = spec.make_options(options)
        source = open_source(samples, key, n=n, seed=seed, device=device, generator=generator, skip_unreadable=skip_unreadable)
        try:
            return _score(spec, opts, source, reference, features, device, seed, batch_size, output, progress, value_range,
                          reference_range, weights, skip_unreadable)
        finally:
            if isinstance(source, GeneratorSource):
                source.generator.restore_modes()
    except GanEvalError as exc:
        raise GanEvalError(for_python(str(exc))) from None


def _score(
    spec: MetricSpec, opts: Any, source: SampleSource, reference: str | None, features: str | None, device: str | torch.device,
    seed: int, batch_size: int, output: str | Path | None, progress: Callable[..., Iterable], value_range: str,
    reference_range: str, weights: str | Path | None, skip_unreadable: bool,
) -> MetricResult:
    metric = spec.name
    request = ScoreRequest(
        samples=source,
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
