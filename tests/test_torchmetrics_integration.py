"""gan-eval's streaming metrics as ``torchmetrics.Metric`` subclasses (gan_eval.integrations.torchmetrics):
``compute`` equals gan-eval's one-shot metric on the same input, and two gloo ranks synced by torchmetrics itself
(its ``dist_reduce_fx``: sum for moments and histograms, cat for feature banks) equal one process, for FID, KID,
PRDC and modes. Counts exactly, floats to 1e-9 (float64 sums in another order)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

import gan_eval
from test_reproduce_torchrun import torchrun
from torchmetrics_ranks import OPTIONS, data, import_torchmetrics

torchmetrics = import_torchmetrics()


def wrapped(metric: str, *feeds: tuple) -> dict:
    from gan_eval.integrations.torchmetrics import GanEvalMetric

    metric_object = GanEvalMetric(metric, value_range="0,1" if metric != "modes" else "auto", seed=3, **OPTIONS[metric])
    assert isinstance(metric_object, torchmetrics.Metric)
    for real, fake in feeds:
        metric_object.update(real=real, fake=fake)
    return metric_object.compute().values


def assert_same(got: dict, expected: dict) -> None:
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key] == (pytest.approx(value, rel=1e-9, abs=1e-12) if isinstance(value, float) else value), key


def one_shot(metric: str) -> dict:
    real, fake = data(metric)
    options = {k: v for k, v in OPTIONS[metric].items() if k != "reference"}
    reference = OPTIONS[metric].get("reference", None if real is None else real.numpy())
    return gan_eval.score(fake.numpy(), metric, reference, seed=3, **options).values


@pytest.mark.parametrize("metric", list(OPTIONS))
def test_wrapper_equals_the_one_shot_metric(metric):
    real, fake = data(metric)
    halves = [(None if real is None else r, f) for r, f in zip(real.tensor_split(3) if real is not None else [None] * 3, fake.tensor_split(3))]
    assert_same(wrapped(metric, *halves), one_shot(metric))


def test_states_carry_the_declared_reductions():
    from gan_eval.integrations.torchmetrics import GanEvalMetric

    kid, modes = GanEvalMetric("kid", "pixels"), GanEvalMetric("modes", reference="ring8")
    kid.update(real=data("kid")[0][:5], fake=data("kid")[1][:5])
    assert kid._reductions["fake_bank"] is torchmetrics.utilities.dim_zero_cat
    assert kid._reductions["real_outer"] is torchmetrics.utilities.dim_zero_sum
    assert modes._reductions["fake_hq"] is torchmetrics.utilities.dim_zero_sum and "fake_bank" not in modes._reductions
    kid.reset()
    with pytest.raises(gan_eval.GanEvalError, match="update\\(real"):
        kid.compute()


def test_two_gloo_ranks_synced_by_torchmetrics_equal_one_process():
    run = torchrun("tests/torchmetrics_ranks.py")
    assert run.returncode == 0, run.stderr[-3000:]
    two = json.loads(run.stdout)
    for metric in OPTIONS:
        real, fake = data(metric)
        assert_same(two[metric], wrapped(metric, (real, fake)))


def test_core_import_does_not_import_torchmetrics():
    code = "import sys, gan_eval, gan_eval.streaming; assert 'torchmetrics' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
