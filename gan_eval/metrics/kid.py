"""Kernel Inception Distance (Bińkowski et al. 2018, "Demystifying MMD GANs"): the unbiased estimate of the
squared MMD with the polynomial kernel k(x, y) = (gamma x.y + coef0)^degree (gamma = 1 / dim by default),

    MMD^2_u = sum_{i != j} k(x_i, x_j) / (m (m - 1)) + sum_{i != j} k(y_i, y_j) / (m (m - 1)) - 2 sum_{i, j} k(x_i, y_j) / m^2,

averaged over ``subsets`` random subsets of ``subset_size`` samples from each set (drawn without replacement
with ``np.random.RandomState(seed).choice``, as torch-fidelity does), reported with its standard deviation over
subsets. Defaults are torch-fidelity's: 100 subsets of 1000, degree 3, gamma None, coef0 1. Kernels are
computed in float64.

Proven by ``tests/test_fid.py::test_kid_matches_torch_fidelity``: equal to torch-fidelity 0.4.0
(``metric_kid.py``, adapted from the paper's code) to 1e-4 relative on the same features.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gan_eval.errors import GanEvalError
from gan_eval.metrics.base import FeatureNeed, MetricResult, ScoreRequest, register_metric
from gan_eval.metrics.feature_inputs import ReferenceFeatureOptions, extractor_for, reference_statistics, sample_statistics
from gan_eval.options import positive
from gan_eval.stats.gaussian import check_compatible

DEFAULT_FEATURES = "inception"


def polynomial_mmd2(x: torch.Tensor, y: torch.Tensor, degree: int = 3, gamma: float | None = None, coef0: float = 1.0) -> torch.Tensor:
    """Unbiased MMD^2 between equal-sized sets x, y (m x d) with the polynomial kernel (see module docstring)."""
    m = x.shape[0]
    g = 1.0 / x.shape[1] if gamma is None else gamma
    kxx = (x @ x.T * g + coef0) ** degree
    kyy = (y @ y.T * g + coef0) ** degree
    kxy = (x @ y.T * g + coef0) ** degree
    within = (kxx.sum() - kxx.diagonal().sum() + kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return within - 2 * kxy.sum() / (m * m)


def kernel_inception_distance(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    subsets: int = 100,
    subset_size: int = 1000,
    degree: int = 3,
    gamma: float | None = None,
    coef0: float = 1.0,
    seed: int = 0,
) -> tuple[float, float]:
    """(mean, std) of the unbiased polynomial MMD^2 over random subsets of the features x (n1 x d) and y (n2 x d)."""
    if subset_size < 2:
        raise GanEvalError(f"KID: subset_size {subset_size} must be at least 2")
    if len(x) < subset_size or len(y) < subset_size:
        raise GanEvalError(
            f"KID: subset_size {subset_size} exceeds the samples ({len(x)}) or reference ({len(y)});"
            f" lower it with --set subset_size=N"
        )
    rng = np.random.RandomState(seed)
    x, y = x.to(torch.float64), y.to(x.device, torch.float64)
    values = []
    for _ in range(subsets):
        ix = torch.from_numpy(rng.choice(len(x), subset_size, replace=False)).to(x.device)
        iy = torch.from_numpy(rng.choice(len(y), subset_size, replace=False)).to(x.device)
        values.append(polynomial_mmd2(x[ix], y[iy], degree, gamma, coef0))
    mmd = torch.stack(values)
    return float(mmd.mean()), float(mmd.std(unbiased=False))


@dataclass
class KIDOptions(ReferenceFeatureOptions):
    """Plus ``subsets``, ``subset_size``, and the kernel's ``degree``, ``gamma`` (None: 1/dim), ``coef0``."""

    subsets: int = positive(100)
    subset_size: int = positive(1000)
    degree: int = positive(3)
    gamma: float | None = positive(None)
    coef0: float = 1.0


@register_metric(
    "kid",
    options=KIDOptions,
    needs_reference=True,
    summary="Kernel Inception Distance (Bińkowski et al. 2018)",
    default_features=DEFAULT_FEATURES,
    features=FeatureNeed(("pool",), keep=True),
    reference="statistics with kept features, images or an array",
    statistic="feature banks of samples and reference (kernel subsets)",
    reduction="gather",
)
def evaluate(request: ScoreRequest, options: KIDOptions) -> MetricResult:
    extractor, layer = extractor_for(request, options, ("pool",), DEFAULT_FEATURES)
    reference, described = reference_statistics(request, options, extractor, layer, "kid", keep_features=True)
    stats, features = sample_statistics(request, options, extractor, layer, keep_features=True)
    check_compatible(stats.meta, reference.moments.meta, request.samples.name, described["reference"])
    mean, std = kernel_inception_distance(
        features.to(request.device),
        reference.features.to(request.device),
        subsets=options.subsets,
        subset_size=options.subset_size,
        degree=options.degree,
        gamma=options.gamma,
        coef0=options.coef0,
        seed=request.seed,
    )
    return MetricResult(
        metric="kid",
        values={"kid": mean, "kid_std": std},
        protocol={
            "samples": request.samples.name,
            "features": extractor.describe(),
            "layer": layer,
            "subset_rng": "np.random.RandomState(seed).choice without replacement",
            **described,
        },
    )
