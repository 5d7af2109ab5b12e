"""``npz``: samples saved as arrays in a ``.npz`` or ``.npy`` file: vectors ``N x D`` or images (``N x H x W``,
``N x C x H x W`` or ``N x H x W x C``, C = 1 or 3).

The file: ``--data-dir FILE`` or the option ``path=FILE``; ``key=NAME`` picks an array of an ``.npz`` holding
several. Read by :func:`gan_eval.io.samples.load_array` (never unpickled; empty, non-numeric or non-finite arrays
refused). Options: ``range`` (images: ``0:1``, ``-1:1`` or ``0:255``, written with a colon since commas separate
options; default ``auto``) and ``held_out`` (default 0.1: the last fraction of the rows, rounded down, is held out).

Value range of images: resolved once by :func:`gan_eval.io.ranges.resolve_range`, as every gan-eval input is:
stated (checked against the data), else uint8 is 0..255, else inferred (negatives: [-1, 1]; within [0, 1]:
[0, 1]; anything else refused, never guessed). 0..255 images train in [-1, 1] (``x / 127.5 - 1``, as ``cifar10``
and ``folder``); [0, 1] and [-1, 1] images train as they are. How the range was found is in :meth:`describe`.
Vectors have no range and no default evaluator.
"""
from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_eval.errors import GanEvalError
from gan_eval.io.images import to_nchw
from gan_eval.io.ranges import resolve_range
from gan_eval.io.samples import ArraySource, load_array
from trainers.datasets.arrays import ArrayDataset
from trainers.datasets.files import content_identity
from trainers.datasets.options import dataset_options, fraction_option

DEFAULTS = {"path": None, "key": None, "range": "auto", "held_out": 0.1}
#: the ``range`` option's spellings -> gan_eval.io.ranges' names
RANGES = {"auto": "auto", "0:1": "0,1", "-1:1": "-1,1", "0:255": "0,255"}
TRAIN_RANGES = {"0,1": (0.0, 1.0), "-1,1": (-1.0, 1.0), "0,255": (-1.0, 1.0)}


class NpzDataset(ArrayDataset):
    """``kind`` and ``default_evaluators`` depend on the array: images score with FID, vectors with nothing."""


def array_file(chosen: dict[str, Any], data_dir: Path | None) -> Path:
    """The file, from ``path=`` or ``--data-dir`` (one of them)."""
    given = [Path(p) for p in (chosen["path"], data_dir) if p is not None]
    if not given or (len(given) == 2 and given[0] != given[1]):
        found = "neither" if not given else f"both ({given[0]}, {given[1]})"
        raise GanEvalError(f"dataset 'npz': name the array file once, with --data-dir FILE or npz:path=FILE, not {found}")
    path = given[0]
    if path.suffix.lower() not in (".npz", ".npy"):
        raise GanEvalError(f"{path}: dataset 'npz' reads a .npz or .npy file; save the samples with numpy.savez or numpy.save")
    return path


def single_key(path: Path, key: str | None) -> str | None:
    """``key``; refuses an ``.npz`` holding several arrays when none is named (load_array's hint names the CLI flag)."""
    if key is not None or path.suffix.lower() != ".npz" or not zipfile.is_zipfile(path):
        return key
    try:
        with np.load(path, allow_pickle=False) as npz:
            names = npz.files
    except (OSError, ValueError, zipfile.BadZipFile):
        return key  # load_array says what is wrong with the file
    if len(names) > 1:
        raise GanEvalError(f"{path}: holds {', '.join(names)}; pick one with the option key=NAME, e.g. npz:key={names[0]}")
    return key


def build_npz(options: dict[str, Any], data_dir: Path | None) -> NpzDataset:
    chosen = dataset_options("npz", options, DEFAULTS)
    path = array_file(chosen, data_dir)
    held_out = fraction_option("npz", "held_out", chosen["held_out"])
    stated = RANGES.get(str(chosen["range"]).replace(" ", ""))
    if stated is None:
        raise GanEvalError(f"dataset 'npz': range={chosen['range']!r} is not one of {', '.join(RANGES)}")
    key = None if chosen["key"] is None else str(chosen["key"])
    array = load_array(path, single_key(path, key))
    recorded = {k: v for k, v in chosen.items() if k != "path"}  # the path is no part of what the run trained on
    if array.ndim == 2:
        if stated != "auto":
            raise GanEvalError(f"{path}: holds {array.shape[0]} x {array.shape[1]} vectors, which have no value range; drop range=")
        data, value_range, kind, evaluators, found = torch.from_numpy(array.astype(np.float32)), None, "vector", (), None
    elif array.ndim in (3, 4):
        try:
            found = resolve_range(ArraySource(array, name=str(path)), stated, option="range")
        except GanEvalError as exc:  # the resolver writes ranges as "range 0,255"; in a spec it is range=0:255
            message = str(exc)
            for spelling, name in RANGES.items():
                message = message.replace(f"range {name}", f"range={spelling}")
            raise GanEvalError(message) from None
        data = to_nchw(torch.from_numpy(array), str(path)).contiguous()
        if data.dtype != torch.uint8:
            data = data.to(torch.float32)
            if found.range == "0,255":  # floats stated to be 0..255: scaled here once, as uint8 is per batch
                data = data / 127.5 - 1.0
        value_range, kind, evaluators = TRAIN_RANGES[found.range], "image", ("fid",)
    else:
        raise GanEvalError(f"{path}: array of shape {array.shape} is neither N x D vectors nor N x H x W (x C) images")
    n_held = math.floor(len(data) * held_out)
    if held_out and n_held == 0:
        raise GanEvalError(f"{path}: held_out={held_out} of its {len(data)} rows is no row; raise held_out or pass held_out=0")
    identity = {"options": recorded, **({"value_range_from": found.describe()} if found else {}), **content_identity([path], path.parent)}
    dataset = NpzDataset("npz", data[: len(data) - n_held], data[len(data) - n_held :] if n_held else None, value_range, identity)
    dataset.kind, dataset.default_evaluators = kind, evaluators  # type: ignore[misc]
    return dataset
