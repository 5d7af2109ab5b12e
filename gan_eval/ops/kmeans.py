"""Seeded k-means (k-means++ seeding, Lloyd iterations) in torch, with exact nearest-centre assignment.

Plays the role of scikit-learn's ``KMeans(n_clusters=k, max_iter=100)`` used by the NDB reference code,
but deterministic from a seed and on any device: k-means++ seeding (Arthur & Vassilvitskii 2007) with
2 + floor(ln k) candidates per step as scikit-learn's greedy variant, then Lloyd steps until no assignment
changes or ``max_iter``; an empty cluster takes the point farthest from its centre (as scikit-learn).
Lloyd steps assign in float64 by the norm expansion (fast; near-ties only move a point between two
equally good clusters); :func:`nearest_centre`, used for the bins a metric reports, is exact k-NN
(:func:`gan_eval.ops.knn.knn`), equal to a float64 brute force.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from gan_eval.errors import GanEvalError
from gan_eval.ops.knn import knn, row_chunks, row_sq_norms


@dataclass
class KMeans:
    """``centres`` (k x d float64), ``labels`` (n int64) of the fitted points, ``iterations`` run, ``inertia``
    (sum of squared distances of the points to their centres)."""

    centres: torch.Tensor
    labels: torch.Tensor
    iterations: int
    inertia: float


def nearest_centre(x: torch.Tensor, centres: torch.Tensor, backend: str = "auto") -> tuple[torch.Tensor, torch.Tensor]:
    """Index of the nearest centre (ties: smaller index) and the distance to it, for each row of ``x``."""
    nb = knn(x, centres, 1, backend=backend)
    return nb.indices[:, 0], nb.distances[:, 0]


def _lloyd_assign(x: torch.Tensor, x_norms: torch.Tensor, centres: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Nearest centre and squared distance of each row (float64 expansion, per chunk of rows)."""
    cn = centres.pow(2).sum(1)
    labels = torch.empty(len(x), dtype=torch.int64, device=x.device)
    dist = torch.empty(len(x), dtype=torch.float64, device=x.device)
    for rows, chunk in row_chunks(x):
        dist[rows], labels[rows] = (x_norms[rows, None] + cn).addmm_(chunk, centres.T, alpha=-2.0).min(1)
    return labels, dist


def _plus_plus(x: torch.Tensor, x_norms: torch.Tensor, k: int, gen: torch.Generator) -> torch.Tensor:
    n = len(x)
    trials = 2 + int(math.log(k))
    first = int(torch.randint(n, (1,), generator=gen))
    centres = [x[first].to(torch.float64)]
    closest = row_sq_norms(x, shift=centres[0])
    d2 = torch.empty(trials, n, dtype=torch.float64, device=x.device)
    for _ in range(1, k):
        total = closest.sum()
        if total <= 0:  # fewer distinct points than k: the rest are copies
            pick = torch.randint(n, (trials,), generator=gen).to(x.device)
        else:
            pick = torch.multinomial((closest / total).cpu(), trials, replacement=True, generator=gen).to(x.device)
        cand = x[pick].to(torch.float64)
        cand_norms = cand.pow(2).sum(1, keepdim=True)
        for rows, chunk in row_chunks(x):
            d2[:, rows] = (cand_norms + x_norms[rows]).addmm_(cand, chunk.T, alpha=-2.0)
        new_closest = torch.minimum(closest[None], d2.clamp_(min=0))
        best = int(new_closest.sum(1).argmin())
        centres.append(cand[best])
        closest = new_closest[best]
    return torch.stack(centres)


def kmeans(x: torch.Tensor, k: int, *, max_iter: int = 100, seed: int = 0, n_init: int = 1) -> KMeans:
    """k-means of the rows of ``x`` (n x d, computed in float64) into ``k`` clusters: the run of least inertia
    among ``n_init`` seeded runs (scikit-learn's ``n_init``). ``x`` is converted to float64 per chunk of rows
    (:func:`gan_eval.ops.knn.row_chunks`), never as a whole: memory O(n·d) in its own dtype plus one chunk."""
    if not 1 <= k <= len(x):
        raise GanEvalError(f"k-means: {k} clusters need at least {k} samples (got {len(x)})")
    if n_init < 1:
        raise GanEvalError(f"k-means: n_init={n_init} must be >= 1")
    x_norms = row_sq_norms(x)
    gen = torch.Generator().manual_seed(seed)
    runs = [_lloyd(x, x_norms, _plus_plus(x, x_norms, k, gen), max_iter) for _ in range(n_init)]
    return min(runs, key=lambda run: run.inertia)


def _lloyd(x: torch.Tensor, x_norms: torch.Tensor, centres: torch.Tensor, max_iter: int) -> KMeans:
    k = len(centres)
    labels = torch.full((len(x),), -1, dtype=torch.int64, device=x.device)
    iterations = 0
    for iterations in range(1, max_iter + 1):
        new_labels, dist = _lloyd_assign(x, x_norms, centres)
        if torch.equal(new_labels, labels):
            break
        labels = new_labels
        counts = torch.bincount(labels, minlength=k)
        for empty in torch.nonzero(counts == 0).flatten().tolist():
            far = int(dist.argmax())
            dist[far] = -1.0
            labels[far] = empty
        counts = torch.bincount(labels, minlength=k).to(torch.float64)
        sums = torch.zeros_like(centres)
        for rows, chunk in row_chunks(x):  # index_add_ adds the rows in order: the same sums as in one call
            sums.index_add_(0, labels[rows], chunk)
        centres = sums / counts[:, None]
    return KMeans(centres, labels, iterations, _inertia(x, centres, labels))


def _inertia(x: torch.Tensor, centres: torch.Tensor, labels: torch.Tensor) -> float:
    """Sum of squared distances to the assigned centres, by direct differences row by row."""
    per_row = torch.empty(len(x), dtype=torch.float64, device=x.device)
    for rows, chunk in row_chunks(x):
        per_row[rows] = (chunk - centres[labels[rows]]).pow(2).sum(1)
    return float(per_row.sum())
