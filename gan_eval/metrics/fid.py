"""Fréchet Inception Distance (Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a
Local Nash Equilibrium"): the Fréchet distance between Gaussians fitted to two feature sets,

    FID = ||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr(sqrt(S1 S2)),

on the 2048-d ``pool_3`` features of the TF Inception (:mod:`gan_eval.features.inception`), covariances
unbiased (n - 1), all in float64. The trace term comes from :func:`gan_eval.ops.sqrtm_trace` (eigenvalues of
the symmetric sqrt(S1) S2 sqrt(S1)), not scipy's ``sqrtm``. Matches torch-fidelity 0.4.0 (``metric_fid.py``) and
TTUR / pytorch-fid (``calculate_frechet_distance``); n <= 2048 warns (singular covariance, biased score).

Proven by ``tests/test_fid.py``: equal to torch-fidelity's FID to 1e-4 relative with the same Inception weights
on the same images; a pytorch-fid ``mu``/``sigma`` file gives the same FID as our statistics file.
"""
from __future__ import annotations

import torch

from gan_eval.errors import GanEvalError
from gan_eval.metrics.base import FeatureNeed, MetricResult, ScoreRequest, register_metric
from gan_eval.metrics.feature_inputs import ReferenceFeatureOptions, check_same_dim, extractor_for, reference_statistics, sample_statistics
from gan_eval.ops.sqrtm_trace import sqrtm_trace
from gan_eval.stats.gaussian import Moments, check_compatible, warn_if_singular

DEFAULT_FEATURES = "inception"


def frechet_distance(mu1: torch.Tensor, sigma1: torch.Tensor, mu2: torch.Tensor, sigma2: torch.Tensor) -> float:
    """FID between N(mu1, sigma1) and N(mu2, sigma2) (any device; computed in float64)."""
    mu1, sigma1 = mu1.to(torch.float64), sigma1.to(torch.float64)
    mu2, sigma2 = mu2.to(mu1.device, torch.float64), sigma2.to(mu1.device, torch.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise GanEvalError(f"FID: statistics of dimension {mu1.shape[0]} and {mu2.shape[0]} cannot be compared")
    diff = mu1 - mu2
    value = diff @ diff + torch.trace(sigma1) + torch.trace(sigma2) - 2 * sqrtm_trace(sigma1, sigma2)
    return float(value)


def fid_of_moments(samples: Moments, reference: Moments, samples_name: str = "samples", reference_name: str = "reference") -> float:
    """FID of two :class:`Moments`, refusing different feature spaces and warning on singular covariances."""
    check_compatible(samples.meta, reference.meta, samples_name, reference_name)
    check_same_dim(samples_name, samples.dim, reference_name, reference.dim, samples.meta.get("extractor", {}).get("name"))
    warn_if_singular(samples.n, samples.dim, samples_name)
    warn_if_singular(reference.n, reference.dim, reference_name)
    return frechet_distance(samples.mu, samples.sigma, reference.mu, reference.sigma)


@register_metric(
    "fid",
    options=ReferenceFeatureOptions,
    needs_reference=True,
    summary="Fréchet Inception Distance (Heusel et al. 2017)",
    default_features=DEFAULT_FEATURES,
    features=FeatureNeed(("pool",)),
    reference="statistics (npz or in memory), images or an array",
    statistic="Gaussian moments of samples and reference (count, sum, sum of outer products)",
    reduction="sum",
)
def evaluate(request: ScoreRequest, options: ReferenceFeatureOptions) -> MetricResult:
    extractor, layer = extractor_for(request, options, ("pool",), DEFAULT_FEATURES)
    reference, described = reference_statistics(request, options, extractor, layer, "fid")
    stats, _ = sample_statistics(request, options, extractor, layer)
    value = fid_of_moments(stats.moments(), reference.moments, request.samples.name, described["reference"])
    return MetricResult(
        metric="fid",
        values={"fid": value},
        protocol={
            "samples": request.samples.name,
            "features": extractor.describe(),
            "layer": layer,
            **described,
        },
    )
