"""What FID, KID and IS share: choosing the extractor and layer from a request, and reading the reference as
statistics (our npz, a pytorch-fid/TTUR npz) or as images (a file or folder, passed through the same extractor)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from gan_eval.errors import GanEvalError
from gan_eval.features.base import FeatureExtractor
from gan_eval.features.resolve import check_layer, default_layer, make_extractor
from gan_eval.io.samples import as_source
from gan_eval.io.cache import reference_stats_path
from gan_eval.io.ranges import ValueRange
from gan_eval.io.stats_file import StatsFile, is_stats_file, load_stats, save_stats
from gan_eval.metrics.base import ScoreRequest
from gan_eval.stats.collect import collect_statistics
from gan_eval.stats.gaussian import GaussianStats, check_compatible


@dataclass
class FeatureOptions:
    """``layer``: feature layer (default ``pool`` for FID/KID, ``logits_unbiased`` for IS, else the extractor's
    first). ``resize``: Inception resize, ``tf1`` (TF 1.x bilinear, default, matches TTUR/torch-fidelity) or
    ``clean`` (clean-fid's PIL bicubic). ``precision``: Inception compute precision, fp32 (default, IEEE), fp64, or on CUDA tf32/bf16/fp16 (reduced:
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


def extractor_for(request: ScoreRequest, options: FeatureOptions, preferred: tuple[str, ...]) -> tuple[FeatureExtractor, str]:
    extractor = make_extractor(
        request.features, request.device, request.weights, resize=options.resize, precision=options.precision
    )
    layer = check_layer(extractor, options.layer) if options.layer else default_layer(extractor, preferred)
    return extractor, layer


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
    """The reference as a :class:`StatsFile` and a description of it for the result's protocol.
    Call it before computing the samples' features: a statistics file of another feature space, or of images
    whose range cannot be compared with the samples', fails at once."""
    if request.reference is None:
        raise GanEvalError(f"metric {metric} needs --reference: a statistics .npz (`gan-eval stats`), an image file or a folder")
    request.range_of(request.samples)  # first, so that a reference whose range cannot be compared fails at once
    if is_stats_file(request.reference):
        if request.reference_range != "auto":
            raise GanEvalError(
                f"--reference-range {request.reference_range}: {request.reference} holds statistics, whose images' range was"
                " fixed when they were made (`gan-eval stats --range`); drop --reference-range"
            )
        loaded = load_stats(request.reference)
        # Refuse a reference from another feature space before spending time on the samples' features.
        check_compatible({"extractor": extractor.describe(), "layer": layer}, loaded.moments.meta, "--features", request.reference)
        if keep_features and loaded.features is None:
            raise GanEvalError(
                f"{request.reference}: holds no features, which {metric} needs; pass the images, or rebuild it with"
                " `gan-eval stats --keep-features`"
            )
        recorded = ValueRange.from_meta(loaded.moments.meta)
        if recorded is not None:
            request.record_range("reference", recorded)
        _record_skipped(request, loaded)
        kind = "gan-eval statistics" if loaded.moments.meta else "mu/sigma statistics (pytorch-fid/TTUR format, no metadata)"
        return loaded, {"reference": request.reference, "reference_kind": kind, "n_reference": loaded.moments.n}
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
                request.record_range("reference", ValueRange.from_meta(loaded.moments.meta))
                _record_skipped(request, loaded)
                described = {"reference": request.reference, "reference_kind": "images (cached statistics)", "cache": str(cached)}
                return loaded, {**described, "n_reference": loaded.moments.n}
    source = as_source(request.reference, skip_unreadable=request.skip_unreadable)
    stats, features = collect_statistics(
        source, extractor, layer, batch_size=min(request.batch_size, options.batch_size), device=request.device,
        value_range=request.range_of(source, "reference"), progress=request.progress, keep_features=keep_features,
    )
    if cached is not None:
        save_stats(cached, stats, features)
    loaded = StatsFile(stats.moments(), stats, features)
    return loaded, {"reference": request.reference, "reference_kind": "images", "n_reference": stats.count}


def _record_skipped(request: ScoreRequest, loaded: StatsFile) -> None:
    """Unreadable files left out of the reference images when its statistics were made (``--skip-unreadable``)."""
    if loaded.moments.meta.get("skipped_unreadable"):
        request.skipped["reference"] = loaded.moments.meta["skipped_unreadable"]
