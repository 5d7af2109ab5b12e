"""Classifier two-sample test (C2ST): can a classifier tell generated features from real ones on held-out data?

Lopez-Paz & Oquab, "Revisiting Classifier Two-Sample Tests", ICLR 2017 (reference code:
lopezpaz/classifier_tests, ``c2st`` with a k-NN and a neural network). Protocol here, all from one seed:

1. draw n = min(N, M) of each side (so chance is exactly 1/2), label real 0 and fake 1;
2. split each side in halves: floor(n/2) train, the rest test; standardise every feature with the training
   half's mean and standard deviation (both classifiers are scale-sensitive);
3. fit a k-NN classifier (Euclidean, majority vote, a tie goes to "real" as scikit-learn's mode does; default
   k = the odd number nearest sqrt(n_train)) and an L2-regularised logistic regression (scikit-learn's
   objective ``0.5 |w|^2 + C sum log-loss``, C = 1, intercept unpenalised, fitted to convergence with full-batch
   L-BFGS in float64, so the fit has no randomness) on the training half; report test accuracy. On request
   (``classifiers=knn,logistic,mlp``) also the paper's neural network: one hidden ReLU layer (20 units), full-batch
   Adam from a seeded initialisation;
4. p-values under H0 (same distribution): the permutation p-value (1 + #{acc_perm >= acc}) / (1 + B), where
   each of B permutations shuffles the labels over the pooled points with the split kept and re-fits the
   classifier (for k-NN the neighbour lists do not depend on labels, so they are searched once); and Lopez-Paz
   & Oquab's own test, acc ~ Binomial(n_test, 1/2) / n_test under H0 (one-sided, exact binomial tail).

Accuracy near 1/2 means the classifier cannot tell the sets apart; near 1, it always can (e.g. mode collapse
or missing modes). Logistic regression sees only linear separations (mean shifts): a generator that drops half
of ring8's modes scores 1/2 with it and 3/4 with k-NN or the network.

Proven by ``tests/test_c2st.py``: predictions equal scikit-learn's ``KNeighborsClassifier`` exactly and
``LogisticRegression`` (lbfgs, C = 1) to 1e-6 in probability on the same standardised split; two halves of one
set give accuracies within the binomial spread of 1/2 and large p-values; disjoint mixtures give accuracy 1;
dropping half of ring8's modes gives 3/4 (k-NN, network).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import torch
from scipy.stats import binom

from gan_eval.errors import GanEvalError
from gan_eval.metrics.base import METRICS, FeatureNeed, MetricResult, ScoreRequest, register_metric
from gan_eval.metrics.feature_inputs import ReferenceFeatureOptions, vector_pair
from gan_eval.ops.knn import knn
from gan_eval.options import positive

DEFAULT_FEATURES = "inception"
CLASSIFIERS = ("knn", "logistic", "mlp")


@dataclass
class C2STSplit:
    """Standardised train/test features (float64) and labels (0 real, 1 fake) of one seeded split."""

    train: torch.Tensor
    train_labels: torch.Tensor
    test: torch.Tensor
    test_labels: torch.Tensor


def c2st_split(real: torch.Tensor, fake: torch.Tensor, seed: int = 0, names: tuple[str, str] = ("real", "fake")) -> C2STSplit:
    """Steps 1-2 of the module docstring: n = min(N, M) of each side, halves, standardised by the train half.
    ``names``: of the real and fake sets, for errors."""
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise GanEvalError(f"c2st: real {tuple(real.shape)} and fake {tuple(fake.shape)} must be N x D with the same D")
    n = min(len(real), len(fake))
    if n < 4:
        raise GanEvalError(
            f"c2st: needs at least 4 samples on each side for train and test halves; {names[0]} has {len(real)},"
            f" {names[1]} has {len(fake)}: pass more samples (-n from a generator)"
        )
    gen = torch.Generator().manual_seed(seed)
    real = real.double()[torch.randperm(len(real), generator=gen)[:n].to(real.device)]
    fake = fake.double().to(real.device)[torch.randperm(len(fake), generator=gen)[:n].to(real.device)]
    half = n // 2
    train, test = torch.cat([real[:half], fake[:half]]), torch.cat([real[half:], fake[half:]])
    mean, std = train.mean(0), train.std(0)
    std = torch.where(std > 0, std, torch.ones_like(std))  # a constant feature carries no information; leave it at 0
    return C2STSplit((train - mean) / std, _labels(half, real.device), (test - mean) / std, _labels(n - half, real.device))


def _labels(per_side: int, device: torch.device) -> torch.Tensor:
    return torch.cat([torch.zeros(per_side), torch.ones(per_side)]).to(device, torch.int64)


def default_k(n_train: int) -> int:
    """The odd number nearest sqrt(n_train), so that a two-class vote cannot tie."""
    return 2 * int(math.sqrt(n_train) / 2) + 1


def knn_votes(neighbours: torch.Tensor, train_labels: torch.Tensor) -> torch.Tensor:
    """k-NN predictions from neighbour indices (n_test x k): fake when more than half the neighbours are fake."""
    return (2 * train_labels[neighbours].sum(1) > neighbours.shape[1]).long()


def fit_logistic(x: torch.Tensor, y: torch.Tensor, c: float = 1.0, max_iter: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """(w, b) minimising ``0.5 |w|^2 + c * sum_i log(1 + exp(-s_i (x_i.w + b)))`` with s_i = 2 y_i - 1 (scikit-learn's
    ``LogisticRegression(C=c)``), by float64 full-batch L-BFGS with a strong-Wolfe line search; deterministic."""
    x = x.double()
    signs = (2 * y - 1).double()
    params = torch.zeros(x.shape[1] + 1, dtype=torch.float64, device=x.device, requires_grad=True)
    optimiser = torch.optim.LBFGS(
        [params], lr=1, max_iter=max_iter, tolerance_grad=1e-10, tolerance_change=1e-14, history_size=20,
        line_search_fn="strong_wolfe",
    )

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        margins = signs * (x @ params[:-1] + params[-1])
        loss = 0.5 * params[:-1].pow(2).sum() + c * torch.nn.functional.softplus(-margins).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimiser.step(closure)
    params = params.detach()
    return params[:-1], params[-1]


def fit_mlp(x: torch.Tensor, y: torch.Tensor, hidden: int = 20, steps: int = 500, seed: int = 0) -> torch.nn.Module:
    """A one-hidden-layer ReLU network (``hidden`` units) fitted to labels ``y`` by full-batch Adam (lr 0.01,
    ``steps`` steps) on the mean logistic loss, as Lopez-Paz & Oquab's neural C2ST; initialised from ``seed``
    (PyTorch's default uniform(+-1/sqrt(fan_in))), so the same seed on the same device gives the same network."""
    gen = torch.Generator().manual_seed(seed)
    layers = [torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1)]
    net = torch.nn.Sequential(*layers).double()
    with torch.no_grad():
        for layer in (layers[0], layers[2]):
            bound = 1 / math.sqrt(layer.in_features)
            for param in (layer.weight, layer.bias):
                param.copy_(torch.rand(param.shape, generator=gen, dtype=torch.float64) * 2 * bound - bound)
    net = net.to(x.device)
    optimiser = torch.optim.Adam(net.parameters(), lr=0.01)
    target = y.double()[:, None]
    with torch.enable_grad():
        for _ in range(steps):
            optimiser.zero_grad()
            torch.nn.functional.binary_cross_entropy_with_logits(net(x.double()), target).backward()
            optimiser.step()
    return net.eval()


