"""Statistics across ``torchrun`` ranks: each rank reads the rank-strided share of the samples (sample i belongs
to rank i mod world), and the statistics are reduced exactly, by their declared reduction:

* ``sum`` (Gaussian moments' count, sum and sum of outer products; mode histograms; counts): ``all_reduce``;
  integer counts are exact, float64 sums equal one process's up to float64 addition order;
* ``gather`` (feature banks for k-NN, kernels, k-means): every rank's rows, reassembled in sample order, so a
  metric that draws seeded subsets (KID) or clusters (NDB) sees exactly the one-process matrix.

After StyleGAN2-ADA's ``metric_utils.FeatureStats`` (rank-strided, all-gathered) and torchmetrics'
``dist_reduce_fx``. Outside a launch (no initialised process group, or a world of one) everything is the
identity. Reductions travel on the CPU (gloo), so they work on any device; statistics are small next to images.
"""
from __future__ import annotations

import atexit
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterator, Mapping, Protocol

import numpy as np
import torch
import torch.distributed as dist

from gan_eval.errors import GanEvalError


def world() -> tuple[int, int]:
    """(rank, world size) of the initialised process group, else (0, 1)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def speaks() -> bool:
    """Whether this process prints and writes (rank 0, or a plain process)."""
    return world()[0] == 0


def init_from_env() -> tuple[int, int]:
    """Join the ``torchrun`` launch named by ``RANK`` / ``WORLD_SIZE`` (a gloo group) when there is one of two or
    more processes and no group yet; returns (rank, world size)."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and dist.is_available() and not dist.is_initialized():
        try:
            dist.init_process_group("gloo")
            atexit.register(dist.destroy_process_group)  # a group left open aborts the rank at exit
        except (RuntimeError, ValueError) as exc:
            raise GanEvalError(f"torchrun: cannot join the process group ({str(exc).splitlines()[0][:120]}); start the ranks with torchrun") from None
    return world()


def _identity(value: Any) -> Any:
    """What identifies an option's value across ranks: an existing file or folder by its absolute path (and a
    file's size), anything else as given."""
    if isinstance(value, (str, Path)) and str(value) and Path(value).exists():
        path = Path(value).resolve()
        return [str(path), path.stat().st_size if path.is_file() else None]
    return value


def _digest(value: Any) -> int:
    text = json.dumps(_identity(value), sort_keys=True, default=lambda v: _identity(v) if isinstance(v, Path) else repr(v))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)


def check_ranks_agree(options: Mapping[str, Any]) -> None:
    """Before any work under ``torchrun``: every rank's resolved options (by name, e.g. ``--seed``) are hashed
    and the hashes all-gathered; when ranks differ, every rank raises the same one-line error naming the options
    and the ranks that differ from rank 0 (a launch script that passes per-rank arguments would otherwise
    reduce statistics of different experiments into one number). Nothing outside a launch."""
    size = world()[1]
    if size == 1:
        return
    names = sorted(options)
    mine = torch.tensor([_digest(names), *(_digest(options[name]) for name in names)], dtype=torch.int64)
    everyone = [torch.empty_like(mine) for _ in range(size)]
    dist.all_gather(everyone, mine)
    if any(int(theirs[0]) != int(everyone[0][0]) for theirs in everyone):
        raise GanEvalError("torchrun: the ranks run different gan-eval versions (their options differ in name); install one on every rank")
    differing = []
    for i, name in enumerate(names, start=1):
        ranks = [r for r in range(1, size) if int(everyone[r][i]) != int(everyone[0][i])]
        if ranks:
            differing.append(f"{name} (rank{'s' if len(ranks) > 1 else ''} {', '.join(map(str, ranks))})")
    if differing:
        raise GanEvalError(
            f"torchrun: the ranks were given different options, {'; '.join(differing)} differ from rank 0;"
            " start every rank with the same command"
        )


class StridedSource:
    """The share of a sample source that one rank reads: samples i with i mod ``world`` = ``rank``, in order."""

    def __init__(self, source: Any, rank: int, size: int) -> None:
        self.source, self.rank, self.size = source, rank, size
        self.name = source.name

    def __len__(self) -> int:
        return len(range(self.rank, len(self.source), self.size))

    def __getattr__(self, name: str) -> Any:  # the declared value range, skipped files: those of the whole source
        return getattr(self.source, name)

    def batches(self, batch_size: int) -> Iterator[torch.Tensor]:
        start = 0
        for batch in self.source.batches(batch_size * self.size):
            first = (self.rank - start) % self.size
            if first < len(batch):
                yield batch[first :: self.size]
            start += len(batch)

    def array(self) -> np.ndarray:
        return self.source.array()[self.rank :: self.size]


def shard(source: Any) -> Any:
    """This rank's share of ``source`` (the source itself outside a launch): a source that can make only its
    share (a generator, which then runs on this rank's latents alone) makes it, any other is read strided."""
    rank, size = world()
    if size == 1:
        return source
    return source.share(rank, size) if hasattr(source, "share") else StridedSource(source, rank, size)


def all_sum(tensor: torch.Tensor) -> torch.Tensor:
    """The sum over ranks of ``tensor`` (a new tensor on its device and dtype)."""
    if world()[1] == 1:
        return tensor
    total = tensor.detach().to("cpu").clone()
    dist.all_reduce(total, op=dist.ReduceOp.SUM)
    return total.to(tensor.device)


class SumStatistic(Protocol):
    """A statistic reduced by ``sum``: its tensors (:meth:`state`) add up over batches, streams and ranks, and
    :meth:`with_state` rebuilds it from summed tensors (Gaussian moments, mode histograms, counts)."""

    def state(self) -> dict[str, torch.Tensor]: ...

    def with_state(self, state: dict[str, torch.Tensor]) -> Any: ...

    def merge(self, other: Any) -> Any: ...


def sum_over_ranks(statistic: SumStatistic) -> Any:
    """``statistic`` of every rank's share together: each of its tensors summed over ranks (itself outside a launch)."""
    if world()[1] == 1:
        return statistic
    return statistic.with_state({name: all_sum(value) for name, value in statistic.state().items()})


def _all_gather(rows: torch.Tensor) -> list[torch.Tensor]:
    """Every rank's rows (any number per rank), on the CPU, in rank order."""
    size = world()[1]
    counts = [torch.zeros(1, dtype=torch.int64) for _ in range(size)]
    dist.all_gather(counts, torch.tensor([len(rows)], dtype=torch.int64))
    longest = int(max(counts))
    padded = torch.zeros(longest, *rows.shape[1:], dtype=rows.dtype)
    padded[: len(rows)] = rows.cpu()
    parts = [torch.empty_like(padded) for _ in range(size)]
    dist.all_gather(parts, padded)
    return [part[: int(count)] for part, count in zip(parts, counts)]


def gather_rows(rows: torch.Tensor, n_total: int) -> torch.Tensor:
    """Every rank's rows (rank r holds samples r, r + world, ...) reassembled in sample order, N x D on the CPU."""
    size = world()[1]
    if size == 1:
        return rows
    out = torch.empty(n_total, *rows.shape[1:], dtype=rows.dtype)
    for r, part in enumerate(_all_gather(rows)):
        out[r::size] = part
    return out


def gather_rank_major(rows: torch.Tensor) -> torch.Tensor:
    """Every rank's rows, rank 0's first (a stream's feature banks, whose order is the loop's)."""
    return rows if world()[1] == 1 else torch.cat(_all_gather(rows))
