"""The MNIST IDX reader: the real files decode to the published contents; damaged files give one-line errors."""
from __future__ import annotations

import gzip
import hashlib
import shutil
import struct
import sys

import numpy as np
import pytest

from gan_eval.errors import GanEvalError
from gan_eval.io.mnist import IMAGES_MAGIC, LABELS_MAGIC, download_mnist, find_mnist_file, load_mnist, read_idx
from gan_eval.references.stacked_mnist import build_stacked, digit_pool


def idx_bytes(magic: int, array: np.ndarray) -> bytes:
    return struct.pack(f">i{array.ndim}i", magic, *array.shape) + array.astype(np.uint8).tobytes()


def test_test_split_matches_published_sha256_and_label_counts(mnist_gz_dir):
    """t10k labels (the downloaded .gz): sha256 of the official decompressed file (README of the data folder) and
    LeCun's per-digit counts."""
    images, labels = load_mnist(mnist_gz_dir, "test")
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8
    header = struct.pack(">ii", LABELS_MAGIC, 10_000)
    assert hashlib.sha256(header + labels.tobytes()).hexdigest() == "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
    assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert images.flags.writeable


def test_raw_and_gz_files_and_torchvision_layout_read_the_same(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.int64).reshape(2, 28, 28) % 256
    labels = np.array([3, 7])
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(IMAGES_MAGIC, images))
    with gzip.open(raw / "t10k-labels-idx1-ubyte.gz", "wb") as f:
        f.write(idx_bytes(LABELS_MAGIC, labels))
    got_images, got_labels = load_mnist(tmp_path, "test")  # torchvision's root, one raw file, one .gz
    assert np.array_equal(got_images, images) and got_labels.tolist() == [3, 7]
    assert find_mnist_file(tmp_path, "t10k-labels-idx1-ubyte").name == "t10k-labels-idx1-ubyte.gz"


@pytest.mark.parametrize(
    "content, message",
    [
        (idx_bytes(LABELS_MAGIC, np.zeros((2, 28, 28))), "magic number"),  # a labels magic on an images file
        (idx_bytes(IMAGES_MAGIC, np.zeros((2, 28, 28)))[:-5], "truncated"),
        (idx_bytes(IMAGES_MAGIC, np.zeros((2, 28, 28))) + b"xx", "truncated"),
        (b"\x00\x00", "shorter than an IDX images header"),
    ],
)
def test_damaged_files_give_one_line_errors_naming_the_file(tmp_path, content, message):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(GanEvalError, match=message) as err:
        read_idx(path, IMAGES_MAGIC)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_corrupt_gzip_and_missing_folder_are_clear_errors(tmp_path):
    bad = tmp_path / "train-labels-idx1-ubyte.gz"
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(GanEvalError, match="cannot be read"):
        read_idx(bad, LABELS_MAGIC)
    with pytest.raises(GanEvalError, match=r"no train-images-idx3-ubyte\[\.gz\] here"):
        load_mnist(tmp_path, "train")
    with pytest.raises(GanEvalError, match="split 'valid' is unknown"):
        load_mnist(tmp_path, "valid")


def test_label_file_of_other_length_is_refused(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(IMAGES_MAGIC, np.zeros((3, 28, 28))))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(LABELS_MAGIC, np.zeros(2)))
    with pytest.raises(GanEvalError, match="3 images but .* 2 labels"):
        load_mnist(tmp_path, "test")


def test_stacked_builder_draws_channels_from_the_pool_deterministically(tmp_path):
    """Each channel is a pool image whose label is the channel's digit; 32 px = 2 px zero border around it."""
    rng = np.random.default_rng(0)
    pool = rng.integers(1, 256, size=(50, 28, 28), dtype=np.uint8)  # no zero pixels: padding is recognisable
    labels = np.arange(50) % 10
    a = build_stacked(pool, labels, 200, seed=3)
    b = build_stacked(pool, labels, 200, seed=3, size=32)
    assert a.images.shape == (200, 3, 28, 28) and a.images.dtype.is_floating_point is False
    assert np.array_equal(b.images[:, :, 2:30, 2:30].numpy(), a.images.numpy())
    assert int(b.images.sum()) == int(a.images.sum())  # the border is all zeros
    flat = pool.reshape(50, -1)
    for i in (0, 57, 199):
        for c in range(3):
            j = int(np.flatnonzero((flat == a.images[i, c].numpy().reshape(-1)).all(axis=1))[0])
            assert labels[j] == a.digits[i, c]
    assert a.labels[0] == 100 * a.digits[0, 0] + 10 * a.digits[0, 1] + a.digits[0, 2]
    assert not np.array_equal(build_stacked(pool, labels, 200, seed=4).images.numpy(), a.images.numpy())


def test_stacked_pools_concatenate_the_named_splits(mnist_gz_dir, tmp_path):
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(mnist_gz_dir / name, tmp_path / name)
    images, labels = digit_pool(tmp_path, "test")
    assert len(images) == len(labels) == 10_000
    with pytest.raises(GanEvalError, match="no train-images"):
        digit_pool(tmp_path, "train+test")
    with pytest.raises(GanEvalError, match="pool 'all' is unknown"):
        digit_pool(tmp_path, "all")


def test_download_without_torchvision_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)  # import fails as where torchvision is absent
    monkeypatch.setitem(sys.modules, "torchvision.datasets", None)
    with pytest.raises(GanEvalError, match="--download needs torchvision"):
        download_mnist(tmp_path)
