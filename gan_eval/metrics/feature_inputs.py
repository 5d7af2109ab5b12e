"""What the feature metrics share: for FID, KID and IS, choosing the extractor and layer from a request and
reading the reference as statistics (our npz, a pytorch-fid/TTUR npz) or as images (a file or folder, passed
through the same extractor); for PRDC and NDB, samples and reference as vectors of one feature space, where a
reference may also be our statistics npz kept with ``--keep-features``.

The extractor is ``--features``, else the one recorded in a gan-eval statistics reference (its name, layer and
resize; its weights must then be found again and hash the same), else the metric's default. A recorded
``pkg.module:factory`` is imported again; the result's protocol says where the choice came from."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from gan_eval.errors import GanEvalError
from gan_eval.features.base import FeatureExtractor
from gan_eval.features.extract import features_of
from gan_eval.features.resolve import check_layer, default_layer, make_extractor, recorded_spec
from gan_eval.features.vectors import in_memory, reference_source, sample_vectors
from gan_eval.io.samples import SampleSource, as_source
from gan_eval.io.cache import reference_stats_path
from gan_eval.io.ranges import ValueRange
from gan_eval.io.stats_file import StatsFile, is_stats_file, load_stats, read_meta, save_stats
from gan_eval.metrics.base import ScoreRequest
from gan_eval.stats.collect import collect_statistics
from gan_eval.stats.gaussian import GaussianStats, check_compatible

#: the protocol's ``features_from`` when the extractor came from a statistics reference
FROM_REFERENCE = "recorded in the reference statistics (no --features given)"


@dataclass
class FeatureOptions:
    """``layer``: feature layer (default ``pool`` for FID/KID, ``logits_unbiased`` for IS, else the extractor's
    first). ``resize``: Inception resize, ``tf1`` (TF 1.x bilinear, default, matches TTUR/torch-fidelity) or
    ``clean`` (clean-fid's PIL bicubic); for the ``mnist`` extractor the size policy ``crop`` (default) or ``resize``
    (:mod:`gan_eval.io.resize`). ``precision``: Inception compute precision, fp32 (default, IEEE), fp64, or on CUDA tf32/bf16/fp16 (reduced:
    measure the FID change on your data with ``benchmarks/speed/inception_stats.py --precisions``). ``batch_size``: images per
    extractor pass (memory only; ``--batch-size`` caps it)."""

    layer: str | None = None
    resize: str | None = None
    precision: str | None = None
    batch_size: int = 128


@dataclass
class ReferenceFeatureOptions(FeatureOptions):
    """The feature options, plus ``cache``: keep an image reference's statistics in the cache
    (:mod:`gan_eval.io.cache`) and reuse them while the reference and the extractor are unchanged."""

    cache: bool = True


def recorded_features(request: ScoreRequest) -> dict[str, Any]:
    """The extractor ``describe()`` and layer recorded in the reference, when ``--features`` is not given and the
    reference is a gan-eval statistics file (a pytorch-fid/TTUR file records none); else empty."""
    if request.features is not None or request.reference is None or not is_stats_file(request.reference):
        return {}
    meta = read_meta(request.reference)
    if not meta.get("extractor"):
        return {}
    return {"spec": recorded_spec(meta["extractor"], request.reference), "extractor": meta["extractor"], "layer": meta.get("layer")}


def extractor_for(
    request: ScoreRequest, options: FeatureOptions, preferred: tuple[str, ...], default: str
) -> tuple[FeatureExtractor, str]:
    """The extractor and layer (see the module docstring); ``default`` is the metric's declared extractor."""
    recorded = recorded_features(request)
    extractor = make_extractor(
        recorded["spec"] if recorded else request.features or default,
        request.device,
        request.weights,
        resize=options.resize or (recorded["extractor"].get("resize") if recorded else None),
        precision=options.precision,
    )
    layer = options.layer or recorded.get("layer")
    return extractor, check_layer(extractor, layer) if layer else default_layer(extractor, preferred)


def sample_statistics(
    request: ScoreRequest, options: FeatureOptions, extractor: FeatureExtractor, layer: str, keep_features: bool = False
) -> tuple[GaussianStats, torch.Tensor | None]:
    """Statistics (and optionally features) of the request's samples."""
    return collect_statistics(
        request.samples,
        extractor,
        layer,
        batch_size=min(request.batch_size, options.batch_size),
        device=request.device,
        value_range=request.range_of(request.samples),
        progress=request.progress,
        keep_features=keep_features,
    )


def reference_statistics(
    request: ScoreRequest, options: ReferenceFeatureOptions, extractor: FeatureExtractor, layer: str, metric: str,
    keep_features: bool = False,
) -> tuple[StatsFile, dict[str, Any]]:
    """The reference as a :class:`StatsFile` and a description of it for the result's protocol (with the feature
    dimension, which tells e.g. the mnist extractor's 128-d grayscale features from its 384-d Stacked-MNIST ones).
    Call it before computing the samples' features: a statistics file of another feature space, or of images
    whose range cannot be compared with the samples', fails at once."""
    if request.reference is None:
        raise GanEvalError(f"metric {metric} needs --reference: a statistics .npz (`gan-eval stats`), an image file or a folder")
    request.range_of(request.samples)  # first, so that a reference whose range cannot be compared fails at once
    if is_stats_file(request.reference):
        loaded = load_stats(request.reference)
        # Refuse a reference from another feature space before spending time on the samples' features.
        check_compatible({"extractor": extractor.describe(), "layer": layer}, loaded.moments.meta, "--features", request.reference)
        if keep_features and loaded.features is None:
            raise GanEvalError(
                f"{request.reference}: holds no features, which {metric} needs; pass the images, or rebuild it with"
                " `gan-eval stats --keep-features`"
            )
        record_statistics_range(request, loaded)
        kind = "gan-eval statistics" if loaded.moments.meta else "mu/sigma statistics (pytorch-fid/TTUR format, no metadata)"
        described = {"reference": request.reference, "reference_kind": kind, "n_reference": loaded.moments.n, "feature_dim": loaded.moments.dim}
        if recorded_features(request):
            described["features_from"] = FROM_REFERENCE
        return loaded, described
    cached = None
    if options.cache and Path(request.reference).exists():
        identity = {
            "extractor": extractor.describe(), "layer": layer, "features": keep_features, "device": request.device.type,
            "value_range": request.reference_range,  # "auto" resolves from the content, which the key holds
            "skip_unreadable": request.skip_unreadable,
        }
        cached = reference_stats_path(request.reference, identity)
        if cached.is_file():
            try:
                loaded = load_stats(cached)
            except GanEvalError:  # a damaged cache entry is recomputed and replaced, not reported
                pass
            else:
                _record_from_statistics(request, loaded)
                described = {"reference": request.reference, "reference_kind": "images (cached statistics)", "cache": str(cached)}
                return loaded, {**described, "n_reference": loaded.moments.n, "feature_dim": loaded.moments.dim}
    source = as_source(request.reference, skip_unreadable=request.skip_unreadable)
    stats, features = collect_statistics(
        source, extractor, layer, batch_size=min(request.batch_size, options.batch_size), device=request.device,
        value_range=request.range_of(source, "reference"), progress=request.progress, keep_features=keep_features,
    )
    if cached is not None:
        request.on_success.append(lambda: save_stats(cached, stats, features))
    loaded = StatsFile(stats.moments(), stats, features)
    return loaded, {"reference": request.reference, "reference_kind": "images", "n_reference": stats.count, "feature_dim": stats.dim}


def record_statistics_range(request: ScoreRequest, loaded: StatsFile) -> None:
    """A statistics reference fixed its images' range when it was made: refuse ``--reference-range``, then
    :func:`_record_from_statistics`."""
    if request.reference_range != "auto":
        raise GanEvalError(
            f"--reference-range {request.reference_range}: {request.reference} holds statistics, whose images' range was"
            " fixed when they were made (`gan-eval stats --range`); drop --reference-range"
        )
    _record_from_statistics(request, loaded)


def _record_from_statistics(request: ScoreRequest, loaded: StatsFile) -> None:
    """Record the images' range that statistics recorded (checked against the samples') and the unreadable
    files left out when they were made (``--skip-unreadable``)."""
    recorded = ValueRange.from_meta(loaded.moments.meta)
    if recorded is not None:
        request.record_range("reference", recorded)
    if loaded.moments.meta.get("skipped_unreadable"):
        request.skipped["reference"] = loaded.moments.meta["skipped_unreadable"]


@dataclass
class VectorPair:
    """Samples and reference as N x D float64 vectors of one feature space (on the request's device).

    ``features``: ``"as given"`` or the extractor's name; ``features_from``: ``--features``, the metric's
    default, the reference statistics, or ``as given``."""

    samples: torch.Tensor
    reference: torch.Tensor
    features: str
    reference_name: str
    features_from: str


def vector_pair(request: ScoreRequest, default: str, n_reference: int) -> VectorPair:
    """The request's samples and reference in one feature space; ``default`` is the metric's declared extractor
    and ``n_reference`` the draws from a mixture reference. A gan-eval statistics reference with kept features
    gives its features as they are, and the samples go through the extractor and layer it records."""
    samples = in_memory(request.samples)
    if request.reference is not None and is_stats_file(request.reference):
        return _pair_with_statistics(request, samples)
    common = {"device": request.device, "weights": request.weights, "progress": request.progress}
    ref = reference_source(request.reference, n_reference, request.seed + 1, request.skip_unreadable)
    samples_range, reference_range = request.range_if_images(samples), request.range_if_images(ref, "reference")
    fake, space = sample_vectors(samples, request.features, default, value_range=samples_range, **common)
    real, _ = sample_vectors(ref, request.features, default, value_range=reference_range, **common)
    if real.shape[1] != fake.shape[1]:
        raise GanEvalError(
            f"{ref.name}: reference vectors are {real.shape[1]}-D but samples are {fake.shape[1]}-D; use the same features for both"
        )
    origin = "--features" if request.features else ("as given" if space == "as given" else "the metric's default")
    return VectorPair(fake, real, space, ref.name, origin)


def _pair_with_statistics(request: ScoreRequest, samples: SampleSource) -> VectorPair:
    reference = str(request.reference)
    loaded = load_stats(reference)
    meta = loaded.moments.meta
    if not meta or loaded.features is None:
        raise GanEvalError(
            f"{reference}: holds {'no features' if meta else 'only mu/sigma'}, which this metric needs; pass the reference"
            " images, or statistics made with `gan-eval stats --keep-features`"
        )
    record_statistics_range(request, loaded)
    recorded = recorded_spec(meta["extractor"], reference)
    spec = request.features or recorded
    resize = meta["extractor"].get("resize") if spec == recorded else None
    extractor = make_extractor(spec, request.device, request.weights, resize=resize)
    check_compatible({"extractor": extractor.describe(), "layer": meta.get("layer")}, meta, "--features", reference)
    layer = check_layer(extractor, meta["layer"])
    fake = features_of(
        samples, extractor, layer, device=request.device, value_range=request.range_of(samples), progress=request.progress
    )
    origin = "--features" if request.features else FROM_REFERENCE
    return VectorPair(fake.to(request.device), loaded.features.to(request.device, torch.float64), extractor.name, reference, origin)
