"""Loading samples from .npz / .npy / .pt files (and saving them to .npz / .npy), and the SampleSource that every
metric reads from.

Files are never unpickled: ``np.load(allow_pickle=False)`` and ``torch.load(weights_only=True)``.
Every failure is a one-line :class:`~gan_eval.errors.GanEvalError` that names the file and the fix.
"""
from __future__ import annotations

import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol, runtime_checkable

import numpy as np
import torch

from gan_eval.errors import GanEvalError, first_line
from gan_eval.io.atomic import check_target, save_npz, write_with
from gan_eval.io.folder import FolderSource
from gan_eval.io.state_dicts import generator_key, is_state_dict, state_dict_keys

SAMPLE_SUFFIXES = (".npz", ".npy", ".pt", ".pth")
#: what the commands that draw samples write: files :func:`load_array` reads back with no --key
SAVE_SUFFIXES = (".npz", ".npy")


def check_samples_target(path: str | Path) -> Path:
    """``path`` unless it cannot take a samples file: a folder, or a suffix other than .npz / .npy (an npz named
    out.txt would be refused when read back). Called before any work by the commands that write samples."""
    path = check_target(path)
    if path.suffix.lower() not in SAVE_SUFFIXES:
        raise GanEvalError(f"{path}: write samples to a .npz or .npy file")
    return path


def save_samples(path: str | Path, samples: np.ndarray) -> Path:
    """``samples`` written atomically to a checked ``path``: an npz holding the array ``samples``, or an npy."""
    path = check_samples_target(path)
    if path.suffix.lower() == ".npz":
        return save_npz(path, samples=samples)
    return write_with(path, lambda tmp: np.save(tmp, samples))


def load_array(path: str | Path, key: str | None = None) -> np.ndarray:
    """Read one array from ``path``.

    ``.npz``: the array named ``key``, else the file's single array. ``.npy``: the array.
    ``.pt``/``.pth``: a tensor, or a dict of tensors picked like an npz. ``key`` for a file holding a single
    array (an npy, a tensor) is refused, not ignored. Checks that the array is non-empty and, for floats, finite.
    """
    path = Path(path)
    if not path.exists():
        raise GanEvalError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise GanEvalError(f"{path}: is a folder; pass a .npz, .npy or .pt file of samples")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        array = _load_npz(path, key)
    elif suffix == ".npy":
        _refuse_key(path, key, "an .npy file holds one array")
        array = _load_npy(path)
    elif suffix in (".pt", ".pth"):
        array = _load_pt(path, key)
    else:
        raise GanEvalError(f"{path}: unsupported file type {suffix!r}; use one of {', '.join(SAMPLE_SUFFIXES)}")
    return check_array(array, str(path))


def check_array(array: np.ndarray, name: str) -> np.ndarray:
    """Refuse empty, non-numeric and non-finite arrays with a one-line error naming ``name``."""
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise GanEvalError(f"{name}: array has dtype {array.dtype}; save numeric samples (float or uint8)")
    if array.size == 0:
        raise GanEvalError(f"{name}: array of shape {array.shape} is empty; save at least one sample")
    if np.issubdtype(array.dtype, np.floating):
        bad = ~np.isfinite(array)
        if bad.any():
            rows = np.unique(np.nonzero(bad.reshape(len(array), -1) if array.ndim else bad)[0])
            raise GanEvalError(
                f"{name}: {int(bad.sum())} NaN/Inf values in {len(rows)} samples (first at index {int(rows[0])});"
                " drop or fix those samples"
            )
    return array


def _refuse_key(path: str | Path, key: str | None, holds: str) -> None:
    """One line for ``--key`` given where there is nothing to pick from (it would be silently ignored)."""
    if key is not None:
        raise GanEvalError(f"{path}: {holds}, so --key {key} selects nothing; drop --key")


def _pick(arrays, path: Path, key: str | None) -> object:
    """The array named ``key`` from a mapping (npz or dict), else its only array."""
    names = list(arrays.keys())
    if key is not None:
        if key not in arrays:
            raise GanEvalError(f"{path}: no array named {key!r}; it holds {', '.join(names) or 'nothing'}")
        return arrays[key]
    if len(names) != 1:
        listed = ", ".join(names) if names else "no arrays"
        raise GanEvalError(f"{path}: holds {listed}; pick one with --key NAME")
    return arrays[names[0]]


def _load_npz(path: Path, key: str | None) -> np.ndarray:
    if not zipfile.is_zipfile(path):  # else np.load falls back to reading it as a pickle
        raise GanEvalError(f"{path}: corrupt or not an .npz file (not a zip archive); re-save it with numpy.savez")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return np.asarray(_pick(npz, path, key))
    except GanEvalError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc):
            raise GanEvalError(f"{path}: holds pickled Python objects, which are never loaded; save plain numeric arrays") from None
        raise GanEvalError(f"{path}: not a readable .npz ({exc}); re-save it with numpy.savez") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise GanEvalError(f"{path}: corrupt or not an .npz file ({exc}); re-save it with numpy.savez") from None


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc):
            raise GanEvalError(f"{path}: holds pickled Python objects, which are never loaded; save plain numeric arrays") from None
        raise GanEvalError(f"{path}: corrupt or not an .npy file ({exc}); re-save it with numpy.save") from None
    except (OSError, EOFError) as exc:
        raise GanEvalError(f"{path}: corrupt or not an .npy file ({exc}); re-save it with numpy.save") from None


