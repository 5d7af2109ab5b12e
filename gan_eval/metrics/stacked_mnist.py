"""Stacked-MNIST mode count and KL to the uniform distribution over the 1000 digit triples.

Protocol (VEEGAN, Srivastava et al. 2017, Sec. 5.2 / Table 2; PacGAN, Lin et al. 2018, Table 2), as
PacGAN's code computes it (github.com/fjxmlzn/PacGAN, ``stacked_MNIST_experiments/VEEGAN_experiment/model.py``,
``DCGAN.log_metrics`` and ``JSD.KLD``):

* each channel of a sample (N x 3 x H x W) is classified by a digit classifier; the sample's mode is the
  triple (a, b, c) of channels (0, 1, 2), i.e. ``100 a + 10 b + c`` of 1000;
* modes = number of distinct triples with at least one sample;
* KL = sum_i p_i ln(p_i / 0.001) over the triples with p_i > 0, p the generated triples' histogram
  divided by n: KL(p_gen || U_1000) in nats; 0 for an exactly uniform histogram, ln 1000 = 6.91 for one triple;
* n = 26,000 samples (VEEGAN; PacGAN's ``num_test_sample``).

The plug-in KL is biased upwards: a *perfect* uniform generator (and a perfect classifier) scores
E[KL] > 0 at finite n. We report that expectation exactly,
E[KL] = ln K + K E[(X/n) ln(X/n)], X ~ Binomial(n, 1/K) (linearity of expectation over the K = 1000
triples; the sum over X is evaluated with scipy's binomial pmf), next to its first-order approximation
(K - 1) / (2 n) (0.0192 at n = 26,000), and the expected number of modes K (1 - (1 - 1/K)^n).

Classifier: the bundled ``mnist`` extractor (:mod:`gan_eval.features.mnist_classifier`, >= 99.3 % on
MNIST t10k), or your own weights file. Inputs: uint8, or floats in [0, 1] or [-1, 1] (mapped to [0, 1]
before classifying; PacGAN's code passed its tanh outputs unscaled, which we do not copy), channels-first
or channels-last, 28 x 28 or 32 x 32 (the classifier crops 32 to 28).

Sample count: option ``subset`` (default 26,000). A file with more samples is scored on a random subset of
``n`` drawn without replacement with the request's seed (so numbers stay comparable to the papers'); a file
with fewer is scored whole and the protocol says so; ``subset=none`` scores every sample.

Proven by ``tests/test_stacked_mnist.py``: real stacked t10k digits cover >= 995 modes with KL < 0.05 at
n = 26,000; one triple gives 1 mode and KL = ln 1000; the expected bias matches simulation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
import torch
from scipy import stats

from gan_eval.errors import GanEvalError
from gan_eval.features.extract import extract, unit_images
from gan_eval.features.mnist_classifier import MnistClassifier
from gan_eval.io.ranges import ValueRange, resolve_range
from gan_eval.io.samples import ArraySource, SampleSource, as_source
from gan_eval.metrics.base import FeatureNeed, MetricResult, ScoreRequest, register_metric
from gan_eval.metrics.feature_inputs import extractor_for
from gan_eval.options import positive
from gan_eval.references.stacked_mnist import N_MODES, SIZES, triple_labels

PAPER_N = 26_000


@dataclass
class StackedMnistScore:
    """Modes and KL of one sample set, with what a perfect uniform generator would score at the same n."""

    modes: int
    kl: float
    n: int
    kl_perfect: float
    kl_perfect_approx: float
    modes_perfect: float
    counts: torch.Tensor = field(repr=False)  # int64 (1000,), samples per triple 100a+10b+c
    digit_counts: torch.Tensor = field(repr=False)  # int64 (3, 10), digit histogram of each channel
    scored: str = ""  # which samples were scored (all, or a seeded subset)
    classifier: dict = field(default_factory=dict)  # the classifier's description (weights, sha256)

    def values(self) -> dict[str, float | int]:
        return {"modes": self.modes, "kl": self.kl, "n": self.n, "kl_perfect": self.kl_perfect, "modes_perfect": self.modes_perfect}


def kl_to_uniform(counts: torch.Tensor) -> float:
    """sum_i p_i ln(K p_i) over p_i > 0, p = counts / counts.sum(), K = len(counts) (nats)."""
    p = counts.to(torch.float64) / counts.sum()
    p = p[p > 0]
    return float((p * torch.log(p * len(counts))).sum())


def expected_uniform_kl(n: int, k: int = N_MODES) -> float:
    """Exact E[plug-in KL to U_k] of n samples from U_k: ln k + k E[(X/n) ln(X/n)], X ~ Binomial(n, 1/k)."""
    if n <= 0:
        return math.nan
    mean, sd = n / k, math.sqrt(n * (1 / k) * (1 - 1 / k))
    # the pmf is below 1e-30 outside +-12 sd (and the terms are bounded by ln n): truncating changes nothing
    lo, hi = max(1, math.floor(mean - 12 * sd - 10)), min(n, math.ceil(mean + 12 * sd + 10))
    x = np.arange(lo, hi + 1, dtype=np.float64)
    q = x / n
    return float(math.log(k) + k * np.sum(stats.binom.pmf(x, n, 1 / k) * q * np.log(q)))


def score_counts(counts: torch.Tensor, digit_counts: torch.Tensor) -> StackedMnistScore:
    """The scores as pure functions of the triple histogram (formulas in the module docstring)."""
    n = int(counts.sum())
    if n == 0:
        raise GanEvalError("stacked-mnist: no samples to score")
    return StackedMnistScore(
        modes=int((counts > 0).sum()),
        kl=kl_to_uniform(counts),
        n=n,
        kl_perfect=expected_uniform_kl(n),
        kl_perfect_approx=(N_MODES - 1) / (2 * n),
        modes_perfect=N_MODES * -math.expm1(n * math.log1p(-1 / N_MODES)),
        counts=counts,
        digit_counts=digit_counts,
    )


def check_stacked(source: SampleSource, value_range: ValueRange, batch_size: int) -> None:
    """One-line error unless the source's first batch is N x 3 x H x W with H = W in 28, 32 (after layout
    conversion), before any classification."""
    images = unit_images(next(iter(source.batches(batch_size))), value_range, source.name)
    if images.shape[1] != 3 or images.shape[2] != images.shape[3] or images.shape[2] not in SIZES:
        raise GanEvalError(
            f"{source.name}: Stacked-MNIST samples are N x 3 x 28 x 28 or N x 3 x 32 x 32 (or channels-last), got"
            f" {tuple(images.shape)}; one MNIST digit per channel"
        )


def digits_of_logits(logits: torch.Tensor, name: str) -> torch.Tensor:
    """The digit of every channel from the classifier's per-channel logits N x 30 (3 channels x 10 classes):
    int64 N x 3 on the CPU."""
    if logits.ndim != 2 or logits.shape[1] != 3 * 10:
        raise GanEvalError(
            f"{name}: the digit classifier gave {logits.shape[1]} logits per sample, not 3 x 10 (one digit per channel);"
            " use --features mnist or a classifier of one digit per channel"
        )
    return logits.unflatten(1, (3, 10)).argmax(dim=2).cpu()


def count_digits(digits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Triple histogram (1000,) and per-channel digit histograms (3, 10) of the digits N x 3."""
    counts = torch.bincount(triple_labels(digits), minlength=N_MODES)
    digit_counts = torch.stack([torch.bincount(digits[:, channel], minlength=10) for channel in range(3)])
    return counts, digit_counts


