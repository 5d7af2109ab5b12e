"""The training datasets of ``trainers.datasets`` (MNIST, Stacked MNIST, CIFAR-10, image folders, npz).

Each decoder is checked against something no one here wrote: the IDX files read by ``load_mnist``; CIFAR-10's
published record layout (1 label byte, then the R, G and B planes of 1024 bytes, each 32 x 32 row-major), written
byte by byte here in both the binary layout and a hand-assembled Python-2 pickle of the python layout; closed
forms for the centre crop and the bilinear resize of a step image; the papers' reference code for the
Stacked-MNIST settings (pools, ranges, PacGAN's 128,000 fixed triples, fresh triples for the unrolled setting).
"""
from __future__ import annotations

import json
import os
import pickle
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_eval.errors import GanEvalError
from gan_eval.io.mnist import load_mnist
from gan_eval.references.stacked_mnist import build_stacked
from trainers.datasets import DATASETS, build_dataset
from trainers.datasets.arrays import ShuffledEpochs
from trainers.datasets.cifar10 import RECORD, read_binary
from trainers.datasets.folder import centre_crop, decode_folder
from trainers.datasets.stacked_mnist import FreshTriples


CIFAR_NAMES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def one_line_error(excinfo: pytest.ExceptionInfo, *fragments: str) -> str:
    message = str(excinfo.value)
    assert len(message.splitlines()) == 1, message
    for fragment in fragments:
        assert fragment in message, message
    return message


def draw(sampler, sizes: list[int], generator: torch.Generator) -> list[torch.Tensor]:
    return [sampler.batch(n, generator) for n in sizes]


# --- MNIST and Stacked MNIST (the IDX files beside the project) ----------------------------------------------


@pytest.fixture(scope="module")
def mnist_test(mnist_dir):
    return load_mnist(mnist_dir, "test")


def test_mnist_splits_are_the_idx_files_scaled_to_unit_range(mnist_dir, mnist_test):
    dataset = build_dataset("mnist", mnist_dir)
    assert (dataset.kind, dataset.shape, dataset.value_range, dataset.default_evaluators) == ("image", (1, 28, 28), (0.0, 1.0), ("fid",))
    held_out = dataset.held_out()
    assert held_out.dtype == torch.float32 and held_out.shape == (10_000, 1, 28, 28)
    assert torch.equal(held_out[:, 0], torch.from_numpy(mnist_test[0]).float() / 255)
    assert dataset.describe()["train"] == 60_000
    batch = dataset.sampler(None, 0).batch(64, torch.Generator().manual_seed(0))
    assert batch.shape == (64, 1, 28, 28) and torch.equal(batch * 255, (batch * 255).round())


def test_stacked_mnist_settings_follow_the_reference_code(mnist_dir, mnist_test):
    """PacGAN's VEEGAN_experiment: 128,000 fixed triples of the 70k train+test digits in [0, 1]; its
    unrolled_GAN_experiment: fresh triples of the 60k training digits every batch, in [-1, 1]."""
    veegan = build_dataset("stacked-mnist", mnist_dir)
    unrolled = build_dataset("stacked-mnist:setting=unrolled", mnist_dir)
    assert veegan.default_evaluators == unrolled.default_evaluators == ("stacked-mnist",)
    assert (veegan.shape, veegan.value_range, len(veegan.pool)) == ((3, 28, 28), (0.0, 1.0), 70_000)
    assert (unrolled.shape, unrolled.value_range, len(unrolled.pool)) == ((3, 28, 28), (-1.0, 1.0), 60_000)
    fixed, fresh = veegan.sampler(None, 0), unrolled.sampler(None, 0)
    assert isinstance(fixed, ShuffledEpochs) and fixed.size == 128_000
    assert isinstance(fresh, FreshTriples)
    generator = torch.Generator().manual_seed(1)
    for dataset, batch, scale in ((veegan, fixed.batch(4, generator), lambda x: x * 255), (unrolled, fresh.batch(4, generator), lambda x: (x + 1) * 127.5)):
        digits = scale(batch).round().to(torch.uint8).reshape(12, 28 * 28)  # every channel is one digit of the pool
        pool = set(map(bytes, dataset.pool.reshape(len(dataset.pool), -1).numpy()))
        assert all(bytes(channel.numpy()) in pool for channel in digits)
    assert float(fresh.batch(256, generator).min()) == -1.0
    expected = build_stacked(*mnist_test, 10_000, seed=0).images.float() / 255  # held out: triples of the test digits
    assert torch.equal(veegan.held_out(), expected)
    assert torch.equal(unrolled.held_out(), expected * 2 - 1)


