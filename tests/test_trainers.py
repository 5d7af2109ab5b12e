"""The training framework: determinism, kill-and-resume, export, config checks, over every registered method."""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch

import gan_eval
from gan_eval.errors import GanEvalError
from gan_eval.io.generators import load_generator
from gan_eval.io.latent import load_latent_spec
from gan_eval.references import get_reference
from trainers.datasets.mixture import TrainingData
from trainers.loop import Run, TrainConfig, derive_seeds, train
from trainers.methods import METHODS
from trainers.methods.base import resolved_params

STEPS = 20



def run_collecting(config: TrainConfig, run_dir, stop_after=None):
    losses = {}

    def record(info):
        losses[info.step] = {k: float(v) for k, v in info.losses.items()}

    result = train(config, run_dir, callback=record, stop_after=stop_after)
    return result, losses


def metric_lines(run_dir):
    lines = [json.loads(ln) for ln in (run_dir / "metrics.jsonl").read_text().splitlines()]
    for ln in lines:
        ln.pop("elapsed_s")
    return lines


# Every registered method on the data of each kind it declares, with its defaults (small image nets), plus
# variants that take another code path.
DATASET_OF_KIND = {"vector": "ring8", "image": "stacked-mnist"}
SHAPE_OF_KIND = {"vector": (2,), "image": (3, 28, 28)}
SMALL = {"image": {"width": 4, "batch_size": 16}}
# The critic family (trainers.methods.critic): narrow nets on vectors and, for WGAN, a critic schedule short enough
# that its boosted iterations straddle the checkpoint at step 10 (the resume must restore the iteration count).
CRITIC_FAMILY = ("wgan", "wgan-gp", "bwgan", "lsgan", "hinge", "sngan", "fgan")
SMALL_OF_METHOD = {name: {"vector": {"hidden": 32, "batch_size": 64, "n_critic": 2}, "image": {"n_critic": 2}} for name in CRITIC_FAMILY}
for kind in DATASET_OF_KIND:
    SMALL_OF_METHOD["wgan"][kind].update(n_critic_boost=3, boost_first=2, boost_every=4)
# SN-GAN's linear rate decay over the run (its default on images) on vectors too, so that the rate changes across the
# checkpoint at step 10 of the contract's 20 (the resume must restore the iteration count and horizon it reads).
SMALL_OF_METHOD["sngan"]["vector"]["lr_schedule"] = "linear"
# MMD-GAN's schedule (100 critic iterations for its first 25 G iterations) cut so that both of its branches run in
# the 20 steps within seconds.
SMALL_OF_METHOD["mmdgan"] = {kind: {"critic_iters": 1, "warmup_critic_iters": 2, "warmup_g_iters": 3} for kind in DATASET_OF_KIND}
# The autoencoding methods' 2-D defaults (batch 500, T = 10 codes each, a 3 x 750 latent discriminator) cost ~0.5 s a
# step; a smaller batch takes the same code path.
for name in ("wae", "alpha-gan", "alpha-gan-sn", "bms-vae", "bms-vae-gan"):
    SMALL_OF_METHOD[name] = {"vector": {"batch_size": 64}}
# MD-GAN's and Dist-GAN's learning-rate schedules (the reference's every 10,000 iterations / optimizer steps) cut so
# that the rate changes before and after the checkpoint at step 10 and within the redone steps 11-13.
SMALL_OF_METHOD["mdgan"] = {"vector": {"lr_decay_every": 4}}
SMALL_OF_METHOD["distgan"] = {"vector": {"lr_decay_every": 30}}
CONTRACT_CASES = [
    (name, DATASET_OF_KIND[kind], {**SMALL.get(kind, {}), **SMALL_OF_METHOD.get(name, {}).get(kind, {})})
    for name in METHODS.names()
    for kind in METHODS.get(name).data_kinds
]
OTHER_UPDATE = {"simultaneous": "sequential", "sequential": "simultaneous"}