def default_chunk_size(device: torch.device | str) -> int:
    """Samples per classifier pass: small on the CPU (the activations stay in cache), large on a GPU."""
    return 4096 if torch.device(device).type == "cuda" else 128


def subset(source: SampleSource, n: int | None, seed: int) -> tuple[SampleSource, str]:
    """The source itself, or a seeded random subset of ``n`` of its samples; and a note for the protocol."""
    total = len(source)
    if n is None or total == n:
        return source, f"all {total} samples"
    if n <= 0:
        raise GanEvalError(f"stacked-mnist: subset={n} must be positive (or none for all samples)")
    if total < n:
        return source, f"all {total} samples (fewer than n={n}; compare KL with kl_perfect at this n)"
    index = torch.randperm(total, generator=torch.Generator().manual_seed(seed))[:n].sort().values.numpy()
    return ArraySource(source.array()[index], name=source.name), f"random {n} of {total} samples (seed {seed})"


def stacked_mnist_modes(
    samples: torch.Tensor | np.ndarray | SampleSource,
    *,
    n: int | None = PAPER_N,
    seed: int = 0,
    weights: str | None = None,
    device: torch.device | str = "cpu",
    batch_size: int = 10_000,
    chunk_size: int | None = None,
    value_range: ValueRange | str = "auto",
    progress: Callable[..., Iterable] | None = None,
) -> StackedMnistScore:
    """Modes (of 1000) and KL(p_gen || U_1000) of Stacked-MNIST samples (N x 3 x 28|32 x 28|32, see module doc).

    ``n``: samples scored (a seeded subset when there are more; None: all). ``weights``: a classifier state
    dict from ``gan-eval train-classifier`` (default: the bundled one). ``batch_size`` is accepted for
    compatibility; ``chunk_size``: samples per classifier pass (default :func:`default_chunk_size`; memory and speed; each image's logits do not depend
    on its neighbours, so only float round-off in a near-tied pair of logits could differ between sizes).
    """
    source = as_source(samples)
    value_range = resolve_range(source, value_range)  # before the subset: a generator's declared range stays
    source, scored = subset(source, n, seed)
    chunk_size = chunk_size or default_chunk_size(device)
    check_stacked(source, value_range, chunk_size)
    classifier = MnistClassifier(device, weights)
    done = extract(
        source, classifier, {"logits": True}, batch_size=chunk_size, device=device,
        value_range=value_range, progress=progress,
    )
    score = score_counts(*count_digits(digits_of_logits(done["logits"].features, source.name)))
    score.scored, score.classifier = scored, classifier.describe()
    return score


