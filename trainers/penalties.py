"""Lipschitz / smoothness constraints on the discriminator: gradient penalty, R1, weight clipping.

Plain named functions rather than a registry: they differ in what they need (both batches and a generator,
the real batch only, or nothing but D's parameters after the step) and in when they run, so a method calls
the one its hyper-parameters name. The two penalties return PER-SAMPLE terms, unreduced and unweighted,
so the method reduces them per seed as it does the loss terms::

    d_loss = mean(real_term) + mean(fake_term) + lam * mean(gradient_penalty(D, real, fake, gen))   # WGAN-GP
    d_loss = mean(real_term) + mean(fake_term) + gamma * mean(r1_penalty(D, real))                  # R1

**Batch dimensions.** D maps ``[B, ...] -> [B, 1]`` or, with grouped seeds, ``[S, B, ...] -> [S, B, 1]``;
a term is per sample, so its shape is D's output without the trailing 1: ``[B]`` or ``[S, B]``. The caller
says which with ``batch_dims`` (1 ungrouped, 2 grouped; the input's rank cannot tell, since a grouped batch of
vectors and an ungrouped batch of 1-channel rows are both 3-D), and it is checked against D's output. The
per-sample gradient norm runs over all the remaining (feature / channel / pixel) dimensions.

**Per-sample gradients** come from one ``autograd.grad`` of D's output summed over the batch: exact as long
as D treats samples independently (no BatchNorm in training mode, no minibatch discrimination), which is
also what the papers require of D when penalising its gradient (Gulrajani et al. 2017, Sec. 4). A packed D
(PacGAN) penalises per pack: pass the packed input, whose rows are D's samples. ``create_graph=True`` makes
the penalties differentiable with respect to D's parameters.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from gan_eval.errors import GanEvalError

Critic = Callable[[torch.Tensor], torch.Tensor]
#: A per-sample norm of flattened gradients ``[*batch, features] -> [*batch]``.
GradientNorm = Callable[[torch.Tensor], torch.Tensor]


def input_gradients(critic: Critic, x: torch.Tensor, batch_dims: int = 1) -> torch.Tensor:
    """``grad_x critic(x)`` per sample, flattened to ``[*batch, features]``, with a graph to D's parameters."""
    x = x.detach().requires_grad_(True)
    logits = critic(x)
    if logits.shape != x.shape[:batch_dims] + (1,):
        raise ValueError(f"critic output {tuple(logits.shape)} is not [*batch, 1] for input {tuple(x.shape)} "
                         f"with {batch_dims} batch dimension(s)")
    (grad,) = torch.autograd.grad(logits.sum(), x, create_graph=True)
    return grad.flatten(batch_dims)


def gradient_penalty(critic: Critic, real: torch.Tensor, fake: torch.Tensor,
                     weights: torch.Tensor | torch.Generator, batch_dims: int = 1,
                     norm: GradientNorm | None = None, target: float | torch.Tensor = 1.0) -> torch.Tensor:
    """WGAN-GP's per-sample ``(||grad D(x_hat)||_2 - 1)^2`` (Gulrajani et al. 2017, Algorithm 1; weight lam = 10).

    ``x_hat = eps * real + (1 - eps) * fake`` with one ``eps ~ U[0, 1]`` per sample: ``weights`` is either the
    ``eps`` themselves (shape ``[*batch]``, drawn by the method from its noise generators, so grouped seeds and
    staged inputs draw them like every other input) or a generator to draw them from on its device (the CPU for
    the loop's noise generator), moved to the data's, so a seed means the same interpolates on any device. Both
    batches are detached: the penalty trains D only, as in the paper.

    ``norm`` (default the Euclidean norm over all features) and ``target`` generalise it to BW-GAN's
    ``(||grad D(x_hat)||_{B*} / gamma - 1)^2`` (:func:`sobolev_dual_norm`; Adler & Lunz 2018, eq. 9): the term is
    ``(norm / target - 1)^2``; ``target`` may be one value per grouped seed (shape ``[S]``).
    """
    if real.shape != fake.shape:
        raise ValueError(f"real {tuple(real.shape)} and fake {tuple(fake.shape)} batches differ in shape")
    shape = real.shape[:batch_dims] + (1,) * (real.ndim - batch_dims)
    if isinstance(weights, torch.Generator):
        weights = torch.rand(shape, generator=weights, device=weights.device)
    eps = weights.to(real.device, real.dtype).reshape(shape)
    x_hat = eps * real.detach() + (1.0 - eps) * fake.detach()
    grad = input_gradients(critic, x_hat, batch_dims)
    # vector_norm's backward is 0 (not NaN) where a gradient vanishes exactly, e.g. a saturated ReLU D.
    norms = torch.linalg.vector_norm(grad, dim=-1) if norm is None else norm(grad)
    if isinstance(target, torch.Tensor) and target.ndim:
        target = target.reshape(target.shape + (1,) * (norms.ndim - target.ndim))
    return (norms / target - 1.0).square()


