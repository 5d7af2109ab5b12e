"""The bad-input catalogue: every registered metric (and ``stats``) against every kind of bad input.

The metrics come from the registry, and what each needs (a mixture or image reference, a generator, an extractor
that works offline) from its registration, so a new metric is covered without editing this file. Each case must
exit with code 2 and print exactly one stderr line ``error: ...`` naming the bad file or option, and write nothing
(the run's folder and the statistics cache are unchanged): the contract in the project brief.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn
from typer.testing import CliRunner

from gan_eval.cli import app
from gan_eval.metrics import METRICS, MetricSpec


N = 24  # samples per file: enough for every metric's minimum (k-NN, bins) at its --set values below
SIZE = 16


class TinyImageGenerator(nn.Module):
    """z (N x 4) -> N x 3 x 16 x 16 images in [-1, 1]: the generator for metrics that need one (IvOM)."""

    latent_dim = 4

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Linear(4, 3 * SIZE * SIZE)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.net(z)).view(-1, 3, SIZE, SIZE)


def images(seed: int = 0, n: int = N) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 3, SIZE, SIZE), dtype=np.uint8)


def vectors(seed: int = 0, n: int = N) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 2)) * 0.01 + np.array([1.0, 0.0])


@dataclass(frozen=True)
class Context:
    """How to call one metric with valid inputs, derived from its registration."""

    samples: str
    reference: str | None
    options: tuple[str, ...]


def context(spec: MetricSpec, d: Path) -> Context:
    """Valid samples, reference and options for ``spec``: vectors and a mixture for metrics on vectors only;
    images, an image reference and an offline extractor (pixels) otherwise; a generator where one is needed."""
    if not spec.images:
        return Context(str(d / "good_vectors.npy"), "ring8" if spec.needs_reference else None, ())
    samples = f"{__name__}:TinyImageGenerator" if spec.needs_generator else str(d / "good_images.npz")
    reference = str(d / "good_reference.npz") if spec.needs_reference else None
    options = ("--features", "pixels") if spec.default_features == "inception" else ()
    if spec.needs_generator:
        options += ("--set", "steps=1", "--set", "restarts=1")
    return Context(samples, reference, options)


def write_inputs(d: Path) -> None:
    """The good inputs and every bad file of the catalogue, in ``d``."""
    np.save(d / "good_vectors.npy", vectors())
    np.savez(d / "good_images.npz", images=images(0))
    np.savez(d / "good_reference.npz", images=images(1))
    (d / "empty.npz").write_bytes(b"")
    (d / "corrupt.npz").write_bytes(b"PK\x03\x04 this is not a zip archive")
    np.save(d / "pickled.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    torch.save(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).state_dict(), d / "state_dict.pt")
    folder = d / "truncated_folder"
    folder.mkdir()
    for i, array in enumerate(images(2, 4).transpose(0, 2, 3, 1)):
        Image.fromarray(array).save(folder / f"{i:02d}.png")
    broken = folder / "02.png"
    broken.write_bytes(broken.read_bytes()[:60])


def bad_array(kind: str, spec_images: bool) -> np.ndarray:
    """A numeric array that is bad in one way, shaped like the metric's good input otherwise."""
    good = images(3).astype(np.float32) / 255.0 if spec_images else vectors(3)
    if kind == "nan":
        good.flat[5] = np.nan
    elif kind == "inf":
        good.flat[5] = np.inf
    elif kind == "zero_rows":
        good = good[:0]
    elif kind == "wrong_shape":
        good = good.reshape(len(good), -1)[:, :3, None, None, None]  # 5-D: neither vectors nor images
    elif kind == "outside_range":
        good = good * 5.0  # stated --range 0,1 below
    return good


# (case, where the bad input goes, what the error must name); `{bad}` is the bad file's path.
FILE_CASES = ("missing", "empty", "corrupt", "pickled", "nan", "inf", "zero_rows", "wrong_shape", "truncated_image", "state_dict")
FLAG_CASES = ("outside_range", "malformed_range", "unknown_set_option", "unknown_flag")


def bad_input(case: str, spec: MetricSpec, d: Path) -> tuple[str, tuple[str, ...], str]:
    """(bad path, extra options, the token the error line must contain) for ``case``."""
    named = {
        "missing": "missing.npz",
        "empty": "empty.npz",
        "corrupt": "corrupt.npz",
        "pickled": "pickled.npy",
        "truncated_image": "truncated_folder/02.png",
        "state_dict": "state_dict.pt",
    }
    if case in named:
        return str(d / named[case].split("/")[0]), (), named[case]
    if case in ("nan", "inf", "zero_rows", "wrong_shape", "outside_range"):
        path = d / f"{case}.npy"
        np.save(path, bad_array(case, spec.images))
        extra = ("--range", "0,1") if case == "outside_range" else ()
        return str(path), extra, path.name
    raise AssertionError(case)


