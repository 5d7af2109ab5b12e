"""Mode coverage on a known mixture: modes captured, high-quality share, per-mode counts, KL to the mixture.

Definitions (VEEGAN, Srivastava et al. 2017, Sec. 5.1 and its released notebooks; PacGAN, Lin et al. 2018,
Sec. 5 and its code):

* each sample is assigned to its nearest mode (Euclidean distance to the mode's centre or curve);
* it is *high quality* (HQ) when its standardised distance r = d / std to that mode satisfies
  r^2 <= F^-1_{chi2(d)}(1 - exp(-k^2/2)), with k = 3 by default; in 2-D this is exactly VEEGAN's
  "within 3 standard deviations" (d <= 3 std), elsewhere it is the ball of equal probability mass
  (see :mod:`gan_eval.references.base`);
* modes captured = number of modes that are the nearest mode of at least one HQ sample;
* HQ % = 100 * (#HQ samples) / (#samples)  (VEEGAN divides by its 2,500 samples);
* KL = sum_i p_i log(p_i / w_i) in nats over modes with p_i > 0, where p is the histogram of HQ samples
  over modes and w the mixture's weights (uniform for the standard references), i.e. PacGAN's
  "reverse KL" log K - H(p) in the uniform case. Undefined (null) when no sample is HQ.

Proven by ``tests/test_modes.py``: real samples reach the closed-form HQ share 1 - exp(-4.5) = 98.89 %.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
import torch

from gan_eval.errors import GanEvalError
from gan_eval.metrics.base import MetricResult, ScoreRequest, register_metric
from gan_eval.options import positive
from gan_eval.references import Reference, get_reference
from gan_eval.stats import ModeHistogram

DEFAULT_CHUNK = 1 << 20


@dataclass
class ModeCoverage:
    """The mode metrics of one sample set against one reference."""

    modes: int
    n_modes: int
    hq_percent: float
    kl: float | None
    n: int
    threshold_std: float
    histogram: ModeHistogram = field(repr=False)

    def values(self) -> dict[str, float | int | None]:
        return {"modes": self.modes, "n_modes": self.n_modes, "hq_percent": self.hq_percent, "kl": self.kl, "n": self.n}


def histogram_of(
    batches: Iterable[torch.Tensor],
    reference: Reference,
    threshold_std: float | None = None,
    device: torch.device | str = "cpu",
    chunk_size: int = DEFAULT_CHUNK,
    name: str = "samples",
) -> ModeHistogram:
    """Stream batches of samples (n, dim) through the nearest-mode rule; returns the merged histogram.

    Rows are independent, so the result does not depend on batch or chunk sizes, nor on sample order.
    """
    total = ModeHistogram.empty(reference.n_modes)
    for batch in batches:
        check_shape(batch, reference, name)
        for chunk in torch.split(batch, chunk_size):
            index, is_hq = reference.assign(chunk.to(device), threshold_std)
            total = total.merge(ModeHistogram.from_assignment(index, is_hq, reference.n_modes))
    return total


def check_shape(batch: torch.Tensor, reference: Reference, name: str) -> None:
    """One-line error unless ``batch`` is (n, reference.dim)."""
    if batch.ndim != 2 or batch.shape[1] != reference.dim:
        raise GanEvalError(
            f"{name}: samples have shape {tuple(batch.shape)} but reference {reference.name} is {reference.dim}-D;"
            f" pass an N x {reference.dim} array"
        )


def score_histogram(hist: ModeHistogram, reference: Reference, threshold_std: float) -> ModeCoverage:
    """The scores as pure functions of the histogram (see the module docstring for the formulas)."""
    hq_total = int(hist.hq.sum())
    n = hist.n
    kl = None
    if hq_total > 0:
        p = hist.hq.to(torch.float64) / hq_total
        w = reference.weights.to(torch.float64)
        seen = p > 0
        kl = float((p[seen] * torch.log(p[seen] / w[seen])).sum())
    return ModeCoverage(
        modes=int((hist.hq > 0).sum()),
        n_modes=reference.n_modes,
        hq_percent=100.0 * hq_total / n if n else 0.0,
        kl=kl,
        n=n,
        threshold_std=threshold_std,
        histogram=hist,
    )


def mode_coverage(
    samples: torch.Tensor | np.ndarray,
    reference: str | Reference,
    *,
    threshold_std: float | None = None,
    device: torch.device | str | None = None,
    chunk_size: int = DEFAULT_CHUNK,
) -> ModeCoverage:
    """Mode metrics of ``samples`` (n x dim, any float dtype) against a known reference.

    >>> from gan_eval.references import get_reference
    >>> ring8 = get_reference("ring8")
    >>> mode_coverage(ring8.sample(2500, seed=0), ring8).modes
    8
    """
    reference = get_reference(reference)
    x = torch.as_tensor(samples)
    k = reference.threshold(threshold_std)
    hist = histogram_of([x], reference, k, device or x.device, chunk_size)
    return score_histogram(hist, reference, k)


@dataclass
class ModeOptions:
    """``threshold_std``: k of the HQ rule (default: the reference's, 3 for 2-D mixtures).
    ``chunk_size``: rows per device pass (memory only; results do not depend on it)."""

    threshold_std: float | None = positive(None)
    chunk_size: int = positive(DEFAULT_CHUNK)


def mode_histogram(request: ScoreRequest, options: ModeOptions, batches: Iterable[torch.Tensor]) -> ModeHistogram:
    """The ``sum`` statistic of modes: the histogram of ``batches`` against the request's reference."""
    reference = get_reference(request.reference)
    return histogram_of(batches, reference, options.threshold_std, request.device, options.chunk_size, request.samples.name)


@register_metric(
    "modes",
    options=ModeOptions,
    needs_reference=True,
    images=False,
    summary="modes captured, HQ %, KL on a known mixture",
    reference="a known-mode mixture (gan-eval references)",
    statistic="mode histogram: samples and high-quality samples per nearest mode",
    reduction="sum",
    accumulate=mode_histogram,
)
def evaluate(request: ScoreRequest, options: ModeOptions) -> MetricResult:
    reference = get_reference(request.reference)  # the API refuses a call without one (needs_reference)
    k = reference.threshold(options.threshold_std)
    hist = request.summed("modes", mode_histogram, options)
    cov = score_histogram(hist, reference, k)
    per_mode = {"nearest": hist.nearest.tolist(), "hq": hist.hq.tolist()}
    centres = reference.centres()
    if centres is not None and reference.dim <= 3:
        per_mode["centre"] = (centres.round(6) + 0.0).tolist()  # + 0.0 turns -0.0 into 0.0
    return MetricResult(
        metric="modes",
        values=cov.values(),
        details={"per_mode": per_mode, "weights": reference.weights.tolist()},
        protocol={
            "reference": reference.describe(),
            "threshold_std": k,
            "hq_rule": "r^2 <= chi2_ppf(1 - exp(-k^2/2), support_dim), r = distance / std",
            "samples": request.samples.name,
        },
    )
