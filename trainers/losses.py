"""Adversarial losses as elementwise terms (placeholder: ``ns`` only; the full family lands with the losses branch)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch.nn import functional as F

from gan_eval.registry import Registry


@dataclass(frozen=True)
class Labels:
    """A loss that is a cross-entropy against constant labels: D's targets for real and fake, G's target, and
    the sign of G's cross-entropy (-1: G maximises D's error, the saturating minimax game)."""

    real: float
    fake: float
    g: float
    g_sign: float = 1.0


@dataclass(frozen=True)
class Loss:
    name: str
    d_terms: Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
    g_term: Callable[[torch.Tensor], torch.Tensor]
    labels: Labels | None = None


LOSSES: Registry[Loss] = Registry("loss")


def binary_cross_entropy(x: torch.Tensor, target: float) -> torch.Tensor:
    """Elementwise cross-entropy of sigmoid(x) against a constant label."""
    return F.binary_cross_entropy_with_logits(x, torch.full_like(x, target), reduction="none")


LOSSES.add("ns", Loss("ns", lambda r, f: (binary_cross_entropy(r, 1.0), binary_cross_entropy(f, 0.0)), lambda f: binary_cross_entropy(f, 1.0), Labels(1.0, 0.0, 1.0)))
