"""Running a feature extractor over a sample source in batches: the ``inputs -> features -> statistics`` arrow,
one batched pass for every layer a call needs.

:func:`extract` is the only loop that feeds batches to an extractor: each batch is range-checked, mapped to
float32 [0, 1] (:mod:`gan_eval.io.images`), passed once through the extractor, and every requested layer's
features are added to that layer's :class:`~gan_eval.stats.gaussian.GaussianStats` (a *sum* statistic, float64
on the extractor's device) and, for layers whose features are kept (a *gather* statistic: k-NN, kernels,
k-means), appended as float32 CPU rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Mapping

import torch

from gan_eval.errors import GanEvalError
from gan_eval.features.base import FEATURES, FeatureExtractor
from gan_eval.io.images import to_unit_float
from gan_eval.io.ranges import ValueRange, check_batch, resolve_range
from gan_eval.io.samples import SampleSource
from gan_eval.stats.dist import gather_rows, shard, world
from gan_eval.stats.gaussian import GaussianStats


def unit_images(batch: torch.Tensor, value_range: ValueRange, name: str) -> torch.Tensor:
    """One batch checked to lie within ``value_range`` and mapped to float32 N x C x H x W in [0, 1]."""
    check_batch(batch, value_range, name)
    return to_unit_float(batch, value_range.range, name)


def image_batches(
    source: SampleSource,
    batch_size: int,
    value_range: ValueRange | str = "auto",
    progress: Callable[..., Iterable] | None = None,
    desc: str = "images",
) -> Iterator[torch.Tensor]:
    """Batches of the source as float32 N x C x H x W in [0, 1] (the core's image convention); ``value_range``
    is resolved by :func:`~gan_eval.io.ranges.resolve_range`, and every batch is checked to lie within it."""
    rng = resolve_range(source, value_range)
    batches: Iterable[torch.Tensor] = source.batches(batch_size)
    if progress is not None:
        batches = progress(batches, total=-(-len(source) // batch_size), desc=desc)
    for batch in batches:
        yield unit_images(batch, rng, source.name)


def batch_layers(extractor: FeatureExtractor, images: torch.Tensor, layers: Iterable[str], name: str) -> dict[str, torch.Tensor]:
    """The requested layers of the extractor on one batch, each N x D; an extractor's refusal (e.g. an image size
    it does not take) is re-raised naming ``name``, the file or side the images came from."""
    try:
        out = extractor(images)
    except GanEvalError as exc:
        raise GanEvalError(f"{name}: {exc}") from None
    return {layer: out[layer].flatten(1) for layer in layers}


def layer_features(extractor: FeatureExtractor, images: torch.Tensor, layer: str, name: str) -> torch.Tensor:
    """``layer`` of the extractor on one batch, N x D (see :func:`batch_layers`)."""
    return batch_layers(extractor, images, (layer,), name)[layer]


@dataclass
class LayerFeatures:
    """What one pass keeps of one layer: its Gaussian statistics, and the features themselves when kept."""

    stats: GaussianStats
    features: torch.Tensor | None = None


def extract(
    source: SampleSource,
    extractor: FeatureExtractor,
    layers: Mapping[str, bool],
    *,
    batch_size: int,
    device: torch.device | str,
    value_range: ValueRange | str = "auto",
    progress: Callable[..., Iterable] | None = None,
) -> dict[str, LayerFeatures]:
    """One pass of ``extractor`` over ``source``; ``layers`` maps each layer to whether its features are kept.

    Each statistics' ``meta`` records the extractor's ``describe()``, the layer, the images' value range
    (resolved from ``value_range``, with where it came from) and the source name. Under ``torchrun`` each rank
    passes its rank-strided share and the results are reduced exactly (:mod:`gan_eval.stats.dist`): statistics
    summed, kept features gathered in sample order, so every rank holds the whole.
    """
    device = torch.device(device)
    rng = resolve_range(source, value_range)  # of the whole source, before it is shared out
    n_total, local = len(source), shard(source)
    if len(local) == 0:
        raise GanEvalError(f"{source.name}: {n_total} samples are fewer than the {world()[1]} torchrun ranks; run fewer ranks")
    base = {"extractor": extractor.describe(), **rng.to_meta(), "source": source.name}
    if getattr(source, "skipped", None):  # a folder read with skip_unreadable
        base["skipped_unreadable"] = len(source.skipped)
    stats: dict[str, GaussianStats] = {}
    kept: dict[str, list[torch.Tensor]] = {layer: [] for layer, keep in layers.items() if keep}
    with torch.inference_mode():
        for images in image_batches(local, batch_size, rng, progress, desc=f"{extractor.name} features"):
            for layer, features in batch_layers(extractor, images.to(device), layers, source.name).items():
                if layer not in stats:
                    stats[layer] = GaussianStats.empty(features.shape[1], device, {**base, "layer": layer})
                stats[layer].add_(features)
                if layer in kept:
                    kept[layer].append(features.to("cpu", torch.float32))
    if not stats:  # sources are never empty (check_array); an empty folder fails before this
        raise GanEvalError(f"{source.name}: holds no samples")
    return {
        layer: LayerFeatures(stats[layer].reduced_over_ranks(), gather_rows(torch.cat(kept[layer]), n_total) if layer in kept else None)
        for layer in layers
    }


def features_of(
    source: SampleSource,
    extractor: FeatureExtractor | str,
    layer: str,
    *,
    batch_size: int = 256,
    device: torch.device | str = "cpu",
    value_range: ValueRange | str = "auto",
    progress: Callable[..., Iterable] | None = None,
) -> torch.Tensor:
    """All features of ``layer`` for the source (N x D float32, through :func:`extract`)."""
    if isinstance(extractor, str):
        extractor = FEATURES.get(extractor)(device=torch.device(device))
    done = extract(source, extractor, {layer: True}, batch_size=batch_size, device=device, value_range=value_range, progress=progress)
    return done[layer].features
