"""Known-mixture references against their published definitions (PROTOCOLS.md) and scikit-learn's make_moons."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gan_eval.errors import GanEvalError
from gan_eval.references import REFERENCES, get_reference, hq_radius
from gan_eval.references.moons import make_moons_points


def test_ring8_means_match_pacgan_definition():
    """PacGAN 2DRing: (cos 2 pi k/8, sin 2 pi k/8), radius 1, std 0.01."""
    ref = get_reference("ring8")
    k = np.arange(8)
    expected = np.stack([np.cos(2 * np.pi * k / 8), np.sin(2 * np.pi * k / 8)], 1)
    np.testing.assert_allclose(ref.centres(), expected, atol=1e-12)
    assert ref.std == 0.01


def test_ring8_linspace_is_the_unrolled_notebook_and_gdpp_ring():
    """poolio/unrolled_gan's sample_mog (every version) and GDPP's sample_ring: thetas = linspace(0, 2 pi, 8),
    means (sin theta, cos theta) at radius 1, std 0.01. Closed form: theta_k = 2 pi k / 7, so theta_7 = theta_0
    and the 7 distinct locations are (sin 2 pi k/7, cos 2 pi k/7), k = 0..6, the first with weight 2/8."""
    ref = get_reference("ring8-linspace")
    k = np.arange(7)
    np.testing.assert_allclose(ref.centres(), np.stack([np.sin(2 * np.pi * k / 7), np.cos(2 * np.pi * k / 7)], 1), atol=1e-12)
    np.testing.assert_allclose(ref.weights.numpy(), [2 / 8] + [1 / 8] * 6)
    assert ref.std == 0.01 and ref.n_modes == 7


def test_ring8_r2_is_the_unrolled_paper_text_ring():
    """The unrolled-GAN paper's text: 8 modes on a circle of radius 2, std 0.02 (standard angles 2 pi k/8)."""
    ref = get_reference("ring8-r2")
    k = np.arange(8)
    np.testing.assert_allclose(ref.centres(), 2 * np.stack([np.cos(2 * np.pi * k / 8), np.sin(2 * np.pi * k / 8)], 1), atol=1e-12)
    assert ref.std == 0.02 and ref.n_modes == 8


def test_grid25_means_and_std():
    ref = get_reference("grid25")
    assert sorted(map(tuple, ref.centres().tolist())) == [(float(a), float(b)) for a in range(-4, 5, 2) for b in range(-4, 5, 2)]
    assert ref.std == 0.05


def test_hd1200_matches_pacgan_reconstruction():
    """x[:, :700] ~ N(0, I), x[:, 700:] = 0, then + MEANS[label] on all 1200 coordinates."""
    ref = get_reference("hd1200")
    x = ref.sample(2000, seed=3).double()
    index, _ = ref.assign(x)
    shifts = torch.tensor([-1, -0.5, 0, 0.5, -2, -2.5, 10, 0.25, -13, -5.5], dtype=torch.float64)[index]
    centred = x - shifts[:, None]
    assert centred[:, 700:].abs().max() < 1e-5
    assert abs(centred[:, :700].std().item() - 1.0) < 0.01


def test_moons_points_equal_sklearn_make_moons():
    """Our noise-free moons are sklearn's make_moons(n, shuffle=False) point for point (odd n too)."""
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    for n in (32, 101):
        theirs, _ = sklearn_datasets.make_moons(n, shuffle=False, noise=0.0)
        np.testing.assert_allclose(make_moons_points(n), theirs, atol=1e-12)


def test_moons_distance_to_arcs_closed_form():
    ref = get_reference("moons")
    points = torch.tensor([[0.0, 1.0], [0.0, 2.0], [1.0, -0.5], [-1.0, -1.0]])
    d = ref.distances(points).numpy()
    np.testing.assert_allclose(d[0, 0], 0.0, atol=1e-12)  # on the outer arc
    np.testing.assert_allclose(d[1, 0], 1.0, atol=1e-12)  # radially above it
    np.testing.assert_allclose(d[2, 1], 0.0, atol=1e-12)  # bottom of the inner arc
    np.testing.assert_allclose(d[3, 0], 1.0, atol=1e-12)  # below the outer arc's endpoint (-1, 0)


@pytest.mark.parametrize("name", REFERENCES.names())
def test_every_reference_samples_deterministically_and_covers_itself(name):
    ref = get_reference(name)
    a, b = ref.sample(3000, seed=7), ref.sample(3000, seed=7)
    assert torch.equal(a, b) and not torch.equal(a, ref.sample(3000, seed=8))
    index, is_hq = ref.assign(a)
    assert set(index[is_hq].tolist()) == set(range(ref.n_modes))
    assert is_hq.float().mean() > 0.97


def test_hq_radius_reduces_to_k_std_in_2d_and_matches_chi2_elsewhere():
    """Closed form: chi2(2) CDF is 1 - exp(-t/2), so the 2-D radius is exactly k."""
    from scipy.stats import chi2

    for k in (1.0, 2.0, 3.0):
        assert hq_radius(k, 2) == k
        assert math.isclose(chi2.cdf(hq_radius(k, 2) ** 2, 2), 1 - math.exp(-k * k / 2), rel_tol=1e-12)
        assert math.isclose(chi2.cdf(hq_radius(k, 700) ** 2, 700), 1 - math.exp(-k * k / 2), rel_tol=1e-9)


def test_custom_family_specs_and_errors():
    ref = get_reference("ring:n=6,radius=2,std=0.02")
    assert ref.n_modes == 6 and ref.std == 0.02
    assert get_reference("grid:side=3,spacing=1,std=0.1").n_modes == 9
    with pytest.raises(GanEvalError, match="did you mean 'ring8'"):
        get_reference("rnig8")
    with pytest.raises(GanEvalError, match="unknown parameter 'radiu'"):
        get_reference("ring:n=6,radiu=2")
    with pytest.raises(GanEvalError, match="not key=value"):
        get_reference("ring:6")
