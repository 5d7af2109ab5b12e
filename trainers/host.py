"""How a training process uses its CPU host: torch's thread count and the C allocator's handling of large blocks.

**Allocator.** glibc's ``malloc`` serves a block above its ``mmap`` threshold (128 KiB at start, raised dynamically
to the largest block freed so far) with a fresh ``mmap`` and returns it to the kernel on ``free``; the heap above
``M_TRIM_THRESHOLD`` is handed back too. A training step allocates and frees the same activation and gradient
tensors every iteration (BMS-VAE-GAN: [5000, 750] float32, 15 MB, dozens per step), so each step faults in and
zeroes the same pages again: on one thread of the development machine 10,000-45,000 minor page faults and 15-95 ms
of system time per BMS-VAE-GAN step (``benchmarks/speed/trainer_ab.py``). :func:`keep_freed_memory` serves blocks up
to 32 MiB (glibc's limit for the threshold on 64-bit) from the heap and never trims it, so the pages of the first
step are reused by every later one; the process keeps its peak heap until it exits.

Numbers do not change: torch aligns every CPU tensor to 64 bytes whichever way ``malloc`` serves it, and the
kernels' arithmetic does not depend on where a tensor lies (``tests/test_host.py`` trains the same steps both
ways, on a heap first filled with NaN, and compares every parameter and optimizer moment bit for bit). Elsewhere than glibc this does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import platform

import torch

#: glibc ``mallopt`` parameters (malloc.h).
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
#: Largest ``M_MMAP_THRESHOLD`` glibc takes on 64-bit (``HEAP_MAX_SIZE / 2``).
MMAP_THRESHOLD = 32 * 1024 * 1024
#: Heap kept free above this before it is returned to the kernel: effectively never.
TRIM_THRESHOLD = 2**31 - 1


def keep_freed_memory() -> bool:
    """Serve blocks up to :data:`MMAP_THRESHOLD` from glibc's heap and never trim it (module docstring); True where
    glibc took both settings, False on another C library."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def configure_training_process(threads: int) -> None:
    """What every training process sets before its first step: ``threads`` torch CPU threads, and
    :func:`keep_freed_memory`."""
    torch.set_num_threads(threads)
    keep_freed_memory()
