"""The birthday-paradox test of support size (Arora & Zhang, "Do GANs actually learn the distribution?
An empirical study", 2017): find the most similar pairs among s samples and look for duplicates.

Procedure (the paper, Sec. 3): draw a batch of s samples, flag the 20 most similar pairs by a similarity
(Euclidean distance in pixel space here, or in any ``--features`` space), inspect them visually (``-o
pairs.png`` draws them), and repeat. If batches of size s contain a duplicate with probability >= 1/2, the
support size is about s^2. For a distribution uniform on N items, P(collision among s) ~ 1 -
exp(-s(s-1)/(2N)), 50 % at s ~ 1.177 sqrt(N).

This module finds the top pairs *exactly* (all of them, by exact k-NN: :mod:`gan_eval.ops.knn`, FAISS or
torch, identical results) and, at a distance ``threshold`` (0 = exact duplicates), reports the duplicate
rate (fraction of samples with another sample within it), the number c of duplicate pairs, and the support
size that makes c expected under a uniform distribution: E[c] = C(s, 2) / N, so N_hat = s(s-1) / (2c) (the
collision-count estimator behind the paper's s^2 rule), with 1.177 sqrt(N_hat), the s at which a collision
is a coin flip. c is counted in the ``pairs``-nearest-neighbour lists: exact unless some sample has
``pairs`` or more duplicates, where it is a lower bound (then N_hat is an upper bound; ``duplicate_pairs_exact``
says which).

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

from gan_eval.artefacts import ImagePairs
from gan_eval.errors import GanEvalError
from gan_eval.io.images import to_unit_float
from gan_eval.io.ranges import ValueRange
from gan_eval.metrics.base import METRICS, FeatureNeed, MetricResult, ScoreRequest, register_metric
from gan_eval.metrics.feature_inputs import FeatureOptions, sample_vectors, vector_pair
from gan_eval.ops.knn import Pairs, knn, pairs_from_neighbours
from gan_eval.options import positive

DEFAULT_FEATURES = "pixels"
#: the quantile of the reference's nearest-pair distances suggested as a duplicate threshold
SUGGESTED_QUANTILE = 0.01


@dataclass
class Birthday:
    """Top pairs (indices into the samples scored) and the duplicate statistics of one batch of s samples."""

    pairs: Pairs
    n: int
    duplicate_rate: float
    duplicate_pairs: int
    duplicate_pairs_exact: bool
    threshold: float
    nearest_distances: torch.Tensor | None = None  # each sample's distance to its nearest other sample

    @property
    def support_estimate(self) -> float | None:
        """N_hat = s(s-1) / (2c) for c duplicate pairs among s samples; None without duplicates."""
        return support_from_collisions(self.duplicate_pairs, self.n)

    def values(self) -> dict[str, float | int | bool | None]:
        support = self.support_estimate
        return {
            "n": self.n,
            "nearest_distance": float(self.pairs.distances[0]),
            "median_nearest_distance": None if self.nearest_distances is None else float(self.nearest_distances.median()),
            "duplicate_rate": self.duplicate_rate,
            "duplicate_pairs": self.duplicate_pairs,
            "duplicate_pairs_exact": self.duplicate_pairs_exact,
            "support_estimate": support,
            "s_half_collision": None if support is None else 1.177 * math.sqrt(support),
        }


def support_from_collisions(collisions: int, s: int) -> float | None:
    """The support size N of a uniform distribution with ``collisions`` expected duplicate pairs among s draws."""
    if collisions <= 0:
        return None
    return s * (s - 1) / (2.0 * collisions)


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
    within = nb.distances <= threshold
    n = len(x)
    rows = torch.arange(n, device=x.device)[:, None].expand_as(nb.indices)
    keys = (torch.minimum(rows, nb.indices) * n + torch.maximum(rows, nb.indices))[within]
    exact = nb.indices.shape[1] == n - 1 or not bool(within[:, -1].any())
    return Birthday(
        pairs_from_neighbours(nb, pairs), n, float(within[:, 0].double().mean()), len(torch.unique(keys)), exact, threshold,
        nb.distances[:, 0],
    )


def suggested_threshold(reference: torch.Tensor, quantile: float = SUGGESTED_QUANTILE, backend: str = "auto") -> float:
    """A duplicate threshold from real data: the ``quantile`` of the reference's nearest-other-sample distances.
    Real samples are (almost) never duplicates, so pairs of generated samples closer than nearly all real
    nearest pairs are candidate duplicates; the paper picks by eye, this puts the choice on the data's scale."""
    nearest = knn(reference, reference, 1, exclude_self=True, backend=backend).distances[:, 0]
    return float(torch.quantile(nearest.double().cpu(), quantile))