@dataclass
class StackedMnistOptions:
    """``subset``: samples scored (default 26,000 as VEEGAN/PacGAN; a seeded random subset when the file has
    more; none = all; named apart from ``score``'s ``n``, which draws from a generator or takes a file's first
    rows). ``chunk_size``: samples per classifier pass (speed and memory; default 128 on CPU, 4096 on
    CUDA). The value range is ``score``'s ``--range`` and the classifier's weights its ``--weights``
    (default: the bundled classifier)."""

    subset: int | None = positive(PAPER_N)
    chunk_size: int | None = positive(None)


@register_metric(
    "stacked-mnist",
    options=StackedMnistOptions,
    needs_reference=False,
    summary="Stacked MNIST: modes of 1000 digit triples, KL to uniform (VEEGAN/PacGAN)",
    default_features=MnistClassifier.name,
    features=FeatureNeed(("logits",), keep=True, reference=False),
    statistic="histogram of the 1000 digit triples and of each channel's digits",
    reduction="sum",
)
def evaluate(request: ScoreRequest, options: StackedMnistOptions) -> MetricResult:
    value_range = request.range_of(request.samples)  # before the subset: a generator's declared range stays
    source, scored = subset(request.samples, options.subset, request.seed)
    chunk_size = options.chunk_size or default_chunk_size(request.device)
    check_stacked(source, value_range, chunk_size)
    classifier, layer = extractor_for(request, options, ("logits",), MnistClassifier.name)
    done = request.stage.layer(
        "samples", source, classifier, layer, True, batch_size=chunk_size,
        device=request.device, value_range=value_range, progress=request.progress,
    )
    score = score_counts(*count_digits(digits_of_logits(done.features, source.name)))
    score.scored, score.classifier = scored, classifier.describe()
    return MetricResult(
        metric="stacked-mnist",
        values=score.values(),
        details={
            "digits_per_channel": {f"channel {c}": score.digit_counts[c].tolist() for c in range(3)},
            "triple_counts": score.counts.tolist(),
            "kl_perfect_approx": score.kl_perfect_approx,
        },
        protocol={
            "samples": request.samples.name,
            "scored": score.scored,
            "classifier": score.classifier,
            "features": score.classifier,
            "layer": layer,
            "kl": "sum over observed triples of p ln(p / 0.001), nats (PacGAN code)",
            "kl_perfect": "exact E[KL] of n samples from U_1000; (K-1)/(2n) approximation in details",
            "paper_n": PAPER_N,
        },
    )