def test_stacked_mnist_batches_are_deterministic_and_resume(mnist_dir):
    dataset = build_dataset("stacked-mnist:setting=unrolled", mnist_dir)
    for train_size in (None, 50):  # fresh triples; a fixed set of 50 triples
        first = draw(dataset.sampler(train_size, 3), [32, 32, 32], torch.Generator().manual_seed(5))
        again = draw(dataset.sampler(train_size, 3), [32, 32, 32], torch.Generator().manual_seed(5))
        assert all(torch.equal(a, b) for a, b in zip(first, again))
        assert not torch.equal(first[0], first[1])
    fixed_a = dataset.sampler(50, 3).batch(50, torch.Generator().manual_seed(0))
    fixed_b = dataset.sampler(50, 3).batch(50, torch.Generator().manual_seed(9))
    fixed_c = dataset.sampler(50, 4).batch(50, torch.Generator().manual_seed(0))
    rows = lambda x: sorted(map(bytes, x.flatten(1).numpy()))  # noqa: E731
    assert rows(fixed_a) == rows(fixed_b) != rows(fixed_c)  # one epoch is the whole set, drawn by set_seed only


def test_mnist_folder_without_the_files_names_them(tmp_path, mnist_dir, mnist_gz_dir):
    with pytest.raises(GanEvalError) as excinfo:
        build_dataset("mnist", tmp_path / "absent")
    one_line_error(excinfo, str(tmp_path / "absent"), "train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
    shutil.copy(mnist_gz_dir / "t10k-images-idx3-ubyte.gz", tmp_path)
    with pytest.raises(GanEvalError) as excinfo:
        build_dataset("stacked-mnist", tmp_path)
    message = one_line_error(excinfo, str(tmp_path), "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-labels-idx1-ubyte")
    assert "t10k-labels-idx1-ubyte.gz" in message
    with pytest.raises(GanEvalError) as excinfo:
        build_dataset("stacked-mnist:setting=dcgan", mnist_dir)
    one_line_error(excinfo, "veegan", "unrolled")


# --- CIFAR-10 -----------------------------------------------------------------------------------------------


def cifar_records(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random records: labels 0..9 and 3072 pixel bytes each."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 10, n).astype(np.uint8), rng.integers(0, 256, (n, RECORD - 1)).astype(np.uint8)


def python2_pickle(labels: np.ndarray, pixels: np.ndarray) -> bytes:
    """A CIFAR-10 python batch as Python 2's pickler wrote it (protocol 2; ``str`` keys and data are byte strings,
    which Python 3's pickler cannot write): {'batch_label': ..., 'labels': [...], 'data': uint8 array}."""
    def text(b: bytes) -> bytes:  # SHORT_BINSTRING / BINSTRING
        return b"U" + bytes([len(b)]) + b if len(b) < 256 else b"T" + struct.pack("<I", len(b)) + b

    def integer(n: int) -> bytes:  # BININT
        return b"J" + struct.pack("<i", n)

    def tuple_of(*items: bytes) -> bytes:  # MARK ... TUPLE
        return b"(" + b"".join(items) + b"t"

    dtype = (b"cnumpy\ndtype\n" + tuple_of(text(b"u1"), integer(0), integer(1)) + b"R"
             + tuple_of(integer(3), text(b"|"), b"N", b"N", b"N", integer(-1), integer(-1), integer(0)) + b"b")
    array = (b"cnumpy.core.multiarray\n_reconstruct\n" + tuple_of(b"cnumpy\nndarray\n", tuple_of(integer(0)), text(b"b")) + b"R"
             + tuple_of(integer(1), tuple_of(*map(integer, pixels.shape)), dtype, b"\x89", text(pixels.tobytes())) + b"b")
    return (b"\x80\x02}(" + text(b"batch_label") + text(b"synthetic") + text(b"labels") + b"](" + b"".join(map(integer, labels.tolist()))
            + b"e" + text(b"data") + array + b"u.")


def write_cifar(root: Path, n: int = 6, layouts: tuple[str, ...] = ("bin", "py")) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Six small batches of ``n`` records in the binary and/or python layout under ``root``; returns them by name."""
    batches = {name: cifar_records(n, seed) for seed, name in enumerate(CIFAR_NAMES)}
    for layout in layouts:
        folder = root / f"cifar-10-batches-{layout}"
        folder.mkdir(parents=True)
        for name, (labels, pixels) in batches.items():
            if layout == "bin":
                (folder / f"{name}.bin").write_bytes(np.concatenate([labels[:, None], pixels], axis=1).tobytes())
            else:
                (folder / name).write_bytes(python2_pickle(labels, pixels))
    return batches


def test_cifar10_binary_records_decode_as_rgb_planes(tmp_path):
    labels, pixels = cifar_records(5, 0)
    path = tmp_path / "batch.bin"
    path.write_bytes(np.concatenate([labels[:, None], pixels], axis=1).tobytes())
    images, read_labels = read_binary(path)
    assert np.array_equal(read_labels, labels) and images.shape == (5, 3, 32, 32)
    for index, channel, row, column in ((0, 0, 0, 0), (1, 1, 5, 7), (4, 2, 31, 31), (3, 2, 0, 31)):
        assert images[index, channel, row, column] == pixels[index, channel * 1024 + row * 32 + column]


def test_cifar10_both_layouts_give_identical_tensors_in_minus_one_one(tmp_path):
    batches = write_cifar(tmp_path)
    binary = build_dataset("cifar10", tmp_path)  # both present: the binary layout is read
    python = build_dataset("cifar10", tmp_path / "cifar-10-batches-py")
    assert binary.describe()["layout"] == "binary" and python.describe()["layout"] == "python"
    assert (binary.shape, binary.value_range, binary.default_evaluators) == ((3, 32, 32), (-1.0, 1.0), ("fid",))
    expected_train = np.concatenate([batches[name][1] for name in CIFAR_NAMES[:5]]).reshape(-1, 3, 32, 32)
    assert torch.equal(binary.train, torch.from_numpy(expected_train)) and torch.equal(python.train, binary.train)
    test_pixels = torch.from_numpy(batches["test_batch"][1].reshape(-1, 3, 32, 32))
    assert torch.equal(binary.held_out(), test_pixels.float() / 127.5 - 1) and torch.equal(python.held_out(), binary.held_out())
    generator_a, generator_b = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    assert torch.equal(binary.sampler(None, 0).batch(7, generator_a), python.sampler(None, 0).batch(7, generator_b))


class Touches:
    """An object whose unpickling would create a file: the refusal must come before anything is built."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


@pytest.mark.parametrize("payload", ["open", "os.system", "instance"])
def test_cifar10_pickle_with_any_other_global_is_refused_unread(tmp_path, payload):
    batches = write_cifar(tmp_path, layouts=("py",))
    marker = tmp_path / "marker"
    obj = {"open": Touches(marker), "os.system": _system_call(), "instance": {b"data": Path("x"), b"labels": []}}[payload]
    victim = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    victim.write_bytes(pickle.dumps(obj, protocol=2))
    with pytest.raises(GanEvalError) as excinfo:
        build_dataset("cifar10", tmp_path)
    one_line_error(excinfo, str(victim), "refused")
    assert not marker.exists()
    assert batches  # the other batches were fine


class _System:
    def __reduce__(self):
        return (os.system, ("true",))


def _system_call() -> _System:
    return _System()


def test_cifar10_bad_folders_and_batches_are_one_line_errors(tmp_path):
    with pytest.raises(GanEvalError) as excinfo:
        build_dataset("cifar10", tmp_path / "absent")
    one_line_error(excinfo, str(tmp_path / "absent"), "cifar-10-batches-bin", "data_batch_1.bin", "test_batch")
    with pytest.raises(GanEvalError) as excinfo:
        build_dataset("cifar10", tmp_path)
    one_line_error(excinfo, str(tmp_path), "cifar-10-batches-py", "data_batch_5")
    with pytest.raises(GanEvalError) as excinfo:
        build_dataset("cifar10")
    one_line_error(excinfo, "--data-dir")
    write_cifar(tmp_path, layouts=("bin",))
    folder = tmp_path / "cifar-10-batches-bin"
    (folder / "data_batch_4.bin").unlink()
    with pytest.raises(GanEvalError) as excinfo:
        build_dataset("cifar10", tmp_path)
    one_line_error(excinfo, str(folder), "data_batch_4.bin")
    good = (folder / "data_batch_1.bin").read_bytes()
    for name, content, fragment in (
        ("data_batch_4.bin", good[:-100], "not a whole number of 3073-byte records"),  # truncated mid-record
        ("data_batch_4.bin", good[: 3 * RECORD], "3 records but data_batch_1.bin has 6"),  # truncated on a record boundary
        ("data_batch_4.bin", np.zeros(6 * (RECORD + 1), np.uint8).tobytes(), "CIFAR-100's are 3074"),  # wrong record size
        ("data_batch_4.bin", b"\x0b" + good[1:], "label 11 is not a class"),
    ):
        (folder / name).write_bytes(content)
        with pytest.raises(GanEvalError) as excinfo:
            build_dataset("cifar10", tmp_path)
        one_line_error(excinfo, str(folder / name), fragment)


def test_cifar10_python_batches_that_are_not_cifar_are_one_line_errors(tmp_path):
    write_cifar(tmp_path, layouts=("py",))
    victim = tmp_path / "cifar-10-batches-py" / "test_batch"
    for content, fragment in (
        (python2_pickle(*cifar_records(3, 0))[:-200], "not a readable CIFAR-10 python batch"),
        (pickle.dumps([1, 2, 3], protocol=4), "not a uint8 N x 3072 array"),
        (pickle.dumps({b"data": np.zeros((0, 3072), np.uint8), b"labels": []}, protocol=4), "not a uint8 N x 3072 array"),
        (pickle.dumps({b"data": np.zeros((3, 3072), np.uint8), b"labels": [1]}, protocol=4), "not a list of 3 integers"),
    ):
        victim.write_bytes(content)
        with pytest.raises(GanEvalError) as excinfo:
            build_dataset("cifar10", tmp_path)
        one_line_error(excinfo, str(victim), fragment)


def test_describe_is_the_content_not_the_path(tmp_path):
    write_cifar(tmp_path / "a", layouts=("bin",))
    described = build_dataset("cifar10", tmp_path / "a").describe()
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    assert build_dataset("cifar10", tmp_path / "b").describe() == described
    assert str(tmp_path) not in json.dumps(described)
    assert [f["name"] for f in described["files"]] == [f"{name}.bin" for name in CIFAR_NAMES]
    assert all(len(f["sha256"]) == 16 for f in described["files"])
    batch = tmp_path / "b" / "cifar-10-batches-bin" / "test_batch.bin"
    batch.write_bytes(bytes([1]) + batch.read_bytes()[1:])
    assert build_dataset("cifar10", tmp_path / "b").describe() != described


# --- image folders --------------------------------------------------------------------------------------------


def test_centre_crop_is_placed_as_dcgan_tensorflow():
    """center_crop: j = round((h - crop) / 2), i = round((w - crop) / 2), Python 2's round (halves up)."""
    image = np.arange(218 * 178).reshape(218, 178)
    assert np.array_equal(centre_crop(image, 108), image[55:163, 35:143])  # CelebA aligned: 178 x 218
    odd = np.arange(129 * 130).reshape(129, 130)
    assert np.array_equal(centre_crop(odd, 128), odd[1:129, 1:129])  # round(0.5) = 1, round(1.0) = 1


def write_png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def test_folder_crop_and_resize_of_a_step_image(tmp_path):
    """A 178 x 218 image, left half 0 and right half 255: its 108 x 108 centre is half and half, so the bilinear
    resize to 64 is -1 wherever the filter (radius 108 / 64 input pixels) sees only the left half (columns
    0..30), +1 where only the right (33..63), and the two columns between mirror each other."""
    step = np.zeros((218, 178, 3), np.uint8)
    step[:, 89:] = 255
    for i in range(3):
        write_png(tmp_path / "celeba" / f"{i:06d}.png", step)
    dataset = build_dataset("folder:crop=108,size=64,held_out=0", tmp_path / "celeba")
    assert (dataset.shape, dataset.value_range, dataset.held_out()) == ((3, 64, 64), (-1.0, 1.0), None)
    image = dataset.sampler(None, 0).batch(1, torch.Generator().manual_seed(0))[0]
    assert torch.equal(image[:, :, :31], -torch.ones(3, 64, 31)) and torch.equal(image[:, :, 33:], torch.ones(3, 64, 31))
    assert torch.allclose(image[:, :, 31] + image[:, :, 32], torch.zeros(3, 64), atol=1.01 / 127.5)
    assert torch.equal(image, image[:, :1].expand_as(image))  # rows are equal


def test_folder_crop_without_resize_is_the_exact_pixels_and_held_out_is_the_last_files(tmp_path):
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (218, 178, 3)).astype(np.uint8) for _ in range(10)]
    for i, image in enumerate(images):
        write_png(tmp_path / ("a" if i < 5 else "b") / f"{i:02d}.png", image)  # sorted by path, recursively
    dataset = build_dataset("folder:crop=128,size=128,held_out=0.2", tmp_path)
    exact = torch.from_numpy(np.stack([im[45:173, 25:153] for im in images]).transpose(0, 3, 1, 2).copy())
    assert torch.equal(dataset.held_out(), exact[8:].float() / 127.5 - 1)
    assert torch.equal(dataset.train, exact[:8])
    assert dataset.describe()["train"] == 8 and dataset.describe()["files"][-1]["name"] == "b/09.png"
    files, decoded = decode_folder(tmp_path, 128, 128)
    assert decode_folder(tmp_path, 128, 128)[1] is decoded  # decoded once per process


