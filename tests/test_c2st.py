"""C2ST (Lopez-Paz & Oquab 2017): its classifiers equal scikit-learn's on the same split; closed forms on mixtures
(same distribution: accuracy 1/2 within the binomial spread; disjoint: 1; half the modes dropped: 3/4); the CLI."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from gan_eval.cli import app
from gan_eval.errors import GanEvalError
from gan_eval.metrics.c2st import c2st, c2st_split, default_k, fit_logistic, knn_votes
from gan_eval.ops.knn import knn
from gan_eval.references import get_reference



def gaussians(n_real: int, n_fake: int, dim: int, seed: int, shift: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    real = torch.randn(n_real, dim, generator=gen, dtype=torch.float64)
    return real, torch.randn(n_fake, dim, generator=gen, dtype=torch.float64) * 1.1 + shift


@pytest.mark.parametrize("k", [None, 1, 4])
def test_knn_predictions_equal_sklearn_kneighborsclassifier(k):
    """Even k (4) checks the tie rule: scikit-learn's vote takes the smallest label (real) on a tie, as ours."""
    from sklearn.neighbors import KNeighborsClassifier

    split = c2st_split(*gaussians(600, 500, 16, seed=1), seed=3)
    k = default_k(len(split.train_labels)) if k is None else k
    ours = knn_votes(knn(split.test, split.train, k).indices, split.train_labels)
    peer = KNeighborsClassifier(k).fit(split.train.numpy(), split.train_labels.numpy()).predict(split.test.numpy())
    np.testing.assert_array_equal(ours.numpy(), peer)


@pytest.mark.parametrize("c", [1.0, 0.05])
def test_logistic_regression_equals_sklearn_logisticregression(c):
    from sklearn.linear_model import LogisticRegression

    split = c2st_split(*gaussians(500, 500, 12, seed=2, shift=0.3), seed=0)
    w, b = fit_logistic(split.train, split.train_labels, c)
    peer = LogisticRegression(C=c, tol=1e-12, max_iter=10_000).fit(split.train.numpy(), split.train_labels.numpy())
    ours_p = torch.sigmoid(split.test @ w + b).numpy()
    np.testing.assert_allclose(ours_p, peer.predict_proba(split.test.numpy())[:, 1], atol=1e-6)
    np.testing.assert_array_equal((ours_p > 0.5).astype(int), peer.predict(split.test.numpy()))


def test_two_halves_of_one_set_are_at_chance_within_the_binomial_spread():
    """Under H0 a test accuracy is ~ Binomial(n_test, 1/2) / n_test, sd = 1/(2 sqrt(n_test)) = 0.0177 here. Over 8
    seeds each accuracy lies within 4 sd of 1/2 and their mean within 3 sd / sqrt(8); the permutation p-values are
    not small on average (uniform under H0: mean 1/2)."""
    ring = get_reference("ring8")
    accuracies, p_values = {"knn": [], "logistic": []}, []
    for seed in range(8):
        points = ring.sample(1600, seed)
        tests = c2st(points[:800], points[800:], seed=seed, n_permutations=19)
        for name, test in tests.items():
            accuracies[name].append(test.accuracy)
            p_values.append(test.p_value)
    for seed in range(4):  # the network re-trains per permutation: none here, 4 seeds
        points = ring.sample(1600, seed)
        accuracies.setdefault("mlp", []).append(c2st(points[:800], points[800:], seed=seed, n_permutations=0, classifiers=("mlp",))["mlp"].accuracy)
    sd = 1 / (2 * math.sqrt(800))
    for name, values in accuracies.items():
        assert max(abs(a - 0.5) for a in values) < 4 * sd, (name, values)
        assert abs(np.mean(values) - 0.5) < 3 * sd / math.sqrt(len(values)), (name, values)
    assert np.mean(p_values) > 0.25


def test_disjoint_mixtures_are_told_apart_always():
    """ring8 against ring8 rotated by half the angle between its modes: no overlap, so k-NN accuracy is 1 and the
    p-values are the smallest possible, 1 / (1 + B); the network separates them too."""
    points = get_reference("ring8").sample(800, 0)
    angle = math.pi / 8
    rotation = torch.tensor([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]], dtype=points.dtype)
    test = c2st(points[:400], points[400:] @ rotation.T, seed=0, n_permutations=9, classifiers=("knn",))["knn"]
    assert test.accuracy == 1.0
    assert test.p_value == pytest.approx(1 / 10)
    assert test.p_value_binomial < 1e-50
    mlp = c2st(points[:400], points[400:] @ rotation.T, seed=0, n_permutations=0, classifiers=("mlp",))["mlp"]
    assert mlp.accuracy > 0.98 and mlp.p_value is None


def test_generator_that_drops_half_the_modes_scores_three_quarters():
    """Fakes on 4 of ring8's 8 modes: real test points on the 4 dropped modes are always recognised (1/4 of the test
    set), the shared modes hold twice as many fakes as reals so their points are voted fake (right for the fakes, 1/2
    of the test set, wrong for the reals): accuracy 3/4 for k-NN and the network, within 4 binomial sd of the 1200 test
points (sd 0.0125)."""
    ring = get_reference("ring8")
    real = ring.sample(1200, 1)
    pool = ring.sample(4000, 2)
    fake = pool[ring.assign(pool)[0] % 2 == 0][:1200]
    tests = c2st(real, fake, seed=0, n_permutations=0, classifiers=("knn", "logistic", "mlp"))
    for name in ("knn", "mlp"):
        assert abs(tests[name].accuracy - 0.75) < 4 * math.sqrt(0.75 * 0.25 / 1200), name
    # a linear boundary cannot carve alternate modes of a ring: chance, within 4 binomial sd
    assert abs(tests["logistic"].accuracy - 0.5) < 4 * 0.5 / math.sqrt(1200)


def test_same_seed_same_numbers_and_the_seed_matters():
    real, fake = gaussians(300, 300, 8, seed=5)
    first, again, other = (c2st(real, fake, seed=s, n_permutations=5) for s in (0, 0, 1))
    assert first == again
    assert first != other


def test_too_few_samples_and_unknown_classifier_are_one_line_errors():
    real, fake = gaussians(3, 50, 4, seed=0)
    with pytest.raises(GanEvalError, match="at least 4"):
        c2st(real, fake)
    with pytest.raises(GanEvalError, match="choose among"):
        c2st(*gaussians(50, 50, 4, seed=0), classifiers=("svm",))


def test_cli_scores_c2st_against_a_mixture_and_refuses_too_few(tmp_path):
    """The issue's command on 2-D points against a mixture reference: JSON with both classifiers and the protocol."""
    ring = get_reference("ring8")
    fake = tmp_path / "fake.npz"
    np.savez(fake, ring.sample(400, 7).numpy())
    runner = CliRunner()
    result = runner.invoke(app, ["score", str(fake), "--metric", "c2st", "--reference", "ring8", "--set", "n_permutations=9", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert set(out["values"]) >= {"knn_accuracy", "knn_p_value", "logistic_accuracy", "logistic_p_value"}
    assert out["protocol"]["n_test_per_side"] == 200 and out["protocol"]["features"] == "as given"
    assert abs(out["values"]["knn_accuracy"] - 0.5) < 4 / (2 * math.sqrt(400))
    small = tmp_path / "small.npz"
    np.savez(small, ring.sample(3, 0).numpy())
    result = runner.invoke(app, ["score", str(small), "--metric", "c2st", "--reference", "ring8"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [result.output.strip()] and "at least 4" in result.output