def default_update(name: str, dataset: str) -> str:
    """The method's update order on ``dataset``'s kind of data (GDPP's differs by kind)."""
    kind = next(k for k, d in DATASET_OF_KIND.items() if d == dataset)
    return resolved_params(name, None, kind, SHAPE_OF_KIND[kind]).update


CONTRACT_CASES += [
    (name, dataset, {**params, "update": OTHER_UPDATE[default_update(name, dataset)]})
    for name, dataset, params in list(CONTRACT_CASES)
    if "update" in METHODS.get(name).Params.__dataclass_fields__
]
CONTRACT_CASES += [("veegan", "ring8", {"reconstructor": False}), ("veegan", "ring8", {"reconstructor": False, "update": "sequential"})]
CONTRACT_CASES += [("wae", "ring8", {**SMALL_OF_METHOD["wae"]["vector"], "penalty": "gan"}), ("wae", "stacked-mnist", {**SMALL["image"], "penalty": "gan"})]


def test_every_method_declares_data_a_contract_dataset_covers():
    assert all(set(METHODS.get(name).data_kinds) <= set(DATASET_OF_KIND) for name in METHODS.names())


@pytest.mark.parametrize(
    "method, dataset, params", CONTRACT_CASES, ids=[f"{m}-{d}" + "".join(f"-{k}={v}" for k, v in p.items()) for m, d, p in CONTRACT_CASES]
)
def test_method_contract_kill_resume_is_bit_identical_and_export_reproduces_samples(method, dataset, params, tmp_path, mnist_dir):
    """20 steps; a run killed after step 13 (last checkpoint at 10) and resumed equals an uninterrupted run with
    the same seed: same losses at every step, weights, metrics and samples; the exported generators (torch.export
    .pt2 and TorchScript .pt) + sidecar reproduce the in-memory samples bit for bit (a closed invariant: the same
    operations on the same inputs); ``gan_eval.score`` scores the export with the dataset's evaluator's metric
    and gives the run's own numbers on its samples."""
    data_dir = str(mnist_dir) if dataset == "stacked-mnist" else None
    config = TrainConfig(method, dataset, seed=3, steps=STEPS, eval_every=5, eval_samples=200, params=params, data_dir=data_dir)
    full, full_losses = run_collecting(config, tmp_path / "full")
    assert set(full_losses) == set(range(1, STEPS + 1))
    assert all(np.isfinite(v) for step in full_losses.values() for v in step.values())

    killed, first_part = run_collecting(config, tmp_path / "resumed", stop_after=13)
    assert killed is None and not (tmp_path / "resumed" / "result.json").exists()
    resumed, second_part = run_collecting(config, tmp_path / "resumed")
    assert sorted(second_part) == list(range(11, STEPS + 1))  # steps 11-13 are redone from the checkpoint
    assert {**first_part, **second_part} == full_losses
    assert {k: first_part[k] for k in (11, 12, 13)} == {k: second_part[k] for k in (11, 12, 13)}
    assert metric_lines(tmp_path / "full") == metric_lines(tmp_path / "resumed")
    a = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=True)["nets"]
    b = torch.load(tmp_path / "resumed" / "checkpoint.pt", weights_only=True)["nets"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    samples = np.load(tmp_path / "full" / "samples.npz")["samples"]
    np.testing.assert_array_equal(samples, np.load(tmp_path / "resumed" / "samples.npz")["samples"])
    assert full["values"]["n"] == 200 and resumed["step"] == STEPS

    spec = load_latent_spec(tmp_path / "full" / "generator.pt2")
    assert spec is not None and spec.extra == {"dataset": dataset, "method": method, "seed": 3, "steps": STEPS}
    assert full["files"] == ["generator.pt2", "generator.pt", "generator.json", "samples.npz"]
    z = spec.sample(200, torch.Generator().manual_seed(derive_seeds(3)["eval"]))
    for name in ("generator.pt2", "generator.pt"):  # torch.export and TorchScript: the same network, bit for bit
        with torch.no_grad():
            exported = load_generator(tmp_path / "full" / name).forward(z).numpy()
        np.testing.assert_array_equal(exported, samples, err_msg=name)

    metric, reference = ("modes", dataset) if dataset == "ring8" else ("stacked-mnist", None)
    options = {} if reference else {"subset": None}
    scored = gan_eval.score(tmp_path / "full" / "samples.npz", metric, reference, **options).values
    assert {k: scored[k] for k in full["headline"]} == {k: full["values"][k] for k in full["headline"]}
    drawn = gan_eval.score(tmp_path / "full" / "generator.pt2", metric, reference, n=100, **options)
    assert drawn.protocol["n"] == 100 and set(full["headline"]) <= set(drawn.values)


def test_other_seed_gives_other_losses(tmp_path):
    _, a = run_collecting(TrainConfig("gan", "ring8", seed=0, steps=3), tmp_path / "a")
    _, b = run_collecting(TrainConfig("gan", "ring8", seed=1, steps=3), tmp_path / "b")
    assert a != b


def test_resume_refuses_a_changed_config_but_extends_steps(tmp_path):
    config = TrainConfig("gan", "ring8", seed=0, steps=4, eval_every=2)
    train(config, tmp_path)
    changed = TrainConfig("gan", "ring8", seed=0, steps=4, eval_every=2, params={"lr": 3e-4})
    with pytest.raises(GanEvalError, match=r"different configuration \(params.lr: 0.0001 here, 0.0003 asked\)") as info:
        train(changed, tmp_path)
    assert "\n" not in str(info.value)
    extended, losses = run_collecting(TrainConfig("gan", "ring8", seed=0, steps=6, eval_every=2), tmp_path)
    assert extended["step"] == 6 and sorted(losses) == [5, 6]
    with pytest.raises(GanEvalError, match="already trained 6 steps"):
        train(config, tmp_path)


def test_a_metrics_line_cut_short_by_a_kill_is_skipped_by_readers_and_dropped_on_resume(tmp_path):
    """A kill while a line of metrics.jsonl is written leaves it without its end; readers polling a training run
    skip it, and the resumed run drops it rather than appending the next evaluation onto it: its metrics equal
    an uninterrupted run's."""
    from trainers.loop import diverged_at, evaluated_step, read_metrics

    config = TrainConfig("gan", "ring8", seed=0, steps=8, eval_every=2, eval_samples=200)
    train(config, tmp_path / "full")
    train(config, tmp_path / "killed", stop_after=5)
    with open(tmp_path / "killed" / "metrics.jsonl", "a", encoding="utf-8") as f:
        f.write('{"step": 6, "mod')
    assert [line["step"] for line in read_metrics(tmp_path / "killed")] == [2, 4]
    assert evaluated_step(tmp_path / "killed") == 4 and diverged_at(tmp_path / "killed") is None
    train(config, tmp_path / "killed")
    assert metric_lines(tmp_path / "killed") == metric_lines(tmp_path / "full")


def test_unknown_hyper_parameter_is_one_line_error():
    with pytest.raises(GanEvalError, match="unknown hyper-parameter 'lrr'.*lr"):
        Run(TrainConfig("gan", params={"lrr": "1"}), "/nonexistent-not-created")


def test_unrolled_adam_matches_torch_adam():
    """One unrolled step of our differentiable Adam equals torch.optim.Adam's step (from a warm state)."""
    run = Run(TrainConfig("unrolled", "ring8", seed=0, params={"batch_size": 64, "unroll": 1}), "/nonexistent-not-created")
    method = run.method
    real = lambda n: run.data.batch(n, run.generators["data"])  # noqa: E731
    for _ in range(3):
        method.train_step(real, run.generators["noise"])
    x = real(64)
    fake = method.nets["G"](method.noise(64, run.generators["noise"])).detach()
    unrolled = method.unrolled_params(x, fake)
    D = method.nets["D"]
    reference = copy.deepcopy(D)
    opt = torch.optim.Adam(reference.parameters(), lr=1e-4, betas=(0.5, 0.999), eps=1e-8)
    opt.load_state_dict(method.opt["D"].state_dict())
    loss = method.d_loss(dict(reference.named_parameters()), x, fake)
    opt.zero_grad()
    loss.backward()
    opt.step()
    for name, p in reference.named_parameters():
        torch.testing.assert_close(unrolled[name].detach(), p.detach(), rtol=1e-5, atol=1e-7)


def test_fixed_training_set_is_visited_in_epochs():
    """train_size = batch size (the moons mini-project): every batch is the whole set, in a new order."""
    data = TrainingData(get_reference("moons-mini"), 32, set_seed=5)
    gen = torch.Generator().manual_seed(0)
    first, second = data.batch(32, gen), data.batch(32, gen)
    key = lambda x: sorted(map(tuple, x.tolist()))  # noqa: E731
    assert key(first) == key(second) == key(data.pool)
    assert not torch.equal(first, second)


def test_fresh_data_differs_every_batch_and_follows_the_reference():
    data = TrainingData(get_reference("ring8"), None, set_seed=0)
    gen = torch.Generator().manual_seed(0)
    a, b = data.batch(1000, gen), data.batch(1000, gen)
    assert not torch.equal(a, b)
    _, hq = get_reference("ring8").assign(a)
    assert hq.float().mean() > 0.97  # 98.89 % in closed form


def veegan_dcgan_reconstructor(**params):
    """The reconstructor F of ``veegan-dcgan`` on Stacked-MNIST-shaped data, small nets, in training mode."""
    from trainers.methods.base import DataShape

    shape = DataShape((3, 28, 28), "image", (0.0, 1.0))
    method = METHODS.get("veegan-dcgan")(METHODS.get("veegan-dcgan").Params(width=4, **params), shape, torch.device("cpu"))
    method.setup(torch.Generator().manual_seed(0))
    return method.nets["F"].train()


def test_veegan_dcgan_reconstructor_codes_each_image_alone_in_training():
    """VEEGAN's reconstructor is a per-sample map: p_theta(z | x) = N(F(x), I) and the noise-space loss
    d(z_i, F(G(z_i))) (Srivastava et al. 2017, Sec. 3 and Algorithm 1; the 2-D notebook's and the MNIST notebook's F
    are MLPs without BatchNorm). So in training mode F's code for an image must not change with the rest of its
    batch. A BatchNorm F (``reconstructor_batchnorm=True``, the earlier construction) fails this: it codes each image
    against its batch's mean and spread, which let it decode z from G's initial near-constant images and drove G by
    the reconstruction term alone (the grey field; ``benchmarks/reproduce/results/stacked-mnist-cpu-status.md``)."""
    x = 0.5 + 0.1 * torch.randn(8, 3, 28, 28, generator=torch.Generator().manual_seed(1))
    F = veegan_dcgan_reconstructor()
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in F.modules())
    with torch.no_grad():
        torch.testing.assert_close(F(x)[:3], F(x[:3]), rtol=1e-5, atol=1e-6)
    F_bn = veegan_dcgan_reconstructor(reconstructor_batchnorm=True)
    with torch.no_grad():
        assert (F_bn(x)[:3] - F_bn(x[:3])).abs().max() > 1e-2