def pair_grid(
    source, value_range: ValueRange | None, first: torch.Tensor, second: torch.Tensor, distances: torch.Tensor, space: str, s: int
) -> ImagePairs:
    """The pair grid for visual inspection (the paper's procedure): the two images of each pair, stacked."""
    array = source.array()
    if value_range is None:
        raise GanEvalError(f"{source.name}: samples of shape {array.shape} are not images, so there is no pair grid to draw; drop -o")
    a = to_unit_float(torch.from_numpy(array[first.numpy()]), value_range.range, source.name)
    b = to_unit_float(torch.from_numpy(array[second.numpy()]), value_range.range, source.name)
    labels = [f"#{p + 1}  d={float(d):.3g}" for p, d in enumerate(distances)]
    title = f"{source.name}: {len(first)} closest pairs of {s} ({space} distance)"
    return ImagePairs(a, b, labels, title, columns=10)


@dataclass
class BirthdayOptions(FeatureOptions):
    """The feature options, plus ``pairs``: closest pairs listed and drawn (20 as the paper). ``sample_size``: s, a seeded random subset
    (default: all samples). ``threshold``: distance at or below which two samples are duplicates (0: exact).
    ``backend``: k-NN backend auto, faiss or torch (identical results). Distances are on the scale of the feature
    space (pixels: Euclidean over [0, 1] values, up to sqrt(pixels)); the output states the samples' median
    nearest distance, and with ``--reference`` (real images) it suggests a threshold: the 1st percentile of the
    reference's nearest-pair distances. Collapse shows as duplicates (high ``duplicate_rate``, small support)."""

    pairs: int = positive(20)
    sample_size: int | None = positive(None)
    threshold: float = 0.0
    backend: str = "auto"


@register_metric(
    "birthday",
    options=BirthdayOptions,
    summary="closest pairs, duplicate rate, support size (birthday paradox; duplicates reveal collapse)",
    default_features=DEFAULT_FEATURES,
    features=FeatureNeed(("pool",), keep=True, reference=False),
    statistic="feature bank of the samples (exact k-NN pairs)",
    reduction="gather",
    writes=("figure",),
)
def evaluate(request: ScoreRequest, options: BirthdayOptions) -> MetricResult:
    source = request.samples
    value_range = request.range_if_images(source)
    x, space, layer = sample_vectors(request, options, METRICS.get("birthday"))
    chosen = torch.arange(len(x))
    if options.sample_size is not None:
        if not 2 <= options.sample_size <= len(x):
            raise GanEvalError(f"birthday: sample_size={options.sample_size} must be between 2 and the {len(x)} samples")
        gen = torch.Generator().manual_seed(request.seed)
        chosen = torch.randperm(len(x), generator=gen)[: options.sample_size]
        x = x[chosen.to(x.device)]
    result = birthday(x, options.pairs, options.threshold, backend=options.backend)
    first, second = chosen[result.pairs.first.cpu()], chosen[result.pairs.second.cpu()]
    space_name = space if isinstance(space, str) else space["name"]
    scale = {"distance_scale": f"Euclidean in the {space_name} space ({x.shape[1]} dims" + (", images on the [0, 1] scale)" if value_range else ")")}
    if request.reference is not None:  # the reference in the same feature space, from the call's one pass
        pair = vector_pair(request, options, METRICS.get("birthday"), len(x))
        scale["suggested_threshold"] = suggested_threshold(pair.reference, backend=options.backend)
        scale["suggested_threshold_from"] = f"{SUGGESTED_QUANTILE:.0%} quantile of {pair.reference_name}'s nearest-pair distances"
    artefacts = []
    if request.output is not None:
        artefacts.append(pair_grid(source, value_range, first, second, result.pairs.distances.cpu(), space_name, result.n))
    return MetricResult(
        metric="birthday",
        values={**result.values(), **({"suggested_threshold": scale["suggested_threshold"]} if "suggested_threshold" in scale else {})},
        details={"pairs": {"first": first.tolist(), "second": second.tolist(), "distance": result.pairs.distances.tolist()}},
        protocol={
            "samples": source.name,
            "features": space,
            "layer": layer,
            "distance": "Euclidean",
            "sample_size": result.n,
            "threshold": options.threshold,
            **scale,
            "support_estimate": "N = s(s-1) / (2 duplicate_pairs), uniform-support assumption",
        },
        artefacts=artefacts,
    )