def test_folder_of_grayscale_images_has_one_channel_and_bad_folders_are_one_line_errors(tmp_path):
    for i in range(4):
        write_png(tmp_path / "gray" / f"{i}.png", np.full((64, 64), 60 * i, np.uint8))
    dataset = build_dataset("folder:held_out=0.25", tmp_path / "gray")
    assert dataset.shape == (1, 64, 64)
    assert torch.equal(dataset.held_out(), torch.full((1, 1, 64, 64), 180.0) / 127.5 - 1)
    write_png(tmp_path / "wide" / "0.png", np.zeros((40, 50), np.uint8))
    for spec, data_dir, fragments in (
        ("folder", tmp_path / "absent", (str(tmp_path / "absent"), "--data-dir")),
        ("folder", None, ("--data-dir",)),
        ("folder", tmp_path / "wide", (str(tmp_path / "wide" / "0.png"), "not square", "crop=")),
        ("folder:crop=45", tmp_path / "wide", ("does not fit",)),
        ("folder:size=100", tmp_path / "gray", ("size=100", "64")),
        ("folder:held_out=0.1", tmp_path / "gray", ("held_out=0.1", "4 images")),
        ("folder:held_out=1", tmp_path / "gray", ("fraction",)),
        ("folder:resize=64", tmp_path / "gray", ("resize", "size, crop, held_out")),
    ):
        with pytest.raises(GanEvalError) as excinfo:
            build_dataset(spec, data_dir)
        one_line_error(excinfo, *fragments)
    (tmp_path / "empty").mkdir()
    with pytest.raises(GanEvalError) as excinfo:
        build_dataset("folder", tmp_path / "empty")
    one_line_error(excinfo, str(tmp_path / "empty"), "no images")


