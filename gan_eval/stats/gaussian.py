"""Streaming Gaussian statistics of features: float64 count, sum and sum of outer products.

Sums merge exactly (up to float64 addition order), so batches, files and processes combine into the
statistics of the whole: mean = s / n, covariance = (S - n mean mean^T) / (n - 1), the unbiased estimate
``np.cov(features, rowvar=False)`` that pytorch-fid, TTUR and torch-fidelity use.

``meta`` says what the features are (extractor ``describe()``, layer) so statistics of different feature
spaces are never compared or merged. Proven by ``tests/test_gaussian_stats.py`` (merge of halves equals the
whole; mean/cov equal numpy's).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import torch

from gan_eval.errors import GanEvalError

# What must agree for two sets of statistics to be comparable (precision may differ: it is a tolerance).
# "weights" is every extractor's content hash of its weights (gan_eval.features.weights.state_hash), never a path.
IDENTITY_KEYS = ("name", "weights", "resize")


@dataclass
class Moments:
    """Mean and covariance of features (what FID needs); ``n`` is None for files that do not record it."""

    mu: torch.Tensor
    sigma: torch.Tensor
    n: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return int(self.mu.shape[0])


@dataclass
class GaussianStats:
    """Sufficient statistics of a feature set: ``count``, ``total`` = sum x (D), ``outer`` = sum x x^T (D x D)."""

    count: int
    total: torch.Tensor
    outer: torch.Tensor
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def empty(cls, dim: int, device: torch.device | str = "cpu", meta: dict[str, Any] | None = None) -> "GaussianStats":
        zeros = torch.zeros(dim, dtype=torch.float64, device=device)
        return cls(0, zeros, torch.zeros(dim, dim, dtype=torch.float64, device=device), dict(meta or {}))

    @classmethod
    def of(cls, features: torch.Tensor, meta: dict[str, Any] | None = None) -> "GaussianStats":
        """Statistics of an N x D feature matrix."""
        return cls.empty(features.shape[1], features.device, meta).add_(features)

    @property
    def dim(self) -> int:
        return int(self.total.shape[0])

    def add_(self, features: torch.Tensor) -> "GaussianStats":
        """Accumulate a batch N x D in place (in float64, on the statistics' device)."""
        x = features.to(self.total.device, torch.float64).reshape(len(features), -1)
        if x.shape[1] != self.dim:
            raise GanEvalError(f"features have dimension {x.shape[1]} but the statistics have {self.dim}")
        self.count += len(x)
        self.total += x.sum(0)
        self.outer += x.T @ x
        return self

    #: how the statistics of ranks combine (:mod:`gan_eval.stats.dist`)
    reduction = "sum"

    def state(self) -> dict[str, torch.Tensor]:
        """The summed tensors (reduction ``sum``, :mod:`gan_eval.stats.dist`): count, total, outer."""
        return {"count": torch.tensor(self.count, dtype=torch.int64), "total": self.total, "outer": self.outer}

    def with_state(self, state: dict[str, torch.Tensor]) -> "GaussianStats":
        """These statistics' feature space with the sums ``state`` (from :meth:`state`, e.g. summed over ranks)."""
        return GaussianStats(int(state["count"]), state["total"], state["outer"], dict(self.meta))

    def reduced_over_ranks(self) -> "GaussianStats":
        """The statistics of every ``torchrun`` rank's share together (itself outside a launch)."""
        from gan_eval.stats.dist import sum_over_ranks

        return sum_over_ranks(self)

    def merge(self, other: "GaussianStats") -> "GaussianStats":
        """The statistics of both sets together (refused for different feature spaces)."""
        check_compatible(self.meta, other.meta)
        if other.dim != self.dim:
            raise GanEvalError(f"cannot merge statistics of dimension {self.dim} and {other.dim}")
        device = self.total.device
        return GaussianStats(
            self.count + other.count, self.total + other.total.to(device), self.outer + other.outer.to(device), dict(self.meta)
        )

    def mean(self) -> torch.Tensor:
        if self.count < 1:
            raise GanEvalError("statistics of zero samples have no mean; pass at least two samples")
        return self.total / self.count

    def cov(self) -> torch.Tensor:
        """Unbiased covariance (divides by n - 1), as ``np.cov``."""
        if self.count < 2:
            raise GanEvalError(f"a covariance needs at least two samples, got {self.count}")
        mu = self.mean()
        sigma = (self.outer - self.count * torch.outer(mu, mu)) / (self.count - 1)
        return (sigma + sigma.T) / 2

    def moments(self) -> Moments:
        return Moments(self.mean(), self.cov(), self.count, dict(self.meta))


def warn_if_singular(n: int | None, dim: int, name: str) -> None:
    """Warn when the covariance of ``n`` samples in ``dim`` dimensions is singular (n <= dim)."""
    if n is not None and n <= dim:
        warnings.warn(
            f"{name}: {n} samples for {dim}-d features give a singular covariance; the score is biased"
            f" and not comparable to published values (use n > {dim}, e.g. 50,000 for FID)",
            stacklevel=2,
        )


def check_compatible(a: dict[str, Any], b: dict[str, Any], a_name: str = "statistics", b_name: str = "reference") -> None:
    """One-line error when two ``meta`` dicts describe different feature spaces; files without metadata pass."""
    if not a or not b:
        return
    ea, eb = a.get("extractor", {}), b.get("extractor", {})
    for key in IDENTITY_KEYS:
        if ea.get(key) != eb.get(key):
            raise GanEvalError(
                f"{a_name} and {b_name} come from different feature extractors ({key}: {ea.get(key)!r} vs {eb.get(key)!r});"
                " recompute one with the same --features, weights and resize"
            )
    if a.get("layer") != b.get("layer"):
        raise GanEvalError(
            f"{a_name} and {b_name} hold different layers ({a.get('layer')!r} vs {b.get('layer')!r}); use the same layer"
        )
