"""The command line end to end: the issue's commands, JSON output, one-line errors with exit code 2."""
from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from gan_eval.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_references_lists_the_known_mixtures():
    out = invoke("references").output
    for name in ("ring8", "grid25", "hd1200", "moons", "ring8-linspace"):
        assert name in out


def test_sample_score_json_and_plot(tmp_path):
    real = tmp_path / "real.npz"
    assert invoke("sample-reference", "ring8", "-n", 2500, "--seed", 0, "-o", real).exit_code == 0
    table = invoke("score", real, "--metric", "modes", "--reference", "ring8", "--device", "cpu")
    assert table.exit_code == 0 and "per_mode" in table.output
    result = json.loads(invoke("score", real, "-m", "modes", "-r", "ring8", "--json", "--device", "cpu").stdout)
    assert result["values"]["modes"] == 8 and result["protocol"]["n"] == 2500
    assert result["protocol"]["reference"]["name"] == "ring8"
    png = tmp_path / "ring.png"
    assert invoke("plot", real, "--reference", "ring8", "-o", png).exit_code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sample_reference_writes_npy_too_and_score_reads_it_back(tmp_path):
    """The same samples-file check and writer as ``gan-eval sample``: .npz (array 'samples') or .npy."""
    for name in ("real.npz", "real.npy"):
        assert invoke("sample-reference", "ring8", "-n", 100, "-o", tmp_path / name).exit_code == 0
    scored = [json.loads(invoke("score", tmp_path / name, "-r", "ring8", "--json", "--device", "cpu").stdout) for name in ("real.npz", "real.npy")]
    assert scored[0]["values"] == scored[1]["values"] and scored[0]["values"]["n"] == 100


def test_metric_options_through_set(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.array([[1.5, 0.0]]))  # 0.5 from mode (1, 0): 50 std of ring8
    strict = json.loads(invoke("score", path, "-r", "ring8", "--json", "--device", "cpu").stdout)
    loose = json.loads(invoke("score", path, "-r", "ring8", "--json", "--device", "cpu", "--set", "threshold_std=60").stdout)
    assert strict["values"]["hq_percent"] == 0.0 and loose["values"]["hq_percent"] == 100.0


def test_demo_prints_real_and_collapsed_rows():
    out = invoke("demo").output
    assert "real" in out and "collapsed" in out