# --- npz ------------------------------------------------------------------------------------------------------


def test_npz_round_trip_of_uint8_images_vectors_and_stated_ranges(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (10, 8, 8, 3)).astype(np.uint8)  # channels-last
    np.savez(tmp_path / "images.npz", x=images, y=np.arange(10))
    dataset = build_dataset(f"npz:path={tmp_path / 'images.npz'},key=x,held_out=0.2")
    nchw = torch.from_numpy(images.transpose(0, 3, 1, 2).copy())
    assert (dataset.kind, dataset.shape, dataset.value_range, dataset.default_evaluators) == ("image", (3, 8, 8), (-1.0, 1.0), ("fid",))
    assert torch.equal(dataset.held_out(), nchw[8:].float() / 127.5 - 1)
    epoch = dataset.sampler(None, 0).batch(8, torch.Generator().manual_seed(0))
    assert sorted(map(bytes, epoch.flatten(1).numpy())) == sorted(map(bytes, (nchw[:8].float() / 127.5 - 1).flatten(1).numpy()))
    assert dataset.describe()["value_range_from"] == {"range": "0,255", "from": "uint8 data"}
    assert str(tmp_path) not in json.dumps(dataset.describe())

    vectors = rng.normal(size=(20, 5)).astype(np.float32)
    np.save(tmp_path / "vectors.npy", vectors)
    dataset = build_dataset("npz:held_out=0", tmp_path / "vectors.npy")
    assert (dataset.kind, dataset.shape, dataset.value_range, dataset.default_evaluators, dataset.held_out()) == ("vector", (5,), None, (), None)
    assert torch.equal(dataset.train, torch.from_numpy(vectors))

    unit = rng.random((4, 1, 6, 6)).astype(np.float32)
    np.save(tmp_path / "unit.npy", unit)
    assert build_dataset("npz:held_out=0", tmp_path / "unit.npy").value_range == (0.0, 1.0)  # inferred: no negatives
    assert build_dataset("npz:held_out=0,range=-1:1", tmp_path / "unit.npy").value_range == (-1.0, 1.0)  # stated
    np.save(tmp_path / "float255.npy", unit * 255)
    stated = build_dataset("npz:held_out=0,range=0:255", tmp_path / "float255.npy")
    assert stated.value_range == (-1.0, 1.0) and torch.allclose(stated.train, torch.from_numpy(unit * 2 - 1), atol=1e-5)


