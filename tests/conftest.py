"""Shared test fixtures: the MNIST copy beside the project, and a torchvision stub for peer libraries."""
from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
MNIST_DIR = SHARED / "data" / "mnist"


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """``../shared/data/mnist``; skips only where that folder is absent, and never in CI."""
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists():
        if os.environ.get("CI"):
            pytest.fail(f"{MNIST_DIR} is missing in CI; it must sit beside the project")
        pytest.skip(f"MNIST not found at {MNIST_DIR}")
    return MNIST_DIR


def stub_torchvision() -> None:
    """Put a minimal ``torchvision`` in ``sys.modules`` so peers that import it (torch-fidelity, pytorch-fid,
    clean-fid) load on CPU-only torch, where the real torchvision cannot. Only the names they touch at
    import time exist; anything they would actually run from torchvision fails loudly."""
    if "torchvision" in sys.modules:
        return
    tv = types.ModuleType("torchvision")
    for sub in ("datasets", "transforms", "models", "utils", "ops", "io"):
        module = types.ModuleType(f"torchvision.{sub}")
        setattr(tv, sub, module)
        sys.modules[f"torchvision.{sub}"] = module
    tv.__version__ = "0.0-stub"
    sys.modules["torchvision"] = tv


@pytest.fixture
def one_torch_thread():
    """torch on one thread for the test: small networks run fastest so, and multi-threaded kernels stall
    badly on a shared, busy CPU (use with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
