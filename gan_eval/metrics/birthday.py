"""The birthday-paradox test of support size (Arora & Zhang, "Do GANs actually learn the distribution?
An empirical study", 2017): find the most similar pairs among s samples and look for duplicates.

Procedure (the paper, Sec. 3): draw a batch of s samples, flag the 20 most similar pairs by a similarity
(Euclidean distance in pixel space here, or in any ``--features`` space), inspect them visually (``-o
pairs.png`` draws them), and repeat. If batches of size s contain a duplicate with probability >= 1/2, the
support size is about s^2. For a distribution uniform on N items, P(collision among s) ~ 1 -
exp(-s(s-1)/(2N)), 50 % at s ~ 1.177 sqrt(N).

This module finds the top pairs *exactly* (all of them, by exact k-NN: :func:`gan_eval.ops.knn.nearest_pairs`,
FAISS or torch, identical results), reports the duplicate rate at a distance threshold (fraction of samples
with another sample within ``threshold``; 0 = exact duplicates) and the support size N that makes that rate
expected under a uniform distribution: each sample has a duplicate with probability 1 - (1 - 1/N)^(s-1),
so N_hat = 1 / (1 - (1 - rate)^(1/(s-1))), and the s at which a collision is a coin flip, 1.177 sqrt(N_hat).

Caveats (the paper's own): the test gives an *upper* bound-like estimate of support only under the
uniformity assumption (a non-uniform distribution collides earlier, so N_hat underestimates the support of
its long tail); "duplicate" means near-duplicate by human judgement, which a distance threshold only
approximates (pixel distance is a weak similarity for natural images); and it measures diversity, not
quality or generalisation. Proven by ``tests/test_birthday.py`` (planted duplicates are all found, ranked
first; both backends agree; the estimate recovers N on a uniform distribution).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from gan_eval.errors import GanEvalError
from gan_eval.features.vectors import sample_vectors
from gan_eval.metrics.base import MetricResult, ScoreRequest, register_metric
from gan_eval.ops.knn import Pairs, knn, pairs_from_neighbours

DEFAULT_FEATURES = "pixels"


@dataclass
class Birthday:
    """Top pairs (indices into the samples scored) and the duplicate statistics of one batch of s samples."""

    pairs: Pairs
    n: int
    duplicate_rate: float
    threshold: float

    @property
    def support_estimate(self) -> float | None:
        """N with expected duplicate rate ``duplicate_rate`` among ``n`` uniform draws; None without duplicates."""
        return support_from_duplicate_rate(self.duplicate_rate, self.n)

    def values(self) -> dict[str, float | int | None]:
        support = self.support_estimate
        return {
            "n": self.n,
            "nearest_distance": float(self.pairs.distances[0]),
            "duplicate_rate": self.duplicate_rate,
            "support_estimate": support,
            "s_half_collision": None if support is None else 1.177 * math.sqrt(support),
        }


def support_from_duplicate_rate(rate: float, s: int) -> float | None:
    """The support size N of a uniform distribution where a sample has a duplicate among s with prob ``rate``."""
    if rate <= 0.0 or s < 2:
        return None
    if rate >= 1.0:
        return 1.0
    return 1.0 / -math.expm1(math.log1p(-rate) / (s - 1))


def collision_probability(s: int, support: float) -> float:
    """P(at least one duplicate among s uniform draws from N = ``support`` items) ~ 1 - exp(-s(s-1)/(2N))."""
    return -math.expm1(-s * (s - 1) / (2.0 * support))


def birthday(x: torch.Tensor, pairs: int = 20, threshold: float = 0.0, *, backend: str = "auto") -> Birthday:
    """The ``pairs`` closest pairs among the rows of ``x`` (s x D) and the duplicate rate at ``threshold``."""
    if threshold < 0:
        raise GanEvalError(f"birthday: threshold {threshold} must be >= 0 (a distance)")
    if len(x) < 2:
        raise GanEvalError(f"birthday: need at least 2 samples, got {len(x)}")
    nb = knn(x, x, min(pairs, len(x) - 1), exclude_self=True, backend=backend)
    nearest = nb.distances[:, 0]
    return Birthday(pairs_from_neighbours(nb, pairs), len(x), float((nearest <= threshold).double().mean()), threshold)


@dataclass
class BirthdayOptions:
    """``pairs``: closest pairs listed and drawn (20 as the paper). ``sample_size``: s, a seeded random subset
    (default: all samples). ``threshold``: distance at or below which two samples are duplicates (0: exact).
    ``backend``: k-NN backend auto, faiss or torch (identical results)."""

    pairs: int = 20
    sample_size: int | None = None
    threshold: float = 0.0
    backend: str = "auto"


@register_metric("birthday", options=BirthdayOptions, summary="closest pairs, duplicate rate, support size (birthday paradox)")
def evaluate(request: ScoreRequest, options: BirthdayOptions) -> MetricResult:
    source = request.samples
    x, space = sample_vectors(source, request.features, DEFAULT_FEATURES, device=request.device, progress=request.progress)
    chosen = torch.arange(len(x))
    if options.sample_size is not None:
        if not 2 <= options.sample_size <= len(x):
            raise GanEvalError(f"birthday: sample_size={options.sample_size} must be between 2 and the {len(x)} samples")
        gen = torch.Generator().manual_seed(request.seed)
        chosen = torch.randperm(len(x), generator=gen)[: options.sample_size]
        x = x[chosen.to(x.device)]
    result = birthday(x, options.pairs, options.threshold, backend=options.backend)
    first, second = chosen[result.pairs.first.cpu()], chosen[result.pairs.second.cpu()]
    files = []
    if request.output is not None:
        from gan_eval.plotting import plot_pairs

        title = f"{source.name}: {len(first)} closest pairs of {result.n} ({space} distance)"
        files.append(str(plot_pairs(source, first, second, result.pairs.distances.cpu(), request.output, title=title)))
    return MetricResult(
        metric="birthday",
        values=result.values(),
        details={"pairs": {"first": first.tolist(), "second": second.tolist(), "distance": result.pairs.distances.tolist()}},
        protocol={
            "samples": source.name,
            "features": space,
            "distance": "Euclidean",
            "sample_size": result.n,
            "threshold": options.threshold,
            "support_estimate": "N = 1 / (1 - (1 - duplicate_rate)^(1/(s-1))), uniform-support assumption",
        },
        files=files,
    )
