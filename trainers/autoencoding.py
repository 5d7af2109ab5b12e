"""The terms of the autoencoding objectives, as pure functions on tensors: a reconstruction cost, its best-of-many
form, the Gaussian encoder's KL to the prior, and WAE's MMD latent penalty.

Every function keeps leading batch dimensions: a per-sample term has the shape of the batch (``[B]``, or ``[S, B]``
with grouped seeds), a per-batch statistic the shape of the batch's leading dimensions (``[]`` or ``[S]``); the
method reduces per seed (:meth:`trainers.methods.base.Method.mean`).

Used by :mod:`trainers.methods.autoencoding` (WAE, alpha-GAN, BMS-VAE, BMS-VAE-GAN); proved in
``tests/test_autoencoding.py`` against brute-force sums written there independently.
"""
from __future__ import annotations

import torch

COSTS = ("l1", "l2sq")
#: The IMQ kernel's scales in WAE's code (tolstikhin/wae wae.py L301 at 6351565): C = scale * 2 d_z sigma_p^2.
IMQ_SCALES = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


def reconstruction_cost(x: torch.Tensor, x_hat: torch.Tensor, cost: str, sample_dims: int) -> torch.Tensor:
    """Per-sample ``c(x, x_hat)`` summed over the last ``sample_dims`` dimensions (a sample's features or pixels):
    ``l1`` = ||x - x_hat||_1 (the Laplace negative log-likelihood of alpha-GAN, up to its scale and constant),
    ``l2sq`` = ||x - x_hat||_2^2 (WAE's ``cost='l2sq'`` before its 0.05 weight; a Gaussian's, up to 1/2)."""
    diff = x - x_hat
    if cost == "l1":
        per_feature = diff.abs()
    elif cost == "l2sq":
        per_feature = diff.square()
    else:
        raise ValueError(f"reconstruction cost {cost!r} is unknown; use one of {', '.join(COSTS)}")
    return per_feature.flatten(-sample_dims).sum(-1)


def best_of_many(x: torch.Tensor, reconstructions: torch.Tensor, cost: str, sample_dims: int) -> torch.Tensor:
    """The best-of-many reconstruction term (Bhattacharyya et al., "Best-of-Many-Samples Distribution Matching",
    Eq. 7): with T codes z_t ~ q(z|x) per data point, ``-log (1/T) sum_t p(x | z_t)`` with the maximum replacing the
    log-sum-exp, i.e. ``min_t c(x, G(z_t))`` per sample (the constant log T dropped).

    ``x``: ``[*lead, B, *sample]``; ``reconstructions``: ``[*lead, T, B, *sample]`` (the T reconstructions of each
    data point). Returns ``[*lead, B]``. With T = 1 it is ``c(x, G(z))``: the plain reconstruction of alpha-GAN / WAE.
    """
    batch_dims = x.ndim - sample_dims
    if reconstructions.shape[: batch_dims - 1] + reconstructions.shape[batch_dims:] != x.shape:
        raise ValueError(f"reconstructions {tuple(reconstructions.shape)} are not [*lead, T, B, *sample] for data {tuple(x.shape)}")
    costs = reconstruction_cost(x.unsqueeze(batch_dims - 1), reconstructions, cost, sample_dims)
    return costs.min(dim=batch_dims - 1).values


def gaussian_kl(mean: torch.Tensor, log_variance: torch.Tensor) -> torch.Tensor:
    """Per-sample ``KL(N(mean, diag exp(log_variance)) || N(0, I))`` over the last dimension, in closed form
    (Kingma & Welling 2014, Appendix B): ``-1/2 sum(1 + log s^2 - m^2 - s^2)``."""
    return -0.5 * (1.0 + log_variance - mean.square() - log_variance.exp()).sum(-1)


def _squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``||a_i - b_j||^2`` for ``[*lead, N, d]`` and ``[*lead, M, d]``, as the reference expands it (norms minus
    twice the dot products)."""
    return a.square().sum(-1, keepdim=True) + b.square().sum(-1).unsqueeze(-2) - 2.0 * a @ b.mT


def mmd_imq(qz: torch.Tensor, pz: torch.Tensor, prior_scale: float = 1.0) -> torch.Tensor:
    """WAE-MMD's penalty (Tolstikhin et al. 2018, Algorithm 2; tolstikhin/wae wae.py ``mmd_penalty``, L233-310 at
    commit 6351565, ``mmd_kernel='IMQ'``, ``pz='normal'``): the unbiased MMD^2 estimate between encoded codes
    ``qz`` and prior samples ``pz`` (both ``[*lead, n, d]``), summed over inverse multiquadratics kernels
    ``k(x, y) = C / (C + ||x - y||^2)`` with ``C = s * 2 d sigma_p^2`` for s in :data:`IMQ_SCALES`::

        sum_s [ sum_{i != j} (k(q_i, q_j) + k(p_i, p_j)) / (n (n - 1))  -  2 sum_{i, j} k(q_i, p_j) / n^2 ]

    (the within-sample sums leave out i = j, the U-statistic; the cross sum keeps all n^2 pairs, as the code does).
    Returns ``[*lead]``."""
    n, d = qz.shape[-2], qz.shape[-1]
    if pz.shape != qz.shape or n < 2:
        raise ValueError(f"MMD needs two batches of one shape [*, n >= 2, d], got {tuple(qz.shape)} and {tuple(pz.shape)}")
    off_diagonal = 1.0 - torch.eye(n, dtype=qz.dtype, device=qz.device)
    within = _squared_distances(qz, qz), _squared_distances(pz, pz)
    across = _squared_distances(qz, pz)
    base = 2.0 * d * prior_scale**2
    total = qz.new_zeros(qz.shape[:-2])
    for scale in IMQ_SCALES:
        c = base * scale
        same = ((c / (c + within[0]) + c / (c + within[1])) * off_diagonal).sum((-2, -1)) / (n * n - n)
        total = total + same - 2.0 * (c / (c + across)).sum((-2, -1)) / (n * n)
    return total
