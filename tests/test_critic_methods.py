"""The GAN objective family (trainers/methods/critic.py), proven without training: each method's losses on fixed
inputs against the paper's formula written out here, f-GAN's bound and Fenchel's inequality, the penalties' closed
forms, spectral normalisation against LAPACK's largest singular value, clipping and critic-step counts."""
from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from trainers.losses import LOSSES
from trainers.methods import METHODS
from trainers.methods.base import DataShape, make_params
from trainers.methods.critic import F_DIVERGENCES, CriticGAN
from trainers.nets.spectral import SpectralNorm
from trainers.penalties import dual_exponent, sobolev_filter


FAMILY = ("wgan", "wgan-gp", "bwgan", "lsgan", "hinge", "sngan", "fgan")
VECTORS = DataShape((2,), "vector")
IMAGES = DataShape((3, 28, 28), "image", (0.0, 1.0))


def built(name: str, data: DataShape = VECTORS, seed: int = 0, **params: object) -> CriticGAN:
    small = {"hidden": 16, "batch_size": 8} if data.kind == "vector" else {"width": 2, "batch_size": 4}
    method = METHODS.get(name)(make_params(name, {**small, **params}), data, torch.device("cpu"))
    method.setup(torch.Generator().manual_seed(seed))
    return method


def fixed_logits() -> tuple[torch.Tensor, torch.Tensor]:
    return torch.tensor([[-2.0], [0.5], [3.0]]), torch.tensor([[-3.0], [-0.5], [2.0]])


def test_the_family_is_registered_on_vectors_and_images():
    assert set(FAMILY) <= set(METHODS.names())
    assert all(METHODS.get(name).data_kinds == ("vector", "image") for name in FAMILY)


# --- each loss on fixed inputs equals its paper's formula -------------------------------------------------------

def sigmoid(v: torch.Tensor) -> torch.Tensor:
    return 1 / (1 + torch.exp(-v))


# (D loss, G loss) of the mean logits r, f, written from each paper (D minimises, G minimises).
FORMULAS = {
    # Arjovsky et al. 2017 eq. 3 / Algorithm 1: D maximises E[D(x)] - E[D(G(z))], G maximises E[D(G(z))].
    "wgan": (lambda r, f: -r.mean() + f.mean(), lambda f: -f.mean()),
    # Lim & Ye 2017 / Miyato et al. 2018 eq. 16-17: E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))], G: -E[D(G(z))].
    "hinge": (lambda r, f: torch.clamp(1 - r, min=0).mean() + torch.clamp(1 + f, min=0).mean(), lambda f: -f.mean()),
    # Mao et al. 2017 eq. 9 (a, b, c) = (0, 1, 1) and eq. 8 (a, b, c) = (-1, 1, 0), with the paper's 1/2.
    "least-squares": (lambda r, f: 0.5 * ((r - 1) ** 2).mean() + 0.5 * (f ** 2).mean(), lambda f: 0.5 * ((f - 1) ** 2).mean()),
    "least-squares-pearson": (lambda r, f: 0.5 * ((r - 1) ** 2).mean() + 0.5 * ((f + 1) ** 2).mean(),
                              lambda f: 0.5 * (f ** 2).mean()),
    # Nowozin et al. 2016 eq. 6 with Table 2's g_f and f*; G: Sec. 3.2's -E[g_f(v)].
    "kl": (lambda r, f: -r.mean() + torch.exp(f - 1).mean(), lambda f: -f.mean()),
    "reverse-kl": (lambda r, f: torch.exp(-r).mean() + (-1 - torch.log(torch.exp(-f))).mean(), lambda f: torch.exp(-f).mean()),
    "js": (lambda r, f: -(math.log(2) - torch.log(1 + torch.exp(-r))).mean()
           - torch.log(2 - torch.exp(math.log(2) - torch.log(1 + torch.exp(-f)))).mean(),
           lambda f: -(math.log(2) - torch.log(1 + torch.exp(-f))).mean()),
    "pearson": (lambda r, f: -r.mean() + (f ** 2 / 4 + f).mean(), lambda f: -f.mean()),
    "squared-hellinger": (lambda r, f: -(1 - torch.exp(-r)).mean() + ((1 - torch.exp(-f)) / torch.exp(-f)).mean(),
                          lambda f: -(1 - torch.exp(-f)).mean()),
}
LOSS_CASES = [("wgan", {}, "wgan"), ("hinge", {}, "hinge"), ("sngan", {}, "hinge"), ("lsgan", {}, "least-squares"),
              ("lsgan", {"loss": "least-squares-pearson"}, "least-squares-pearson"),
              *[("fgan", {"divergence": d}, d) for d in F_DIVERGENCES]]


@pytest.mark.parametrize("name, params, formula", LOSS_CASES, ids=[f"{n}-{f}" for n, _, f in LOSS_CASES])
def test_method_losses_on_fixed_logits_equal_the_papers_formulas(name, params, formula):
    method = built(name, **params)
    real, fake = fixed_logits()
    d_formula, g_formula = FORMULAS[formula]
    x = torch.zeros(3, 2)
    torch.testing.assert_close(method.d_loss(x, x, real, fake, torch.Generator()), d_formula(real, fake))
    torch.testing.assert_close(method.g_loss(fake), g_formula(fake))


