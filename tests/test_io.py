"""Sample loading: every supported format, and a one-line error for every bad input (never unpickling)."""
from __future__ import annotations

import os
import pickle
import stat

import numpy as np
import pytest
import torch

from gan_eval.errors import GanEvalError
from gan_eval.io import load_array, save_npz
from gan_eval.io.atomic import write_with


def test_formats_round_trip(tmp_path):
    x = np.random.default_rng(0).normal(size=(20, 2)).astype(np.float32)
    np.savez(tmp_path / "one.npz", samples=x)
    np.savez(tmp_path / "two.npz", a=x, b=x * 2)
    np.save(tmp_path / "x.npy", x)
    torch.save(torch.from_numpy(x), tmp_path / "x.pt")
    torch.save({"fake": torch.from_numpy(x)}, tmp_path / "d.pt")
    for name, key in [("one.npz", None), ("two.npz", "a"), ("x.npy", None), ("x.pt", None), ("d.pt", None)]:
        np.testing.assert_array_equal(load_array(tmp_path / name, key), x)
    np.testing.assert_array_equal(load_array(tmp_path / "two.npz", "b"), x * 2)


@pytest.mark.parametrize(
    "make, pattern",
    [
        (lambda d: d / "missing.npz", "no such file"),
        (lambda d: d, "is a folder"),
        (lambda d: _write(d / "x.txt", b"1 2"), "unsupported file type"),
        (lambda d: _save_npz(d / "two.npz", a=np.zeros(2), b=np.zeros(2)), "pick one with --key"),
        (lambda d: _save_npz(d / "obj.npz", a=np.array([{"x": 1}], dtype=object)), "pickled Python objects"),
        (lambda d: _save_npy(d / "obj.npy", np.array([{"x": 1}], dtype=object)), "pickled Python objects"),
        (lambda d: _write(d / "bad.npz", b"not a zip"), "corrupt or not an .npz"),
        (lambda d: _write(d / "bad.npy", b"\x93NUMPY garbage"), "corrupt or not an .npy"),
        (lambda d: _pickle_pt(d / "evil.pt"), "not a plain tensor file"),
        (lambda d: _save_npz(d / "empty.npz", a=np.zeros((0, 2))), "is empty"),
        (lambda d: _save_npz(d / "nan.npz", a=np.array([[0.0, 1.0], [np.nan, 0.0]])), "NaN/Inf values in 1 samples"),
        (lambda d: _save_npz(d / "str.npz", a=np.array(["a", "b"])), "dtype"),
    ],
)
def test_bad_inputs_give_one_line_errors_naming_the_file(tmp_path, make, pattern):
    path = make(tmp_path)
    with pytest.raises(GanEvalError, match=pattern) as info:
        load_array(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message


def test_pickled_pt_is_never_executed(tmp_path):
    marker = tmp_path / "ran"
    path = _pickle_pt(tmp_path / "evil.pt", marker)
    with pytest.raises(GanEvalError):
        load_array(path)
    assert not marker.exists()


def test_key_picks_from_a_dict_of_tensors_and_is_refused_where_there_is_one_array(tmp_path):
    """README: samples come from `.npz` (--key NAME, else the single array), `.npy` or `.pt` (a tensor or a dict of
    tensors). --key picks from an npz or a dict of tensors, an unknown one is refused as for an npz, and on a file
    holding one array (npy, tensor) or a folder it is refused rather than silently ignored."""
    from gan_eval.io import as_source

    x = np.arange(8, dtype=np.float32).reshape(4, 2)
    torch.save({"a": torch.from_numpy(x), "b": torch.from_numpy(2 * x)}, tmp_path / "two.pt")
    np.testing.assert_array_equal(load_array(tmp_path / "two.pt", "b"), 2 * x)
    for name, save in (("two.pt", None), ("two.npz", lambda p: np.savez(p, a=x, b=2 * x))):
        if save:
            save(tmp_path / name)
        with pytest.raises(GanEvalError, match=rf"^{tmp_path / name}: no array named 'c'; it holds a, b$"):
            load_array(tmp_path / name, "c")
    np.save(tmp_path / "x.npy", x)
    torch.save(torch.from_numpy(x), tmp_path / "x.pt")
    (tmp_path / "images").mkdir()
    for path, holds in ((tmp_path / "x.npy", "an .npy file holds one array"), (tmp_path / "x.pt", "it holds one tensor, not a dict of tensors")):
        with pytest.raises(GanEvalError, match=rf"^{path}: {holds}, so --key a selects nothing; drop --key$"):
            load_array(path, "a")
    with pytest.raises(GanEvalError, match=r"images: a folder of images has no named arrays, so --key a selects nothing"):
        as_source(tmp_path / "images", "a")


def test_atomic_write_keeps_old_file_when_writer_fails(tmp_path):
    path = tmp_path / "result.npz"
    save_npz(path, a=np.arange(3))

    def broken(tmp):
        tmp.write_bytes(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_with(path, broken)
    np.testing.assert_array_equal(load_array(path), np.arange(3))
    assert [p.name for p in tmp_path.iterdir()] == ["result.npz"]  # no temp file left behind


def test_atomic_write_refuses_a_folder_as_its_target_and_leaves_it_as_it_was(tmp_path):
    """Not an IsADirectoryError from the final rename: one line naming the folder and a file to write instead."""
    folder = tmp_path / "somefolder"
    (folder / "kept").mkdir(parents=True)
    with pytest.raises(GanEvalError, match=rf"^{folder}: is a folder, not a file; name the file to write, e.g. {folder}/out.npz$"):
        save_npz(folder, a=np.arange(3))
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["kept", "somefolder"]  # no temp file either


def test_atomic_write_gives_plain_open_permissions_and_keeps_an_existing_files_mode(tmp_path):
    """Compared with what ``open()`` itself creates under the same umask (mkstemp alone would give 0600)."""
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    new = tmp_path / "new.npz"
    save_npz(new, a=np.arange(3))
    assert stat.S_IMODE(new.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)
    os.chmod(new, 0o640)
    save_npz(new, a=np.arange(4))
    assert stat.S_IMODE(new.stat().st_mode) == 0o640


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _pickle_pt(path, marker=None):
    with open(path, "wb") as f:
        pickle.dump(_Exploit(marker or path.with_suffix(".ran")), f)
    return path


def _write(path, data):
    path.write_bytes(data)
    return path


def _save_npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def _save_npy(path, array):
    np.save(path, array, allow_pickle=True)
    return path
