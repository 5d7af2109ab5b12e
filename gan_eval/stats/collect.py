"""Streaming a sample source through a feature extractor into :class:`GaussianStats` (the features -> statistics
arrow), accumulated in float64 on the extractor's device so the GPU is not starved by CPU matrix products."""
from __future__ import annotations

from typing import Callable, Iterable

import torch

from gan_eval.features.base import FeatureExtractor
from gan_eval.features.extract import image_batches, layer_features
from gan_eval.io.ranges import ValueRange, resolve_range
from gan_eval.io.samples import SampleSource
from gan_eval.stats.gaussian import GaussianStats


def collect_statistics(
    source: SampleSource,
    extractor: FeatureExtractor,
    layer: str,
    *,
    batch_size: int,
    device: torch.device | str,
    value_range: ValueRange | str = "auto",
    progress: Callable[..., Iterable] | None = None,
    keep_features: bool = False,
) -> tuple[GaussianStats, torch.Tensor | None]:
    """Statistics of ``layer`` over the whole source, and the float32 features themselves when ``keep_features``.

    ``meta`` records the extractor's ``describe()``, the layer, the images' value range (resolved by
    :func:`~gan_eval.io.ranges.resolve_range` from ``value_range``, with where it came from) and the source name.
    """
    device = torch.device(device)
    rng = resolve_range(source, value_range)
    meta = {"extractor": extractor.describe(), "layer": layer, **rng.to_meta(), "source": source.name}
    if getattr(source, "skipped", None):  # a folder read with skip_unreadable
        meta["skipped_unreadable"] = len(source.skipped)
    stats: GaussianStats | None = None
    kept = []
    with torch.inference_mode():
        for images in image_batches(source, batch_size, rng, progress, desc=f"{extractor.name} features"):
            features = layer_features(extractor, images.to(device), layer, source.name)
            if stats is None:
                stats = GaussianStats.empty(features.shape[1], device, meta)
            stats.add_(features)
            if keep_features:
                kept.append(features.to("cpu", torch.float32))
    assert stats is not None  # sources are never empty (check_array)
    return stats, (torch.cat(kept) if keep_features else None)
