"""Running a feature extractor over a sample source in batches: the ``inputs -> features`` arrow."""
from __future__ import annotations

from typing import Callable, Iterable, Iterator

import torch

from gan_eval.errors import GanEvalError
from gan_eval.features.base import FEATURES, FeatureExtractor
from gan_eval.io.images import to_unit_float
from gan_eval.io.ranges import ValueRange, check_batch, resolve_range
from gan_eval.io.samples import SampleSource


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
        check_batch(batch, rng, source.name)
        yield to_unit_float(batch, rng.range, source.name)


def layer_features(extractor: FeatureExtractor, images: torch.Tensor, layer: str, name: str) -> torch.Tensor:
    """``layer`` of the extractor on one batch, N x D; an extractor's refusal (e.g. an image size it does not
    take) is re-raised naming ``name``, the file or side the images came from, since extractors see no names."""
    try:
        return extractor(images)[layer].flatten(1)
    except GanEvalError as exc:
        raise GanEvalError(f"{name}: {exc}") from None


def feature_batches(
    source: SampleSource,
    extractor: FeatureExtractor,
    layer: str,
    *,
    batch_size: int,
    device: torch.device,
    value_range: ValueRange | str = "auto",
    progress: Callable[..., Iterable] | None = None,
) -> Iterator[torch.Tensor]:
    """Features of ``layer`` for each batch of images, as float64 CPU tensors (statistics accumulate in float64)."""
    with torch.inference_mode():
        for images in image_batches(source, batch_size, value_range, progress, desc=f"{extractor.name} features"):
            yield layer_features(extractor, images.to(device), layer, source.name).to(torch.float64).cpu()


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
    """All features of ``layer`` for the source, concatenated (N x D float64)."""
    if isinstance(extractor, str):
        extractor = FEATURES.get(extractor)(device=torch.device(device))
    parts = feature_batches(
        source, extractor, layer, batch_size=batch_size, device=torch.device(device), value_range=value_range, progress=progress
    )
    return torch.cat(list(parts))
