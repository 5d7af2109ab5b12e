"""Many independent minimisations at once: row-wise L-BFGS and Adam over the rows of a batch.

Row ``b`` of ``z`` (B x d) is its own problem ``min_z f_b(z)``. ``loss(z, rows)`` returns one value per row of
``z`` for the problems named by ``rows`` (indices into the batch), and row ``b``'s value must depend only on
``z[b]`` (a generator in eval mode does; batch norm in training mode would not). Gradients come from autograd
on the sum, which for independent rows is each row's own gradient.

L-BFGS (Nocedal & Wright 2006, Alg. 7.4/7.5) with everything per row: its own history of the last ``history``
pairs (s, y), its own initial scaling gamma = s'y / y'y, its own line search and its own stopping tests, so a
row's iterates are those it would have alone. The line search is the weak-Wolfe bracketing search of Lewis &
Overton (2013, "Nonsmooth optimization via quasi-Newton methods", Sec. 4.2): double the step while it is too
short (curvature condition fails), bisect while it is too long (sufficient decrease fails); c1 = 1e-4,
c2 = 0.9. Only rows still searching are evaluated, so a batch costs what its slowest row needs. The first step
has length 1 (t = 1 / ||g||, as scipy's L-BFGS-B, which the era code used; latents are O(1)), later ones start at
t = 1. A row stops when its gradient max-norm <= ``tolerance_grad``, its step's max-norm <= ``tolerance_change``,
or its loss change (or slope along the direction) < ``tolerance_change`` x max(|f|, 1): ``torch.optim.LBFGS``'s
tests, with scipy's relative loss test so that they do not depend on the loss's scale. A pair with s'y <= 1e-10
is not stored (as in ``torch.optim.LBFGS``), which keeps each row's inverse-Hessian estimate positive definite.

Adam (Kingma & Ba 2015) is elementwise, so rows are independent by construction; the best iterate per row is kept.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable

import torch

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Progress = Callable[..., Iterable]


@dataclass
class RowMinimum:
    """Per row: the final point, its loss and the iterations it took; ``evaluations``: batched loss calls;
    ``row_evaluations``: rows evaluated over all calls (the work done, as rows x calls would be without subsets)."""

    z: torch.Tensor
    loss: torch.Tensor
    iterations: torch.Tensor
    evaluations: int
    row_evaluations: int


def value_and_grad(loss: LossFn, z: torch.Tensor, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-row losses and their gradients with respect to ``z`` (both detached)."""
    with torch.enable_grad():
        z = z.detach().requires_grad_(True)
        f = loss(z, rows)
        (g,) = torch.autograd.grad(f.sum(), z)
    return f.detach(), g.detach()


def lbfgs_rows(
    loss: LossFn,
    z0: torch.Tensor,
    *,
    iterations: int = 100,
    history: int = 10,
    max_trials: int = 25,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_grad: float = 1e-7,
    tolerance_change: float = 1e-9,
    progress: Progress | None = None,
) -> RowMinimum:
    """Minimise every row's loss from ``z0`` (B x d) by its own L-BFGS (see the module docstring)."""
    batch, dim = z0.shape
    every = torch.arange(batch, device=z0.device)
    z = z0.detach().clone()
    f, g = value_and_grad(loss, z, every)
    evaluations, row_evaluations = 1, batch
    s_hist = z.new_zeros(batch, history, dim)  # newest pair last; unused slots are zero with rho = 0
    y_hist = z.new_zeros(batch, history, dim)
    rho = z.new_zeros(batch, history)
    first = torch.ones(batch, dtype=torch.bool, device=z.device)
    its = torch.zeros(batch, dtype=torch.long, device=z.device)
    active = g.abs().amax(1) > tolerance_grad
    steps: Iterable[int] = range(iterations)
    if progress is not None:
        steps = progress(steps, total=iterations, desc="L-BFGS")
    for _ in steps:
        idx = active.nonzero().squeeze(1)
        if len(idx) == 0:
            continue  # nothing left to move; keep the progress bar honest
        direction = _two_loop(g[idx], s_hist[idx], y_hist[idx], rho[idx])
        gtd = (g[idx] * direction).sum(1)
        descent = gtd < -tolerance_change * f[idx].abs().clamp(min=1.0)
        active[idx[~descent]] = False
        idx, direction, gtd = idx[descent], direction[descent], gtd[descent]
        if len(idx) == 0:
            continue
        t0 = torch.where(first[idx], 1.0 / g[idx].norm(dim=1), torch.ones_like(gtd))  # first step: length 1 in z
        t, z_new, f_new, g_new, moved, calls, rows = _weak_wolfe(loss, z[idx], f[idx], gtd, direction, t0, idx, c1, c2, max_trials)
        evaluations, row_evaluations = evaluations + calls, row_evaluations + rows
        active[idx[~moved]] = False  # no decrease along a descent direction: converged to working precision
        idx, t, z_new, f_new, g_new, direction = idx[moved], t[moved], z_new[moved], f_new[moved], g_new[moved], direction[moved]
        s, y = z_new - z[idx], g_new - g[idx]
        ys = (s * y).sum(1)
        keep = ys > 1e-10
        k = idx[keep]
        s_hist[k] = torch.cat([s_hist[k, 1:], s[keep, None]], 1)
        y_hist[k] = torch.cat([y_hist[k, 1:], y[keep, None]], 1)
        rho[k] = torch.cat([rho[k, 1:], (1.0 / ys[keep])[:, None]], 1)
        done = (
            (g_new.abs().amax(1) <= tolerance_grad)
            | ((f[idx] - f_new).abs() < tolerance_change * torch.maximum(f[idx].abs(), f_new.abs()).clamp(min=1.0))
            | ((t[:, None] * direction).abs().amax(1) <= tolerance_change)
        )
        z[idx], f[idx], g[idx] = z_new, f_new, g_new
        first[idx] = False
        its[idx] += 1
        active[idx[done]] = False
    return RowMinimum(z, f, its, evaluations, row_evaluations)