def test_dcgan_is_the_non_saturating_gan():
    """Radford et al.'s DCGAN trains Goodfellow's non-saturating game: D's cross-entropy, G minimising -log D(G(z))."""
    method = METHODS.get("dcgan")(make_params("dcgan", {"width": 2}), IMAGES, torch.device("cpu"))
    real, fake = fixed_logits()
    d = -(torch.log(sigmoid(real)).mean() + torch.log(1 - sigmoid(fake)).mean())
    torch.testing.assert_close(method.d_loss(real, fake), d)
    torch.testing.assert_close(method.g_loss(fake), -torch.log(sigmoid(fake)).mean())


def test_lsgan_on_vectors_is_the_authors_mixture_of_gaussians_code():
    """Checked against xudonmao/LSGAN ``stability_comparison/mixture_gaussian/ls.py`` (the LSGAN authors' 2-D code):
    G and D two hidden layers of 128 tanh units, orthogonal weights with gain 1.4 (W W^T = 1.96 I), z ~ N(0, I_256),
    batch 512, Adam D 1e-4 and G 1e-3 with beta1 0.5, both nets stepped from one forward pass. Images keep DCGAN's
    2e-4 for both and sequential steps; an explicit ``lr`` sets D's rate, ``g_lr`` G's (recorded resolved either way)."""
    method = METHODS.get("lsgan")(make_params("lsgan", {}), VECTORS, torch.device("cpu"))
    method.setup(torch.Generator().manual_seed(0))
    for net, sizes in (("G", [(256, 128), (128, 128), (128, 2)]), ("D", [(2, 128), (128, 128), (128, 1)])):
        layers = list(method.nets[net])
        assert [(m.in_features, m.out_features) for m in layers if isinstance(m, nn.Linear)] == sizes
        assert [type(m) for m in layers if not isinstance(m, nn.Linear)] == [nn.Tanh, nn.Tanh]
        hidden = layers[2].weight.detach()
        torch.testing.assert_close(hidden @ hidden.T, 1.4 ** 2 * torch.eye(128), atol=1e-5, rtol=0)
    assert (method.batch_size, method.latent_spec().latent_dim, method.update) == (512, 256, "simultaneous")
    rates = {name: (opt.param_groups[0]["lr"], opt.param_groups[0]["betas"]) for name, opt in method.opt.items()}
    assert rates == {"D": (1e-4, (0.5, 0.999)), "G": (1e-3, (0.5, 0.999))}
    images = built("lsgan", IMAGES)
    assert {name: opt.param_groups[0]["lr"] for name, opt in images.opt.items()} == {"D": 2e-4, "G": 2e-4}
    assert (images.update, images.latent_spec().latent_dim) == ("sequential", 100)
    assert {name: opt.param_groups[0]["lr"] for name, opt in built("lsgan", lr=3e-4).opt.items()} == {"D": 3e-4, "G": 1e-3}
    assert {name: opt.param_groups[0]["lr"] for name, opt in built("lsgan", lr=3e-4, g_lr=3e-4).opt.items()} == {"D": 3e-4, "G": 3e-4}


# --- f-GAN -------------------------------------------------------------------------------------------------------

# Nowozin et al. 2016 Table 1: the generator f of each divergence, and f'(1) (the optimal critic where P = Q).
F_OF = {
    "kl": (lambda u: u * np.log(u), 1.0),
    "reverse-kl": (lambda u: -np.log(u), -1.0),
    "js": (lambda u: -(u + 1) * np.log((1 + u) / 2) + u * np.log(u), 0.0),
    "pearson": (lambda u: (u - 1) ** 2, 0.0),
    "squared-hellinger": (lambda u: (np.sqrt(u) - 1) ** 2, 0.0),
}


@pytest.mark.parametrize("divergence", F_DIVERGENCES)
def test_f_gan_estimate_between_identical_batches_is_zero_at_the_optimal_critic(divergence):
    """D_f(P || P) = 0: the estimate E_P[T] - E_P[f*(T)] = -(D loss) is 0 at T = f'(1) (a constant critic, its logit
    found by inverting g_f numerically), and <= 0 for every other constant critic (the bound of eq. 4)."""
    method = built("fgan", divergence=divergence)
    _, t_optimal = F_OF[divergence]
    grid = torch.linspace(-3, 3, 6001, dtype=torch.float64)  # constant critics' logits v; T = g_f(v)
    real_term, fake_term = LOSSES.get(divergence).d_terms(grid, grid)
    assert float((-(real_term + fake_term)).max()) <= 1e-12
    v_star = grid[torch.argmin((-real_term - t_optimal).abs())]  # g_f(v*) = f'(1)
    assert float(-LOSSES.get(divergence).d_terms(v_star, v_star)[0]) == pytest.approx(t_optimal, abs=2e-3)
    batch = torch.randn(16, 2, dtype=torch.float64)
    critic = torch.full((16, 1), float(v_star), dtype=torch.float64)
    assert float(-method.d_loss(batch, batch, critic, critic, None)) == pytest.approx(0.0, abs=1e-5)


