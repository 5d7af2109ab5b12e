"""A sample source held in memory, for metrics that read their samples more than once (MS-SSIM pairs)."""
from __future__ import annotations

from gan_eval.io.samples import ArraySource, SampleSource


def in_memory(source: SampleSource) -> SampleSource:
    """The source's samples held in memory, so that a generator is sampled once however often a metric reads
    them; a value range the source declares (a generator's latent spec) is kept."""
    if isinstance(source, ArraySource):
        return source
    held = ArraySource(source.array(), source.name)
    held.value_range = getattr(source, "value_range", None)
    return held
