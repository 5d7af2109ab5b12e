"""The size policy (issue 18, item 3) and the collapse guidance of PRDC and birthday (item 6).

The images and generators here are made in the test, shaped like a third-party MNIST GAN trained on digits resized
to 32 px; the peers are PIL's bilinear resize and closed forms.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn
from typer.testing import CliRunner

from gan_eval.cli import app
from gan_eval.errors import GanEvalError
from gan_eval.features.base import FEATURES
from gan_eval.io.generator_files import save_generator
from gan_eval.io.latent import LatentSpec
from gan_eval.io.resize import fit_images
from gan_eval.metrics.birthday import suggested_threshold
from gan_eval.metrics.prdc import prdc

runner = CliRunner()


def digits(n, size, seed=0):
    """uint8 N x size x size blobs: a bright square at a random place on black, like a digit on MNIST's background."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, size, size), np.uint8)
    for i, (r, c) in enumerate(rng.integers(size // 4, size // 2, (n, 2))):
        images[i, r : r + size // 3, c : c + size // 4] = rng.integers(150, 256)
    return images


def test_resize_policy_equals_pils_bilinear_and_crop_undoes_padding():
    """``resize`` agrees with PIL's BILINEAR resize (the peer) to 1e-5 from 32 and 64 px; ``crop`` takes the centre
    28 x 28 of a 2-px padded image exactly, and refuses 64 px with the fix."""
    x = torch.rand(3, 1, 64, 64, generator=torch.Generator().manual_seed(0))
    for size in (32, 64):
        source = x[..., :size, :size].contiguous()
        ours = fit_images(source, (28, 28), "resize", "the mnist classifier")[:, 0].numpy()
        pil = np.stack([np.asarray(Image.fromarray(img[0].numpy(), mode="F").resize((28, 28), Image.BILINEAR)) for img in source])
        np.testing.assert_allclose(ours, pil, atol=1e-5)
    inner = torch.rand(3, 1, 28, 28)
    assert torch.equal(fit_images(nn.functional.pad(inner, (2, 2, 2, 2)), (28, 28), "crop", "net"), inner)
    with pytest.raises(GanEvalError, match=r"images are 64x64 but net takes 28x28 .*--set resize=resize"):
        fit_images(x, (28, 28), "crop", "net")


def test_fid_states_what_preprocessing_changed_and_lets_the_user_choose(tmp_path):
    """32-px samples against 28-px references: the human table says they were centre-cropped (default) or resized
    (--set resize=resize, recorded in the features' description); 64-px samples are one error line naming the file
    and the fix, exit 2."""
    np.savez(tmp_path / "ref.npz", images=digits(300, 28, seed=1))
    np.savez(tmp_path / "g32.npz", images=digits(300, 32))
    np.savez(tmp_path / "g64.npz", images=digits(300, 64))
    base = ["--metric", "fid", "--features", "mnist", "--reference", str(tmp_path / "ref.npz"), "--device", "cpu", "--set", "cache=false"]
    table = runner.invoke(app, ["score", str(tmp_path / "g32.npz"), *base])
    assert table.exit_code == 0, table.output
    assert "note: 32x32 images centre-cropped to 28x28 (resize=crop); --set resize=crop|resize chooses" in table.output
    resized = runner.invoke(app, ["score", str(tmp_path / "g32.npz"), *base, "--set", "resize=resize", "--json"])
    assert resized.exit_code == 0, resized.output
    features = json.loads(resized.stdout)["protocol"]["features"]
    assert features["resize"] == "resize" and features["changed"] == ["32x32 images resized (bilinear, antialiased) to 28x28 (resize=resize)"]
    assert json.loads(resized.stdout)["values"]["fid"] != pytest.approx(float(table.output.split("\n")[2].split()[-1]), abs=1e-3)
    bad = runner.invoke(app, ["score", str(tmp_path / "g64.npz"), *base])
    lines = bad.output.strip().splitlines()
    assert bad.exit_code == 2 and len(lines) == 1
    assert lines[0].startswith(f"error: {tmp_path / 'g64.npz'}: images are 64x64 but the mnist classifier takes 28x28") and "--set resize=resize" in lines[0]


class Constant32(nn.Module):
    """A third-party-style generator: constructor arguments, N x d x 1 x 1 latents, 32 x 32 outputs in [0, 1]."""

    def __init__(self, image: torch.Tensor, latent_dim: int = 3) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.image = nn.Parameter(image)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.image.expand(z.shape[0], -1, -1, -1) + 0 * z.sum((1, 2, 3)).view(-1, 1, 1, 1)


def test_ivom_fits_a_32px_generator_to_28px_test_images_by_the_same_policy(tmp_path):
    """IvOM with FID's policy: a constant 32-px generator c against 28-px test images gives the closed-form
    MSE mean((x - centre28(c))^2) under crop, and mean((x - resize28(c))^2) under resize; the protocol says so."""
    rng = torch.Generator().manual_seed(0)
    c = torch.rand(1, 32, 32, generator=rng)
    images = torch.rand(12, 1, 28, 28, generator=rng)
    save_generator(Constant32(c), LatentSpec(3, value_range="0,1"), tmp_path / "g.pt2", example=torch.randn(2, 3, 1, 1))
    np.savez(tmp_path / "test.npz", images=images.numpy())
    for policy, fitted in (("crop", c[:, 2:30, 2:30]), ("resize", fit_images(c[None], (28, 28), "resize", "")[0])):
        result = runner.invoke(app, ["score", str(tmp_path / "g.pt2"), "--metric", "ivom", "--reference", str(tmp_path / "test.npz"),
                                     "--set", f"resize={policy}", "--set", "steps=2", "--json", "--device", "cpu"])
        assert result.exit_code == 0, result.output
        out = json.loads(result.stdout)
        expected = float(((images - fitted) ** 2).flatten(1).mean(1).double().mean())
        assert out["values"]["mse"] == pytest.approx(expected, rel=1e-5)
        assert out["protocol"]["resize"] == policy and out["protocol"]["changed"][0].startswith("generator's 32x32 images")


def test_precision_and_density_reward_collapse_while_recall_and_coverage_reveal_it():
    """What the help says, on a closed case: all fakes at one typical real point give precision 1 and density
    above 1 but recall and coverage near 0 (1/N-scale); `gan-eval metrics` states which figures reveal collapse."""
    real = torch.randn(500, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    collapsed = real[:1].repeat(500, 1) + 1e-6 * torch.randn(500, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    found = prdc(real, collapsed, k=5)
    assert found.precision == 1.0 and found.density > 1.0
    assert found.recall < 0.02 and found.coverage < 0.02
    listing = runner.invoke(app, ["metrics"]).output
    assert "recall and coverage reveal mode collapse" in " ".join(listing.split())


def test_birthday_states_its_distance_scale_and_suggests_a_threshold_from_the_reference(tmp_path):
    """A reference on a lattice of spacing 0.5 has every nearest-pair distance 0.5: the suggested threshold is 0.5
    (closed form); samples with 10 planted duplicate pairs (distance 1e-4) are all found at that threshold."""
    grid = np.stack(np.meshgrid(np.arange(20), np.arange(20)), -1).reshape(-1, 2) * 0.5
    assert suggested_threshold(torch.from_numpy(grid).double()) == pytest.approx(0.5)
    rng = np.random.default_rng(0)
    samples = rng.uniform(0, 1000, (200, 2))  # chance of a random pair within 0.5: about 0.016
    samples[100:110] = samples[:10] + 1e-4
    np.savez(tmp_path / "s.npz", samples=samples)
    np.savez(tmp_path / "ref.npz", samples=grid)
    result = runner.invoke(app, ["score", str(tmp_path / "s.npz"), "--metric", "birthday", "--reference", str(tmp_path / "ref.npz"), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["values"]["suggested_threshold"] == pytest.approx(0.5) and out["values"]["median_nearest_distance"] > 1.0
    assert out["protocol"]["distance_scale"] == "Euclidean in the as given space (2 dims)"
    again = runner.invoke(app, ["score", str(tmp_path / "s.npz"), "--metric", "birthday", "--set", "threshold=0.5", "--json"])
    assert json.loads(again.stdout)["values"]["duplicate_pairs"] == 10


def test_mnist_extractor_records_the_policy_only_when_not_the_default():
    """Statistics made before the policy existed (no ``resize`` key) stay comparable with the default ``crop``."""
    assert "resize" not in FEATURES.get("mnist")().describe()
    assert FEATURES.get("mnist")(resize="resize").describe()["resize"] == "resize"
    with pytest.raises(GanEvalError, match="--set resize=crop or --set resize=resize"):
        FEATURES.get("mnist")(resize="bicubic")