@pytest.mark.parametrize("divergence", F_DIVERGENCES)
def test_f_gan_conjugates_satisfy_fenchels_inequality_on_a_grid(divergence):
    """f*(t) >= t u - f(u) for every u > 0 and every t = g_f(v) the critic can output (Fenchel-Young), with equality
    where t = f'(u): the registered fake term is f*(g_f(v)) and minus the real term is g_f(v)."""
    f, _ = F_OF[divergence]
    v = torch.linspace(-4, 4, 161, dtype=torch.float64)
    real_term, conjugate = LOSSES.get(divergence).d_terms(v, v)
    t = -real_term.numpy()[:, None]
    u = np.geomspace(1e-3, 1e3, 601)[None, :]
    gap = conjugate.numpy()[:, None] - (t * u - f(u))
    assert gap.min() >= -1e-9
    # equality is approached: for each t the best u on the grid leaves a small gap
    assert np.median(gap.min(1)) < 1e-2


# --- penalties ---------------------------------------------------------------------------------------------------

def linear_d(weight: torch.Tensor) -> nn.Linear:
    layer = nn.Linear(weight.numel(), 1, dtype=weight.dtype)
    with torch.no_grad():
        layer.weight.copy_(weight[None])
        layer.bias.zero_()
    return layer


@pytest.mark.parametrize("norm, expected", [(1.0, 0.0), (2.0, 1.0)])
def test_wgan_gp_penalty_of_a_linear_critic_is_lambda_times_norm_minus_one_squared(norm, expected):
    """Gulrajani et al. Algorithm 1: D(x) = w'x has gradient w everywhere, so the penalty is lam (||w|| - 1)^2
    whatever the interpolates: 0 for a unit-norm w, lam for ||w|| = 2 (lam = 0.1 on vectors, 10 on images)."""
    gen = torch.Generator().manual_seed(0)
    for data, lam in ((VECTORS, 0.1), (DataShape((5,), "vector"), 0.1)):
        method = built("wgan-gp", data)
        w = torch.randn(data.shape[0], generator=gen, dtype=torch.float64)
        method.nets["D"] = linear_d(norm * w / w.norm())
        x, fake = torch.randn(8, data.shape[0], dtype=torch.float64), torch.randn(8, data.shape[0], dtype=torch.float64)
        real_logits, fake_logits = method.nets["D"](x), method.nets["D"](fake)
        plain = -real_logits.mean() + fake_logits.mean()
        total = method.d_loss(x, fake, real_logits, fake_logits, torch.Generator().manual_seed(1))
        assert float((total - plain).detach()) == pytest.approx(lam * expected, abs=1e-12)
    image_method = built("wgan-gp", IMAGES)
    assert image_method.params.gp_weight == 10.0


@pytest.mark.parametrize("name, z", [("wgan", 100), ("lsgan", 100), ("fgan", 100), ("wgan-gp", 128), ("bwgan", 128),
                                     ("hinge", 128), ("sngan", 128)])
def test_image_latent_size_is_the_reference_codes(name, z):
    """z on images as the reference codes draw it: WGAN main.py ``--nz 100`` (LSGAN and f-GAN: the DCGAN setting);
    gan_cifar.py line 49 and gan_64x64.py line 240 (WGAN-GP), cifar10_sobolev.py line 185 (BW-GAN), sngan_projection's
    ``dim_z: 128`` (hinge, SN-GAN); on vectors gan_toy.py's 2, LSGAN's ls.py 256."""
    assert built(name, IMAGES).latent_spec().latent_dim == z
    assert built(name, VECTORS).latent_spec().latent_dim == (256 if name == "lsgan" else 2)


def test_bwgan_dual_norm_penalty_of_a_linear_critic_on_vectors():
    """Adler & Lunz on vectors (s = 0): the penalty is (||w||_q / gamma - 1)^2 with q = p / (p - 1) and
    gamma = E||x||_q over the real batch, lambda = E||x||_p: here p = 1.5, q = 3, written with numpy."""
    method = built("bwgan", DataShape((4,), "vector"), sobolev_p=1.5)
    gen = torch.Generator().manual_seed(2)
    w = torch.randn(4, generator=gen, dtype=torch.float64)
    method.nets["D"] = linear_d(w)
    x, fake = torch.randn(8, 4, generator=gen, dtype=torch.float64), torch.randn(8, 4, generator=gen, dtype=torch.float64)
    real_logits, fake_logits = method.nets["D"](x), method.nets["D"](fake)
    loss = method.d_loss(x, fake, real_logits, fake_logits, torch.Generator())
    xs, wn = x.numpy(), w.numpy()
    q = 3.0
    assert dual_exponent(1.5) == pytest.approx(q)
    gamma = np.mean(np.sum(np.abs(xs) ** q, 1) ** (1 / q))
    lam = np.mean(np.sum(np.abs(xs) ** 1.5, 1) ** (1 / 1.5))
    wasserstein = (fake_logits.mean() - real_logits.mean()).item() / gamma
    penalty = (np.sum(np.abs(wn) ** q) ** (1 / q) / gamma - 1) ** 2
    drift = 1e-5 * np.mean(real_logits.detach().numpy() ** 2)
    assert float(loss.detach()) == pytest.approx(wasserstein + lam * penalty + drift, rel=1e-10)
    assert float(method.g_loss(fake_logits)) == pytest.approx(-fake_logits.mean().item() / gamma, rel=1e-12)


