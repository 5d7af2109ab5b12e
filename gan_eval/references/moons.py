"""Two interleaving half circles, as scikit-learn's ``make_moons`` defines them; the modes are the two arcs.

``make_moons(n)`` puts ``n // 2`` points on the outer moon and ``n - n // 2`` on the inner one, evenly on
    outer: (cos t, sin t),             t in linspace(0, pi, n_out)
    inner: (1 - cos t, 1 - sin t - .5), t in linspace(0, pi, n_in)
and adds N(0, noise^2 I). We sample exactly that, shuffled with our own seeded generator.
The distance of a point to a mode is its Euclidean distance to the arc, and the HQ scale is ``noise``
(a point displaced by 2-D Gaussian noise lies no further from the arc than from its clean position, so
real samples are HQ at least 1 - exp(-k^2/2) of the time).
The mode-collapse mini-project trains on ``make_moons(32, noise=0)`` (a fixed 32-point set): that is the
``moons-mini`` variant, whose HQ scale is a stated tolerance since its noise is 0.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from gan_eval.references.base import Reference

# (centre, angle range) of each arc: outer upper half of the unit circle about (0, 0); inner lower half about (1, .5).
_ARCS = (((0.0, 0.0), (0.0, math.pi)), ((1.0, 0.5), (math.pi, 2 * math.pi)))


def make_moons_points(n: int) -> np.ndarray:
    """The noise-free points of ``sklearn.datasets.make_moons(n, shuffle=False)``: outer moon first."""
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    outer = np.stack([np.cos(t_out), np.sin(t_out)], axis=1)
    inner = np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], axis=1)
    return np.concatenate([outer, inner])


class Moons(Reference):
    """Two moons with Gaussian noise ``noise``; ``scale`` (default: ``noise``) is the std of the HQ rule."""

    dim = 2
    support_dim = 2

    def __init__(self, noise: float = 0.05, *, scale: float | None = None, name: str | None = None) -> None:
        if noise < 0:
            raise ValueError(f"noise must be >= 0, got {noise}")
        self.noise = float(noise)
        self.std = float(scale if scale is not None else noise)
        if self.std <= 0:
            raise ValueError("moons with noise 0 needs a positive scale for the HQ rule")
        self.name = name or f"moons:noise={noise}"

    @property
    def n_modes(self) -> int:
        return 2

    def sample(self, n: int, seed: int = 0) -> torch.Tensor:
        gen = torch.Generator().manual_seed(seed)
        points = torch.from_numpy(make_moons_points(n))
        points = points[torch.randperm(n, generator=gen)]
        noise = torch.randn(n, 2, generator=gen, dtype=torch.float64) * self.noise
        return (points + noise).to(torch.float32)

    def distances(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(torch.float64)
        columns = []
        for (cx, cy), (lo, hi) in _ARCS:
            dx, dy = x[:, 0] - cx, x[:, 1] - cy
            r = torch.sqrt(dx * dx + dy * dy)
            angle = torch.remainder(torch.atan2(dy, dx), 2 * math.pi)
            on_arc = (angle >= lo) & (angle <= hi)
            # Off the arc's angular range the nearest arc point is an endpoint.
            ends = [(cx + math.cos(a), cy + math.sin(a)) for a in (lo, hi)]
            to_end = torch.stack([torch.hypot(x[:, 0] - ex, x[:, 1] - ey) for ex, ey in ends], dim=1).min(dim=1).values
            columns.append(torch.where(on_arc, (r - 1.0).abs(), to_end))
        return torch.stack(columns, dim=1)

    def support_points(self, points_per_mode: int) -> torch.Tensor:
        """The midpoints of ``points_per_mode`` equal pieces of each arc (equal angles on a unit circle are equal
        lengths), outer arc first."""
        if points_per_mode < 1:
            raise ValueError(f"points_per_mode must be positive, got {points_per_mode}")
        share = (torch.arange(points_per_mode, dtype=torch.float64) + 0.5) / points_per_mode
        arcs = []
        for (cx, cy), (lo, hi) in _ARCS:
            angle = lo + share * (hi - lo)
            arcs.append(torch.stack([cx + torch.cos(angle), cy + torch.sin(angle)], dim=1))
        return torch.stack(arcs)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "noise": self.noise}
