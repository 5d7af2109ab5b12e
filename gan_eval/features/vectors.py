"""Samples as one vector each, for metrics on a feature space (PRDC, birthday pairs, NDB).

N x D arrays (precomputed features, or points of a 2-D mixture) are used as they are when no extractor is
named; image arrays go through a feature extractor (the metric's default unless ``features`` names one, a
registered name or ``pkg.module:factory``, with ``weights`` when given), taking its ``pool`` layer when it
has one, else its first layer. Reference files load the same way; a known mixture name
(``ring8``) as a reference is sampled with the request's seed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

import torch

from gan_eval.features.extract import features_of
from gan_eval.io.ranges import ValueRange
from gan_eval.features.resolve import default_layer, make_extractor
from gan_eval.io.samples import SAMPLE_SUFFIXES, ArraySource, SampleSource, as_source


def sample_vectors(
    source: SampleSource,
    features: str | None,
    default: str,
    *,
    value_range: ValueRange | None,
    device: torch.device,
    weights: str | None = None,
    batch_size: int = 256,
    progress: Callable[..., Iterable] | None = None,
) -> tuple[torch.Tensor, str]:
    """(N x D float64 vectors on ``device``, the name of the feature space used: ``"as given"`` or an extractor).
    ``value_range``: of image samples, resolved by the caller (None for vectors)."""
    array = source.array()
    if features is None and array.ndim == 2:
        return torch.from_numpy(array).to(device=device, dtype=torch.float64), "as given"
    extractor = make_extractor(features or default, device, weights)
    layer = default_layer(extractor, ("pool",))
    vectors = features_of(source, extractor, layer, batch_size=batch_size, device=device, value_range=value_range or "auto", progress=progress)
    return vectors.to(device), extractor.name


def in_memory(source: SampleSource) -> SampleSource:
    """The source's samples held in memory, so that a generator is sampled once however often a metric reads
    them; a value range the source declares (a generator's latent spec) is kept."""
    if isinstance(source, ArraySource):
        return source
    held = ArraySource(source.array(), source.name)
    held.value_range = getattr(source, "value_range", None)
    return held


def reference_source(reference: str, n: int, seed: int, skip_unreadable: bool = False) -> SampleSource:
    """A reference given on the command line: a samples file or image folder (``skip_unreadable``: leaving out its
    files that cannot be decoded), else a known mixture sampled ``n`` times."""
    path = Path(reference)
    if path.exists() or path.suffix.lower() in SAMPLE_SUFFIXES:
        return as_source(path, skip_unreadable=skip_unreadable)
    from gan_eval.references import get_reference

    return ArraySource(get_reference(reference).sample(n, seed).numpy(), name=reference)
