"""Spectral normalisation of every linear and convolutional layer (Miyato et al. 2018), a network option.

Each layer's weight ``W`` is replaced by ``W / sigma(W)``, ``sigma`` estimated by power iteration on the weight
reshaped to a matrix ``[out, in * kernel]`` (``[in, out * kernel]`` for a transposed convolution): one iteration
per training-mode forward (Miyato et al., Algorithm 1), none in eval mode. As in the paper and the SN-GAN code,
a convolution is normalised by the spectral norm of its reshaped kernel, not by the operator norm of the
convolution.

This is the algorithm of ``torch.nn.utils.parametrizations.spectral_norm`` (same order of updates, 15 warm-up
iterations, same ``eps``; ``tests/test_losses.py`` checks the two agree), rewritten for two reasons:

* PyTorch's version updates its vectors with ``F.normalize(..., out=buffer)``, which ``torch.func.vmap`` cannot
  batch, so it fails in a grouped-seed network (stacked parameters and buffers under ``vmap`` +
  ``functional_call``, trainers' engine); this one updates out of place, then ``copy_``s into the buffers.
* PyTorch draws the initial vectors from the global RNG; these come from an explicit ``torch.Generator``.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import parametrize

WARMUP_ITERATIONS = 15  # PyTorch's, run once at registration so sigma is accurate from the first step
EPS = 1e-12  # PyTorch's default: guards the normalisations of a zero vector

TRANSPOSED = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
SPECTRAL_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, *TRANSPOSED)


class SpectralNorm(nn.Module):
    """Parametrisation ``W -> W / sigma(W)`` with the power-iteration vectors ``u`` (rows) and ``v`` (columns)
    as buffers, so they are saved with the network and stacked per seed in a grouped network."""

    def __init__(self, weight: torch.Tensor, out_dim: int, n_power_iterations: int,
                 generator: torch.Generator) -> None:
        super().__init__()
        if n_power_iterations < 1:
            raise ValueError(f"spectral normalisation: n_power_iterations must be >= 1, got {n_power_iterations}")
        self.out_dim = out_dim
        self.n_power_iterations = n_power_iterations
        rows, cols = self._matrix(weight).shape
        u = torch.randn(rows, generator=generator, dtype=weight.dtype, device=generator.device)
        v = torch.randn(cols, generator=generator, dtype=weight.dtype, device=generator.device)
        self.register_buffer("_u", F.normalize(u, dim=0, eps=EPS).to(weight.device))
        self.register_buffer("_v", F.normalize(v, dim=0, eps=EPS).to(weight.device))
        self._power_iteration(self._matrix(weight.detach()), WARMUP_ITERATIONS)

    def _matrix(self, weight: torch.Tensor) -> torch.Tensor:
        return weight.movedim(self.out_dim, 0).flatten(1)

    @torch.no_grad()
    def _power_iteration(self, matrix: torch.Tensor, iterations: int) -> None:
        u, v = self._u, self._v
        for _ in range(iterations):
            u = F.normalize(matrix @ v, dim=0, eps=EPS)
            v = F.normalize(matrix.mT @ u, dim=0, eps=EPS)
        self._u.copy_(u)
        self._v.copy_(v)

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        matrix = self._matrix(weight)
        if self.training:
            self._power_iteration(matrix.detach(), self.n_power_iterations)
        # u and v are constants of the gradient (Miyato et al. Sec. 2.2); cloned because autograd saves them
        # and the next training forward overwrites the buffers in place.
        u, v = self._u.clone(), self._v.clone()
        sigma = torch.dot(u, matrix @ v)
        return weight / sigma


def spectral_norm_all(module: nn.Module, generator: torch.Generator, n_power_iterations: int = 1) -> nn.Module:
    """Spectrally normalise every Linear / Conv / ConvTranspose layer of ``module`` in place; returns it.

    The initial vectors of each layer come from ``generator`` (then 15 warm-up iterations), in module order,
    so the same generator state gives the same network and the global RNG is never touched.
    """
    layers = [m for m in module.modules() if isinstance(m, SPECTRAL_LAYERS)]
    if not layers:
        raise ValueError(f"spectral normalisation: {type(module).__name__} has no Linear or Conv layer")
    for layer in layers:
        if parametrize.is_parametrized(layer, "weight"):
            raise ValueError(f"spectral normalisation: {layer} already has a parametrised weight")
        norm = SpectralNorm(layer.weight, 1 if isinstance(layer, TRANSPOSED) else 0, n_power_iterations, generator)
        parametrize.register_parametrization(layer, "weight", norm)
    return module
