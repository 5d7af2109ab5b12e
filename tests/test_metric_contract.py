"""The metric contract (issue 14 item 2), run on EVERY registered metric with a small input: each declares what
it needs (features, reference, generator) and the statistic it keeps with its reduction; and its result honours
and states the value range, the features, the extractor's weights (by content, not path) and the seed.

A metric added later is picked up here; if it needs settings to run on 48 samples, add them to ``SMALL``.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest

import gan_eval
from gan_eval.features.mnist_classifier import WEIGHTS_PATH
from gan_eval.metrics import METRICS


#: settings that let a metric run on 48 samples (its defaults suit thousands)
SMALL = {
    "kid": {"subset_size": 20, "subsets": 3},
    "is": {"splits": 4},
    "ndb": {"k": 5, "n_init": 1},
    "ms-ssim": {"small_images": "upsample", "pairs": 6},
    "stacked-mnist": {"subset": "none"},
    "c2st": {"n_permutations": 5},  # each permutation re-fits the logistic classifier
}
RNG = np.random.default_rng(0)
IMAGES = RNG.random((48, 3, 28, 28), dtype=np.float32)
REFERENCE_IMAGES = RNG.random((60, 3, 28, 28), dtype=np.float32)
VECTORS = RNG.standard_normal((64, 2)) * 0.05 + [1.0, 0.0]
#: LPIPS's AlexNet needs a side of at least 31 px
IMAGES_OF = {"lpips-diversity": RNG.random((48, 3, 32, 32), dtype=np.float32)}
RUNNABLE = [name for name in METRICS if not METRICS.get(name).needs.generator]


pytestmark = pytest.mark.usefixtures("lpips_weights")  # random LPIPS weights (tests/conftest.py)


def run(name: str, samples: np.ndarray | None = None, **kwargs):
    spec = METRICS.get(name)
    if not spec.images:  # vectors on a known mixture
        return gan_eval.score(VECTORS if samples is None else samples, name, "ring8", **kwargs)
    extra = {"features": "mnist"} if spec.default_features is not None else {}
    reference = REFERENCE_IMAGES if spec.needs_reference else None
    samples = IMAGES_OF.get(name, IMAGES) if samples is None else samples
    return gan_eval.score(samples, name, reference, **extra, **SMALL.get(name, {}), **kwargs)


@pytest.mark.parametrize("name", METRICS.names())
def test_every_metric_declares_its_needs_and_statistic(name):
    spec = METRICS.get(name)
    assert spec.needs.reduction in ("sum", "gather") and spec.needs.statistic, name
    assert (spec.needs.reference is not None) == spec.needs_reference
    assert spec.needs.generator == spec.needs_generator
    if spec.needs.features is not None:
        assert spec.default_features is not None, "a metric that reads features names its default extractor"


@pytest.mark.parametrize("name", RUNNABLE)
def test_same_seed_same_numbers_and_the_seed_is_stated(name):
    first, second = run(name, seed=3), run(name, seed=3)
    assert first.values == second.values and first.protocol["seed"] == 3
    assert first.protocol["metric"] == name and "gan_eval_version" in first.protocol


@pytest.mark.parametrize("name", [n for n in RUNNABLE if METRICS.get(n).images])
def test_the_stated_value_range_is_honoured_and_stated(name):
    """The same images in [0, 1] and mapped to [-1, 1] give the same numbers under their stated ranges."""
    unit = run(name, value_range="0,1")
    signed = run(name, IMAGES_OF.get(name, IMAGES) * 2 - 1, value_range="-1,1")
    assert unit.protocol["value_range"]["samples"]["range"] == "0,1"
    assert signed.protocol["value_range"]["samples"]["range"] == "-1,1"
    for key, value in unit.values.items():
        if isinstance(value, float):
            assert signed.values[key] == pytest.approx(value, rel=1e-4, abs=1e-5), key
        else:
            assert signed.values[key] == value, key


@pytest.mark.parametrize("name", [n for n in RUNNABLE if METRICS.get(n).needs.features is not None])
def test_features_and_weights_are_honoured_and_stated_by_content(name, tmp_path):
    """--features is what runs (the result names it); the extractor's weights are identified by their content, so
    the same weights at another path give the same numbers and the same identity."""
    copy = tmp_path / "same-weights.pt"
    shutil.copyfile(WEIGHTS_PATH, copy)
    bundled, moved = run(name), run(name, weights=copy)
    assert bundled.protocol["features"]["name"] == "mnist"
    assert moved.protocol["features"]["weights"] == bundled.protocol["features"]["weights"]
    assert moved.protocol["features"]["weights_file"] == copy.name
    assert moved.values == bundled.values
