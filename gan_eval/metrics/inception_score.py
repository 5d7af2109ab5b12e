"""Inception Score (Salimans et al. 2016, "Improved Techniques for Training GANs"):

    IS = exp( E_x KL(p(y|x) || p(y)) ),

p(y|x) the softmax of the 1008-way Inception logits *without* the bias (as OpenAI's ``inception_score.py`` and
torch-fidelity compute them), p(y) the mean of p(y|x) within a split; samples are shuffled with
``np.random.RandomState(seed).permutation`` and cut into ``splits`` (10) consecutive parts
(``i * N // splits``); the score is the mean and (population) std over splits, in float64. Matches
torch-fidelity 0.4.0 ``metric_isc.py`` (whose default seed is 2020: pass ``--seed 2020`` for its exact numbers).

Proven by ``tests/test_fid.py::test_is_matches_torch_fidelity``: equal to torch-fidelity to 1e-4 relative.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gan_eval.errors import GanEvalError
from gan_eval.metrics.base import FeatureNeed, MetricResult, ScoreRequest, register_metric
from gan_eval.metrics.feature_inputs import FeatureOptions, extractor_for, sample_statistics
from gan_eval.options import positive

DEFAULT_FEATURES = "inception"


def inception_score(logits: torch.Tensor, splits: int = 10, seed: int | None = 0) -> tuple[float, float]:
    """(mean, std) of the IS over ``splits`` of N x C logits; ``seed`` None keeps the given order."""
    n = len(logits)
    if n < splits:
        raise GanEvalError(f"IS: {n} samples cannot be cut into {splits} splits; lower --set splits=N")
    x = logits.to(torch.float64)
    if seed is not None:
        x = x[torch.from_numpy(np.random.RandomState(seed).permutation(n)).to(x.device)]
    log_p = x.log_softmax(dim=1)
    scores = []
    for i in range(splits):
        part = log_p[i * n // splits : (i + 1) * n // splits]
        log_q = part.exp().mean(0).log()
        scores.append((part.exp() * (part - log_q)).sum(1).mean().exp())
    values = torch.stack(scores)
    return float(values.mean()), float(values.std(unbiased=False))


@dataclass
class ISOptions(FeatureOptions):
    """Plus ``splits`` (10) and ``shuffle`` (True: permute with the seed before splitting, as torch-fidelity)."""

    splits: int = positive(10)
    shuffle: bool = True


@register_metric(
    "is",
    options=ISOptions,
    summary="Inception Score (Salimans et al. 2016)",
    default_features=DEFAULT_FEATURES,
    features=FeatureNeed(("logits_unbiased", "logits"), keep=True, reference=False),
    statistic="class logits of the samples (splits)",
    reduction="gather",
)
def evaluate(request: ScoreRequest, options: ISOptions) -> MetricResult:
    extractor, layer = extractor_for(request, options, ("logits_unbiased", "logits"), DEFAULT_FEATURES)
    _, logits = sample_statistics(request, options, extractor, layer, keep_features=True)
    mean, std = inception_score(logits, options.splits, request.seed if options.shuffle else None)
    return MetricResult(
        metric="is",
        values={"is": mean, "is_std": std},
        protocol={"samples": request.samples.name, "features": extractor.describe(), "layer": layer},
    )