def flag_case(case: str) -> tuple[tuple[str, ...], str]:
    """(options, the token the error line must contain) for a bad option on otherwise valid inputs."""
    return {
        "outside_range": ((), ""),  # handled as a file case
        "malformed_range": (("--range", "banana"), "--range"),
        "unknown_set_option": (("--set", "nope=1"), "nope"),
        "unknown_flag": (("--no-such-flag",), "--no-such-flag"),
    }[case]


def snapshot(*roots: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime_ns for root in roots for p in root.rglob("*")}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("catalogue")
    write_inputs(d)
    return d


_MIX_STDERR = "mix_stderr" in CliRunner.__init__.__code__.co_varnames  # click < 8.2 mixes unless told not to


def run(args: list[str], d: Path, cache: Path) -> tuple[int, list[str], bool]:
    """Exit code, non-empty stderr lines, and whether anything was written under ``d`` or the cache."""
    before = snapshot(d, cache)
    result = CliRunner(**({"mix_stderr": False} if _MIX_STDERR else {})).invoke(app, args)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    return result.exit_code, lines, snapshot(d, cache) != before


def metric_cases() -> list[tuple[str, str, str]]:
    """(metric, role, case) for every registered metric; the reference role only where it is an image file."""
    cases = []
    for name in METRICS:
        spec = METRICS.get(name)
        sample_cases = [c for c in FILE_CASES if not (spec.needs_generator and c == "truncated_image")]
        cases += [(name, "samples", c) for c in sample_cases + list(FLAG_CASES)]
        if spec.needs_reference and spec.images:
            cases += [(name, "reference", c) for c in FILE_CASES if c != "state_dict" or not spec.needs_generator]
    return cases


def assert_one_clean_error(code: int, lines: list[str], wrote: bool, tokens: tuple[str, ...]) -> None:
    """Exit 2, one ``error:`` line naming one of ``tokens`` (the bad file, or the option that makes it bad)."""
    assert code == 2, lines
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert any(t in lines[0] for t in tokens), (tokens, lines[0])
    assert not wrote, "a failed command wrote files"


@pytest.mark.parametrize("metric, role, case", metric_cases())
def test_every_metric_refuses_every_bad_input_with_one_line(metric, role, case, inputs, private_cache):
    spec = METRICS.get(metric)
    ctx = context(spec, inputs)
    samples, reference, extra = ctx.samples, ctx.reference, ()
    if case in FLAG_CASES and case != "outside_range":
        extra, token = flag_case(case)
    else:
        path, extra, token = bad_input(case, spec, inputs)
        if role == "samples":
            samples = path
        else:
            reference = path
            extra = tuple(o.replace("--range", "--reference-range") for o in extra)
    tokens = (token, "--range", "--reference-range") if case == "outside_range" else (token,)
    args = ["score", samples, "--metric", metric, "--device", "cpu", "--no-progress", *ctx.options, *extra]
    if reference is not None:
        args += ["--reference", reference]
    assert_one_clean_error(*run(args, inputs, private_cache), tokens)


def positive_cases() -> list[tuple[str, str]]:
    """(metric, option) for every option a metric declares positive (:func:`gan_eval.options.positive`); not the
    feature options' ``batch_size``, which ``--set`` cannot reach (score's own ``batch_size`` keyword takes it)."""
    return [(name, f.name) for name in METRICS for f in dataclasses.fields(METRICS.get(name).options)
            if f.metadata.get("positive") and f.name != "batch_size"]


@pytest.mark.parametrize("metric, option", positive_cases())
def test_every_positive_metric_option_refuses_zero_before_any_work(metric, option, inputs, private_cache):
    """``--set OPTION=0`` is one line naming the option, never a division by zero or a failed split inside."""
    spec = METRICS.get(metric)
    ctx = context(spec, inputs)
    args = ["score", ctx.samples, "--metric", metric, "--device", "cpu", "--no-progress", *ctx.options, "--set", f"{option}=0"]
    if ctx.reference is not None:
        args += ["--reference", ctx.reference]
    assert_one_clean_error(*run(args, inputs, private_cache), (f"option {option}=0",))


STATS_CASES = [c for c in FILE_CASES] + ["outside_range", "malformed_range", "unknown_flag"]


@pytest.mark.parametrize("case", STATS_CASES)
def test_stats_refuses_every_bad_input_with_one_line(case, inputs, private_cache):
    spec = METRICS.get("fid")  # stats reads images as the image metrics do
    out = ["-o", str(inputs / "stats_out.npz"), "--features", "pixels", "--device", "cpu", "--no-progress"]
    if case in ("malformed_range", "unknown_flag"):
        extra, token = flag_case(case)
        args = ["stats", str(inputs / "good_images.npz"), *out, *extra]
    else:
        path, extra, token = bad_input(case, spec, inputs)
        args = ["stats", path, *out, *extra]
    tokens = (token, "--range") if case == "outside_range" else (token,)
    assert_one_clean_error(*run(args, inputs, private_cache), tokens)
    assert not (inputs / "stats_out.npz").exists()