def test_pacdcgan_draws_each_pack_slot_in_its_own_generator_pass():
    """PacGAN's code feeds one z placeholder per pack slot to its own G call and concatenates the outputs along
    channels (fjxmlzn/PacGAN ``stacked_MNIST_experiments/VEEGAN_experiment/model.py`` ``build_model``: ``G_sep``,
    ``tf.concat(G_sep, 3)``), so in training mode G's BatchNorm normalises each slot over ``batch_size`` images, as
    in the unpacked DCGAN. The fake packs D judges in a step must be those per-slot passes of G, packed as
    ``discriminate`` packs (slot j of pack i is latent i * pack + j); ``generator_per_slot=False`` (one pass over
    all ``batch_size * pack``, the construction before 2026-11-30) gives other packs."""
    from trainers.methods.base import DataShape

    shape = DataShape((3, 28, 28), "image", (0.0, 1.0))
    pack, batch = 3, 4
    method = METHODS.get("pacdcgan")(METHODS.get("pacdcgan").Params(width=4, batch_size=batch, pack=pack), shape, torch.device("cpu"))
    method.setup(torch.Generator().manual_seed(0))
    G, D = method.nets["G"], method.nets["D"]
    G_before = copy.deepcopy(G).train()
    seen = []
    D.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
    noise = torch.Generator().manual_seed(3)
    z = method.noise(batch * pack, torch.Generator().set_state(noise.get_state()))
    real = torch.rand(batch * pack, 3, 28, 28, generator=torch.Generator().manual_seed(4))
    method.train_step(lambda n: real[:n], noise)
    with torch.no_grad():
        slots = [G_before(z[j::pack]) for j in range(pack)]  # slot j's batch of latents, alone
        per_slot = torch.stack(slots, dim=1).reshape(batch, pack * 3, 28, 28)
        one_pass = G_before(z).reshape(batch, pack * 3, 28, 28)
    fake_packs = seen[1]  # D's step: real packs, then fake packs
    torch.testing.assert_close(fake_packs, per_slot, rtol=1e-5, atol=1e-6)
    assert (one_pass - per_slot).abs().max() > 1e-3


