"""FID / KID / IS and the TF-faithful Inception against torch-fidelity 0.4.0, pytorch-fid and scipy.

The same randomly initialised Inception weights are written to one file in the published key format and given
to gan-eval and to torch-fidelity; images are small random uint8 sets so the test stays quick on CPU.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
from conftest import stub_torchvision

import gan_eval
from gan_eval.errors import GanEvalError
from gan_eval.features.inception import FIDInceptionV3, Inception, fold_batch_norms, resize_clean_bicubic, resize_tf1_bilinear
from gan_eval.io.stats_file import save_stats
from gan_eval.metrics.fid import frechet_distance
from gan_eval.metrics.inception_score import inception_score
from gan_eval.metrics.kid import kernel_inception_distance
from gan_eval.ops.sqrtm_trace import sqrtm_trace
from gan_eval.stats.gaussian import GaussianStats

stub_torchvision()  # before any peer import, whichever test a pytest-xdist worker runs first

N = 10


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-30)


@pytest.fixture(scope="module")
def weights(inception_weights):
    return inception_weights


@pytest.fixture(scope="module")
def images():
    """Two different uint8 image sets (N x 32 x 32 x 3): uniform noise, and darker smoothed noise."""
    rng = np.random.RandomState(0)
    a = rng.randint(0, 256, (N, 32, 32, 3)).astype(np.uint8)
    b = rng.randint(0, 256, (N, 16, 16, 3)).repeat(2, 1).repeat(2, 2) // 2 + 20
    return a, b.astype(np.uint8)


@pytest.fixture(scope="module")
def peer(weights, images):
    """torch-fidelity's pool and unbiased logits of both sets."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    net = FeatureExtractorInceptionV3(
        "inception-v3-compat", ["2048", "logits_unbiased"], feature_extractor_weights_path=str(weights)
    )
    out = []
    with torch.no_grad():
        for x in images:
            pool, logits = net(torch.from_numpy(x).permute(0, 3, 1, 2).contiguous())
            out.append({"pool": pool, "logits_unbiased": logits})
    return out


@pytest.fixture(scope="module")
def ours(weights, images):
    net = Inception(weights=weights)
    return [net(torch.from_numpy(x).permute(0, 3, 1, 2).float() / 255) for x in images]


def test_inception_features_match_torch_fidelity(ours, peer):
    for mine, theirs in zip(ours, peer):
        for layer in ("pool", "logits_unbiased"):
            assert theirs[layer].std() > 1e-3  # the random network still tells images apart
            torch.testing.assert_close(mine[layer], theirs[layer], atol=1e-4, rtol=1e-4)


def test_fid_matches_torch_fidelity(weights, images, ours, peer, tmp_path):
    """End to end (samples as an array, reference as our statistics file) against the FID of torch-fidelity's
    features in closed form: with S1 = A^T A, S2 = B^T B (A, B the centred features / sqrt(n - 1)),
    tr sqrt(S1 S2) = ||A B^T||_* (nuclear norm), cheap for n << 2048. torch-fidelity's own FID formula is
    checked against ours on 64-d statistics below."""
    a, b = (p["pool"].double() for p in peer)
    ca, cb = (a - a.mean(0)) / (len(a) - 1) ** 0.5, (b - b.mean(0)) / (len(b) - 1) ** 0.5
    diff = a.mean(0) - b.mean(0)
    expected = float(diff @ diff + (ca**2).sum() + (cb**2).sum() - 2 * torch.linalg.matrix_norm(ca @ cb.T, "nuc"))
    described = Inception(weights=weights).describe()
    reference = GaussianStats.of(ours[1]["pool"], {"extractor": described, "layer": "pool"})
    save_stats(tmp_path / "real.npz", reference)
    with pytest.warns(UserWarning, match="singular covariance"):
        result = gan_eval.score(images[0], "fid", reference=str(tmp_path / "real.npz"), weights=weights)
    assert expected > 1e-3
    assert _rel(result["fid"], expected) < 1e-4
    assert result.protocol["features"]["resize"] == "tf1"