def reference_sobolev_filter(x: np.ndarray, s: float, c: float) -> np.ndarray:
    """adler-j/bwgan ``sobolev_utils.py`` ``sobolev_filter`` transcribed to numpy for ``[B, C, H, W]``: the 2-D FFT
    over H, W scaled by ``(1 + c (X^2 + Y^2))^(s/2)`` with ``X = min(k, n - k) / (n // 2)`` per axis, real part back."""
    h, w = x.shape[-2:]
    ky, kx = np.arange(h), np.arange(w)
    Y = np.minimum(ky, h - ky) / (h // 2)
    X = np.minimum(kx, w - kx) / (w // 2)
    scale = (1 + c * (X[None, :] ** 2 + Y[:, None] ** 2)) ** (s / 2)
    return np.real(np.fft.ifft2(scale * np.fft.fft2(x)))


def test_bwgan_sobolev_penalty_of_a_linear_critic_on_images_equals_the_reference_graph():
    """adler-j/bwgan ``cifar10_sobolev.py`` lines 195-220 written out with numpy for s = 1, p = 1.5 (q = 3) on 3 x 28 x 28
    images: lamb = E||F_s x||_p, gamma = E||F_s x||_q (its ``gamma`` norms the +s-filtered data), penalty
    (||F_{-s} w||_q / gamma - 1)^2 for D(x) = <w, x> (whose input gradient is w at every interpolate), d_loss =
    (E D(G(z)) - E D(x)) / gamma + lamb * penalty + 1e-5 E D(x)^2 (our sign convention), g_loss = -E D(G(z)) / gamma."""
    s, p, q, c = 1.0, 1.5, 3.0, 5.0
    shape = IMAGES.shape
    method = built("bwgan", IMAGES, sobolev_s=s, sobolev_p=p)
    gen = torch.Generator().manual_seed(11)
    w = torch.randn(math.prod(shape), generator=gen, dtype=torch.float64)
    linear = linear_d(w)
    method.nets["D"] = nn.Sequential(nn.Flatten(), linear)
    x, fake = torch.rand(2, 6, *shape, generator=gen, dtype=torch.float64)
    real_logits, fake_logits = method.nets["D"](x), method.nets["D"](fake)
    loss = method.d_loss(x, fake, real_logits, fake_logits, torch.Generator().manual_seed(12))

    def norms(a: np.ndarray, order: float) -> np.ndarray:
        return np.sum(np.abs(a.reshape(len(a), -1)) ** order, 1) ** (1 / order)

    filtered = reference_sobolev_filter(x.numpy(), s, c)
    lamb, gamma = norms(filtered, p).mean(), norms(filtered, q).mean()
    dual = norms(reference_sobolev_filter(w.numpy().reshape(1, *shape), -s, c), q)[0]
    r, f = real_logits.detach().numpy(), fake_logits.detach().numpy()
    expected = (f.mean() - r.mean()) / gamma + lamb * (dual / gamma - 1) ** 2 + 1e-5 * np.mean(r ** 2)
    assert float(loss.detach()) == pytest.approx(expected, rel=1e-10)
    assert float(method.g_loss(fake_logits)) == pytest.approx(-f.mean() / gamma, rel=1e-12)


def test_sobolev_filter_scales_each_fourier_mode_by_its_weight():
    """adler-j/bwgan sobolev_filter: a cosine of frequency (kx, ky) on an n x n grid is multiplied by
    (1 + c (xi_x^2 + xi_y^2))^(s/2), xi = k / (n / 2); s = 0 is the identity."""
    n, c, s = 8, 5.0, 1.5
    grid = torch.arange(n, dtype=torch.float64)
    for kx, ky in ((0, 0), (1, 2), (3, 1), (4, 4)):
        wave = torch.cos(2 * math.pi * (kx * grid[None, :] + ky * grid[:, None]) / n)[None, None]
        weight = (1 + c * ((kx / (n // 2)) ** 2 + (ky / (n // 2)) ** 2)) ** (s / 2)
        torch.testing.assert_close(sobolev_filter(wave, s, c), weight * wave)
    torch.testing.assert_close(sobolev_filter(wave, 0.0, c), wave)


def test_bwgan_refuses_a_sobolev_order_on_vectors():
    from gan_eval.errors import GanEvalError

    with pytest.raises(GanEvalError, match="needs images"):
        built("bwgan", sobolev_s=1.0)
    built("bwgan", IMAGES, sobolev_s=1.0)  # images take it, negative orders too (W^{-1,p})
    assert built("bwgan", IMAGES, sobolev_s=-1.0).params.sobolev_s == -1.0


# --- spectral normalisation, clipping, critic steps ---------------------------------------------------------------

@pytest.mark.parametrize("data", [VECTORS, IMAGES], ids=["vectors", "images"])
def test_sngan_sigma_estimates_are_within_1e3_of_the_largest_singular_value(data):
    """Miyato et al. 2018 Algorithm 1: after D's power iterations (15 at build, one per training forward), each
    layer's sigma = u' W v is within 1e-3 (relative) of torch.linalg.matrix_norm(W, 2) (LAPACK's SVD)."""
    method = built("sngan", data, seed=3)
    D = method.nets["D"]
    x = torch.randn(4, *data.shape, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        for _ in range(30):
            D(x)
    norms = [m for m in D.modules() if isinstance(m, SpectralNorm)]
    assert len(norms) == len([m for m in D.modules() if isinstance(m, (nn.Linear, nn.Conv2d))])
    for layer in (m for m in D.modules() if isinstance(m, (nn.Linear, nn.Conv2d))):
        weight = layer.parametrizations.weight.original.detach()
        sn = layer.parametrizations.weight[0]
        matrix = sn._matrix(weight)
        sigma = float(torch.dot(sn._u, matrix @ sn._v))
        assert sigma == pytest.approx(float(torch.linalg.matrix_norm(matrix, 2)), rel=1e-3)


@pytest.mark.parametrize("data", [VECTORS, IMAGES], ids=["vectors", "images"])
def test_wgan_weight_clipping_keeps_every_d_parameter_in_the_box_after_a_step(data):
    method = built("wgan", data, n_critic_boost=0, lr=0.05)  # a large step, so unclipped weights would leave the box
    c = method.params.clip
    assert max(float(p.abs().max()) for p in method.nets["D"].parameters()) > c  # the init is outside the box
    gen = torch.Generator().manual_seed(5)
    method.train_step(lambda n: torch.rand(n, *data.shape, generator=gen), torch.Generator().manual_seed(6))
    for p in method.nets["D"].parameters():
        assert float(p.abs().max()) <= c


def count_steps(method: CriticGAN) -> dict[str, int]:
    counts = {"D": 0, "G": 0}
    for name, opt in method.opt.items():
        step = opt.step

        def counted(*args, _name=name, _step=step, **kwargs):
            counts[_name] += 1
            return _step(*args, **kwargs)

        opt.step = counted
    return counts


@pytest.mark.parametrize("name, params, expected", [
    ("wgan-gp", {}, [5, 5, 5]),
    ("sngan", {"n_critic": 3}, [3, 3, 3]),
    ("lsgan", {}, [1, 1, 1]),
    ("fgan", {}, [1, 1, 1]),
    ("fgan", {"n_critic": 2}, [2, 2, 2]),
    ("wgan-gp", {"n_critic": 2, "update": "simultaneous"}, [2, 2, 2]),
    # main.py's schedule: Diters = 100 while gen_iterations < 25 or gen_iterations % 500 == 0; here 7, 2, 4
    ("wgan", {"n_critic_boost": 7, "boost_first": 2, "boost_every": 4}, [7, 7, 5, 5, 7, 5, 5, 5, 7]),
])
def test_n_critic_counts_d_optimizer_steps_per_g_step(name, params, expected):
    method = built(name, **params)
    counts = count_steps(method)
    gen = torch.Generator().manual_seed(7)
    seen = []
    for _ in expected:
        before = dict(counts)
        method.train_step(lambda n: torch.randn(n, 2, generator=gen), torch.Generator().manual_seed(8))
        assert counts["G"] - before["G"] == 1
        seen.append(counts["D"] - before["D"])
    assert seen == expected


# --- optimisers, schedules and normalisation as the reference codes set them ----------------------------------

@pytest.mark.parametrize("side, betas, norm", [(28, (0.5, 0.9), None), (32, (0.5, 0.9), None), (64, (0.0, 0.9), nn.GroupNorm)])
def test_wgan_gp_on_images_takes_the_reference_script_of_its_size(side, betas, norm):
    """igul222/improved_wgan_training: gan_mnist.py (L150-158) and gan_cifar.py (L137-138) step both nets with Adam
    1e-4, betas (0.5, 0.9), and their critic has no normalisation in wgan-gp mode (gan_cifar.py L73-80); gan_64x64.py
    takes betas (0, 0.9) (L541-545) and layer-normalises the DCGAN critic's 2nd-4th convolutions (Normalize, L84-90).
    At 64 x 64 the settings trained before (``beta1=0.5 d_norm=off``) stay reachable."""
    data = DataShape((3, side, side), "image", (-1.0, 1.0))
    method = built("wgan-gp", data)
    assert all(method.opt[name].param_groups[0]["betas"] == betas and method.opt[name].param_groups[0]["lr"] == 1e-4
               for name in ("D", "G"))
    norms = [type(m) for m in method.nets["D"].modules() if isinstance(m, (nn.GroupNorm, nn.modules.batchnorm._BatchNorm))]
    assert norms == ([] if norm is None else [norm] * 3)
    old = built("wgan-gp", data, beta1=0.5, d_norm="off")
    assert old.opt["D"].param_groups[0]["betas"] == (0.5, 0.9)
    assert not any(isinstance(m, (nn.GroupNorm, nn.modules.batchnorm._BatchNorm)) for m in old.nets["D"].modules())


def test_the_64x64_critics_layer_norm_is_tflibs_layernorm_over_channels_and_pixels():
    """tflib/ops/layernorm.py: ``tf.nn.moments`` of each sample over (C, H, W), then ``batch_normalization`` with a
    per-channel offset and scale and eps 1e-5, written out here on a random activation (scale and offset away from
    their 1 and 0, so that a per-pixel affine or a per-channel statistic would differ)."""
    method = built("wgan-gp", DataShape((3, 64, 64), "image", (-1.0, 1.0)))
    layer = next(m for m in method.nets["D"].modules() if isinstance(m, nn.GroupNorm))
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        layer.weight.copy_(torch.rand(layer.num_channels, generator=gen) + 0.5)
        layer.bias.copy_(torch.randn(layer.num_channels, generator=gen))
    h = torch.randn(4, layer.num_channels, 5, 5, generator=gen, dtype=torch.float64) * 3 + 1
    mean = h.mean((1, 2, 3), keepdim=True)
    var = h.var((1, 2, 3), unbiased=False, keepdim=True)
    expected = (h - mean) / torch.sqrt(var + 1e-5) * layer.weight.double().view(1, -1, 1, 1) + layer.bias.double().view(1, -1, 1, 1)
    assert torch.allclose(layer.double()(h), expected, atol=1e-12)


def test_wgan_gp_2d_runs_keep_their_recorded_configuration():
    """The per-size image defaults leave the 2-D runs' recorded settings as they were (beta1 0.5, no new keys), so
    their configuration hash and folders are unchanged; at 64 x 64 the record names the new settings."""
    from trainers.methods.base import params_record, resolved_params

    vector = params_record(resolved_params("wgan-gp", None, "vector", (2,)))
    assert vector["beta1"] == 0.5 and "d_norm" not in vector and "lr_decay_steps" not in vector
    image = params_record(resolved_params("wgan-gp", None, "image", (3, 64, 64)))
    assert (image["beta1"], image["d_norm"]) == (0.0, "layer")


def applied_rates(method: CriticGAN) -> dict[str, list[float]]:
    """The learning rate of every optimizer step each of D and G takes, recorded as the step runs."""
    rates: dict[str, list[float]] = {"D": [], "G": []}
    for name, opt in method.opt.items():
        step = opt.step

        def recording(*args, _name=name, _opt=opt, _step=step, **kwargs):
            rates[_name].append(_opt.param_groups[0]["lr"])
            return _step(*args, **kwargs)
        opt.step = recording
    return rates


@pytest.mark.parametrize("name, params, d_lr, g_lr", [
    ("sngan", {"n_critic": 2}, 2e-4, 2e-4),
    ("hinge", {"n_critic": 1}, 2e-4, 2e-4),
    ("lsgan", {}, 1e-4, 1e-3),  # per net: D's lr and G's g_lr each fall to 0
])
def test_linear_decay_is_chainers_linear_shift_to_zero(name, params, d_lr, g_lr):
    """sngan_projection train.py L120-123: ``LinearShift('alpha', (alpha, 0.), (0, iteration))`` on both Adams; chainer
    sets iteration t's (from 0) alpha to ``alpha + t / iteration * (0 - alpha)``, so over T = 4 iterations every D
    and G step of iteration t takes ``lr * (1 - t / 4)`` and iteration 4 on takes 0. A decaying method is never
    captured in a CUDA graph (its rate is a Python float set per step); ``lr_schedule=constant`` is constant."""
    method = built(name, lr_schedule="linear", lr_decay_steps=4, **params)
    assert not method.graph_safe
    rates = applied_rates(method)
    gen = torch.Generator().manual_seed(7)
    iterations = 6
    for _ in range(iterations):
        method.train_step(lambda n: torch.randn(n, 2, generator=gen), torch.Generator().manual_seed(8))
    factors = [max(0.0, 1 - t / 4) for t in range(iterations)]
    d_steps = len(rates["D"]) // iterations
    assert rates["D"] == pytest.approx([d_lr * f for f in factors for _ in range(d_steps)], rel=1e-12, abs=0)
    assert rates["G"] == pytest.approx([g_lr * f for f in factors], rel=1e-12, abs=0)
    constant = built(name, lr_schedule="constant", **params)
    assert constant.graph_safe and not constant.lr_scheduled


@pytest.mark.parametrize("name", ["sngan", "hinge", "bwgan"])
def test_linear_decay_on_images_spans_the_run_and_vectors_stay_constant(name, tmp_path):
    """sngan_projection decays to 0 at its config's ``iteration`` (train.py L120-123, ``iteration_decay_start: 0``),
    adler-j/bwgan at ``MAX_ITERS`` (cifar10_sobolev.py L225-227), each its run's length (bwgan's loop stops there,
    L317): a run of T steps on images takes ``lr * (1 - t / T)``, half of 2e-4 half-way, whatever T is. On vectors the
    rate stays constant (neither code has a 2-D setting; gan_toy.py's is constant), and the 2-D runs' recorded
    configuration has no new key."""
    from trainers.loop import Run, TrainConfig
    from trainers.methods.base import params_record, resolved_params

    for steps in (50_000, 300):
        on_images = METHODS.get(name)(make_params(name, {"width": 2, "batch_size": 4}), IMAGES, torch.device("cpu"))
        on_images.run_steps = steps
        on_images.setup(torch.Generator().manual_seed(0))
        assert on_images.params.lr_schedule == "linear" and on_images.decay_steps == steps
        assert on_images.lr_at("G", steps // 2) == pytest.approx(1e-4, rel=1e-12) and on_images.lr_at("D", steps) == 0.0
    assert built(name, IMAGES).decay_steps == METHODS.get(name).default_steps  # outside a run: the method's budget
    run = Run(TrainConfig(name, "ring8", steps=40, params={"hidden": 8, "lr_schedule": "linear"}), tmp_path / "run")
    assert run.method.decay_steps == 40  # the loop gives the method its run's steps
    assert not built(name, VECTORS).lr_scheduled
    assert not {"lr_schedule", "lr_decay_steps"} & set(params_record(resolved_params(name, None, "vector", (2,))))


def test_a_decay_that_ends_before_the_run_is_refused_in_one_line(tmp_path):
    """A rate that reaches 0 before the run ends would train the rest at lr 0: refused before any training, naming
    the fix: a ``lr_decay_steps`` shorter than the run, and extending a run past the steps its decay spans (the
    checkpoint keeps the horizon it started with, as the reference runs one schedule per run)."""
    from gan_eval.errors import GanEvalError
    from trainers.loop import Run, TrainConfig, train

    decaying = {"hidden": 8, "batch_size": 8, "lr_schedule": "linear"}
    with pytest.raises(GanEvalError, match=r"falls to 0 at iteration 1,000, before the run's 2,000 steps; --set lr_decay_steps=2000"):
        Run(TrainConfig("sngan", "ring8", steps=2000, params={**decaying, "lr_decay_steps": 1000}), tmp_path / "short")
    assert Run(TrainConfig("sngan", "ring8", steps=1000, params={**decaying, "lr_decay_steps": 1000}), tmp_path / "ok").method.decay_steps == 1000
    for bad in ({"lr_decay_steps": 1000}, {**decaying, "lr_decay_steps": 0}, {"lr_schedule": "cosine"}):
        with pytest.raises(GanEvalError, match="method sngan: lr_"):
            built("sngan", **bad)
    config = TrainConfig("sngan", "ring8", steps=4, params=decaying, eval_every=4, eval_samples=64)
    train(config, tmp_path / "run")
    with pytest.raises(GanEvalError, match=r"run: method sngan: its learning rate falls to 0 at iteration 4, before the run.s 8 steps; start a new run"):
        train(dataclasses.replace(config, steps=8), tmp_path / "run")
    assert json.loads((tmp_path / "run" / "result.json").read_text())["step"] == 4  # the finished run is untouched


def test_d_norm_is_refused_on_vectors_and_checked_on_images():
    """The critic's normalisation is an option of the DCGAN critic: on vectors (MLPs without any) and with an unknown
    value it is one line naming the option."""
    from gan_eval.errors import GanEvalError

    with pytest.raises(GanEvalError, match="method wgan-gp: d_norm='layer' sets the DCGAN critic's normalisation on images"):
        built("wgan-gp", d_norm="layer")  # the message names the method as the user typed it, not its class WGANGP
    with pytest.raises(GanEvalError, match="option d_norm must be one of batch, layer, off, got 'group'"):
        built("wgan-gp", IMAGES, d_norm="group")


def test_wgan_gp_64x64_layer_norm_default_applies_only_to_a_net_that_takes_d_norm():
    """gan_64x64.py layer-normalises its DCGAN critic, so WGAN-GP's 64 x 64 default ``d_norm=layer`` is the DCGAN
    net's; ``--net began`` (carpedm20/BEGAN-tensorflow's critic, which has no such option) trains without it and its
    run records no d_norm, while the rest of the 64 x 64 setting (beta1 0) stays."""
    from trainers.methods.base import params_record, resolved_params

    shape = (3, 64, 64)
    assert resolved_params("wgan-gp", None, "image", shape).d_norm == "layer"
    assert resolved_params("wgan-gp", {"net": "dcgan64"}, "image", shape).d_norm == "layer"
    record = params_record(resolved_params("wgan-gp", {"net": "began"}, "image", shape))
    assert "d_norm" not in record and record["beta1"] == 0.0
    method = built("wgan-gp", DataShape(shape, "image", (-1.0, 1.0)), net="began")
    assert method.params.d_norm is None
    assert not any(isinstance(m, (nn.GroupNorm, nn.modules.batchnorm._BatchNorm)) for m in method.nets["D"].modules())


@pytest.mark.parametrize("d_norm", ["layer", "off"])
def test_an_explicit_d_norm_on_a_net_without_it_is_one_error_line(tmp_path, d_norm):
    """``gan-eval train wgan-gp --set net=began --set d_norm=...`` on 64 x 64 images: exit 2, one stderr line naming the
    option, the net and the fix, and no run folder written."""
    from typer.testing import CliRunner

    from gan_eval.cli import app

    images = tmp_path / "images64.npy"
    np.save(images, np.random.default_rng(0).integers(0, 256, (40, 3, 64, 64), dtype=np.uint8))
    out = tmp_path / "runs"
    runner = CliRunner(**({"mix_stderr": False} if "mix_stderr" in CliRunner.__init__.__code__.co_varnames else {}))
    result = runner.invoke(app, ["train", "wgan-gp", "--dataset", "npz", "--data-dir", str(images), "--set", "net=began",
                                 "--set", f"d_norm={d_norm}", "--set", "width=2", "--steps", "1", "--eval", "fid:features=pixels",
                                 "-o", str(out), "--no-progress"])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and f"d_norm={d_norm!r}" in lines[0] and "'began64'" in lines[0]
    assert "drop --set d_norm" in lines[0]
    assert not out.exists() or not any(out.iterdir())


# --- G's batch: the reference codes' sample counts ------------------------------------------------------------

def batches_of_one_step(method: CriticGAN, data: DataShape) -> tuple[list[int], list[int]]:
    """One iteration of ``method``: the size of each real batch it draws and of each latent batch G's forward reads,
    in order."""
    latents: list[int] = []
    method.nets["G"].register_forward_pre_hook(lambda module, args: latents.append(args[0].shape[-2]))
    reals: list[int] = []
    gen = torch.Generator().manual_seed(7)

    def real(n: int) -> torch.Tensor:
        reals.append(n)
        return torch.rand(n, *data.shape, generator=gen)

    method.train_step(real, torch.Generator().manual_seed(8))
    return reals, latents


@pytest.mark.parametrize("name", ["sngan", "hinge", "bwgan"])
def test_g_step_on_images_draws_the_reference_codes_128_samples_and_d_steps_their_batch_of_64(name):
    """pfnet-research/sngan_projection updater.py with configs/sn_cifar10_unconditional.yml (hinge: the same updater
    without SN): the G step's ``_generete_samples()`` (L79-86) draws ``n_gen_samples: 128``, each D step a real batch
    of ``batchsize: 64`` and ``_generete_samples(n_gen_samples=batchsize)`` (L89-92). adler-j/bwgan cifar10_sobolev.py:
    D's z has as many rows as the real batch of ``BATCH_SIZE = 64`` (L185), G's ``z_gen`` ``BATCH_SIZE * 2`` (L192-193).
    At the default batch, one iteration of 2 critic steps: reals 64, 64; G's forward 64, 64, then 128."""
    method = METHODS.get(name)(make_params(name, {"width": 2, "n_critic": 2}), IMAGES, torch.device("cpu"))
    method.setup(torch.Generator().manual_seed(0))
    reals, latents = batches_of_one_step(method, IMAGES)
    assert method.params.batch_size == 64 and method.params.g_batch_size == 128
    assert reals == [64, 64] and latents == [64, 64, 128]


@pytest.mark.parametrize("name, g_batch", [("sngan", 128), ("hinge", 128), ("bwgan", 16), ("wgan-gp", 8)])
def test_g_batch_keeps_each_reference_rule_at_another_batch_and_is_d_batch_on_vectors(name, g_batch):
    """At a D batch of 8, sngan_projection's G step still reads its config's fixed ``n_gen_samples: 128``, bwgan's
    ``2 * BATCH_SIZE`` follows the batch (16), and every other method's G reads D's batch; on vectors (no reference
    code of these three) and where ``g_batch_size`` is set it is what G reads, grouped seeds each their own."""
    assert batches_of_one_step(built(name, IMAGES, batch_size=8, n_critic=1), IMAGES) == ([8], [8, g_batch])
    assert batches_of_one_step(built(name, VECTORS, n_critic=1), VECTORS) == ([8], [8, 8])
    assert batches_of_one_step(built(name, VECTORS, n_critic=1, g_batch_size=5), VECTORS) == ([8], [8, 5])
    from trainers.methods.base import stack_methods

    grouped = stack_methods([built(name, VECTORS, seed=s, n_critic=1, g_batch_size=5) for s in (0, 1)])
    latents: list[tuple[int, ...]] = []
    grouped.nets["G"].register_forward_pre_hook(lambda module, args: latents.append(tuple(args[0].shape)))
    data = [torch.Generator().manual_seed(s) for s in (7, 8)]
    noise = [torch.Generator().manual_seed(s) for s in (9, 10)]
    grouped.train_step(lambda n: torch.stack([torch.randn(n, 2, generator=g) for g in data]), noise)
    assert latents == [(2, 8, 2), (2, 5, 2)]


def test_the_g_batch_leaves_the_2d_records_alone_and_names_itself_on_images():
    """``g_batch_size`` is an added option at None: the 2-D runs' recorded configuration (and so their hash and folder)
    has no new key for any method of the family; the image runs of SN-GAN, hinge and BW-GAN record their 128."""
    from trainers.methods.base import params_record, resolved_params

    for name in FAMILY:
        assert "g_batch_size" not in params_record(resolved_params(name, None, "vector", (2,))), name
        image = params_record(resolved_params(name, None, "image", (3, 32, 32)))
        assert image.get("g_batch_size") == (128 if name in ("sngan", "hinge", "bwgan") else None), name


def test_a_g_batch_with_the_simultaneous_update_is_its_default_dropped_or_one_error_line():
    """``update=simultaneous`` steps G on the last D step's forward pass, so G reads D's batch: the image default is
    dropped (the record keeps no g_batch_size), an explicit other size is refused in one line, and so is 0."""
    from gan_eval.errors import GanEvalError
    from trainers.methods.base import params_record, resolved_params

    assert "g_batch_size" not in params_record(resolved_params("sngan", {"update": "simultaneous"}, "image", (3, 32, 32)))
    assert batches_of_one_step(built("sngan", IMAGES, n_critic=1, update="simultaneous"), IMAGES) == ([4], [4])
    with pytest.raises(GanEvalError, match=r"method sngan: g_batch_size=16, but update=simultaneous steps G on the last D step's batch of 4"):
        built("sngan", IMAGES, update="simultaneous", g_batch_size=16)
    with pytest.raises(GanEvalError, match="method bwgan: g_batch_size=0; G's step needs at least 1 sample"):
        built("bwgan", IMAGES, g_batch_size=0)
