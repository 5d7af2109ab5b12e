"""``reproduce`` end to end on a tiny budget, and the ``train`` / ``reproduce`` CLI."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from gan_eval.cli import app
from trainers.reproduce import reproduce
from trainers.tables import TABLES

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_reproduce_tiny_budget_writes_table_json_figure_and_resumes(tmp_path):
    """2 steps x 1 seed of VEEGAN Table 1: every cell has ours beside the paper's number, the sample figure and the
    curves figure are written; a second call re-trains nothing."""
    table = TABLES.get("veegan-table1")
    summary = reproduce("veegan-table1", tmp_path, seeds=1, steps=2)
    assert summary["trained"] == len(table.rows) * len(table.columns)
    md = (tmp_path / "veegan-table1.md").read_text()
    assert "| GAN |" in md and "| VEEGAN |" in md
    assert "1.0 / 99.3" in md and "8.0 / 52.9" in md  # the paper's GAN and VEEGAN ring cells
    assert "2 iterations (paper: 100,000)" in md
    data = json.loads((tmp_path / "veegan-table1.json").read_text())
    assert len(data["cells"]) == len(table.rows) * len(table.columns) * len(table.metrics)
    assert all(c["ours"]["n"] == 1 for c in data["cells"])
    assert (tmp_path / "veegan-table1.png").stat().st_size > 10_000
    assert (tmp_path / "veegan-table1-curves.png").stat().st_size > 10_000
    again = reproduce("veegan-table1", tmp_path, seeds=1, steps=2)
    assert again["trained"] == 0 and again["cells"] == summary["cells"]


def test_cli_train_writes_run_and_curves_and_refuses_bad_settings(tmp_path):
    runner = CliRunner()
    args = ["train", "gan", "--dataset", "grid25", "--steps", "4", "--eval-every", "2", "--out", str(tmp_path), "--no-progress"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "step 4:" in result.output and "/25 modes" in result.output
    run = tmp_path / "gan-grid25-s0"
    assert (run / "generator.pt").exists() and len((run / "metrics.jsonl").read_text().splitlines()) == 2
    assert (run / "curves.png").stat().st_size > 10_000
    overlay = runner.invoke(app, ["curves", str(run), str(run), "-o", str(tmp_path / "both.png")])
    assert overlay.exit_code == 0 and (tmp_path / "both.png").stat().st_size > 10_000, overlay.output
    not_a_run = runner.invoke(app, ["curves", str(tmp_path), "-o", str(tmp_path / "x.png")])
    assert not_a_run.exit_code == 2 and "no metrics.jsonl" in not_a_run.output and not (tmp_path / "x.png").exists()
    bad = runner.invoke(app, ["train", "gan", "--steps", "4", "--out", str(tmp_path), "--set", "lrr=1"])
    assert bad.exit_code == 2 and "error: method gan: unknown hyper-parameter 'lrr'" in bad.output
    typo = runner.invoke(app, ["train", "vegan", "--steps", "4", "--out", str(tmp_path)])
    assert typo.exit_code == 2 and "did you mean 'veegan'" in typo.output


def test_cli_hyper_parameters_as_flags_equal_set_and_methods_lists_them(tmp_path):
    runner = CliRunner()
    common = ["--steps", "3", "--eval-every", "3", "--no-progress"]
    flags = runner.invoke(app, ["train", "pacgan", "--pack", "3", "--lr=2e-4", *common, "--out", str(tmp_path / "a")])
    via_set = runner.invoke(app, ["train", "pacgan", "--set", "pack=3", "-s", "lr=2e-4", *common, "--out", str(tmp_path / "b")])
    assert flags.exit_code == via_set.exit_code == 0, flags.output + via_set.output
    (run_a,), (run_b,) = (tmp_path / "a").iterdir(), (tmp_path / "b").iterdir()
    params = json.loads((run_a / "config.json").read_text())["params"]
    assert params["pack"] == 3 and params["lr"] == 2e-4 and params == json.loads((run_b / "config.json").read_text())["params"]
    assert (run_a / "metrics.jsonl").read_text().split('"d_loss"')[1] == (run_b / "metrics.jsonl").read_text().split('"d_loss"')[1]
    missing = runner.invoke(app, ["train", "pacgan", "--pack", *common])
    assert missing.exit_code == 2 and "--pack needs a value" in missing.output
    listed = runner.invoke(app, ["methods"])
    assert listed.exit_code == 0 and "reconstructor=True (bool)" in listed.output and "pack=2 (int)" in listed.output


def test_cli_import_does_not_load_trainers():
    """``gan-eval --help`` stays fast: the trainers are imported only when a training command runs."""
    code = "import sys, gan_eval.cli; print('trainers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
