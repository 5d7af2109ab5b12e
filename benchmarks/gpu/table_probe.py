"""The throughput probe of the GPU session scripts (``issue17.py``, ``issue15_16.py``): how fast each row of a
reproducible table trains, grouped over the table's seeds as ``reproduce --group-seeds`` trains a cell, and what
the whole table costs at its budget.

Each row is timed on the table's first column only (its dataset decides the nets' input size; the 2-D mixtures of
one table cost the same per step), through the loop's own :class:`trainers.loop.Group` and
:class:`trainers.stepper.Stepper` (on CUDA: staged inputs and a CUDA graph where the method is
:attr:`~trainers.methods.base.Method.graph_safe`), for ``seconds`` after warm-up (past the graph's capture and
its checked replay). A table's cost: each cell (row x column) takes ``steps / steps_per_s`` of its row; summed
(``seconds_one_after_another``, one process) and the longest cell (``seconds_cells_in_parallel``, the floor with
one process per cell).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "speed"))


def cell_seconds(rows: dict[str, dict[str, Any]], steps: dict[str, int]) -> dict[str, float]:
    """Seconds of every cell ``ROW @ COLUMN`` at ``steps[COLUMN]`` iterations, at its row's measured steps/s."""
    return {f"{label} @ {column}": n / row["steps_per_s"] for label, row in rows.items() for column, n in steps.items()}


def probe_table(name: str, device: str, seconds: float, *, rows: list[str] | None = None, seeds: int | None = None,
                data_dir: str | None = None, overrides: dict[str, Any] | None = None, steps: int | None = None,
                record: Path | None = None, result: dict[str, Any] | None = None) -> dict[str, Any]:
    """Steps/s of every row of table ``name`` (only ``rows`` when given), its ``seeds`` (default the table's) grouped,
    and the table's seconds at ``steps`` (default each column's budget, a row's own where it has one). With
    ``record``, ``result`` (the session's whole probe) is rewritten there after every row, so a probe killed at its
    time limit leaves what it measured."""
    import torch

    from train_throughput import timed_steps
    from trainers.loop import Group, Run
    from trainers.reproduce import plan
    from trainers.stepper import WARMUP_STEPS, Stepper
    from trainers.tables import TABLES

    torch.set_num_threads(1)
    table = TABLES.get(name).only(rows)
    seeds = table.default_seeds if seeds is None else seeds
    first = table.columns[0]
    jobs = plan(table.only(None, [first.name]), Path(tempfile.mkdtemp(prefix="probe-")), seeds, device=device, data_dir=data_dir, overrides=overrides)
    budget = {c.name: steps or c.steps for c in table.columns}
    entry: dict[str, Any] = {"rows": {}, "timed_on": first.name, "seeds": seeds, "steps": budget,
                             "paper_steps": first.paper_steps or first.steps, "complete": False}
    if result is not None:
        result.setdefault("tables", {})[name] = entry
    for row in table.rows:
        configs = [j.config for j in jobs if j.row == row]
        where = Path(tempfile.mkdtemp(prefix="probe-run-"))
        group = Group([Run(c, where / f"s{c.seed}") for c in configs])
        stepper = Stepper(group.method, graph=None)
        warmup = WARMUP_STEPS + 3 if stepper.graph_wanted else 1
        done, wall = timed_steps(stepper, group, device, seconds, warmup)
        entry["rows"][row.label] = {"seeds": len(configs), "steps_per_s": done / wall, "run_steps_per_s": len(configs) * done / wall,
                                    "cuda_graph": stepper.graph_state}
        print(f"{name} {row.label}: {done / wall:.1f} steps/s for {len(configs)} grouped seeds ({stepper.graph_state})", flush=True)
        own = {c.name: steps or row.steps or c.steps for c in table.columns}
        cells = cell_seconds({row.label: entry["rows"][row.label]}, own)
        entry.setdefault("cells_s", {}).update(cells)
        if record is not None and result is not None:
            record.write_text(json.dumps(result, indent=2), encoding="utf-8")
    entry["seconds_one_after_another"] = sum(entry["cells_s"].values())
    entry["seconds_cells_in_parallel"] = max(entry["cells_s"].values())
    entry["hours_one_after_another"] = entry["seconds_one_after_another"] / 3600
    entry["hours_rows_in_parallel"] = entry["seconds_cells_in_parallel"] / 3600
    entry["complete"] = True
    if record is not None and result is not None:
        record.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return entry


def session_header(device: str) -> dict[str, Any]:
    """The machine facts a probe's JSON starts with."""
    import torch

    from train_throughput import device_label

    return {"device": device, "device_name": device_label(device), "torch": torch.__version__, "cuda": torch.version.cuda, "tables": {}}


def add_probe_options(parser: argparse.ArgumentParser, seconds: float, dry_run: str) -> None:
    """``--probe-seconds``, ``--dry-run`` (``dry_run``: what it runs) and ``--probe`` (part 1 alone) of a session
    script whose first part is this probe."""
    parser.add_argument("--probe-seconds", type=float, default=seconds, help="Timed seconds per row in the probe.")
    parser.add_argument("--dry-run", action="store_true", help=f"The whole plan on the CPU with {dry_run} (tests the script).")
    parser.add_argument("--probe", action="store_true", help="Only the throughput probe, written to OUT/throughput.json (part 1).")
