"""Scale-out under ``torchrun``: the rank's place in the launch, whole cells per rank, and waiting for every rank.

``torchrun`` starts one process per GPU (and per machine) with ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` in
the environment. :func:`coordinated` wraps a function that every rank runs (``reproduce``): inside it,
:func:`current` is the launch's :class:`RankGroup` (None in a plain process, where nothing changes), each rank
trains the cells :func:`cells_for_rank` gives it, and :meth:`RankGroup.wait` holds a rank at a stage until
every rank reached it. The ranks talk through the launch's key-value store (torchrun's rendezvous
``TCPStore``), on every device: they exchange only a few words of status, never tensors, and they open no
process group, which gan_eval's metrics would take for theirs (:class:`RankGroup`).

A rank can wait for the others far longer than any timeout (one rank's cells may train for hours more than
another's), so waiting is not one long request: a daemon thread per rank publishes its status and a heartbeat
every :data:`HEARTBEAT_S` seconds and reads every rank's. A rank that raises reports it in the next exchange;
every other rank stops at its next stage (a rank still training finishes its cells, which a rerun reuses) and
all raise one :class:`GanEvalError` naming the failed rank, which only rank 0 prints (:func:`speaks`). A rank
that dies without a word (killed, lost machine) stops its heartbeat, and a store that goes away fails the next
request: the others raise a one-line error instead of hanging.

(Until 2026-12 the status travelled in gloo collectives over the default process group; a rank sometimes
aborted at exit, "terminate called without an active exception", one run in tens on a 2-core machine.)
"""
from __future__ import annotations

import functools
import json
import os
import re
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, Hashable, Mapping, TypeVar

from gan_eval.errors import GanEvalError

#: Seconds between two status exchanges of the ranks (how soon a waiting rank learns the others are done).
HEARTBEAT_S = 0.5
#: Seconds without a heartbeat after which a rank short of the last stage is taken for dead. Its heartbeat
#: comes from a thread of its own, which runs while the rank trains (torch's kernels release the GIL).
SILENT_S = 120.0
#: Seconds for every rank to join, and for one request to the store.
TIMEOUT_S = 300.0

K = TypeVar("K", bound=Hashable)
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Rank:
    """This process's place in a ``torchrun`` launch."""

    rank: int
    world: int
    local_rank: int


