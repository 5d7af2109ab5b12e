"""Support coverage on a known reference: the share of each mode's support that some sample comes close to.

``modes`` counts a mode as captured from ONE high-quality sample, so a line of samples crossing both moons
"captures" both. Support coverage asks instead how much of each mode's noise-free support is reproduced:

* each mode's support is discretised into points of equal share (:meth:`Reference.support_points`): for the
  moons, the midpoints of ``points_per_mode`` equal pieces of each arc (evenly in arc length);
* a support point is *covered* when at least ``min_hits`` samples (default 1) lie within the HQ tolerance of it, the distance the
  ``modes`` HQ rule allows (``hq_radius(k, support_dim) * std``: 3 x 0.05 for ``moons-mini``; see
  :mod:`gan_eval.references.base`);
* coverage of a mode = 100 x (covered points) / (points): the covered share of its support, to within one
  piece per boundary of the covered set (1/1000 of an arc at the default);
* ``coverage_percent`` = the mean over modes (each mode counts once, as in ``modes``; for the moons, whose arcs
  have equal length, also the covered share of the whole support); ``least_covered_percent`` = the least covered
  mode (near 0 when the samples sit on one moon).

This is support coverage in the sense of the recall of Kynkaanniemi et al. 2019 and the coverage of Naeem et
al. 2020 (``prdc``), with the reference's known support and the HQ tolerance in place of k-NN balls.

On point-mode mixtures (ring8, grid25, hd1200) the noise-free support of a Gaussian mode is its mean, so a mode
is covered (100 %) or not (0 %) and ``coverage_percent`` = 100 x (modes whose mean has a sample within the
tolerance) / n_modes: the ``modes`` count as a share, nothing more. Taking the k-std disc as the support instead
says no more: one sample at the centre lies within k std of every point of the disc. The measure tells something
new only where modes are curves (the moons).

Proven by ``tests/test_support_coverage.py`` against closed forms: samples on an arc, a few isolated samples
(each covers 4 asin(tol / 2) radians of a unit arc), a straight line (acos(c - tol) - acos(c + tol) per arc).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
import torch

from gan_eval.errors import GanEvalError
from gan_eval.metrics.base import MetricResult, ScoreRequest, register_metric
from gan_eval.metrics.modes import check_shape
from gan_eval.options import positive
from gan_eval.references import Reference, get_reference

DEFAULT_POINTS = 1000
#: samples per distance pass: chunk x (n_modes x points) float64 distances (64 MB at the defaults on the moons)
DEFAULT_CHUNK = 4096


@dataclass
class SupportHits:
    """Samples within the tolerance of each support point, ``hits`` int64 (n_modes, m), and samples seen ``rows``
    (a 0-d int64 tensor): a ``sum`` statistic, exact over batches and ranks."""

    hits: torch.Tensor
    rows: torch.Tensor

    @classmethod
    def empty(cls, support: torch.Tensor) -> "SupportHits":
        return cls(torch.zeros(support.shape[:2], dtype=torch.int64), torch.zeros((), dtype=torch.int64))

    def state(self) -> dict[str, torch.Tensor]:
        return {"hits": self.hits, "rows": self.rows}

    def with_state(self, state: dict[str, torch.Tensor]) -> "SupportHits":
        return SupportHits(state["hits"], state["rows"])

    def merge(self, other: "SupportHits") -> "SupportHits":
        if self.hits.shape != other.hits.shape:
            raise ValueError("cannot merge support hits over different supports")
        return SupportHits(self.hits + other.hits, self.rows + other.rows)


@dataclass
class SupportCoverage:
    """The covered share of each mode's support (``per_mode_percent``) and its summaries, for ``n`` samples."""

    per_mode_percent: list[float]
    coverage_percent: float
    least_covered_percent: float
    n: int
    tolerance: float
    points_per_mode: int

    def values(self) -> dict[str, float | int]:
        return {"coverage_percent": self.coverage_percent, "least_covered_percent": self.least_covered_percent, "n": self.n}


def support_hits(
    batches: Iterable[torch.Tensor],
    support: torch.Tensor,
    tolerance: float,
    device: torch.device | str = "cpu",
    chunk_size: int = DEFAULT_CHUNK,
    name: str = "samples",
) -> SupportHits:
    """Count, for every point of ``support`` (n_modes, m, dim), the samples (rows of ``batches``) within ``tolerance``.

    Rows are independent, so the counts do not depend on batch or chunk sizes, nor on sample order.
    """
    flat = support.reshape(-1, support.shape[-1]).to(device, torch.float64)
    total = SupportHits.empty(support)
    for batch in batches:
        bad = int((~torch.isfinite(batch)).sum()) if batch.is_floating_point() else 0
        if bad:  # a NaN is within no distance of anything: it would pass as a sample that covers nothing
            raise GanEvalError(f"{name}: {bad} NaN/Inf values among the samples; drop or fix those samples")
        for chunk in torch.split(batch, chunk_size):
            # float64 cdist without the matrix-product shortcut: exact at the tolerance boundary, whatever the chunk
            dist = torch.cdist(chunk.to(device, torch.float64), flat, compute_mode="donot_use_mm_for_euclid_dist")
            hits = (dist <= tolerance).sum(dim=0).cpu().reshape(support.shape[:2])
            total = total.merge(SupportHits(hits, torch.tensor(len(chunk), dtype=torch.int64)))
    return total