@dataclass
class ClassifierTest:
    """One classifier's test accuracy, its permutation accuracies and the two p-values (the permutation one is
    None without permutations)."""

    accuracy: float
    p_value: float | None
    p_value_binomial: float
    permuted_accuracies: list[float] = field(default_factory=list)


def _test(accuracy: float, permuted: list[float], n_test: int) -> ClassifierTest:
    exceeded = sum(a >= accuracy for a in permuted)
    correct = round(accuracy * n_test)
    return ClassifierTest(
        accuracy=accuracy,
        p_value=(1 + exceeded) / (1 + len(permuted)) if permuted else None,
        p_value_binomial=float(binom.sf(correct - 1, n_test, 0.5)),
        permuted_accuracies=permuted,
    )


def c2st(
    real: torch.Tensor,
    fake: torch.Tensor,
    *,
    seed: int = 0,
    k: int | None = None,
    c: float = 1.0,
    hidden: int = 20,
    n_permutations: int = 100,
    classifiers: tuple[str, ...] = ("knn", "logistic"),
    backend: str = "auto",
    names: tuple[str, str] = ("real", "fake"),
) -> dict[str, ClassifierTest]:
    """C2ST of ``fake`` (M x D) against ``real`` (N x D) for each of ``classifiers`` (see the module docstring).

    >>> g = torch.Generator().manual_seed(0)
    >>> x, y = torch.randn(200, 2, generator=g), torch.randn(200, 2, generator=g) + 10
    >>> c2st(x, y, n_permutations=0)["knn"].accuracy
    1.0
    """
    unknown = [name for name in classifiers if name not in CLASSIFIERS]
    if unknown or not classifiers:
        raise GanEvalError(f"c2st: classifiers {unknown or '(none)'}: choose among {', '.join(CLASSIFIERS)}")
    if n_permutations < 0:
        raise GanEvalError(f"c2st: n_permutations={n_permutations} must be >= 0")
    split = c2st_split(real, fake, seed, names)
    pooled = torch.cat([split.train_labels, split.test_labels])
    n_train, n_test = len(split.train_labels), len(split.test_labels)
    gen = torch.Generator().manual_seed(seed + 1)
    permutations = [torch.randperm(len(pooled), generator=gen).to(pooled.device) for _ in range(n_permutations)]
    predictors: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {}  # training labels -> test predictions
    if "knn" in classifiers:
        k = default_k(n_train) if k is None else k
        if not 1 <= k <= n_train:
            raise GanEvalError(f"c2st: k = {k} needs 1 <= k <= {n_train} (the training half)")
        neighbours = knn(split.test, split.train, k, backend=backend).indices
        predictors["knn"] = lambda labels: knn_votes(neighbours, labels)
    if "logistic" in classifiers:

        def logistic(labels: torch.Tensor) -> torch.Tensor:
            w, b = fit_logistic(split.train, labels, c)
            return (split.test @ w + b > 0).long()

        predictors["logistic"] = logistic
    if "mlp" in classifiers:
        predictors["mlp"] = lambda labels: (fit_mlp(split.train, labels, hidden, seed=seed)(split.test)[:, 0] > 0).long()
    results = {}
    for name in classifiers:
        predict = predictors[name]

        def accuracy(labels: torch.Tensor) -> float:
            with torch.no_grad():
                return float((predict(labels[:n_train]) == labels[n_train:]).double().mean())

        results[name] = _test(accuracy(pooled), [accuracy(pooled[p]) for p in permutations], n_test)
    return results


