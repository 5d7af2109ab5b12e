"""What the feature metrics share, on top of the call's one features stage (:mod:`gan_eval.features.stage`):
choosing the extractor and layer from a request (one resolver for every metric), planning the layers each
metric reads so one pass serves them all, and reading the reference as statistics (our npz, a pytorch-fid/TTUR
npz, or statistics passed from Python) or as images (a file, a folder or an array, passed through the same
extractor, with its statistics cached); for PRDC, NDB and birthday, samples and reference as vectors of one
feature space.

The extractor is ``--features`` (a name, ``pkg.module:factory``, or from Python an ``nn.Module``), else the one
recorded in a gan-eval statistics reference (its name, layer and resize; its weights must then be found again
and hash the same), else the metric's default. A recorded ``pkg.module:factory`` is imported again; the
result's protocol says where the choice came from."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from gan_eval.errors import GanEvalError
from gan_eval.features.base import FeatureExtractor
from gan_eval.features.pixels import image_shape_of
from gan_eval.features.resolve import check_layer, default_layer, recorded_spec
from gan_eval.io.cache import reference_stats_path
from gan_eval.io.ranges import ValueRange, holds_images
from gan_eval.io.samples import SAMPLE_SUFFIXES, ArraySource, SampleSource, as_source
from gan_eval.io.stats_file import StatsFile, is_stats_file, load_stats, save_stats
from gan_eval.metrics.base import MetricSpec, ScoreRequest
from gan_eval.options import positive
from gan_eval.stats.gaussian import GaussianStats, check_compatible

#: the protocol's ``features_from`` when the extractor came from a statistics reference
FROM_REFERENCE = "recorded in the reference statistics (no --features given)"


@dataclass
class FeatureOptions:
    """``layer``: feature layer (default ``pool`` for FID/KID/PRDC, ``logits_unbiased`` for IS, else the extractor's
    first). ``resize``: Inception resize, ``tf1`` (TF 1.x bilinear, default, matches TTUR/torch-fidelity) or
    ``clean`` (clean-fid's PIL bicubic); for the ``mnist`` extractor the size policy ``crop`` (default) or ``resize``
    (:mod:`gan_eval.io.resize`). ``precision``: Inception compute precision, fp32 (default, IEEE), fp64, or on CUDA tf32/bf16/fp16 (reduced:
    measure the FID change on your data with ``benchmarks/speed/inception_stats.py --precisions``). ``batch_size``: images per
    extractor pass (memory only; ``--batch-size`` caps it)."""

    layer: str | None = None
    resize: str | None = None
    precision: str | None = None
    batch_size: int = positive(128)


@dataclass
class ReferenceFeatureOptions(FeatureOptions):
    """The feature options, plus ``cache``: keep an image reference's statistics in the cache
    (:mod:`gan_eval.io.cache`) and reuse them while the reference and the extractor are unchanged."""

    cache: bool = True


def reference_label(request: ScoreRequest) -> str:
    """How the reference is named in messages and protocols: its path or name, or what was passed from Python."""
    reference = request.reference
    if isinstance(reference, (str, Path)):
        return str(reference)
    return getattr(reference, "name", None) or f"<{type(reference).__name__}>"


def reference_statistics_file(request: ScoreRequest) -> StatsFile | None:
    """The reference as statistics (a statistics npz, or statistics passed from Python), else None."""
    reference = request.reference
    if isinstance(reference, StatsFile):
        return reference
    if isinstance(reference, (str, Path)) and is_stats_file(reference):
        return request.stage.memo(("stats", str(reference)), lambda: load_stats(reference))
    return None


def reference_images(request: ScoreRequest) -> SampleSource | None:
    """The reference as a source of samples (an array or tensor from Python, a samples file, an image folder),
    read once per call; None for a statistics reference or a mixture name."""
    reference = request.reference
    if isinstance(reference, SampleSource):
        return reference
    if not isinstance(reference, (str, Path)) or is_stats_file(reference):
        return None
    path = Path(reference)
    if not (path.exists() or path.suffix.lower() in SAMPLE_SUFFIXES):
        return None
    return request.stage.memo(("source", str(reference)), lambda: as_source(path, skip_unreadable=request.skip_unreadable))


def recorded_features(request: ScoreRequest) -> dict[str, Any]:
    """The extractor ``describe()`` and layer recorded in the reference, when ``--features`` is not given and the
    reference is gan-eval statistics (a pytorch-fid/TTUR file records none); else empty."""
    if request.features is not None:
        return {}
    loaded = reference_statistics_file(request)
    meta = loaded.moments.meta if loaded is not None else {}
    if not meta.get("extractor"):
        return {}
    return {"spec": recorded_spec(meta["extractor"], reference_label(request)), "extractor": meta["extractor"], "layer": meta.get("layer")}


def extractor_for(request: ScoreRequest, options: Any, preferred: tuple[str, ...], default: str) -> tuple[FeatureExtractor, str]:
    """The extractor and layer (see the module docstring); ``default`` is the metric's declared extractor.
    ``options`` may carry ``layer``, ``resize`` and ``precision`` (:class:`FeatureOptions`)."""
    recorded = recorded_features(request)
    resize = getattr(options, "resize", None) or (recorded["extractor"].get("resize") if recorded else None)
    extractor = request.stage.extractor(
        recorded["spec"] if recorded else request.features or default,
        request.device,
        request.weights,
        resize=resize,
        precision=getattr(options, "precision", None),
    )
    layer = getattr(options, "layer", None) or recorded.get("layer")
    return extractor, check_layer(extractor, layer) if layer else default_layer(extractor, preferred)


def as_given(request: ScoreRequest) -> bool:
    """Samples used as the vectors they are: N x D arrays with no ``--features``."""
    return request.features is None and not holds_images(request.samples)


def plan_features(request: ScoreRequest, spec: MetricSpec, options: Any) -> None:
    """Tell the call's features stage which layers ``spec`` will read, so one pass per input serves every metric."""
    need = spec.needs.features
    if need is None or spec.default_features is None or as_given(request):
        return
    extractor, layer = extractor_for(request, options, need.layers, spec.default_features)
    request.stage.plan("samples", extractor, layer, need.keep)
    if need.reference:
        request.stage.plan("reference", extractor, layer, need.keep)


def _pass(request: ScoreRequest, options: Any, role: str, source: SampleSource, extractor: FeatureExtractor, layer: str, keep: bool):
    batch_size = min(request.batch_size, getattr(options, "batch_size", 128))
    return request.stage.layer(
        role, source, extractor, layer, keep, batch_size=batch_size, device=request.device,
        value_range=request.range_of(source, role), progress=request.progress,
    )


def sample_statistics(
    request: ScoreRequest, options: Any, extractor: FeatureExtractor, layer: str, keep_features: bool = False
) -> tuple[GaussianStats, torch.Tensor | None]:
    """Statistics (and optionally features) of the request's samples, from the call's one pass over them."""
    done = _pass(request, options, "samples", request.samples, extractor, layer, keep_features)
    return done.stats, done.features


def reference_statistics(
    request: ScoreRequest, options: Any, extractor: FeatureExtractor, layer: str, metric: str, keep_features: bool = False,
) -> tuple[StatsFile, dict[str, Any]]:
    """The reference as a :class:`StatsFile` and a description of it for the result's protocol (with the feature
    dimension, which tells e.g. the mnist extractor's 128-d grayscale features from its 384-d Stacked-MNIST ones).
    Call it before computing the samples' features: a statistics file of another feature space, or of images
    whose range cannot be compared with the samples', fails at once. Computed once per call and layer."""
    if request.reference is None:
        raise GanEvalError(f"metric {metric} needs --reference: a statistics .npz (`gan-eval stats`), an image file or a folder")
    request.range_of(request.samples)  # first, so that a reference whose range cannot be compared fails at once
    name = reference_label(request)
    loaded = reference_statistics_file(request)
    if loaded is not None:
        # Refuse a reference from another feature space before spending time on the samples' features.
        samples_side = f"{request.samples.name} (read with --features {extractor.name})"
        check_compatible({"extractor": extractor.describe(), "layer": layer}, loaded.moments.meta, samples_side, name)
        if keep_features and loaded.features is None:
            raise GanEvalError(
                f"{name}: holds {'no features' if loaded.moments.meta else 'only mu/sigma'}, which {metric} needs; pass the"
                " reference images, or statistics made with `gan-eval stats --keep-features`"
            )
        record_statistics_range(request, loaded)
        kind = "gan-eval statistics" if loaded.moments.meta else "mu/sigma statistics (pytorch-fid/TTUR format, no metadata)"
        described = {"reference": name, "reference_kind": kind, "n_reference": loaded.moments.n, "feature_dim": loaded.moments.dim}
        if recorded_features(request):
            described["features_from"] = FROM_REFERENCE
        return loaded, described
    source = reference_images(request)
    if source is None:
        missing = isinstance(request.reference, (str, Path)) and not Path(request.reference).exists()
        what = "no such file, folder or named reference (`gan-eval references`)" if missing else "not a statistics .npz, samples file or image folder"
        raise GanEvalError(f"{name}: {what}; {metric} compares against statistics, images or samples")
    keep = request.stage.planned_keep("reference", extractor, layer, keep_features)
    return request.stage.memo(("reference", id(extractor), layer, keep), lambda: _image_reference(request, options, source, extractor, layer, keep))


def _image_reference(
    request: ScoreRequest, options: Any, source: SampleSource, extractor: FeatureExtractor, layer: str, keep: bool
) -> tuple[StatsFile, dict[str, Any]]:
    """Statistics of reference images: from the cache when an entry matches, else from one pass (cached on success)."""
    name = reference_label(request)
    cached = None
    if getattr(options, "cache", False) and isinstance(request.reference, (str, Path)):
        identity = {
            "extractor": extractor.describe(), "layer": layer, "features": keep, "device": request.device.type,
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
                described = {"reference": name, "reference_kind": "images (cached statistics)", "cache": str(cached)}
                return loaded, {**described, "n_reference": loaded.moments.n, "feature_dim": loaded.moments.dim}
    done = _pass(request, options, "reference", source, extractor, layer, keep)
    if cached is not None:
        request.on_success.append(lambda: save_stats(cached, done.stats, done.features))
    loaded = StatsFile(done.stats.moments(), done.stats, done.features)
    return loaded, {"reference": name, "reference_kind": "images", "n_reference": done.stats.count, "feature_dim": done.stats.dim}


def record_statistics_range(request: ScoreRequest, loaded: StatsFile) -> None:
    """A statistics reference fixed its images' range when it was made: refuse ``--reference-range``, then
    :func:`_record_from_statistics`."""
    if request.reference_range != "auto":
        raise GanEvalError(
            f"--reference-range {request.reference_range}: {reference_label(request)} holds statistics, whose images' range"
            " was fixed when they were made (`gan-eval stats --range`); drop --reference-range"
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


def check_same_dim(samples_name: str, samples_dim: int, reference_name: str, reference_dim: int, extractor: str | None) -> None:
    """One line when the two sides' features differ in dimension. Pixel features are the images' own values, so
    there the images differ (in channels or size) and the message says how, rather than advising --features."""
    if samples_dim == reference_dim:
        return
    said = f"{samples_name} has {samples_dim}-d features but {reference_name} has {reference_dim}-d"
    if extractor != "pixels":
        raise GanEvalError(f"{said}; use the same --features")
    shapes = image_shape_of(samples_dim), image_shape_of(reference_dim)
    if None in shapes:
        raise GanEvalError(f"{said}: pixel features are the images' values, so the images differ in channels or size; give both sides images of one shape")
    (ca, ha, wa), (cb, hb, wb) = shapes
    differ = ([f"{ca} vs {cb} channels"] if ca != cb else []) + ([f"{ha} x {wa} vs {hb} x {wb} pixels"] if (ha, wa) != (hb, wb) else [])
    raise GanEvalError(
        f"{said}: pixel features are the images' values, and the images differ ({', '.join(differ)});"
        f" convert one side to the other's {' and '.join(w for w, d in (('channels', ca != cb), ('size', (ha, wa) != (hb, wb))) if d)}"
    )


@dataclass
class VectorPair:
    """Samples and reference as N x D float64 vectors of one feature space (on the request's device).

    ``features``: ``"as given"`` or the extractor's ``describe()``; ``features_from``: ``--features``, the
    metric's default, the reference statistics, or ``as given``; ``layer``: the layer read (None as given)."""

    samples: torch.Tensor
    reference: torch.Tensor
    features: str | dict[str, Any]
    reference_name: str
    features_from: str
    layer: str | None = None


def _vectors(features: torch.Tensor, request: ScoreRequest) -> torch.Tensor:
    return features.to(request.device, torch.float64)


def vector_pair(request: ScoreRequest, options: Any, spec: MetricSpec, n_reference: int) -> VectorPair:
    """The request's samples and reference in one feature space. N x D samples with no ``--features`` are used
    as given, against an N x D reference file or ``n_reference`` draws of a mixture reference (seeded with the
    request's seed + 1); otherwise both sides go through the call's extractor and one pass each (a statistics
    reference made with ``--keep-features`` gives its features as they are)."""
    metric = spec.name
    if as_given(request) and reference_statistics_file(request) is None:
        return _pair_as_given(request, n_reference)
    extractor, layer = extractor_for(request, options, spec.needs.features.layers, spec.default_features)
    reference, described = reference_statistics(request, options, extractor, layer, metric, keep_features=True)
    _, fake = sample_statistics(request, options, extractor, layer, keep_features=True)
    check_same_dim(request.samples.name, fake.shape[1], described["reference"], reference.features.shape[1], extractor.name)
    origin = "--features" if request.features is not None else described.get("features_from", "the metric's default")
    return VectorPair(_vectors(fake, request), _vectors(reference.features, request), extractor.describe(), described["reference"], origin, layer)


def _pair_as_given(request: ScoreRequest, n_reference: int) -> VectorPair:
    name = reference_label(request)
    source = reference_images(request)
    if source is None:
        from gan_eval.references import get_reference

        source = ArraySource(get_reference(request.reference).sample(n_reference, request.seed + 1).numpy(), name=name)
    if holds_images(source):
        raise GanEvalError(f"{name}: holds images but {request.samples.name} holds N x D vectors; pass --features to read both")
    request.range_if_images(source, "reference")  # refuses --reference-range for vectors
    real, fake = torch.from_numpy(source.array()), torch.from_numpy(request.samples.array())
    if real.shape[1] != fake.shape[1]:
        raise GanEvalError(f"{name}: reference vectors are {real.shape[1]}-D but samples are {fake.shape[1]}-D; use the same features for both")
    return VectorPair(_vectors(fake, request), _vectors(real, request), "as given", name, "as given")


def sample_vectors(request: ScoreRequest, options: Any, spec: MetricSpec) -> tuple[torch.Tensor, str | dict[str, Any], str | None]:
    """The samples as N x D float64 vectors (as given, or through the call's extractor), the feature space
    (``"as given"`` or the extractor's ``describe()``) and the layer."""
    if as_given(request):
        return _vectors(torch.from_numpy(request.samples.array()), request), "as given", None
    extractor, layer = extractor_for(request, options, spec.needs.features.layers, spec.default_features)
    _, features = sample_statistics(request, options, extractor, layer, keep_features=True)
    return _vectors(features, request), extractor.describe(), layer
