"""Issues 15 and 16's GPU session in one command: a throughput probe, then BMS-VAE-GAN Table 1 (``bms-table1``) at the
paper's 25,000 iterations and the objective family (``mode-collapse-mini-family``) at its 10,000, or at the longest
budget the probe says fits in the time left (stated in ``summary.json`` and the table), every cell's 5 seeds one
grouped model, inside a hard time budget.

    PYTHONPATH=. python3 benchmarks/gpu/issue15_16.py --out $OUT [--budget-s 520] [--resume DIR] [--family-steps N]
    PYTHONPATH=. python benchmarks/gpu/issue15_16.py --dry-run --out /tmp/issue15_16        # CPU, tiny: what the tests run

The one device-tool call (one H200; about 9 minutes of the session's 15, plus the machine's start)::

    run(command="PYTHONPATH=. python3 benchmarks/gpu/issue15_16.py --out $OUT", timeout_s=570)

To go on in a later call, copy the returned ``summary.json``, ``throughput.json`` and ``state.tar.NN`` into a folder
of the checkout that ``.git/info/exclude`` ignores (``echo /.gpu-state/ >> .git/info/exclude``) and call
``run(command="PYTHONPATH=. python3 benchmarks/gpu/issue15_16.py --out $OUT --resume .gpu-state",
carry=[".gpu-state"], timeout_s=570)``: finished runs are kept, killed ones resume from their checkpoints, the probe
is not run again (its ``throughput.json`` is reused), and the family keeps the budget the first call chose (read
from the resumed ``summary.json``, so its runs' folders match). The state holds what fits the device tool's limits
(2 parts of 15 MiB, :func:`issue13.pack`): every finished run, and unfinished cells whole while they fit (5 seeds'
checkpoints: ~4 MiB for GDPP, ~8 MiB for VEEGAN, ~60-70 MiB for the 3 x 512 critics and 3 x 750 latent
discriminators of SN-GAN, WGAN-GP, alpha-GAN and BMS-VAE-GAN); ``summary.json`` names the cells left out, which
restart from step 0.

Parts, each a subprocess killed when its share of ``--budget-s`` is spent (:func:`issue13.run_part`):

1. ``throughput``: ``--probe``, at most ~100 s: every row of both tables, its 5 seeds grouped, through the loop's
   stepper (a CUDA graph where the method is graph-safe; WGAN's and MMD-GAN's critic schedules and MD-GAN's and
   Dist-GAN's learning-rate schedules train eagerly), timed ``--probe-seconds`` each after warm-up on the table's
   first column (:func:`table_probe.probe_table`); ``throughput.json`` gets steps/s per row and each table's
   seconds at its budget;
2. ``bms-table1``: ``python -m trainers.reproduce bms-table1 --steps 25000 --device cuda --group-seeds --jobs 14``
   (one process per cell, 7 rows x 2 mixtures), for at most 1.5 times its estimate (:func:`plan_budgets`);
3. ``mode-collapse-mini-family`` likewise (``--jobs 16``; 18 rows x 2 mixtures) at ``--steps`` from
   :func:`plan_budgets`, with the rest.

The estimates assume the table's cells share the GPU as ``GPU_CONCURRENCY`` processes running at the probe's
single-process speed (an assumption, not a measurement: ``summary.json`` records both the estimate and the wall time,
so a later session can correct it). Written to ``--out``: ``summary.json``, ``log.txt``, ``throughput.json``, each
finished table's ``.md``, ``tables.tar.gz`` (tables, curves, figures, every run's config, environment, metrics and
result) and ``state.tar.NN`` (:func:`issue13.pack`).
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from issue13 import finish, run_part, session_parser, start, table_part  # noqa: E402
from table_probe import add_probe_options, cell_seconds, probe_table, session_header  # noqa: E402

BMS, FAMILY = "bms-table1", "mode-collapse-mini-family"
PAPER_STEPS = {BMS: 25_000, FAMILY: 10_000}  # bms-table1: the paper's budget; the family: the table's default
JOBS = {BMS: 14, FAMILY: 16}  # one process per cell (rows x 2 mixtures), at most the machine's 16 cores
#: Processes of one table assumed to train at full single-process speed side by side on the one GPU (not measured).
GPU_CONCURRENCY = 4
PROBE_LIMIT_S = 100.0
#: The dry run: 2 steps, 1 seed, two rows of each table, 200 samples scored.
DRY = {"steps": 2, "seeds": 1, "eval_samples": 200}
DRY_ROWS = {BMS: ["GDPP", "MD-GAN"], FAMILY: ["GAN", "WGAN-GP"]}


def probe(device: str, seconds: float, dry: bool, record: Path) -> dict[str, Any]:
    """Both tables' rows timed (:func:`table_probe.probe_table`), written to ``record`` as they come."""
    result = session_header(device)
    for name in (BMS, FAMILY):
        probe_table(name, device, seconds, rows=DRY_ROWS[name] if dry else None, seeds=DRY["seeds"] if dry else None,
                    steps=DRY["steps"] if dry else PAPER_STEPS[name], record=record, result=result)
    return result


def table_seconds(rows: dict[str, dict[str, Any]], steps: int, columns: int = 2) -> float:
    """Estimated wall seconds of a table whose rows train at ``rows``' steps/s, ``steps`` iterations per cell, its
    cells spread over :data:`GPU_CONCURRENCY` processes: the longer of the longest cell and the even share."""
    cells = cell_seconds(rows, {f"column {i}": steps for i in range(columns)})
    return max(max(cells.values()), sum(cells.values()) / GPU_CONCURRENCY)