def _load_pt(path: Path, key: str | None) -> np.ndarray:
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as exc:
        raise GanEvalError(
            f"{path}: not a plain tensor file ({first_line(exc)[:120]}); save a tensor or a dict of tensors with torch.save"
        ) from None
    if isinstance(obj, dict):
        _refuse_run_checkpoint(obj, path)
        _refuse_model_weights(obj, path, key)
        obj = _pick(obj, path, key)
        if is_state_dict(obj):
            raise GanEvalError(
                f"{path}: {key!r} holds a model state dict, not samples; to score that generator, save it alone"
                f" (torch.save(checkpoint[{key!r}], 'G.pt')) and pass pkg.module:factory and --generator-weights G.pt"
            )
    elif isinstance(obj, torch.Tensor):
        _refuse_key(path, key, "it holds one tensor, not a dict of tensors")
    if not isinstance(obj, torch.Tensor):
        raise GanEvalError(f"{path}: holds a {type(obj).__name__}, not a tensor; save a tensor with torch.save")
    return obj.detach().cpu().numpy()


#: the keys of the checkpoint.pt the trainers write (trainers/loop.py), whose ``nets`` is one flat state dict of
#: every network (G.* and D.* keys), so no single entry of it loads into a generator
RUN_CHECKPOINT_KEYS = {"nets", "optimizers", "step"}


def _refuse_run_checkpoint(obj: dict, path: Path) -> None:
    """One line for a training run's checkpoint (the trainers' keys, or state dicts with the run's
    ``generator.pt2`` beside it), with or without ``--key``: the generator to score is that file."""
    beside = path.parent / "generator.pt2"
    if not (RUN_CHECKPOINT_KEYS <= set(obj) or (beside.exists() and state_dict_keys(obj))):
        return
    if beside.exists():
        raise GanEvalError(f"{path}: is a training run's checkpoint (networks and optimizers), not samples; score the run's generator, {beside}")
    raise GanEvalError(
        f"{path}: is a training run's checkpoint (networks and optimizers), not samples; score the generator.pt2 the run"
        f" writes in {path.parent} when it finishes"
    )


def _refuse_model_weights(obj: dict, path: Path, key: str | None) -> None:
    """One-line error for a state dict (with or without ``--key``: its tensors are never samples) and for a
    checkpoint of state dicts read without ``--key`` (see :mod:`gan_eval.io.state_dicts`)."""
    if is_state_dict(obj):
        names = ", ".join(list(map(str, obj))[:3]) + (", ..." if len(obj) > 3 else "")
        raise GanEvalError(
            f"{path}: is a model state dict ({names}), not samples; to score the generator it holds, pass"
            f" pkg.module:factory (a function building the model) and --generator-weights {path}"
        )
    held = state_dict_keys(obj)
    if key is None and held and not any(isinstance(value, torch.Tensor) for value in obj.values()):
        found = generator_key(held)
        which = f"the generator's ({found!r})" if found else f"the generator's (one of {', '.join(held)})"
        raise GanEvalError(
            f"{path}: is a checkpoint of model state dicts ({', '.join(held)}), not samples; save {which} alone"
            f" (torch.save(checkpoint[{found or 'KEY'!r}], 'G.pt')) and pass pkg.module:factory and --generator-weights G.pt"
        )


@runtime_checkable
class SampleSource(Protocol):
    """Where a metric reads samples from: a file, an array, or (later) a generator sampled on the fly.

    ``batches`` yields CPU tensors in the source's own dtype (uint8 images stay uint8); a metric that
    streams never needs all samples at once. ``name`` appears in error messages.
    """

    name: str

    def __len__(self) -> int: ...

    def batches(self, batch_size: int) -> Iterator[torch.Tensor]: ...

    def array(self) -> np.ndarray: ...


@dataclass
class ArraySource:
    """Samples held in memory (loaded from a file or passed from Python)."""

    data: np.ndarray
    name: str = "<array>"

    def __len__(self) -> int:
        return len(self.data)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    def batches(self, batch_size: int) -> Iterator[torch.Tensor]:
        for start in range(0, len(self.data), batch_size):
            yield torch.from_numpy(np.ascontiguousarray(self.data[start : start + batch_size]))

    def array(self) -> np.ndarray:
        return self.data


def as_source(samples: object, key: str | None = None, *, skip_unreadable: bool = False) -> SampleSource:
    """Accept a path (file or image folder), a numpy array, a tensor or an existing SampleSource.
    ``skip_unreadable``: leave out a folder's files that cannot be decoded (:class:`FolderSource`)."""
    if isinstance(samples, SampleSource):
        return samples
    if isinstance(samples, (str, Path)):
        if Path(samples).is_dir():
            _refuse_key(samples, key, "a folder of images has no named arrays")
            return FolderSource(samples, skip_unreadable=skip_unreadable)
        return ArraySource(load_array(samples, key), name=str(samples))
    if isinstance(samples, torch.Tensor):
        return ArraySource(check_array(samples.detach().cpu().numpy(), "<tensor>"), name="<tensor>")
    if isinstance(samples, np.ndarray):
        return ArraySource(check_array(samples, "<array>"), name="<array>")
    raise GanEvalError(f"cannot read samples from a {type(samples).__name__}; pass a path, numpy array or tensor")
