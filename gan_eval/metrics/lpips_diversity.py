"""LPIPS diversity: the mean LPIPS distance between random pairs of samples (higher = more diverse).

As reported by Nguyen et al., "Bidirectional Mapping Shaping (BMS-VAE-GAN)" (Table 9: mean LPIPS distance
between pairs within 5k samples; the paper does not say how many pairs, here ``pairs``, default 5,000, with
the standard error reported) and, earlier, by BicycleGAN (Zhu et al. 2017) and MUNIT. The distance is LPIPS v0.1
(:mod:`gan_eval.features.lpips_net`, AlexNet backbone by default, VGG-16 optional). Pairs (i, j), i != j, are
drawn uniformly from a seed, as for :mod:`~gan_eval.metrics.ms_ssim`.

Value range: LPIPS reads images in [-1, 1]; samples are read in their stated range, mapped to [0, 1], then to
[-1, 1] by 2x - 1 (the package's ``normalize=True``). Grayscale images are repeated to three channels.
Proven by ``tests/test_lpips_diversity.py`` (the network against a closed form and the ``lpips`` package).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np
import torch

from gan_eval.errors import GanEvalError
from gan_eval.features.lpips_net import LPIPS, load_lpips, min_side
from gan_eval.io.images import to_unit_float
from gan_eval.metrics.base import MetricResult, ScoreRequest, register_metric
from gan_eval.metrics.pairs import image_samples, mean_over_pairs, scores_of_random_pairs
from gan_eval.options import positive


def lpips_input(batch: torch.Tensor, value_range: str, name: str) -> torch.Tensor:
    """An image batch in ``value_range`` as float32 N x 3 x H x W in [-1, 1] (grayscale repeated)."""
    x = to_unit_float(batch, value_range, name) * 2 - 1
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    if x.shape[1] != 3:
        raise GanEvalError(f"{name}: LPIPS reads RGB or grayscale images; these have {x.shape[1]} channels")
    return x


def lpips_diversity(
    images: np.ndarray,
    model: LPIPS,
    pairs: int = 5_000,
    *,
    seed: int = 0,
    value_range: str = "0,1",
    batch: int = 64,
    device: torch.device | str = "cpu",
    name: str = "images",
    progress: Callable[..., Iterable] | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(first, second, LPIPS distance) of ``pairs`` seeded random pairs of distinct images of ``images``
    (``value_range``: theirs, one of :data:`~gan_eval.io.ranges.RANGES`)."""
    side = min(lpips_input(torch.from_numpy(images[:1]), value_range, name).shape[-2:])
    if side < min_side(model.net):
        raise GanEvalError(
            f"{name}: images with a {side}-pixel side are too small for the LPIPS {model.net} backbone (side >= {min_side(model.net)})"
        )

    def distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return model(lpips_input(a, value_range, name).to(device), lpips_input(b, value_range, name).to(device))

    return scores_of_random_pairs(images, pairs, seed, distance, batch=batch, metric="lpips-diversity", progress=progress)


@dataclass
class LPIPSDiversityOptions:
    """``net``: alex (default, the package's) or vgg. ``pairs``: random pairs of distinct samples averaged.
    ``linear``: the lpips v0.1 linear-layer weights file (default: in the ``--weights`` file, else
    $GAN_EVAL_LPIPS_LINEAR, else the installed lpips package's). ``batch``: pairs per pass (memory only)."""

    net: str = "alex"
    pairs: int = positive(5_000)
    linear: str | None = None
    batch: int = positive(64)


@register_metric(
    "lpips-diversity",
    options=LPIPSDiversityOptions,
    summary="mean LPIPS distance of random sample pairs (higher = more diverse)",
    statistic="the samples' images (random pairs are scored by the LPIPS network)",
    reduction="gather",
)
def evaluate(request: ScoreRequest, options: LPIPSDiversityOptions) -> MetricResult:
    source = image_samples(request.samples, options.pairs, "lpips-diversity")
    if request.features is not None:
        raise GanEvalError("--features does not apply to lpips-diversity, which reads images with the LPIPS network; choose its backbone with --set net=alex|vgg")
    value_range = request.range_of(source)
    model, described = load_lpips(options.net, request.weights, options.linear, request.device)
    _, _, distances = lpips_diversity(
        source.array(), model, options.pairs, seed=request.seed, value_range=value_range.range, batch=options.batch,
        device=request.device, name=source.name, progress=request.progress,
    )
    return MetricResult(
        metric="lpips-diversity",
        values=mean_over_pairs(distances, "lpips"),
        protocol={
            "samples": source.name,
            "n_samples": len(source),
            "lpips": described,
            "pairs": "uniform random pairs of distinct samples, seeded",
            "seed": request.seed,
            "input": f"{value_range.range} -> [0, 1] -> [-1, 1] by 2x - 1 (lpips normalize=True); grayscale repeated to RGB",
            "implementation": "plain-torch LPIPS v0.1 (no torchvision); equals the lpips package on the same weights",
        },
    )
