"""Where a table's runs stand while it trains: each run folder's last evaluation (a Markdown table).

    PYTHONPATH=. python benchmarks/reproduce/runs_status.py /work/runs/veegan-100k/runs --keys modes hq_percent kl

For runs that outlast a sitting (``reproduce`` writes the table itself only once every run finished): the same
``metrics.jsonl`` lines ``reproduce`` will summarise, per run, with the step each one reached, and whether it is
finished, being trained now (by which process: :func:`trainers.run_lock.training_pid`) or waiting to be resumed.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from trainers.loop import evaluated_step, read_metrics
from trainers.run_lock import training_pid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", type=Path, help="A folder of run folders (reproduce's OUT/runs).")
    parser.add_argument("--keys", nargs="+", default=["modes", "hq_percent", "kl"])
    args = parser.parse_args()
    print("| run | step | steps asked | " + " | ".join(args.keys) + " | finished |")
    print("|" + " --- |" * (len(args.keys) + 4))
    for run in sorted(p for p in args.runs.iterdir() if p.is_dir()):
        asked = json.loads((run / "config.json").read_text())["steps"]
        pid = training_pid(run)
        state = f"training (pid {pid})" if pid is not None else "yes" if (run / "result.json").exists() else "no"
        if not evaluated_step(run):
            print(f"| {run.name} | 0 | {asked:,} | " + " | ".join("–" for _ in args.keys) + f" | {state} |")
            continue
        line = read_metrics(run)[-1]
        values = " | ".join("–" if line.get(k) is None else (f"{line[k]:.3g}" if isinstance(line[k], float) else str(line[k])) for k in args.keys)
        print(f"| {run.name} | {line['step']:,} | {asked:,} | {values} | {state} |")


if __name__ == "__main__":
    main()
