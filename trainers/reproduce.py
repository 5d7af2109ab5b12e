"""Re-run a paper's table: every method x dataset x seed, then the table beside the paper's numbers.

``reproduce(name, out)`` trains the runs of :mod:`trainers.tables` under ``out/runs/``, in parallel worker
processes when ``jobs > 1``. Each run's folder is ``LABEL-DATASET-HASH-sSEED``, HASH naming its resolved
configuration (:func:`run_dir_name`), so tables sharing an ``out`` never share a run unless its configuration
is the same; a finished run is reused only when its stored configuration equals the one asked, a killed one
resumes from its checkpoint, and a folder holding anything else stops the table before any training. It
writes ``out/NAME.md`` (our mean ± sd over seeds beside the paper's number in every cell), ``out/NAME.json``
(every per-seed value, mean, sd, s.e., the paper's numbers, budgets, wall time), ``out/NAME.png``
(samples of seed 0 for every method and dataset over the modes, like VEEGAN's Fig. 2; per-mode counts for
the 1200-D mixture), ``out/NAME-curves.png`` (each metric against iterations, mean and range over seeds) and, for
IvOM columns, ``out/NAME-nearest-ROW-COLUMN.png`` (seed 0's worst and best held-out images above their nearest
generated images). Image tables read the user's data (``data_dir``) and FID Inception weights (``weights``, else
``$GAN_EVAL_INCEPTION_WEIGHTS``); ``--set EVALUATOR:key=value`` sets an option of a column's evaluator.

Run without the CLI (only torch, numpy, scipy, matplotlib needed)::

    PYTHONPATH=. python -m trainers.reproduce veegan-table1 --seeds 5 --jobs 16 --out $OUT/veegan
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import sys
import textwrap
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from gan_eval.errors import GanEvalError
from gan_eval.io.atomic import save_json, write_with
from gan_eval.options import parse_settings
from gan_eval.progress import Progress, clock_time
from trainers import distributed
from trainers.evaluators import FeatureDistanceEvaluator, IvomEvaluator, KidEvaluator, describe_values
from trainers.host import configure_training_process
from trainers.loop import (StepInfo, TrainConfig, check_method_builds, check_stored_config, evaluated_step, finished_result, read_metrics, resolve,
                           train_seeds)
from trainers.step_cost import STEP_TERMS, image_step_seconds, stacked_mnist_eval_seconds
from trainers.tables import TABLES, Column, Row, Table

# ms per iteration on one core of the development machine (benchmarks/speed/trainer_steps.py), 2-D and
# 1200-D data: used to start the longest runs first and for the rough wall-time estimates printed at the start.
# distgan: 30 iterations of `gan-eval train` on ring8 (evaluation included) on the shared machine, not the benchmark.
# The rows of bms-table1 and mode-collapse-mini-family (gdpp and mdgan re-measured): the benchmark's
# benchmarks/speed/results/trainer-steps-2d-tables.json (8 timed steps, mean of ring8 and grid25, rounded) on the crowded
# development machine (GAN took 27 ms there); WGAN's and MMD-GAN's averaged over their critic schedules (100 critic
# steps for the first 25 iterations and every 500th). The 1200-D figures of all these are not measured (twice the 2-D one).
# lsgan (on ls.py's 2 x 128 tanh nets since they became its 2-D default): 400 iterations of `gan-eval train` on ring8
# beside gan's, the difference of the two wall times scaled to gan's 22 ms.
STEP_MS = {"gan": (22, 45), "ali": (24, 42), "pacgan": (33, 70), "unrolled": (51, 160), "veegan": (10, 46), "mini-gan": (2.5, 2.5),
           "distgan": (180, 360)}
STEP_MS |= {"bms-vae-gan": (620, 1240), "alpha-gan": (110, 220), "wgan-gp": (310, 620), "bwgan": (260, 520), "wgan": (200, 400),
            "sngan": (200, 400), "hinge": (160, 320), "lsgan": (10, 20), "fgan": (40, 80), "mmdgan": (38, 76), "gdpp": (56, 112),
            "mdgan": (12, 24), "wae": (7, 14), "ebgan": (6, 12), "began": (5, 10)}
# Image methods are not in this table: trainers.step_cost counts their step from the nets they build (--set width,
# net, d_scale, pack), calibrated on Stacked MNIST; an image method it does not count has no estimate.
#: ms per iteration assumed, for the order of the runs only, of an image method trainers.step_cost does not count:
#: a DCGAN step at the papers' width 64 (stacked-mnist-cpu-status.md)
UNCOUNTED_IMAGE_STEP_MS = 2500.0
#: Evaluators that take Inception weights (``--weights``).
FEATURE_EVALUATORS = (FeatureDistanceEvaluator.name, KidEvaluator.name)
#: What a run's IvOM evaluator keeps of its last evaluation (:meth:`trainers.evaluators.Evaluator.artefacts`).
IVOM_PAIRS = f"{IvomEvaluator.name}.npz"
#: Seconds between reads of the running runs' progress when they train in worker processes.
POLL_S = 5.0


def step_ms(method: str, high_dim: bool) -> float:
    """ms per iteration of ``method`` on vectors on one core of the development machine (:data:`STEP_MS`)."""
    low, high = STEP_MS.get(method, (30, 90))
    return high if high_dim else low


def run_ms(method: str, params: Mapping[str, Any], shape: tuple[int, ...], dataset: str, done: int, steps: int, eval_every: int,
           eval_samples: int) -> float | None:
    """ms of iterations ``done + 1 .. steps`` on one core of the development machine. Vectors: :data:`STEP_MS` per
    iteration. Images: :func:`trainers.step_cost.image_step_seconds` per iteration for the resolved ``params`` (every
    field) and samples of ``shape``, plus, when ``dataset`` is Stacked MNIST, its evaluations (every ``eval_every``
    and the last step, ``eval_samples`` each: :func:`trainers.step_cost.stacked_mnist_eval_seconds`; other image
    datasets' evaluators are not counted); None for an image method the model does not count."""
    if len(shape) != 3:
        return step_ms(method, shape != (2,)) * (steps - done)
    step_s = image_step_seconds(method, params, shape)
    if step_s is None:
        return None
    evaluations = steps // eval_every - done // eval_every + (steps % eval_every != 0 and done < steps)
    eval_s = stacked_mnist_eval_seconds(method, params, shape, eval_samples) if dataset == "stacked-mnist" else 0.0
    return 1000 * (step_s * (steps - done) + eval_s * evaluations)


def estimate_note(seconds: float, device: str, where: str = "on one CPU core") -> str:
    """How long, roughly, and where the number comes from."""
    if not device.startswith("cpu"):
        return f"no time estimate for {device} (the per-step table is for one CPU core)"
    return f"about {clock_time(seconds)} {where} (per-step costs of the development machine, trainers.step_cost and STEP_MS; rough)"


def budget_text(steps: dict[str, int], paper_steps: dict[str, int | None]) -> str:
    """``ring8: 8,000 iterations (paper: 100,000), ...``."""
    return ", ".join(f"{d}: {s:,} iterations" + (f" (paper: {paper_steps[d]:,})" if paper_steps.get(d) else "") for d, s in steps.items())


@dataclass(frozen=True)
class Job:
    row: Row
    column: Column
    seed: int
    config: TrainConfig
    resolved: dict[str, Any]
    run_dir: Path

    def estimated_ms(self, done: int = 0) -> float | None:
        """ms of the iterations (and Stacked-MNIST evaluations) left after step ``done`` (:func:`run_ms`)."""
        r, data = self.resolved, self.resolved["data"]
        shape = tuple(data["shape"]) if "shape" in data else (data["dim"],)  # images and arrays; the mixtures
        return run_ms(self.config.method, r["params"], shape, data["name"], done, self.config.steps or 0, r["eval_every"], r["eval_samples"])

    def cost(self, done: int = 0) -> float:
        """:meth:`estimated_ms`, or for an image method without one :data:`UNCOUNTED_IMAGE_STEP_MS` per iteration left
        (to start the longest runs first)."""
        estimate = self.estimated_ms(done)
        return UNCOUNTED_IMAGE_STEP_MS * ((self.config.steps or 0) - done) if estimate is None else estimate


def slug(label: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in label.lower()).strip("-")


def run_dir_name(label: str, resolved: dict[str, Any]) -> str:
    """``LABEL-DATASET-HASH-sSEED``: HASH is the first 10 hex digits of the SHA-256 of the resolved configuration
    without its seed (sorted-key JSON), so the seeds of one cell share it, and any change of method,
    hyper-parameter, budget, training set, evaluation, device or reference definition gives another folder.

    The data folder's path is hashed as None (its value for the mixtures, so their folders keep their names): the
    data enter by content (``data.files``, :mod:`trainers.datasets.files`), so the same files under another path
    (typed relative or absolute, moved, mounted elsewhere on another machine of a torchrun launch) resume the
    same runs, and other files at the same path train new ones."""
    cell = {k: v for k, v in resolved.items() if k != "seed"} | {"data_dir": None}
    digest = hashlib.sha256(json.dumps(cell, sort_keys=True).encode()).hexdigest()[:10]
    return f"{slug(label)}-{resolved['dataset']}-{digest}-s{resolved['seed']}"


def evaluator_specs(column: Column, settings: dict[str, Any], weights: str | None) -> tuple[str, ...] | None:
    """The column's evaluator specs with ``settings`` (``--set fid:reference_n=500``: ``EVALUATOR:KEY`` -> value) and
    ``weights`` (``--weights PATH``: the ``weights`` of each of its evaluators that takes Inception features) added; None
    (the dataset's default evaluators) when the column names none and nothing is set. A setting for an evaluator
    the column does not use is a one-line error."""
    specs = list(column.evaluators or ())
    names = [spec.partition(":")[0] for spec in specs]
    added: dict[str, list[str]] = {name: [] for name in names}
    for key, value in settings.items():
        name, _, option = key.partition(":")
        if name not in added:
            scored = f"its evaluators are {', '.join(names)}" if names else "it names no evaluators (the dataset's defaults)"
            raise GanEvalError(f"--set {key}={value}: column {column.name} has no evaluator {name!r}; {scored}")
        added[name].append(f"{option}={value}")
    if weights is not None:
        if "," in weights:
            raise GanEvalError(f"--weights {weights}: a path with a comma cannot go into an evaluator spec; rename or link the file")
        for name in names:
            if name in FEATURE_EVALUATORS:
                added[name].append(f"weights={weights}")
    if not specs:
        return None
    return tuple(spec + (("," if ":" in spec else ":") + ",".join(added[name]) if added[name] else "") for spec, name in zip(specs, names))


def plan(table: Table, out: Path, seeds: int, steps: int | None = None, device: str = "cpu", eval_every: int | None = None, tf32: bool = False,
         data_dir: str | None = None, overrides: dict[str, Any] | None = None, eval_samples: int | None = None, weights: str | None = None) -> list[Job]:
    """Every run of the table, with its configuration, resolved configuration and run directory. A run's
    hyper-parameters are its column's, then its row's, then ``overrides`` (``--set``, the same for every run); an
    override ``EVALUATOR:KEY`` sets an option of the column's evaluator instead, and ``weights`` the Inception
    weights of its FID (:func:`evaluator_specs`). An unregistered method, a data folder without its files, weights
    of another network, a hyper-parameter a row does not take or a ``steps``, ``eval_every`` or ``eval_samples``
    below 1 (None: the table's) is a one-line :class:`GanEvalError` here, before any training."""
    if weights is not None and not any(spec.partition(":")[0] in FEATURE_EVALUATORS for c in table.columns for spec in c.evaluators or ()):
        scored = sorted({spec.partition(":")[0] for c in table.columns for spec in c.evaluators or ()})
        raise GanEvalError(f"--weights {weights}: {table.name} scores no Inception features ({', '.join(scored) or 'its datasets default evaluators'}); drop --weights")
    overrides = overrides or {}
    params = {k: v for k, v in overrides.items() if ":" not in k}
    settings = {k: v for k, v in overrides.items() if ":" in k}
    jobs = []
    for row in table.rows:
        for column in table.columns:
            evaluators = evaluator_specs(column, settings, weights)
            # None is "not given"; a 0 given goes on to resolve's positive check (a refusal, not the default budget)
            n_steps = (row.steps or column.steps) if steps is None else steps
            first = TrainConfig(
                method=row.method,
                dataset=column.dataset,
                seed=0,
                steps=n_steps,
                train_size=column.train_size,
                eval_every=max(1, n_steps // 10) if eval_every is None else eval_every,
                eval_samples=table.eval_samples if eval_samples is None else eval_samples,
                device=device,
                params={**column.params, **row.params, **params},
                data_dir=data_dir,
                evaluators=evaluators,
                tf32=tf32,
            )
            # once per cell: the seeds differ in nothing else (an Inception FID evaluator is built once, not per seed)
            cell, dataset, _ = resolve(first)
            check_method_builds(first, dataset)
            for seed in range(seeds):
                resolved = {**cell, "seed": seed}
                config = dataclasses.replace(first, seed=seed)
                jobs.append(Job(row, column, seed, config, resolved, out / "runs" / run_dir_name(row.label, resolved)))
    return jobs


def run_jobs(
    configs: list[TrainConfig], run_dirs: list[Path], threads: int, callback: Callable[[StepInfo], None] | None = None,
    cuda_graph: bool | None = None, snapshots: tuple[int, ...] = (),
) -> list[dict[str, Any]]:
    """Worker entry point: one run, or the seeds of one cell as one grouped model (:func:`trainers.loop.train_seeds`),
    in a process set up by :func:`trainers.host.configure_training_process` (``threads`` torch threads); ``cuda_graph`` as :func:`trainers.loop.train_seeds` takes it.

    With ``snapshots`` the runs train to each snapshot iteration in turn (a finished run is extended, and a resume
    is bit-identical to an uninterrupted run, so the end point is the one run's) and keep that stage's final
    evaluation samples as ``samples-STEP.npz``; a snapshot already kept is not trained again."""
    configure_training_process(threads)
    distributed.use_local_gpu(configs[0].device)
    final = configs[0].steps or 0
    for stop in sorted(s for s in snapshots if s < final):
        if all(evaluated_step(d) >= stop and snapshot_path(d, stop).exists() for d in run_dirs):
            continue
        train_seeds([dataclasses.replace(c, steps=stop) for c in configs], run_dirs, callback=callback, cuda_graph=cuda_graph)
        for run_dir in run_dirs:
            keep_snapshot(run_dir, stop)
    results = train_seeds(configs, run_dirs, callback=callback, cuda_graph=cuda_graph)
    assert all(r is not None for r in results)
    if final in snapshots:
        for run_dir in run_dirs:
            keep_snapshot(run_dir, final)
    return results  # type: ignore[return-value]


def snapshot_path(run_dir: Path, step: int) -> Path:
    """Where a run keeps its evaluation samples of iteration ``step`` (a table row's ``snapshots``)."""
    return Path(run_dir) / f"samples-{step}.npz"


def kept_snapshots(job: Job) -> tuple[int, ...]:
    """The row's snapshot iterations within the run's budget (``--steps`` may cut it short)."""
    return tuple(s for s in job.row.snapshots if s <= (job.config.steps or 0))


def keep_snapshot(run_dir: Path, step: int) -> None:
    """Copy the run's final ``samples.npz`` (of iteration ``step``) to :func:`snapshot_path`, atomically."""
    import shutil

    write_with(snapshot_path(run_dir, step), lambda tmp: shutil.copyfile(Path(run_dir) / "samples.npz", tmp))


def units_of(pending: list[Job], first: dict[Path, int], group_seeds: bool) -> list[list[Job]]:
    """What one worker trains at a time: each run alone, or with ``group_seeds`` the pending seeds of a cell that
    resume from one step, together (longest first, as ``pending`` is sorted)."""
    if not group_seeds:
        return [[job] for job in pending]
    units: dict[tuple[str, str, int], list[Job]] = {}
    for job in pending:
        units.setdefault((job.row.label, job.column.name, first[job.run_dir]), []).append(job)
    return list(units.values())


@distributed.coordinated("planned", "trained")
def reproduce(
    name: str,
    out: str | Path,
    *,
    seeds: int | None = None,
    jobs: int = 1,
    steps: int | None = None,
    device: str = "cpu",
    threads: int = 1,
    rows: list[str] | None = None,
    datasets: list[str] | None = None,
    group_seeds: bool | None = None,
    cuda_graph: bool | None = None,
    tf32: bool = False,
    data_dir: str | Path | None = None,
    eval_every: int | None = None,
    overrides: dict[str, Any] | None = None,
    eval_samples: int | None = None,
    weights: str | Path | None = None,
    on_done: Callable[[Job, dict[str, Any], int, int], None] | None = None,
    on_start: Callable[[str, int], None] | None = None,
    on_steps: Callable[[int], None] | None = None,
) -> dict[str, Any] | None:
    """Train what is missing, then write and return the table (see the module docstring).

    Under ``torchrun`` every rank plans the whole table, trains the cells (all seeds of a method x dataset)
    :func:`trainers.distributed.cells_for_rank` gives it, and rank 0 writes and returns the table once every
    rank finished; the other ranks return None. ``out`` must be a folder every rank sees (on several machines, a
    shared filesystem); ``jobs`` is the runs in parallel within a rank, ``cuda`` the rank's GPU ``LOCAL_RANK``.

    ``steps`` overrides every column's budget; ``threads`` is torch's thread count per run; ``rows`` restricts
    the table to those rows (e.g. ``["VEEGAN"]``) and ``datasets`` to those columns; ``group_seeds`` trains the seeds of a cell as one grouped model
    (default: on CUDA, where it multiplies throughput; on one CPU core a group runs no faster than its seeds one
    after another, ``benchmarks/speed/train_throughput.py``); ``cuda_graph`` replays each step as a CUDA graph (default:
    on CUDA) and ``tf32`` trains with TF32 matmuls (CUDA only; part of each run's configuration), see
    :mod:`trainers.stepper`. ``data_dir``: the dataset's folder (MNIST's for Stacked MNIST); ``eval_every``:
    iterations between evaluations (default a tenth of the budget); ``overrides``: hyper-parameters set on
    every run (``--set width=8``), and ``eval_samples`` the samples each evaluation scores (default the paper's),
    both stated in the table's header; ``weights``: the FID Inception weights file (else ``$GAN_EVAL_INCEPTION_WEIGHTS``,
    :mod:`gan_eval.features.weights`), identified in the result by its content hash. The console's
    hooks (:class:`ConsoleReport`): ``on_start(line, iterations)`` once, with the budget and a time estimate and
    the iterations left to train; ``on_steps(iterations_done)`` as they go (every step with ``jobs=1``, every
    :data:`POLL_S` seconds from the runs' ``metrics.jsonl`` otherwise); ``on_done(job, result, done, total)``
    as runs finish.
    """
    table = TABLES.get(name).only(rows, datasets)
    seeds = table.default_seeds if seeds is None else seeds
    if seeds <= 0 or jobs <= 0:
        raise GanEvalError(f"--seeds {seeds} / --jobs {jobs}: both must be positive")
    out = Path(out)
    distributed.use_local_gpu(device)  # here for jobs=1 and to fail before planning; run_jobs for the workers
    if weights is not None:
        from gan_eval.features.weights import resolve_inception_weights

        weights = str(resolve_inception_weights(weights))  # a missing file is a line naming --weights, before planning
    all_jobs = plan(table, out, seeds, steps, device, eval_every, tf32=tf32, data_dir=None if data_dir is None else str(data_dir), overrides=overrides,
                    eval_samples=eval_samples, weights=weights)
    for job in all_jobs:  # every clash before any training: a table never stops half-way
        # a row with snapshots trains in stages, so a run stopped during one holds that stage's budget
        check_stored_config(job.run_dir, job.resolved, resumable=("steps",) if job.row.snapshots else ())
    results: dict[Path, dict[str, Any]] = {}
    pending = []
    for job in all_jobs:
        done = finished_result(job.run_dir, job.resolved)
        if done is not None:
            results[job.run_dir] = done
        else:
            pending.append(job)
    pending.sort(key=Job.cost, reverse=True)  # longest first: shortest makespan with a process pool
    first = {job.run_dir: evaluated_step(job.run_dir) for job in pending}  # killed runs resume from there
    # a run already at its budget without a matching result.json (killed after its last checkpoint, or moved)
    # only has its result written: not a run trained here
    trained_here = sum(first[job.run_dir] < job.config.steps for job in pending)
    group = distributed.current()
    if group is not None:
        group.wait("planned")  # every rank read the runs' state (so computes the same shares) before any trains
        pending = rank_share(pending, first, group.rank.rank, group.rank.world)
    if on_start:
        where = f"rank {group.rank.rank} of {group.rank.world}, " if group else ""
        on_start(where + plan_line(table, all_jobs, pending, first, jobs, device, len(all_jobs) - len(pending)), sum(j.config.steps - first[j.run_dir] for j in pending))
    started = time.perf_counter()
    total = len(all_jobs)
    if group_seeds is None:
        group_seeds = device.startswith("cuda")
    units = units_of(pending, first, group_seeds)
    if jobs == 1:
        trained = 0  # iterations of the runs finished so far in this call
        for unit in units:
            start = first[unit[0].run_dir]
            count = None if on_steps is None else (lambda info, base=trained, k=len(unit), s0=start: on_steps(base + k * (info.step - s0)))
            for job, result in zip(unit, run_jobs([j.config for j in unit], [j.run_dir for j in unit], threads, count, cuda_graph, unit[0].row.snapshots)):
                results[job.run_dir] = result
                trained += job.config.steps - start
                if on_done:
                    on_done(job, result, len(results), total)
    elif units:
        import multiprocessing

        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(run_jobs, [j.config for j in unit], [j.run_dir for j in unit], threads, None, cuda_graph, unit[0].row.snapshots): unit for unit in units}
            running = set(futures)
            while running:
                finished, running = wait(running, timeout=POLL_S, return_when=FIRST_COMPLETED)
                for future in finished:
                    for job, result in zip(futures[future], future.result()):
                        results[job.run_dir] = result
                        if on_done:
                            on_done(job, result, len(results), total)
                if on_steps:
                    on_steps(sum((j.config.steps if j.run_dir in results else evaluated_step(j.run_dir)) - first[j.run_dir] for j in pending))
    if group is not None:
        group.wait("trained")
        if group.rank.rank != 0:
            return None
        results = {job.run_dir: result_of(job) for job in all_jobs}
    wall = time.perf_counter() - started
    summary = summarise(
        table, all_jobs, results, seeds=seeds, jobs=jobs, ranks=group.rank.world if group else 1, device=device, wall_s=wall, trained=trained_here,
        overrides=dict(overrides or {}), steps_option=steps,
    )
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "markdown": out / f"{name}.md",
        "json": out / f"{name}.json",
        "figure": out / f"{name}.png",
        "curves": out / f"{name}-curves.png",
    }
    grids = nearest_image_grids(name, all_jobs, out)
    files |= {key: path for key, (_, path) in grids.items()}
    if any(kept_snapshots(job) for job in all_jobs):
        files["snapshots"] = out / f"{name}-snapshots.png"
        summary["snapshots"] = snapshot_coverage(table, all_jobs)
    summary["files"] = {k: str(v) for k, v in files.items()}
    markdown = render_markdown(table, summary) + (render_snapshots(summary) if "snapshots" in summary else "")
    write_with(files["markdown"], lambda tmp: tmp.write_text(markdown, encoding="utf-8"))
    save_json(files["json"], summary)
    plot_table(table, all_jobs, files["figure"])
    plot_table_curves(table, all_jobs, files["curves"])
    for job, path in grids.values():
        plot_nearest_images(job, path)
    if "snapshots" in files:
        plot_snapshots(table, all_jobs, summary["snapshots"], files["snapshots"])
    return summary


