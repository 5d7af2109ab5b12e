"""NDB, the number of statistically different bins (Richardson & Weiss, "On GANs and GMMs", NeurIPS 2018).

Protocol of the reference code (gans-n-gmms ``utils/ndb.py``): the reference samples are clustered by
k-means into K = 100 bins (max_iter 100; optional whitening by the per-dimension mean and std + 1e-6; for
d > 1000 only a random d // 6 subset of dimensions is used, for clustering and assignment alike); bins are
ordered by size; each sample is assigned to the nearest bin centre (L2). For each bin a two-proportion
z-test with pooled proportion p = (p1 n1 + p2 n2) / (n1 + n2), se = sqrt(p (1 - p) (1/n1 + 1/n2)),
z = (p1 - p2) / se, two-sided p-value < alpha = 0.05 marks the bin as different. Reported: NDB/K and the
Jensen-Shannon divergence (natural log) between the two bin histograms.

Differences from the reference code: k-means is :mod:`gan_eval.ops.kmeans` (seeded k-means++ and Lloyd,
exact assignment, the best of ``n_init`` = 10 runs as scikit-learn's default of 2018), not scikit-learn's
(unseeded), so bins are reproducible from ``--seed``. Under the null
hypothesis (samples from the reference distribution) NDB/K is about alpha. Proven by ``tests/test_ndb.py``:
the z-test equals scipy's chi-square test of the 2 x 2 table, the JS equals scipy's, real samples give
NDB/K near alpha and samples from one bin give NDB/K = 1.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from scipy.stats import norm

from gan_eval.errors import GanEvalError
from gan_eval.metrics.base import METRICS, FeatureNeed, MetricResult, ScoreRequest, register_metric
from gan_eval.metrics.feature_inputs import ReferenceFeatureOptions, vector_pair
from gan_eval.ops.kmeans import kmeans, nearest_centre
from gan_eval.ops.knn import float64_mean, row_chunks
from gan_eval.options import positive

DEFAULT_FEATURES = "pixels"
WHITEN_EPS = 1e-6  # the reference code's ndb_eps


@dataclass
class Bins:
    """The K bins of a reference sample: centres (in the used, possibly whitened dims) and proportions; ``mean``
    and ``std`` of the reference's dims when whitening, else None."""

    centres: torch.Tensor
    proportions: torch.Tensor
    n: int
    mean: torch.Tensor | None
    std: torch.Tensor | None
    dims: torch.Tensor

    def assign(self, x: torch.Tensor, backend: str = "auto") -> torch.Tensor:
        """Bin index of each row of ``x``."""
        return nearest_centre(bin_coordinates(x, self.dims, self.mean, self.std), self.centres, backend)[0]

    def histogram(self, x: torch.Tensor, backend: str = "auto") -> torch.Tensor:
        return torch.bincount(self.assign(x, backend), minlength=len(self.centres)).to(torch.float64) / len(x)


def bin_coordinates(x: torch.Tensor, dims: torch.Tensor, mean: torch.Tensor | None, std: torch.Tensor | None) -> torch.Tensor:
    """The rows of ``x`` in the bins' space: dims ``dims``, whitened as ``(x - mean) / std`` unless ``mean`` is
    None. Unwhitened they keep their dtype (k-means and k-NN convert chunk by chunk), and with all dims they are
    ``x`` itself; whitened they are computed per chunk of rows. Either way no float64 copy of all of ``x``."""
    if mean is None:
        return x if len(dims) == x.shape[1] else x[:, dims]
    mean, std = mean[dims], std[dims]
    out = torch.empty(len(x), len(dims), dtype=torch.float64, device=x.device)
    for rows, chunk in row_chunks(x):
        out[rows] = (chunk[:, dims] - mean) / std
    return out


