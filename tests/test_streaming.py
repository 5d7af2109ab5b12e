"""Every metric that reads samples batch by batch as update / compute / reset / merge (gan_eval.streaming):
streamed in uneven batches, or as two merged streams, it equals ``gan_eval.score`` on the same samples (the same
registered metric runs on the accumulated statistics: moments and histograms summed, feature and image banks kept
in order). Counts exactly, floats to 1e-9."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import gan_eval
from gan_eval.errors import GanEvalError
from gan_eval.references import get_reference
from gan_eval.streaming import StreamingMetric

RNG = np.random.RandomState(4)
REAL = torch.from_numpy(RNG.rand(90, 3, 6, 6).astype(np.float32))
FAKE = torch.from_numpy(RNG.rand(80, 3, 6, 6).astype(np.float32) ** 2)
OPTIONS = {
    "kid": {"subset_size": 30, "subsets": 5}, "ndb": {"k": 4, "n_init": 1}, "is": {"splits": 4},
    "c2st": {"classifiers": "knn", "n_permutations": 20}, "ms-ssim": {"pairs": 12, "small_images": "upsample"},
    "lpips-diversity": {"pairs": 12},
}


def streamed(metric: str, chunks: int = 7) -> StreamingMetric:
    stream = StreamingMetric(metric, "pixels", seed=2, **OPTIONS.get(metric, {}))
    for start in range(0, 90, chunks):
        stream.update(real=REAL[start : start + chunks], fake=FAKE[start : start + chunks] if start < 80 else None)
    return stream


def assert_same_values(got: dict, expected: dict) -> None:
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key] == (pytest.approx(value, rel=1e-9, abs=1e-12) if isinstance(value, float) else value), key


@pytest.mark.parametrize("metric", ["fid", "kid", "prdc", "ndb", "is", "birthday", "c2st", "vendi"])
def test_streamed_metric_equals_score_on_the_same_images(metric):
    reference = REAL.numpy() if gan_eval.metrics.METRICS.get(metric).needs_reference else None
    expected = gan_eval.score(FAKE.numpy(), metric, reference, features="pixels", seed=2, **OPTIONS.get(metric, {}))
    got = streamed(metric).compute()
    assert_same_values(got.values, expected.values)
    assert got.protocol["features"] == expected.protocol["features"]


@pytest.mark.parametrize("metric", ["ms-ssim", "lpips-diversity"])
def test_image_bank_metrics_stream_as_score(metric, lpips_weights):
    """MS-SSIM and LPIPS diversity keep the images (reduction gather): streamed in chunks, and as two merged
    streams, they score the same seeded pairs as ``gan_eval.score``."""
    images = torch.rand(20, 3, 32, 32, generator=torch.Generator().manual_seed(5))
    expected = gan_eval.score(images.numpy(), metric, seed=2, **OPTIONS[metric])
    first, second = (StreamingMetric(metric, seed=2, **OPTIONS[metric]) for _ in range(2))
    for start in range(0, 13, 4):
        first.update(fake=images[start : min(start + 4, 13)])
    second.update(fake=images[13:])
    assert_same_values(first.merge(second).compute().values, expected.values)


def test_modes_stream_their_histogram_as_score():
    """modes keeps the mode histogram (reduction sum, integer counts): chunks and two merged streams give the
    one-shot counts exactly, and HQ % / KL to 1e-9; ``real`` batches are ignored, the reference is named."""
    ring8 = get_reference("ring8")
    points = torch.cat([ring8.sample(300, seed=1), torch.randn(37, 2, generator=torch.Generator().manual_seed(0))])
    expected = gan_eval.score(points.numpy(), "modes", "ring8")
    whole, first, second = (StreamingMetric("modes", reference="ring8") for _ in range(3))
    for start in range(0, 337, 50):
        whole.update(real=points[:3], fake=points[start : start + 50])
    first.update(fake=points[:123])
    second.update(fake=points[123:])
    for stream in (whole, first.merge(second)):
        got = stream.compute()
        assert_same_values(got.values, expected.values)
        assert got.details["per_mode"] == expected.details["per_mode"]
    assert whole.state()["fake_nearest"][0].sum() == 337 and whole.state()["fake_hq"][1] == "sum"


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


def test_metrics_that_do_not_read_samples_batch_by_batch_are_refused():
    with pytest.raises(GanEvalError, match="does not read its samples batch by batch; use one of .*modes"):
        StreamingMetric("ivom")
    with pytest.raises(GanEvalError, match="needs reference="):
        StreamingMetric("modes")