def rank_share(pending: list[Job], first: dict[Path, int], rank: int, world: int) -> list[Job]:
    """The pending runs of the cells ``rank`` trains: whole cells (every seed of a method x dataset, so one
    rank holds a cell's runs), balanced over the ranks by the cost of the iterations left after step ``first[run_dir]``
    (:meth:`Job.cost`)."""
    costs: dict[tuple[str, str], float] = {}
    for job in pending:
        cell = (job.row.label, job.column.name)
        costs[cell] = costs.get(cell, 0.0) + job.cost(first[job.run_dir])
    mine = set(distributed.cells_for_rank(costs, rank, world))
    return [job for job in pending if (job.row.label, job.column.name) in mine]


def result_of(job: Job) -> dict[str, Any]:
    """The finished result of a run another rank trained, read from the shared ``out``."""
    result = finished_result(job.run_dir, job.resolved)
    if result is None:
        raise GanEvalError(f"{job.run_dir}: finished on another rank but not here; every rank must write to one --out (a shared filesystem across machines)")
    return result


def plan_line(table: Table, all_jobs: list[Job], pending: list[Job], first: dict[Path, int], jobs: int, device: str, finished: int) -> str:
    """What this call will do and roughly how long it takes: the runs, the budget against the paper's, and the
    makespan of the pending runs' remaining iterations (:meth:`Job.estimated_ms`) scheduled longest first on ``jobs``
    workers, as the process pool runs them (under torchrun: this rank's share)."""
    seeds = len({j.seed for j in all_jobs})
    loads = [0.0] * jobs
    for job in pending:  # already sorted longest first
        loads[loads.index(min(loads))] += job.cost(first[job.run_dir]) / 1000
    steps = {j.column.name: j.config.steps for j in all_jobs}
    # an image method without a counted step: any guess could be 10-100x off
    unmeasured = sorted({j.config.method for j in pending if j.estimated_ms(first[j.run_dir]) is None})
    if unmeasured:
        estimate = f"no time estimate for {', '.join(unmeasured)} on images (trainers.step_cost counts {', '.join(STEP_TERMS)})"
    else:
        estimate = estimate_note(max(loads), device, f"with --jobs {jobs}, one CPU core per run")
    return (
        f"{table.name}: {len(all_jobs)} runs ({_count(len(table.rows), 'method')} x {_count(len(table.columns), 'dataset')} x {_count(seeds, 'seed')}),"
        f" {len(pending)} to train, {finished} already finished;"
        f" {budget_text(steps, {c.name: c.paper_steps for c in table.columns})};"
        f" {estimate}"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


class ConsoleReport:
    """What ``gan-eval reproduce`` and ``python -m trainers.reproduce`` print on stderr: the plan line, progress
    over the iterations left to train (:class:`gan_eval.progress.Progress`), and with ``enabled`` one line per
    finished run. ``callbacks()`` are :func:`reproduce`'s hooks."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.progress: Progress | None = None

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {"on_start": self.start, "on_steps": self.steps, "on_done": self.done}

    def start(self, line: str, iterations: int) -> None:
        print(line, file=sys.stderr, flush=True)
        self.progress = Progress(iterations, "reproduce", enabled=self.enabled and iterations > 0)

    def steps(self, done: int) -> None:
        if self.progress is not None:
            self.progress.update_to(done)

    def done(self, job: Job, result: dict[str, Any], done: int, total: int) -> None:
        if self.enabled and self.progress is not None:
            scores = describe_values(result["values"], result["headline"])
            self.progress.write(f"[{done}/{total}] {job.row.label} {job.column.name} seed {job.seed}: {scores}, {result['elapsed_s']:.0f} s")

    def close(self) -> None:
        if self.progress is not None:
            self.progress.close()


def _stats(values: list[float | None]) -> dict[str, Any]:
    """Mean, sd and s.e. of the defined (finite) per-seed ``values``, and their count ``n``; sd and s.e. are None
    for n < 2 (a spread over one seed is undefined, not 0: the table once read "± 0.0" for one seed)."""
    defined = [float(v) for v in values if v is not None and math.isfinite(v)]
    n = len(defined)
    mean = float(np.mean(defined)) if n else None
    sd = float(np.std(defined, ddof=1)) if n > 1 else None
    se = sd / math.sqrt(n) if sd is not None and n else None
    return {"mean": mean, "sd": sd, "se": se, "n": n, "values": values}


def summarise(table: Table, plan_jobs: list[Job], results: dict[Path, dict[str, Any]], **facts: Any) -> dict[str, Any]:
    """Per cell and metric: our per-seed values, mean, sd, s.e., and the paper's (mean, spread)."""
    cells = []
    for row in table.rows:
        for column in table.columns:
            runs = [results[j.run_dir] for j in plan_jobs if j.row == row and j.column == column]
            paper = table.paper.get((row.label, column.name), {})
            for metric in table.metrics:
                mean, spread = paper.get(metric.key, (None, None))
                cells.append(
                    {
                        "method": row.label,
                        "dataset": column.name,
                        "metric": metric.key,
                        "ours": _stats([r["values"].get(metric.key) for r in runs]),
                        "diverged_at": [r.get("diverged_at") for r in runs],  # per seed: the step, or None
                        "paper": {"mean": mean, "spread": spread},
                    }
                )
    steps_option = facts.get("steps_option")
    steps = {c.name: c.steps if steps_option is None else steps_option for c in table.columns}
    run_s = sum(results[j.run_dir]["elapsed_s"] for j in plan_jobs)
    return {
        "table": table.name,
        "title": table.title,
        "steps": steps,
        "row_steps": {r.label: r.steps for r in table.rows if r.steps and not steps_option},
        "table_steps": {c.name: c.steps for c in table.columns},
        "paper_steps": {c.name: c.paper_steps for c in table.columns},
        "train_size": {c.name: c.train_size for c in table.columns},
        "protocol": protocol(table, plan_jobs),
        "eval_samples": plan_jobs[0].config.eval_samples,
        "paper_eval_samples": table.eval_samples,
        "default_seeds": table.default_seeds,
        "paper_params": table.paper_params,
        "run_s": round(run_s, 1),
        "paper_spread": table.paper_spread,
        "data": table.data_text(plan_jobs[0].config.eval_samples),
        "row_notes": {r.label: r.note for r in table.rows if r.note},
        **facts,
        "cells": cells,
    }


def protocol(table: Table, plan_jobs: list[Job]) -> dict[str, Any]:
    """Per column, how its numbers were made, from its first run's resolved configuration: the data (pool,
    range, files' identity), the evaluators (with the classifier's weights hash), samples scored, budget,
    evaluation interval."""
    first = {}
    for job in plan_jobs:
        first.setdefault(job.column.name, job)
    return {
        name: {
            "data": job.resolved["data"],
            "evaluators": job.resolved["evaluators"],
            "eval_samples": job.resolved["eval_samples"],
            "eval_every": job.resolved["eval_every"],
            "steps": job.resolved["steps"],
            "paper_steps": job.column.paper_steps,
        }
        for name, job in first.items()
    }


def _fmt(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def setting_text(key: str, value: Any, paper_params: dict[str, Any]) -> str:
    """``width=8 (paper: 64)``: a ``--set`` override beside the paper's value where the table knows it."""
    return f"{key}={value}" + (f" (paper: {paper_params[key]})" if key in paper_params else "")


def render_markdown(table: Table, summary: dict[str, Any]) -> str:
    """The table: for every method and dataset our ``mean ± sd`` beside the paper's number."""
    cell = {(c["method"], c["dataset"], c["metric"]): c for c in summary["cells"]}
    names = " / ".join(m.label for m in table.metrics)
    budget = budget_text(summary["steps"], summary["paper_steps"])
    paper_steps = summary["paper_steps"]
    below = any(paper_steps.get(k) and v < paper_steps[k] for k, v in summary["steps"].items())
    overrides = summary.get("overrides") or {}
    lines = [
        f"# {table.title}",
        "",
        f"Cells: {names}. Ours: " + (f"mean ± sd over {summary['seeds']} seeds" if summary["seeds"] > 1 else "the value of 1 seed (no sd)")
        + (f", FEWER than the table's default {summary['default_seeds']}" if summary["seeds"] < summary["default_seeds"] else "")
        + f". Paper: {summary['paper_spread']}.",
        (f"Budget run: {budget}, BELOW the paper's (see trainers/tables.py)." if below else f"Budget: {budget}."),
        *([f"Rows with their own budget: {', '.join(f'{k}: {v:,} iterations' for k, v in summary['row_steps'].items())}."]
          if summary.get("row_steps") else []),
        *([f"Set by --steps {summary['steps_option']:,}, not the table's default ({budget_text(summary['table_steps'], {})})."]
          if summary.get("steps_option") and set(summary["table_steps"].values()) != {summary["steps_option"]} else []),
        f"Samples scored per evaluation: {summary['eval_samples']:,}, "
        + (f"not the paper's {summary['paper_eval_samples']:,}." if summary["eval_samples"] != summary["paper_eval_samples"] else "as the paper's."),
        *([f"Settings of every run (not the paper's): {', '.join(setting_text(k, v, summary['paper_params']) for k, v in overrides.items())}."]
          if overrides else []),
        f"Data: {summary['data']}.",
        *(f"\\*{label} row: {note}." for label, note in summary["row_notes"].items()),
        (f"Wall time: {summary['wall_s']:.0f} s for {summary['trained']} runs trained here with --jobs {summary['jobs']} on {summary['device']}"
         if summary["trained"] else "Every run was finished before this call (it only wrote the table)")
        + f"; summed run time {summary['run_s']:.0f} s.",
        "",
    ]
    header = ["method"]
    for column in table.columns:
        header += [f"{column.name} ours", f"{column.name} paper"]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + " --- |" * len(header))
    for row in table.rows:
        parts = [row.label + ("\\*" if row.label in summary["row_notes"] else "")]
        for column in table.columns:
            ours, paper = [], []
            for m in table.metrics:
                c = cell[(row.label, column.name, m.key)]
                o = c["ours"]
                spread = "" if o["sd"] is None else f" ± {_fmt(o['sd'], m.digits)}"  # none over fewer than 2 seeds
                ours.append(_fmt(o["mean"], m.digits) + spread + (f" ({o['n']} def.)" if o["n"] < summary["seeds"] else ""))
                p = c["paper"]
                paper.append(_fmt(p["mean"], m.digits) + (f" ± {_fmt(p['spread'], m.digits)}" if p["spread"] is not None else ""))
            diverged = sum(at is not None for at in cell[(row.label, column.name, table.metrics[0].key)]["diverged_at"])
            parts += [" / ".join(ours) + (f" ({diverged} diverged)" if diverged else ""), " / ".join(paper)]
        lines.append("| " + " | ".join(parts) + " |")
    return "\n".join(lines) + "\n"


def plot_table(table: Table, jobs: list[Job], path: Path) -> Path:
    """Samples of the seed-0 run of every method (rows) and column: over the modes for mixtures (per-mode counts
    for the 1200-D one), a grid of the first 64 samples for images, titled with the run's headline values."""
    from gan_eval.plotting import new_figure

    first = {(j.row.label, j.column.name): j for j in jobs if j.seed == 0}
    plt, fig, axes = new_figure(len(table.columns), width=3.6, nrows=len(table.rows))
    axes = np.asarray(axes).reshape(len(table.rows), len(table.columns))
    for i, row in enumerate(table.rows):
        for k, column in enumerate(table.columns):
            job = first[(row.label, column.name)]
            samples = np.load(job.run_dir / "samples.npz")["samples"]
            if samples.ndim == 4:
                draw_image_grid(axes[i][k], samples, job, f"{row.label} · {column.name}")
            else:
                draw_mixture(axes[i][k], samples.astype(np.float64), column.dataset, f"{row.label} · {column.dataset}")
    fig.tight_layout()
    write_with(path, lambda tmp: fig.savefig(tmp, dpi=80))
    plt.close(fig)
    return path


def draw_mixture(ax: Any, samples: np.ndarray, dataset: str, title: str) -> None:
    """2-D samples over the mixture's modes, or per-mode counts (1200-D), titled with modes and HQ %."""
    from gan_eval.metrics.modes import mode_coverage
    from gan_eval.plotting import draw_counts, draw_samples
    from gan_eval.references import get_reference

    reference = get_reference(dataset)
    cov = mode_coverage(samples, reference)
    if reference.dim == 2:
        draw_samples(ax, samples, reference, reference.default_threshold_std)
        ax.get_legend().remove()
    else:
        draw_counts(ax, cov.histogram.nearest.numpy(), cov.histogram.hq.numpy())
    ax.set_title(f"{title}\n{cov.modes}/{cov.n_modes} modes, {cov.hq_percent:.1f}% HQ", fontsize=9)


def draw_image_grid(ax: Any, samples: np.ndarray, job: Job, title: str, side: int = 8) -> None:
    """The first ``side``^2 image samples (N x C x H x W in the data's range) tiled, titled with the run's values."""
    low, high = job.resolved["data"]["value_range"]
    tiles = np.clip((samples[: side * side].astype(np.float64) - low) / (high - low), 0, 1)
    n, c, h, w = tiles.shape
    grid = np.ones((side * (h + 1), side * (w + 1), c))
    for t in range(n):
        r, q = divmod(t, side)
        grid[r * (h + 1): r * (h + 1) + h, q * (w + 1): q * (w + 1) + w] = tiles[t].transpose(1, 2, 0)
    ax.imshow(grid[..., 0] if c == 1 else grid, cmap="gray", vmin=0, vmax=1)
    ax.axis("off")
    result = json.loads((job.run_dir / "result.json").read_text(encoding="utf-8"))
    ax.set_title(f"{title}\n{describe_values(result['values'], result['headline'])}", fontsize=9)


def nearest_image_grids(name: str, jobs: list[Job], out: Path) -> dict[str, tuple[Job, Path]]:
    """For every seed-0 run whose IvOM evaluator kept its nearest-image pairs (``ivom.npz``): the figure's key in the
    summary's files (``nearest-ROW-COLUMN``), the run and the figure's path (``NAME-nearest-ROW-COLUMN.png``)."""
    grids = {}
    for job in jobs:
        if job.seed == 0 and (job.run_dir / IVOM_PAIRS).is_file():
            key = f"nearest-{slug(job.row.label)}-{slug(job.column.name)}"
            grids[key] = (job, out / f"{name}-{key}.png")
    return grids


def plot_nearest_images(job: Job, path: Path) -> Path:
    """The run's worst and best held-out images above their nearest generated images, as ``gan-eval score ivom -o``
    draws them (:func:`gan_eval.metrics.ivom.nearest_pairs`), titled with the row and column."""
    from gan_eval.artefacts import ImagePairs
    from gan_eval.plotting import plot_image_pairs

    with np.load(job.run_dir / IVOM_PAIRS) as arrays:
        pairs = ImagePairs.from_arrays(arrays)
    # the metric's one-line title wrapped to the figure's width (about 14 characters per image column)
    title = "\n".join([f"{job.row.label} · {job.column.name} · seed {job.seed} · step {job.config.steps:,}", *textwrap.wrap(pairs.title, 14 * pairs.columns)])
    return plot_image_pairs(pairs.first, pairs.second, pairs.labels, path, title=title, columns=pairs.columns)


def plot_table_curves(table: Table, jobs: list[Job], path: Path) -> Path:
    """Each metric (rows) against iterations for every dataset (columns): one line per method, the mean over
    seeds with the min-max band, to show how far from converged a budget leaves each method."""
    from gan_eval.plotting import new_figure

    plt, fig, axes = new_figure(len(table.columns), width=3.8, nrows=len(table.metrics), height=2.9)
    axes = np.asarray(axes).reshape(len(table.metrics), len(table.columns))
    for k, column in enumerate(table.columns):
        for colour, row in enumerate(table.rows):
            runs = [read_metrics(j.run_dir) for j in jobs if j.row == row and j.column == column]
            steps = [line["step"] for line in runs[0]]
            for i, metric in enumerate(table.metrics):
                values = np.array([[np.nan if line.get(metric.key) is None else line[metric.key] for line in run] for run in runs], dtype=float)
                ax = axes[i][k]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # steps where every seed's KL is undefined
                    mean, low, high = np.nanmean(values, 0), np.nanmin(values, 0), np.nanmax(values, 0)
                ax.plot(steps, mean, marker=".", color=f"C{colour}", label=row.label)
                if len(runs) > 1:
                    ax.fill_between(steps, low, high, color=f"C{colour}", alpha=0.15)
                ax.set_title(f"{column.name} · {metric.label}", fontsize=9)
                ax.set_xlabel("iteration", fontsize=8)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    write_with(path, lambda tmp: fig.savefig(tmp, dpi=80))
    plt.close(fig)
    return path


def snapshot_coverage(table: Table, jobs: list[Job]) -> list[dict[str, Any]]:
    """For every row with snapshots, every snapshot iteration and every seed: the modes covered, the high-quality
    samples of each mode (for the moons: outer, inner) and the share of each mode's support within the HQ tolerance of
    a sample (:mod:`gan_eval.metrics.support_coverage`: for the moons, of each arc's length), from the run's
    ``samples-STEP.npz``."""
    from gan_eval.metrics.modes import mode_coverage
    from gan_eval.metrics.support_coverage import support_coverage
    from gan_eval.references import get_reference

    rows = []
    for job in sorted(jobs, key=lambda j: (table.rows.index(j.row), j.column.dataset, j.seed)):
        reference = get_reference(job.column.dataset)
        for step in kept_snapshots(job):
            samples = np.load(snapshot_path(job.run_dir, step))["samples"].astype(np.float64)
            cov, support = mode_coverage(samples, reference), support_coverage(samples, reference)
            rows.append({"method": job.row.label, "dataset": job.column.dataset, "seed": job.seed, "step": step,
                         "modes": cov.modes, "hq_percent": cov.hq_percent, "hq_per_mode": cov.histogram.hq.tolist(),
                         "support_percent": support.coverage_percent, "support_percent_per_mode": support.per_mode_percent})
    return rows


def render_snapshots(summary: dict[str, Any]) -> str:
    """The snapshot section of the markdown: per row and snapshot, the modes covered by each seed and, per seed, the
    high-quality samples of each mode and the share (%) of each mode's support within the HQ tolerance of a sample."""
    lines = ["", "## Snapshots (the paper's figure iterations)", "",
             "Support covered: the share of each mode's support (for the moons: of each arc's length, outer/inner) within the HQ "
             "tolerance of at least one sample (gan-eval's `support-coverage`); `modes` counts a mode from one HQ sample.", "",
             "| method | dataset | iteration | modes per seed | HQ samples per mode, per seed | support covered % per mode, per seed |",
             "| --- | --- | --- | --- | --- | --- |"]
    cells: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for entry in summary["snapshots"]:
        cells.setdefault((entry["method"], entry["dataset"], entry["step"]), []).append(entry)
    for (method, dataset, step), seeds in cells.items():
        modes = ", ".join(str(e["modes"]) for e in seeds)
        per_mode = "; ".join("/".join(str(c) for c in e["hq_per_mode"]) for e in seeds)
        support = "; ".join("/".join(f"{p:.0f}" for p in e["support_percent_per_mode"]) for e in seeds)
        lines.append(f"| {method} | {dataset} | {step:,} | {modes} | {per_mode} | {support} |")
    return "\n".join(lines) + "\n"


def plot_snapshots(table: Table, jobs: list[Job], entries: list[dict[str, Any]], path: Path) -> Path:
    """The samples of seed 0 at each snapshot iteration: one row of panels per table row and dataset (the layout of
    the mode-collapse mini-project's Figures 1 and 2), titled with their :func:`snapshot_coverage` ``entries``."""
    from gan_eval.plotting import draw_samples, new_figure
    from gan_eval.references import get_reference

    scores = {(e["method"], e["dataset"], e["seed"], e["step"]): e for e in entries}
    panels = [j for j in jobs if j.seed == 0 and kept_snapshots(j)]
    width = max(len(kept_snapshots(j)) for j in panels)
    plt, fig, axes = new_figure(width, width=3.2, nrows=len(panels))
    axes = np.asarray(axes).reshape(len(panels), width)
    for i, job in enumerate(panels):
        reference = get_reference(job.column.dataset)
        for k in range(width):
            ax = axes[i][k]
            if k >= len(kept_snapshots(job)):
                ax.axis("off")
                continue
            step = kept_snapshots(job)[k]
            samples = np.load(snapshot_path(job.run_dir, step))["samples"].astype(np.float64)
            draw_samples(ax, samples, reference, reference.default_threshold_std)
            ax.get_legend().remove()
            e = scores[(job.row.label, job.column.dataset, job.seed, step)]
            per_mode = e["support_percent_per_mode"]
            covered = "/".join(f"{p:.0f}" for p in per_mode) if len(per_mode) <= 4 else f"{e['support_percent']:.0f}"
            ax.set_title(f"{job.row.label} · {step:,} it.\n{e['modes']}/{reference.n_modes} modes, {e['hq_percent']:.1f}% HQ, "
                         f"{covered}% support", fontsize=9)
    fig.tight_layout()
    write_with(path, lambda tmp: fig.savefig(tmp, dpi=80))
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m trainers.reproduce TABLE --out DIR [--seeds N] [--jobs J] [--steps N] [--device D]``, or under
    ``torchrun --nproc-per-node G -m trainers.reproduce ...`` one rank per GPU (and per machine)."""
    parser = argparse.ArgumentParser(prog="python -m trainers.reproduce", description=__doc__.split("\n\n")[0])
    parser.add_argument("table", choices=TABLES.names())
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rows", nargs="+", default=None, help="Only these rows (labels, e.g. VEEGAN).")
    parser.add_argument("--datasets", nargs="+", default=None, help="Only these columns (e.g. ring8 grid25).")
    parser.add_argument("--group-seeds", action=argparse.BooleanOptionalAction, default=None, help="Train a cell's seeds as one grouped model (default: on CUDA).")
    parser.add_argument("--cuda-graph", action=argparse.BooleanOptionalAction, default=None, help="Replay each training step as a CUDA graph (default: on CUDA).")
    parser.add_argument("--tf32", action="store_true", help="TF32 training matmuls on CUDA (other numbers: part of each run's configuration).")
    parser.add_argument("--data-dir", default=None, help="The dataset's folder (Stacked MNIST: the four MNIST files).")
    parser.add_argument("--eval-every", type=int, default=None, help="Iterations between evaluations (default: a tenth of the budget).")
    parser.add_argument("--eval-samples", type=int, default=None, help="Samples each evaluation scores (default: the paper's); stated in the table.")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="A hyper-parameter of every run (e.g. width=8), or an evaluator's option (fid:reference_n=500); stated in the table.")
    parser.add_argument("--weights", default=None, help="FID Inception weights file (default: $GAN_EVAL_INCEPTION_WEIGHTS, then torch hub's cache).")
    args = parser.parse_args(argv)
    report = ConsoleReport(distributed.speaks())
    try:
        summary = reproduce(args.table, args.out, seeds=args.seeds, jobs=args.jobs, steps=args.steps, device=args.device, threads=args.threads, rows=args.rows, datasets=args.datasets, group_seeds=args.group_seeds, cuda_graph=args.cuda_graph, tf32=args.tf32,
                            data_dir=args.data_dir, eval_every=args.eval_every, overrides=parse_settings(args.overrides),
                            eval_samples=args.eval_samples, weights=args.weights, **report.callbacks())
    except GanEvalError as exc:
        if distributed.speaks():  # rank 0 says it once for every rank of a torchrun launch
            print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        report.close()
    if summary is None:  # a rank > 0 of a torchrun launch: rank 0 writes the table
        return 0
    print(Path(summary["files"]["markdown"]).read_text(encoding="utf-8"))
    print("\n".join(f"wrote {p}" for p in summary["files"].values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