def test_npz_bad_inputs_are_one_line_errors(tmp_path):
    np.savez(tmp_path / "two.npz", a=np.zeros((4, 2)), b=np.zeros((4, 2)))
    np.save(tmp_path / "float255.npy", np.full((4, 6, 6), 200.0, np.float32))
    np.save(tmp_path / "vectors.npy", np.zeros((4, 2), np.float32))
    for spec, data_dir, fragments in (
        ("npz", tmp_path / "two.npz", ("two.npz", "a, b", "key=")),
        ("npz:key=c", tmp_path / "two.npz", ("no array named 'c'",)),
        ("npz", None, ("--data-dir FILE", "neither")),
        (f"npz:path={tmp_path / 'two.npz'}", tmp_path / "vectors.npy", ("not both",)),
        ("npz", tmp_path / "float255.npy", ("float255.npy", "state range=0:255")),
        ("npz:range=0:1", tmp_path / "float255.npy", ("outside",)),
        ("npz:range=0,1", tmp_path / "vectors.npy", ("not key=value",)),
        ("npz:range=0:1", tmp_path / "vectors.npy", ("no value range",)),
        ("npz:range=unit", tmp_path / "vectors.npy", ("-1:1",)),
        ("npz", tmp_path / "missing.npz", ("missing.npz", "no such file")),
        ("npz", tmp_path / "x.csv", ("x.csv", ".npz or .npy")),
        ("npz:held_out=0.1", tmp_path / "vectors.npy", ("held_out=0.1",)),
    ):
        with pytest.raises(GanEvalError) as excinfo:
            build_dataset(spec, data_dir)
        one_line_error(excinfo, *fragments)


