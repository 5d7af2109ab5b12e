"""The short top-level API: ``gan_eval.score(samples, metric, reference=...)``, one metric or several in one call.

Several metrics (``"fid,kid,prdc"`` or a list) share one request: the samples are opened once, each metric
plans the features it reads (:func:`~gan_eval.metrics.feature_inputs.plan_features`), and the call's one
features stage runs one pass per input and extractor for all of them. Inside an initialised
``torch.distributed`` group (``torchrun``) each rank reads its rank-strided share, statistics are reduced
exactly (:mod:`gan_eval.stats.dist`), every rank returns the same results, and rank 0 alone writes files.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn

from gan_eval import __version__
from gan_eval.artefacts import write_artefacts
from gan_eval.errors import GanEvalError, for_python
from gan_eval.io.generators import GeneratorSource
from gan_eval.io.ranges import holds_images, parse_range
from gan_eval.io.samples import SampleSource
from gan_eval.io.sources import GeneratorOptions, open_source
from gan_eval.metrics import METRICS, MetricResult, MetricSpec, ScoreRequest
from gan_eval.metrics.base import Results, _identity
from gan_eval.metrics.feature_inputs import plan_features
from gan_eval.options import check_positive
from gan_eval.references.given import given_reference
from gan_eval.stats.dist import speaks, world


def metric_names(metric: str | Sequence[str]) -> list[str]:
    """``"fid,kid"`` or ``["fid", "kid"]`` -> the metric names, each once, in order."""
    names = [m.strip() for m in metric.split(",")] if isinstance(metric, str) else [str(m).strip() for m in metric]
    names = list(dict.fromkeys(n for n in names if n))
    if not names:
        raise GanEvalError("--metric: name at least one metric (see `gan-eval metrics`)")
    return names


def options_for(specs: list[MetricSpec], options: dict[str, Any]) -> list[Any]:
    """Each metric's options from the shared ``key=value`` overrides: a key sets every metric that has it, and a
    key that no metric of the call has is refused (one metric: that metric's own message)."""
    if len(specs) == 1:
        return [specs[0].make_options(options)]
    fields = [{f.name for f in dataclasses.fields(spec.options)} for spec in specs]
    for key in options:
        if not any(key.replace("-", "_") in names for names in fields):
            raise GanEvalError(f"option {key!r} belongs to none of the metrics {', '.join(s.name for s in specs)}; see `gan-eval metrics`")
    return [spec.make_options({k: v for k, v in options.items() if k.replace("-", "_") in names}) for spec, names in zip(specs, fields)]


def _check_inputs(spec: MetricSpec, reference: Any, value_range: str, reference_range: str) -> None:
    if spec.needs_reference and reference is None:
        raise GanEvalError(f"metric {spec.name} needs a reference (--reference); see `gan-eval metrics`")
    if not spec.images and value_range != "auto":
        raise GanEvalError(f"--range {value_range}: metric {spec.name} reads vectors, not images, so it has no value range; drop --range")
    if not (spec.images and spec.needs_reference) and reference_range != "auto":
        raise GanEvalError(f"--reference-range {reference_range}: metric {spec.name} reads no reference images; drop --reference-range")


def check_output(specs: list[MetricSpec], output: str | Path | None) -> None:
    """Refuse, before any work, an ``output`` that no metric of the call would write (it would be silently
    ignored) or that cannot hold what they write: an npz takes arrays, any other name a figure in the format its
    suffix names (:func:`gan_eval.plotting.check_figure_path`)."""
    if output is None:
        return
    from gan_eval.plotting import check_figure_path

    output = Path(output)
    writers = [spec for spec in specs if spec.writes]
    if not writers:
        anyone = ", ".join(f"{name} ({' and '.join(METRICS.get(name).writes)})" for name in METRICS if METRICS.get(name).writes)
        which = f"metric {specs[0].name} writes no file" if len(specs) == 1 else f"none of the metrics {', '.join(s.name for s in specs)} writes a file"
        raise GanEvalError(f"{output}: {which}, so --out would be ignored; drop --out (metrics that write one: {anyone})")
    if output.suffix.lower() == ".npz":
        if not any("arrays" in spec.writes for spec in writers):
            figures = ", ".join(spec.name for spec in writers)
            raise GanEvalError(f"{output}: {figures} writes a figure, not arrays; name a .png, .pdf or .svg file")
        return
    check_figure_path(output)


def _write_artefacts(results: list[MetricResult], output: Path | None) -> None:
    """Write the artefacts metrics returned at ``output`` (``OUT-METRIC.ext`` when several metrics return some),
    once every metric has succeeded."""
    with_artefacts = [result for result in results if result.artefacts]
    for result in with_artefacts if output is not None else []:
        out = output if len(with_artefacts) == 1 else output.with_name(f"{output.stem}-{result.metric}{output.suffix}")
        result.files += write_artefacts(result.artefacts, out)


def score(
    samples: str | Path | np.ndarray | torch.Tensor | nn.Module | SampleSource,
    metric: str | Sequence[str],
    reference: Any = None,
    *,
    features: Any = None,
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
) -> MetricResult | Results:
    """Score ``samples`` with one registered metric (a :class:`MetricResult`) or several (``"fid,kid,prdc"`` or a
    list: :class:`Results`, one result per metric, from one feature pass per input).

    ``samples``: a file (.npz/.npy/.pt), an array, a tensor or a :class:`SampleSource`; or a generator sampled
    on the fly, once for the call and every metric of it: an ``nn.Module`` (sampled in eval mode; its train/eval
    flags are restored afterwards), a ``.pt2`` / TorchScript file, or ``pkg.module:Generator`` /
    ``file.py:Generator`` with optional literal arguments (``'mod:Generator(img_size=32)'``,
    :mod:`gan_eval.io.factories`). Its latent spec: ``latent_dim`` and ``latent_distribution`` (``normal`` or
    ``uniform``; else from the JSON beside the generator or its weights, else a ``latent_dim`` attribute);
    ``generator_weights``: a state dict (``FILE`` or ``FILE:KEY``, :mod:`gan_eval.io.generator_weights`);
    ``factory_args``: ``{"img_size": 32}`` or ``["img_size=32"]``.
    ``n``: samples to draw from a generator, or the first ``n`` of a file (see :mod:`gan_eval.io.sources`).
    ``reference``: what the metrics compare against: a mixture name for ``modes``; a statistics npz, a named
    reference (``gan-eval stats --name``), a samples file or image folder; from Python also an array, a tensor,
    :class:`~gan_eval.stats.GaussianStats`, :class:`~gan_eval.stats.Moments` or a ``StatsFile``
    (:mod:`gan_eval.references.given`). ``features``: a registered extractor, ``pkg.module:factory``, or an
    ``nn.Module`` mapping images in [0, 1] to N x D features.
    ``value_range`` / ``reference_range``: the range of the sample images (or a generator's outputs) / of the
    reference images: ``auto`` (declared or inferred, :mod:`gan_eval.io.ranges`), ``0,1``, ``-1,1`` or ``0,255``;
    the range used is stated in the result's ``protocol["value_range"]``. ``weights``: the weights file
    of the network that reads the samples (the FID Inception file, the stacked-mnist classifier).
    ``skip_unreadable``: leave out image files that cannot be decoded from folders of samples or reference images
    (counted in ``protocol["skipped_unreadable"]``); by default such a file is an error naming it.
    ``options``: the metrics' own settings (``gan-eval metrics`` lists them), e.g. ``threshold_std=3``; with
    several metrics a key sets every metric that has it.

    >>> score(np.zeros((10, 2)), "modes", "ring8").values["modes"]
    0

    Errors are :class:`GanEvalError`, one line naming the input and the fix, phrased with these keywords (the
    ``gan-eval`` command phrases the same messages with its flags).
    """
    if isinstance(factory_args, dict):
        factory_args = [f"{key}={value!r}" for key, value in factory_args.items()]
    generator = GeneratorOptions(generator_weights, latent_dim, latent_distribution, tuple(factory_args))
    try:
        return _score(
            samples, metric, reference, features=features, device=device, seed=seed, batch_size=batch_size, output=output,
            key=key, n=n, generator=generator, progress=progress, value_range=value_range, reference_range=reference_range,
            weights=weights, skip_unreadable=skip_unreadable, options=options,
        )
    except GanEvalError as exc:
        raise GanEvalError(for_python(str(exc))) from None


def _score(
    samples: Any, metric: str | Sequence[str], reference: Any, *, features: Any, device: str | torch.device, seed: int,
    batch_size: int, output: str | Path | None, key: str | None, n: int | None, generator: GeneratorOptions,
    progress: Callable[..., Iterable], value_range: str, reference_range: str, weights: str | Path | None,
    skip_unreadable: bool, options: dict[str, Any],
) -> MetricResult | Results:
    names = metric_names(metric)
    specs = [METRICS.get(name) for name in names]
    check_positive(batch_size, f"--batch-size {batch_size}: samples per batch")  # the CLI's option checks it too, as parsed
    value_range, reference_range = parse_range(value_range, "--range"), parse_range(reference_range, "--reference-range")
    for spec in specs:
        _check_inputs(spec, reference, value_range, reference_range)
    all_options = options_for(specs, options)  # the call's own mistakes first, before a generator is imported or sampled
    check_output(specs, output)
    source = open_source(samples, key, n=n, seed=seed, device=device, generator=generator, skip_unreadable=skip_unreadable)
    try:
        return _evaluate(source, specs, all_options, given_reference(reference), features=features, device=device, seed=seed,
                         batch_size=batch_size, output=output, progress=progress, value_range=value_range,
                         reference_range=reference_range, weights=weights, skip_unreadable=skip_unreadable)
    finally:
        if isinstance(source, GeneratorSource):
            source.generator.restore_modes()


def _evaluate(
    source: SampleSource, specs: list[MetricSpec], all_options: list[Any], reference: Any, *, features: Any,
    device: str | torch.device, seed: int, batch_size: int, output: str | Path | None, progress: Callable[..., Iterable],
    value_range: str, reference_range: str, weights: str | Path | None, skip_unreadable: bool,
) -> MetricResult | Results:
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
    for spec in specs:
        if spec.needs_generator and not isinstance(request.samples, GeneratorSource):
            raise GanEvalError(
                f"{request.samples.name}: {spec.name} needs the generator itself (a generator file or pkg.module:factory),"
                " not samples; pass the generator"
            )
    if value_range != "auto" and not holds_images(request.samples):
        raise GanEvalError(f"--range {value_range}: {request.samples.name} holds N x D vectors, not images; drop --range")
    for spec, opts in zip(specs, all_options):
        plan_features(request, spec, opts)
    results = {spec.name: spec.evaluate(request, opts) for spec, opts in zip(specs, all_options)}
    if speaks():  # under torchrun every rank holds the reduced statistics; rank 0 alone writes
        for write in request.on_success:
            write()
        _write_artefacts(list(results.values()), request.output)
    if getattr(request.samples, "skipped", None):  # metrics may read a copy held in memory
        request.skipped["samples"] = len(request.samples.skipped)
    drawn = isinstance(request.samples, GeneratorSource)  # a generator's n may be None (metrics that use G itself)
    for spec, opts in zip(specs, all_options):
        result = results[spec.name]
        result.protocol = {
            "metric": spec.name,
            "n": request.samples.n if drawn else len(request.samples),
            **({"generator": request.samples.describe()} if drawn else {}),
            "seed": seed,
            "device": str(request.device),
            **({"world_size": world()[1]} if world()[1] > 1 else {}),
            "options": dataclasses.asdict(opts),
            **({"value_range": {role: r.describe() for role, r in request.ranges.items()}} if request.ranges else {}),
            **({"skipped_unreadable": request.skipped} if skip_unreadable else {}),
            "gan_eval_version": __version__,
            **result.protocol,
        }
    if len(specs) == 1:
        return results[specs[0].name]
    return Results(results, {"feature_passes": request.stage.passes})
