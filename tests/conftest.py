"""Shared test fixtures: the MNIST copy beside the project (and its decompressed copy), and a torchvision stub for peer libraries."""
from __future__ import annotations

import gzip
import os
import shutil
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
MNIST_DIR = SHARED / "data" / "mnist"


def pytest_configure(config):
    """One torch thread per test process (each ``pytest -n`` worker is one core's job; the tests' tensors are small,
    and a second intra-op thread only spin-waits against the other workers on the CI's 2 cores), passed on to the
    subprocesses the tests start. An ``OMP_NUM_THREADS`` the caller sets is kept: that is how the suite is checked
    under another thread count (``ATEN_CPU_CAPABILITY=default OMP_NUM_THREADS=2``)."""
    if "OMP_NUM_THREADS" not in os.environ:  # torch itself takes a given one
        os.environ["OMP_NUM_THREADS"] = "1"
        import torch

        torch.set_num_threads(1)


@pytest.fixture(scope="session")
def mnist_gz_dir() -> Path:
    """``../shared/data/mnist``, the four ``.gz`` IDX files as users download them; skips only where that folder is
    absent, and never in CI."""
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists():
        if os.environ.get("CI"):
            pytest.fail(f"{MNIST_DIR} is missing in CI; it must sit beside the project")
        pytest.skip(f"MNIST not found at {MNIST_DIR}")
    return MNIST_DIR


@pytest.fixture(scope="session")
def mnist_dir(mnist_gz_dir, tmp_path_factory) -> Path:
    """The same four files decompressed once per session (raw IDX files, which the reader finds first): every test
    and subprocess that loads MNIST then skips gunzipping 55 MB, 0.35 s a load. The ``.gz`` files themselves are
    read by the tests that take ``mnist_gz_dir`` (the published contents, tests/test_mnist_io.py)."""
    raw = tmp_path_factory.mktemp("mnist-raw")
    for packed in sorted(mnist_gz_dir.glob("*-ubyte.gz")):
        with gzip.open(packed, "rb") as source, open(raw / packed.stem, "wb") as target:
            shutil.copyfileobj(source, target)
    return raw


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Tests write reference statistics into a temporary cache, never the user's ``~/.cache/gan-eval``."""
    before = os.environ.get("GAN_EVAL_CACHE")
    os.environ["GAN_EVAL_CACHE"] = str(tmp_path_factory.mktemp("gan-eval-cache"))
    yield Path(os.environ["GAN_EVAL_CACHE"])
    if before is None:
        os.environ.pop("GAN_EVAL_CACHE")
    else:
        os.environ["GAN_EVAL_CACHE"] = before


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
    functional = types.ModuleType("torchvision.transforms.functional")
    tv.transforms.functional = functional
    sys.modules["torchvision.transforms.functional"] = functional

    class _Unavailable:  # torch-fidelity subclasses torchvision's datasets at import time
        def __init__(self, *args, **kwargs):
            raise RuntimeError("torchvision is stubbed in tests; its datasets are unavailable")

    for name in ("CIFAR10", "CIFAR100", "STL10"):
        setattr(tv.datasets, name, type(name, (_Unavailable,), {}))
    inception = types.ModuleType("torchvision.models.inception")  # pytorch-fid subclasses its blocks
    for name in ("InceptionA", "InceptionC", "InceptionE"):
        setattr(inception, name, type(name, (_Unavailable,), {}))
    tv.models.inception = inception
    sys.modules["torchvision.models.inception"] = inception
    tv.__version__ = "0.0-stub"
    sys.modules["torchvision"] = tv


@pytest.fixture(scope="module")
def lpips_weights(tmp_path_factory):
    """LPIPS's backbone and linear weights cannot be downloaded here: random ones in their real file formats, found
    through the environment as a user's downloaded files would be."""
    from test_lpips_diversity import random_files

    _, _, backbone, linear = random_files(tmp_path_factory.mktemp("lpips"), "alex")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GAN_EVAL_LPIPS_WEIGHTS", str(backbone))
        patch.setenv("GAN_EVAL_LPIPS_LINEAR", str(linear))
        yield


@pytest.fixture(scope="session")
def inception_weights(tmp_path_factory):
    """Random FID-Inception weights in the published key format (real ones cannot be downloaded here), written once
    per session: 95 MB."""
    from inception_helpers import write_random_inception_weights

    return write_random_inception_weights(tmp_path_factory.mktemp("inception") / "pt_inception-2015-12-05-6726825d.pth")
