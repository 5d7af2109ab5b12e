"""What a known-mode reference distribution is: it samples from a seed and assigns samples to modes.

The high-quality rule is shared by all references so that it means the same thing everywhere:

    a sample is high quality (HQ) at ``k`` standard deviations when its standardised distance to the
    nearest mode, r = d(x, mode) / std, satisfies  r**2 <= F^-1_{chi2(d)}(1 - exp(-k**2 / 2)),

where ``d`` is the dimension of the mode's support. In 2-D, chi2(2) has CDF 1 - exp(-t/2), so the bound is
exactly r <= k: the "within 3 standard deviations" rule of VEEGAN (Srivastava et al. 2017, Sec. 5.1) and
PacGAN (Lin et al. 2018, Sec. 5). In d dimensions it is the ball that holds the same probability mass,
1 - exp(-k**2/2) (98.89 % at k = 3), under the mode's own Gaussian; so a real sample is HQ with that
probability in any dimension. A literal Euclidean "k std" ball in 700 dimensions would hold almost no mass
(real samples lie ~sqrt(700) = 26.5 std from their mean), which is why the VEEGAN 1200-D text cannot be
read literally.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import torch
from scipy import stats

from gan_eval.errors import GanEvalError


def hq_radius(threshold_std: float, support_dim: int) -> float:
    """Standardised radius of the HQ ball: sqrt of the chi2(support_dim) quantile at 1 - exp(-k^2/2)."""
    if threshold_std <= 0:
        raise GanEvalError(f"threshold_std={threshold_std}: k of the HQ rule must be positive (e.g. 3)")
    tail = math.exp(-(threshold_std**2) / 2.0)
    if support_dim == 2:
        return float(threshold_std)  # closed form; avoids quantile round-off in the common case
    return float(math.sqrt(stats.chi2.isf(tail, support_dim)))


class Reference(ABC):
    """A distribution with known modes.

    Subclasses give ``dim``, ``n_modes``, ``weights`` (mode probabilities), ``std`` (the scale for the HQ
    rule), ``support_dim`` (dimension of each mode's noise), ``default_threshold_std``, a seeded
    :meth:`sample`, :meth:`distances` to every mode and :meth:`support_points` (each mode's noise-free support).
    """

    name: str
    dim: int
    std: float
    support_dim: int
    default_threshold_std: float = 3.0

    @property
    @abstractmethod
    def n_modes(self) -> int: ...

    @property
    def weights(self) -> torch.Tensor:
        """Probability of each mode under the reference (uniform unless a variant says otherwise)."""
        return torch.full((self.n_modes,), 1.0 / self.n_modes, dtype=torch.float64)

    @abstractmethod
    def sample(self, n: int, seed: int = 0) -> torch.Tensor:
        """``n`` float32 samples, shape (n, dim), the same for the same seed on any machine (drawn on CPU)."""

    @abstractmethod
    def distances(self, x: torch.Tensor) -> torch.Tensor:
        """Euclidean distance (float64) from each row of ``x`` (n, dim) to each mode: shape (n, n_modes)."""

    @abstractmethod
    def support_points(self, points_per_mode: int) -> torch.Tensor:
        """Each mode's noise-free support as points, float64 (n_modes, m, dim), each point standing for an equal share
        of its mode's support: the centre of a point mode (m = 1), or ``points_per_mode`` points evenly spaced in
        length along a curve mode (the midpoints of equal pieces)."""

    def threshold(self, threshold_std: float | None = None) -> float:
        """``k`` of the HQ rule: ``threshold_std``, or this reference's default when None."""
        return self.default_threshold_std if threshold_std is None else threshold_std

    def hq_distance(self, threshold_std: float | None = None) -> float:
        """The distance to a mode within which a sample is HQ at ``k`` (:meth:`threshold`): hq_radius(k, support_dim) * std."""
        return hq_radius(self.threshold(threshold_std), self.support_dim) * self.std

    def assign(self, x: torch.Tensor, threshold_std: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Nearest mode index (int64) and HQ flag (bool) of each row of ``x``, on ``x``'s device."""
        nearest, index = self.distances(x).min(dim=1)
        return index, nearest <= self.hq_distance(threshold_std)

    def centres(self) -> np.ndarray | None:
        """Mode centres (n_modes, dim) for plotting, or None for modes that are not points."""
        return None

    def describe(self) -> dict[str, Any]:
        """Parameters that define this reference, recorded in every result."""
        return {
            "name": self.name,
            "dim": self.dim,
            "modes": self.n_modes,
            "std": self.std,
            "support_dim": self.support_dim,
            "default_threshold_std": self.default_threshold_std,
        }