def _two_loop(g: torch.Tensor, s: torch.Tensor, y: torch.Tensor, rho: torch.Tensor) -> torch.Tensor:
    """-H g by the L-BFGS two-loop recursion, row by row; slots with rho = 0 drop out (alpha = beta = 0)."""
    m = s.shape[1]
    q = g.clone()
    alpha = g.new_zeros(g.shape[0], m)
    for j in reversed(range(m)):
        alpha[:, j] = rho[:, j] * (s[:, j] * q).sum(1)
        q -= alpha[:, j, None] * y[:, j]
    yy = (y[:, -1] * y[:, -1]).sum(1)
    gamma = torch.where(rho[:, -1] > 0, 1.0 / (rho[:, -1] * yy).clamp_min(torch.finfo(g.dtype).tiny), torch.ones_like(yy))
    r = gamma[:, None] * q
    for j in range(m):
        beta = rho[:, j] * (y[:, j] * r).sum(1)
        r += (alpha[:, j] - beta)[:, None] * s[:, j]
    return -r


def _weak_wolfe(
    loss: LossFn,
    z: torch.Tensor,
    f: torch.Tensor,
    gtd: torch.Tensor,
    direction: torch.Tensor,
    t: torch.Tensor,
    rows: torch.Tensor,
    c1: float,
    c2: float,
    max_trials: int,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, int, int]:
    """Per-row weak-Wolfe step by bracketing (Lewis & Overton 2013). Returns, per row, the step taken and the
    point, loss and gradient there, whether it moved, and the numbers of batched loss calls and of rows evaluated.
    A row that finds no
    Wolfe step within ``max_trials`` takes its last sufficient-decrease point, if any."""
    lo, hi = torch.zeros_like(t), torch.full_like(t, math.inf)
    t = t.clone()
    z_acc, f_acc, g_acc, t_acc = z.clone(), f.clone(), torch.zeros_like(z), torch.zeros_like(t)
    moved = torch.zeros_like(t, dtype=torch.bool)
    searching = torch.ones_like(t, dtype=torch.bool)
    calls = evaluated = 0
    for _ in range(max_trials):
        k = searching.nonzero().squeeze(1)
        if len(k) == 0:
            break
        z_try = z[k] + t[k, None] * direction[k]
        f_try, g_try = value_and_grad(loss, z_try, rows[k])
        calls, evaluated = calls + 1, evaluated + len(k)
        decrease = f_try <= f[k] + c1 * t[k] * gtd[k]  # False for NaN losses, which then shrink the step
        curvature = (g_try * direction[k]).sum(1) >= c2 * gtd[k]
        a = k[decrease]
        z_acc[a], f_acc[a], g_acc[a], t_acc[a] = z_try[decrease], f_try[decrease], g_try[decrease], t[a]
        moved[a] = True
        searching[k[decrease & curvature]] = False
        hi[k[~decrease]] = t[k[~decrease]]
        short = k[decrease & ~curvature]
        lo[short] = t[short]
        t[k] = torch.where(torch.isinf(hi[k]), 2.0 * lo[k], 0.5 * (lo[k] + hi[k]))
    return t_acc, z_acc, f_acc, g_acc, moved, calls, evaluated


def adam_rows(
    loss: LossFn,
    z0: torch.Tensor,
    *,
    steps: int = 1000,
    lr: float = 0.05,
    betas: tuple[float, float] = (0.9, 0.999),
    progress: Progress | None = None,
) -> RowMinimum:
    """Minimise every row's loss from ``z0`` by Adam (elementwise, so rows are independent); keeps each row's
    best iterate."""
    every = torch.arange(z0.shape[0], device=z0.device)
    z = z0.detach().clone().requires_grad_(True)
    optimiser = torch.optim.Adam([z], lr=lr, betas=betas)
    best_f = torch.full((z0.shape[0],), math.inf, dtype=z0.dtype, device=z0.device)
    best_z = z0.detach().clone()
    iters: Iterable[int] = range(steps + 1)
    if progress is not None:
        iters = progress(iters, total=steps + 1, desc="Adam")
    for step in iters:
        f, g = value_and_grad(loss, z, every)
        better = f < best_f
        best_f = torch.where(better, f, best_f)
        best_z[better] = z.detach()[better]
        if step == steps:
            break  # the last evaluation only scores the final iterate
        z.grad = g
        optimiser.step()
    return RowMinimum(best_z, best_f, torch.full_like(every, steps), steps + 1, (steps + 1) * len(every))
