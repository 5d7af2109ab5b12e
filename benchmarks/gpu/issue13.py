"""Issue 13's GPU session in one command, inside a hard time budget: everything it writes is under ``--out``.

    PYTHONPATH=. python3 benchmarks/gpu/issue13.py --out $OUT [--budget-s 450] [--resume DIR]
    PYTHONPATH=. python benchmarks/gpu/issue13.py --tiny --out /tmp/issue13     # a few CPU steps (tests)

Through the device tool (one H200): ``run(command="PYTHONPATH=. python3 benchmarks/gpu/issue13.py --out $OUT",
timeout_s=540)``. To resume in a later call, copy the returned ``state.tar.NN`` into a folder of the checkout that
``.git/info/exclude`` ignores (``echo /.gpu-state/ >> .git/info/exclude``), pass ``carry=[".gpu-state"]`` and add
``--resume .gpu-state`` (finished runs are kept, killed ones resume from their last checkpoint).

Parts, each a subprocess in its own process group, killed (SIGTERM, then SIGKILL) when its share of the budget
is spent, so the whole stays under ``--budget-s`` (default 450 s: under 8 minutes with start-up and packing):

0. ``cuda-tests``: ``tests/test_stepper.py``'s CUDA-only test (graph replay = eager CUDA run; unrolled falls back);
1. ``throughput``: ``benchmarks/speed/train_throughput.py --device cuda`` (GAN, VEEGAN, Unrolled, PacGAN4 at S = 1,
   10, 100 against one process per run), at most ~2 minutes;
2. ``veegan-table1`` at the paper budget: ``python -m trainers.reproduce veegan-table1 --steps 100000 --device cuda
   --group-seeds`` (all rows, the paper's 5 seeds; runs checkpoint every 10k steps);
3. ``pacgan-table1`` (``--steps 400000``, 10 seeds) with the time that is left.

Runs train under ``--work`` (default: a temporary folder), since the device tool returns only files at most two
folders below ``$OUT``. Written to ``--out``: ``summary.json`` (each part's status, wall time, command, the
tables' Markdown), ``log.txt`` (every part's output), ``throughput.json``, the tables' ``.md`` when a table
finished, ``tables.tar.gz`` (tables' JSON and figures, every run's config, environment, metrics and result) and
``state.tar.NN`` (parts of at most 15 MiB: what a later call needs to resume the unfinished runs: pass the folder
holding them as ``--resume``; unfinished cells beyond the device tool's limits are left out, and summary.json says
which, :func:`pack`).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PART_BYTES = 15 * 2**20
STATE_PARTS = 2  # the device tool returns at most 8 files: 6 others + 2 parts
PACK_RESERVE_S = 25.0


def run_part(name: str, command: list[str], seconds: float, log: Path) -> dict[str, Any]:
    """Run ``command`` for at most ``seconds``, its output appended to ``log``; kill its whole process group after."""
    started = time.perf_counter()
    record: dict[str, Any] = {"part": name, "command": " ".join(command), "limit_s": round(seconds, 1)}
    if seconds < 5:
        return {**record, "status": "skipped (no time left)", "wall_s": 0.0}
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"\n===== {name}: {' '.join(command)} (limit {seconds:.0f} s)\n")
        out.flush()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", "GAN_EVAL_PROGRESS_INTERVAL": "15"}
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            code = process.wait(timeout=seconds)
            status = "finished" if code == 0 else f"failed (exit {code})"
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            status = f"stopped at its {seconds:.0f} s limit (resumes from its checkpoints)"
        try:  # workers of a process pool left behind by a kill
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return {**record, "status": status, "wall_s": round(time.perf_counter() - started, 1)}


def finished_runs(table_out: Path) -> tuple[int, int]:
    runs = [d for d in (table_out / "runs").glob("*") if d.is_dir()]
    return sum((d / "result.json").is_file() for d in runs), len(runs)


def cell_of(run: Path) -> str:
    """A run's table cell: its folder without the seed (``LABEL-DATASET-HASH``, :func:`trainers.reproduce.run_dir_name`)."""
    return f"{run.parent.parent.name}/{run.name.rsplit('-s', 1)[0]}"


