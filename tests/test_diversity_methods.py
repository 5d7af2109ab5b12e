"""The diversity-regularised methods' losses without training, against closed forms, scipy and formulas written here
independently: GDPP (Elfeki et al. 2019), MD-GAN (Eghbal-zadeh et al. 2019), Dist-GAN (Tran et al. 2018); and MD-GAN's and
Dist-GAN's learning-rate schedules as their reference codes compute them, at every optimizer step and across a resume."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal

from gan_eval.errors import GanEvalError
from trainers.loop import Run, TrainConfig, train
from trainers.methods import METHODS
from trainers.methods.base import DataShape, make_params
from trainers.methods.distgan import latent_data_distance
from trainers.methods.gdpp import SymmetricEigh, gdpp_loss
from trainers.methods.mdgan import COVARIANCE_SCALE, mixture_density, mixture_maximum, reference_simplex_radius, simplex_vertices



def features(seed: int, batch: int = 16, width: int = 24) -> torch.Tensor:
    return torch.randn(batch, width, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_gdpp_loss_is_zero_when_the_fake_batch_is_the_real_batch_and_positive_otherwise():
    """Closed form: equal batches have equal DPP kernels, hence equal eigenpairs (magnitude 0, every cosine 1)."""
    real = features(0)
    assert gdpp_loss(real.clone(), real).item() == pytest.approx(0.0, abs=1e-12)
    for seed in (1, 2, 3):
        assert gdpp_loss(features(seed), real).item() > 1e-3
    # a batch of the same samples in another order has the same eigenvalues but other eigenvectors
    assert gdpp_loss(real.flip(0), real).item() > 1e-3


def test_gdpp_updates_as_its_reference_code_on_each_data_kind():
    """M-Elfeki/GDPP: gdppgan_Synthetic.py runs both train ops from one forward pass (simultaneous); the Stacked-MNIST
    script (gdppgan_stackedMnist.py L150-160) steps D, then G on fresh noise (sequential); a set value wins."""
    def update(kind: str, **params: object) -> str:
        data = DataShape((2,), "vector") if kind == "vector" else DataShape((3, 28, 28), "image", (0.0, 1.0))
        return METHODS.get("gdpp")(make_params("gdpp", params), data, torch.device("cpu")).update

    assert (update("vector"), update("image")) == ("simultaneous", "sequential")
    assert update("image", update="simultaneous") == "simultaneous"
    with pytest.raises(GanEvalError, match="update='both'"):
        make_params("gdpp", {"update": "both"})


def test_gdpp_loss_of_grouped_seeds_is_each_seeds_own():
    fake, real = torch.stack([features(1), features(2)]), torch.stack([features(3), features(4)])
    grouped = gdpp_loss(fake, real)
    assert grouped.shape == (2,)
    torch.testing.assert_close(grouped, torch.stack([gdpp_loss(fake[i], real[i]) for i in range(2)]), rtol=1e-12, atol=1e-12)


def test_gdpp_loss_equals_the_reference_formula_plus_its_g_independent_constant():
    """M-Elfeki/GDPP ``compute_gdpp`` (PyTorch port in GDPP_Loss_Tensorflow_Pytorch.py) written out in numpy:
    ours = reference + sum of the min-max normalised real eigenvalues (a constant for G)."""
    fake, real = features(5).numpy(), features(6).numpy()

    def eig(phi):
        phi = phi / np.linalg.norm(phi, axis=1, keepdims=True)
        # torch's eigh, so that both sides choose the same eigenvector signs (the loss depends on them, as the reference's)
        values, vectors = torch.linalg.eigh(torch.from_numpy(phi @ phi.T))
        return values.numpy(), vectors.numpy()

    (fv, fu), (rv, ru) = eig(fake), eig(real)
    normalised = (rv - rv.min()) / (rv.max() - rv.min())
    reference = 1e-4 * np.mean((fv - rv) ** 2) + np.sum(normalised * -np.sum(fu * ru, axis=0))
    assert gdpp_loss(torch.from_numpy(fake), torch.from_numpy(real)).item() == pytest.approx(reference + normalised.sum(), rel=1e-10)


def test_safe_eigh_backward_equals_torch_eigh_backward_where_eigenvalues_are_distinct():
    """Our TensorFlow-style eigh gradient against torch's own (a peer) on a full-rank symmetric kernel, and finite
    where torch's is not (a rank-deficient kernel: repeated zero eigenvalues)."""
    phi = features(7, batch=6, width=10)
    kernel = phi @ phi.T
    weights = torch.randn(6, 6, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    ours = kernel.clone().requires_grad_(True)
    values, vectors = SymmetricEigh.apply(ours)
    ((values * weights[0]).sum() + (vectors * weights).sum()).backward()
    theirs = kernel.clone().requires_grad_(True)
    values, vectors = torch.linalg.eigh(theirs)
    ((values * weights[0]).sum() + (vectors * weights).sum()).backward()
    torch.testing.assert_close(ours.grad, 0.5 * (theirs.grad + theirs.grad.T), rtol=1e-8, atol=1e-10)

    wide = features(9, batch=12, width=3).requires_grad_(True)  # a 12 x 12 kernel of rank 3
    gdpp_loss(wide, features(10, batch=12, width=3)).backward()
    assert torch.isfinite(wide.grad).all()


def test_simplex_vertices_are_a_regular_simplex_of_unit_radius():
    """Closed form: m + 1 unit vectors summing to 0 with pairwise inner products -1/m."""
    m = 9
    v = simplex_vertices(m)
    assert v.shape == (m + 1, m)
    torch.testing.assert_close(v.norm(dim=1), torch.ones(m + 1, dtype=torch.float64))
    gram = v @ v.T
    torch.testing.assert_close(gram, torch.full_like(gram, -1.0 / m).fill_diagonal_(1.0), atol=1e-12, rtol=0)


def test_mdgan_mixture_likelihood_equals_scipys_on_fixed_embeddings():
    """p(e) = sum_k 1/K N(e; mu_k, 0.25 I) against scipy.stats.multivariate_normal, at random points, at the means
    and at a grouped [S, B, m] batch."""
    means = simplex_vertices(9)
    points = torch.cat([torch.randn(20, 9, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 0.6, means])
    expected = sum(multivariate_normal(mu.numpy(), COVARIANCE_SCALE * np.eye(9)).pdf(points.numpy()) for mu in means) / len(means)
    np.testing.assert_allclose(mixture_density(points, means).numpy(), expected, rtol=1e-12)
    grouped = mixture_density(points.reshape(2, 15, 9), means)
    np.testing.assert_allclose(grouped.reshape(-1).numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("radius", [1.0, reference_simplex_radius(9)])
def test_mdgan_lambda_is_the_maximum_of_the_mixture_density(radius):
    """lambda (the reference trains a network to find it) is the density at the simplex's centre, in closed form
    (2 pi 0.25)^(-9/2) exp(-r^2 / (2 * 0.25)) (every mean at distance r: the unit simplex and the reference's), and no
    density at the means or at 20,000 random points around the means and the centre exceeds it."""
    means = simplex_vertices(9, radius)
    lam = mixture_maximum(means)
    assert lam == pytest.approx((2 * np.pi * 0.25) ** -4.5 * np.exp(-2.0 * radius**2), rel=1e-12)
    centres = torch.cat([means, torch.zeros(1, 9, dtype=torch.float64)])
    cloud = centres[torch.randint(11, (20_000,), generator=torch.Generator().manual_seed(1))]
    cloud = cloud + 0.2 * torch.randn(20_000, 9, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    assert lam >= mixture_density(means, means).max().item() and lam >= mixture_density(cloud, means).max().item()


def reference_simplex_means(m: int) -> np.ndarray:
    """eghbalz/mdgan ``utils.py`` ``simplex_params`` (L6-54) followed step by step with numpy, loops and all: a
    [coordinate, vertex] array of unit basis vectors and a last column ``(1 - sqrt(m + 1)) / m``; each coordinate
    centred over the vertices; every entry divided by ``s``, where ``s`` takes, for each coordinate of the first vertex
    in turn, ``sqrt(s + that coordinate squared)`` (the square root inside the loop, as there); transposed to
    [vertex, coordinate]."""
    x = np.zeros((m, m + 1))
    x[np.arange(m), np.arange(m)] = 1.0
    x[:, m] = (1.0 - np.sqrt(m + 1.0)) / m
    x -= x.sum(axis=1, keepdims=True) / (m + 1)
    s = 0.0
    for i in range(m):
        s = np.sqrt(s + x[i, 0] ** 2)
    return (x / s).T


def test_mdgan_mixture_means_are_the_reference_codes_simplex():
    """The means MD-GAN trains with by default equal eghbalz/mdgan's (utils.py, followed step by step above): 0.9436
    from the centre, not 1 (the unit simplex, reachable as simplex_radius=1, is what this toolkit used before)."""
    mdgan = METHODS.get("mdgan")(make_params("mdgan", {}), DataShape((2,)), torch.device("cpu"))
    expected = reference_simplex_means(9)
    np.testing.assert_allclose(mdgan.means.double().numpy(), expected, rtol=0, atol=1e-6)  # float32 on the method
    assert np.linalg.norm(expected, axis=1) == pytest.approx(np.full(10, 0.94357), abs=1e-5)
    unit = METHODS.get("mdgan")(make_params("mdgan", {"simplex_radius": "1"}), DataShape((2,)), torch.device("cpu"))
    np.testing.assert_allclose(unit.means.double().numpy(), simplex_vertices(9).numpy(), rtol=0, atol=1e-6)
    assert mdgan.lam == pytest.approx((2 * np.pi * 0.25) ** -4.5 * np.exp(-2.0 * 0.94356783**2), rel=1e-6)


def test_distgan_distance_constraint_equals_its_formula_written_independently():
    """R_reg = (mean(x_r - G(z)) - lambda_w mean(E(x) - z))^2 (distgan_toy2d.py L89-91), the means over the whole batch,
    by numpy loops; grouped, one value per seed; zero when the data and code gaps agree."""
    gen = np.random.default_rng(0)
    x_recon, x_fake = gen.normal(size=(2, 7, 3, 4, 4)), gen.normal(size=(2, 7, 3, 4, 4))
    z_enc, z = gen.normal(size=(2, 7, 5)), gen.normal(size=(2, 7, 5))
    for s in range(2):
        data_gap = sum(float(x_recon[s][i].sum() - x_fake[s][i].sum()) for i in range(7)) / x_recon[s].size
        code_gap = sum(float(z_enc[s][i].sum() - z[s][i].sum()) for i in range(7)) / z[s].size
        expected = (data_gap - 0.15625 * code_gap) ** 2
        ours = latent_data_distance(*(torch.from_numpy(a[s]) for a in (x_recon, x_fake, z_enc, z)), 0.15625)
        assert ours.item() == pytest.approx(expected, rel=1e-12)
        grouped = latent_data_distance(*(torch.from_numpy(a) for a in (x_recon, x_fake, z_enc, z)), 0.15625, batch_dims=2)
        assert grouped[s].item() == pytest.approx(expected, rel=1e-12)
    shifted = torch.from_numpy(x_fake[0]) + 0.3
    code = torch.from_numpy(z[0])
    assert latent_data_distance(shifted, torch.from_numpy(x_fake[0]), code + 0.6, code, 0.5).item() == pytest.approx(0.0, abs=1e-20)


def small_image_distgan(**params: object):
    """A set-up Dist-GAN on 3 x 28 x 28 images with narrow nets (milliseconds a step)."""
    m = METHODS.get("distgan")(make_params("distgan", {"width": 4, "latent_dim": 8, "batch_size": 6, **params}),
                               DataShape((3, 28, 28), "image", (-1.0, 1.0)), torch.device("cpu"))
    m.setup(torch.Generator().manual_seed(0))
    return m


def test_distgan_image_distance_is_taken_in_d_features_with_lambda_w_sqrt_d_over_feature_width():
    """tntrung/gan distgan_image/distgan.py L192-195: on images R_reg's data gap is mean(f(x_r) - f(G(z))), f D's
    flattened last hidden layer, and the mains set lambda_w = sqrt(noise_dim / feature_dim) (distgan_cifar.py,
    distgan_celeba.py, distgan_mnist.py). Written out here from D's body and the nets; distance_space=data keeps the gap
    on the images (before 2026-11-30), with lambda_w then sqrt(latent / pixels)."""
    gen = torch.Generator().manual_seed(3)
    x, z = torch.rand(6, 3, 28, 28, generator=gen) * 2 - 1, torch.rand(6, 8, generator=gen) * 2 - 1
    for space in ("features", "data"):
        m = small_image_distgan(distance_space=space)
        G, E, D = m.nets["G"], m.nets["E"], m.nets["D"]
        reconstruction, distance = m.autoencoder_loss(x, z)
        with torch.no_grad():
            code = E(x)
            recon, fake = G(code), G(z)
            f_real, f_recon, f_fake = D.body(x), D.body(recon), D.body(fake)
            width = f_real.shape[1] if space == "features" else 3 * 28 * 28
            gap = (f_recon - f_fake).mean() if space == "features" else (recon - fake).mean()
            lambda_w = (8 / width) ** 0.5
            expected = (gap - lambda_w * (code - z).mean()).square()
        assert m.params.lambda_w == pytest.approx(lambda_w, rel=1e-12)
        assert distance.item() == pytest.approx(expected.item(), rel=1e-4, abs=1e-9)
        assert reconstruction.item() == pytest.approx((f_real - f_recon).square().mean().item(), rel=1e-5)
    assert small_image_distgan().params.distance_space == "features"
    with pytest.raises(GanEvalError, match="distance_space"):
        small_image_distgan(distance_space="pixels")


def autoencoder_step_moves(m, x: torch.Tensor, z: torch.Tensor) -> set[str]:
    """The nets whose parameters one reconstruction step (``reconstruction + lambda_r R_reg``, optimizer R) changes."""
    before = {name: [t.detach().clone() for t in net.parameters()] for name, net in m.nets.items()}
    reconstruction, distance = m.autoencoder_loss(x, z)
    m.descend(reconstruction + m.params.lambda_r * distance, "R", 0)
    return {name for name, net in m.nets.items() if any(not torch.equal(a, b) for a, b in zip(before[name], net.parameters()))}


def test_distgan_autoencoder_step_moves_the_encoder_alone_on_images_and_with_the_generator_on_mixtures():
    """tntrung/gan at 6e67fe3: distgan_image/distgan.py L281-284 gives the reconstruction optimizer var_list=vars_e on
    CIFAR-10 / CelebA / STL-10 (vars_e + vars_g only for MNIST), distgan_toy2d.py L123 theta_E + theta_G. Checked by
    which nets one R step changes (D never: its features enter the image loss, but it is not R's to move); before
    2026-11-30 images moved E and G, which autoencoder_updates=encoder+generator restores."""
    gen = torch.Generator().manual_seed(5)
    x, z = torch.rand(6, 3, 28, 28, generator=gen) * 2 - 1, torch.rand(6, 8, generator=gen) * 2 - 1
    assert small_image_distgan().params.autoencoder_updates == "encoder"
    assert autoencoder_step_moves(small_image_distgan(), x, z) == {"E"}
    assert autoencoder_step_moves(small_image_distgan(autoencoder_updates="encoder+generator"), x, z) == {"E", "G"}
    vector = scheduled("distgan")
    assert vector.params.autoencoder_updates == "encoder+generator"
    assert autoencoder_step_moves(vector, torch.randn(32, 2, generator=gen), torch.rand(32, 2, generator=gen) * 2 - 1) == {"E", "G"}
    with pytest.raises(GanEvalError, match="autoencoder_updates='generator'; use one of encoder, encoder\\+generator"):
        small_image_distgan(autoencoder_updates="generator")


def test_distgan_image_d_weights_follow_the_reference_linear_schedule_over_the_run():
    """tntrung/gan at 6e67fe3, distgan_image/distgan.py L197-204: with t = i / n_steps, mu = max(min((t * 0.1 - 0.05) * 2,
    0.05), 0), D's weights are (0.95 + mu, 0.05 - mu, 1): the closed form is written out here at iterations before, on and
    after the ramp from t = 0.5 to t = 0.75, with n_steps the run's steps. d_weight_schedule=fixed keeps (0.95, 0.05, 1),
    the weights of every image run before 2026-11-30; the mixtures keep the 2-D code's (0.5, 0.5, 1)."""
    def closed_form(i: int, n: int) -> tuple[float, float, float]:
        t = i / n
        w_recon = 0.05 if t <= 0.5 else 0.0 if t >= 0.75 else 0.05 - 0.2 * (t - 0.5)
        return 1.0 - w_recon, w_recon, 1.0

    m = METHODS.get("distgan")(make_params("distgan", {"width": 4, "latent_dim": 8, "batch_size": 6}),
                               DataShape((3, 28, 28), "image", (-1.0, 1.0)), torch.device("cpu"))
    m.run_steps = 1000
    m.setup(torch.Generator().manual_seed(0))
    assert m.params.d_weight_schedule == "linear" and m.horizon == 1000 and not m.graph_safe
    for i in (0, 1, 499, 500, 501, 600, 625, 700, 749, 750, 751, 1000, 5000):
        assert m.d_weights(i) == pytest.approx(closed_form(i, 1000), abs=1e-12), i
    assert m.d_weights(600) == pytest.approx((0.97, 0.03, 1.0), abs=1e-12)
    assert small_image_distgan().horizon == 25_000  # outside a run: the method's default budget
    fixed = small_image_distgan(d_weight_schedule="fixed")
    assert all(fixed.d_weights(i) == pytest.approx((0.95, 0.05, 1.0), abs=1e-15) for i in (0, 20_000, 25_000)) and fixed.graph_safe
    assert all(scheduled("distgan").d_weights(i) == (0.5, 0.5, 1.0) for i in (0, 25_000))
    with pytest.raises(GanEvalError, match="d_weight_schedule='linear'"):
        scheduled("distgan", d_weight_schedule="linear")
    with pytest.raises(GanEvalError, match="d_weight_schedule='cosine'"):
        small_image_distgan(d_weight_schedule="cosine")


def test_distgan_train_step_reads_its_iteration_weights_and_a_resume_keeps_the_runs_schedule():
    """Each training step asks for the weights of the reference's iteration index (0, 1, ...); the schedule's N is
    checkpointed, so a run extended to more steps goes on with the N it started with (reference: one n_steps per run)."""
    m = small_image_distgan()
    asked: list[int] = []
    weights = m.d_weights
    m.d_weights = lambda i: asked.append(i) or weights(i)
    data = torch.Generator().manual_seed(1)
    for _ in range(3):
        m.train_step(lambda n: torch.rand(n, 3, 28, 28, generator=data) * 2 - 1, torch.Generator().manual_seed(2))
    assert asked == [0, 1, 2]
    state = m.extra_state()
    assert int(state["iterations"]) == 3 and int(state["horizon"]) == 25_000
    extended = METHODS.get("distgan")(m.params, m.data, torch.device("cpu"))
    extended.run_steps = 50_000
    extended.setup(torch.Generator().manual_seed(0))
    assert extended.horizon == 50_000
    extended.load_extra_state(state)
    assert extended.horizon == 25_000 and extended.iterations == 3
    assert "horizon" not in small_image_distgan(d_weight_schedule="fixed").extra_state()


def test_a_run_gives_its_method_its_steps_which_distgan_schedules_over(tmp_path):
    """The loop sets Method.run_steps to the run's configured steps before setup (what Dist-GAN's schedule spans)."""
    run = Run(TrainConfig("distgan", "ring8", steps=123, params={"hidden": 16}), tmp_path / "run")
    assert run.method.run_steps == 123 and run.method.horizon == 123


# --- the reference codes' learning-rate schedules -------------------------------------------------------------------

def scheduled(method: str, **params: object):
    """A set-up method on 2-D data with small nets, so a few steps take milliseconds."""
    m = METHODS.get(method)(make_params(method, {"hidden": 16, "batch_size": 32, **params}), DataShape((2,)), torch.device("cpu"))
    m.setup(torch.Generator().manual_seed(0))
    return m


def rates_of_steps(method, iterations: int) -> list[tuple[str, float]]:
    """(optimizer, learning rate) of every optimizer step of ``iterations`` training iterations, in order."""
    seen: list[tuple[str, float]] = []
    for name, optimizer in method.opt.items():
        def step(*args, _name=name, _optimizer=optimizer, _step=optimizer.step, **kwargs):
            seen.append((_name, _optimizer.param_groups[0]["lr"]))
            return _step(*args, **kwargs)
        optimizer.step = step
    data = torch.Generator().manual_seed(1)
    for _ in range(iterations):
        method.train_step(lambda n: torch.randn(n, 2, generator=data), torch.Generator().manual_seed(2))
    return seen


def test_mdgan_learning_rate_halves_every_500_epochs_as_the_reference_iterator():
    """eghbalz/mdgan iterators.py L4-7: both rates halve at the start of epoch 500, 1000, ... (20 batches an epoch:
    every 10,000 iterations); iteration i's D and G steps take lr * 0.5 ** (i // every), here with every = 3; the
    defaults on vectors are the reference's, and images keep the rate constant (graph-safe)."""
    defaults = scheduled("mdgan")
    assert (defaults.params.lr_decay, defaults.params.lr_decay_every, defaults.params.lr) == (0.5, 10_000, 1e-3)
    assert [defaults.lr_at("D", i) for i in (0, 9_999, 10_000, 19_999, 20_000, 39_999)] == [1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4, 1.25e-4]
    assert not defaults.graph_safe
    image = METHODS.get("mdgan")(make_params("mdgan", {}), DataShape((3, 32, 32), "image"), torch.device("cpu"))
    assert image.params.lr_decay == 1.0 and image.graph_safe
    with pytest.raises(GanEvalError, match="lr_decay_every=0; the rate changes every N >= 1 steps"):
        scheduled("mdgan", lr_decay_every=0)
    seen = rates_of_steps(scheduled("mdgan", lr_decay_every=3), 8)
    assert seen == [(name, 1e-3 * 0.5 ** (i // 3)) for i in range(8) for name in ("D", "G")]


def test_distgan_learning_rate_decays_by_the_reference_global_step_over_all_optimizer_steps():
    """tntrung/gan distgan_toy2d.py L33-34, L118-125: exponential_decay(1e-3, global_step, 10000, 0.9, staircase=True)
    with every solver advancing global_step, so the s-th optimizer step (R, n_critics D, G per iteration) takes
    1e-3 * 0.9 ** (s // every): here every = 5 with 2 critics, so the rate changes within iterations."""
    defaults = scheduled("distgan")
    assert (defaults.params.lr_decay, defaults.params.lr_decay_every, defaults.params.lr) == (0.9, 10_000, 1e-3)
    assert defaults.lr_at("D", 9_999) == 1e-3 and defaults.lr_at("D", 10_000) == pytest.approx(9e-4, rel=1e-15)
    assert defaults.lr_at("D", 70_000) == pytest.approx(1e-3 * 0.9 ** 7, rel=1e-15) and not defaults.graph_safe
    seen = rates_of_steps(scheduled("distgan", n_critics=2, lr_decay_every=5), 6)
    assert [name for name, _ in seen] == ["R", "D", "D", "G"] * 6
    assert [lr for _, lr in seen] == [1e-3 * 0.9 ** (s // 5) for s in range(24)]


@pytest.mark.parametrize("method, params, rates", [
    # iteration 7 (the 8th): MD-GAN's D and G at 1e-3 * 0.5 ** (7 // 3); Dist-GAN's optimizer steps 28 (R), 29-30 (D), 31 (G)
    ("mdgan", {"lr_decay_every": 3}, {"D": 1e-3 * 0.5 ** 2, "G": 1e-3 * 0.5 ** 2}),
    ("distgan", {"n_critics": 2, "lr_decay_every": 5}, {"R": 1e-3 * 0.9 ** 5, "D": 1e-3 * 0.9 ** 6, "G": 1e-3 * 0.9 ** 6}),
])
def test_learning_rate_schedule_survives_kill_and_resume(method, params, rates, tmp_path):
    """A run killed after step 6 (checkpoint at 4) and resumed ends with the networks of an uninterrupted run, bit for
    bit, its iteration count checkpointed, and each optimizer at the schedule's rate of its last step."""
    config = TrainConfig(method, "ring8", seed=1, steps=8, eval_every=4, eval_samples=100, params={"hidden": 16, "batch_size": 32, **params})
    train(config, tmp_path / "full")
    assert train(config, tmp_path / "resumed", stop_after=6) is None
    train(config, tmp_path / "resumed")
    full, resumed = (torch.load(tmp_path / d / "checkpoint.pt", weights_only=True) for d in ("full", "resumed"))
    assert all(torch.equal(full["nets"][k], resumed["nets"][k]) for k in full["nets"])
    assert int(resumed["method"]["iterations"]) == 8
    assert {name: o["param_groups"][0]["lr"] for name, o in resumed["optimizers"].items()} == pytest.approx(rates, rel=1e-15)
