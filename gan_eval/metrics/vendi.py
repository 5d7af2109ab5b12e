"""The Vendi score: the effective number of distinct samples, from the eigenvalues of a similarity kernel.

Friedman & Dieng, "The Vendi Score: A Diversity Evaluation Metric for Machine Learning", TMLR 2023 (reference
code: vertaix/Vendi-Score, ``vendi_score/vendi.py``). With a positive semi-definite kernel K (k(x, x) = 1) on n
samples and lambda_1..lambda_n the eigenvalues of K / n (non-negative, summing to 1):

    VS_q = exp(H_q(lambda)),  H_1 = -sum_i lambda_i log lambda_i (Shannon),
    H_q = log(sum_i lambda_i^q) / (1 - q) (Renyi, q != 1),  H_inf = -log max_i lambda_i

(Pasarkar & Dieng, "Cousins of the Vendi Score", 2024, for q != 1). VS is 1 when all samples are identical and n
when they are mutually orthogonal (linear kernel) or far apart (RBF kernel).

Kernels: ``linear`` (default; the package's ``score_X`` / ``score_dual`` and its image embeddings): k(x, y) =
<x, y> on rows scaled to unit length (cosine similarity; ``normalise=False`` keeps raw inner products, then
rows should already have unit norm for VS to be in [1, n]). With X the n x d feature matrix, K / n = X X^T / n and
X^T X / n share their non-zero eigenvalues, so when d < n the d x d matrix is decomposed (O(n d^2), the
package's ``score_dual``) instead of the n x n one (O(n^3)). ``rbf``: k(x, y) = exp(-|x - y|^2 / (2 sigma^2)),
sigma = ``bandwidth`` or, by default, the median distance between distinct samples (the median heuristic);
it has no finite feature map, so the n x n kernel is decomposed (n = 10,000 needs ~0.8 GB and minutes on a CPU).

Eigenvalues below max(lambda) * n * float64 eps are round-off of exact zeros (a rank-deficient kernel) and
are set to 0, so VS_0 (the rank) and VS_1 of identical samples are exact.

Proven by ``tests/test_vendi.py``: identical samples give 1 and orthonormal vectors give n (closed forms),
the d x d path equals the n x n path, and the value equals ``vendi_score.vendi.score_dual`` / ``score_K`` on
the same input (to 1e-9).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from gan_eval.errors import GanEvalError
from gan_eval.metrics.base import METRICS, FeatureNeed, MetricResult, ScoreRequest, register_metric
from gan_eval.metrics.feature_inputs import FeatureOptions, sample_vectors
from gan_eval.options import positive

DEFAULT_FEATURES = "inception"
KERNELS = ("linear", "rbf")


def linear_spectrum(x: torch.Tensor, *, normalise: bool = True, dual: bool | None = None) -> torch.Tensor:
    """Eigenvalues of X X^T / n for the linear kernel (rows unit-normalised when ``normalise``), computed from
    the d x d X^T X / n when ``dual`` (default: when d < n), else from the n x n matrix."""
    x = x.double()
    if normalise:
        x = x / x.norm(dim=1, keepdim=True).clamp_min(torch.finfo(torch.float64).tiny)
    n, d = x.shape
    dual = d < n if dual is None else dual
    gram = x.T @ x if dual else x @ x.T
    return torch.linalg.eigvalsh(gram / n)


def rbf_spectrum(x: torch.Tensor, bandwidth: float | None = None) -> tuple[torch.Tensor, float]:
    """(eigenvalues of K / n, sigma) for the RBF kernel exp(-|x - y|^2 / (2 sigma^2)); sigma = ``bandwidth`` or
    the median distance between distinct rows (the median heuristic)."""
    # direct differences: the expansion |x|^2 + |y|^2 - 2 x.y would leave round-off where the distance is 0
    distances = torch.cdist(x.double(), x.double(), compute_mode="donot_use_mm_for_euclid_dist")
    if bandwidth is None:
        rows, cols = torch.triu_indices(len(x), len(x), 1, device=x.device)
        bandwidth = median(distances[rows, cols]) if len(x) > 1 else 0.0
    if not bandwidth > 0:
        raise GanEvalError(f"vendi: RBF bandwidth {bandwidth} must be positive (all samples identical? pass --set bandwidth=...)")
    return torch.linalg.eigvalsh(torch.exp(-distances.pow(2) / (2 * bandwidth**2)) / len(x)), bandwidth


def median(values: torch.Tensor) -> float:
    """The median as numpy defines it (the mean of the two middle values of an even count); torch's ``median``
    takes the lower one and ``quantile`` refuses more than 2^24 values."""
    m = len(values)
    return float((values.kthvalue((m + 1) // 2).values + values.kthvalue(m // 2 + 1).values) / 2)


def order_q_exp_entropy(eigenvalues: torch.Tensor, q: float = 1.0) -> float:
    """exp of the order-q (Renyi; q = 1 Shannon; q = inf min-) entropy of eigenvalues summing to 1 (see the module
    docstring); eigenvalues within round-off of 0 count as 0."""
    if q < 0:
        raise GanEvalError(f"vendi: q = {q} must be >= 0")
    w = eigenvalues.double()
    w = w[w > w.max() * len(w) * torch.finfo(torch.float64).eps]
    w = w / w.sum()  # the kernel's diagonal is 1, so the sum is 1 up to round-off
    if q == 1:
        return float(torch.exp(-(w * w.log()).sum()))
    if math.isinf(q):
        return float(1 / w.max())
    return float(w.pow(q).sum() ** (1 / (1 - q)))


@dataclass
class Vendi:
    """The score, the RBF bandwidth used (None for the linear kernel) and the matrix decomposed."""

    value: float
    bandwidth: float | None
    eigenproblem: str


def vendi_score(
    x: torch.Tensor, *, kernel: str = "linear", q: float = 1.0, normalise: bool = True, bandwidth: float | None = None,
) -> Vendi:
    """The Vendi score of the rows of ``x`` (n x d features), see the module docstring.

    >>> round(vendi_score(torch.eye(5)).value, 9)
    5.0
    """
    if x.ndim != 2 or len(x) < 1:
        raise GanEvalError(f"vendi: features {tuple(x.shape)} must be n x d with n >= 1")
    if kernel not in KERNELS:
        raise GanEvalError(f"vendi: kernel={kernel!r} is not one of {', '.join(KERNELS)}")
    n, d = x.shape
    if kernel == "linear":
        return Vendi(order_q_exp_entropy(linear_spectrum(x, normalise=normalise), q), None, "d x d (X^T X / n)" if d < n else "n x n (K / n)")
    spectrum, sigma = rbf_spectrum(x, bandwidth)
    return Vendi(order_q_exp_entropy(spectrum, q), sigma, "n x n (K / n)")


@dataclass
class VendiOptions(FeatureOptions):
    """The feature options, plus ``kernel``: linear (cosine similarity, the Vendi-Score package's default for embeddings) or rbf. ``q``: order
    of the entropy (1 Shannon, the paper's score; 0 the rank; inf, or any q >= 0). ``normalise``: unit-normalise rows
    for the linear kernel. ``bandwidth``: RBF sigma (default: the median distance between distinct samples)."""

    kernel: str = "linear"
    q: float = 1.0
    normalise: bool = True
    bandwidth: float | None = positive(None)


@register_metric(
    "vendi",
    options=VendiOptions,
    summary="Vendi score: effective number of distinct samples (exp entropy of kernel eigenvalues)",
    default_features=DEFAULT_FEATURES,
    features=FeatureNeed(("pool",), keep=True, reference=False),
    statistic="feature bank of the samples (the kernel's eigenvalues)",
    reduction="gather",
)
def evaluate(request: ScoreRequest, options: VendiOptions) -> MetricResult:
    samples = request.samples
    x, space, layer = sample_vectors(request, options, METRICS.get("vendi"))
    score = vendi_score(x, kernel=options.kernel, q=options.q, normalise=options.normalise, bandwidth=options.bandwidth)
    return MetricResult(
        metric="vendi",
        values={"vendi": score.value, "n": len(x)},
        protocol={
            "samples": samples.name,
            "features": space,
            "layer": layer,
            "features_from": "--features" if request.features else ("as given" if space == "as given" else "the metric's default"),
            "feature_dim": x.shape[1],
            "kernel": "cosine (unit-normalised rows, linear)" if options.kernel == "linear" and options.normalise else options.kernel,
            "rbf_bandwidth": score.bandwidth,
            "bandwidth_from": None if score.bandwidth is None else ("--set bandwidth" if options.bandwidth is not None else "median distance"),
            "q": options.q,
            "eigenproblem": score.eigenproblem,
            "reference_code": "vertaix/Vendi-Score vendi_score/vendi.py (score_dual, score_K)",
        },
    )