def plan_budgets(throughput: dict[str, Any] | None, seconds_left: float, default_steps: int = PAPER_STEPS[FAMILY],
                 granularity: int = 1000) -> dict[str, Any]:
    """The family's iterations and bms-table1's time limit within ``seconds_left``: bms-table1 keeps the paper's
    25,000 and may take 1.5 times its estimate (at least a minute, at most 60 % of the time left; the family gets
    whatever it leaves); the family's budget is sized to the time left after bms-table1's estimate: ``default_steps``
    when its estimate fits, else the largest multiple of ``granularity`` that does (at least one ``granularity``).
    Without a complete probe: the default steps and half the time each."""
    tables = (throughput or {}).get("tables", {})
    if not all(tables.get(name, {}).get("complete") for name in (BMS, FAMILY)):
        return {"family_steps": default_steps, "bms_limit_s": round(0.5 * seconds_left, 1), "reason": "no complete probe: the family at its default budget"}
    bms_s = table_seconds(tables[BMS]["rows"], tables[BMS]["steps"][tables[BMS]["timed_on"]])
    family_s = table_seconds(tables[FAMILY]["rows"], default_steps)
    rest = seconds_left - min(bms_s, 0.6 * seconds_left)
    fits = family_s <= rest
    steps = default_steps if fits else max(granularity, granularity * math.floor(default_steps * rest / family_s / granularity))
    reason = (f"the family's {default_steps:,} iterations fit (estimated {family_s:.0f} s of {rest:.0f} s)" if fits else
              f"the family's {default_steps:,} iterations need an estimated {family_s:.0f} s, {rest:.0f} s are left: "
              f"{steps:,} iterations, the longest that fits")
    return {"family_steps": steps, "bms_limit_s": round(min(0.6 * seconds_left, max(60.0, 1.5 * bms_s)), 1),
            "estimated_s": {BMS: round(bms_s, 1), FAMILY: round(family_s * steps / default_steps, 1)},
            "gpu_concurrency_assumed": GPU_CONCURRENCY, "reason": reason}


def recorded_steps(resume: Path | None) -> int | None:
    """The family's iterations an earlier call chose (its ``summary.json`` in the ``--resume`` folder), so that a
    rerun trains the same runs; None without one."""
    summary = resume / "summary.json" if resume else None
    if summary is None or not summary.is_file():
        return None
    return json.loads(summary.read_text(encoding="utf-8")).get("budget", {}).get("family_steps")


def main(argv: list[str] | None = None) -> int:
    parser = session_parser(__doc__, 520.0)  # --resume: here a folder holding an earlier call's summary.json as well
    parser.add_argument("--family-steps", type=int, default=None, help="The family's iterations (default: chosen from the probe).")
    add_probe_options(parser, 1.0, "2 steps, 1 seed, 2 rows a table")
    args = parser.parse_args(argv)
    device = "cpu" if args.dry_run else "cuda"
    if args.resume is not None and not args.resume.is_dir():
        print(f"error: --resume {args.resume}: no such folder; pass the folder holding an earlier call's summary.json and state.tar.NN", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    if args.probe:
        probe(device, args.probe_seconds, args.dry_run, args.out / "throughput.json")
        return 0
    session = start("issue15_16-", args.out, args.work, args.budget_s, args.resume)
    work, log, left, python = session.work, session.log, session.left, sys.executable
    measured, earlier_probe = args.out / "throughput.json", args.resume / "throughput.json" if args.resume else None
    if earlier_probe is not None and earlier_probe.is_file():  # the same machine kind: its minute goes to training
        measured.write_text(earlier_probe.read_text(encoding="utf-8"), encoding="utf-8")
        parts = [{"part": "throughput", "status": f"reused {earlier_probe}", "wall_s": 0.0}]
    else:
        me = [python, str(Path(__file__).resolve()), "--out", str(args.out), "--probe-seconds", str(args.probe_seconds)]
        parts = [run_part("throughput", [*me, "--probe", *(["--dry-run"] if args.dry_run else [])], min(PROBE_LIMIT_S, left()), log)]
    throughput = json.loads(measured.read_text(encoding="utf-8")) if measured.is_file() else None
    default_steps, granularity = (DRY["steps"], 1) if args.dry_run else (PAPER_STEPS[FAMILY], 1000)
    budget = plan_budgets(throughput, left(), default_steps, granularity)
    earlier = recorded_steps(args.resume)
    if args.family_steps is not None:
        budget.update(family_steps=args.family_steps, reason=f"--family-steps {args.family_steps}")
    elif earlier is not None:
        budget.update(family_steps=earlier, reason=f"the {earlier:,} iterations of the resumed call")
    print(f"budget: bms-table1 {DRY['steps'] if args.dry_run else PAPER_STEPS[BMS]:,} iterations; family {budget['family_steps']:,} ({budget['reason']})", flush=True)
    for name in (BMS, FAMILY):
        steps = budget["family_steps"] if name == FAMILY else (DRY["steps"] if args.dry_run else PAPER_STEPS[BMS])
        command = [python, "-m", "trainers.reproduce", name, "--device", device, "--out", str(work / name), "--steps", str(steps)]
        if args.dry_run:
            command += ["--seeds", str(DRY["seeds"]), "--eval-samples", str(DRY["eval_samples"]), "--jobs", "1", "--rows", *DRY_ROWS[name]]
        else:
            command += ["--group-seeds", "--jobs", str(JOBS[name])]
        parts.append(table_part(name, command, min(budget["bms_limit_s"], left()) if name == BMS else left(), log, work, args.out))
    finish(parts, work, args.out, session.started, resumed_from_parts=session.resumed, device=device, budget=budget)
    return 0


if __name__ == "__main__":
    sys.exit(main())
