"""Support coverage against closed forms on the moons (arc lengths a tolerance disc cuts out of a unit arc), against
sklearn's make_moons, and against the modes count on point mixtures; one-line errors on the command line."""
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
from gan_eval.metrics import mode_coverage
from gan_eval.metrics.support_coverage import support_coverage, support_hits
from gan_eval.references import get_reference
from gan_eval.streaming import StreamingMetric

MOONS = get_reference("moons-mini")
TOL = 3 * 0.05  # moons-mini's HQ tolerance
M = 1000  # support points per arc
#: the arc a sample on a unit arc covers on each side: chord <= TOL  <=>  angle <= 2 asin(TOL / 2)
HALF_WINDOW = 2 * math.asin(TOL / 2)


def outer_arc_points(angles: np.ndarray) -> np.ndarray:
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def test_support_points_lie_on_the_arcs_evenly_in_arc_length():
    support = MOONS.support_points(M)
    assert support.shape == (2, M, 2)
    for mode in range(2):
        own = MOONS.distances(support[mode])[:, mode]
        assert own.abs().max() < 1e-12
        steps = (support[mode][1:] - support[mode][:-1]).norm(dim=1)
        # equal chords of a unit circle: 2 sin(pi / (2 M)) for M equal pieces of a half circle
        torch.testing.assert_close(steps, torch.full_like(steps, 2 * math.sin(math.pi / (2 * M))), rtol=0, atol=1e-12)


def test_samples_evenly_on_the_outer_arc_cover_it_and_not_the_inner_one():
    """sklearn's make_moons(32, noise=0) outer half: 16 points pi/15 apart, closer than the 2 x 0.150 rad a sample
    covers, and the inner arc lies 0.5 away: outer 100 %, inner 0 %, overall 50 %."""
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    points, labels = sklearn_datasets.make_moons(32, shuffle=False, noise=0.0)
    cov = support_coverage(points[labels == 0], MOONS, points_per_mode=M)
    assert cov.per_mode_percent == [100.0, 0.0]
    assert cov.coverage_percent == 50.0 and cov.least_covered_percent == 0.0
    assert support_coverage(points, MOONS).per_mode_percent == [100.0, 100.0]  # the training set covers both moons


def test_isolated_samples_cover_four_asin_half_tolerance_each():
    """Closed form: K samples on the outer arc, further apart than 2 x HALF_WINDOW and from its ends, each cover
    2 HALF_WINDOW = 4 asin(TOL / 2) radians of its pi; the midpoint discretisation is off by at most one of the M
    pieces per covered stretch."""
    angles = np.array([math.pi / 4, math.pi / 2, 3 * math.pi / 4])
    cov = support_coverage(outer_arc_points(angles), MOONS, points_per_mode=M)
    expected = 100 * len(angles) * 2 * HALF_WINDOW / math.pi  # 28.67 %
    assert cov.per_mode_percent[0] == pytest.approx(expected, abs=100 * len(angles) / M)
    assert cov.per_mode_percent[1] == 0.0


def test_min_hits_discounts_arcs_held_by_fewer_samples():
    """Closed form: the isolated samples above, doubled on the outer arc and single on the inner one; with
    ``min_hits=2`` the outer arc keeps its 4 asin(TOL / 2) per sample and the inner arc's single samples count for
    nothing; with ``min_hits=3``, nothing is covered."""
    angles = np.array([math.pi / 4, math.pi / 2, 3 * math.pi / 4])
    outer = outer_arc_points(angles)
    inner = np.stack([1 - np.cos(angles), 0.5 - np.sin(angles)], axis=1)  # the inner arc's parametrisation
    samples = np.concatenate([outer, outer, inner])
    once = support_coverage(samples, MOONS, points_per_mode=M)
    twice = support_coverage(samples, MOONS, points_per_mode=M, min_hits=2)
    expected = 100 * len(angles) * 2 * HALF_WINDOW / math.pi
    assert once.per_mode_percent[1] == pytest.approx(expected, abs=100 * len(angles) / M)
    assert twice.per_mode_percent[0] == once.per_mode_percent[0] == pytest.approx(expected, abs=100 * len(angles) / M)
    assert twice.per_mode_percent[1] == 0.0
    assert support_coverage(samples, MOONS, points_per_mode=M, min_hits=3).coverage_percent == 0.0
    with pytest.raises(GanEvalError, match="min_hits"):
        support_coverage(samples, MOONS, min_hits=0)


