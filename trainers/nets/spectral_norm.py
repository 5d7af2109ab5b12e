"""Spectral normalisation (Miyato et al. 2018, Algorithm 1) that runs under ``torch.func.vmap``.

The algorithm is ``torch.nn.utils.parametrizations.spectral_norm``'s, step for step: the weight reshaped to a
matrix ``W`` (``out x in*kh*kw``), buffers ``u``, ``v`` refined by one power iteration per training forward
(``u = normalize(W v)``, ``v = normalize(W^T u)``), 15 warm-up iterations at construction, and the forward
``W / (u^T W v)`` with ``u``, ``v`` held constant. Two things differ, and are why this module exists:
torch's version writes ``u``, ``v`` with ``F.normalize(..., out=...)``, which ``vmap`` cannot batch ("Batching rule
not implemented for aten::div.out"), so grouped seeds could not use it; and it draws ``u``, ``v`` from the global
RNG, where every net here draws from an explicit generator.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

WARMUP_ITERATIONS = 15  # as torch's spectral_norm at construction


def power_iteration(
    matrix: torch.Tensor, u: torch.Tensor, v: torch.Tensor, steps: int, eps: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """``steps`` rounds of ``u = normalize(W v); v = normalize(W^T u)`` (no gradient through them)."""
    matrix = matrix.detach()
    for _ in range(steps):
        u = F.normalize(matrix @ v, dim=0, eps=eps)
        v = F.normalize(matrix.T @ u, dim=0, eps=eps)
    return u, v


class SpectralNorm(nn.Module):
    """Parametrization ``weight -> weight / sigma``, sigma the power-iteration estimate of the largest singular
    value of ``weight.flatten(1)``. Register it with :func:`spectral_normalize`."""

    def __init__(self, weight: torch.Tensor, generator: torch.Generator, n_power_iterations: int = 1,
                 eps: float = 1e-12) -> None:
        super().__init__()
        self.n_power_iterations, self.eps = n_power_iterations, eps
        matrix = weight.detach().flatten(1)
        u = F.normalize(torch.randn(matrix.shape[0], generator=generator, dtype=matrix.dtype), dim=0, eps=eps)
        v = F.normalize(torch.randn(matrix.shape[1], generator=generator, dtype=matrix.dtype), dim=0, eps=eps)
        u, v = power_iteration(matrix, u, v, WARMUP_ITERATIONS, eps)
        self.register_buffer("_u", u)
        self.register_buffer("_v", v)

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        matrix = weight.flatten(1)
        if self.training:
            u, v = power_iteration(matrix, self._u, self._v, self.n_power_iterations, self.eps)
            with torch.no_grad():  # copy_ (not out=) updates the buffers in place, also under vmap
                self._u.copy_(u)
                self._v.copy_(v)
        else:
            # copies, so that a later training forward's in-place update cannot corrupt this graph's backward
            u, v = self._u.clone(), self._v.clone()
        return weight / torch.dot(u, matrix @ v)


def spectral_normalize(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """Spectrally normalise the weight of every Conv2d and Linear in ``module`` (in ``modules()`` order,
    drawing each ``u``, ``v`` from ``generator``); returns ``module``."""
    for layer in list(module.modules()):
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            parametrize.register_parametrization(layer, "weight", SpectralNorm(layer.weight, generator))
    return module
