"""Seeded random pairs of distinct samples and a score averaged over them: what the pairwise diversity metrics
(MS-SSIM, LPIPS diversity) share."""
from __future__ import annotations

import math
from typing import Any, Callable, Iterable

import numpy as np
import torch

from gan_eval.errors import GanEvalError
from gan_eval.features.vectors import in_memory
from gan_eval.io.samples import SampleSource


def random_pairs(n: int, n_pairs: int, seed: int, metric: str = "ms-ssim") -> tuple[torch.Tensor, torch.Tensor]:
    """``n_pairs`` pairs (i, j) of distinct indices below n, uniformly at random from a seed (``metric``: for errors)."""
    if n < 2:
        raise GanEvalError(f"{metric}: need at least 2 samples to form pairs, got {n}")
    gen = torch.Generator().manual_seed(seed)
    first = torch.randint(n, (n_pairs,), generator=gen)
    second = (first + torch.randint(1, n, (n_pairs,), generator=gen)) % n
    return first, second


def scores_of_random_pairs(
    array: np.ndarray,
    n_pairs: int,
    seed: int,
    score: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    *,
    batch: int,
    metric: str,
    progress: Callable[..., Iterable] | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(first, second, float64 scores) of ``n_pairs`` seeded random pairs of distinct rows of ``array``;
    ``score(a, b)`` maps two batches of raw rows to one value per pair, ``batch`` pairs at a time (through the
    ``progress`` wrapper when given)."""
    first, second = random_pairs(len(array), n_pairs, seed, metric)
    starts: Iterable[int] = range(0, n_pairs, batch)
    if progress is not None:
        starts = progress(starts, total=len(starts), desc=f"{metric} pairs")
    scores = []
    with torch.inference_mode():
        for start in starts:
            a, b = first[start : start + batch].numpy(), second[start : start + batch].numpy()
            scores.append(score(torch.from_numpy(array[a]), torch.from_numpy(array[b])).double().cpu())
    return first, second, torch.cat(scores)


def mean_over_pairs(scores: torch.Tensor, key: str) -> dict[str, Any]:
    """The headline values of a pairwise score: its mean under ``key``, sd, standard error, number of pairs."""
    n = len(scores)
    return {
        key: float(scores.mean()),
        "std": float(scores.std()) if n > 1 else 0.0,
        "sem": float(scores.std() / math.sqrt(n)) if n > 1 else None,
        "pairs": n,
    }


def image_samples(source: SampleSource, n_pairs: int, metric: str) -> SampleSource:
    """The samples in memory, refused in one line unless they are images and ``n_pairs`` is positive."""
    source = in_memory(source)
    if source.array().ndim < 3:
        raise GanEvalError(f"{source.name}: samples of shape {source.array().shape} are not images; {metric} needs N x H x W (x C) images")
    if n_pairs < 1:
        raise GanEvalError(f"{metric}: pairs={n_pairs} must be positive")
    return source