def test_pacdcgan_samples_table3_with_batch_statistics_as_the_reference_sampler():
    """fjxmlzn/PacGAN ``unrolled_GAN_experiment/D=0.25G/model.py`` (and ``D=0.5G``) ``sampler`` calls ``g_bn*(h)`` with
    ``ops.py``'s default ``train=True`` (``is_training=True``) and ``log_metrics`` feeds it ``batch_size`` latents at a
    time, so on that setting's net (unrolled28x3) a sample depends on the other latents of its batch of ``batch_size``;
    the VEEGAN-setting sampler (``VEEGAN_experiment/model.py``, ``train=False``) and ``sample_batchnorm=running`` (this
    toolkit's Table 3 before 2026-11-30) use the running statistics, so a sample is its latent's alone. Structural
    check: G's output for the first latents with other batch members, sampled in batches of ``batch_size``, and the
    training G's statistics left untouched by sampling."""
    from trainers.methods.base import DataShape

    shape = DataShape((3, 28, 28), "image", (-1.0, 1.0))

    def method(**params):
        m = METHODS.get("pacdcgan")(resolved_params("pacdcgan", {"batch_size": 4, "latent_dim": 8, **params}, "image"), shape, torch.device("cpu"))
        m.setup(torch.Generator().manual_seed(0))
        m.train_step(lambda n: torch.rand(n, *shape.shape, generator=torch.Generator().manual_seed(1)) * 2 - 1, torch.Generator().manual_seed(2))
        return m  # one step: running statistics away from their initial 0 / 1

    z = torch.rand(8, 8, generator=torch.Generator().manual_seed(3)) * 2 - 1
    mates = torch.cat([z[:2], z[4:6]])  # the first two latents in another batch

    table3 = method(net="unrolled28x3")
    assert table3.params.sample_batchnorm == "batch" and table3.sample_batch_statistics
    buffers = [b.clone() for b in table3.nets["G"].buffers()]
    with torch.no_grad():
        G = table3.eval_generator()
        assert (G(z[:4])[:2] - G(mates)[:2]).abs().max() > 1e-3
        samples = table3.sample(10, torch.Generator().manual_seed(5))
        z_drawn = table3.latent_spec().sample(10, torch.Generator().manual_seed(5))
        torch.testing.assert_close(samples, torch.cat([G(c) for c in torch.split(z_drawn, 4)]))
    assert all(torch.equal(a, b) for a, b in zip(buffers, table3.nets["G"].buffers())) and table3.nets["G"].training

    for running in (method(net="unrolled28x3", sample_batchnorm="running"), method()):
        assert not running.sample_batch_statistics
        with torch.no_grad():
            G = running.eval_generator()
            torch.testing.assert_close(G(z[:4])[:2], G(mates)[:2])
    assert method().params.sample_batchnorm is None  # the VEEGAN setting's net: running statistics, configuration unchanged
    with pytest.raises(GanEvalError, match="sample_batchnorm='train'; use one of running, batch"):
        method(sample_batchnorm="train")


