"""``folder``: a folder of images (PNG, JPEG, BMP or WebP, searched recursively, sorted by path), in [-1, 1].

Options: ``size`` (side of the square training images: 64 or 128 as the CelebA papers, or 32), ``crop`` (side of
a centre square cut before resizing; 0, the default, cuts nothing and then needs square images), ``held_out``
(default 0.1). CelebA as the papers train on it: ``folder:crop=108,size=64`` on the 178 x 218 aligned images.

Crop and resize follow DCGAN-tensorflow's ``center_crop`` (github.com/carpedm20/DCGAN-tensorflow, ``utils.py``):
top ``j = round((h - crop) / 2)``, left ``i = round((w - crop) / 2)`` (Python 2's round, halves away from zero),
cut ``x[j:j+crop, i:i+crop]``, then ``scipy.misc.imresize`` to size x size, which is Pillow's bilinear resize of the
uint8 image; then ``x / 127.5 - 1``. (``imresize`` of the float image ``imread`` gave first stretched each crop's
own min..max to 0..255; that per-image contrast change is not copied: the 8-bit pixels are resized as they are.)

Held-out split: the last ``held_out`` fraction (rounded down) of the sorted file list, the rest trains. CelebA's
file names are in its official partition order (the last 19,962 of 202,599, 9.9 %, are its test split), so 0.1
holds out about its test split; ``held_out=0`` holds out nothing.

Decoding is the cost (CelebA: 202,599 JPEGs), so the cropped, resized uint8 array is kept in memory once per
process, keyed by the folder and the options.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_eval.errors import GanEvalError
from gan_eval.io.folder import FolderSource
from gan_eval.progress import track
from trainers.datasets.arrays import ArrayDataset
from trainers.datasets.files import content_identity
from trainers.datasets.options import dataset_options, fraction_option

SIZES = (32, 64, 128)
DEFAULTS = {"size": 64, "crop": 0, "held_out": 0.1}
_DECODE_BATCH = 256
_DECODED: dict[tuple[str, int, int], tuple[list[Path], torch.Tensor]] = {}


def centre_crop(image: np.ndarray, crop: int) -> np.ndarray:
    """The ``crop`` x ``crop`` centre of an H x W (x C) image, placed as DCGAN-tensorflow's ``center_crop``."""
    height, width = image.shape[:2]
    top, left = (height - crop + 1) // 2, (width - crop + 1) // 2  # round(d / 2), halves up, for d >= 0
    return image[top : top + crop, left : left + crop]


def crop_and_resize(image: np.ndarray, crop: int, size: int) -> np.ndarray:
    """uint8 H x W (x 3) -> uint8 size x size (x 3): the centre crop (``crop`` > 0), then Pillow's bilinear resize."""
    from PIL import Image

    if crop:
        image = centre_crop(image, crop)
    if image.shape[:2] != (size, size):
        image = np.asarray(Image.fromarray(image).resize((size, size), Image.BILINEAR))
    return image


def decode_folder(root: Path, size: int, crop: int) -> tuple[list[Path], torch.Tensor]:
    """The sorted image files and their uint8 ``[N, C, size, size]`` array (C = 1 when every image is grayscale)."""
    key = (str(root.resolve()), size, crop)
    if key not in _DECODED:
        source = FolderSource(root, skip_flag=None)  # the dataset has no such option: the file must go
        width, height = source.size
        if crop > min(width, height):
            raise GanEvalError(f"{source.files[0]}: a {crop} x {crop} crop does not fit in {width} x {height}; pass a smaller crop")
        if not crop and width != height:
            raise GanEvalError(
                f"{source.files[0]}: {width} x {height} is not square; pass crop=N to cut an N x N centre first"
                " (crop=108 for CelebA's 178 x 218 aligned images)"
            )
        channels = 1 if source.mode == "L" else 3
        images = np.empty((len(source), channels, size, size), np.uint8)  # filled in place: CelebA 64 is 2.5 GB
        decoded = 0
        for batch in track(source.batches(_DECODE_BATCH), math.ceil(len(source) / _DECODE_BATCH), f"decode {root.name}"):
            for image in batch.numpy():
                resized = crop_and_resize(image, crop, size)
                images[decoded] = resized[None] if channels == 1 else resized.transpose(2, 0, 1)
                decoded += 1
        _DECODED[key] = (list(source.files), torch.from_numpy(images))
    return _DECODED[key]


class FolderDataset(ArrayDataset):
    kind = "image"
    default_evaluators = ("fid",)


def build_folder(options: dict[str, Any], data_dir: Path | None) -> FolderDataset:
    chosen = dataset_options("folder", options, DEFAULTS)
    size, crop = chosen["size"], chosen["crop"]
    held_out = fraction_option("folder", "held_out", chosen["held_out"])
    if isinstance(size, bool) or not isinstance(size, int) or size not in SIZES:
        raise GanEvalError(f"dataset 'folder': size={size!r} is not one of {', '.join(map(str, SIZES))}")
    if isinstance(crop, bool) or not isinstance(crop, int) or crop < 0:
        raise GanEvalError(f"dataset 'folder': crop={crop!r} must be a side in pixels (e.g. crop=108), or 0 for none")
    if data_dir is None or not data_dir.is_dir():
        where = "no --data-dir given" if data_dir is None else f"{data_dir}: no such folder"
        raise GanEvalError(f"dataset 'folder': {where}; pass --data-dir DIR, a folder of image files (.png, .jpg, ...)")
    files, images = decode_folder(data_dir, size, crop)
    n_held = math.floor(len(files) * held_out)
    if held_out and n_held == 0:
        raise GanEvalError(f"{data_dir}: held_out={held_out} of its {len(files)} images is no image; raise held_out or pass held_out=0")
    train, test = images[: len(files) - n_held], images[len(files) - n_held :]
    identity = {"options": chosen, **content_identity(files, data_dir)}
    return FolderDataset("folder", train, test if n_held else None, (-1.0, 1.0), identity)