def test_a_line_crossing_both_arcs_covers_a_small_closed_form_share():
    """A dense vertical line x = c crosses both moons (the smears of a collapsed GAN look like this) yet covers only
    the points of each arc within TOL of it: on the outer arc |cos t - c| <= TOL, on the inner |1 + cos s - c| <= TOL,
    both acos(c - TOL) - acos(c + TOL) radians of pi (11.14 % at c = 0.5), though `modes` counts both moons captured."""
    c = 0.5
    line = np.stack([np.full(5001, c), np.linspace(-1.0, 1.5, 5001)], axis=1)
    cov = support_coverage(line, MOONS, points_per_mode=M)
    expected = 100 * (math.acos(c - TOL) - math.acos(c + TOL)) / math.pi
    assert 11.0 < expected < 11.3
    for share in cov.per_mode_percent:
        assert share == pytest.approx(expected, abs=100 / M)
    assert cov.coverage_percent == pytest.approx(expected, abs=100 / M)
    assert mode_coverage(line, MOONS).modes == 2


@pytest.mark.parametrize("chunk", [1, 37, 10_000])
def test_counts_do_not_depend_on_chunks_batches_or_order(chunk):
    x = torch.from_numpy(np.random.default_rng(0).normal(0.5, 0.6, (400, 2)))
    support = MOONS.support_points(200)
    whole = support_hits([x], support, TOL)
    split = support_hits(torch.split(x[torch.randperm(400, generator=torch.Generator().manual_seed(1))], 91), support, TOL, chunk_size=chunk)
    assert torch.equal(whole.hits, split.hits) and int(split.rows) == 400


def test_streamed_in_chunks_and_merged_equals_one_score():
    """The hit counts are a ``sum`` statistic: uneven chunks and two merged streams give the one-shot result exactly."""
    x = np.random.default_rng(2).normal(0.5, 0.5, (337, 2))
    expected = gan_eval.score(x, "support-coverage", "moons-mini", points_per_mode=300)
    whole, first, second = (StreamingMetric("support-coverage", reference="moons-mini", points_per_mode=300) for _ in range(3))
    for start in range(0, 337, 50):
        whole.update(fake=torch.from_numpy(x[start : start + 50]))
    first.update(fake=torch.from_numpy(x[:123]))
    second.update(fake=torch.from_numpy(x[123:]))
    for stream in (whole, first.merge(second)):
        got = stream.compute()
        assert got.values == expected.values and got.details == expected.details


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_same_counts_on_cuda():
    x = torch.from_numpy(np.random.default_rng(3).normal(0.5, 0.6, (20_000, 2)))
    support = MOONS.support_points(M)
    assert torch.equal(support_hits([x], support, TOL, "cpu").hits, support_hits([x], support, TOL, "cuda").hits)


@pytest.mark.parametrize("k", [1, 3, 8])
def test_on_point_mixtures_coverage_is_the_share_of_modes_captured(k):
    """A Gaussian mode's noise-free support is its mean: coverage = 100 x modes / n_modes, the modes count."""
    ring = get_reference("ring8")
    x = ring.sample(4000, seed=k)
    x = x[torch.isin(ring.assign(x)[0], torch.arange(k))]  # samples of the first k modes only
    cov = support_coverage(x, ring)
    assert cov.per_mode_percent == [100.0] * k + [0.0] * (8 - k)
    assert cov.coverage_percent == pytest.approx(100 * mode_coverage(x, ring).modes / 8)


@pytest.mark.parametrize("bad", [np.zeros((0, 2)), np.array([[np.nan, 0.0], [1.0, 0.0]]), np.zeros((5, 3))])
def test_python_api_refuses_empty_non_finite_and_wrong_shape(bad):
    with pytest.raises(GanEvalError):
        support_coverage(bad, MOONS)


def test_a_support_of_no_points_is_refused_with_the_option_named():
    with pytest.raises(GanEvalError, match="points_per_mode"):
        support_coverage(np.zeros((3, 2)), MOONS, points_per_mode=0)


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_command_line_json_names_per_mode_coverage(tmp_path):
    path = tmp_path / "outer.npy"
    np.save(path, outer_arc_points(np.linspace(0, math.pi, 16)))
    result = invoke("score", path, "--metric", "support-coverage", "--reference", "moons-mini", "--json", "--device", "cpu")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["details"]["per_mode"]["coverage_percent"] == [100.0, 0.0]
    assert out["values"]["coverage_percent"] == 50.0 and out["protocol"]["tolerance"] == pytest.approx(TOL)


@pytest.mark.parametrize("array, pattern", [(np.zeros((0, 2)), "empty"), (np.array([[np.nan, 0.0], [1.0, 0.0]]), "NaN")])
def test_command_line_bad_samples_are_one_error_line_and_exit_code_2(tmp_path, array, pattern):
    path = tmp_path / "bad.npy"
    np.save(path, array)
    result = invoke("score", path, "-m", "support-coverage", "-r", "moons-mini", "--device", "cpu")
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and pattern in lines[0] and str(path) in lines[0]
