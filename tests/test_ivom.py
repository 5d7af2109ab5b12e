"""IvOM: closed forms (a generator that can make every image; a collapsed one), per-image independence of the
batched optimisation, and the row-wise L-BFGS against closed-form minimisers."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from gan_eval.cli import app
from gan_eval.io.generator_files import save_generator
from gan_eval.io.latent import LatentSpec
from gan_eval.metrics.ivom import ivom, start_latents
from gan_eval.ops.row_minimise import adam_rows, lbfgs_rows

runner = CliRunner()
SHAPE = (1, 6, 6)


class TinyGenerator(nn.Module):
    """A small nonlinear generator z (4) -> 1 x 6 x 6 images in [0, 1]: many local minima, cheap to run."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 36), nn.Sigmoid())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, *SHAPE)


class Constant(nn.Module):
    """A fully collapsed generator: the same image for every z."""

    def __init__(self, image: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("image", image)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.image.expand(z.shape[0], -1, -1, -1) + 0.0 * z.sum(1).view(-1, 1, 1, 1)


def tiny_problem(n: int, seed: int = 1):
    """TinyGenerator and n test images: generator outputs of random latents plus noise, so not exactly reachable."""
    g = TinyGenerator().eval()
    rng = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        images = (g(2 * torch.randn(n, 4, generator=rng)) + 0.1 * torch.randn(n, *SHAPE, generator=rng)).clamp(0, 1)
    return g, images


def test_linear_generator_reaches_zero_on_images_in_its_range():
    """G(z) = A z + b: every test image is G(z*) for some z*, so the minimum MSE is 0 (closed form)."""
    torch.manual_seed(0)
    d, shape = 6, (3, 5, 5)
    a, b = 0.03 * torch.randn(75, d), torch.full((75,), 0.5)

    def generate(z):
        return (z @ a.T + b).view(-1, *shape)

    images = generate(torch.randn(40, d))
    assert images.min() >= 0 and images.max() <= 1  # the images are valid [0, 1] images in G's range
    for optimizer, steps in (("lbfgs", None), ("adam", 1500)):
        found = ivom(generate, images, d, optimizer=optimizer, steps=steps, lr=0.05)
        assert found.mse.max() < (1e-9 if optimizer == "lbfgs" else 1e-6), optimizer


@pytest.mark.parametrize("suffix", [".pt2", ".pt"])
def test_collapsed_generator_gives_the_closed_form_mse(tmp_path, suffix):
    """A constant generator c: MSE(x) = mean((x - c)^2) for every image, whatever the optimiser does; end to end
    through the CLI (the torch.export file and the TorchScript one) with the per-image array, the grid figure and
    mean / sem."""
    rng = torch.Generator().manual_seed(0)
    c = torch.rand(*SHAPE, generator=rng)
    images = torch.rand(30, *SHAPE, generator=rng)
    expected = ((images - c) ** 2).flatten(1).mean(1).double()
    gen = tmp_path / f"const{suffix}"
    save_generator(Constant(c), LatentSpec(3, "normal", value_range="0,1"), gen.with_suffix(".pt2"))
    test = tmp_path / "test.npz"
    np.savez(test, images=(images.numpy()[:, 0] * 2 - 1))  # grayscale N x H x W on [-1, 1]: any layout is read
    out = tmp_path / "ivom.png"
    result = runner.invoke(app, ["score", str(gen), "--metric", "ivom", "--reference", str(test), "-o", str(out),
                                 "--json", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    values = json.loads(result.stdout)["values"]
    per_image = np.load(tmp_path / "ivom.npz")["mse"]
    np.testing.assert_allclose(per_image, expected.numpy(), rtol=1e-5, atol=1e-7)
    assert values["mse"] == pytest.approx(float(expected.mean()), rel=1e-5)
    assert values["sem"] == pytest.approx(float(expected.std() / np.sqrt(30)), rel=1e-4)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_batched_ivom_equals_the_per_image_loop(optimizer):
    """One batch of 24 images x 3 restarts gives each image what running it alone from the same starts gives."""
    g, images = tiny_problem(24)
    starts = start_latents(24, 4, 3, seed=0)
    kwargs = dict(optimizer=optimizer, steps=40 if optimizer == "lbfgs" else 200)
    batched = ivom(g, images, 4, starts=starts, **kwargs)
    alone = torch.cat([ivom(g, images[i : i + 1], 4, starts=starts[i : i + 1], **kwargs).mse for i in range(24)])
    torch.testing.assert_close(batched.mse, alone, rtol=0, atol=1e-6)
    assert batched.mse.std() > 1e-3  # the images differ, so equality is not trivial


def test_an_images_result_does_not_depend_on_its_batch():
    """The same image in a batch of 1, of 7 and of 500 (with different neighbours) gets the same result."""
    g, images = tiny_problem(500)
    subsets = {500: images, 7: images[:70], 1: images[:14]}  # image i's start latents depend only on the seed and i
    results = {size: ivom(g, subset, 4, steps=40, seed=3, batch_size=size) for size, subset in subsets.items()}
    for size in (7, 1):
        k = len(results[size].mse)
        torch.testing.assert_close(results[size].mse, results[500].mse[:k], rtol=0, atol=1e-6)
    assert (results[500].restart != 0).any()  # restarts matter here: the best one is kept per image


def test_row_lbfgs_finds_closed_form_minimisers():
    """Per-row quadratics 1/2 z'Q_b z - c_b'z (minimiser Q_b^-1 c_b) and shifted Rosenbrock rows (minimiser (a_b, a_b^2)),
    all in one batch, each to its own closed-form minimiser."""
    torch.manual_seed(0)
    rows, d = 50, 5
    m = torch.randn(rows, d, d, dtype=torch.float64)
    q = m @ m.transpose(1, 2) + 0.5 * torch.eye(d, dtype=torch.float64)
    c = torch.randn(rows, d, dtype=torch.float64)

    def quadratic(z, idx):
        return 0.5 * torch.einsum("bi,bij,bj->b", z, q[idx], z) - (c[idx] * z).sum(1)

    found = lbfgs_rows(quadratic, torch.randn(rows, d, dtype=torch.float64), iterations=200, tolerance_change=1e-14)
    torch.testing.assert_close(found.z, torch.linalg.solve(q, c), rtol=0, atol=1e-6)

    a = 1 + torch.rand(rows, dtype=torch.float64)

    def rosenbrock(z, idx):
        return (a[idx] - z[:, 0]) ** 2 + 100 * (z[:, 1] - z[:, 0] ** 2) ** 2

    found = lbfgs_rows(rosenbrock, torch.randn(rows, 2, dtype=torch.float64), iterations=300, tolerance_change=1e-14)
    torch.testing.assert_close(found.z, torch.stack([a, a**2], 1), rtol=0, atol=1e-4)
    assert (found.iterations < 300).all()  # rows stop on their own tests


def test_adam_rows_keeps_the_best_iterate():
    """With a step far too large Adam oscillates; the loss reported per row is the best seen, never worse than the start."""
    z0 = torch.randn(10, 3)
    found = adam_rows(lambda z, idx: (z**2).sum(1), z0, steps=20, lr=10.0)
    assert (found.loss <= (z0**2).sum(1)).all()
    torch.testing.assert_close(found.loss, (found.z**2).sum(1))


def test_ivom_refuses_samples_files(tmp_path):
    samples = tmp_path / "s.npy"
    np.save(samples, np.zeros((4, 1, 6, 6), dtype=np.float32))
    result = runner.invoke(app, ["score", str(samples), "--metric", "ivom", "--reference", str(samples)])
    assert result.exit_code == 2 and "needs the generator itself" in result.output
