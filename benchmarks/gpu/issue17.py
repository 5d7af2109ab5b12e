"""Issue 17's GPU session in one command: a throughput probe, then VEEGAN Table 2 and PacGAN Table 2 on Stacked MNIST
at the papers' budget (100,000 iterations; 5 and 10 seeds, each cell one grouped model), inside a hard time budget.

    PYTHONPATH=. python3 benchmarks/gpu/issue17.py --out $OUT --data-dir .gpu-data/mnist [--budget-s 480] [--resume DIR]
    PYTHONPATH=. python benchmarks/gpu/issue17.py --dry-run --out /tmp/issue17 --data-dir ../shared/data/mnist   # CPU

MNIST must travel with the working tree: the device tool carries ignored paths only, so copy the four files into a
folder that ``.git/info/exclude`` ignores (``mkdir -p .gpu-data && cp -r ../shared/data/mnist .gpu-data/ && echo
/.gpu-data/ >> .git/info/exclude``) and call ``run(command="PYTHONPATH=. python3 benchmarks/gpu/issue17.py --out $OUT
--data-dir .gpu-data/mnist", carry=[".gpu-data"], timeout_s=560)``. To go on in a later call, put the returned
``state.tar.NN`` in a carried folder and add ``--resume FOLDER``: finished runs are kept, killed ones resume from
their checkpoints where they fit the device tool's limits (a full-width run's checkpoint is ~0.1 GB, so mostly
finished runs' small files carry over; ``summary.json`` names the cells left out, :func:`issue13.pack`).

Parts, each a subprocess killed when its share of ``--budget-s`` is spent (:func:`issue13.run_part`):

1. ``throughput``: ``--probe``, about a minute: every method of both tables (DCGAN, ALI, Unrolled, VEEGAN, PacDCGAN2-4
   on their table's nets), grouped over its table's seeds through the loop's stepper, timed for ``--probe-seconds``
   each after warm-up; ``throughput.json`` gets run-steps/s and the hours each table needs at the paper's budget;
2. ``veegan-table2``: ``python -m trainers.reproduce veegan-table2 --device cuda --group-seeds --jobs 4`` (one process
   per method, each training its 5 seeds as one model), with half the time left;
3. ``pacgan-table2`` likewise (10 seeds) with the rest.

``--dry-run`` runs the same plan on the CPU with tiny nets, 2 steps, 1 seed, a few rows and 200 scored samples: what the
tests run. Written to ``--out``: ``summary.json``, ``log.txt``, ``throughput.json``, each finished table's ``.md``,
``tables.tar.gz`` and ``state.tar.NN`` (as ``issue13.py``).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from issue13 import ROOT, finish, run_part, session_parser, start, table_part  # noqa: E402
from table_probe import add_probe_options, probe_table, session_header  # noqa: E402

TABLES = ("veegan-table2", "pacgan-table2")
DEFAULT_MNIST = next((p for p in (ROOT.parent / "shared/data/mnist", ROOT / "shared/data/mnist", ROOT / ".gpu-data/mnist") if p.is_dir()),
                     ROOT / ".gpu-data/mnist")
#: The dry run: tiny nets, 2 steps, 1 seed, two rows of VEEGAN Table 2 and one of PacGAN Table 2, 200 samples scored.
DRY = {"steps": "2", "seeds": "1", "eval-samples": "200", "set": ["width=4", "batch_size=16"]}
DRY_ROWS = {"veegan-table2": ["DCGAN", "VEEGAN"], "pacgan-table2": ["PacDCGAN2"]}


def probe(device: str, data_dir: Path, seconds: float, dry: bool, record: Path) -> dict[str, Any]:
    """Run-steps/s of every row of both tables, grouped over the table's seeds, and each table's hours at the
    paper's budget (:func:`table_probe.probe_table`), written to ``record`` as they come."""
    result = session_header(device)
    for name in TABLES:
        probe_table(name, device, seconds, rows=DRY_ROWS[name] if dry else None, seeds=1 if dry else None, data_dir=str(data_dir),
                    overrides=dict(s.split("=") for s in DRY["set"]) if dry else None, record=record, result=result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = session_parser(__doc__, 480.0)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_MNIST, help="The four MNIST files.")
    add_probe_options(parser, 5.0, "tiny nets and steps")
    args = parser.parse_args(argv)
    device = "cpu" if args.dry_run else "cuda"
    from gan_eval.errors import GanEvalError
    from trainers.datasets.mnist import mnist_files

    try:
        mnist_files(args.data_dir)  # before any part: the four MNIST files, else one line naming them
    except GanEvalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    if args.probe:
        probe(device, args.data_dir, args.probe_seconds, args.dry_run, args.out / "throughput.json")
        return 0
    session = start("issue17-", args.out, args.work, args.budget_s, args.resume)
    work, log, left, python = session.work, session.log, session.left, sys.executable
    me = [python, str(Path(__file__).resolve()), "--out", str(args.out), "--data-dir", str(args.data_dir), "--probe-seconds", str(args.probe_seconds)]
    parts = [run_part("throughput", [*me, "--probe", *(["--dry-run"] if args.dry_run else [])], min(90.0, left()), log)]
    for name, share in (("veegan-table2", 0.5), ("pacgan-table2", 1.0)):
        command = [python, "-m", "trainers.reproduce", name, "--device", device, "--data-dir", str(args.data_dir), "--out", str(work / name)]
        if args.dry_run:
            command += ["--steps", DRY["steps"], "--seeds", DRY["seeds"], "--eval-samples", DRY["eval-samples"], "--jobs", "1",
                        "--rows", *DRY_ROWS[name], *(a for s in DRY["set"] for a in ("--set", s))]
        else:
            command += ["--group-seeds", "--jobs", "4"]  # one process per row (4 rows), each row's seeds one grouped model
        parts.append(table_part(name, command, share * left(), log, work, args.out))
    finish(parts, work, args.out, session.started, resumed_from_parts=session.resumed, device=device)
    return 0

if __name__ == "__main__":
    sys.exit(main())
