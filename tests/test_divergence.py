"""A run whose evaluation samples stop being finite ends there (trainers.loop, "Divergence"): exported, marked
``diverged_at``, counted finished by ``train`` and ``reproduce``, and resumed or extended without training NaNs.

The divergence is forced, not waited for: Adam at lr 1e9 moves every weight by ~1e9 per step, so the GAN's logits
overflow float32 within the first ten steps on any CPU (the invariant tested is the loop's bookkeeping, not when
a trajectory blows up)."""
from __future__ import annotations

import json

from trainers.evaluators.base import describe_values
from trainers.loop import TrainConfig, diverged_at, finished_result, read_metrics, train, train_seeds
from trainers.reproduce import plan, render_markdown, summarise
from trainers.tables import TABLES

BLOWS_UP = {"lr": 1e9}


def text(value: object) -> str:
    """JSON text of results and metric lines: their NaN losses compare equal as text, never as floats."""
    return json.dumps(value, sort_keys=True)


def config(seed: int = 0, steps: int = 60, **params: float) -> TrainConfig:
    return TrainConfig("gan", "ring8", seed=seed, steps=steps, eval_every=10, eval_samples=200, params=params)


def test_a_run_that_diverges_stops_at_its_first_non_finite_evaluation_and_is_finished(tmp_path):
    result = train(config(**BLOWS_UP), tmp_path / "run")
    lines = read_metrics(tmp_path / "run")
    assert lines[-1]["finite"] is False and all(line["finite"] for line in lines[:-1])  # no evaluation after it
    assert result["diverged_at"] == result["step"] == lines[-1]["step"] < 60
    assert {"generator.pt2", "samples.npz"} <= set(result["files"]) and (tmp_path / "run" / "result.json").is_file()
    assert describe_values(result["values"], result["headline"]).endswith("samples not finite")
    assert text(finished_result(tmp_path / "run", json.loads((tmp_path / "run" / "config.json").read_text()))) == text(result)
    again = train(config(**BLOWS_UP), tmp_path / "run")  # finished: returned as it is
    assert text(again) == text(result) and text(read_metrics(tmp_path / "run")) == text(lines)
    longer = train(config(steps=120, **BLOWS_UP), tmp_path / "run")  # extended: re-exported, nothing trained
    assert longer["step"] == result["step"] and longer["config"]["steps"] == 120
    assert text(read_metrics(tmp_path / "run")) == text(lines)


def test_a_finite_run_trains_its_whole_budget_and_is_not_marked(tmp_path):
    result = train(config(steps=20), tmp_path / "run")
    assert result["step"] == 20 and result["diverged_at"] is None


def test_killed_at_its_divergence_it_resumes_to_the_export_without_training(tmp_path):
    whole = train(config(**BLOWS_UP), tmp_path / "whole")
    killed = train(config(**BLOWS_UP), tmp_path / "killed", stop_after=whole["step"])  # checkpoint written, no export
    assert killed is None and not (tmp_path / "killed" / "result.json").exists()
    resumed = train(config(**BLOWS_UP), tmp_path / "killed")
    assert resumed["step"] == resumed["diverged_at"] == whole["step"]
    assert text([{k: v for k, v in line.items() if k != "elapsed_s"} for line in read_metrics(tmp_path / "killed")]) == text(
        [{k: v for k, v in line.items() if k != "elapsed_s"} for line in read_metrics(tmp_path / "whole")])


def test_grouped_seeds_stop_when_every_one_diverged(tmp_path):
    dirs = [tmp_path / f"s{seed}" for seed in (0, 1)]
    results = train_seeds([config(seed=seed, **BLOWS_UP) for seed in (0, 1)], dirs)
    assert all(r["diverged_at"] is not None for r in results)
    assert results[0]["step"] == results[1]["step"] == max(r["diverged_at"] for r in results) < 60


def test_the_table_counts_diverged_runs_in_their_cell(tmp_path):
    table = TABLES.get("moons-latent-dim")
    jobs = plan(table, tmp_path, seeds=2, steps=20)
    results = {}
    for i, job in enumerate(jobs):
        results[job.run_dir] = {"values": {"modes": 0, "hq_percent": 0.0, "kl": None, "finite": False}, "elapsed_s": 1.0,
                                "diverged_at": 10 if i == 0 else None}
    summary = summarise(table, jobs, results, seeds=2, jobs=1, ranks=1, device="cpu", wall_s=1.0, trained=4)
    first = jobs[0]
    cell = next(c for c in summary["cells"] if (c["method"], c["dataset"]) == (first.row.label, first.column.name))
    assert sorted(cell["diverged_at"], key=str) == sorted([10, None], key=str)
    markdown = render_markdown(table, summary)
    assert markdown.count("(1 diverged)") == 1


def test_diverged_at_is_the_start_of_the_non_finite_evaluations_the_run_ends_on(tmp_path):
    def at(*finite: bool) -> int | None:
        (tmp_path / "metrics.jsonl").write_text("".join(json.dumps({"step": 10 * (i + 1), "finite": f}) + "\n" for i, f in enumerate(finite)))
        return diverged_at(tmp_path)

    assert at(True, True) is None and at(True, False, True) is None  # ended finite: not diverged
    assert at(True, False, False) == 20 and at(False, True, False, False) == 30
    assert diverged_at(tmp_path / "absent") is None


def test_the_train_cli_says_where_the_run_diverged(tmp_path):
    from typer.testing import CliRunner

    from gan_eval.cli import app

    said = CliRunner().invoke(app, ["train", "gan", "--dataset", "ring8", "--steps", "50", "--eval-every", "10", "--set", "lr=1e9", "--out", str(tmp_path), "--no-progress"])
    assert said.exit_code == 0, said.output
    assert "(diverged at step " in said.output and "training stopped): modes 0" in said.output and "samples not finite" in said.output
