"""Value ranges (gan_eval.io.ranges) through every registered image metric, ``stats`` and the streaming FID:
``--range`` / ``--reference-range`` validated at parse time, honoured, checked against the data and stated in every
result; two inferred ranges that disagree are refused instead of guessed.

The equalities are exact by construction: images k/256 (k = 128..255) written as [0, 1], [-1, 1] and [0, 255]
floats map back to the same float32 values bit for bit, and uint8 k and float k both become k/255; so a metric that
honours the stated range gives identical numbers for each writing."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from test_ivom import Constant
from typer.testing import CliRunner

from gan_eval.cli import app
from gan_eval.errors import GanEvalError
from gan_eval.io.generator_files import save_generator as save_exported
from gan_eval.io.latent import LatentSpec
from gan_eval.metrics import METRICS

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("lpips_weights")


IMAGE_METRICS = sorted(name for name in METRICS if METRICS.get(name).images)
# Per image metric: image shape, samples, settings that keep it fast; "reference": it compares with reference images.
CASES = {
    "ms-ssim": dict(shape=(1, 8, 8), n=6, args=["--set", "small_images=upsample", "--set", "pairs=4"]),
    "birthday": dict(shape=(1, 4, 4), n=20, args=["--set", "pairs=5"]),
    "prdc": dict(shape=(1, 4, 4), n=20, reference=True, args=["--features", "pixels"]),
    "ndb": dict(shape=(1, 4, 4), n=40, reference=True, args=["--set", "k=4", "--set", "n_init=1"]),
    "fid": dict(shape=(1, 4, 4), n=30, reference=True, args=["--features", "pixels"]),
    "kid": dict(shape=(1, 4, 4), n=30, reference=True, args=["--features", "pixels", "--set", "subset_size=10", "--set", "subsets=2"]),
    "is": dict(shape=(1, 4, 4), n=30, args=["--features", "pixels", "--set", "splits=2"]),
    "stacked-mnist": dict(shape=(3, 28, 28), n=10, args=["--set", "subset=none"]),
    "ivom": dict(shape=(1, 4, 4), n=10, reference=True, generator=True, args=["--set", "steps=3"]),
    "c2st": dict(shape=(1, 4, 4), n=20, reference=True, args=["--features", "pixels", "--set", "n_permutations=3"]),
    "vendi": dict(shape=(1, 4, 4), n=20, args=["--features", "pixels"]),
    "lpips-diversity": dict(shape=(1, 32, 32), n=6, args=["--set", "pairs=4"]),  # random weights: lpips_weights
}
# The same images k/256 written in each range (every conversion back to [0, 1] is exact in float32).
WRITINGS = {
    "0,1": lambda k: (k / 256).astype(np.float32),
    "-1,1": lambda k: (k / 128 - 1).astype(np.float32),
    "0,255": lambda k: (255 * k / 256).astype(np.float32),
}


def levels(n: int, shape: tuple[int, ...], seed: int, low: int = 128) -> np.ndarray:
    """Integer grey levels in [low, 255]: with low = 128 the [-1, 1] writing k/128 - 1 has no negative value, so
    only a stated range reads it right."""
    return np.random.default_rng(seed).integers(low, 256, (n, *shape))


def save_generator(tmp_path, image: np.ndarray, declared: str | None = None):
    path = tmp_path / "g.pt2"
    save_exported(Constant(torch.from_numpy(image)), LatentSpec(3, "normal", value_range=declared), path)
    return path


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def score_args(metric: str, tmp_path, samples_writing, reference_writing, low: int = 128) -> list:
    """``score`` arguments for the metric's case, its samples and reference images written by the given functions."""
    case = CASES[metric]
    if case.get("generator"):
        samples = save_generator(tmp_path, samples_writing(levels(1, case["shape"], 2, low)[0]).astype(np.float32))
    else:
        samples = tmp_path / "samples.npy"
        np.save(samples, samples_writing(levels(case["n"], case["shape"], 0, low)))
    args = ["score", samples, "-m", metric, "--json", "--device", "cpu", *case["args"]]
    if case.get("reference"):
        reference = tmp_path / "reference.npy"
        np.save(reference, reference_writing(levels(case["n"], case["shape"], 1, low)))
        args += ["-r", reference]
    return args


def one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


def test_every_image_metric_has_a_case():
    """A newly registered image metric must be added to CASES, so the range tests cover it."""
    assert IMAGE_METRICS == sorted(CASES)


@pytest.mark.parametrize("metric", IMAGE_METRICS)
def test_the_same_images_in_every_stated_range_give_identical_results(metric, tmp_path):
    """[0, 1], [-1, 1] (here never negative, so inference would misread it) and [0, 255] floats of the same images,
    each with its --range (and --reference-range), give bit-identical values; the protocol states the range used."""
    reference = CASES[metric].get("reference")
    results = []
    for stated, write in WRITINGS.items():
        folder = tmp_path / stated
        folder.mkdir()
        flags = ["--range", stated] + (["--reference-range", stated] if reference else [])
        result = invoke(*score_args(metric, folder, write, write), *flags)
        assert result.exit_code == 0, result.output
        results.append(json.loads(result.stdout))
        expected = {"samples": {"range": stated, "from": "--range"}}
        if reference:
            expected["reference"] = {"range": stated, "from": "--reference-range"}
        assert results[-1]["protocol"]["value_range"] == expected
    assert results[0]["values"] == results[1]["values"] == results[2]["values"]


