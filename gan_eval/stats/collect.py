"""Streaming a sample source through a feature extractor into :class:`GaussianStats` (the features -> statistics
arrow) for one layer: :func:`gan_eval.features.extract.extract`, the one batched pass, asked for that layer."""
from __future__ import annotations

from typing import Callable, Iterable

import torch

from gan_eval.features.base import FeatureExtractor
from gan_eval.features.extract import extract
from gan_eval.io.ranges import ValueRange
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
    """Statistics of ``layer`` over the whole source, and the float32 features themselves when ``keep_features``."""
    done = extract(
        source, extractor, {layer: keep_features}, batch_size=batch_size, device=device, value_range=value_range, progress=progress
    )[layer]
    return done.stats, done.features