@pytest.mark.parametrize("n", [500, 40])  # full rank and singular (n < dim)
def test_frechet_distance_matches_torch_fidelity_formula(n):
    from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric

    rng = np.random.RandomState(n)
    x, y = torch.from_numpy(rng.rand(n, 64)), torch.from_numpy(rng.rand(n, 64) ** 2)
    a, b = fid_features_to_statistics(x), fid_features_to_statistics(y)
    expected = fid_statistics_to_metric(a, b, verbose=False)["frechet_inception_distance"]
    ours = frechet_distance(*(torch.from_numpy(v) for v in (a["mu"], a["sigma"], b["mu"], b["sigma"])))
    assert _rel(ours, expected) < 1e-6


def test_kid_matches_torch_fidelity(ours, peer):
    from torch_fidelity.metric_kid import kid_features_to_metric

    settings = dict(kid_subsets=7, kid_subset_size=6, kid_kernel="poly", kid_kernel_poly_degree=3,
                    kid_kernel_poly_gamma=None, kid_kernel_poly_coef0=1, rng_seed=5, verbose=False)
    expected = kid_features_to_metric(peer[0]["pool"], peer[1]["pool"], **settings)
    mean, std = kernel_inception_distance(ours[0]["pool"], ours[1]["pool"], subsets=7, subset_size=6, seed=5)
    assert _rel(mean, expected["kernel_inception_distance_mean"]) < 1e-4
    assert _rel(std, expected["kernel_inception_distance_std"]) < 1e-3  # a spread of 7 values, kernels in float32 there


def test_is_matches_torch_fidelity(weights, images, peer):
    from torch_fidelity.metric_isc import isc_features_to_metric

    expected = isc_features_to_metric(peer[0]["logits_unbiased"], splits=5, shuffle=True, rng_seed=2020)
    result = gan_eval.score(images[0], "is", seed=2020, weights=weights, splits=5)
    assert _rel(result["is"], expected["inception_score_mean"]) < 1e-4
    assert _rel(result["is_std"], expected["inception_score_std"]) < 1e-4
    unshuffled = inception_score(peer[0]["logits_unbiased"], splits=5, seed=None)
    assert unshuffled[0] > 1.0


@pytest.mark.parametrize("n", [300, 64, 40])  # full rank, borderline, rank-deficient (n < dim)
def test_sqrtm_trace_matches_scipy_sqrtm(n):
    rng = np.random.RandomState(n)
    d = 64
    s1 = np.cov(rng.randn(n, d), rowvar=False)
    s2 = np.cov(rng.randn(n, d) @ rng.randn(d, d) * 0.3, rowvar=False)
    expected = np.trace(scipy.linalg.sqrtm(s1 @ s2)).real
    assert _rel(float(sqrtm_trace(torch.from_numpy(s1), torch.from_numpy(s2))), expected) < 1e-6
    assert _rel(float(sqrtm_trace(torch.from_numpy(s2), torch.from_numpy(s1))), expected) < 1e-6


@pytest.mark.filterwarnings("ignore:The `disp` argument")  # pytorch-fid's call into new scipy
def test_pytorch_fid_npz_gives_same_fid_as_our_stats(tmp_path):
    """Pixel features (192-d, n = 400: non-singular); the peer is pytorch-fid's calculate_frechet_distance."""
    from pytorch_fid.fid_score import calculate_frechet_distance

    rng = np.random.RandomState(1)
    fake = rng.randint(0, 256, (400, 8, 8, 3)).astype(np.uint8)
    real = (rng.rand(400, 8, 8, 3) ** 2 * 255).astype(np.uint8)
    features = (torch.from_numpy(real).permute(0, 3, 1, 2).reshape(400, -1).float() / 255).double()
    ours = gan_eval.score(fake, "fid", reference=_pixel_stats(real, tmp_path / "ours.npz"), features="pixels")
    mu, sigma = features.mean(0).numpy(), np.cov(features.numpy(), rowvar=False)
    np.savez(tmp_path / "torch_fid.npz", mu=mu, sigma=sigma)
    theirs = gan_eval.score(fake, "fid", reference=str(tmp_path / "torch_fid.npz"), features="pixels")
    fake_features = (torch.from_numpy(fake).permute(0, 3, 1, 2).reshape(400, -1).float() / 255).double().numpy()
    expected = calculate_frechet_distance(fake_features.mean(0), np.cov(fake_features, rowvar=False), mu, sigma)
    assert _rel(ours["fid"], theirs["fid"]) < 1e-9
    assert _rel(ours["fid"], expected) < 1e-6