@pytest.mark.parametrize("metric", IMAGE_METRICS)
def test_floats_0_255_with_range_0_255_equal_uint8(metric, tmp_path):
    """uint8 k (declared 0..255) and float32 k with --range 0,255 both become k/255: identical values."""
    reference = CASES[metric].get("reference")
    as_uint8, as_float = tmp_path / "uint8", tmp_path / "float"
    as_uint8.mkdir(), as_float.mkdir()
    # a generator's outputs are floats in both runs; only images in files can be uint8
    generator_flags = ["--range", "0,255"] if CASES[metric].get("generator") else []
    a = invoke(*score_args(metric, as_uint8, lambda k: k.astype(np.uint8), lambda k: k.astype(np.uint8), low=0), *generator_flags)
    float_flags = ["--range", "0,255"] + (["--reference-range", "0,255"] if reference else [])
    b = invoke(*score_args(metric, as_float, lambda k: k.astype(np.float32), lambda k: k.astype(np.float32), low=0), *float_flags)
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    first, second = json.loads(a.stdout), json.loads(b.stdout)
    assert first["values"] == second["values"]
    if not generator_flags:
        assert first["protocol"]["value_range"]["samples"] == {"range": "0,255", "from": "uint8 data"}


@pytest.mark.parametrize("metric", IMAGE_METRICS)
def test_a_stated_range_the_data_contradicts_is_refused(metric, tmp_path):
    """[-1, 1] images with negative values stated as --range 0,1: one error line naming the option, exit 2."""
    args = score_args(metric, tmp_path, WRITINGS["-1,1"], WRITINGS["0,1"], low=0)
    line = one_error_line(invoke(*args, "--range", "0,1"))
    assert "outside --range 0,1" in line
    if CASES[metric].get("reference"):
        line = one_error_line(invoke(*score_args(metric, tmp_path, WRITINGS["0,1"], WRITINGS["-1,1"], low=0), "--range", "0,1", "--reference-range", "0,1"))
        assert "outside --reference-range 0,1" in line


@pytest.mark.parametrize("metric", METRICS.names())
@pytest.mark.parametrize("option", ["--range", "--reference-range"])
@pytest.mark.parametrize("value", ["banana", "0,2", "0-1"])
def test_a_malformed_range_is_one_error_line_before_any_work(metric, option, value, tmp_path):
    """Refused while the command line is parsed (the samples file does not even exist)."""
    line = one_error_line(invoke("score", tmp_path / "missing.npy", "-m", metric, option, value))
    assert f"{option} '{value}'" in line and "0,1, -1,1, 0,255" in line


def test_stats_refuses_a_malformed_range_and_honours_0_255(tmp_path):
    """``stats``: --range banana is one line; float 0..255 images with --range 0,255 give the uint8 statistics."""
    assert "--range 'banana'" in one_error_line(invoke("stats", tmp_path / "x.npy", "-o", tmp_path / "s.npz", "--range", "banana"))
    k = levels(40, (1, 4, 4), 0, low=0)
    np.save(tmp_path / "u.npy", k.astype(np.uint8))
    np.save(tmp_path / "f.npy", k.astype(np.float32))
    made = [invoke("stats", tmp_path / f"{name}.npy", "-o", tmp_path / f"{name}.npz", "--features", "pixels", "--no-progress", *flags)
            for name, flags in (("u", []), ("f", ["--range", "0,255"]))]
    assert all(m.exit_code == 0 for m in made), [m.output for m in made]
    assert "values 0,255 (uint8 data)" in made[0].stdout and "values 0,255 (--range)" in made[1].stdout
    u, f = np.load(tmp_path / "u.npz"), np.load(tmp_path / "f.npz")
    np.testing.assert_array_equal(u["mu"], f["mu"])
    np.testing.assert_array_equal(u["sigma"], f["sigma"])


def test_a_range_where_no_images_are_read_is_refused(tmp_path):
    """--range for vectors (modes; prdc on N x D features), --reference-range for a metric without reference images."""
    np.save(tmp_path / "v.npy", np.zeros((20, 2)))
    assert "reads vectors" in one_error_line(invoke("score", tmp_path / "v.npy", "-r", "ring8", "--range", "0,1"))
    line = one_error_line(invoke("score", tmp_path / "v.npy", "-m", "prdc", "-r", "ring8", "--range", "0,1"))
    assert "vectors" in line and "--range" in line
    line = one_error_line(invoke("score", tmp_path / "v.npy", "-m", "prdc", "-r", "ring8", "--reference-range", "0,1"))
    assert "--reference-range" in line
    np.save(tmp_path / "i.npy", np.zeros((20, 1, 4, 4), np.float32))
    line = one_error_line(invoke("score", tmp_path / "i.npy", "-m", "birthday", "--reference-range", "0,1"))
    assert "reads no reference images" in line


