"""``reproduce`` end to end on a tiny budget, and the ``train`` / ``reproduce`` CLI."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from gan_eval.cli import app
from trainers.reproduce import plan, plan_line, reproduce
from trainers.tables import TABLES



def test_reproduce_tiny_budget_writes_table_json_figure_and_resumes(tmp_path):
    """2 steps x 1 seed of VEEGAN Table 1: every cell has ours beside the paper's number, the sample figure and the
    curves figure are written; a second call re-trains nothing."""
    table = TABLES.get("veegan-table1")
    summary = reproduce("veegan-table1", tmp_path, seeds=1, steps=2)
    assert summary["trained"] == len(table.rows) * len(table.columns)
    md = (tmp_path / "veegan-table1.md").read_text()
    assert "| GAN\\* |" in md and "| VEEGAN |" in md
    # the GAN row is our construction (VEEGAN's networks without the reconstructor): said above the table and in the JSON
    assert "\\*GAN row: our construction, not the paper's: VEEGAN's networks" in md
    assert "1.0 / 99.3" in md and "8.0 / 52.9" in md  # the paper's GAN and VEEGAN ring cells
    assert "2 iterations (paper: 100,000)" in md
    assert "Ours: the value of 1 seed (no sd), FEWER than the table's default 5." in md and "Samples scored per evaluation: 2,500, as the paper's." in md
    data = json.loads((tmp_path / "veegan-table1.json").read_text())
    assert len(data["cells"]) == len(table.rows) * len(table.columns) * len(table.metrics)
    assert all(c["ours"]["n"] == 1 and c["ours"]["sd"] is None and c["ours"]["se"] is None for c in data["cells"])
    ours = [line.split(" | ")[1] for line in md.splitlines() if line.startswith("| VEEGAN |")]
    assert ours and "±" not in ours[0] and "over 1 seeds" not in md  # no spread over one seed
    assert data["row_notes"] == {"GAN": table.row("GAN").note} and "no released code" in data["row_notes"]["GAN"]
    assert (tmp_path / "veegan-table1.png").stat().st_size > 10_000
    assert (tmp_path / "veegan-table1-curves.png").stat().st_size > 10_000
    again = reproduce("veegan-table1", tmp_path, seeds=1, steps=2)
    assert again["trained"] == 0 and again["cells"] == summary["cells"]
    rewritten = (tmp_path / "veegan-table1.md").read_text()
    assert "Every run was finished before this call (it only wrote the table)" in rewritten and "Wall time" not in rewritten


def test_a_run_at_its_budget_without_its_result_is_not_counted_as_trained_here(tmp_path):
    """A run stopped after its last checkpoint but before result.json is completed by the next call without a
    training step: the table must not say it was trained in that call (bms-table1-cpu.md once read "3 s for 10 runs
    trained here" for runs that had taken 2,676 s)."""
    first = reproduce("moons-latent-dim", tmp_path, seeds=1, steps=2)
    assert first["trained"] == 2
    (next((tmp_path / "runs").iterdir()) / "result.json").unlink()
    again = reproduce("moons-latent-dim", tmp_path, seeds=1, steps=2)
    assert again["trained"] == 0 and again["cells"] == first["cells"]
    assert "Every run was finished before this call" in (tmp_path / "moons-latent-dim.md").read_text()


def tree_bytes(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_tables_sharing_an_out_each_train_their_own_runs_and_leave_the_others_untouched(tmp_path):
    """pacgan-table1 then veegan-table1 into one --out: veegan's GAN row (VEEGAN's networks without the
    reconstructor, fresh data) and ALI row (fresh data) are trained as asked, not read from pacgan's GAN and
    ALI runs (other method / a fixed 100k-point set), and every file of pacgan's runs stays byte for byte."""
    reproduce("pacgan-table1", tmp_path, seeds=1, steps=2)
    pacgan_runs = tree_bytes(tmp_path / "runs")
    summary = reproduce("veegan-table1", tmp_path, seeds=1, steps=2)
    veegan = TABLES.get("veegan-table1")
    assert summary["trained"] == len(veegan.rows) * len(veegan.columns)
    for job in plan(veegan, tmp_path, seeds=1, steps=2):
        stored = json.loads((job.run_dir / "config.json").read_text())
        assert stored == job.resolved and stored["train_size"] is None
        if job.row.label == "GAN":
            assert stored["method"] == "veegan" and stored["params"]["reconstructor"] is False
    after = tree_bytes(tmp_path / "runs")
    assert {k: after[k] for k in pacgan_runs} == pacgan_runs


def test_a_new_budget_trains_new_runs_beside_the_finished_ones(tmp_path):
    """A finished run is reused only for its exact configuration: --steps 3 after --steps 2 trains every run
    again into new folders and keeps the 2-step runs as they were."""
    reproduce("moons-latent-dim", tmp_path, seeds=1, steps=2)
    two_steps = tree_bytes(tmp_path / "runs")
    again = reproduce("moons-latent-dim", tmp_path, seeds=1, steps=3)
    assert again["trained"] == 2 and len(list((tmp_path / "runs").iterdir())) == 4
    after = tree_bytes(tmp_path / "runs")
    assert {k: after[k] for k in two_steps} == two_steps


def test_reproduce_clash_is_one_line_before_any_training(tmp_path):
    """A planned run folder that holds another configuration (or a stray file) stops the table with exit 2 and
    one line naming the folder, before anything is trained or written."""
    runner = CliRunner()
    args = ["reproduce", "moons-latent-dim", "--seeds", "2", "--steps", "2", "--out", str(tmp_path), "--no-progress"]
    jobs = plan(TABLES.get("moons-latent-dim"), tmp_path, seeds=2, steps=2)
    clash = jobs[-1].run_dir  # the last run: a check made while training would find it only at the end
    clash.mkdir(parents=True)
    (clash / "config.json").write_text(json.dumps({**jobs[-1].resolved, "train_size": 100_000}))
    before = tree_bytes(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert result.output.startswith(f"error: {clash}: was made with a different configuration (train_size: 100000 here, 32 asked)")
    assert tree_bytes(tmp_path) == before
    (clash / "config.json").write_text("{")
    broken = runner.invoke(app, args)
    assert broken.exit_code == 2 and f"error: {clash / 'config.json'}: not a JSON configuration" in broken.output
    (clash / "config.json").unlink()
    (clash / "notes.txt").write_text("mine")
    stray = runner.invoke(app, args)
    assert stray.exit_code == 2 and f"error: {clash}: not empty but holds no config.json" in stray.output
    assert [p.name for p in (tmp_path / "runs").iterdir()] == [clash.name]


def test_cli_train_writes_run_and_curves_and_refuses_bad_settings(tmp_path):
    runner = CliRunner()
    args = ["train", "gan", "--dataset", "grid25", "--steps", "4", "--eval-every", "2", "--out", str(tmp_path), "--no-progress"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "step 4: modes " in result.output and "hq_percent " in result.output
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


def test_datasets_command_lists_every_dataset_evaluator_and_loss():
    """`gan-eval datasets`, which the README points to, lists every registered dataset, evaluator (fid's headline
    keys are chosen per instance by its options, so it has no class-level ``keys``) and loss, and exits 0."""
    from trainers.datasets import DATASETS
    from trainers.evaluators import EVALUATORS
    from trainers.losses import LOSSES

    listed = CliRunner().invoke(app, ["datasets"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    for name in [*DATASETS, *EVALUATORS]:
        assert any(line.startswith(f"  {name}: ") for line in lines), name
    assert all(loss in listed.output for loss in LOSSES.names())
    assert "  modes: modes, hq_percent, kl" in lines


def test_reproduce_help_names_every_registered_table():
    """The table argument's help is static (the CLI must not import trainers to print it), so it is checked
    against the registry here."""
    shown = CliRunner().invoke(app, ["reproduce", "--help"], terminal_width=400)
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.replace("│", " ").split())
    assert [name for name in TABLES.names() if name not in text] == []


def test_cli_import_does_not_load_trainers():
    """``gan-eval --help`` stays fast: the trainers are imported only when a training command runs."""
    code = "import sys, gan_eval.cli; print('trainers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_bms_table1_declares_the_papers_table_with_its_budget_and_seeds():
    """Every row x column of the BMS-VAE-GAN paper's Table 1 (PROTOCOLS.md) carries the paper's cell; the headline
    cells are the paper's 25 / 99.7 ± 0.2 (grid) and 8 / 99.6 ± 0.3 (ring); 5 seeds; the 25,000-iteration budget."""
    table = TABLES.get("bms-table1")
    assert [r.label for r in table.rows] == ["VEEGAN", "GDPP", "SN-GAN", "MD-GAN", "WAE", "alpha-GAN", "BMS-VAE-GAN"]
    assert [c.dataset for c in table.columns] == ["grid25", "ring8"] and table.default_seeds == 5
    assert all(c.steps == c.paper_steps == 25_000 for c in table.columns)
    assert set(table.paper) == {(r.label, c.dataset) for r in table.rows for c in table.columns}
    assert table.paper[("BMS-VAE-GAN", "grid25")] == {"modes": (25, None), "hq_percent": (99.7, 0.2)}
    assert table.paper[("BMS-VAE-GAN", "ring8")] == {"modes": (8, None), "hq_percent": (99.6, 0.3)}


def test_bms_table1_runs_every_row_beside_the_papers_cells(tmp_path):
    """2 steps x 1 seed on ring8: every row of the BMS-VAE-GAN paper's Table 1 is trained here and printed beside
    the paper's cell (MD-GAN starred: its ring column departs from the authors' grid-only code)."""
    table = TABLES.get("bms-table1")
    summary = reproduce("bms-table1", tmp_path, seeds=1, steps=2, datasets=["ring8"])
    assert summary["trained"] == len(table.rows)
    md = (tmp_path / "bms-table1.md").read_text()
    assert "| MD-GAN\\* |" in md and "8.0 / 89.0 ± 3.6" in md and "| GDPP |" in md and "8.0 / 71.7" in md
    assert "| BMS-VAE-GAN |" in md and "8.0 / 99.6 ± 0.3" in md


STACKED_TABLES = ("veegan-table2", "pacgan-table2", "pacgan-table3")


@pytest.mark.parametrize("name", STACKED_TABLES)
def test_stacked_mnist_tables_plan_every_run_at_the_papers_budget_with_their_cells(name, tmp_path, mnist_dir):
    """Issue 17's tables: every row's method is registered and takes the row's and column's hyper-parameters (the
    plan resolves each run), every cell has the paper's modes and KL, and the defaults are the papers' protocol:
    their budget, samples scored, seeds, and the bundled classifier's weights hash in each run's configuration."""
    from gan_eval.features.mnist_classifier import weights_card

    table = TABLES.get(name)
    jobs = plan(table, tmp_path, seeds=1, data_dir=str(mnist_dir))
    assert len(jobs) == len(table.rows) * len(table.columns) and len({j.run_dir for j in jobs}) == len(jobs)
    assert all(set(table.paper[(r.label, c.name)]) == {"modes", "kl"} for r in table.rows for c in table.columns)
    assert all(j.config.steps == j.column.paper_steps for j in jobs)
    assert table.eval_samples == (25_600 if name == "pacgan-table3" else 26_000)
    assert table.default_seeds == {"veegan-table2": 5, "pacgan-table2": 10, "pacgan-table3": 50}[name]
    assert all(j.resolved["evaluators"][0]["classifier"]["sha256"] == weights_card()["sha256"] for j in jobs)
    if name == "pacgan-table3":  # two columns on one dataset, apart by D's width
        scales = {(j.row.label, j.column.name): j.resolved["params"]["d_scale"] for j in jobs}
        assert scales[("Unrolled 10", "D=1/4G")] == 0.25 and scales[("Unrolled 10", "D=1/2G")] == 0.5
        assert {j.resolved["params"]["net"] for j in jobs} == {"unrolled28x3"}
        # PacGAN's unrolled-setting sampler normalises by batch statistics (DCGAN and PacDCGAN rows, their fork)
        assert {j.row.label: j.resolved["params"].get("sample_batchnorm") for j in jobs} == {
            "DCGAN": "batch", "Unrolled 1": None, "Unrolled 5": None, "Unrolled 10": None, "PacDCGAN2": "batch", "PacDCGAN3": "batch", "PacDCGAN4": "batch"}
        assert jobs[0].resolved["data"]["value_range"] == [-1.0, 1.0] and jobs[0].resolved["data"]["pool"] == "train"
    else:  # the VEEGAN setting's sampler: running statistics, the configuration of before
        assert all("sample_batchnorm" not in j.resolved["params"] for j in jobs)


def test_run_folders_follow_the_data_files_content_not_their_path(tmp_path, mnist_dir, monkeypatch):
    """The same MNIST files given by a relative path or through a link plan the same run folders (a moved data set
    resumes its runs); a copy with one label changed plans new ones (other data never resume these runs)."""
    import os
    import shutil

    table = TABLES.get("veegan-table2")
    (tmp_path / "link").symlink_to(mnist_dir, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    changed = tmp_path / "changed"
    shutil.copytree(mnist_dir, changed)
    labels = changed / "t10k-labels-idx1-ubyte"
    data = bytearray(labels.read_bytes())
    data[-1] = (data[-1] + 1) % 10
    labels.write_bytes(bytes(data))

    def folders(data_dir: str) -> list[str]:
        return [j.run_dir.name for j in plan(table, tmp_path / "out", seeds=2, steps=10, data_dir=data_dir)]

    here = folders(str(mnist_dir))
    assert folders("link") == folders(os.path.relpath(mnist_dir)) == here
    assert set(folders(str(changed))).isdisjoint(here)


def test_a_per_kind_default_is_recorded_so_changing_it_plans_new_run_folders(tmp_path, monkeypatch):
    """A hyper-parameter whose reference default differs on vectors and images (``defaults_by_kind``) is recorded
    resolved (gan_toy.py's z of 2 on the mixtures), not as None: so a change of that default in the code plans new
    folders instead of resuming runs trained with the old value (their checkpoints would not even load)."""
    from trainers.loop import TrainConfig, resolve_config
    from trainers.methods import METHODS

    table = TABLES.get("mode-collapse-mini-family")
    recorded = resolve_config(TrainConfig("wgan-gp", "ring8"))["params"]
    assert (recorded["latent_dim"], recorded["batch_size"], recorded["gp_weight"]) == (2, 256, 0.1)

    def folders() -> list[str]:
        return [j.run_dir.name for j in plan(table, tmp_path, seeds=1, steps=10) if j.run_dir.name.startswith("wgan-gp-")]

    before = folders()
    wgan_gp = METHODS.get("wgan-gp")
    monkeypatch.setattr(wgan_gp, "defaults_by_kind", {**wgan_gp.defaults_by_kind, "latent_dim": (3, 100)})
    after = folders()
    assert len(before) == len(after) == 2 and set(before).isdisjoint(after)


def about_seconds(line: str) -> int:
    hours, minutes, seconds = re.search(r"about (\d+):(\d\d):(\d\d) with --jobs 1, .*; rough\)$", line).groups()
    return 3600 * int(hours) + 60 * int(minutes) + int(seconds)


def test_stacked_mnist_plan_estimates_are_within_2x_of_the_cpu_measurements(tmp_path, mnist_dir):
    """The start-of-run estimate of the CPU runs of benchmarks/reproduce/results/stacked-mnist-cpu-status.md against
    that file's CPU-s measured on the development machine (one thread): per run, 300 steps at the measured step plus
    one evaluation (20 CPU-s for 26,000 samples at width 8; PacGAN Table 3's G is as large) within 2x; and the plan
    line's total too. veegan-table2 --set width=8: DCGAN 0.149, ALI 0.092, Unrolled 0.557, VEEGAN 0.083 s a step;
    pacgan-table3 at D = 1/4 G: DCGAN 0.154, Unrolled 10 0.699, PacDCGAN4 0.596 s; its 14 runs of one seed the file
    sizes at ~35 min of one free core (half its 2 seeds' ~70), where the per-method table once printed 12 h."""
    measured = {("veegan-table2", "DCGAN"): 0.149, ("veegan-table2", "ALI"): 0.092, ("veegan-table2", "Unrolled"): 0.557,
                ("veegan-table2", "VEEGAN"): 0.083, ("pacgan-table3", "DCGAN"): 0.154, ("pacgan-table3", "Unrolled 10"): 0.699,
                ("pacgan-table3", "PacDCGAN4"): 0.596}
    for name, overrides, total_s in (("veegan-table2", {"width": 8}, 300 * 0.881 + 4 * 20), ("pacgan-table3", {}, 35 * 60)):
        table = TABLES.get(name)
        jobs = plan(table, tmp_path / name, seeds=1, steps=300, eval_every=300, data_dir=str(mnist_dir), overrides=overrides)
        for job in jobs:
            step = measured.get((name, job.row.label)) if job.column.name in ("stacked-mnist", "D=1/4G") else None
            if step is not None:
                assert 0.5 < job.estimated_ms() / 1000 / (300 * step + 20) < 2, (name, job.row.label)
        line = plan_line(table, jobs, jobs, {j.run_dir: 0 for j in jobs}, 1, "cpu", 0)
        assert 0.5 < about_seconds(line) / total_s < 2, line
    widths = [plan(TABLES.get("veegan-table2"), tmp_path, seeds=1, steps=300, data_dir=str(mnist_dir), overrides={"width": w}) for w in (4, 8)]
    assert all(narrow.estimated_ms() < wide.estimated_ms() for narrow, wide in zip(*widths))


def test_train_budget_line_on_stacked_mnist_counts_the_width_and_names_an_uncounted_method(mnist_dir):
    """``gan-eval train``'s first line uses the same model: DCGAN at width 8, 300 steps and one evaluation of 26,000
    samples is 300 x 0.149 + 20 = 65 CPU-s measured (stacked-mnist-cpu-status.md), within 2x; a method the model
    does not count says so instead of guessing."""
    from gan_eval.cli.train import budget_line
    from trainers.loop import TrainConfig

    config = TrainConfig("dcgan", "stacked-mnist", steps=300, eval_every=300, eval_samples=26_000, params={"width": 8}, data_dir=str(mnist_dir))
    minutes, seconds = re.search(r"about 0:(\d\d):(\d\d) on one CPU core", budget_line(config, 0, 300)).groups()
    assert 0.5 < (60 * int(minutes) + int(seconds)) / 65 < 2
    uncounted = budget_line(TrainConfig("wgan-gp", "stacked-mnist", steps=300, data_dir=str(mnist_dir)), 0, 300)
    assert uncounted.endswith("no time estimate for wgan-gp on images (not counted by trainers.step_cost)"), uncounted


def test_pacgan_table3_tiny_trains_both_columns_renders_images_and_resumes(tmp_path, mnist_dir):
    """Three rows of PacGAN Table 3 (DCGAN, Unrolled 1, PacDCGAN2) x its two D widths, 2 steps, 100 samples scored:
    both columns in the Markdown and JSON beside the paper's cells, the budget and sample count said to be below
    the paper's, the protocol with the classifier's hash, image grids and curves drawn; a second call trains nothing."""
    rows = ["DCGAN", "Unrolled 1", "PacDCGAN2"]
    summary = reproduce("pacgan-table3", tmp_path, seeds=1, steps=2, rows=rows, data_dir=mnist_dir, eval_samples=100)
    assert summary["trained"] == 6
    md = (tmp_path / "pacgan-table3.md").read_text()
    assert "| method | D=1/4G ours | D=1/4G paper | D=1/2G ours | D=1/2G paper |" in md
    assert "30.6 ± 20.7 / 5.99 ± 0.42" in md and "628.0 ± 140.9 / 2.58 ± 0.75" in md  # the paper's DCGAN cells
    assert "2 iterations (paper: 500,000), BELOW the paper's" in md and "Samples scored per evaluation: 100, not the paper's 25,600" in md
    data = json.loads((tmp_path / "pacgan-table3.json").read_text())
    assert {c["dataset"] for c in data["cells"]} == {"D=1/4G", "D=1/2G"} and all(c["ours"]["n"] == 1 for c in data["cells"])
    assert data["protocol"]["D=1/4G"]["eval_samples"] == 100 and data["protocol"]["D=1/2G"]["paper_steps"] == 500_000
    assert "sha256" in data["protocol"]["D=1/4G"]["evaluators"][0]["classifier"]
    assert (tmp_path / "pacgan-table3.png").stat().st_size > 10_000 and (tmp_path / "pacgan-table3-curves.png").is_file()
    again = reproduce("pacgan-table3", tmp_path, seeds=1, steps=2, rows=rows, data_dir=mnist_dir, eval_samples=100)
    assert again["trained"] == 0 and again["cells"] == summary["cells"]


def test_stacked_mnist_cpu_table_header_states_width_budget_seeds_and_samples_against_the_papers(tmp_path, mnist_dir):
    """A CPU-sized VEEGAN Table 2 (narrower nets by --set width, 2 iterations, 1 seed, 100 samples) says each cut
    beside the paper's value in its header: the width against carpedm20's gf_dim 64 (trainers.nets.dcgan.GF_DIM, the
    papers' nets), the budget against 100,000, the seeds against the paper's 5 runs, the samples against 26,000."""
    from trainers.nets.dcgan import GF_DIM

    summary = reproduce("veegan-table2", tmp_path, seeds=1, steps=2, rows=["DCGAN"], data_dir=mnist_dir, eval_samples=100, overrides={"width": 4})
    md = (tmp_path / "veegan-table2.md").read_text()
    assert "Settings of every run (not the paper's): width=4 (paper: 64)." in md
    assert "2 iterations (paper: 100,000), BELOW the paper's" in md and "Ours: the value of 1 seed (no sd), FEWER than the table's default 5." in md
    assert "Samples scored per evaluation: 100, not the paper's 26,000." in md
    assert summary["paper_params"] == {"width": GF_DIM} and summary["overrides"] == {"width": 4} and summary["default_seeds"] == 5


def test_a_table_asking_for_an_unregistered_method_is_one_line_before_training(tmp_path, monkeypatch):
    """A table whose row names a method no module registered (e.g. one another issue adds): exit 2 and one line
    naming it, before any run folder is made."""
    import dataclasses

    from trainers.tables import Row

    table = dataclasses.replace(TABLES.get("veegan-table1"), name="broken", rows=(Row("GAN", "gan"), Row("New", "not-a-method")))
    monkeypatch.setitem(TABLES._items, "broken", table)
    result = CliRunner().invoke(app, ["reproduce", "broken", "--steps", "2", "--seeds", "1", "--out", str(tmp_path / "out"), "--no-progress"])
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert result.output.startswith("error: unknown training method 'not-a-method': known: ali, ali-dcgan")
    assert not (tmp_path / "out").exists()


def test_stacked_mnist_table_without_its_mnist_folder_is_one_line_before_training(tmp_path):
    """veegan-table2 with a --data-dir lacking the MNIST files: exit 2, one line naming the folder and the files."""
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(app, ["reproduce", "veegan-table2", "--data-dir", str(tmp_path / "empty"), "--steps", "2", "--out", str(tmp_path / "out"), "--no-progress"])
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert result.output.startswith(f"error: {tmp_path / 'empty'}") and "train-images-idx3-ubyte.gz" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("option, name", [("--steps", "steps"), ("--eval-every", "eval_every"), ("--eval-samples", "eval_samples")])
def test_reproduce_refuses_a_zero_budget_interval_or_sample_count_before_training(tmp_path, option, name):
    """`reproduce --steps 0` once trained the table's whole 8,000-iteration budget (0 read as "not given"): a 0 is
    refused as `train --steps 0` is, exit 2 and one line, before any run folder is made."""
    args = ["reproduce", "veegan-table1", "--seeds", "1", "--rows", "VEEGAN", "--datasets", "ring8", "--steps", "20", option, "0"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out"), "--no-progress"])
    assert result.exit_code == 2 and result.output == f"error: {name}=0: must be a positive integer\n", result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", TABLES.names())
def test_a_tables_data_note_states_the_samples_the_run_scored(name):
    """A note naming the samples scored names the run's count, as the header does: `--eval-samples 500` once printed
    "Samples scored per evaluation: 500" above "...; 2,500 samples scored; ..."."""
    table = TABLES.get(name)
    text = table.data_text(1234)
    assert f"{table.eval_samples:,} samples" not in text and "{" not in text, text
    assert ("1,234 samples" in text) == ("samples scored" in table.data_note or "FID of" in table.data_note)


def test_reproduce_table_header_and_data_note_agree_on_the_samples_scored(tmp_path):
    reproduce("veegan-table1", tmp_path, seeds=1, steps=2, rows=["VEEGAN"], datasets=["ring8"], eval_samples=500)
    md = (tmp_path / "veegan-table1.md").read_text()
    assert "Samples scored per evaluation: 500, not the paper's 2,500." in md and "; 500 samples scored; HQ within 3 std" in md
    assert "2,500 samples" not in md
    assert "; 500 samples scored;" in json.loads((tmp_path / "veegan-table1.json").read_text())["data"]


def test_a_cells_sd_is_undefined_below_two_defined_seeds():
    """sd and s.e. over one defined seed are None in the JSON (the table once printed "± 0.0"), a number from two."""
    from trainers.reproduce import _stats

    assert _stats([2.0]) == {"mean": 2.0, "sd": None, "se": None, "n": 1, "values": [2.0]}
    assert _stats([None, float("nan"), 2.0])["sd"] is None and _stats([None])["mean"] is None
    two = _stats([1.0, 3.0])
    assert two["sd"] == pytest.approx(2 ** 0.5) and two["se"] == pytest.approx(1.0) and two["n"] == 2