def test_pacgan_on_vectors_draws_each_pack_slot_in_its_own_generator_pass():
    """The 2-D PacGAN code calls G once per slot's own latents and concatenates the outputs (fjxmlzn/PacGAN
    ``synthetic_data_experiments/PacGAN/pacgan/bricks.py`` ``compute_losses``); the baseline G has BatchNorm
    (PROTOCOLS.md: 4 x [FC400, BN, ReLU]), so a pass over all ``batch_size * pack`` latents gives other samples."""
    from trainers.methods.base import DataShape

    pack, batch = 3, 5
    method = METHODS.get("pacgan")(METHODS.get("pacgan").Params(batch_size=batch, pack=pack), DataShape((2,)), torch.device("cpu"))
    method.setup(torch.Generator().manual_seed(0))
    G = method.nets["G"].train()
    z = torch.randn(batch * pack, int(method.params.latent_dim), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        per_slot = torch.stack([G(z[j::pack]) for j in range(pack)], dim=1).reshape(batch * pack, 2)
        torch.testing.assert_close(method.generate(z), per_slot, rtol=1e-6, atol=1e-7)
        assert (G(z) - per_slot).abs().max() > 1e-3
        method.params.generator_per_slot = False
        torch.testing.assert_close(method.generate(z), G(z))


CLAIM_SEEDS = 4
CLAIM_STEPS = 1500
CLAIM_EVAL_EVERY = 250
CLAIM_MARGIN = 1.0


@pytest.mark.slow
def test_veegan_covers_more_ring8_modes_than_the_gan_on_its_networks_over_seeds(tmp_path):
    """VEEGAN Table 1's claim (ring8: VEEGAN 8 modes, GAN 1) as a statistic over seeds: VEEGAN against its own
    networks, optimiser and batch without the reconstructor (the GAN row of ``veegan-table1``), so the only
    difference is what the paper credits. Statistic: modes(VEEGAN) - modes(GAN), 2,500 samples, averaged over the
    6 evaluations every 250 of the first 1,500 iterations and over seeds 0-3; it must be >= 1 mode.

    One seed's mode count changes with the CPU's kernels (GAN training is chaotic), so the margin comes from the
    spread over 20 seeds measured with AVX-512 and with ``ATEN_CPU_CAPABILITY=default`` kernels
    (``benchmarks/reproduce/results/veegan-claim-seeds.md``, row "first 1,500 iterations"; a shorter run is the
    start of a longer one): the per-seed average was 2.43 ± 0.56 (min 1.67) and 2.63 ± 0.58 (min 1.67), so the
    mean of 4 seeds sits 5 or more of its standard deviations above 1 on either kernel set (seeds 0-3 gave 2.38
    and 2.29). At 1,000 iterations that fell to 3.8 on the default kernels, hence 1,500 (2,000 gave 5.2 and 7.1).
    Those runs stepped D before G (``update=sequential``), which this test therefore pins.
    At single evaluations one seed may tie or reverse (min -1), and by 8,000 iterations the GAN leaves its
    mode in 3 of 20 runs; the claim is about the early budget, averaged."""
    diffs = []
    for seed in range(CLAIM_SEEDS):
        curves = {}
        for name, params in (("gan", {"reconstructor": False, "update": "sequential"}), ("veegan", {"update": "sequential"})):
            config = TrainConfig("veegan", "ring8", seed=seed, steps=CLAIM_STEPS, eval_every=CLAIM_EVAL_EVERY, params=params)
            train(config, tmp_path / f"{name}-s{seed}")
            curves[name] = [line["modes"] for line in metric_lines(tmp_path / f"{name}-s{seed}")]
        assert len(curves["veegan"]) == len(curves["gan"]) == CLAIM_STEPS // CLAIM_EVAL_EVERY
        diffs.append(float(np.mean(np.subtract(curves["veegan"], curves["gan"]))))
    assert np.mean(diffs) >= CLAIM_MARGIN, diffs


def test_images_end_to_end_train_dcgan_on_stacked_mnist_then_score_the_generator(tmp_path, mnist_dir):
    """Issue 13 item 7: `gan-eval train dcgan --dataset stacked-mnist --data-dir ../shared/data/mnist --steps 200`
    writes a generator that `gan-eval score GEN --metric stacked-mnist` scores (small nets: --width 4)."""
    from typer.testing import CliRunner

    from gan_eval.cli import app

    runner = CliRunner()
    args = ["train", "dcgan", "--dataset", "stacked-mnist", "--data-dir", str(mnist_dir), "--steps", "200", "--eval-every", "100",
            "--eval-samples", "1000", "--width", "4", "--batch-size", "32", "--out", str(tmp_path), "--no-progress"]
    trained = runner.invoke(app, args)
    assert trained.exit_code == 0, trained.output
    (run,) = tmp_path.iterdir()
    result = json.loads((run / "result.json").read_text())
    assert result["step"] == 200 and result["headline"] == ["modes", "kl"]
    spec = load_latent_spec(run / "generator.pt2")
    assert spec.value_range == "0,1" and spec.latent_distribution == "uniform"  # G's range follows the data's
    scored = runner.invoke(app, ["score", str(run / "generator.pt2"), "--metric", "stacked-mnist", "-n", "500", "--json"])
    assert scored.exit_code == 0, scored.output
    values = json.loads(scored.stdout)["values"]
    assert 1 <= values["modes"] <= 500 and 0 <= values["kl"] <= np.log(1000) + 1e-9


@pytest.mark.parametrize(
    "args, message",
    [
        (["gan", "--dataset", "stacked-mnist", "--data-dir", "MNIST"], "method gan trains on vectors, but stacked-mnist holds images"),
        (["dcgan", "--dataset", "ring8"], "method dcgan trains on images, but ring8 holds vectors"),
        (["gan", "--seeds", "5-2"], "descending"),
        (["gan", "--seeds", "1,1"], "given twice"),
        (["gan", "--seed", "1", "--seeds", "0-2"], "give one of them"),
        (["dcgan", "--dataset", "cifar10", "--data-dir", "EMPTY"], "cifar-10-batches"),
        (["dcgan", "--dataset", "stacked-mnist", "--data-dir", "EMPTY"], "train-images-idx3-ubyte.gz"),
        (["gan", "--dataset", "ring8", "--data-dir", "EMPTY"], "reads no files"),
        (["gan", "--eval", "stacked-mnist"], "not 3-channel images"),
        (["gan", "--loss", "hinj"], "unknown loss 'hinj': did you mean 'hinge'?"),
        (["dcgan", "--dataset", "stacked-mnist", "--data-dir", "MNIST", "--latent-distribution", "cauchy"], "latent distribution 'cauchy' is unknown"),
        (["dcgan", "--dataset", "stacked-mnist", "--data-dir", "MNIST", "--loss", "hinj"], "unknown loss 'hinj'"),
        (["wgan-gp", "--n-critic", "0"], "n_critic=0; D needs at least 1 step"),
        (["wgan-gp", "--gp-weight", "-1"], "gp_weight=-1.0 must not be negative"),
        (["fgan", "--divergence", "tv"], "divergence='tv' is not one of"),
        (["wgan", "--optimizer", "sgd"], "use one of adam, rmsprop"),
        (["bwgan", "--sobolev-s", "1"], "needs images"),
        (["lsgan", "--loss", "least-square"], "unknown loss 'least-square'"),
    ],
)
def test_cli_bad_training_input_is_one_line_before_training(args, message, tmp_path, mnist_dir):
    """Issue 13's bad input: a method/data mismatch, bad --seeds, a data folder without its files, an evaluator that
    cannot score the data: exit 2, one line naming the problem, nothing written."""
    from typer.testing import CliRunner

    from gan_eval.cli import app

    (tmp_path / "empty").mkdir()
    args = [str(mnist_dir) if a == "MNIST" else str(tmp_path / "empty") if a == "EMPTY" else a for a in args]
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["train", *args, "--steps", "2", "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert not out.exists()


def test_cifar10_from_a_small_binary_layout_file_trains_and_scores_fid(tmp_path):
    """Issue 13 item 7: CIFAR-10 in its binary layout (a small synthetic copy: 6 batches of 40 records) trains dcgan
    (dcgan32) and each evaluation reports KID against the held-out test batch (pixel features: no download)."""
    from test_datasets import write_cifar

    write_cifar(tmp_path / "data", n=40, layouts=("bin",))
    config = TrainConfig("dcgan", "cifar10", steps=4, eval_every=2, eval_samples=64, data_dir=str(tmp_path / "data"),
                         params={"width": 4, "batch_size": 16}, evaluators=("kid:features=pixels,subset_size=32,subsets=10",))
    result = train(config, tmp_path / "run")
    assert result["headline"][0] == "kid" and np.isfinite(result["values"]["kid"]) and result["values"]["kid"] > 0
    assert [line["step"] for line in metric_lines(tmp_path / "run")] == [2, 4]
    assert load_latent_spec(tmp_path / "run" / "generator.pt2").value_range == "-1,1"


def test_every_method_knows_the_name_it_is_registered_under_for_its_messages():
    """register_method gives each class the name `gan-eval train NAME` takes, which its error messages use; no two
    registered methods share a class (each message names one method)."""
    classes = [METHODS.get(name) for name in METHODS.names()]
    assert [cls.method_name for cls in classes] == list(METHODS.names())
    assert len(set(classes)) == len(classes)


@pytest.mark.parametrize(
    "method, params, dataset, name",
    [  # today's names of safe runs stay, so killed runs resume in their folders
        ("gan", {}, "ring8", "gan-ring8"),
        ("veegan", {"reconstructor": "false"}, "ring8", "veegan-reconstructorfalse-ring8"),
        ("gan", {"lr": "1e-4"}, "ring8", "gan-lr1e-4-ring8"),
        ("gan", {}, "ring:n=6", "gan-ring-n6"),
        ("dcgan", {}, "folder:size=64,held_out=0.1", "dcgan-folder-size64-held_out0.1"),
        # a path in the dataset spec or a value: one component, not nested folders or a way out of --out
        ("gan", {}, "npz:path=/tmp/qa/real.npz", "gan-npz-path-tmp-qa-real.npz"),
        ("gan", {}, "npz:path=../../real.npz", "gan-npz-path..-..-real.npz"),
        ("gan", {"note": "a\\..\\b"}, "ring8", "gan-notea-..-b-ring8"),
    ],
)
def test_train_run_folder_name_is_one_path_component_and_keeps_safe_names(method, params, dataset, name):
    from pathlib import Path

    from gan_eval.cli.train import run_stem

    stem = run_stem(method, params, dataset)
    assert stem == name and Path(stem).name == stem and stem not in (".", "..")


def test_cli_train_on_a_file_dataset_writes_its_run_directly_under_out(tmp_path):
    """`train gan --dataset npz:path=/tmp/qa/real.npz` once wrote OUT/gan-npz-path/tmp/qa/real.npz-s0/."""
    from typer.testing import CliRunner

    from gan_eval.cli import app

    np.savez(tmp_path / "real.npz", samples=np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32))
    out = tmp_path / "out"
    args = ["train", "gan", "--dataset", f"npz:path={tmp_path / 'real.npz'}", "--steps", "2", "--eval-every", "2", "--eval-samples", "32"]
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    (run,) = out.iterdir()
    assert run.name == f"gan-npz-path{str(tmp_path).replace('/', '-')}-real.npz-s0" and (run / "result.json").is_file()
