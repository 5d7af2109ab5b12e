"""The features stage of one call: ONE resolver (extractors made once) and ONE batched pass per input and
extractor for every metric of the call (after torch-fidelity's shared feature cache and StyleGAN's
``metric_utils.compute_feature_stats_for_dataset``, which several metrics read).

Metrics first :meth:`FeatureStage.plan` the layers they will read (and whether they keep the features
themselves or only their Gaussian statistics); the first metric that asks for an input's features then runs
:func:`~gan_eval.features.extract.extract` once for the union of the planned layers, and every later metric
reads the result. ``passes`` counts the passes run, so a test (and the protocol) can check the promise.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Iterable

import torch

from gan_eval.features.base import FeatureExtractor
from gan_eval.features.extract import LayerFeatures, extract
from gan_eval.features.resolve import make_extractor
from gan_eval.io.ranges import ValueRange
from gan_eval.io.samples import SampleSource


class FeatureStage:
    """Extractors, planned layers and finished passes of one call (see the module docstring)."""

    def __init__(self) -> None:
        self._extractors: dict[str, FeatureExtractor] = {}
        self._planned: dict[tuple[str, int], dict[str, bool]] = defaultdict(dict)
        self._done: dict[tuple[str, int, int], tuple[SampleSource, dict[str, LayerFeatures]]] = {}
        self._memo: dict[Any, Any] = {}
        self.passes = 0

    def extractor(
        self, spec: str | torch.nn.Module | FeatureExtractor | None, device: torch.device, weights: str | Path | None, **settings: Any
    ) -> FeatureExtractor:
        """:func:`~gan_eval.features.resolve.make_extractor`, once per distinct (spec, weights, settings)."""
        if spec is not None and not isinstance(spec, str):
            key = f"object:{id(spec)}"
        else:
            key = json.dumps([spec, str(device), None if weights is None else str(weights), settings], sort_keys=True, default=str)
        if key not in self._extractors:
            self._extractors[key] = make_extractor(spec, device, weights, **settings)
        return self._extractors[key]

    def plan(self, role: str, extractor: FeatureExtractor, layer: str, keep: bool) -> None:
        """Declare that ``layer`` of ``role``'s input (``samples`` or ``reference``) will be read; ``keep``: the
        features themselves, not only their statistics."""
        planned = self._planned[(role, id(extractor))]
        planned[layer] = planned.get(layer, False) or keep

    def planned_keep(self, role: str, extractor: FeatureExtractor, layer: str, keep: bool) -> bool:
        """Whether some metric of the call keeps ``layer``'s features of ``role`` (or this one asks to)."""
        return keep or self._planned.get((role, id(extractor)), {}).get(layer, False)

    def layer(
        self,
        role: str,
        source: SampleSource,
        extractor: FeatureExtractor,
        layer: str,
        keep: bool,
        *,
        batch_size: int,
        device: torch.device,
        value_range: ValueRange | str,
        progress: Callable[..., Iterable] | None,
    ) -> LayerFeatures:
        """``layer`` of ``source`` through ``extractor``: from this call's pass over it when one already holds it,
        else from a new pass over every layer planned for it."""
        key = (role, id(source), id(extractor))
        held = self._done.get(key)
        if held is not None and layer in held[1] and (not keep or held[1][layer].features is not None):
            return held[1][layer]
        wanted = dict(self._planned.get((role, id(extractor)), {}))
        wanted[layer] = wanted.get(layer, False) or keep
        done = extract(source, extractor, wanted, batch_size=batch_size, device=device, value_range=value_range, progress=progress)
        self.passes += 1
        # the source is held with its result so that its id is not reused while the stage lives
        self._done[key] = (source, {**(held[1] if held else {}), **done})
        return done[layer]

    def hold(self, role: str, source: SampleSource, extractor: FeatureExtractor, layers: dict[str, LayerFeatures]) -> None:
        """Features of ``source`` computed elsewhere (a stream's accumulated statistics), read as this call's pass."""
        self._done[(role, id(source), id(extractor))] = (source, dict(layers))

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per call for ``key`` (a reference's statistics, a reference source read once)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]
