"""Precision, recall, density and coverage of samples against real data in a feature space.

Precision and recall: Kynkäänniemi et al., "Improved Precision and Recall Metric for Assessing Generative
Models", NeurIPS 2019. Density and coverage: Naeem et al., "Reliable Fidelity and Diversity Metrics for
Generative Models", ICML 2020. With real features r_1..r_N, fake features f_1..f_M and
R_i = distance from r_i to its k-th nearest other real point, F_j likewise among the fakes:

* precision = (1/M) sum_j [exists i: d(r_i, f_j) < R_i]
* recall    = (1/N) sum_i [exists j: d(r_i, f_j) < F_j]
* density   = (1/(kM)) sum_j sum_i [d(r_i, f_j) < R_i]
* coverage  = (1/N) sum_i [min_j d(r_i, f_j) < R_i]

This matches the reference implementation, the ``prdc`` package (clovaai/generative-evaluation-prdc,
``compute_prdc``, strict ``<``, default k = 5), which builds three full distance matrices (O(N^2) memory).
Here radii come from exact k-NN (:mod:`gan_eval.ops.knn`, FAISS or torch) and the cross terms from one pass of
fixed-size distance blocks, so memory is O(N·k + block); comparisons equal float64 ones exactly. One
deliberate difference: where samples coincide exactly (a fake copies a real), a distance can equal a radius
exactly; prdc's rounded expansion may then count the boundary point, here the strict ``<`` holds exactly.
Proven by ``tests/test_prdc.py`` (equal to ``prdc.compute_prdc`` on the same features to 1e-6).

Reading them for mode collapse: recall and coverage fall when modes are missing; precision and density do
not, and may rise (a generator emitting a few typical images, even near-constant grey ones near dense real
regions, can score precision 1.0), so never read precision or density alone as quality.

Features: N x D arrays are used as given; images go through ``--features`` (default ``inception``, the
feature space of most published PRDC numbers alongside VGG16-fc2; the metric's values depend on it). A
statistics reference made with ``gan-eval stats --keep-features`` gives its features and its extractor
(:func:`~gan_eval.metrics.feature_inputs.vector_pair`).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from gan_eval.errors import GanEvalError
from gan_eval.metrics.base import METRICS, FeatureNeed, MetricResult, ScoreRequest, register_metric
from gan_eval.metrics.feature_inputs import ReferenceFeatureOptions, vector_pair
from gan_eval.ops.knn import ball_counts, kth_neighbour_sq_radii
from gan_eval.options import positive

DEFAULT_FEATURES = "inception"


@dataclass
class PRDC:
    precision: float
    recall: float
    density: float
    coverage: float

    def values(self) -> dict[str, float]:
        return {"precision": self.precision, "recall": self.recall, "density": self.density, "coverage": self.coverage}


def prdc(real: torch.Tensor, fake: torch.Tensor, k: int = 5, *, backend: str = "auto") -> PRDC:
    """Precision, recall, density, coverage of ``fake`` (M x D) against ``real`` (N x D), any float dtype.

    >>> x = torch.randn(200, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> prdc(x, x).precision
    1.0
    """
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise GanEvalError(f"prdc: real {tuple(real.shape)} and fake {tuple(fake.shape)} must be N x D with the same D")
    if min(len(real), len(fake)) <= k:
        raise GanEvalError(f"prdc: k = {k} needs more than k real and fake samples (got {len(real)} and {len(fake)})")
    fake = fake.to(real.device)
    real_radii2 = kth_neighbour_sq_radii(real, k, backend=backend)
    fake_radii2 = kth_neighbour_sq_radii(fake, k, backend=backend)
    counts = ball_counts(real, fake, real_radii2, fake_radii2)
    return PRDC(
        precision=float((counts.y_in_x_balls > 0).double().mean()),
        recall=float(counts.x_in_some_y_ball.double().mean()),
        density=float(counts.y_in_x_balls.double().sum() / (k * len(fake))),
        coverage=float(counts.x_ball_nonempty.double().mean()),
    )


@dataclass
class PRDCOptions(ReferenceFeatureOptions):
    """The feature options, plus ``k``: neighbours defining the radii (5, as prdc), and ``backend``: k-NN
    backend auto, faiss or torch (results are identical)."""

    k: int = positive(5)
    backend: str = "auto"


@register_metric(
    "prdc",
    options=PRDCOptions,
    needs_reference=True,
    summary="precision, recall, density, coverage vs real samples (recall and coverage reveal mode collapse;"
    " precision and density reward it)",
    default_features=DEFAULT_FEATURES,
    features=FeatureNeed(("pool",), keep=True),
    reference="real samples or images, or statistics with kept features",
    statistic="feature banks of samples and reference (k-NN radii)",
    reduction="gather",
)
def evaluate(request: ScoreRequest, options: PRDCOptions) -> MetricResult:
    pair = vector_pair(request, options, METRICS.get("prdc"), len(request.samples))
    scores = prdc(pair.reference, pair.samples, options.k, backend=options.backend)
    return MetricResult(
        metric="prdc",
        values=scores.values(),
        protocol={
            "samples": request.samples.name,
            "reference": pair.reference_name,
            "n_real": len(pair.reference),
            "n_fake": len(pair.samples),
            "features": pair.features,
            "features_from": pair.features_from,
            "layer": pair.layer,
            "feature_dim": pair.samples.shape[1],
            "k": options.k,
            "implementation": "exact k-NN radii + blockwise cross terms; equals prdc.compute_prdc",
        },
    )
