"""The autoencoding terms (trainers/autoencoding.py) against sums written here independently, and the methods built on
them (WAE, alpha-GAN, BMS-VAE, BMS-VAE-GAN) at their hyper-parameter checks. The engine's contract (build, step,
resume, export, score) runs every one of them in tests/test_trainers.py, grouped seeds in test_grouped_training.py."""
from __future__ import annotations

import dataclasses
import itertools
import math

import pytest
import torch
from scipy.stats import truncnorm
from typer.testing import CliRunner

from gan_eval.cli import app
from gan_eval.errors import GanEvalError
from trainers.autoencoding import IMQ_SCALES, best_of_many, gaussian_kl, mmd_imq, reconstruction_cost
from trainers.methods import METHODS, make_params
from trainers.methods.base import DataShape, params_record



def test_best_of_many_picks_the_minimum_over_t_of_the_cost_on_fixed_tensors():
    """Eq. 7 of the BMS paper with max for log-sum-exp: per data point, the smallest of its T reconstruction costs
    (here written as explicit loops over points and samples)."""
    x = torch.tensor([[0.0, 0.0], [1.0, 2.0]])
    reconstructions = torch.tensor([  # [T = 3, B = 2, 2]
        [[1.0, 1.0], [1.0, 2.5]],
        [[0.5, -0.5], [4.0, 2.0]],
        [[-2.0, 0.0], [1.0, 2.0]],
    ])
    for cost, c in (("l1", lambda a, b: sum(abs(u - v) for u, v in zip(a, b))), ("l2sq", lambda a, b: sum((u - v) ** 2 for u, v in zip(a, b)))):
        expected = [min(c(x[i].tolist(), reconstructions[t, i].tolist()) for t in range(3)) for i in range(2)]
        assert best_of_many(x, reconstructions, cost, 1).tolist() == pytest.approx(expected)
    # by hand: point 0's best is sample 1 (|0.5| + |-0.5| = 1), point 1's is sample 2 (an exact reconstruction)
    assert best_of_many(x, reconstructions, "l1", 1).tolist() == [1.0, 0.0]


def test_best_of_many_with_one_sample_is_the_plain_reconstruction_of_alpha_gan():
    """T = 1: the per-sample cost of the one reconstruction, so its mean is alpha-GAN's lambda-free L1 term
    mean_i ||x_i - G(E(x_i))||_1; for images the sum runs over every pixel; grouped seeds keep their dimension."""
    gen = torch.Generator().manual_seed(0)
    x, x_hat = torch.randn(2, 5, 3, 4, 4, generator=gen), torch.randn(2, 5, 3, 4, 4, generator=gen)  # [S, B, C, H, W]
    plain = (x - x_hat).abs().sum(dim=(-3, -2, -1))
    torch.testing.assert_close(best_of_many(x, x_hat.unsqueeze(1), "l1", 3), plain)
    torch.testing.assert_close(best_of_many(x, x_hat.unsqueeze(1), "l1", 3).mean(), (x - x_hat).abs().flatten(2).sum(-1).mean())
    torch.testing.assert_close(reconstruction_cost(x, x_hat, "l2sq", 3), (x - x_hat).square().sum(dim=(-3, -2, -1)))


def test_best_of_many_refuses_reconstructions_of_another_shape():
    with pytest.raises(ValueError, match=r"not \[\*lead, T, B, \*sample\]"):
        best_of_many(torch.zeros(4, 2), torch.zeros(3, 5, 2), "l1", 1)


def brute_force_mmd_imq(q: list[list[float]], p: list[list[float]], d: int) -> float:
    """WAE-MMD written as the paper's estimator (Tolstikhin et al. 2018, Algorithm 2): for each IMQ scale,
    1/(n(n-1)) sum_{i != j} [k(q_i, q_j) + k(p_i, p_j)] - 2/n^2 sum_{i, j} k(q_i, p_j), k = C / (C + ||a - b||^2)."""
    n = len(q)

    def k(a: list[float], b: list[float], c: float) -> float:
        return c / (c + sum((u - v) ** 2 for u, v in zip(a, b)))

    total = 0.0
    for scale in (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0):
        c = 2.0 * d * scale
        same = sum(k(q[i], q[j], c) + k(p[i], p[j], c) for i, j in itertools.permutations(range(n), 2))
        cross = sum(k(q[i], p[j], c) for i in range(n) for j in range(n))
        total += same / (n * (n - 1)) - 2.0 * cross / n**2
    return total


def test_wae_mmd_penalty_equals_a_brute_force_double_sum_u_statistic():
    gen = torch.Generator().manual_seed(1)
    q, p = torch.randn(7, 3, generator=gen, dtype=torch.float64) * 1.5 + 0.3, torch.randn(7, 3, generator=gen, dtype=torch.float64)
    assert IMQ_SCALES == (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
    assert float(mmd_imq(q, p)) == pytest.approx(brute_force_mmd_imq(q.tolist(), p.tolist(), 3), rel=1e-12)
    # grouped seeds: one penalty per seed, each its own batch's
    stacked = mmd_imq(torch.stack([q, p]), torch.stack([p, q]))
    assert stacked.tolist() == pytest.approx([brute_force_mmd_imq(q.tolist(), p.tolist(), 3), brute_force_mmd_imq(p.tolist(), q.tolist(), 3)], rel=1e-12)
    # unbiased: two batches of one distribution give a penalty near 0, a shifted one a clearly positive penalty
    same = mmd_imq(torch.randn(400, 3, generator=gen), torch.randn(400, 3, generator=gen))
    shifted = mmd_imq(torch.randn(400, 3, generator=gen) + 1.0, torch.randn(400, 3, generator=gen))
    assert abs(float(same)) < 0.02 < float(shifted)


def test_gaussian_kl_equals_torch_distributions_kl():
    """Peer: torch.distributions.kl_divergence(Normal(m, s), Normal(0, 1)) summed over the code's dimensions."""
    gen = torch.Generator().manual_seed(2)
    mean, log_variance = torch.randn(6, 4, generator=gen), torch.randn(6, 4, generator=gen)
    peer = torch.distributions.kl_divergence(torch.distributions.Normal(mean, (0.5 * log_variance).exp()), torch.distributions.Normal(0.0, 1.0))
    torch.testing.assert_close(gaussian_kl(mean, log_variance), peer.sum(-1))


def build(method: str, shape: tuple[int, ...] = (2,), kind: str = "vector", **params: object):
    m = METHODS.get(method)(make_params(method, params), DataShape(shape, kind), torch.device("cpu"))
    m.setup(torch.Generator().manual_seed(0))
    return m


def test_wae_deterministic_encoder_is_e_of_x_and_draws_no_noise_bit_for_bit():
    """encoder_noise off (the default, and ``deterministic`` named): the code is E(x) exactly and the noise
    generator is not advanced, so default WAE runs keep their trajectories; ``add_noise`` and ``gaussian`` draw."""
    x = torch.randn(50, 2, generator=torch.Generator().manual_seed(1))
    for params in ({}, {"encoder_noise": "deterministic"}):
        method = build("wae", **params)
        noise = torch.Generator().manual_seed(7)
        codes, kl = method.encode(x, noise)
        assert kl is None and torch.equal(codes, method.nets["E"](x).unsqueeze(0))
        assert torch.equal(noise.get_state(), torch.Generator().manual_seed(7).get_state())
    for noisy in ("add_noise", "gaussian"):
        noise = torch.Generator().manual_seed(7)
        build("wae", encoder_noise=noisy).encode(x, noise)
        assert not torch.equal(noise.get_state(), torch.Generator().manual_seed(7).get_state()), noisy


def test_wae_add_noise_is_scipys_truncated_normal_at_two_sd_on_the_encoders_input_only():
    """tolstikhin/wae models.py L8-16: E reads x + tf.truncated_normal(sd 0.01) (redrawn beyond 2 sd). Peer:
    scipy.stats.truncnorm(-2, 2, scale=0.01)'s variance (0.774 x 0.01^2); bounds exact; the mean 0 within 5 standard
    errors, the variance within 3 % (its standard error at n = 40,000 is 0.6 %); the reconstruction target stays x."""
    method = build("wae", encoder_noise="add_noise")
    x = torch.full((20_000, 2), 3.0, dtype=torch.float64)
    added = (method.encoder_input(x, torch.Generator().manual_seed(3)) - x).flatten()
    assert float(added.abs().max()) <= 0.02 + 1e-12
    assert abs(float(added.mean())) < 5 * 0.0088 / 200
    assert float(added.var()) == pytest.approx(truncnorm(-2, 2, scale=0.01).var(), rel=0.03)
    seen = []
    method.nets["E"].register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    method.train_step(lambda n: x[:n].float(), torch.Generator().manual_seed(4))
    assert not torch.equal(seen[0], x[:100].float())  # E saw the noisy batch


def test_wae_gaussian_encoder_codes_have_the_encoders_mean_and_variance():
    """tolstikhin/wae wae.py L58-71: E outputs (m, log s^2) and the code is m + sqrt(1e-8 + exp(log s^2)) e. Over
    40,000 draws for one x the codes' mean and variance per dimension match m and 1e-8 + s^2 (5 standard errors;
    variance within 4 %, its standard error is 0.7 %); the log-variance is clipped to [-50, 50]."""
    method = build("wae", encoder_noise="gaussian", latent_dim=3)
    x = torch.tensor([[0.5, -1.0]]).expand(40_000, 2)
    mean, log_variance = method.nets["E"](x[:1]).detach().chunk(2, dim=-1)
    codes = method.encode(x, torch.Generator().manual_seed(5))[0].detach()[0]
    variance = 1e-8 + log_variance.exp()
    assert ((codes.mean(0) - mean[0]).abs() < 5 * (variance[0] / 40_000).sqrt()).all()
    torch.testing.assert_close(codes.var(0), variance[0], rtol=0.04, atol=0.0)
    sd = method.code_sd(torch.tensor([-100.0, 0.0, 100.0], dtype=torch.float64))
    torch.testing.assert_close(sd, torch.tensor([1e-8 + math.exp(-50), 1 + 1e-8, 1e-8 + math.exp(50)], dtype=torch.float64).sqrt())


def test_bms_vae_gan_synthetic_likelihood_is_spectrally_normalised_to_1e3_of_the_largest_singular_value():
    """After training-mode forwards (one power iteration each), every weight of BMS-VAE-GAN's data discriminator,
    as the forward uses it, has largest singular value 1 within 1e-3 (torch.linalg.matrix_norm(W, 2)); alpha-GAN's
    D is not normalised, alpha-gan-sn's is."""
    method = build("bms-vae-gan", hidden=64)
    D = method.nets["D"]
    for _ in range(200):
        D(torch.zeros(1, 2))
    linears = [m for m in D.modules() if isinstance(m, torch.nn.Linear)]
    assert len(linears) == 3
    for layer in linears:
        assert float(torch.linalg.matrix_norm(layer.weight.detach(), 2)) == pytest.approx(1.0, abs=1e-3)
    assert not hasattr(build("alpha-gan").nets["D"][0], "parametrizations")
    assert hasattr(build("alpha-gan-sn").nets["D"][0], "parametrizations")


def test_bms_vae_gan_step_is_alpha_gans_algorithm_1_with_the_best_of_t_on_the_three_open_choices(monkeypatch):
    """The choices bms.py records as open (the BMS paper's Eq. 7 / Appendix B unread), pinned against alpha-GAN's
    Algorithm 1 written out here: G's loss is w * mean_b min_t ||x_b - G(z_tb)||_1 (the choice on the cost alone)
    + mean_tb(-D(G(z_tb))) (D on all T reconstructions, hinge G term on the raw output) + mean_b(-D(G(z_b))); E's loss
    has no path from D's parameters. Nets in eval mode, so SN's power iteration leaves D fixed across its forwards."""
    m = build("bms-vae-gan", samples=3, batch_size=5, hidden=16, latent_d_hidden=16, reconstruction_weight=0.7)
    m.nets.eval()
    seen: dict[str, torch.Tensor] = {}
    encode, noise = m.encode, m.noise

    def kept(name: str, draw):
        def call(*args):
            seen[name] = draw(*args)
            return seen[name]
        return call
    monkeypatch.setattr(m, "encode", kept("encoded", encode))
    monkeypatch.setattr(m, "noise", kept("z", noise))
    steps: dict[int, torch.Tensor] = {}
    monkeypatch.setattr("trainers.methods.autoencoding.descend_together", lambda *pairs: steps.update({id(o): loss for loss, o in pairs}))
    x = torch.randn(5, 2, generator=torch.Generator().manual_seed(4))
    m.train_step(lambda n: x, torch.Generator().manual_seed(9))
    G, D = m.nets["G"], m.nets["D"]
    codes, z = seen["encoded"][0], seen["z"]  # [T, B, d], [B, d]
    with torch.no_grad():
        recs = [G(codes[t]) for t in range(3)]
        best = [min(float((x[b] - recs[t][b]).abs().sum()) for t in range(3)) for b in range(5)]
        adversarial = -sum(float(D(recs[t]).sum()) for t in range(3)) / 15 - float(D(G(z)).mean())
    assert steps[id(m.opt["G"])].item() == pytest.approx(0.7 * sum(best) / 5 + adversarial, rel=1e-5)
    e_grads = torch.autograd.grad(steps[id(m.opt["E"])], list(D.parameters()), allow_unused=True, retain_graph=True)
    assert all(g is None for g in e_grads)
    assert any(g is not None for g in torch.autograd.grad(steps[id(m.opt["G"])], list(D.parameters()), allow_unused=True))


def test_each_method_has_the_nets_of_its_objective():
    assert set(build("alpha-gan").nets) == {"G", "D", "E", "L"}
    assert set(build("bms-vae-gan").nets) == {"G", "D", "E", "L"}
    assert set(build("bms-vae").nets) == {"G", "E"}
    assert set(build("wae").nets) == {"G", "E"}
    assert set(build("wae", penalty="gan").nets) == {"G", "E", "L"}
    # the BMS encoders output a mean and a log-variance per code dimension (32-D on 2-D data)
    assert build("bms-vae-gan").nets["E"](torch.zeros(5, 2)).shape == (5, 64)
    assert build("alpha-gan").nets["E"](torch.zeros(5, 2)).shape == (5, 32)
    assert build("bms-vae-gan", shape=(3, 28, 28), kind="image", width=4).nets["E"](torch.zeros(2, 3, 28, 28)).shape == (2, 200)


@pytest.mark.parametrize(
    "method, params, message",
    [
        ("bms-vae-gan", {"samples": 0}, "samples=0: T, the codes drawn per data point, must be at least 1"),
        ("bms-vae", {"cost": "l3"}, "cost='l3' is unknown; use one of l1, l2sq"),
        ("wae", {"penalty": "kl"}, "penalty='kl' is unknown; use mmd"),
        ("wae", {"batch_size": 1}, "needs at least 2"),
        ("wae", {"encoder_noise": "implicit"}, "encoder_noise='implicit' is unknown; use one of deterministic, add_noise, gaussian"),
        ("alpha-gan", {"code_loss": "hinj"}, "unknown loss 'hinj'"),
    ],
)
def test_bad_hyper_parameters_are_one_line_before_training(method, params, message, tmp_path):
    with pytest.raises(GanEvalError, match=message):
        build(method, **params)
    args = ["train", method, "--data", "ring8", "--steps", "2", "--out", str(tmp_path), "--no-progress"]
    args += [a for k, v in params.items() for a in ("--set", f"{k}={v}")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip().count("\n") == 0 and result.output.startswith("error: "), result.output
    assert message.split(":")[0] in result.output and not any(tmp_path.iterdir())


def test_wae_mixtures_probe_trains_every_asked_setting_resumes_and_renders_mean_and_sd(tmp_path):
    """benchmarks/reproduce/wae_mixtures_probe.py with 2 steps and 2 seeds: the JSON entry of the setting and dataset
    holding each seed's modes and HQ %, a second run skips what is there, and the table prints mean ± sd (ddof 1)
    of those per-seed numbers under each dataset."""
    import argparse
    import json

    import numpy as np

    from benchmarks.reproduce import wae_mixtures_probe as probe

    out, runs = tmp_path / "probe.json", tmp_path / "runs"
    args = argparse.Namespace(steps=2, seeds=[0, 1], datasets=["ring8"], only=["gaussian"], again=False, runs=str(runs), out=str(out))
    probe.run(args)
    record = json.loads(out.read_text())
    assert list(record["settings"]) == ["gaussian"] and record["steps"] == 2
    assert record["settings"]["gaussian"]["params"] == {"encoder_noise": "gaussian"}
    seeds = record["settings"]["gaussian"]["datasets"]["ring8"]["seeds"]
    assert [s["seed"] for s in seeds] == [0, 1] and all(0 <= s["hq_percent"] <= 100 for s in seeds)
    stamp = {p: p.stat().st_mtime_ns for p in runs.rglob("result.json")}
    probe.run(args)
    assert {p: p.stat().st_mtime_ns for p in runs.rglob("result.json")} == stamp and len(stamp) == 2
    probe.render(argparse.Namespace(files=[str(out)], out=str(tmp_path / "probe.md")))
    md = (tmp_path / "probe.md").read_text()
    modes = np.array([s["modes"] for s in seeds], dtype=float)
    hq = np.array([s["hq_percent"] for s in seeds])
    assert f"| gaussian | encoder_noise=gaussian | {modes.mean():.1f} ± {modes.std(ddof=1):.1f} / {hq.mean():.1f} ± {hq.std(ddof=1):.1f} |" in md
    assert "| setting | overrides | ring8 |" in md and "torch " in md


def test_an_option_added_later_is_recorded_only_away_from_its_default():
    """WAE's ``encoder_noise`` came after bms-table1's WAE runs were trained: at its default a run's recorded
    configuration does not name it (their folders' hashes and resume points hold); set, it is recorded."""
    full = dataclasses.asdict(make_params("wae"))
    default = params_record(make_params("wae"))
    assert "encoder_noise" in full and "encoder_noise" not in default
    assert default == {k: v for k, v in full.items() if k != "encoder_noise"}
    noisy = params_record(make_params("wae", {"encoder_noise": "gaussian"}))
    assert noisy == default | {"encoder_noise": "gaussian"}
