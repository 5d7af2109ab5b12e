"""Isotropic Gaussian mixtures with point modes: the ring, the grid and the 10-mode 1200-D mixture.

Definitions follow the papers' released code (see ``PROTOCOLS.md`` in the project's shared notes):

* ``ring8``: means (cos 2 pi k/8, sin 2 pi k/8), k = 0..7, radius 1, std 0.01 (PacGAN's 2DRing config;
  VEEGAN Fig. 2).
* ``ring8-r2``: the same 8 angles at radius 2, std 0.02 (the unrolled-GAN paper's text; no released code).
* ``ring8-linspace``: the unrolled-GAN notebook's ``sample_mog`` (poolio/unrolled_gan, every version) and GDPP's
  ``sample_ring``: theta = ``linspace(0, 2 pi, 8)``, means (sin theta, cos theta), radius 1, std 0.01. Angle 0
  and 2 pi coincide, so it has 7 distinct locations and location 0, (0, 1), has weight 2/8.
* ``grid25``: means {-4, -2, 0, 2, 4}^2, std 0.05 (ALI, PacGAN, VEEGAN code).
* ``hd1200``: PacGAN's reconstruction of VEEGAN's 1200-D mixture: x[:, :700] ~ N(0, I), x[:, 700:] = 0,
  then every coordinate is shifted by MEANS[label], MEANS = [-1, -0.5, 0, 0.5, -2, -2.5, 10, 0.25, -13, -5.5].
  Modes have 700-D support with std 1; the HQ default is VEEGAN's "10 std", read through the
  equal-probability-mass rule of :mod:`gan_eval.references.base`.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import torch

from gan_eval.references.base import Reference

HD1200_MEANS = (-1.0, -0.5, 0.0, 0.5, -2.0, -2.5, 10.0, 0.25, -13.0, -5.5)


class GaussianMixture(Reference):
    """Mixture of isotropic Gaussians N(mean_i, std^2 I) on a ``support_dim``-dimensional subspace.

    ``components`` are the sampled component means (duplicates allowed, as in the linspace ring); the
    modes are the distinct locations among them, each weighted by how many components sit there.
    ``support`` is an optional boolean mask of the coordinates that carry noise (default: all).
    """

    def __init__(
        self,
        name: str,
        components: np.ndarray,
        std: float,
        *,
        support: np.ndarray | None = None,
        default_threshold_std: float = 3.0,
        params: dict[str, Any] | None = None,
    ) -> None:
        components = np.asarray(components, dtype=np.float64)
        if components.ndim != 2 or len(components) == 0:
            raise ValueError("components must be a non-empty (k, dim) array")
        if std <= 0:
            raise ValueError(f"std must be positive, got {std}")
        self.name = name
        self.components = torch.from_numpy(components)
        locations, inverse = np.unique(np.round(components, 12), axis=0, return_inverse=True)
        # np.unique sorts; keep modes in order of first appearance so mode i is the i-th listed mean.
        first = [int(np.flatnonzero(inverse.ravel() == j)[0]) for j in range(len(locations))]
        order = np.argsort(first)
        self.means = torch.from_numpy(components[np.sort(first)])
        counts = np.bincount(inverse.ravel(), minlength=len(locations))[order]
        self._weights = torch.from_numpy(counts / counts.sum())
        self.std = float(std)
        self.dim = components.shape[1]
        self.support = torch.ones(self.dim, dtype=torch.bool) if support is None else torch.as_tensor(support)
        self.support_dim = int(self.support.sum())
        self.default_threshold_std = default_threshold_std
        self.params = params or {}

    @property
    def n_modes(self) -> int:
        return len(self.means)

    @property
    def weights(self) -> torch.Tensor:
        return self._weights

    def sample(self, n: int, seed: int = 0) -> torch.Tensor:
        gen = torch.Generator().manual_seed(seed)
        labels = torch.randint(len(self.components), (n,), generator=gen)
        noise = torch.randn(n, self.dim, generator=gen, dtype=torch.float64) * self.std
        noise[:, ~self.support] = 0.0
        return (self.components[labels] + noise).to(torch.float32)

    def distances(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(torch.float64)
        means = self.means.to(x.device)
        # |x - m|^2 expanded is cancellation-prone for far-off points; cdist in float64 is exact enough
        # and its per-row result does not depend on how rows are chunked.
        return torch.cdist(x, means, compute_mode="donot_use_mm_for_euclid_dist")

    def support_points(self, points_per_mode: int) -> torch.Tensor:
        """The means: a Gaussian mode's noise-free support is its centre, whatever ``points_per_mode``."""
        return self.means[:, None, :].clone()

    def centres(self) -> np.ndarray:
        return self.means.numpy()

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), **self.params}


def ring(
    n: int = 8,
    radius: float = 1.0,
    std: float = 0.01,
    *,
    endpoint: bool = False,
    sin_cos: bool = False,
    name: str | None = None,
) -> GaussianMixture:
    """``n`` Gaussians on a circle at angles theta = ``linspace(0, 2 pi, n, endpoint)``, means
    radius (cos theta, sin theta). ``endpoint=True`` reproduces ``linspace(0, 2 pi, n)`` (first = last angle);
    ``sin_cos=True`` puts the means at radius (sin theta, cos theta) instead (from the top, clockwise), as the
    unrolled-GAN notebook and GDPP do."""
    angles = np.linspace(0.0, 2 * math.pi, n, endpoint=endpoint)
    x, y = (np.sin(angles), np.cos(angles)) if sin_cos else (np.cos(angles), np.sin(angles))
    means = radius * np.stack([x, y], axis=1)
    # sin_cos recorded only when set, so the description (in every run's config.json) of rings made before it
    # existed stays the same and their runs still resume.
    params = {"n": n, "radius": radius, "endpoint": endpoint, **({"sin_cos": True} if sin_cos else {})}
    return GaussianMixture(name or f"ring:n={n},radius={radius},std={std}", means, std, params=params)


def grid(side: int = 5, spacing: float = 2.0, std: float = 0.05, *, name: str | None = None) -> GaussianMixture:
    """``side`` x ``side`` Gaussians centred on the origin, ``spacing`` apart."""
    axis = (np.arange(side) - (side - 1) / 2.0) * spacing
    means = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)
    params = {"side": side, "spacing": spacing}
    return GaussianMixture(name or f"grid:side={side},spacing={spacing},std={std}", means, std, params=params)


def shifted_subspace(
    shifts: Sequence[float] = HD1200_MEANS,
    dim: int = 1200,
    noise_dim: int = 700,
    std: float = 1.0,
    *,
    default_threshold_std: float = 10.0,
    name: str | None = None,
) -> GaussianMixture:
    """PacGAN/VEEGAN high-dimensional mixture: N(0, std^2) on the first ``noise_dim`` coordinates, zero on the
    rest, all coordinates shifted by one scalar per mode."""
    if not 0 < noise_dim <= dim:
        raise ValueError(f"noise_dim must be in 1..{dim}, got {noise_dim}")
    means = np.repeat(np.asarray(shifts, dtype=np.float64)[:, None], dim, axis=1)
    support = np.zeros(dim, dtype=bool)
    support[:noise_dim] = True
    params = {"shifts": list(shifts), "noise_dim": noise_dim}
    return GaussianMixture(
        name or f"hd:dim={dim},noise_dim={noise_dim},std={std}",
        means,
        std,
        support=support,
        default_threshold_std=default_threshold_std,
        params=params,
    )