@pytest.mark.parametrize(
    "args, pattern",
    [
        (["score", "{d}/missing.npz", "-r", "ring8"], "no such file"),
        (["score", "{d}/x3.npy", "-r", "ring8"], "is 2-D"),
        (["score", "{d}/x2.npy", "-m", "mdoes", "-r", "ring8"], "did you mean 'modes'"),
        (["score", "{d}/x2.npy", "-r", "ring9"], "unknown reference 'ring9'"),
        (["score", "{d}/x2.npy"], "needs a reference"),
        (["score", "{d}/x2.npy", "-r", "ring8", "--set", "threshold_std=abc"], "threshold_std='abc' is not float or none"),
        (["score", "{d}/x2.npy", "-r", "ring8", "--set", "nope=1"], "unknown option 'nope'"),
        (["score", "{d}/x2.npy", "-r", "ring8", "--device", "cuda:7"], "cuda"),
        (["sample-reference", "ring8", "-n", "0", "-o", "{d}/o.npz"], "must be positive"),
        # numbers that must be positive, refused as they are parsed (not a traceback from deep inside)
        (["score", "{d}/x2.npy", "-r", "ring8", "--set", "threshold_std=-1"], "option threshold_std=-1.0 must be positive"),
        (["score", "{d}/x2.npy", "-r", "ring8", "--set", "chunk_size=0"], "option chunk_size=0 must be positive"),
        (["score", "{d}/x2.npy", "-r", "ring8", "--batch-size", "0"], "--batch-size 0: samples per batch must be positive"),
        (["plot", "{d}/x2.npy", "-r", "ring8", "-o", "{d}/r.png", "--threshold-std", "-1"], "--threshold-std -1.0: k of the HQ rule must be positive"),
        (["sample", "{d}/G.pt2", "-n", "10", "-o", "{d}/f.npz", "--batch-size", "0"], "--batch-size 0: samples per forward pass must be positive"),
        (["stats", "{d}/x2.npy", "-o", "{d}/s.npz", "--batch-size", "0"], "--batch-size 0: images per extractor pass must be positive"),
        (["demo", "-n", "0"], "-n 0: the number of samples must be positive"),
        # the feature options' batch_size is score's own keyword (--batch-size), not a --set option
        (["score", "{d}/x2.npy", "-r", "ring8", "--set", "batch_size=64"], "--set batch_size=64: a feature metric's batch is score's --batch-size"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_code_2(tmp_path, args, pattern):
    np.save(tmp_path / "x3.npy", np.zeros((10, 3)))
    np.save(tmp_path / "x2.npy", np.zeros((10, 2)))
    result = invoke(*[a.format(d=tmp_path) for a in args])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and pattern in lines[0]


@pytest.mark.parametrize(
    "args, said",
    [
        (["sample-reference", "ring8", "-n", "10", "-o", "{d}/out.txt"], "{d}/out.txt: write samples to a .npz or .npy file"),
        (["sample", "{d}/G.pt2", "-n", "10", "-o", "{d}/out.txt"], "{d}/out.txt: write samples to a .npz or .npy file"),
        (["sample-reference", "ring8", "-n", "10", "-o", "{d}/folder"], "{d}/folder: is a folder, not a file; name the file to write, e.g. {d}/folder/out.npz"),
        (["plot", "{d}/x2.npy", "-r", "ring8", "-o", "{d}/ring.txt"], "{d}/ring.txt: a figure cannot be written to a .txt file; name a .png, .pdf or .svg file"),
        (["plot", "{d}/x2.npy", "-r", "ring8", "-o", "{d}/folder"], "{d}/folder: is a folder, not a file; name the file to write, e.g. {d}/folder/figure.png"),
        (["curves", "{d}/no-run", "-o", "{d}/c.txt"], "{d}/c.txt: a figure cannot be written to a .txt file"),
        (["score", "{d}/img.npy", "-m", "birthday", "--features", "pixels", "-o", "{d}/pairs.txt"], "{d}/pairs.txt: a figure cannot be written to a .txt file"),
        (["score", "{d}/img.npy", "-m", "birthday", "--features", "pixels", "-o", "{d}/pairs"], "{d}/pairs: a figure cannot be written to a file without a suffix"),
        (["score", "{d}/img.npy", "-m", "birthday", "--features", "pixels", "-o", "{d}/folder"], "{d}/folder: is a folder, not a file"),
        (["score", "{d}/img.npy", "-m", "birthday", "--features", "pixels", "-o", "{d}/pairs.npz"], "{d}/pairs.npz: birthday writes a figure, not arrays; name a .png"),
        (["score", "{d}/x2.npy", "-m", "modes", "-r", "ring8", "-o", "{d}/modes.png"],
         "{d}/modes.png: metric modes writes no file, so --out would be ignored; drop --out (metrics that write one: birthday (figure), ivom"),
        (["score", "{d}/x2.npy", "-m", "modes,support-coverage", "-r", "ring8", "-o", "{d}/modes.png"],
         "{d}/modes.png: none of the metrics modes, support-coverage writes a file, so --out would be ignored; drop --out"),
    ],
)
def test_an_output_path_that_cannot_be_written_is_one_line_before_any_work(tmp_path, args, said):
    """A folder, a suffix matplotlib has no writer for, an npz for a figure, or --out for metrics that write
    nothing: exit 2, one line naming the path, and nothing written (the folder stays empty)."""
    np.save(tmp_path / "x2.npy", np.zeros((10, 2)))
    np.save(tmp_path / "img.npy", np.random.default_rng(0).random((8, 3, 8, 8), dtype=np.float32))
    (tmp_path / "folder").mkdir()
    before = sorted(tmp_path.rglob("*"))
    result = invoke(*[a.format(d=tmp_path) for a in args])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: " + said.format(d=tmp_path)), lines
    assert sorted(tmp_path.rglob("*")) == before


def test_score_from_python_refuses_an_output_no_metric_writes():
    from gan_eval import score
    from gan_eval.errors import GanEvalError

    with pytest.raises(GanEvalError, match=r"^m.png: metric modes writes no file, so output would be ignored; drop output "):
        score(np.zeros((10, 2)), "modes", reference="ring8", output="m.png")


def test_the_command_line_starts_without_torch_trainers_plotting_or_faiss():
    """Issue 18 item 7: registering every command (what `gan-eval --help` does) imports none of the heavy modules;
    they load when a command runs. Checked in a fresh interpreter's sys.modules."""
    import subprocess
    import sys

    heavy = ("torch", "scipy", "matplotlib", "faiss", "trainers", "gan_eval.metrics", "gan_eval.plotting")
    code = "import sys, gan_eval.cli; print(' '.join(m for m in %r if m in sys.modules))" % (heavy,)
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []
