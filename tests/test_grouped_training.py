"""Grouped seeds: S seeds trained as one stacked model follow the S runs they would have taken alone.

The ground truth is torch itself: S ordinary (ungrouped) runs of the same configurations, through the same loop.
Compared in float64, where the round-off of the batched (vmapped) kernels stays at 1e-16: in float32 a GAN
trajectory amplifies the different rounding of batched and unbatched matrix products within tens of steps (as
it amplifies a change of CPU kernels), so float32 per-seed numbers are statistics, not identities."""
from __future__ import annotations

import json

import pytest
import torch

from gan_eval.errors import GanEvalError
from trainers.grouped import parse_seeds
from trainers.loop import TrainConfig, train, train_seeds
from trainers.methods import METHODS


STEPS = 50
SEEDS = (0, 1, 2)
#: Small networks per vector method, so the 50-step comparison stays fast; every code path is kept.
TINY = {
    "gan": {"g_hidden": 32, "d_units": 16, "batch_size": 32},
    "pacgan": {"g_hidden": 32, "d_units": 16, "batch_size": 32, "pack": 3},
    "ali": {"g_hidden": 32, "d_units": 16, "e_hidden": 32, "batch_size": 32},
    "unrolled": {"hidden": 32, "latent_dim": 16, "batch_size": 32, "unroll": 2},
    "veegan": {"hidden": 32, "d_hidden": 32, "latent_dim": 16, "batch_size": 32},
    "mini-gan": {},
    "ebgan": {"hidden": 32, "latent_dim": 8, "code_dim": 8, "batch_size": 32, "width": 4},
    "began": {"hidden": 32, "latent_dim": 8, "code_dim": 8, "batch_size": 32, "width": 4},
    "mmdgan": {"hidden": 32, "batch_size": 32, "width": 4, "critic_iters": 2, "warmup_critic_iters": 3, "warmup_g_iters": 3, "slow_every": 20},
    # the critic family: 2 critic steps, so a D-only step and the G step both run; WGAN with its critic schedule
    **{name: {"hidden": 16, "batch_size": 32, "n_critic": 2} for name in ("wgan-gp", "bwgan", "lsgan", "hinge", "sngan", "fgan")},
    "wgan": {"hidden": 16, "batch_size": 32, "n_critic": 2, "n_critic_boost": 3, "boost_first": 2, "boost_every": 5},
    "wae": {"hidden": 16, "latent_d_hidden": 16, "latent_dim": 4, "batch_size": 32},
    "alpha-gan": {"hidden": 16, "latent_d_hidden": 16, "latent_dim": 4, "batch_size": 32},
    "alpha-gan-sn": {"hidden": 16, "latent_d_hidden": 16, "latent_dim": 4, "batch_size": 32},
    "bms-vae": {"hidden": 16, "latent_dim": 4, "batch_size": 32, "samples": 3},
    "bms-vae-gan": {"hidden": 16, "latent_d_hidden": 16, "latent_dim": 4, "batch_size": 32, "samples": 3},
    "gdpp": {"hidden": 32, "latent_dim": 16, "batch_size": 32},
    "mdgan": {"hidden": 32, "batch_size": 32},
    "distgan": {"hidden": 32, "layers": 2, "batch_size": 32, "n_critics": 2},
}
#: Fewer steps where the loss is discontinuous in round-off: GDPP pairs the real and fake DPP kernels' eigenvectors
#: by eigenvalue order and compares them with their signs, so where two eigenvalues nearly tie the batched
#: kernels' 1e-16 differences swap or flip a pair: grouped and separate seeds agreed to 8e-15 relative after 5
#: steps, and differed by 2e-8 and 4e-6 (seeds 0, 2; G's weights) after 10 (the reference's loss, not the grouping).
STEPS_OF = {"gdpp": 5}
VECTOR_METHODS = [name for name in METHODS.names() if "vector" in METHODS.get(name).data_kinds]
CASES = [(name, {}) for name in VECTOR_METHODS] + [("gan", {"update": "sequential"}), ("veegan", {"reconstructor": False}), ("wae", {"penalty": "gan"}), ("wae", {"encoder_noise": "add_noise"}),
                                                       ("sngan", {"g_batch_size": 48})]  # G's batch not D's (images' default)


@pytest.fixture
def float64():
    dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(dtype)


def configs(method: str, params: dict, steps: int = STEPS) -> list[TrainConfig]:
    merged = {**TINY[method], **params}
    return [TrainConfig(method, "ring8", seed=s, steps=steps, eval_every=25, eval_samples=100, params=merged) for s in SEEDS]


def lines(run_dir) -> list[dict]:
    return [json.loads(ln) for ln in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_every_vector_method_has_tiny_settings():
    assert set(VECTOR_METHODS) <= set(TINY), "a new vector method needs small settings in TINY to be tested here"


@pytest.mark.parametrize("method, params", CASES, ids=[m + "".join(f"-{k}={v}" for k, v in p.items()) for m, p in CASES])
def test_grouped_seeds_equal_separate_runs_after_50_steps(method, params, tmp_path, float64):
    """Per seed: networks, optimizer moments and every metrics line (losses, modes, HQ) of the grouped run equal
    the seed's own run to 1e-9 relative (float64) after 50 steps (:data:`STEPS_OF`);
    the exported files are the ungrouped ones'."""
    group = configs(method, params, STEPS_OF.get(method, STEPS))
    separate = [train(c, tmp_path / f"alone-{c.seed}") for c in group]
    together = train_seeds(group, [tmp_path / f"group-{c.seed}" for c in group])
    for seed, a, b in zip(SEEDS, separate, together):
        assert a["files"] == b["files"] and a["config"] == b["config"]
        ca = torch.load(tmp_path / f"alone-{seed}" / "checkpoint.pt", weights_only=True)
        cb = torch.load(tmp_path / f"group-{seed}" / "checkpoint.pt", weights_only=True)
        assert ca["nets"].keys() == cb["nets"].keys()
        for key in ca["nets"]:
            torch.testing.assert_close(cb["nets"][key], ca["nets"][key], rtol=1e-9, atol=1e-12, msg=f"seed {seed} {key}")
        for name, state in ca["optimizers"].items():
            for index, entry in state["state"].items():
                for k, v in entry.items():
                    torch.testing.assert_close(cb["optimizers"][name]["state"][index][k], v, rtol=1e-9, atol=1e-12)
        for la, lb in zip(lines(tmp_path / f"alone-{seed}"), lines(tmp_path / f"group-{seed}")):
            la.pop("elapsed_s"), lb.pop("elapsed_s")
            assert la.keys() == lb.keys()
            for k in la:
                if isinstance(la[k], float):
                    assert lb[k] == pytest.approx(la[k], rel=1e-9, abs=1e-12), (seed, k)
                else:
                    assert lb[k] == la[k], (seed, k)


def test_grouped_run_resumes_bit_identically_and_its_seeds_resume_alone(tmp_path, float64):
    """A grouped run killed after step 13 (checkpoint at 10) and resumed equals the uninterrupted grouped run bit
    for bit (same device); each seed's checkpoint is an ordinary run's, so one seed resumes alone from it."""
    group = configs("gan", {}, steps=20)
    for c in group:
        c.eval_every = 10
    full = train_seeds(group, [tmp_path / f"full-{c.seed}" for c in group])
    dirs = [tmp_path / f"killed-{c.seed}" for c in group]
    assert train_seeds(group, dirs, stop_after=13) == [None] * len(group)
    resumed = train_seeds(group, dirs)
    for seed, a, b in zip(SEEDS, full, resumed):
        ca = torch.load(tmp_path / f"full-{seed}" / "checkpoint.pt", weights_only=True)["nets"]
        cb = torch.load(tmp_path / f"killed-{seed}" / "checkpoint.pt", weights_only=True)["nets"]
        assert all(torch.equal(ca[k], cb[k]) for k in ca)
        assert a["values"] == {**b["values"], "elapsed_s": a["values"]["elapsed_s"]}
    alone_dir = tmp_path / "alone-1"
    train_seeds(group, [tmp_path / f"alone-{c.seed}" for c in group], stop_after=10)
    alone = train(group[1], alone_dir)  # seed 1 on its own, from the grouped checkpoint at step 10
    assert alone["values"]["d_loss"] == pytest.approx(full[1]["values"]["d_loss"], rel=1e-9)


def test_a_group_of_finished_and_unfinished_seeds_trains_only_the_unfinished(tmp_path):
    group = configs("gan", {}, steps=4)
    first = train(group[0], tmp_path / "s0")
    results = train_seeds(group, [tmp_path / f"s{c.seed}" for c in group])
    assert results[0] == first and all(r is not None and r["step"] == 4 for r in results)


@pytest.mark.parametrize(
    "text, message",
    [("5-2", "descending"), ("0,1,1", "given twice"), ("-3", "negative"), ("", "empty"), ("a-b", "not a seed")],
)
def test_bad_seed_lists_are_one_line(text, message):
    with pytest.raises(GanEvalError, match=message) as info:
        parse_seeds(text)
    assert "\n" not in str(info.value)


def test_seeds_that_differ_beyond_the_seed_do_not_group(tmp_path):
    a, b = configs("gan", {})[:2]
    b.params = {**b.params, "lr": 3e-4}
    with pytest.raises(GanEvalError, match="differs from seed 0's beyond the seed"):
        train_seeds([a, b], [tmp_path / "a", tmp_path / "b"])
    assert not (tmp_path / "a").exists()


class _KeepsState:
    """A GAN with state beyond nets and optimizers, as BEGAN's k_t: a running average of D's loss that the step
    uses (it scales G's loss), so a resume that lost it would change the trajectory."""

    def setup(self, generator):
        super().setup(generator)
        self.k = torch.zeros(())

    def train_step(self, real, noise):
        losses = super().train_step(real, noise)
        self.k = 0.9 * self.k + 0.1 * losses["d_loss"]
        return {**losses, "k": self.k.clone()}

    def g_loss(self, fake_logits):
        return super().g_loss(fake_logits) * (1.0 + self.k)

    def extra_state(self):
        return {"k": self.k}

    def load_extra_state(self, state):
        self.k = state["k"]


@pytest.fixture
def stateful_gan(monkeypatch):
    from trainers.methods.gan import GAN

    cls = type("StatefulGAN", (_KeepsState, GAN), {})
    monkeypatch.setitem(METHODS._items, "stateful-gan", cls)
    TINY["stateful-gan"] = TINY["gan"]
    yield "stateful-gan"
    TINY.pop("stateful-gan")


@pytest.mark.parametrize("grouped", [False, True])
def test_method_state_beyond_networks_is_checkpointed_and_resumes_bit_identically(stateful_gan, grouped, tmp_path):
    """Issue 13 item 3: a method's own state (here a k_t-like running average used by the step) is saved in each
    seed's checkpoint, so a killed and resumed run equals an uninterrupted one bit for bit, grouped or not."""
    group = configs(stateful_gan, {}, steps=20)[: 2 if grouped else 1]
    for c in group:
        c.eval_every = 10
    full = train_seeds(group, [tmp_path / f"full-{c.seed}" for c in group])
    dirs = [tmp_path / f"killed-{c.seed}" for c in group]
    train_seeds(group, dirs, stop_after=13)
    state = torch.load(dirs[0] / "checkpoint.pt", weights_only=True)["method"]
    assert set(state) == {"k"} and state["k"].shape == ()
    resumed = train_seeds(group, dirs)
    for a, b in zip(full, resumed):
        assert a["values"]["k"] == b["values"]["k"] and a["values"]["g_loss"] == b["values"]["g_loss"]


IMAGE_PAIR_METHODS = ["ali-dcgan", "veegan-dcgan", "unrolled-dcgan"]


@pytest.mark.parametrize("method", IMAGE_PAIR_METHODS)
def test_grouped_image_encoders_and_pair_discriminators_equal_separate_runs(method, tmp_path, float64, mnist_dir):
    """Issue 17: the image methods with an encoder (ALI's E, VEEGAN's F: a DCGAN D body under a new head), a
    discriminator on (x, z) pairs (two inputs through vmap) or unrolled D steps through BatchNorm, trained as 2
    grouped seeds on Stacked MNIST, equal their separate runs over 6 steps (float64): the losses logged every 2
    steps and every weight to 1e-9 relative. Biases (and the running means they shift) are held to Adam's bound
    instead, 2 x lr per step: a bias ahead of BatchNorm has an exactly-zero gradient, so what Adam makes of its
    rounding noise (up to +-lr a step) differs between batched and unbatched kernels without changing any output."""
    params = {"width": 2, "batch_size": 8, **({"unroll": 2} if method == "unrolled-dcgan" else {})}
    # no evaluator: the bundled classifier's float32 weights do not load under the float64 default dtype
    group = [TrainConfig(method, "stacked-mnist", seed=s, steps=6, eval_every=2, eval_samples=50, params=params,
                         data_dir=str(mnist_dir), evaluators=()) for s in (0, 1)]
    separate = [train(c, tmp_path / f"alone-{c.seed}") for c in group]
    together = train_seeds(group, [tmp_path / f"group-{c.seed}" for c in group])
    bound = 2 * 2e-4 * 6
    for seed, a, b in zip((0, 1), separate, together):
        assert a["config"] == b["config"]
        for la, lb in zip(lines(tmp_path / f"alone-{seed}"), lines(tmp_path / f"group-{seed}"), strict=True):
            for key in ("d_loss", "g_loss"):
                assert lb[key] == pytest.approx(la[key], rel=1e-9), (seed, la["step"], key)
        ca = torch.load(tmp_path / f"alone-{seed}" / "checkpoint.pt", weights_only=True)["nets"]
        cb = torch.load(tmp_path / f"group-{seed}" / "checkpoint.pt", weights_only=True)["nets"]
        assert ca.keys() == cb.keys()
        for key in ca:
            if key.endswith(("bias", "running_mean")):
                assert (cb[key] - ca[key]).abs().max() <= bound, (seed, key)
            else:
                torch.testing.assert_close(cb[key], ca[key], rtol=1e-9, atol=1e-12, msg=f"seed {seed} {key}")
