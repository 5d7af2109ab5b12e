"""MS-SSIM diversity: equals pytorch-msssim on the same pairs to 1e-5, identical pairs give 1, its single scale
equals scikit-image's SSIM, small images fail clearly or are upsampled; the CLI command of the issue."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from typer.testing import CliRunner

from gan_eval.api import score
from gan_eval.cli import app
from gan_eval.errors import GanEvalError
from gan_eval.metrics.ms_ssim import ms_ssim, ms_ssim_diversity, upsample_factor
from gan_eval.metrics.pairs import random_pairs


def smooth_images(n: int, size: int, channels: int, seed: int) -> np.ndarray:
    """Blurred noise in [0, 1] (structure at several scales, unlike white noise), uint8 N x H x W x C."""
    g = torch.Generator().manual_seed(seed)
    x = F.avg_pool2d(torch.rand(n, channels, size + 8, size + 8, generator=g), 9, stride=1)
    x = (x - x.amin()) / (x.amax() - x.amin())
    return (x * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def test_diversity_equals_pytorch_msssim_on_the_same_pairs():
    from pytorch_msssim import ms_ssim as peer

    images = smooth_images(8, 168, 3, 0)
    first, second, scores = ms_ssim_diversity(images, 8, seed=1)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).double() / 255
    expected = peer(x[first], x[second], data_range=1.0, size_average=False)
    assert torch.allclose(scores, expected, atol=1e-5, rtol=0)
    assert not torch.equal(first, second) and bool((first != second).all())


def test_identical_pairs_give_one():
    x = torch.from_numpy(smooth_images(3, 170, 1, 2)).permute(0, 3, 1, 2).float() / 255
    assert torch.allclose(ms_ssim(x, x), torch.ones(3), atol=1e-6)


def test_single_scale_equals_scikit_image_ssim():
    """The SSIM under MS-SSIM (Gaussian 11 x 11 window, sigma 1.5, valid region) against scikit-image."""
    from pytorch_msssim import ssim
    from skimage.metrics import structural_similarity

    a, b = smooth_images(2, 64, 1, 3)[..., 0] / 255.0
    ours = ssim(torch.from_numpy(a)[None, None], torch.from_numpy(b)[None, None], data_range=1.0)
    ref = structural_similarity(a, b, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
    assert float(ours) == pytest.approx(ref, abs=1e-5)


def test_small_images_error_names_the_fix_and_upsample_matches_explicit_upsampling():
    from pytorch_msssim import ms_ssim as peer

    images = smooth_images(6, 28, 1, 4)
    with pytest.raises(GanEvalError, match="small_images=upsample"):
        ms_ssim_diversity(images, 4)
    first, second, scores = ms_ssim_diversity(images, 4, small_images="upsample")
    assert upsample_factor(28, 28) == 6 and upsample_factor(32, 32) == 6
    x = F.interpolate(torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255, scale_factor=6, mode="bilinear")
    assert torch.allclose(scores, peer(x[first], x[second], data_range=1.0, size_average=False).double(), atol=1e-5)


def test_pairs_are_seeded_and_distinct():
    a, b = random_pairs(5, 1000, seed=0)
    assert bool((a != b).all()) and set(a.tolist()) == set(range(5))
    assert torch.equal(random_pairs(5, 1000, seed=0)[1], b)


def test_collapsed_samples_score_higher_than_diverse_ones():
    diverse = smooth_images(20, 168, 1, 5)
    collapsed = np.repeat(diverse[:1], 20, axis=0)
    collapsed[1::2] = np.clip(collapsed[1::2].astype(int) + 3, 0, 255).astype(np.uint8)
    low, high = score(diverse, "ms-ssim", pairs=16), score(collapsed, "ms-ssim", pairs=16)
    assert high.values["ms_ssim"] > 0.95 > low.values["ms_ssim"]


def test_cli_ms_ssim(tmp_path):
    np.savez(tmp_path / "fake.npz", images=smooth_images(8, 32, 3, 6))
    args = ["score", str(tmp_path / "fake.npz"), "--metric", "ms-ssim", "--set", "pairs=6", "--set", "small_images=upsample", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    values = json.loads(result.stdout)["values"]
    assert values["pairs"] == 6 and 0.0 <= values["ms_ssim"] <= 1.0
    result = CliRunner().invoke(app, args[:4])
    assert result.exit_code == 2 and "too small" in result.output
