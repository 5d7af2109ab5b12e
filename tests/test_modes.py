"""Mode metrics against closed forms: the 2-D HQ share 1 - exp(-4.5), exact mode counts, KL of known histograms."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gan_eval.errors import GanEvalError
from gan_eval.metrics import mode_coverage
from gan_eval.metrics.modes import histogram_of
from gan_eval.references import get_reference


HQ_CLOSED_FORM = 1 - math.exp(-4.5)  # P(|N(0, I_2)| <= 3) = 98.89 %


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_real_samples_hq_share_matches_closed_form_within_binomial_tolerance(name):
    n = 100_000
    cov = mode_coverage(get_reference(name).sample(n, seed=1), name)
    assert cov.modes == cov.n_modes
    tolerance = 4 * math.sqrt(HQ_CLOSED_FORM * (1 - HQ_CLOSED_FORM) / n)  # 4 binomial s.d.
    assert abs(cov.hq_percent / 100 - HQ_CLOSED_FORM) < tolerance


def test_hd1200_real_samples_hq_share_matches_closed_form_at_k3():
    """The equal-probability-mass rule: at k = 3 a real 700-D sample is HQ with probability 1 - exp(-4.5)."""
    n = 20_000
    cov = mode_coverage(get_reference("hd1200").sample(n, seed=2), "hd1200", threshold_std=3.0)
    assert cov.modes == 10
    assert abs(cov.hq_percent / 100 - HQ_CLOSED_FORM) < 4 * math.sqrt(HQ_CLOSED_FORM * (1 - HQ_CLOSED_FORM) / n)


def test_hd1200_literal_euclidean_ten_std_would_reject_real_samples():
    """Why the rule is not literal: real samples lie ~sqrt(700) = 26.5 std from their mean, beyond 10 std."""
    ref = get_reference("hd1200")
    nearest = ref.distances(ref.sample(1000, seed=0)).min(dim=1).values
    assert (nearest <= 10 * ref.std).sum() == 0
    assert mode_coverage(ref.sample(1000, seed=0), ref).hq_percent == 100.0  # default k = 10, mass rule


@pytest.mark.parametrize("k", [1, 3, 8])
def test_samples_on_exactly_k_modes_count_k(k):
    ref = get_reference("ring8")
    chosen = torch.randperm(8, generator=torch.Generator().manual_seed(k))[:k]
    x = ref.means[chosen].repeat(50, 1)
    cov = mode_coverage(x, ref)
    assert cov.modes == k
    assert cov.hq_percent == 100.0
    # equal mass on k of 8 modes: KL(p || U_8) = log(8 / k)
    assert math.isclose(cov.kl, math.log(8 / k), abs_tol=1e-12)


def test_samples_far_from_every_mode_give_zero():
    cov = mode_coverage(torch.full((500, 2), 50.0), "grid25")
    assert cov.modes == 0 and cov.hq_percent == 0.0 and cov.kl is None


def test_hq_boundary_is_inclusive_at_three_std():
    """VEEGAN: high quality when the distance is <= 3 std."""
    ref = get_reference("ring:n=8,radius=1,std=0.25")  # 3 std = 0.75, exact in binary floating point
    on = torch.tensor([[1.75, 0.0]], dtype=torch.float64)
    off = torch.tensor([[1.7500001, 0.0]], dtype=torch.float64)
    assert mode_coverage(on, ref).hq_percent == 100.0
    assert mode_coverage(off, ref).hq_percent == 0.0


@settings(max_examples=25, deadline=None)
@given(chunk=st.integers(1, 3000), seed=st.integers(0, 10_000))
def test_same_histogram_whatever_chunk_size_and_order(chunk, seed):
    ref = get_reference("grid25")
    x = ref.sample(3000, seed=seed) * 1.02  # some samples fall outside the HQ radius
    whole = histogram_of([x], ref, 3.0)
    chunked = histogram_of([x], ref, 3.0, chunk_size=chunk)
    shuffled = histogram_of(torch.split(x[torch.randperm(len(x))], 777), ref, 3.0)
    assert torch.equal(whole.hq, chunked.hq) and torch.equal(whole.nearest, chunked.nearest)
    assert torch.equal(whole.hq, shuffled.hq) and torch.equal(whole.nearest, shuffled.nearest)


def test_same_numbers_for_float32_float64_and_numpy_input():
    ref = get_reference("ring8")
    x = ref.sample(5000, seed=4)
    a = mode_coverage(x, ref)
    b = mode_coverage(x.double(), ref)
    c = mode_coverage(x.numpy(), ref)
    assert a.values() == b.values() == c.values()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_same_numbers_on_cuda():
    ref = get_reference("grid25")
    x = ref.sample(50_000, seed=5) * 1.01
    assert mode_coverage(x, ref, device="cpu").values() == mode_coverage(x, ref, device="cuda").values()


def test_wrong_dimension_is_a_one_line_error():
    with pytest.raises(GanEvalError, match=r"shape \(10, 3\) but reference ring8 is 2-D"):
        mode_coverage(np.zeros((10, 3)), "ring8")


@pytest.mark.parametrize("options, said", [
    ({"threshold_std": -1}, "metric modes: option threshold_std=-1.0 must be positive"),
    ({"threshold_std": 0.0}, "metric modes: option threshold_std=0.0 must be positive"),
    ({"chunk_size": 0}, "metric modes: option chunk_size=0 must be positive"),
    ({"batch_size": 0}, "batch_size=0: samples per batch must be positive"),
])
def test_score_refuses_a_non_positive_setting_before_any_work(options, said):
    """From Python too: a GanEvalError naming the keyword, not a ValueError from the HQ radius, a failed split
    or a division by zero."""
    from gan_eval import score

    with pytest.raises(GanEvalError) as caught:
        score(np.zeros((10, 2)), "modes", reference="ring8", **options)
    assert str(caught.value) == said


def test_the_pure_function_refuses_a_non_positive_threshold_as_a_gan_eval_error():
    with pytest.raises(GanEvalError, match=r"threshold_std=-1: k of the HQ rule must be positive"):
        mode_coverage(np.zeros((10, 2)), "ring8", threshold_std=-1)