def rank_from_env(environ: Mapping[str, str] = os.environ) -> Rank | None:
    """The launch from torchrun's ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``; None outside torchrun or for a
    launch of one process (then everything runs as in a plain process)."""
    if "WORLD_SIZE" not in environ:
        return None
    try:
        rank = Rank(int(environ["RANK"]), int(environ["WORLD_SIZE"]), int(environ.get("LOCAL_RANK", environ["RANK"])))
    except (KeyError, ValueError):
        found = {k: environ.get(k) for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
        raise GanEvalError(f"torchrun environment {found}: RANK and WORLD_SIZE must be integers; start the ranks with torchrun") from None
    if not 0 <= rank.rank < rank.world:
        raise GanEvalError(f"RANK={rank.rank} with WORLD_SIZE={rank.world}: the rank must lie in 0..{rank.world - 1}; start the ranks with torchrun")
    return rank if rank.world > 1 else None


def speaks() -> bool:
    """Whether this process prints results and errors: rank 0 of a launch, or a plain process."""
    rank = rank_from_env()
    return rank is None or rank.rank == 0


def cells_for_rank(costs: Mapping[K, float], rank: int, world: int) -> list[K]:
    """The cells ``rank`` trains: longest first, each to the least loaded rank (Graham's LPT rule, within 4/3 of
    the best makespan), ties to the earlier cell and the lower rank, so every rank computes the same
    assignment from the same ``costs``. Returns the rank's cells in ``costs``' order."""
    loads = [0.0] * world
    owner: dict[K, int] = {}
    for cell in sorted(costs, key=lambda c: -costs[c]):  # sorted is stable: ties keep costs' order
        least = min(range(world), key=lambda r: (loads[r], r))
        loads[least] += costs[cell]
        owner[cell] = least
    return [cell for cell in costs if owner[cell] == rank]


def use_local_gpu(device: str) -> None:
    """Under torchrun, make ``cuda`` (no index) mean this machine's GPU ``LOCAL_RANK``: one GPU per rank, while
    the runs' configurations keep ``cuda`` (their folders' hash does not depend on which rank trained them).
    An explicit ``cuda:N`` is left as asked."""
    import torch

    rank = rank_from_env()
    if rank is None or torch.device(device).type != "cuda" or torch.device(device).index is not None:
        return
    if rank.local_rank >= torch.cuda.device_count():
        raise GanEvalError(
            f"--device {device} on rank {rank.rank}: one GPU per process, but LOCAL_RANK={rank.local_rank} and this machine has"
            f" {torch.cuda.device_count()}; start at most that many processes per machine (torchrun --nproc-per-node)"
        )
    torch.cuda.set_device(rank.local_rank)


class RankGroup:
    """The ranks of one launch exchanging their status through the launch's key-value store, from a daemon thread.

    The store is torchrun's rendezvous ``TCPStore`` (the agent's, or rank 0's where ranks start without an
    agent), reached with ``env://``. No process group is created: gan_eval's statistics
    (:mod:`gan_eval.stats.dist`) reduce over the default process group wherever one is initialised, and a
    rank scoring its own run must not reduce with a rank scoring another; nor do the ranks keep gloo's
    transport threads open for hours to say a few words.

    A rank's status is ``(stage, failure)``: how many stages of :meth:`wait` it reached, and None or the line
    saying why it failed (or ``""`` once it stopped because another rank failed). Besides its status each rank
    counts heartbeats in the store; a rank short of the last stage whose count has not moved for
    :data:`SILENT_S` seconds is lost, and so is the store itself when a request fails. The exchanges end when
    every rank reached the last of ``stages``, or when every rank has failed or stopped."""

    def __init__(self, rank: Rank, stages: tuple[str, ...]) -> None:
        self.rank, self.stages = rank, stages
        self.status: tuple[int, str | None] = (0, None)
        self.seen: list[tuple[int, str | None]] = [(0, None)] * rank.world  # the latest exchange
        self.lost: str | None = None
        self.changed = threading.Condition()
        self.store = join_the_ranks(rank)
        self.thread = threading.Thread(target=self._exchange, name="rank-status", daemon=True)
        self.thread.start()

    def _over(self, statuses: list[tuple[int, str | None]]) -> bool:
        return all(stage == len(self.stages) for stage, failure in statuses) or all(failure is not None for _, failure in statuses)

    def _exchange(self) -> None:
        """Every :data:`HEARTBEAT_S` (or sooner, when this rank's status changes): publish this rank's status and
        heartbeat, read every rank's. Only this thread talks to the store."""
        me, world = self.rank.rank, self.rank.world
        heard = [(-1, time.monotonic())] * world  # each rank's last heartbeat count, and when it last moved
        try:
            while True:
                with self.changed:
                    status = self.status
                self.store.set(f"status/{me}", json.dumps(status))
                now = time.monotonic()
                beats = [self.store.add(f"beat/{r}", 1 if r == me else 0) for r in range(world)]
                heard = [(b, now) if b != last else (last, since) for b, (last, since) in zip(beats, heard)]
                statuses = [tuple(json.loads(self.store.get(f"status/{r}"))) for r in range(world)]
                silent = [r for r, (_, since) in enumerate(heard) if now - since > SILENT_S and statuses[r][0] < len(self.stages)]
                with self.changed:
                    self.seen = statuses  # type: ignore[assignment]
                    if silent:
                        self.lost = f"rank {silent[0]} sent no heartbeat for {SILENT_S:.0f} s"
                    self.changed.notify_all()
                    if silent or self._over(self.seen):
                        return
                    if self.status == status:
                        self.changed.wait(HEARTBEAT_S)
        except Exception as exc:  # the store's host is gone (rank 0 or the agent), or it stopped answering
            with self.changed:
                self.lost = first_sentence(exc)
                self.changed.notify_all()

    def _set(self, status: tuple[int, str | None]) -> None:
        with self.changed:
            self.status = status
            self.changed.notify_all()

    def _failure(self) -> GanEvalError | None:
        """One error for every rank: the lost contact, or the first rank that failed."""
        if self.lost is not None:
            return GanEvalError(
                f"rank {self.rank.rank} of {self.rank.world} lost contact with the other ranks ({self.lost}): a rank stopped"
                " without reporting, see its output; finished runs are kept, rerun the same command to resume"
            )
        failed = [(r, failure) for r, (_, failure) in enumerate(self.seen) if failure]
        if not failed:
            return None
        if len({failure for _, failure in failed}) == 1 and len(failed) == self.rank.world:
            return GanEvalError(failed[0][1])  # the same error on every rank (bad input): say it once, as one process would
        r, failure = failed[0]
        return GanEvalError(f"rank {r} of {self.rank.world}: {failure}")

    def wait(self, stage: str) -> None:
        """Hold this rank until every rank reached ``stage``; one :class:`GanEvalError` if a rank failed."""
        self._set((self.stages.index(stage) + 1, None))
        with self.changed:
            reached = lambda: all(s >= self.status[0] for s, _ in self.seen)  # noqa: E731
            while self.lost is None and not any(f for _, f in self.seen) and not reached():
                self.changed.wait()
        error = self._failure()
        if error is not None:
            self.stop("")
            raise error

    def stop(self, failure: str) -> None:
        """Report this rank's failure (``""``: stopped for another's) and wait until every rank has stopped."""
        self._set((self.status[0], failure))
        self.thread.join()

    def close(self) -> None:
        """Wait for the exchanges to end (every rank finished or stopped), then leave: each rank counts itself out,
        and rank 0, which hosts the store where no agent does, waits (at most :data:`SILENT_S`) until every rank
        has, so that no rank's last request finds the store gone."""
        self.thread.join()
        if self.lost is not None:
            return
        try:
            left = self.store.add("left", 1)
            deadline = time.monotonic() + SILENT_S
            while self.rank.rank == 0 and left < self.rank.world and time.monotonic() < deadline:
                time.sleep(HEARTBEAT_S / 10)
                left = self.store.add("left", 0)
        except Exception:  # the others are done with the store: nothing is left to say
            pass


def join_the_ranks(rank: Rank) -> Any:
    """The launch's store under this package's prefix (per torchrun restart), once every rank has published its
    first status there (at most :data:`TIMEOUT_S`); one :class:`GanEvalError` when the ranks cannot meet."""
    import torch.distributed as dist

    where = f"{os.environ.get('MASTER_ADDR', '?')}:{os.environ.get('MASTER_PORT', '?')}"
    timeout = timedelta(seconds=TIMEOUT_S)
    try:
        store, _, _ = next(dist.rendezvous("env://", rank=rank.rank, world_size=rank.world, timeout=timeout))
        store = dist.PrefixStore(f"gan-eval/ranks/{os.environ.get('TORCHELASTIC_RESTART_COUNT', '0')}/", store)
        store.set(f"status/{rank.rank}", json.dumps((0, None)))
        store.wait([f"status/{r}" for r in range(rank.world)], timeout)
    except Exception as exc:  # a wrong address, a port in use, a rank that never came
        raise GanEvalError(
            f"rank {rank.rank} of {rank.world}: cannot join the other ranks at {where} ({first_sentence(exc)});"
            " start every rank with torchrun and the same --master-addr / --master-port"
        ) from None
    return store


def first_sentence(exc: Exception) -> str:
    """The first sentence of a c10d error, without its source location (``[.../TCPStore.cpp:553] ``)."""
    text = re.sub(r"^\[[^\]]*\]\s*", "", str(exc).strip())
    return text.split(". ")[0].splitlines()[0] if text else type(exc).__name__


_current: RankGroup | None = None


def current() -> RankGroup | None:
    """The launch's group inside a :func:`coordinated` call; None in a plain process."""
    return _current


def coordinated(*stages: str) -> Callable[[F], F]:
    """Run the decorated function on every rank of a torchrun launch inside a :class:`RankGroup` with these
    ``stages``; a plain call where there is no launch. An exception on any rank becomes the same
    :class:`GanEvalError` on every rank (the failing rank prints the traceback of an unexpected one)."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def on_every_rank(*args: Any, **kwargs: Any) -> Any:
            global _current
            rank = rank_from_env()
            if rank is None:
                return fn(*args, **kwargs)
            group = _current = RankGroup(rank, stages)
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                # stopped in wait() for another rank's failure, or failed after every rank finished (rank 0
                # writing the table): this rank's own error, as in a plain process
                if group.status[1] is not None or group.status[0] == len(stages):
                    group.close()
                    raise
                if not isinstance(exc, GanEvalError):
                    traceback.print_exc()
                group.stop(str(exc) if isinstance(exc, GanEvalError) else f"{type(exc).__name__}: {exc}")
                group.close()
                raise group._failure() or exc from None
            finally:  # Ctrl-C on every rank: no goodbyes, the exchange thread is a daemon
                _current = None
            group.close()
            return result

        return on_every_rank  # type: ignore[return-value]

    return decorate
