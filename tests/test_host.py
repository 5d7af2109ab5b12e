"""The training process's host settings (:mod:`trainers.host`) change no number: the same steps trained with glibc's
default handling of large blocks (each a fresh, zeroed ``mmap``) and with :func:`trainers.host.keep_freed_memory`
(blocks reused from a heap first filled with NaN, so a kernel reading memory it did not write would show) give the
same parameters and optimizer state bit for bit."""
from __future__ import annotations

import ctypes
import ctypes.util
import platform

import pytest
import torch

from trainers.host import M_MMAP_THRESHOLD, M_TRIM_THRESHOLD, keep_freed_memory
from trainers.loop import Group, Run, TrainConfig

pytestmark = [
    pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's allocator only"),
]

#: glibc's defaults (malloc.h: DEFAULT_MMAP_THRESHOLD_MIN, DEFAULT_TRIM_THRESHOLD), fixed (not raised dynamically).
GLIBC_DEFAULT = 128 * 1024
STEPS = 3
#: Small but above the mmap threshold: BMS-VAE-GAN's latent discriminator on T x B = 1,000 codes ([1000, 750], 3 MB blocks).
CASES = [("bms-vae-gan", {"batch_size": 100}), ("sngan", {"batch_size": 256, "n_critic": 2}), ("wgan-gp", {"batch_size": 256, "n_critic": 1})]


def trained_state(method: str, params: dict, tmp_path) -> list[torch.Tensor]:
    group = Group([Run(TrainConfig(method, "ring8", params=params), tmp_path)])
    for _ in range(STEPS):
        group.method.train_step(group.batch, group.noise())
    optimizer_state = [v for o in group.method.opt.values() for s in o.state.values() for v in s.values() if torch.is_tensor(v)]
    return [t.detach().clone() for t in [*group.method.nets.state_dict().values(), *optimizer_state]]


def dirty_heap() -> None:
    """Fill, then free, heap blocks of the sizes a step allocates, so that reused memory holds NaN."""
    blocks = [torch.full((n,), float("nan")) for n in (2**18, 2**19, 2**20, 2**21, 2**22) for _ in range(4)]
    del blocks


@pytest.mark.parametrize("method, params", CASES, ids=[m for m, _ in CASES])
def test_keep_freed_memory_trains_bit_identically_to_glibcs_default_allocation(method, params, tmp_path):
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    assert libc.mallopt(M_MMAP_THRESHOLD, GLIBC_DEFAULT) and libc.mallopt(M_TRIM_THRESHOLD, GLIBC_DEFAULT)
    reference = trained_state(method, params, tmp_path / "default")
    assert keep_freed_memory()
    dirty_heap()
    kept = trained_state(method, params, tmp_path / "kept")
    assert len(kept) == len(reference)
    for a, b in zip(reference, kept):
        assert torch.equal(a, b), f"{method}: a tensor of shape {tuple(a.shape)} differs"