def _pixel_stats(images: np.ndarray, path) -> str:
    from gan_eval.features.pixels import Pixels
    from gan_eval.io.samples import as_source
    from gan_eval.stats.collect import collect_statistics

    stats, _ = collect_statistics(as_source(images), Pixels(), "pixels", batch_size=64, device="cpu")
    save_stats(path, stats)
    return str(path)


def test_stats_of_another_extractor_are_refused(weights, images, tmp_path):
    """An explicit --features that disagrees with the statistics (without it, the recorded pixels are used)."""
    reference = _pixel_stats(images[1], tmp_path / "pixels.npz")
    with pytest.raises(GanEvalError, match="different feature extractors"):
        gan_eval.score(images[0][:2], "fid", reference=reference, features="inception", weights=weights)


def test_clean_resize_matches_clean_fid():
    from cleanfid.resize import make_resizer

    rng = np.random.RandomState(3)
    image = rng.randint(0, 256, (32, 32, 3)).astype(np.uint8)
    expected = make_resizer("PIL", False, "bicubic", (299, 299))(image)
    ours = resize_clean_bicubic(torch.from_numpy(image).permute(2, 0, 1)[None].float())
    np.testing.assert_allclose(ours[0].permute(1, 2, 0).numpy(), expected, atol=1e-4)


@pytest.mark.parametrize("shape", [(2, 3, 32, 32), (1, 3, 377, 500), (1, 3, 299, 299), (2, 3, 28, 41)])
def test_tf1_resize_is_bit_identical_to_torch_fidelity(shape):
    """Up- and down-sampling, non-square, and 299 itself: equal bit for bit to torch-fidelity 0.4.0's
    ``interpolate_bilinear_2d_like_tensorflow1x`` (the port of TF 1.x's kernel it feeds its Inception)."""
    from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x

    x = torch.from_numpy(np.random.RandomState(4).randint(0, 256, shape).astype(np.float32))
    expected = interpolate_bilinear_2d_like_tensorflow1x(x, size=(299, 299), align_corners=False)
    assert torch.equal(resize_tf1_bilinear(x), expected)


def test_batch_norm_folding_is_exact_algebra():
    """Closed form: the folded network equals the conv-BN-ReLU network in float64 to round-off, with running
    statistics calibrated on random images and random batch-norm scales and shifts (the published weights have
    non-trivial shifts; the random test weights have none), so features vary with the image."""
    torch.manual_seed(5)
    net = FIDInceptionV3().double()
    norms = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    x = torch.rand(2, 3, 75, 75, dtype=torch.float64) * 2 - 1  # the smallest input the network takes
    with torch.no_grad():
        for norm in norms:
            norm.momentum = None  # cumulative averages over the calibration pass
        net.train().pool(torch.rand(4, 3, 75, 75, dtype=torch.float64) * 2 - 1)
        for norm in norms:
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.normal_(0, 0.3)
        expected = net.eval().pool(x)
        folded = fold_batch_norms(net).pool(x)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())
    scale = expected.abs().max().item()
    assert (expected[0] - expected[1]).abs().max() > 1e-3 * scale  # the check is not of a constant output
    torch.testing.assert_close(folded, expected, rtol=1e-10, atol=1e-10 * scale)


def test_streaming_frechet_distance_equals_score():
    from gan_eval.streaming import FrechetDistance

    rng = np.random.RandomState(2)
    real = torch.from_numpy(rng.rand(300, 3, 6, 6).astype(np.float32))
    fake = torch.from_numpy(rng.rand(300, 3, 6, 6).astype(np.float32) ** 2)
    fid = FrechetDistance("pixels")
    for i in range(0, 300, 70):
        fid.update(real=real[i : i + 70], fake=fake[i : i + 70])
    whole = GaussianStats.of(real.reshape(300, -1))
    expected = gan_eval.score(fake.numpy(), "fid", reference=_saved(whole), features="pixels")["fid"]
    assert _rel(fid.compute(), expected) < 1e-9


def _saved(stats: GaussianStats) -> str:
    import tempfile

    from gan_eval.features.pixels import Pixels

    stats.meta = {"extractor": Pixels().describe(), "layer": "pixels"}
    path = tempfile.mkdtemp() + "/real.npz"
    save_stats(path, stats)
    return path
