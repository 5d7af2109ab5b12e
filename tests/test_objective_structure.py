"""EBGAN, MMD-GAN and BEGAN proven without training: each quantity against its paper's formula written here
independently (plain Python double sums), plus the tables that run them."""
from __future__ import annotations

import itertools
import math

import pytest
import torch

from trainers.loop import Run, TrainConfig
from trainers.methods.began import convergence_measure, equilibrium_step
from trainers.methods.ebgan import pull_away_term
from trainers.methods.mmdgan import SIGMAS, mmd2



def kernel(a: list[float], b: list[float]) -> float:
    """The mixture of RBF kernels of MMD-GAN's code, sum over sigma of exp(-|a - b|^2 / (2 sigma^2)), by hand."""
    squared = sum((p - q) ** 2 for p, q in zip(a, b))
    return sum(math.exp(-squared / (2 * s * s)) for s in SIGMAS)


def brute_force_mmd2(x: list[list[float]], y: list[list[float]], biased: bool) -> float:
    """Gretton et al. 2012: the unbiased MMD_u^2 (eq. 3; i != j within a sample) or the biased V-statistic MMD_b^2."""
    m = len(x)
    pairs = [(i, j) for i in range(m) for j in range(m) if biased or i != j]
    within = m * m if biased else m * (m - 1)
    xx = sum(kernel(x[i], x[j]) for i, j in pairs) / within
    yy = sum(kernel(y[i], y[j]) for i, j in pairs) / within
    xy = sum(kernel(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


@pytest.mark.parametrize("biased", [False, True], ids=["unbiased", "biased"])
def test_mmd2_equals_brute_force_double_sum_of_gretton_et_al(biased):
    """MMD-GAN's estimate (the code uses the biased one) equals the double sums written out, in float64, on codes
    spread over the kernels' scales (distances from ~0.1 to ~30, where every sigma of 1..16 matters)."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(7, 3, generator=gen, dtype=torch.float64) * 4
    y = torch.randn(7, 3, generator=gen, dtype=torch.float64) * 6 + 2
    expected = brute_force_mmd2(x.tolist(), y.tolist(), biased)
    assert mmd2(x, y, biased=biased).item() == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_biased_mmd2_of_a_sample_with_itself_is_zero():
    """Closed form: the V-statistic of X against X is (sum K_XX + sum K_XX - 2 sum K_XX) / m^2 = 0."""
    x = torch.randn(6, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert mmd2(x, x, biased=True).item() == pytest.approx(0.0, abs=1e-12)


def test_mmd2_of_grouped_seeds_is_each_seeds_own():
    """With a leading seed dimension [S, m, c] each seed's value is the estimate of its own batches."""
    gen = torch.Generator().manual_seed(2)
    x, y = torch.randn(3, 5, 4, generator=gen, dtype=torch.float64), torch.randn(3, 5, 4, generator=gen, dtype=torch.float64)
    grouped = mmd2(x, y, biased=False)
    assert grouped.shape == (3,)
    torch.testing.assert_close(grouped, torch.stack([mmd2(x[s], y[s], biased=False) for s in range(3)]), rtol=1e-12, atol=1e-14)


def brute_force_pull_away(codes: list[list[float]]) -> float:
    """EBGAN eq. 5: 1 / (N (N - 1)) sum_i sum_{j != i} (S_i . S_j / (|S_i| |S_j|))^2."""
    n = len(codes)
    norm = lambda v: math.sqrt(sum(t * t for t in v))  # noqa: E731
    total = sum((sum(p * q for p, q in zip(codes[i], codes[j])) / (norm(codes[i]) * norm(codes[j]))) ** 2
                for i, j in itertools.permutations(range(n), 2))
    return total / (n * (n - 1))


def test_pull_away_term_equals_ebgan_eq5_on_fixed_codes():
    codes = torch.tensor([[1.0, 2.0, 0.5], [-0.3, 1.0, 2.0], [0.7, -1.2, 0.1], [2.0, 0.0, -1.0]], dtype=torch.float64)
    assert pull_away_term(codes).item() == pytest.approx(brute_force_pull_away(codes.tolist()), rel=1e-12)


def test_pull_away_term_is_zero_for_orthogonal_codes_and_one_for_parallel_codes():
    """Closed forms of eq. 5: orthogonal codes have no cosine (0, at any scale); codes along one line, of either sign,
    have squared cosine 1 (1)."""
    orthogonal = torch.diag(torch.tensor([3.0, 0.5, 2.0, 1.0]))
    assert pull_away_term(orthogonal).item() == 0.0
    parallel = torch.tensor([[1.0, -2.0], [-2.0, 4.0], [0.5, -1.0]])
    assert pull_away_term(parallel).item() == pytest.approx(1.0, rel=1e-6)


def test_began_equilibrium_update_follows_the_paper_on_fixed_losses_with_clipping():
    """k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1) over a sequence of fixed losses that pushes k up
    to the upper clip and back down to the lower one; M_global = L(x) + |gamma L(x) - L(G(z))|."""
    gamma, lambda_k = 0.5, 0.1
    losses = [(1.0, 0.1)] * 30 + [(0.2, 0.9)] * 30 + [(0.4, 0.2)]
    k, expected = torch.tensor(0.0), 0.0
    seen = set()
    for real, fake in losses:
        k = equilibrium_step(k, torch.tensor(real), torch.tensor(fake), gamma, lambda_k)
        expected = min(1.0, max(0.0, expected + lambda_k * (gamma * real - fake)))
        assert k.item() == pytest.approx(expected, abs=1e-6)
        seen.add(expected)
    assert {0.0, 1.0} <= seen  # both clips were hit
    assert convergence_measure(torch.tensor(0.4), torch.tensor(0.5), gamma).item() == pytest.approx(0.4 + 0.3)


def test_began_step_updates_k_from_the_losses_it_reports():
    """One BEGAN step from k_0 = 0.3 moves k by lambda_k (gamma L(x) - L(G(z))) of that step's own L(x), L(G(z))."""
    run = Run(TrainConfig("began", "ring8", seed=0, params={"k_0": 0.3, "batch_size": 8}), "/nonexistent-not-created")
    method = run.method
    losses = method.train_step(lambda n: run.data.batch(n, run.generators["data"]), run.generators["noise"])
    p = method.params
    expected = 0.3 + p.lambda_k * (p.gamma * losses["real_loss"].item() - losses["g_loss"].item())
    assert losses["k"].item() == pytest.approx(expected, rel=1e-6) and method.extra_state()["k"].item() == losses["k"].item()


def test_began_draws_z_uniform_on_the_cube_as_the_paper_and_carpedm20():
    """BEGAN's z is uniform on [-1, 1]^64 (the paper's "z in [-1, 1]^N_z uniform random samples"; carpedm20/BEGAN-
    tensorflow trainer.py L173-174): every coordinate within [-1, 1], variance 1/3 (closed form; the N(0, I) drawn
    before has variance 1 and a third of its coordinates outside); ``latent_distribution=normal`` keeps the old draw."""
    for distribution, variance in (("uniform", 1 / 3), ("normal", 1.0)):
        params = {} if distribution == "uniform" else {"latent_distribution": "normal"}
        run = Run(TrainConfig("began", "ring8", seed=0, params=params), "/nonexistent-not-created")
        z = run.method.noise(256, run.generators["noise"])
        assert z.shape == (256, 64) and run.method.latent_spec().latent_distribution == distribution
        assert z.var().item() == pytest.approx(variance, abs=0.03)
        assert (z.abs().max().item() <= 1.0) == (distribution == "uniform")


def test_began_on_images_builds_its_authors_autoencoder_not_the_dcgan_pair():
    """On CelebA-sized images BEGAN's D is carpedm20/BEGAN-tensorflow's (models.py DiscriminatorCNN L22-53): ELU
    convs without BatchNorm, a linear map to the embedding h = 64 (config.py L21 z_num), a decoder that upsamples by
    nearest neighbour and ends, as G does, in no activation (GeneratorCNN L17; data in [-1, 1], utils.py norm_img),
    its samples clipped to the data's range only when drawn (eval mode), as denorm_img clips the saved images.
    The DCGAN pair these trainers built before (BatchNorm, tanh) stays reachable as ``net=auto output=auto``, and the
    2-D runs' recorded settings are unchanged (net and output resolve to auto on vectors)."""
    from torch import nn

    from trainers.methods import METHODS
    from trainers.methods.base import DataShape, resolved_params
    from trainers.nets.image_pair import ClipWhenSampling

    celeba = DataShape((3, 64, 64), "image", (-1.0, 1.0))
    for overrides, authors in (({}, True), ({"net": "auto", "output": "auto"}, False)):
        method = METHODS.get("began")(resolved_params("began", {"width": 4, **overrides}, "image"), celeba, torch.device("cpu"))
        nets = method.build(torch.Generator().manual_seed(0))
        modules = [*nets["G"].modules(), *nets["D"].modules()]
        has_batchnorm = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in modules)
        assert (not has_batchnorm, any(isinstance(m, nn.ELU) for m in modules)) == (authors, authors)
        assert all(isinstance(net[-1], ClipWhenSampling if authors else nn.Tanh) for net in (nets["G"], nets["D"].decoder))
        assert nets["D"].encoder[-1].out_features == 64
        clip = nets["G"][-1] if authors else clip
    v = torch.tensor([-3.0, 0.5, 3.0])
    assert torch.equal(clip.train()(v), v) and torch.equal(clip.eval()(v), torch.tensor([-1.0, 0.5, 1.0]))
    vector = resolved_params("began", {}, "vector")
    assert (vector.net, vector.output) == ("auto", "auto")


def test_mmdgan_critic_schedule_is_the_codes():
    """``Diters = 100`` for the first 25 G iterations and every 500th, else 5 (mmd_gan.py), read from the counter."""
    run = Run(TrainConfig("mmdgan", "ring8", seed=0), "/nonexistent-not-created")
    method = run.method
    schedule = []
    for done in (0, 24, 25, 26, 499, 500, 501, 1000):
        method.load_extra_state({"g_iters": torch.tensor(done)})
        schedule.append(method.critic_iterations())
    assert schedule == [100, 100, 5, 5, 5, 100, 5, 100]


def test_mmdgan_clips_only_the_encoder():
    """After a step every encoder parameter lies in [-0.01, 0.01] (clamped before each critic iteration, then moved by
    at most one RMSprop step of lr 5e-5 per iteration), while the decoder is not clipped (mmd_gan.py)."""
    run = Run(TrainConfig("mmdgan", "ring8", seed=0, params={"warmup_critic_iters": 3, "batch_size": 16}), "/nonexistent-not-created")
    method = run.method
    method.train_step(lambda n: run.data.batch(n, run.generators["data"]), run.generators["noise"])
    encoder = torch.cat([q.flatten() for q in method.nets["D"].encoder.parameters()])
    decoder = torch.cat([q.flatten() for q in method.nets["D"].decoder.parameters()])
    # one RMSprop step after the last clamp moves a parameter by at most lr / sqrt(1 - alpha) = 5e-5 * 10
    assert encoder.abs().max().item() <= 0.01 + 5e-4
    assert decoder.abs().max().item() > 0.05


def test_mode_collapse_mini_declares_the_papers_study():
    """The mini-project's text (PROTOCOLS.md): moons without noise as one 32-point set, latent 2 for 150k and latent 4
    for 200k iterations, the figures' iterations, and its nets and optimiser as mini-gan's defaults."""
    from trainers.methods import make_params
    from trainers.tables import TABLES

    table = TABLES.get("mode-collapse-mini")
    assert [(c.dataset, c.train_size) for c in table.columns] == [("moons-mini", 32)]
    assert {r.params["latent_dim"]: (r.steps, r.snapshots) for r in table.rows} == {
        2: (150_000, (10_000, 40_000, 75_000, 150_000)), 4: (200_000, (10_000, 40_000, 100_000, 200_000))}
    p = make_params("mini-gan")
    assert (p.g_hidden, p.g_hidden2, p.d_hidden, p.d_hidden2, p.init_std, p.lr, p.batch_size) == (8, 4, 64, 8, 1.0, 5e-4, 32)


@pytest.fixture
def tiny_snapshot_table(monkeypatch):
    """mode-collapse-mini at 1/25,000 of its iterations: the same rows, snapshots at 2, 4, 6 / 2, 6."""
    import dataclasses

    from trainers.tables import TABLES

    table = TABLES.get("mode-collapse-mini")
    rows = (dataclasses.replace(table.rows[0], steps=6, snapshots=(2, 4, 6)), dataclasses.replace(table.rows[1], steps=6, snapshots=(2, 6)))
    monkeypatch.setitem(TABLES._items, "tiny-mini", dataclasses.replace(table, name="tiny-mini", rows=rows))
    return "tiny-mini"


def test_a_staged_table_stopped_between_snapshots_resumes(tiny_snapshot_table, tmp_path):
    """A run killed after its first stage holds that stage's budget in its config.json; the same command resumes it
    to the row's budget instead of refusing the folder as another configuration."""
    import dataclasses

    from trainers.reproduce import plan, reproduce, run_jobs
    from trainers.tables import TABLES

    jobs = [job for job in plan(TABLES.get(tiny_snapshot_table), tmp_path / "t", seeds=1) if job.row.label == "GAN z=2"]
    run_jobs([dataclasses.replace(job.config, steps=2) for job in jobs], [job.run_dir for job in jobs], 1)
    summary = reproduce(tiny_snapshot_table, tmp_path / "t", seeds=1, rows=["GAN z=2"])
    assert summary["trained"] == 1 and {e["step"] for e in summary["snapshots"]} == {2, 4, 6}


def test_snapshots_of_a_staged_run_are_the_samples_of_runs_stopped_there(tiny_snapshot_table, tmp_path):
    """The table trains each row in stages to its snapshot iterations (grouped seeds) and keeps each stage's samples;
    a run trained straight to a snapshot's iteration draws exactly those samples (resume is bit-identical), the
    markdown lists every seed's modes and arc coverage at every snapshot and the snapshot figure is drawn."""
    import numpy as np

    from trainers.loop import train
    from trainers.reproduce import reproduce

    summary = reproduce(tiny_snapshot_table, tmp_path / "t", seeds=2, group_seeds=True)
    assert {(e["method"], e["step"]) for e in summary["snapshots"]} == {("GAN z=2", 2), ("GAN z=2", 4), ("GAN z=2", 6), ("GAN z=4", 2), ("GAN z=4", 6)}
    assert len(summary["snapshots"]) == 10 and all(len(e["hq_per_mode"]) == 2 for e in summary["snapshots"])
    for e in summary["snapshots"]:  # each arc's covered share and their mean; an arc is covered only where a sample is HQ on it
        assert len(e["support_percent_per_mode"]) == 2 and e["support_percent"] == sum(e["support_percent_per_mode"]) / 2
        assert all(0 <= p <= 100 and (p == 0 or hq > 0) for p, hq in zip(e["support_percent_per_mode"], e["hq_per_mode"]))
    (run_dir,) = (tmp_path / "t" / "runs").glob("gan-z-2-*-s1")
    config = TrainConfig("mini-gan", "moons-mini", seed=1, steps=4, train_size=32, eval_every=1, eval_samples=500, params={"latent_dim": 2})
    train(config, tmp_path / "straight")
    np.testing.assert_array_equal(np.load(run_dir / "samples-4.npz")["samples"], np.load(tmp_path / "straight" / "samples.npz")["samples"])
    markdown = (tmp_path / "t" / "tiny-mini.md").read_text()
    assert "## Snapshots" in markdown and "| GAN z=4 | moons-mini | 6 |" in markdown and "support covered % per mode" in markdown
    assert (tmp_path / "t" / "tiny-mini-snapshots.png").stat().st_size > 0


def test_family_table_runs_every_row_of_the_family(tmp_path):
    """Smoke test of mode-collapse-mini-family at 1 iteration, 1 seed, on ring8 (grid25 takes the same path), 200
    samples scored: every row (every objective of the family) gets a cell with modes, HQ % and KL, and the curves are
    drawn."""
    from trainers.reproduce import reproduce
    from trainers.tables import TABLES

    summary = reproduce("mode-collapse-mini-family", tmp_path, seeds=1, steps=1, datasets=["ring8"], eval_samples=200)
    cells = {(c["method"], c["dataset"], c["metric"]) for c in summary["cells"] if c["ours"]["n"] == 1 or c["metric"] == "kl"}
    labels = [row.label for row in TABLES.get("mode-collapse-mini-family").rows]
    assert len(labels) == 16 and cells == {(m, "ring8", k) for m in labels for k in ("modes", "hq_percent", "kl")}
    assert (tmp_path / "mode-collapse-mini-family-curves.png").stat().st_size > 0


def test_mmdgan_is_never_staged_since_its_critic_schedule_changes_the_draws(tmp_path):
    """Staged inputs (and CUDA graphs) need the same draws every step; MMD-GAN draws 2 critic batches in its warm-up
    G iteration and 1 after it, so the stepper runs it eagerly even when staging is asked, and steps across the
    change of schedule (a staged step would stop there: "the step drew 4 of the 6 random inputs of its first step")."""
    from trainers.loop import Group
    from trainers.stepper import Stepper

    params = {"warmup_critic_iters": 2, "critic_iters": 1, "warmup_g_iters": 1, "batch_size": 8}
    group = Group([Run(TrainConfig("mmdgan", "ring8", seed=0, params=params), tmp_path / "run")])
    stepper = Stepper(group.method, staged=True)
    assert not stepper.staged
    for _ in range(3):
        stepper.step(group.batch, group.noise())
    assert int(group.method.g_iters) == 3


def test_ebgan_refuses_a_batch_without_pairs_in_one_line():
    """The pull-away term averages over N (N - 1) pairs: a batch of 1 is a one-line error before training."""
    from gan_eval.errors import GanEvalError

    with pytest.raises(GanEvalError, match=r"method ebgan: batch_size=1: .* 2 or more") as info:
        Run(TrainConfig("ebgan", "ring8", params={"batch_size": 1}), "/nonexistent-not-created")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("data", ["vector", "image"])
def test_began_steps_adam_with_the_betas_its_paper_and_port_run(data):
    """The BEGAN paper (Sec. 4.1) names Adam and a learning rate only, i.e. Adam's default betas (0.9, 0.999), and
    carpedm20/BEGAN-tensorflow trainer.py L194 builds ``tf.train.AdamOptimizer(lr)``, whose beta1 is TF's 0.9 (its
    config.py's beta1 0.5 is never passed): both nets step with (0.9, 0.999); ``beta1=0.5`` is the old setting."""
    from trainers.methods import METHODS
    from trainers.methods.base import DataShape, resolved_params

    shape = DataShape((2,), "vector") if data == "vector" else DataShape((3, 32, 32), "image", (-1.0, 1.0))
    for overrides, betas in (({}, (0.9, 0.999)), ({"beta1": 0.5}, (0.5, 0.999))):
        params = resolved_params("began", {"width": 2, "hidden": 8, **overrides}, shape.kind, shape.shape)
        method = METHODS.get("began")(params, shape, torch.device("cpu"))
        method.setup(torch.Generator().manual_seed(0))
        assert all(method.opt[name].param_groups[0]["betas"] == betas for name in ("D", "G"))


@pytest.mark.parametrize("shape, nz", [((2,), 10), ((3, 28, 28), 10), ((3, 32, 32), 128), ((3, 64, 64), 64)])
def test_mmdgan_latent_and_code_size_are_run_exp_shs_for_the_data(shape, nz):
    """OctoberChang/MMD-GAN run_exp.sh: ``NZ=10`` for MNIST, 128 for CIFAR-10 (32 x 32), 64 for CelebA (64 x 64);
    mmd_gan.py L102-105 ties the critic's code (``hidden_dim``) to it. The mixtures keep MNIST's 10 (their recorded
    configuration unchanged); ``latent_dim=10 code_dim=10`` on images is the setting trained before."""
    from trainers.methods import METHODS
    from trainers.methods.base import DataShape, params_record, resolved_params

    kind = "vector" if len(shape) == 1 else "image"
    params = resolved_params("mmdgan", {"width": 2, "hidden": 8}, kind, shape)
    assert (params.latent_dim, params.code_dim) == (nz, nz)
    method = METHODS.get("mmdgan")(params, DataShape(shape, kind, None if kind == "vector" else (-1.0, 1.0)), torch.device("cpu"))
    method.setup(torch.Generator().manual_seed(0))
    x = torch.zeros(2, *shape)
    assert method.nets["D"](x)[1].shape == (2, nz) and method.noise(2, torch.Generator()).shape == (2, nz)
    if kind == "vector":
        assert params_record(params)["latent_dim"] == 10
    old = resolved_params("mmdgan", {"latent_dim": 10, "code_dim": 10}, kind, shape)
    assert (old.latent_dim, old.code_dim) == (10, 10)