def test_ivom_of_a_constant_generator_on_one_scale(tmp_path):
    """The issue's case: a constant generator c >= 0 (a [-1, 1] generator that never went negative) and test images
    on [-1, 1]. Inferred, the two disagree: one error line asking for the ranges. Stated, the MSE is the closed form
    min_z mean((G(z) - x)^2) = mean((c' - x')^2) on the [0, 1] scale, c' and x' each mapped from its stated range."""
    rng = torch.Generator().manual_seed(0)
    c = torch.rand(1, 4, 4, generator=rng)  # within [0, 1]
    x = torch.rand(30, 1, 4, 4, generator=rng) * 2 - 1  # [-1, 1] with negatives
    gen = save_generator(tmp_path, c.numpy())
    test = tmp_path / "test.npy"
    np.save(test, x.numpy())
    base = ["score", gen, "-m", "ivom", "-r", test, "--json", "--device", "cpu"]
    line = one_error_line(invoke(*base))
    assert "disagree" in line and "--range R and --reference-range R" in line
    for generator_range, c_unit in (("-1,1", (c + 1) / 2), ("0,1", c)):
        result = invoke(*base, "--range", generator_range, "--reference-range", "-1,1")
        assert result.exit_code == 0, result.output
        closed_form = float(((c_unit - (x + 1) / 2) ** 2).flatten(1).mean(1).double().mean())
        assert json.loads(result.stdout)["values"]["mse"] == pytest.approx(closed_form, rel=1e-5)
    assert closed_form != pytest.approx(float(((c - x) ** 2).mean()) / 4, rel=1e-2)  # the readings differ: a guess matters


def test_fid_refuses_inferred_ranges_that_disagree_also_through_a_statistics_file(tmp_path):
    """Samples with negatives (inferred -1,1) against reference images without (inferred 0,1), given as images or as
    statistics made by ``stats``: refused; stating either side's range lets it through, stated in the protocol."""
    np.save(tmp_path / "fake.npy", WRITINGS["-1,1"](levels(30, (1, 4, 4), 0, low=0)))
    np.save(tmp_path / "real.npy", WRITINGS["0,1"](levels(30, (1, 4, 4), 1, low=0)))
    assert invoke("stats", tmp_path / "real.npy", "-o", tmp_path / "real.npz", "--features", "pixels", "--no-progress").exit_code == 0
    for reference in ("real.npy", "real.npz"):
        base = ["score", tmp_path / "fake.npy", "-m", "fid", "-r", tmp_path / reference, "--features", "pixels", "--json"]
        line = one_error_line(invoke(*base))
        assert "samples -1,1" in line and "reference 0,1" in line and "--range R" in line
        result = invoke(*base, "--range", "-1,1")
        assert result.exit_code == 0, result.output
        ranges = json.loads(result.stdout)["protocol"]["value_range"]
        assert ranges["samples"] == {"range": "-1,1", "from": "--range"} and ranges["reference"]["range"] == "0,1"
    assert "holds statistics" in one_error_line(invoke(*base, "--reference-range", "0,1"))


def test_cached_reference_statistics_are_kept_apart_by_the_stated_reference_range(tmp_path):
    """One reference file read as [0, 1] and as [-1, 1]: different FIDs, each the same again from the cache."""
    np.save(tmp_path / "fake.npy", WRITINGS["0,1"](levels(30, (1, 4, 4), 0)))
    np.save(tmp_path / "real.npy", WRITINGS["0,1"](levels(30, (1, 4, 4), 1)))

    def fid(reference_range: str) -> tuple[float, str]:
        args = ["score", tmp_path / "fake.npy", "-m", "fid", "-r", tmp_path / "real.npy", "--features", "pixels", "--json"]
        result = json.loads(invoke(*args, "--range", "0,1", "--reference-range", reference_range).stdout)
        return result["values"]["fid"], result["protocol"]["reference_kind"]

    first = {r: fid(r) for r in ("0,1", "-1,1")}
    again = {r: fid(r) for r in ("0,1", "-1,1")}
    assert first["0,1"][0] != pytest.approx(first["-1,1"][0])
    assert all(again[r] == (first[r][0], "images (cached statistics)") for r in first)


def test_streaming_fid_resolves_each_side_once():
    """FrechetDistance: a later batch outside the range inferred from a side's first batch, and two inferred sides
    that disagree, are errors; with value_range stated both go through."""
    from gan_eval.streaming import FrechetDistance

    bright = torch.rand(20, 1, 4, 4, generator=torch.Generator().manual_seed(0)) / 2 + 0.5
    signed = bright * 2 - 1.5  # has negatives
    fid = FrechetDistance("pixels")
    fid.update(real=bright)
    with pytest.raises(GanEvalError, match="outside its range 0,1"):
        fid.update(real=signed)
    with pytest.raises(GanEvalError, match="disagree"):
        fid.update(fake=signed)
    stated = FrechetDistance("pixels", value_range="-1,1")
    stated.update(real=bright, fake=signed)
    assert stated.compute() > 0
