"""Progress off a terminal: the rate limiter on a fake clock, and every long command's lines on stderr (stdout and
--json untouched), with the budget line first in train and reproduce."""
from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from gan_eval.cli import app
from gan_eval.errors import GanEvalError
from gan_eval.io.generator_files import save_generator
from gan_eval.io.latent import LatentSpec
from gan_eval.progress import INTERVAL_ENV, Progress, line_interval

runner = CliRunner()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def progress_lines(text: str, desc: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(f"{desc}: ")]


def test_a_line_only_once_the_interval_has_passed_with_rate_and_eta():
    """Interval 30 s: updates at 10 s and 20 s write nothing, 31 s writes one line; its rate and ETA are the closed
    forms 3 / 31 s and 97 units / that rate; close() writes the last line."""
    clock, out = FakeClock(), io.StringIO()
    progress = Progress(100, "work", "img", stream=out, clock=clock, interval=30)
    for t in (10, 20):
        clock.now = 1000 + t
        progress.update()
    assert out.getvalue() == ""
    clock.now = 1031
    progress.set_postfix("modes 3")
    progress.update()
    # rate 3 / 31 s = 1 / 10.33 s; ETA 97 / (3 / 31) = 1002.3 s = 0:16:42
    assert out.getvalue() == "work: 3/100 img (3.0%), 10.3 s/img, elapsed 0:00:31, ETA 0:16:42 | modes 3\n"
    clock.now = 1060  # 29 s after the line: still quiet
    progress.update_to(50)
    assert len(out.getvalue().splitlines()) == 1
    clock.now = 1061
    progress.update_to(61)
    clock.now = 1065
    progress.update_to(80)  # 4 s after the last line: quiet, but close() shows the end
    clock.now = 1070
    progress.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and lines[1].startswith("work: 61/100 img (61.0%), 1.0 img/s, elapsed 0:01:01, ETA 0:00:39")
    assert lines[2].startswith("work: 80/100 img (80.0%), 1.1 img/s, elapsed 0:01:10")


def test_short_work_writes_nothing_and_resumed_work_counts_only_new_units():
    clock, out = FakeClock(), io.StringIO()
    with Progress(10, "quick", stream=out, clock=clock, interval=30) as progress:
        progress.update(10)
    assert out.getvalue() == ""  # finished inside the interval: no noise in the log
    resumed = Progress(1000, "train", initial=900, stream=out, clock=clock, interval=0)
    clock.now += 10
    resumed.update(50)  # 50 in 10 s, not 950: the ETA is measured on this session's steps
    assert out.getvalue().startswith("train: 950/1,000 it (95.0%), 5.0 it/s, elapsed 0:00:10, ETA 0:00:10")


def test_a_terminal_gets_a_bar_and_disabled_progress_is_silent():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    with Progress(5, "bar", stream=terminal, interval=0) as progress:
        progress.update(5)
    drawn = terminal.getvalue()
    assert progress.bar is not None and "\r" in drawn and "5/5" in drawn and "elapsed" not in drawn  # tqdm's, not ours
    quiet = io.StringIO()
    with Progress(5, "off", stream=quiet, interval=0, enabled=False) as progress:
        progress.update(5)
    assert quiet.getvalue() == ""


def test_interval_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(INTERVAL_ENV, raising=False)
    assert line_interval() == 30
    monkeypatch.setenv(INTERVAL_ENV, "2.5")
    assert line_interval() == 2.5
    for bad in ("soon", "-1", "nan"):
        monkeypatch.setenv(INTERVAL_ENV, bad)
        with pytest.raises(GanEvalError, match=f"{INTERVAL_ENV}='{bad}': seconds between progress lines"):
            line_interval()


@pytest.mark.parametrize("command", [["train", "gan", "--steps", 20], ["reproduce", "moons-latent-dim", "--seeds", 1, "--steps", 2]])
def test_a_bad_interval_is_one_line_before_anything_is_written(tmp_path, monkeypatch, command):
    """`GAN_EVAL_PROGRESS_INTERVAL=abc gan-eval train ...` once printed the budget line, then the error, and left the
    run folder holding config.json, environment.json and train.lock: the variable is read with the options."""
    monkeypatch.setenv(INTERVAL_ENV, "abc")
    result = invoke(*command, "--out", tmp_path / "out")
    assert result.exit_code == 2 and result.output == f"error: {INTERVAL_ENV}='abc': seconds between progress lines, a number >= 0 (e.g. 30)\n"
    assert not (tmp_path / "out").exists()


@pytest.fixture
def every_update(monkeypatch):
    monkeypatch.setenv(INTERVAL_ENV, "0")