@dataclass
class C2STOptions(ReferenceFeatureOptions):
    """The feature options, plus ``classifiers``: comma-separated, among knn, logistic and mlp. ``k``: neighbours (default: the odd number
    nearest sqrt(n_train)). ``c``: inverse L2 strength of the logistic regression (scikit-learn's C). ``hidden``:
    units of the mlp's hidden layer (each permutation re-trains it: slower). ``n_permutations``:
    label permutations for the p-value (0: none; the smallest p-value is 1/(1+B)). ``backend``: k-NN backend."""

    classifiers: str = "knn,logistic"
    k: int | None = positive(None)
    c: float = positive(1.0)
    hidden: int = positive(20)
    n_permutations: int = 100
    backend: str = "auto"


@register_metric(
    "c2st",
    options=C2STOptions,
    needs_reference=True,
    summary="classifier two-sample test: held-out accuracy of k-NN / logistic regression, permutation p-value",
    default_features=DEFAULT_FEATURES,
    features=FeatureNeed(("pool",), keep=True),
    statistic="feature banks of samples and reference (classifiers are trained on them)",
    reduction="gather",
)
def evaluate(request: ScoreRequest, options: C2STOptions) -> MetricResult:
    pair = vector_pair(request, options, METRICS.get("c2st"), len(request.samples))
    classifiers = tuple(name.strip() for name in options.classifiers.split(",") if name.strip())
    tests = c2st(
        pair.reference, pair.samples, seed=request.seed, k=options.k, c=options.c, hidden=options.hidden,
        n_permutations=options.n_permutations, classifiers=classifiers, backend=options.backend,
        names=(pair.reference_name, request.samples.name),
    )
    n = min(len(pair.reference), len(pair.samples))
    values = {}
    for name, test in tests.items():
        values |= {f"{name}_accuracy": test.accuracy, f"{name}_p_value": test.p_value, f"{name}_p_value_binomial": test.p_value_binomial}
    return MetricResult(
        metric="c2st",
        values=values,
        details={f"{name}_permuted_accuracies": test.permuted_accuracies for name, test in tests.items()},
        protocol={
            "samples": request.samples.name,
            "reference": pair.reference_name,
            "features": pair.features,
            "features_from": pair.features_from,
            "layer": pair.layer,
            "feature_dim": pair.samples.shape[1],
            "n_per_side": n,
            "n_train_per_side": n // 2,
            "n_test_per_side": n - n // 2,
            "seed": request.seed,
            "standardised": "z-score with the training half's mean and std",
            "knn_k": (default_k(2 * (n // 2)) if options.k is None else options.k) if "knn" in tests else None,
            "logistic_c": options.c if "logistic" in tests else None,
            "mlp": f"1 hidden layer of {options.hidden} ReLU units, full-batch Adam lr 0.01, 500 steps" if "mlp" in tests else None,
            "n_permutations": options.n_permutations,
            "p_value": "permutation (1 + #{acc_perm >= acc}) / (1 + B), labels shuffled over the pooled points, split kept, re-fitted",
            "p_value_binomial": "one-sided Binomial(n_test, 1/2) tail (Lopez-Paz & Oquab 2017)",
            "chance_accuracy": 0.5,
        },
    )