def column_mean_and_std(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """float64 mean and population std (correction 0) of each column, two passes over chunks of rows (no float64
    copy of ``x``): the mean of :func:`gan_eval.ops.knn.float64_mean`, then the chunks' sums of squared
    deviations from it, added in order."""
    mean = float64_mean(x)
    squares = torch.zeros_like(mean)
    for _, chunk in row_chunks(x):
        squares += (chunk - mean).pow(2).sum(0)
    return mean, (squares / len(x)).sqrt()


def make_bins(
    reference: torch.Tensor,
    k: int = 100,
    *,
    whiten: bool = False,
    all_dims: bool = False,
    seed: int = 0,
    max_iter: int = 100,
    n_init: int = 10,
    backend: str = "auto",
) -> Bins:
    """K-means bins of the reference samples (n x d), ordered by size, as the reference code builds them."""
    n, d = reference.shape
    mean, std = None, None
    if whiten:
        mean, std = column_mean_and_std(reference)
        std = std + WHITEN_EPS
    gen = torch.Generator().manual_seed(seed)
    dims = torch.arange(d) if (all_dims or d <= 1000) else torch.randperm(d, generator=gen)[: d // 6].sort().values
    dims = dims.to(reference.device)
    z = bin_coordinates(reference, dims, mean, std)
    fit = kmeans(z, k, max_iter=max_iter, seed=seed, n_init=n_init)
    # reference proportions by the same exact assignment that the samples get
    counts = torch.bincount(nearest_centre(z, fit.centres, backend)[0], minlength=k)
    order = torch.sort(-counts, stable=True).indices
    return Bins(fit.centres[order], counts[order].to(torch.float64) / n, n, mean, std, dims)


def two_proportion_z_test(p1: torch.Tensor, n1: int, p2: torch.Tensor, n2: int) -> tuple[torch.Tensor, torch.Tensor]:
    """z and two-sided p-values of H0: p1 = p2 per bin, with the pooled proportion (the reference code's test)."""
    p = (p1 * n1 + p2 * n2) / (n1 + n2)
    se = torch.sqrt(p * (1 - p) * (1.0 / n1 + 1.0 / n2))
    z = (p1 - p2) / se
    return z, torch.from_numpy(2.0 * norm.cdf(-z.abs().cpu().numpy()))


def js_divergence(p: torch.Tensor, q: torch.Tensor) -> float:
    """Jensen-Shannon divergence (nats) of two histograms."""
    m = (p + q) / 2

    def kl(a: torch.Tensor) -> torch.Tensor:
        pos = a > 0
        return (a[pos] * torch.log(a[pos] / m[pos])).sum()

    return float((kl(p) + kl(q)) / 2)


@dataclass
class NDBResult:
    ndb: int
    k: int
    js: float
    proportions: torch.Tensor
    reference_proportions: torch.Tensor
    z: torch.Tensor
    p_values: torch.Tensor
    different: torch.Tensor

    def values(self) -> dict[str, float | int]:
        return {"ndb": self.ndb, "ndb_over_k": self.ndb / self.k, "js": self.js, "k": self.k}


def ndb(samples: torch.Tensor, bins: Bins, *, alpha: float = 0.05, backend: str = "auto") -> NDBResult:
    """NDB of ``samples`` (n x d) against reference ``bins`` at significance ``alpha``."""
    q = bins.histogram(samples.to(bins.centres.device), backend).cpu()
    p_ref = bins.proportions.cpu()
    z, p_values = two_proportion_z_test(p_ref, bins.n, q, len(samples))
    different = p_values < alpha
    return NDBResult(int(different.sum()), len(p_ref), js_divergence(p_ref, q), q, p_ref, z, p_values, different)


@dataclass
class NDBOptions(ReferenceFeatureOptions):
    """The feature options, plus ``k``: bins (100 as the paper). ``alpha``: significance of each bin's z-test. ``whiten``: standardise
    dimensions before clustering. ``all_dims``: cluster on every dimension even when d > 1000 (the reference
    code uses a random d // 6 subset there). ``max_iter``: Lloyd iterations. ``n_init``: k-means runs, the best
    kept (10, as the reference code's scikit-learn of 2018; 1 is 10x faster and its bins serve the test about
    as well). ``backend``: k-NN auto/faiss/torch."""

    k: int = positive(100)
    alpha: float = positive(0.05)
    whiten: bool = False
    all_dims: bool = False
    max_iter: int = positive(100)
    n_init: int = positive(10)
    backend: str = "auto"


@register_metric(
    "ndb",
    options=NDBOptions,
    needs_reference=True,
    summary="number of statistically different k-means bins (NDB/K), JS",
    default_features=DEFAULT_FEATURES,
    features=FeatureNeed(("pool",), keep=True),
    reference="real samples or images, or statistics with kept features",
    statistic="feature bank of the reference (k-means bins) and bin counts of the samples",
    reduction="gather",
)
def evaluate(request: ScoreRequest, options: NDBOptions) -> MetricResult:
    pair = vector_pair(request, options, METRICS.get("ndb"), max(len(request.samples), 50 * options.k))
    x, real = pair.samples, pair.reference
    if len(real) < 2 * options.k:
        raise GanEvalError(f"{pair.reference_name}: {len(real)} reference samples are too few for {options.k} bins; use >= {2 * options.k} (the paper: ~500 per bin)")
    bins = make_bins(real, options.k, whiten=options.whiten, all_dims=options.all_dims, seed=request.seed, max_iter=options.max_iter, n_init=options.n_init, backend=options.backend)
    result = ndb(x, bins, alpha=options.alpha, backend=options.backend)
    return MetricResult(
        metric="ndb",
        values=result.values(),
        details={
            "bins": {
                "reference": result.reference_proportions.tolist(),
                "samples": result.proportions.tolist(),
                "z": [float(v) for v in result.z.nan_to_num(0.0)],
                "p_value": result.p_values.tolist(),
                "different": result.different.tolist(),
            }
        },
        protocol={
            "samples": request.samples.name,
            "reference": pair.reference_name,
            "n_reference": len(real),
            "features": pair.features,
            "features_from": pair.features_from,
            "layer": pair.layer,
            "feature_dim": x.shape[1],
            "k": options.k,
            "alpha": options.alpha,
            "whiten": options.whiten,
            "dims_used": len(bins.dims),
            "test": "two-proportion z-test, pooled p, two-sided",
        },
    )
