"""Losses, penalties and spectral normalisation of the training engine, against closed forms, papers and peers.

Peers: scipy (rel_entr, jensenshannon, chisquare, minimize_scalar) and PyTorch's own spectral_norm.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F
from scipy.optimize import minimize_scalar
from scipy.spatial.distance import jensenshannon, sqeuclidean
from scipy.special import rel_entr
from scipy.stats import chisquare
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from gan_eval.errors import GanEvalError
from trainers.losses import LOSSES
from trainers.nets.spectral import spectral_norm_all
from trainers.penalties import clip_weights_, gradient_penalty, r1_penalty


# Two distributions on four points (P = data, Q = model), all ratios moderate so every optimum is finite.
P = np.array([0.1, 0.2, 0.3, 0.4])
Q = np.array([0.25, 0.35, 0.15, 0.25])

# Nowozin et al. 2016, transcribed from Table 1 (f, and T* = f'(p/q)) and Table 2 (g_f, f*).
F_GAN = {
    "kl": (lambda u: u * np.log(u), lambda u: 1 + np.log(u), lambda v: v, lambda t: np.exp(t - 1)),
    "reverse-kl": (lambda u: -np.log(u), lambda u: -1 / u, lambda v: -np.exp(-v), lambda t: -1 - np.log(-t)),
    "js": (lambda u: -(u + 1) * np.log((1 + u) / 2) + u * np.log(u), lambda u: np.log(2 * u / (1 + u)),
           lambda v: np.log(2) - np.log1p(np.exp(-v)), lambda t: -np.log(2 - np.exp(t))),
    "pearson": (lambda u: (u - 1) ** 2, lambda u: 2 * (u - 1), lambda v: v, lambda t: t * t / 4 + t),
    "squared-hellinger": (lambda u: (np.sqrt(u) - 1) ** 2, lambda u: 1 - 1 / np.sqrt(u), lambda v: 1 - np.exp(-v),
                          lambda t: t / (1 - t)),
}
# Points inside each conjugate's domain (Table 2: reverse KL t < 0, JS t < log 2, Hellinger t < 1,
# Pearson t >= -2 where the supremum over u >= 0 is interior).
CONJUGATE_POINTS = {"kl": [-1.0, 0.0, 0.7], "reverse-kl": [-2.0, -1.0, -0.3], "js": [-1.0, 0.0, 0.5],
                    "pearson": [-1.5, 0.0, 1.0], "squared-hellinger": [-1.0, 0.0, 0.6]}


def divergence_from_scipy(name: str) -> float:
    """D_f(P || Q) = E_Q[f(p/q)], computed by scipy where scipy has it."""
    return {
        "kl": lambda: rel_entr(P, Q).sum(),
        "reverse-kl": lambda: rel_entr(Q, P).sum(),
        "js": lambda: 2 * jensenshannon(P, Q) ** 2,  # f-GAN's f gives twice the JSD
        "pearson": lambda: chisquare(P, Q).statistic,
        "squared-hellinger": lambda: sqeuclidean(np.sqrt(P), np.sqrt(Q)),
    }[name]()


def minimise_d_loss(name: str) -> tuple[np.ndarray, float]:
    """The D logits minimising E_P[real_term] + E_Q[fake_term] of a registered loss, with the minimum
    (one free logit per support point = a D of unlimited capacity)."""
    loss = LOSSES.get(name)
    p, q = torch.tensor(P), torch.tensor(Q)
    v = torch.zeros(len(P), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([v], lr=1, max_iter=500, tolerance_grad=1e-13, tolerance_change=1e-16,
                            line_search_fn="strong_wolfe")

    def objective() -> torch.Tensor:
        opt.zero_grad()
        real, fake = loss.d_terms(v, v)
        value = (p * real).sum() + (q * fake).sum()
        value.backward()
        return value

    opt.step(objective)
    with torch.no_grad():
        real, fake = loss.d_terms(v, v)
        return v.detach().numpy(), float((p * real).sum() + (q * fake).sum())


# --- f-GAN ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(F_GAN))
def test_f_gan_table_conjugates_are_fenchel_conjugates_of_f(name: str) -> None:
    """The transcription of Table 2's f* is sup_u (u t - f(u)) of Table 1's f (numerical sup, scipy)."""
    f, _, _, conjugate = F_GAN[name]
    for t in CONJUGATE_POINTS[name]:
        # over log u, so the search stays in f's domain u > 0
        best = minimize_scalar(lambda s: -(math.exp(s) * t - f(math.exp(s))), bracket=(-1.0, 0.0),
                               options={"xtol": 1e-12})
        assert -best.fun == pytest.approx(conjugate(t), abs=1e-9)


@pytest.mark.parametrize("name", sorted(F_GAN))
def test_f_gan_bound_at_optimal_critic_equals_divergence_from_scipy(name: str) -> None:
    """Nowozin et al. eq. 5: E_P[T*] - E_Q[f*(T*)] = D_f(P||Q) at T* = f'(p/q); and E_Q[f(p/q)] is scipy's."""
    f, f_prime, _, conjugate = F_GAN[name]
    t_star = f_prime(P / Q)
    expected = divergence_from_scipy(name)
    assert (Q * f(P / Q)).sum() == pytest.approx(expected, rel=1e-12)
    assert (P * t_star).sum() - (Q * conjugate(t_star)).sum() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", sorted(F_GAN))
def test_f_gan_terms_are_the_paper_activation_and_conjugate(name: str) -> None:
    """real term -g_f(v), fake term f*(g_f(v)), G term -g_f(v) (Sec. 3.2's alternative), as in Tables 1-2."""
    _, _, activation, conjugate = F_GAN[name]
    v = np.linspace(-3, 3, 25)
    real, fake = LOSSES.get(name).d_terms(torch.tensor(v), torch.tensor(v))
    np.testing.assert_allclose(real.numpy(), -activation(v), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fake.numpy(), conjugate(activation(v)), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(LOSSES.get(name).g_term(torch.tensor(v)).numpy(), -activation(v),
                               rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(F_GAN))
def test_f_gan_d_loss_minimum_is_minus_the_divergence(name: str) -> None:
    """Minimising the registered D loss over free logits reaches -D_f(P||Q) (scipy), at g_f(v*) = f'(p/q)."""
    _, f_prime, activation, _ = F_GAN[name]
    v_star, minimum = minimise_d_loss(name)
    assert minimum == pytest.approx(-divergence_from_scipy(name), rel=1e-9)
    np.testing.assert_allclose(activation(v_star), f_prime(P / Q), rtol=1e-5)


def test_f_gan_js_is_ns_shifted_by_log_2() -> None:
    """The f-GAN JS D loss is the GAN D loss minus 2 log 2, and its G term the -log D trick minus log 2."""
    v = torch.linspace(-6, 6, 13, dtype=torch.float64)
    js, ns = LOSSES.get("js"), LOSSES.get("ns")
    for a, b in zip(js.d_terms(v, v), ns.d_terms(v, v)):
        torch.testing.assert_close(a, b - math.log(2), rtol=0, atol=1e-14)
    torch.testing.assert_close(js.g_term(v), ns.g_term(v) - math.log(2), rtol=0, atol=1e-14)


# --- GAN, least squares, hinge, Wasserstein -----------------------------------------------------------------------

@pytest.mark.parametrize("batch", [1, 7, 100, 1000])
@pytest.mark.parametrize("name", ["ns", "minimax"])
def test_cross_entropy_labels_state_the_same_loss_as_the_terms(batch: int, name: str) -> None:
    """A loss's ``labels`` (what methods evaluate with torch's fused mean cross-entropy) and its elementwise terms
    are one loss: torch's F.binary_cross_entropy_with_logits with those labels equals the terms' means exactly."""
    gen = torch.Generator().manual_seed(batch)
    real, fake = 5 * torch.randn(batch, 1, generator=gen), 5 * torch.randn(batch, 1, generator=gen)
    loss = LOSSES.get(name)
    fused = lambda x, y: F.binary_cross_entropy_with_logits(x, torch.full_like(x, y))  # noqa: E731
    real_term, fake_term = loss.d_terms(real, fake)
    assert torch.equal(real_term.mean() + fake_term.mean(), fused(real, loss.labels.real) + fused(fake, loss.labels.fake))
    assert torch.equal(loss.g_term(fake).mean(), loss.labels.g_sign * fused(fake, loss.labels.g))


@pytest.mark.parametrize("name", ["ns", "minimax"])
def test_cross_entropy_optimal_discriminator_goodfellow(name: str) -> None:
    """Goodfellow et al. 2014, Prop. 1: D* = p/(p+q); Thm. 1: the minimal D loss is log 4 - 2 JSD(P||Q)."""
    v_star, minimum = minimise_d_loss(name)
    np.testing.assert_allclose(1 / (1 + np.exp(-v_star)), P / (P + Q), rtol=1e-7)
    assert minimum == pytest.approx(math.log(4) - 2 * jensenshannon(P, Q) ** 2, rel=1e-10)


def test_generator_terms_of_ns_and_minimax() -> None:
    """ns: -log D(G(z)); minimax: log(1 - D(G(z))) (Goodfellow et al. 2014, eq. 1 and Sec. 3), D = sigmoid."""
    v = torch.linspace(-8, 8, 17, dtype=torch.float64)
    torch.testing.assert_close(LOSSES.get("ns").g_term(v), -torch.log(torch.sigmoid(v)))
    torch.testing.assert_close(LOSSES.get("minimax").g_term(v), torch.log1p(-torch.sigmoid(v)))


def test_log_ratio_generator_term_is_rosca_algorithm_1_on_fixed_logits() -> None:
    """alpha-GAN's E and G term (Rosca et al. 2017, Algorithm 1): -log D/(1 - D) with D = sigmoid(v), computed from
    the probabilities in float64, equals the loss's term, which is -v; it is the sum of the ns and minimax G terms;
    D's terms are the cross-entropy of ns."""
    v = torch.linspace(-12, 12, 25, dtype=torch.float64)
    d = torch.sigmoid(v)
    term = LOSSES.get("log-ratio").g_term(v)
    torch.testing.assert_close(term, -torch.log(d / (1 - d)), rtol=1e-12, atol=1e-9)
    torch.testing.assert_close(term, torch.tensor([12.0 - i for i in range(25)], dtype=torch.float64), rtol=0, atol=0)
    torch.testing.assert_close(term, LOSSES.get("ns").g_term(v) + LOSSES.get("minimax").g_term(v), rtol=1e-12, atol=1e-12)
    real, fake = 3 * torch.randn(2, 9, 1, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    for ours, ns in zip(LOSSES.get("log-ratio").d_terms(real, fake), LOSSES.get("ns").d_terms(real, fake)):
        assert torch.equal(ours, ns)


def test_least_squares_optimal_discriminator_mao() -> None:
    """Mao et al. 2017, Prop. 1 with a=0, b=1: D* = p/(p+q); the minimum is (1/2) sum pq/(p+q); G term (f-1)^2/2."""
    v_star, minimum = minimise_d_loss("least-squares")
    np.testing.assert_allclose(v_star, P / (P + Q), rtol=1e-6)
    assert minimum == pytest.approx(0.5 * (P * Q / (P + Q)).sum(), rel=1e-10)
    v = torch.tensor([-1.0, 0.0, 1.0, 3.0])
    torch.testing.assert_close(LOSSES.get("least-squares").g_term(v), torch.tensor([2.0, 0.5, 0.0, 2.0]))


def test_least_squares_pearson_coding_optimal_discriminator_mao() -> None:
    """Mao et al. 2017, Prop. 1 with eq. 8's coding a=-1, b=1: D* = (b p + a q)/(p + q) = (p - q)/(p + q); the minimum
    is sum pq (b - a)^2 / (2 (p + q)) = 2 sum pq/(p+q); G's term (c = 0) is f^2 / 2."""
    v_star, minimum = minimise_d_loss("least-squares-pearson")
    np.testing.assert_allclose(v_star, (P - Q) / (P + Q), rtol=1e-6, atol=1e-9)
    assert minimum == pytest.approx(2 * (P * Q / (P + Q)).sum(), rel=1e-10)
    v = torch.tensor([-1.0, 0.0, 1.0, 3.0])
    torch.testing.assert_close(LOSSES.get("least-squares-pearson").g_term(v), torch.tensor([0.5, 0.0, 0.5, 4.5]))


def test_hinge_and_wasserstein_terms_on_known_logits() -> None:
    """Hinge (Lim & Ye 2017; Miyato et al. 2018) and WGAN (Arjovsky et al. 2017) terms, worked by hand."""
    real, fake = torch.tensor([-2.0, 0.5, 3.0]), torch.tensor([-3.0, -0.5, 2.0])
    hinge, wasserstein = LOSSES.get("hinge"), LOSSES.get("wasserstein")
    torch.testing.assert_close(hinge.d_terms(real, fake),
                               (torch.tensor([3.0, 0.5, 0.0]), torch.tensor([0.0, 0.5, 3.0])))
    torch.testing.assert_close(hinge.g_term(fake), torch.tensor([3.0, 0.5, -2.0]))
    torch.testing.assert_close(wasserstein.d_terms(real, fake), (torch.tensor([2.0, -0.5, -3.0]), fake))
    torch.testing.assert_close(wasserstein.g_term(fake), -fake)


def test_hinge_optimal_discriminator_is_the_sign_of_p_minus_q() -> None:
    """Lim & Ye 2017: the hinge D loss is minimised at D* = sign(p - q), with minimum 2 (1 - TV(P, Q))."""
    grid = torch.linspace(-3, 3, 601, dtype=torch.float64)  # contains -1 and 1 exactly
    real, fake = LOSSES.get("hinge").d_terms(grid, grid)
    per_point = torch.tensor(P)[:, None] * real + torch.tensor(Q)[:, None] * fake  # [points, grid]
    best = per_point.min(1)
    np.testing.assert_array_equal(grid[best.indices].numpy(), np.sign(P - Q))
    assert float(best.values.sum()) == pytest.approx(2 * (1 - 0.5 * np.abs(P - Q).sum()), rel=1e-12)


# --- every registered loss ----------------------------------------------------------------------------------------

def test_registry_holds_the_issue_losses() -> None:
    assert {"ns", "minimax", "log-ratio", "wasserstein", "hinge", "least-squares", "least-squares-pearson", "kl", "reverse-kl", "js", "pearson",
            "squared-hellinger"} <= set(LOSSES)
    assert all(LOSSES.get(name).name == name for name in LOSSES)


@pytest.mark.parametrize("name", LOSSES.names())
@pytest.mark.parametrize("shape", [(8, 1), (3, 8, 1)], ids=["ungrouped", "grouped"])
def test_loss_contract(name: str, shape: tuple[int, ...]) -> None:
    """Every term is elementwise (same shape; a slice of the input gives the slice of the output), finite, and
    passes a nonzero gradient to every logit in (-1, 1) (where even the hinge is not saturated)."""
    loss = LOSSES.get(name)
    gen = torch.Generator().manual_seed(0)
    real = (1.8 * torch.rand(shape, generator=gen) - 0.9).requires_grad_(True)
    fake = (1.8 * torch.rand(shape, generator=gen) - 0.9).requires_grad_(True)
    real_term, fake_term = loss.d_terms(real, fake)
    g_term = loss.g_term(fake)
    for term, logits in [(real_term, real), (fake_term, fake), (g_term, fake)]:
        assert term.shape == logits.shape and term.dtype == logits.dtype
        assert torch.isfinite(term).all()
        (grad,) = torch.autograd.grad(term.sum(), logits)
        assert torch.isfinite(grad).all() and (grad != 0).all()
    head_real, head_fake = loss.d_terms(real[..., :3, :], fake[..., :3, :])
    assert torch.equal(head_real, real_term[..., :3, :]) and torch.equal(head_fake, fake_term[..., :3, :])
    assert torch.equal(loss.g_term(fake[..., :3, :]), g_term[..., :3, :])


def test_unknown_loss_names_the_known_ones() -> None:
    with pytest.raises(GanEvalError, match="did you mean 'hinge'"):
        LOSSES.get("hinje")


# --- penalties ----------------------------------------------------------------------------------------------------

def linear_critic(w: torch.Tensor):
    """D(x) = <x, w> + 1 per sample; w is [*features], or [S, *features] for a grouped critic over [S, B, ...]."""
    if w.ndim == 1:
        return lambda x: (x @ w)[:, None] + 1.0
    return lambda x: torch.einsum("sbd,sd->sb", x, w)[..., None] + 1.0


def test_gradient_penalty_linear_critic_closed_form() -> None:
    """Gulrajani et al. 2017: grad D = w everywhere, so every sample's term is (||w|| - 1)^2; 0 for a unit w;
    and the penalty is differentiable in D's parameters: d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||."""
    gen = torch.Generator().manual_seed(1)
    real, fake = torch.randn(6, 5, generator=gen, dtype=torch.float64), torch.randn(6, 5, dtype=torch.float64)
    w = torch.randn(5, generator=gen, dtype=torch.float64).requires_grad_(True)
    term = gradient_penalty(linear_critic(w), real, fake, gen)
    norm = w.detach().norm()
    torch.testing.assert_close(term, ((norm - 1) ** 2).expand(6))
    (grad,) = torch.autograd.grad(term.mean(), w)
    torch.testing.assert_close(grad, 2 * (norm - 1) * w.detach() / norm)
    unit = linear_critic(w.detach() / norm)
    torch.testing.assert_close(gradient_penalty(unit, real, fake, gen), torch.zeros(6, dtype=torch.float64))


def test_gradient_penalty_per_seed_and_per_image() -> None:
    """Grouped [S, B, d] inputs give [S, B] terms with each seed's own (||w_s|| - 1)^2; images [B, C, H, W] take
    the norm over all of C, H, W (a linear D on images: (||W||_F - 1)^2)."""
    gen = torch.Generator().manual_seed(2)
    w = torch.randn(3, 4, generator=gen, dtype=torch.float64)
    x = torch.randn(3, 5, 4, generator=gen, dtype=torch.float64)
    term = gradient_penalty(linear_critic(w), x, x.flip(1), gen, batch_dims=2)
    torch.testing.assert_close(term, ((w.norm(dim=1) - 1) ** 2)[:, None].expand(3, 5))
    kernel = torch.randn(2, 3, 3, generator=gen, dtype=torch.float64)
    images = torch.randn(4, 2, 3, 3, generator=gen, dtype=torch.float64)
    term = gradient_penalty(lambda x: (x * kernel).sum((1, 2, 3))[:, None], images, images.flip(0), gen)
    torch.testing.assert_close(term, ((kernel.norm() - 1) ** 2).expand(4))


def interpolation_weights(seed: int, n: int = 20_000) -> torch.Tensor:
    """The eps of each sample, recovered through D(x) = ||x||^2 / 2 (grad = x_hat = eps * real for fake = 0,
    real of unit norm, so the term is (eps - 1)^2)."""
    real = torch.nn.functional.normalize(torch.randn(n, 3, generator=torch.Generator().manual_seed(99)), dim=1)
    gen = torch.Generator().manual_seed(seed)
    term = gradient_penalty(lambda x: 0.5 * x.square().sum(1, keepdim=True), real, torch.zeros_like(real), gen)
    return 1 - term.detach().sqrt()


def test_gradient_penalty_interpolates_uniformly_from_the_generator() -> None:
    """One eps ~ U[0, 1] per sample (mean 1/2, sd of the mean 0.002 at n = 20000), from the explicit generator
    only: same seed same eps, another seed other eps, and the global RNG is not drawn from."""
    state = torch.get_rng_state()
    eps = interpolation_weights(0)
    assert torch.equal(torch.get_rng_state(), state)
    assert float(eps.min()) >= -1e-6 and float(eps.max()) <= 1 + 1e-6
    assert float(eps.mean()) == pytest.approx(0.5, abs=0.01)
    assert float(eps.var()) == pytest.approx(1 / 12, abs=0.005)
    assert torch.equal(eps, interpolation_weights(0))
    assert not torch.allclose(eps, interpolation_weights(1))


def test_r1_penalty_closed_forms() -> None:
    """Mescheder et al. 2018 eq. 9 (term with its 1/2): linear D -> ||w||^2 / 2 and d/dw = w; quadratic
    D(x) = x'Ax/2 -> ||A x||^2 / 2 for each sample separately; grouped -> [S, B]."""
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(7, 4, generator=gen, dtype=torch.float64)
    w = torch.randn(4, generator=gen, dtype=torch.float64).requires_grad_(True)
    term = r1_penalty(linear_critic(w), x)
    torch.testing.assert_close(term, (0.5 * w.detach().square().sum()).expand(7))
    torch.testing.assert_close(torch.autograd.grad(term.mean(), w)[0], w.detach())
    a = torch.randn(4, 4, generator=gen, dtype=torch.float64)
    a = a + a.T
    term = r1_penalty(lambda x: 0.5 * torch.einsum("bi,ij,bj->b", x, a, x)[:, None], x)
    torch.testing.assert_close(term, 0.5 * (x @ a).square().sum(1))
    ws = torch.randn(2, 4, generator=gen, dtype=torch.float64)
    term = r1_penalty(linear_critic(ws), x.expand(2, 7, 4), batch_dims=2)
    torch.testing.assert_close(term, 0.5 * ws.square().sum(1, keepdim=True).expand(2, 7))


def test_r1_through_a_grouped_vmapped_critic_equals_separate_critics() -> None:
    """The engine's grouped D (stacked parameters, vmap + functional_call): per-seed R1 terms and their
    gradients to each seed's parameters equal those of separate networks."""
    gen = torch.Generator().manual_seed(4)
    nets = [nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)).double() for _ in range(3)]
    for net in nets:
        for param in net.parameters():
            nn.init.normal_(param, generator=gen)
    params, buffers = stack_module_state(nets)
    base = copy.deepcopy(nets[0]).to("meta")
    grouped = vmap(lambda p, b, x: functional_call(base, (p, b), (x,)))
    x = torch.randn(3, 5, 3, generator=gen, dtype=torch.float64)
    term = r1_penalty(lambda x: grouped(params, buffers, x), x, batch_dims=2)
    grads = torch.autograd.grad(term.mean(1).sum(), params["0.weight"])[0]
    for s, net in enumerate(nets):
        separate = r1_penalty(net, x[s])
        torch.testing.assert_close(term[s], separate)
        torch.testing.assert_close(grads[s], torch.autograd.grad(separate.mean(), net[0].weight)[0])


def test_penalty_refuses_a_batch_dims_that_does_not_match_the_critic() -> None:
    w = torch.randn(4)
    with pytest.raises(ValueError, match=r"not \[\*batch, 1\]"):
        r1_penalty(linear_critic(w), torch.randn(2, 5, 4).flatten(0, 1), batch_dims=2)
    with pytest.raises(ValueError, match="differ in shape"):
        gradient_penalty(linear_critic(w), torch.randn(3, 4), torch.randn(2, 4), torch.Generator())


def test_weight_clipping_bounds_every_parameter() -> None:
    """WGAN (Arjovsky et al. 2017, Algorithm 1): after clipping every parameter lies in [-c, c]; entries already
    inside are unchanged, the others become +-c with their sign."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.Linear(16, 1))
    before = [param.detach().clone() for param in net.parameters()]
    bound = 0.0625  # a power of 2, so float32 holds it exactly and the comparisons can be exact
    clip_weights_(net, bound)
    for old, new in zip(before, [param.detach() for param in net.parameters()]):
        inside = old.abs() <= bound
        assert float(new.abs().max()) <= bound
        assert torch.equal(new[inside], old[inside])
        assert torch.equal(new[~inside], bound * old[~inside].sign())
    with pytest.raises(GanEvalError, match="must be positive"):
        clip_weights_(net, 0.0)


# --- spectral normalisation ---------------------------------------------------------------------------------------

def largest_singular_value(layer: nn.Module, out_dim: int = 0) -> float:
    return float(torch.linalg.matrix_norm(layer.weight.detach().movedim(out_dim, 0).flatten(1), ord=2))


@pytest.mark.parametrize("layer,out_dim", [(nn.Linear(20, 30), 0), (nn.Conv2d(3, 8, 3), 0),
                                           (nn.ConvTranspose2d(4, 6, 3), 1)], ids=["linear", "conv", "deconv"])
def test_spectral_norm_gives_unit_largest_singular_value(layer: nn.Module, out_dim: int) -> None:
    """Miyato et al. 2018: after enough training-mode forwards (power iterations) sigma(W_SN) = 1 (LAPACK's SVD)."""
    gen = torch.Generator().manual_seed(5)
    with torch.no_grad():
        layer.weight.normal_(generator=gen)
    assert largest_singular_value(layer, out_dim) > 2
    spectral_norm_all(layer, gen)
    x = torch.randn((2, 20) if isinstance(layer, nn.Linear) else (1, layer.in_channels, 6, 6), generator=gen)
    with torch.no_grad():
        for _ in range(200):  # worst of 40 seeds: |sigma - 1| = 2e-6 (conv), where 100 left 2e-4
            layer(x)
    assert largest_singular_value(layer, out_dim) == pytest.approx(1.0, abs=1e-4)


def test_spectral_norm_matches_pytorch() -> None:
    """From the same u, v, the same outputs and vectors as torch.nn.utils.parametrizations.spectral_norm over
    training-mode forwards, and in eval mode."""
    gen = torch.Generator().manual_seed(6)
    ours = nn.Sequential(nn.Conv2d(2, 4, 3), nn.Flatten(), nn.Linear(16, 1))
    theirs = copy.deepcopy(ours)
    spectral_norm_all(ours, gen, n_power_iterations=2)
    for layer in (theirs[0], theirs[2]):
        torch.nn.utils.parametrizations.spectral_norm(layer, n_power_iterations=2)
    for a, b in zip((ours[0], ours[2]), (theirs[0], theirs[2])):
        a.parametrizations.weight[0]._u.copy_(b.parametrizations.weight[0]._u)
        a.parametrizations.weight[0]._v.copy_(b.parametrizations.weight[0]._v)
    x = torch.randn(5, 2, 4, 4, generator=gen)
    for _ in range(4):
        torch.testing.assert_close(ours(x), theirs(x))
    torch.testing.assert_close(ours[2].parametrizations.weight[0]._u, theirs[2].parametrizations.weight[0]._u)
    torch.testing.assert_close(ours.eval()(x), theirs.eval()(x))


def test_spectral_norm_runs_in_a_grouped_vmapped_network() -> None:
    """Stacked per-seed parameters and power-iteration vectors under vmap + functional_call (the engine's grouped
    nets) give each seed's separate network's outputs and vector updates, training steps included."""
    gen = torch.Generator().manual_seed(7)
    nets = [spectral_norm_all(nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1)), gen) for _ in range(2)]
    separate = copy.deepcopy(nets)
    params, buffers = stack_module_state(nets)
    base = copy.deepcopy(nets[0]).to("meta")
    grouped = vmap(lambda p, b, x: functional_call(base, (p, b), (x,)))
    x = torch.randn(2, 5, 3, generator=gen)
    for _ in range(3):
        out = grouped(params, buffers, x)
        out.sum().backward()
        for s, net in enumerate(separate):
            torch.testing.assert_close(out[s], net(x[s]))
    for s, net in enumerate(separate):
        torch.testing.assert_close(buffers["2.parametrizations.weight.0._u"][s], net[2].parametrizations.weight[0]._u)


def test_spectral_norm_vectors_come_from_the_generator_only() -> None:
    """Same generator seed, same vectors; another seed, others (W = [I | 0] has all singular values equal, so the
    power iteration keeps the initial direction); the global RNG is not drawn from."""

    def vector(seed: int) -> torch.Tensor:
        layer = nn.Linear(6, 5)
        with torch.no_grad():
            layer.weight.copy_(torch.eye(5, 6))
        state = torch.get_rng_state()
        spectral_norm_all(layer, torch.Generator().manual_seed(seed))
        assert torch.equal(torch.get_rng_state(), state)
        return layer.parametrizations.weight[0]._v

    assert torch.equal(vector(0), vector(0))
    assert not torch.allclose(vector(0).abs(), vector(1).abs(), atol=1e-3)


def test_spectral_norm_refuses_nets_without_layers_and_twice() -> None:
    with pytest.raises(ValueError, match="no Linear or Conv layer"):
        spectral_norm_all(nn.ReLU(), torch.Generator())
    layer = spectral_norm_all(nn.Linear(2, 2), torch.Generator())
    with pytest.raises(ValueError, match="already has a parametrised weight"):
        spectral_norm_all(layer, torch.Generator())