def sobolev_filter(x: torch.Tensor, s: float, c: float, spatial_dims: int = 2) -> torch.Tensor:
    """``F^-1[(1 + c |xi|^2)^(s/2) F x]`` over the last ``spatial_dims`` axes (the images' H, W): the operator
    whose L^p norm is the W^{s,p} Sobolev norm (Adler & Lunz 2018, Sec. 4.2). Frequencies as adler-j/bwgan
    ``code/sobolev_utils.py`` ``sobolev_filter``: ``xi_k = min(k, n - k) / (n // 2)`` per axis, ``c`` "the scaling of
    the coordinate system (1 / pixel size)" (their default 5); ``s = 0`` is the identity."""
    if s == 0:
        return x
    dims = tuple(range(-spatial_dims, 0))
    radius = torch.zeros((), dtype=x.dtype, device=x.device)
    for dim in dims:
        n = x.shape[dim]
        k = torch.arange(n, device=x.device)
        xi = (torch.minimum(k, n - k).to(x.dtype) / (n // 2)).square()
        radius = radius.unsqueeze(-1) + xi
    scale = (1.0 + c * radius) ** (s / 2.0)
    return torch.fft.ifftn(scale * torch.fft.fftn(x, dim=dims), dim=dims).real


def dual_exponent(p: float) -> float:
    """``q`` with ``1/p + 1/q = 1`` (``inf`` for ``p = 1``), as adler-j/bwgan's ``DUAL_EXPONENT``."""
    return math.inf if p == 1 else 1.0 / (1.0 - 1.0 / p)


def sobolev_norm(x: torch.Tensor, s: float, p: float, c: float, shape: tuple[int, ...], batch_dims: int) -> torch.Tensor:
    """Per-sample ``||x||_{W^{s,p}} = ||sobolev_filter(x, s)||_p`` of flattened samples ``[*batch, features]`` whose
    unflattened sample shape is ``shape``; ``s`` needs images (``shape`` (C, H, W)), vectors take ``s = 0`` (the
    space is then l^p itself). The dual norm of W^{s,p} is the W^{-s,q} norm (Adler & Lunz 2018, Sec. 4.2)."""
    if s != 0:
        x = sobolev_filter(x.unflatten(-1, shape), s, c).flatten(batch_dims)
    return torch.linalg.vector_norm(x, ord=p, dim=-1)


def r1_penalty(critic: Critic, real: torch.Tensor, batch_dims: int = 1) -> torch.Tensor:
    """R1's per-sample ``||grad D(x_real)||_2^2 / 2`` (Mescheder, Geiger & Nowozin 2018, eq. 9).

    Convention: the paper's regulariser is ``R1 = gamma / 2 * E_data ||grad D(x)||^2``; this returns the
    term inside the expectation *with* its 1/2, so the method adds ``gamma * mean(r1_penalty(D, real))`` with
    the paper's gamma unchanged.
    D is the logit (before the sigmoid), as in the paper.
    """
    return 0.5 * input_gradients(critic, real, batch_dims).square().sum(-1)


@torch.no_grad()
def clip_weights_(module: nn.Module, bound: float) -> None:
    """WGAN weight clipping: clamp every parameter of ``module`` to ``[-bound, bound]`` in place, after each
    D step (Arjovsky et al. 2017, Algorithm 1; c = 0.01). Biases and BatchNorm affine parameters included, as
    in the authors' code (``for p in netD.parameters(): p.data.clamp_(-c, c)``)."""
    if not bound > 0:
        raise GanEvalError(f"weight clipping bound must be positive, got {bound}")
    for param in module.parameters():
        param.clamp_(-bound, bound)

