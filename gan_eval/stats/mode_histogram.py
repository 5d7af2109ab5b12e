"""Streaming per-mode counts: the sufficient statistics of the mode metrics. Integer counts merge exactly."""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class ModeHistogram:
    """Counts of samples by nearest mode (``nearest``) and of high-quality samples by mode (``hq``).

    Both are int64 CPU tensors of length ``n_modes``; ``n`` is the number of samples seen.
    """

    nearest: torch.Tensor
    hq: torch.Tensor

    @classmethod
    def empty(cls, n_modes: int) -> "ModeHistogram":
        return cls(torch.zeros(n_modes, dtype=torch.int64), torch.zeros(n_modes, dtype=torch.int64))

    @classmethod
    def from_assignment(cls, index: torch.Tensor, is_hq: torch.Tensor, n_modes: int) -> "ModeHistogram":
        """Histogram of one chunk from nearest-mode indices and HQ flags (any device)."""
        nearest = torch.bincount(index, minlength=n_modes).cpu()
        hq = torch.bincount(index[is_hq], minlength=n_modes).cpu()
        return cls(nearest, hq)

    @property
    def n(self) -> int:
        return int(self.nearest.sum())

    def state(self) -> dict[str, torch.Tensor]:
        """The summed tensors (reduction ``sum``, :mod:`gan_eval.stats.dist`)."""
        return {"nearest": self.nearest, "hq": self.hq}

    def with_state(self, state: dict[str, torch.Tensor]) -> "ModeHistogram":
        return ModeHistogram(state["nearest"], state["hq"])

    def reduced_over_ranks(self) -> "ModeHistogram":
        """The histogram of every ``torchrun`` rank's share together (itself outside a launch)."""
        from gan_eval.stats.dist import sum_over_ranks

        return sum_over_ranks(self)

    def merge(self, other: "ModeHistogram") -> "ModeHistogram":
        if len(self.nearest) != len(other.nearest):
            raise ValueError("cannot merge histograms over different numbers of modes")
        return ModeHistogram(self.nearest + other.nearest, self.hq + other.hq)
