"""One training process per run directory.

Two processes training the same run (a table started twice into one ``--out``, a second ``gan-eval train`` on a
folder still in use) would interleave their checkpoints and metric lines and leave a run that no single trajectory
produced, with nothing in its files to say so. :func:`training_lock` holds an exclusive advisory ``flock`` on
``RUN/train.lock`` for as long as a process trains the run; a second process asking for it gets a one-line
:class:`GanEvalError` naming the holder's pid before it reads a checkpoint.

The kernel drops a ``flock`` when its holder exits, however it exits, so a killed run never leaves a stale lock
and the file is never deleted (deleting it would let a third process lock a new file while the second holds the
old one). Linux's NFS client maps ``flock`` onto POSIX byte-range locks (kernel 2.6.12 on), so the lock also holds
across the machines of a torchrun launch writing to one shared ``--out``. On a platform without ``fcntl``
(Windows) no lock is taken.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import IO, Iterable, Iterator

from gan_eval.errors import GanEvalError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

#: The lock file's name inside a run directory (its text: the holder's pid).
LOCK_NAME = "train.lock"


@contextlib.contextmanager
def training_lock(run_dirs: Iterable[Path]) -> Iterator[None]:
    """Hold the training lock of every run in ``run_dirs`` (existing folders) inside the block; a run whose lock
    another process holds is a one-line :class:`GanEvalError`, and the locks taken before it are released."""
    with contextlib.ExitStack() as held:
        for run_dir in run_dirs:
            held.enter_context(_locked(Path(run_dir)))
        yield


@contextlib.contextmanager
def _locked(run_dir: Path) -> Iterator[None]:
    if fcntl is None:
        yield
        return
    with open(run_dir / LOCK_NAME, "a+", encoding="utf-8") as handle:
        holder = _holder(handle)
        if holder is not None:
            shown = f"pid {holder}" if holder else "pid unknown"
            raise GanEvalError(f"{run_dir}: being trained by another process ({shown}); let it finish or stop it, then run again")
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield  # closing the file releases the lock


def training_pid(run_dir: Path) -> int | None:
    """The pid training the run in ``run_dir`` now (0 when its holder has not written it yet), or None when no
    process does (never trained, finished or killed). The probe holds the lock for a few microseconds: a trainer
    starting in exactly that window is refused and can be started again."""
    path = Path(run_dir) / LOCK_NAME
    if fcntl is None or not path.exists():
        return None
    with open(path, "a+", encoding="utf-8") as handle:
        return _holder(handle)  # closing the file releases the probe's lock, if it got it


def _holder(handle: IO[str]) -> int | None:
    """Take the exclusive lock on ``handle``'s file: None when it is taken (then held until the file is closed), else
    the pid its holder wrote in it (0 before it has written it)."""
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        pid = handle.read().strip()
        return int(pid) if pid.isdigit() else 0
    return None