def pack(work: Path, out: Path) -> dict[str, Any]:
    """tables.tar.gz (tables and the runs' small files) and the resumable state in parts under ``out``.

    The state holds every finished run's small files (what the table reads; seed 0's samples for its figure), then
    the unfinished cells (all seeds of a row x dataset: their small files and checkpoints) in order of their folders
    while the state stays within ``STATE_PARTS`` parts; a cell that does not fit is left out whole (it restarts from
    step 0 in the next call) and named under ``left_out``."""
    small = ("config.json", "environment.json", "metrics.jsonl", "result.json")
    with tarfile.open(out / "tables.tar.gz", "w:gz") as tar:
        for path in sorted(work.rglob("*")):
            if path.is_file() and (path.parent.parent.name != "runs" or path.name in small):
                tar.add(path, arcname=str(path.relative_to(work)))
    runs = sorted(work.glob("*/runs/*"))
    unfinished: dict[str, list[Path]] = {}
    for run in runs:
        if not (run / "result.json").is_file():
            unfinished.setdefault(cell_of(run), []).append(run)
    state, limit, left_out = out / "state.tar", STATE_PARTS * PART_BYTES, []
    with tarfile.open(state, "w") as tar:
        for run in runs:
            if cell_of(run) not in unfinished:
                for path in sorted(run.iterdir()):
                    if path.name in small or (path.name == "samples.npz" and run.name.endswith("-s0")):
                        tar.add(path, arcname=str(path.relative_to(work)))
        for cell, cell_runs in unfinished.items():
            files = [p for run in cell_runs for p in sorted(run.iterdir()) if p.name in small or p.name == "checkpoint.pt"]
            size = sum(512 + -(-p.stat().st_size // 512) * 512 for p in files)
            if tar.offset + size + 2 * 10240 > limit:  # headers and blocks, plus the end-of-archive padding
                left_out.append(cell)
                continue
            for path in files:
                tar.add(path, arcname=str(path.relative_to(work)))
    parts = []
    with open(state, "rb") as whole:
        while chunk := whole.read(PART_BYTES):
            part = out / f"state.tar.{len(parts):02d}"
            part.write_bytes(chunk)
            parts.append(part.name)
    size = state.stat().st_size
    state.unlink()
    record: dict[str, Any] = {"state": parts, "state_mib": round(size / 2**20, 1)}
    if left_out:
        record["left_out"] = f"{len(left_out)} unfinished cells over {STATE_PARTS} parts of {PART_BYTES // 2**20} MiB restart next call: {', '.join(left_out)}"
    return record


def table_part(name: str, command: list[str], seconds: float, log: Path, work: Path, out: Path) -> dict[str, Any]:
    """:func:`run_part` of a ``reproduce`` command training under ``work/name``: the record counts the finished
    runs and, when the table was written, holds it (also copied to ``out``)."""
    record = run_part(name, command, seconds, log)
    done, total = finished_runs(work / name)
    record["runs_finished"] = f"{done} of {total}"
    table = work / name / f"{name}.md"
    if record["status"] == "finished" and table.is_file():
        (out / table.name).write_text(table.read_text(encoding="utf-8"), encoding="utf-8")
        record["table"] = table.read_text(encoding="utf-8")
    return record


def finish(parts: list[dict[str, Any]], work: Path, out: Path, started: float, **facts: Any) -> dict[str, Any]:
    """Pack ``work`` into ``out`` (:func:`pack`), write ``out/summary.json`` and print one line per part."""
    summary = {"parts": parts, **facts, "work": str(work), **pack(work, out)}
    summary["wall_s"] = round(time.perf_counter() - started, 1)
    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    for part in parts:
        print(f"{part['part']}: {part['status']}, {part['wall_s']} s" + (f", runs finished {part['runs_finished']}" if "runs_finished" in part else ""))
    print(f"wrote {out}: {', '.join(sorted(p.name for p in out.iterdir()))}; {summary['wall_s']} s")
    return summary


def unpack(resume: Path, work: Path) -> int:
    """Rebuild ``work`` from the ``state.tar.NN`` parts of an earlier call; the number of parts read."""
    parts = sorted(resume.glob("state.tar.*"))
    if not parts:
        return 0
    whole = work / "state.tar"
    with open(whole, "wb") as joined:
        for part in parts:
            joined.write(part.read_bytes())
    with tarfile.open(whole) as tar:
        tar.extractall(work, filter="data")
    whole.unlink()
    return len(parts)


@dataclass
class Session:
    """A GPU session's clock and folders (:func:`start`): ``left()`` is the seconds until its deadline (``budget_s``
    less the packing reserve), ``work`` where runs train, ``log`` every part's output, ``resumed`` the state parts
    unpacked into ``work``."""

    started: float
    deadline: float
    work: Path
    log: Path
    resumed: int

    def left(self) -> float:
        return self.deadline - time.perf_counter()


def start(prefix: str, out: Path, work: Path | None, budget_s: float, resume: Path | None) -> Session:
    """Start the clock, make ``out`` and the work folder (default: a temporary ``prefix...`` one) and unpack
    ``resume``'s state parts into it."""
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    work = work or Path(tempfile.mkdtemp(prefix=prefix))
    work.mkdir(parents=True, exist_ok=True)
    return Session(started, started + budget_s - PACK_RESERVE_S, work, out / "log.txt", unpack(resume, work) if resume else 0)


def session_parser(doc: str, budget_s: float) -> argparse.ArgumentParser:
    """The options every GPU session script takes: ``--out``, ``--work``, ``--budget-s`` and ``--resume``."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=None, help="Where runs train (default: a temporary folder).")
    parser.add_argument("--budget-s", type=float, default=budget_s)
    parser.add_argument("--resume", type=Path, default=None, help="A folder holding state.tar.NN parts of an earlier call.")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = session_parser(__doc__, 450.0)
    parser.add_argument("--tiny", action="store_true", help="A few CPU steps of every part (tests the script).")
    args = parser.parse_args(argv)
    session = start("issue13-", args.out, args.work, args.budget_s, args.resume)
    work, log, left = session.work, session.log, session.left
    python = sys.executable
    reproduce = [python, "-m", "trainers.reproduce"]
    if args.tiny:
        device, probe = "cpu", ["--device", "cpu", "--sizes", "1,2", "--seconds", "0.1", "--jobs", "1", "--methods", "GAN"]
        veegan = ["--steps", "2", "--seeds", "2", "--rows", "VEEGAN", "--jobs", "1"]
        pacgan = ["--steps", "2", "--seeds", "1", "--rows", "PacGAN4", "--jobs", "1"]
    else:
        device, probe = "cuda", ["--device", "cuda", "--sizes", "1,10,100", "--seconds", "1"]
        veegan = ["--steps", "100000", "--jobs", "12"]  # 12 cells of 5 seeds, each one grouped model
        pacgan = ["--steps", "400000", "--jobs", "10"]
    parts = []
    if not args.tiny:
        test = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_stepper.py", "-k", "cuda_graph_replay"]
        parts.append(run_part("cuda-tests", test, min(75.0, left()), log))
    probe_cmd = [python, str(ROOT / "benchmarks" / "speed" / "train_throughput.py"), *probe, "--json", str(args.out / "throughput.json")]
    parts.append(run_part("throughput", probe_cmd, min(130.0, left()), log))
    for name, options, share in (("veegan-table1", veegan, 0.8), ("pacgan-table1", pacgan, 1.0)):
        command = [*reproduce, name, "--device", device, "--group-seeds", "--out", str(work / name), *options]
        parts.append(table_part(name, command, share * left(), log, work, args.out))
    finish(parts, work, args.out, session.started, resumed_from_parts=session.resumed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
