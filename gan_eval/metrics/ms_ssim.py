"""MS-SSIM diversity: the mean multi-scale structural similarity of random pairs of samples (lower = more diverse).

MS-SSIM (Wang, Simoncelli & Bovik, "Multiscale structural similarity for image quality assessment", 2003):
5 scales, weights (0.0448, 0.2856, 0.3001, 0.2363, 0.1333), an 11 x 11 Gaussian window of sigma 1.5,
K = (0.01, 0.03), data range 1 for images in [0, 1], 2 x 2 average pooling between scales; computed by
``pytorch_msssim.ms_ssim`` (per channel, then averaged over channels). As a diversity score for generators
(Odena et al., "Conditional Image Synthesis with Auxiliary Classifier GANs", 2017, on 128 x 128 images;
Karras et al. 2018 on CelebA): the mean over random pairs of distinct samples, drawn from a seed.

Small images. Four 2x downsamplings with an 11-pixel window need a side > 160 pixels. The numpy MS-SSIM
of tensorflow/models (research/compression, also in the PGGAN code) instead shrinks the window to the image
at coarse scales ("filter_size ... will be reduced for small images"), so numbers on 28 or 32 pixel images
depend on the implementation and are not comparable across papers; that variant is not offered here. Offered:
``small_images="error"`` (default: a one-line error) and ``small_images="upsample"``: bilinear upsampling by
the smallest integer factor that makes the short side > 160 (28 -> 168, 32 -> 192), which keeps the standard
window and weights; say so when you report such numbers. Proven by ``tests/test_ms_ssim.py``: equals
pytorch-msssim on the same pairs to 1e-5, identical pairs give 1, and its single-scale SSIM equals
scikit-image's ``structural_similarity`` with Gaussian weights.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from gan_eval.errors import GanEvalError
from gan_eval.io.images import to_unit_float
from gan_eval.io.ranges import ValueRange, resolve_range
from gan_eval.io.samples import ArraySource, check_array
from gan_eval.metrics.base import MetricResult, ScoreRequest, register_metric
from gan_eval.metrics.pairs import image_samples, mean_over_pairs, scores_of_random_pairs
from gan_eval.options import positive

WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
WINDOW = 11
MIN_SIDE = (WINDOW - 1) * 2 ** (len(WEIGHTS) - 1) + 1  # 161: pytorch-msssim's requirement
SMALL_IMAGES = ("error", "upsample")


def upsample_factor(height: int, width: int) -> int:
    """The smallest integer factor that brings the short side to at least ``MIN_SIDE``."""
    return math.ceil(MIN_SIDE / min(height, width))


def prepare(images: torch.Tensor, small_images: str = "error", name: str = "images") -> torch.Tensor:
    """Check the size of N x C x H x W images in [0, 1]; upsample small ones when asked."""
    if small_images not in SMALL_IMAGES:
        raise GanEvalError(f"ms-ssim: small_images={small_images!r} is not one of {', '.join(SMALL_IMAGES)}")
    h, w = images.shape[-2:]
    if min(h, w) >= MIN_SIDE:
        return images
    if small_images == "error":
        raise GanEvalError(
            f"{name}: {h}x{w} images are too small for 5-scale MS-SSIM with an 11x11 window (side >= {MIN_SIDE});"
            " pass --set small_images=upsample to upsample them bilinearly"
        )
    return F.interpolate(images, scale_factor=upsample_factor(h, w), mode="bilinear", align_corners=False)


def ms_ssim(x: torch.Tensor, y: torch.Tensor, *, small_images: str = "error", name: str = "images") -> torch.Tensor:
    """MS-SSIM of each pair (x_i, y_i): N x C x H x W float images in [0, 1] -> N values in [0, 1]."""
    from pytorch_msssim import ms_ssim as library_ms_ssim

    if x.shape != y.shape or x.ndim != 4:
        raise GanEvalError(f"ms-ssim: image batches {tuple(x.shape)} and {tuple(y.shape)} must be equal N x C x H x W")
    x, y = prepare(x, small_images, name), prepare(y, small_images, name)
    return library_ms_ssim(x, y, data_range=1.0, size_average=False, win_size=WINDOW, weights=list(WEIGHTS))


@dataclass
class MSSSIMOptions:
    """``pairs``: random pairs averaged (the standard error is reported beside the mean). ``small_images``:
    error or upsample (see the module docstring). ``batch``: pairs per pass (memory only)."""

    pairs: int = positive(1_000)
    small_images: str = "error"
    batch: int = positive(256)


def ms_ssim_diversity(
    images: np.ndarray | torch.Tensor,
    pairs: int = 1_000,
    *,
    seed: int = 0,
    small_images: str = "error",
    value_range: ValueRange | str = "auto",
    device: torch.device | str = "cpu",
    batch: int = 256,
    name: str = "images",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(first, second, MS-SSIM) of ``pairs`` random pairs of distinct images of an image array (any layout
    accepted by :mod:`gan_eval.io.images`; ``value_range`` as :func:`~gan_eval.io.ranges.resolve_range` takes it)."""
    array = check_array(np.asarray(images), name)
    value_range = resolve_range(ArraySource(array, name), value_range).range

    def score(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        x, y = (to_unit_float(batch, value_range, name).to(device) for batch in (a, b))
        return ms_ssim(x, y, small_images=small_images, name=name)

    return scores_of_random_pairs(array, pairs, seed, score, batch=batch, metric="ms-ssim")


@register_metric(
    "ms-ssim",
    options=MSSSIMOptions,
    summary="mean MS-SSIM of random sample pairs (lower = more diverse)",
    statistic="the samples' images (seeded random pairs)",
    reduction="gather",
)
def evaluate(request: ScoreRequest, options: MSSSIMOptions) -> MetricResult:
    source = image_samples(request.samples, options.pairs, "ms-ssim")
    _, _, scores = ms_ssim_diversity(
        source.array(), options.pairs, seed=request.seed, small_images=options.small_images,
        value_range=request.range_of(source), device=request.device, batch=options.batch, name=source.name,
    )
    return MetricResult(
        metric="ms-ssim",
        values=mean_over_pairs(scores, "ms_ssim"),
        protocol={
            "samples": source.name,
            "scales": len(WEIGHTS),
            "weights": list(WEIGHTS),
            "window": f"{WINDOW}x{WINDOW} Gaussian, sigma 1.5",
            "data_range": 1.0,
            "small_images": options.small_images,
            "pairs": "uniform random pairs of distinct samples, seeded",
            "implementation": "pytorch_msssim.ms_ssim",
        },
    )