# --- samplers: determinism and resume --------------------------------------------------------------------------


def test_shuffled_epochs_visit_every_row_once_per_epoch_and_resume_exactly(tmp_path):
    np.save(tmp_path / "rows.npy", np.arange(10, dtype=np.float32)[:, None].repeat(2, 1))
    dataset = build_dataset("npz:held_out=0", tmp_path / "rows.npy")
    sizes = [4, 4, 4, 3, 5, 7, 3]  # 30 rows = 3 epochs; batches cross the epochs' ends
    seen = torch.cat(draw(dataset.sampler(None, 0), sizes, torch.Generator().manual_seed(1)))[:, 0]
    for epoch in seen.view(3, 10):
        assert sorted(epoch.tolist()) == list(range(10))
    assert not torch.equal(seen[:10], seen[10:20])  # each epoch a new permutation

    uninterrupted = draw(dataset.sampler(None, 0), sizes, torch.Generator().manual_seed(1))
    sampler, generator = dataset.sampler(None, 0), torch.Generator().manual_seed(1)
    first = draw(sampler, sizes[:3], generator)
    state, generator_state = sampler.state_dict(), generator.get_state()
    draw(sampler, [6], generator)  # moves on; the resumed copy must not see this
    resumed, resumed_generator = dataset.sampler(None, 0), torch.Generator()
    resumed.load_state_dict(state)
    resumed_generator.set_state(generator_state)
    rest = draw(resumed, sizes[3:], resumed_generator)
    assert all(torch.equal(a, b) for a, b in zip(first + rest, uninterrupted))


def test_train_size_is_a_fixed_subset_chosen_by_the_set_seed(tmp_path):
    np.save(tmp_path / "rows.npy", np.arange(100, dtype=np.float32)[:, None])
    dataset = build_dataset("npz:held_out=0", tmp_path / "rows.npy")
    subset = lambda set_seed, data_seed: set(dataset.sampler(5, set_seed).batch(20, torch.Generator().manual_seed(data_seed))[:, 0].tolist())  # noqa: E731
    assert len(subset(0, 0)) == 5 and subset(0, 0) == subset(0, 1) != subset(1, 0)
    with pytest.raises(GanEvalError) as excinfo:
        dataset.sampler(101, 0)
    one_line_error(excinfo, "101", "100")


def test_registry_names_and_unknown_options():
    assert {"mnist", "stacked-mnist", "cifar10", "folder", "npz"} <= set(DATASETS.names())
    with pytest.raises(GanEvalError) as excinfo:
        build_dataset("cifar10:size=64", Path("."))
    one_line_error(excinfo, "'size'", "no options")