@pytest.mark.usefixtures("every_update")
def test_train_prints_the_budget_line_first_then_progress_lines(tmp_path):
    result = invoke("train", "gan", "--steps", 6, "--eval-every", 3, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert re.fullmatch(r"train gan on ring8 \(seed 0\): 6 iterations \(paper: [\d,]+\); about 0:00:00 on one CPU core \(.*STEP_MS; rough\)", lines[0]), lines[0]
    steps = progress_lines(result.stderr, "train")
    assert [s.split()[1] for s in steps[:6]] == [f"{k}/6" for k in range(1, 7)]
    assert "| modes " in steps[-1] and "ETA" in steps[-1]
    assert not progress_lines(result.stdout, "train") and "step 6:" in result.stdout


def test_budget_line_names_the_paper_budget_and_the_table_estimate():
    """The default budget is the paper's; the estimate is STEP_MS x iterations (VEEGAN, 2-D: 10 ms x 100,000 = 0:16:40)."""
    from gan_eval.cli.train import budget_line
    from trainers.loop import TrainConfig

    line = budget_line(TrainConfig("veegan", "ring8"), 0, 100_000)
    assert line.startswith("train veegan on ring8 (seed 0): 100,000 iterations (the paper's budget; --steps N for a shorter run);")
    assert "about 0:16:40 on one CPU core" in line
    resumed = budget_line(TrainConfig("veegan", "hd1200", steps=2000, device="cuda"), 500, 2000)
    assert "2,000 iterations (paper: 100,000), resuming at step 500; no time estimate for cuda" in resumed


@pytest.mark.usefixtures("every_update")
def test_reproduce_prints_plan_progress_and_runs_on_stderr_and_json_on_stdout(tmp_path):
    args = ["reproduce", "moons-latent-dim", "--seeds", 1, "--steps", 3, "--out", tmp_path, "--json"]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["trained"] == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("moons-latent-dim: 2 runs (2 methods x 1 dataset x 1 seed), 2 to train, 0 already finished;")
    assert "moons-mini: 3 iterations" in lines[0] and "with --jobs 1, one CPU core per run" in lines[0]
    done = [int(line.split()[1].split("/")[0]) for line in progress_lines(result.stderr, "reproduce")]
    assert done == sorted(done) and done[-1] == 6 and len(done) >= 6
    assert sum(line.startswith("[") for line in lines) == 2
    again = invoke(*args)
    assert again.stderr.splitlines()[0].startswith("moons-latent-dim: 2 runs (2 methods x 1 dataset x 1 seed), 0 to train, 2 already finished")
    assert not progress_lines(again.stderr, "reproduce")


@pytest.mark.usefixtures("every_update")
def test_sample_score_and_stats_print_progress_lines(tmp_path):
    torch.manual_seed(0)
    save_generator(nn.Sequential(nn.Linear(2, 2)), LatentSpec(2), tmp_path / "g.pt2")
    sampled = invoke("sample", tmp_path / "g.pt2", "-n", 50, "--batch-size", 10, "-o", tmp_path / "s.npz")
    assert sampled.exit_code == 0, sampled.output
    assert [line.split()[1] for line in progress_lines(sampled.stderr, "sampling")][:5] == [f"{k}/5" for k in range(1, 6)]
    scored = invoke("score", tmp_path / "g.pt2", "-r", "ring8", "-n", 50, "--batch-size", 10, "--json", "--device", "cpu")
    assert scored.exit_code == 0 and json.loads(scored.stdout)["values"]["n"] == 50 and progress_lines(scored.stderr, "samples")
    np.savez(tmp_path / "images.npz", images=np.random.default_rng(0).integers(0, 256, (40, 3, 8, 8), dtype=np.uint8))
    stats = invoke("stats", tmp_path / "images.npz", "--features", "pixels", "--batch-size", 8, "-o", tmp_path / "st.npz", "--device", "cpu")
    assert stats.exit_code == 0, stats.output
    assert [line.split()[2] for line in progress_lines(stats.stderr, "pixels features")][:5] == [f"{k}/5" for k in range(1, 6)]
    assert not progress_lines(stats.stdout, "pixels features")


@pytest.mark.usefixtures("every_update")
def test_train_classifier_prints_progress_over_steps(tmp_path, mnist_dir, monkeypatch):
    """300 training digits, 1 epoch of batch 128: 3 steps, each reported (the real 60k run has 2,814)."""
    import gan_eval.io.mnist as mnist  # the command imports load_mnist from here when it runs (a fast --help)
    from gan_eval.io.mnist import load_mnist

    monkeypatch.setattr(mnist, "load_mnist", lambda folder, split: tuple(a[:300] for a in load_mnist(folder, split)))
    result = invoke("train-classifier", "--mnist-dir", mnist_dir, "-o", tmp_path / "w.pt", "--epochs", 1)
    assert result.exit_code == 0, result.output
    assert [line.split()[1] for line in progress_lines(result.stderr, "training")] == ["1/3", "2/3", "3/3"]
    assert (tmp_path / "w.json").exists()


def test_progress_of_runs_in_worker_processes_is_read_from_their_metrics(tmp_path):
    """With --jobs > 1 the iterations done are read from each run's metrics.jsonl: its last complete line."""
    from trainers.loop import evaluated_step

    assert evaluated_step(tmp_path) == 0
    (tmp_path / "metrics.jsonl").write_text('{"step": 100, "modes": 3}\n{"step": 200, "modes": 4}\n{"step": 3')
    assert evaluated_step(tmp_path) == 200  # the last line is still being written
