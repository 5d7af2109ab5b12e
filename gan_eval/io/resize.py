"""The size policy: how images of one size are brought to the size a network or a comparison needs.

One named policy for every place that changes an image's size before comparing (the ``mnist`` extractor, which
takes 28 x 28 digits, and IvOM, which compares a generator's outputs with test images pixel by pixel), chosen
with ``--set resize=crop|resize`` and recorded in the result:

* ``crop`` (default): centre-crop by a small margin (at most :data:`MAX_CROP_MARGIN` px a side), which undoes the
  2-px zero padding of 32 x 32 MNIST-style digits; any other size is an error that names the fix.
* ``resize``: bilinear interpolation with antialiasing (``torch.nn.functional.interpolate(mode="bilinear",
  antialias=True, align_corners=False)``, PIL-like), for a generator trained on resized images (e.g. MNIST
  resized to 32 x 32 with ``torchvision.transforms.Resize``).

Which one is right depends on how the generator's training images were made: a generator trained on MNIST
resized to 32 px should be scored against a reference made the same way (README: "build the reference with the
generator's own preprocessing"); whenever a policy changes an image, :func:`change_note` says so and the result
shows it. Inception's own resize to 299 px (``tf1`` / ``clean``) is the Inception extractor's, not this policy.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from gan_eval.errors import GanEvalError

POLICIES = ("crop", "resize")
DEFAULT_POLICY = "crop"
#: the largest margin per side that ``crop`` removes (32 -> 28 removes 2)
MAX_CROP_MARGIN = 2


def check_policy(policy: str) -> str:
    """``policy`` if it is one of :data:`POLICIES`, else a one-line error naming the option."""
    if policy not in POLICIES:
        raise GanEvalError(f"resize={policy!r} is not a size policy; use --set resize=crop or --set resize=resize")
    return policy


def fit_images(images: torch.Tensor, size: tuple[int, int], policy: str, what: str) -> torch.Tensor:
    """N x C x H x W ``images`` at ``size`` by ``policy`` (module docstring); unchanged when already that size.
    ``what`` names the network or comparison in an error (the caller puts the file name in front)."""
    have = tuple(images.shape[-2:])
    if have == tuple(size):
        return images
    if check_policy(policy) == "resize":
        return F.interpolate(images, size=size, mode="bilinear", antialias=True, align_corners=False)
    margins = [(h - s) for h, s in zip(have, size)]
    if any(m < 0 or m % 2 or m // 2 > MAX_CROP_MARGIN for m in margins):
        raise GanEvalError(
            f"images are {_size(have)} but {what} takes {_size(size)} (centre-cropping removes at most {MAX_CROP_MARGIN} px a"
            f" side); pass --set resize=resize to resize them, or score images made at {_size(size)}"
        )
    top, left = margins[0] // 2, margins[1] // 2
    return images[..., top : top + size[0], left : left + size[1]]


def change_note(have: tuple[int, int], size: tuple[int, int], policy: str) -> str | None:
    """What :func:`fit_images` does to images of size ``have`` (None when nothing), for the result and its table."""
    if tuple(have) == tuple(size):
        return None
    how = "centre-cropped" if policy == "crop" else "resized (bilinear, antialiased)"
    return f"{_size(have)} images {how} to {_size(size)} (resize={policy})"


def _size(size: tuple[int, ...]) -> str:
    return "x".join(map(str, size))