def score_hits(hits: SupportHits, tolerance: float, min_hits: int = 1) -> SupportCoverage:
    """The coverage figures as pure functions of the hit counts (formulas in the module docstring); a point is
    covered from ``min_hits`` samples within the tolerance, so that sparse stray samples can be discounted."""
    n = int(hits.rows)
    if n == 0:
        raise GanEvalError("support-coverage: no samples to cover the support with; pass at least one sample")
    if min_hits < 1:
        raise GanEvalError(f"support-coverage: min_hits={min_hits} must be at least 1 (--set min_hits=1)")
    per_mode = ((hits.hits >= min_hits).to(torch.float64).mean(dim=1) * 100.0).tolist()
    return SupportCoverage(per_mode, float(np.mean(per_mode)), float(min(per_mode)), n, tolerance, hits.hits.shape[1])


def support_of(reference: Reference, points_per_mode: int) -> torch.Tensor:
    """The reference's support points (:meth:`Reference.support_points`), refusing a resolution below one point."""
    if points_per_mode < 1:
        raise GanEvalError(f"support-coverage: points_per_mode={points_per_mode} must be at least 1 (--set points_per_mode=1000)")
    return reference.support_points(points_per_mode)


def support_coverage(
    samples: torch.Tensor | np.ndarray,
    reference: str | Reference,
    *,
    threshold_std: float | None = None,
    points_per_mode: int = DEFAULT_POINTS,
    min_hits: int = 1,
    device: torch.device | str | None = None,
    chunk_size: int = DEFAULT_CHUNK,
) -> SupportCoverage:
    """Support coverage of ``samples`` (n x dim, any float dtype) against a known reference.

    >>> from gan_eval.references import get_reference
    >>> moons = get_reference("moons-mini")
    >>> outer = moons.support_points(16)[0]  # 16 samples on the outer arc, pi/16 apart
    >>> support_coverage(outer, moons).per_mode_percent
    [100.0, 0.0]
    """
    reference = get_reference(reference)
    x = torch.as_tensor(samples)
    check_shape(x, reference, "samples")
    tolerance = reference.hq_distance(threshold_std)
    support = support_of(reference, points_per_mode)
    return score_hits(support_hits([x], support, tolerance, device or x.device, chunk_size), tolerance, min_hits)


@dataclass
class SupportCoverageOptions:
    """``threshold_std``: k of the HQ rule whose distance is the tolerance (default: the reference's, 3 in 2-D).
    ``points_per_mode``: points each curve mode's support is cut into (point modes have one).
    ``min_hits``: samples within the tolerance that cover a point (1: any sample; more discounts sparse strays).
    ``chunk_size``: samples per distance pass (memory only; results do not depend on it)."""

    threshold_std: float | None = positive(None)
    points_per_mode: int = positive(DEFAULT_POINTS)
    min_hits: int = positive(1)
    chunk_size: int = positive(DEFAULT_CHUNK)


def hits_of_request(request: ScoreRequest, options: SupportCoverageOptions, batches: Iterable[torch.Tensor]) -> SupportHits:
    """The ``sum`` statistic of support-coverage: hit counts of ``batches`` on the request's reference's support."""
    reference = get_reference(request.reference)
    tolerance = reference.hq_distance(options.threshold_std)
    name = request.samples.name

    def checked() -> Iterable[torch.Tensor]:
        for batch in batches:
            check_shape(batch, reference, name)
            yield batch

    support = support_of(reference, options.points_per_mode)
    return support_hits(checked(), support, tolerance, request.device, options.chunk_size, name)


@register_metric(
    "support-coverage",
    options=SupportCoverageOptions,
    needs_reference=True,
    images=False,
    summary="share of each mode's support (moons: arc length) within the HQ tolerance of a sample",
    reference="a known-mode mixture (gan-eval references); curve modes (moons) are where it says more than modes",
    statistic="samples within the tolerance of each support point",
    reduction="sum",
    accumulate=hits_of_request,
)
def evaluate(request: ScoreRequest, options: SupportCoverageOptions) -> MetricResult:
    reference = get_reference(request.reference)  # the API refuses a call without one (needs_reference)
    tolerance = reference.hq_distance(options.threshold_std)
    hits = request.summed("support-coverage", hits_of_request, options)
    cov = score_hits(hits, tolerance, options.min_hits)
    return MetricResult(
        metric="support-coverage",
        values=cov.values(),
        details={"per_mode": {"coverage_percent": cov.per_mode_percent, "support_points": [cov.points_per_mode] * reference.n_modes}},
        protocol={
            "reference": reference.describe(),
            "threshold_std": reference.threshold(options.threshold_std),
            "tolerance": tolerance,
            "points_per_mode": cov.points_per_mode,
            "min_hits": options.min_hits,
            "rule": "a support point is covered when min_hits samples lie within tolerance = hq_radius(k, support_dim) * std of it;"
            " coverage of a mode = covered points / points",
            "samples": request.samples.name,
        },
    )
