"""The stacked-mnist metric against closed forms and real data the classifier never saw (MNIST t10k).

Closed forms: one triple has KL = ln 1000; m equally filled triples have KL = ln(1000 / m); a perfect
uniform generator's expected plug-in KL is checked against a seeded simulation and (K - 1) / (2 n).
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import gan_eval
from gan_eval.cli import app
from gan_eval.errors import GanEvalError
from gan_eval.features.mnist_classifier import WEIGHTS_DIR, MnistClassifier
from gan_eval.io.mnist import load_mnist
from gan_eval.metrics.stacked_mnist import expected_uniform_kl, kl_to_uniform, stacked_mnist_modes
from gan_eval.references.stacked_mnist import build_stacked



@pytest.fixture(scope="module")
def t10k(mnist_dir):
    return load_mnist(mnist_dir, "test")


@pytest.fixture(scope="module")
def correct_by_digit(t10k):
    """t10k indices of each digit that the bundled classifier labels correctly (to build exact-triple samples)."""
    images, labels = t10k
    pred = MnistClassifier().predict(torch.from_numpy(images).float().div(255).unsqueeze(1)).numpy()
    return {d: np.flatnonzero((labels == d) & (pred == d)) for d in range(10)}


def triple_samples(images, correct_by_digit, triples, per_triple, seed=0):
    """``per_triple`` samples of each (a, b, c), each channel a random correctly classified t10k digit."""
    rng = np.random.default_rng(seed)
    rows = []
    for triple in triples:
        index = np.stack([rng.choice(correct_by_digit[d], per_triple) for d in triple], axis=1)
        rows.append(images[index])
    return np.concatenate(rows)


def test_real_stacked_t10k_digits_cover_995_modes_with_kl_below_0_05(t10k):
    """26,000 real samples (VEEGAN's n) from digits the classifier never saw: >= 995 of 1000 modes, KL < 0.05
    (a perfect generator scores E[KL] = 0.0193 here, and ~1000 modes)."""
    stacked = build_stacked(*t10k, 26_000, seed=0)
    score = stacked_mnist_modes(stacked.images.numpy())
    assert score.n == 26_000 and score.modes >= 995
    assert score.kl < 0.05
    assert score.kl_perfect == pytest.approx(0.01934, abs=1e-4)
    true = torch.stack([torch.bincount(stacked.digits[:, c], minlength=10) for c in range(3)])
    assert (score.digit_counts - true).abs().sum(dim=1).max() <= 0.015 * 26_000  # per-channel histograms as drawn
    assert int(score.counts.sum()) == 26_000


def test_single_triple_is_one_mode_with_kl_ln_1000(t10k, correct_by_digit):
    x = triple_samples(t10k[0], correct_by_digit, [(3, 1, 4)], 300)
    score = stacked_mnist_modes(x)
    assert score.modes == 1
    assert score.kl == pytest.approx(math.log(1000), rel=0.01)
    assert score.counts[314] == 300
    assert [int(score.digit_counts[c].argmax()) for c in range(3)] == [3, 1, 4]


def test_ten_triples_are_ten_modes_with_kl_ln_100(t10k, correct_by_digit):
    triples = [(d, (3 * d + 1) % 10, (7 * d + 2) % 10) for d in range(10)]
    x = triple_samples(t10k[0], correct_by_digit, triples, 40)
    score = stacked_mnist_modes(x)
    assert score.modes == 10
    assert score.kl == pytest.approx(math.log(100), rel=1e-9)
    assert sorted(np.flatnonzero(score.counts.numpy()).tolist()) == sorted(100 * a + 10 * b + c for a, b, c in triples)


def test_uint8_float_tanh_channels_last_and_32px_inputs_count_alike(t10k):
    x = build_stacked(*t10k, 300, seed=5).images
    reference = stacked_mnist_modes(x.numpy()).counts
    unit = x.float() / 255
    variants = {
        "float [0,1], channels last": unit.permute(0, 2, 3, 1).numpy(),
        "tanh [-1,1]": (unit * 2 - 1).numpy(),
        "32 px padded": build_stacked(*t10k, 300, seed=5, size=32).images.numpy(),
    }
    for name, array in variants.items():
        assert torch.equal(stacked_mnist_modes(array).counts, reference), name


@pytest.mark.parametrize(
    "shape, dtype, scale, message",
    [
        ((4, 28, 28), np.uint8, 1, "N x 3 x 28 x 28"),  # grayscale: one digit, not three
        ((4, 3, 64, 64), np.uint8, 1, "N x 3 x 28 x 28"),
        ((4, 3, 28, 28), np.float32, 5.0, "outside"),
    ],
)
def test_other_inputs_are_one_line_errors(shape, dtype, scale, message):
    x = (np.ones(shape) * scale).astype(dtype)
    with pytest.raises(GanEvalError, match=message) as err:
        stacked_mnist_modes(x)
    assert "\n" not in str(err.value)


def test_more_samples_than_n_are_a_seeded_subset(t10k):
    x = build_stacked(*t10k, 400, seed=1).images.numpy()
    a = gan_eval.score(x, "stacked-mnist", subset=150, seed=7)
    b = gan_eval.score(x, "stacked-mnist", subset=150, seed=7)
    c = gan_eval.score(x, "stacked-mnist", subset=150, seed=8)
    assert a.values["n"] == 150 and a.protocol["scored"] == "random 150 of 400 samples (seed 7)"
    assert a.details["triple_counts"] == b.details["triple_counts"] != c.details["triple_counts"]
    whole = gan_eval.score(x, "stacked-mnist")  # default n = 26,000 > 400: all, and said so
    assert whole.values["n"] == 400 and "fewer than n=26000" in whole.protocol["scored"]


def test_kl_closed_forms():
    assert kl_to_uniform(torch.full((1000,), 26, dtype=torch.int64)) == pytest.approx(0.0, abs=1e-12)
    one = torch.zeros(1000, dtype=torch.int64)
    one[7] = 5
    assert kl_to_uniform(one) == pytest.approx(math.log(1000))
    two = one.clone()
    two[8] = 5
    assert kl_to_uniform(two) == pytest.approx(math.log(500))


def test_perfect_generator_bias_matches_simulation_and_first_order_formula():
    """E[KL] of n uniform draws over 1000 triples: exact binomial sum vs a seeded simulation, and vs (K-1)/(2n)."""
    gen = torch.Generator().manual_seed(0)
    for n, runs in ((26_000, 300), (2_000, 1000)):
        sims = np.array([kl_to_uniform(torch.bincount(torch.randint(1000, (n,), generator=gen), minlength=1000)) for _ in range(runs)])
        se = sims.std() / math.sqrt(runs)
        assert abs(sims.mean() - expected_uniform_kl(n)) < 4 * se
    assert expected_uniform_kl(26_000) == pytest.approx(999 / 52_000, rel=0.01)
    assert expected_uniform_kl(1) == pytest.approx(math.log(1000))


def test_cli_builds_samples_then_scores_them_with_the_bundled_or_a_given_classifier(mnist_dir, tmp_path):
    runner = CliRunner()
    out = tmp_path / "stacked.npz"
    made = runner.invoke(app, ["stacked-mnist", "--mnist-dir", str(mnist_dir), "--pool", "test", "-n", "200", "-o", str(out)])
    assert made.exit_code == 0, made.output
    with np.load(out) as npz:
        assert list(npz) == ["images"] and npz["images"].shape == (200, 3, 28, 28) and npz["images"].dtype == np.uint8
    scored = runner.invoke(app, ["score", str(out), "--metric", "stacked-mnist", "--json", "--device", "cpu"])
    assert scored.exit_code == 0, scored.output
    result = json.loads(scored.stdout)
    assert result["values"]["n"] == 200 and 150 <= result["values"]["modes"] <= 200
    assert sum(result["details"]["digits_per_channel"]["channel 0"]) == 200
    copy = tmp_path / "classifier-copy.pt"
    copy.write_bytes(WEIGHTS_DIR.joinpath("mnist_classifier.pt").read_bytes())
    rescored = runner.invoke(app, ["score", str(out), "--metric", "stacked-mnist", "--json", "--weights", str(copy)])
    assert rescored.exit_code == 0, rescored.output
    again = json.loads(rescored.stdout)
    # the weights' identity is their content, so a copy at another path is the same classifier
    assert again["protocol"]["classifier"]["weights"] == result["protocol"]["classifier"]["weights"] and again["values"] == result["values"]
    assert again["protocol"]["classifier"]["weights_file"] == copy.name
    missing = runner.invoke(app, ["score", str(out), "--metric", "stacked-mnist", "--weights", str(tmp_path / "no.pt")])
    assert missing.exit_code == 2 and "no.pt" in missing.output and "Traceback" not in missing.output
    bad = runner.invoke(app, ["stacked-mnist", "--mnist-dir", str(tmp_path), "-n", "5", "-o", str(tmp_path / "x.npz")])
    assert bad.exit_code == 2 and "error:" in bad.output and "no train-images" in bad.output


@pytest.fixture()
def stacked_files(t10k, correct_by_digit, tmp_path, monkeypatch):
    """Two independent real Stacked-MNIST sets of 500 (t10k digits), a collapsed set of 500 samples of four
    triples, and no Inception weights anywhere (the environment variable unset, an empty hub folder, no network)."""
    from gan_eval.features import weights as inception_weights

    monkeypatch.delenv(inception_weights.ENV_VAR, raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "empty-hub"))
    monkeypatch.setattr(inception_weights, "_online", lambda *a, **k: False)
    files = {name: tmp_path / f"{name}.npz" for name in ("fake", "real", "collapsed")}
    np.savez(files["fake"], x=build_stacked(*t10k, 500, seed=1).images.numpy())
    np.savez(files["real"], x=build_stacked(*t10k, 500, seed=2).images.numpy())
    np.savez(files["collapsed"], x=triple_samples(t10k[0], correct_by_digit, [(3, 1, 4), (1, 5, 9), (2, 6, 5), (3, 5, 8)], 125))
    return files


def test_fid_and_prdc_on_stacked_mnist_with_mnist_features_work_offline(stacked_files):
    """--features mnist on N x 3 x 28 x 28: 384-d per-channel features, stated in the protocol. Two real sets
    are close (high precision and recall); four triples (of 1000 modes) keep precision but lose recall."""
    runner = CliRunner()

    def score(fake, *args):
        result = runner.invoke(app, ["score", str(stacked_files[fake]), "-r", str(stacked_files["real"]), "--features", "mnist", "--json", "--no-progress", *args])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    real_fid, collapsed_fid = score("fake", "-m", "fid"), score("collapsed", "-m", "fid")
    assert real_fid["protocol"]["feature_dim"] == 384 and real_fid["protocol"]["features"]["name"] == "mnist"
    assert "each channel on its own" in real_fid["protocol"]["features"]["preprocessing"]
    assert collapsed_fid["values"]["fid"] > 5 * real_fid["values"]["fid"]
    real_prdc, collapsed_prdc = score("fake", "-m", "prdc")["values"], score("collapsed", "-m", "prdc")["values"]
    assert real_prdc["precision"] > 0.8 and real_prdc["recall"] > 0.8
    assert collapsed_prdc["recall"] < 0.2 < real_prdc["recall"] - 0.5


@pytest.mark.parametrize("command", [["score", "-m", "fid"], ["score", "-m", "prdc"], ["stats"]])
def test_a_wrong_image_size_for_mnist_features_names_the_file(tmp_path, command):
    wrong = tmp_path / "big_stacked.npz"
    np.savez(wrong, x=np.zeros((20, 3, 64, 64), np.uint8))
    real = tmp_path / "real.npz"
    np.savez(real, x=np.zeros((20, 3, 28, 28), np.uint8))
    tail = ["-o", str(tmp_path / "s.npz")] if command == ["stats"] else ["-r", str(real)]
    result = CliRunner().invoke(app, [command[0], str(wrong), *command[1:], *tail, "--features", "mnist", "--no-progress"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {wrong}: images are 64x64"), lines
