"""Every feature metric as update / compute / reset / merge (gan_eval.streaming): streamed in uneven batches, or
as two merged streams, it equals ``gan_eval.score`` on the same images (the same registered metric runs on the
accumulated statistics: moments summed, feature banks kept in order)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import gan_eval
from gan_eval.errors import GanEvalError
from gan_eval.streaming import StreamingMetric

RNG = np.random.RandomState(4)
REAL = torch.from_numpy(RNG.rand(90, 3, 6, 6).astype(np.float32))
FAKE = torch.from_numpy(RNG.rand(80, 3, 6, 6).astype(np.float32) ** 2)
OPTIONS = {"kid": {"subset_size": 30, "subsets": 5}, "ndb": {"k": 4, "n_init": 1}, "is": {"splits": 4}}


def streamed(metric: str, chunks: int = 7) -> StreamingMetric:
    stream = StreamingMetric(metric, "pixels", seed=2, **OPTIONS.get(metric, {}))
    for start in range(0, 90, chunks):
        stream.update(real=REAL[start : start + chunks], fake=FAKE[start : start + chunks] if start < 80 else None)
    return stream


@pytest.mark.parametrize("metric", ["fid", "kid", "prdc", "ndb", "is", "birthday"])
def test_streamed_metric_equals_score_on_the_same_images(metric):
    reference = REAL.numpy() if gan_eval.metrics.METRICS.get(metric).needs_reference else None
    expected = gan_eval.score(FAKE.numpy(), metric, reference, features="pixels", seed=2, **OPTIONS.get(metric, {}))
    got = streamed(metric).compute()
    for key, value in expected.values.items():
        assert got.values[key] == (pytest.approx(value, rel=1e-9, abs=1e-12) if isinstance(value, float) else value), key
    assert got.protocol["features"] == expected.protocol["features"]


def test_merged_streams_equal_one_stream_and_reset_forgets_the_fakes():
    whole = streamed("kid")
    first, second = StreamingMetric("kid", "pixels", seed=2, **OPTIONS["kid"]), StreamingMetric("kid", "pixels", seed=2, **OPTIONS["kid"])
    first.update(real=REAL[:40], fake=FAKE[:33])
    second.update(real=REAL[40:], fake=FAKE[33:])
    assert first.merge(second).compute().values == pytest.approx(whole.compute().values, rel=1e-12)
    whole.reset()
    with pytest.raises(GanEvalError, match="update\\(fake"):
        whole.compute()
    whole.update(fake=FAKE)
    assert whole.compute().values == pytest.approx(first.compute().values, rel=1e-12)


def test_a_metric_without_sample_features_is_refused():
    with pytest.raises(GanEvalError, match="does not read features"):
        StreamingMetric("modes")
