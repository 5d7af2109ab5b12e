"""The generic registry and the metric contract every registered metric must meet."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import gan_eval
from gan_eval.errors import GanEvalError
from gan_eval.metrics import METRICS, MetricResult
from gan_eval.registry import Registry


def test_registry_refuses_duplicates_and_suggests_names():
    reg: Registry[int] = Registry("thing")
    reg.add("alpha", 1)
    with pytest.raises(KeyError):
        reg.add("alpha", 2)
    with pytest.raises(GanEvalError, match="unknown thing 'alpah': did you mean 'alpha'"):
        reg.get("alpah")
    assert reg.names() == ["alpha"] and "alpha" in reg and len(reg) == 1


@pytest.mark.parametrize("name", METRICS.names())
def test_every_metric_declares_options_and_a_summary(name):
    spec = METRICS.get(name)
    assert dataclasses.is_dataclass(spec.options)
    spec.options()  # every option has a default
    assert spec.summary


def test_score_result_carries_its_protocol_and_serialises():
    result = gan_eval.score(np.zeros((10, 2)), "modes", "ring8", seed=3)
    assert isinstance(result, MetricResult)
    proto = result.to_dict()["protocol"]
    assert proto["seed"] == 3 and proto["n"] == 10 and proto["gan_eval_version"] == gan_eval.__version__
    assert result.to_dict()["values"]["kl"] is None  # undefined KL is null in JSON, not NaN
