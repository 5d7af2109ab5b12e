"""Old against new: per-step CPU time of training methods with a git revision's ``trainers`` and ``gan_eval`` and with
the working tree's, measured side by side, and whether the two train the same numbers.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/speed/trainer_ab.py --base 048a8db --methods BMS-VAE-GAN,SN-GAN \
        --rounds 3 --json benchmarks/speed/results/NAME.json

The revision is exported with ``git archive`` into a temporary folder. Each measurement is a fresh worker process
(one torch thread, the process set up as the revision's training workers set theirs up) that builds the run from
seed 0, takes ``--warmup`` steps, then times ``--steps`` steps by the process's user + system CPU time (what a
worker of ``reproduce --jobs N`` costs; wall time on a shared machine moves with the load) and reports its minor page
faults and a SHA-256 of every network parameter and optimizer state after the last step. Old and new alternate, in
``--rounds`` rounds, so a change of load hits both; the speed-up of a method is the median over rounds of old / new.
"Same numbers" compares the two hashes: equal hashes mean the same trajectory bit for bit on this machine (the
proof in the tests compares against the un-optimised path; this is the benchmark's own check).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from train_throughput import device_label

ROOT = Path(__file__).resolve().parents[2]
#: Rows of ``mode-collapse-mini-family`` and ``bms-table1`` that cost most per step on one CPU thread, with their defaults.
METHODS = {"BMS-VAE-GAN": ("bms-vae-gan", {}), "MMD-GAN": ("mmdgan", {}), "WGAN-GP": ("wgan-gp", {}), "BW-GAN": ("bwgan", {}),
           "SN-GAN": ("sngan", {}), "hinge": ("hinge", {}), "alpha-GAN": ("alpha-gan", {}), "GDPP": ("gdpp", {}), "WGAN": ("wgan", {})}


def export_revision(revision: str, into: Path) -> Path:
    """``trainers`` and ``gan_eval`` of ``revision`` under ``into`` (``git archive``)."""
    archive = into / "tree.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(ROOT), "archive", revision, "trainers", "gan_eval"], stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "tree", filter="data")
    return into / "tree"


def worker(method: str, params: dict, dataset: str, warmup: int, steps: int) -> dict[str, Any]:
    """One measurement in this process (PYTHONPATH names the tree)."""
    import torch

    try:
        from trainers.host import configure_training_process
    except ImportError:  # a revision before trainers.host: its workers only set the thread count
        configure_training_process = torch.set_num_threads
    from trainers.loop import Group, Run, TrainConfig

    configure_training_process(1)
    group = Group([Run(TrainConfig(method, dataset, params=params), tempfile.mkdtemp(prefix="trainer-ab-"))])
    run = group.runs[0]
    for _ in range(warmup):
        group.method.train_step(group.batch, group.noise())
    before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for _ in range(steps):
        group.method.train_step(group.batch, group.noise())
    after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - started
    digest = hashlib.sha256()
    for tensor in [*run.method.nets.state_dict().values(),
                   *(v for o in run.method.opt.values() for s in o.state.values() for v in s.values() if torch.is_tensor(v))]:
        digest.update(tensor.detach().contiguous().numpy().tobytes())
    return {"user_ms": 1000 * (after.ru_utime - before.ru_utime) / steps, "sys_ms": 1000 * (after.ru_stime - before.ru_stime) / steps,
            "wall_ms": 1000 * wall / steps, "minor_faults": (after.ru_minflt - before.ru_minflt) / steps, "sha256": digest.hexdigest(),
            "torch": torch.__version__}


def measure(tree: Path, method: str, params: dict, dataset: str, warmup: int, steps: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    spec = json.dumps([method, params, dataset, warmup, steps])
    done = subprocess.run([sys.executable, __file__, "--worker", spec], env=env, cwd=tempfile.gettempdir(), capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"error: {method} in {tree}: {done.stderr.strip().splitlines()[-1]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="HEAD", help="The old revision (default HEAD: the working tree's changes against it).")
    parser.add_argument("--methods", default=",".join(METHODS), help=f"Of {', '.join(METHODS)}.")
    parser.add_argument("--dataset", default="ring8")
    parser.add_argument("--warmup", type=int, default=3, help="Untimed steps first (MMD-GAN and WGAN take 100 critic steps in their first 25).")
    parser.add_argument("--steps", type=int, default=10, help="Timed steps per measurement.")
    parser.add_argument("--rounds", type=int, default=3, help="Old-new pairs per method (the order alternates).")
    parser.add_argument("--json", type=Path, default=None, help="Write the measurements here.")
    args = parser.parse_args(argv)
    labels = args.methods.split(",")
    unknown = [m for m in labels if m not in METHODS]
    if unknown:
        parser.error(f"--methods: unknown {', '.join(unknown)}; use {', '.join(METHODS)}")
    revision = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.base], capture_output=True, text=True, check=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "trainers", "gan_eval"], capture_output=True, text=True).stdout.strip())
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    summary: dict[str, Any] = {"base": revision, "new": f"working tree at {head}" + (" with changes" if dirty else ""), "cpu": device_label("cpu"),
                               "cpu_count": os.cpu_count(), "machine": platform.node(), "python": platform.python_version(),
                               "dataset": args.dataset, "warmup": args.warmup, "steps": args.steps, "rounds": args.rounds, "methods": {}}
    with tempfile.TemporaryDirectory(prefix="trainer-ab-") as tmp:
        trees = {"old": export_revision(args.base, Path(tmp)), "new": ROOT}
        print(f"{'method':12s} {'old ms':>8s} {'new ms':>8s} {'speed-up':>9s}  faults old/new  same numbers", flush=True)
        for label in labels:
            method, params = METHODS[label]
            cells: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
            for r in range(args.rounds):
                for side in (("old", "new") if r % 2 == 0 else ("new", "old")):
                    cells[side].append(measure(trees[side], method, params, args.dataset, args.warmup, args.steps))
            cpu = {side: [c["user_ms"] + c["sys_ms"] for c in cells[side]] for side in cells}
            ratios = [o / n for o, n in zip(cpu["old"], cpu["new"])]
            same = len({c["sha256"] for side in cells for c in cells[side]}) == 1
            row = {"method": method, "params": params, "old": cells["old"], "new": cells["new"], "old_cpu_ms": statistics.median(cpu["old"]),
                   "new_cpu_ms": statistics.median(cpu["new"]), "speed_up": statistics.median(ratios), "speed_ups": ratios, "same_numbers": same}
            summary["methods"][label] = row
            summary["torch"] = cells["new"][0]["torch"]
            faults = "/".join(f"{statistics.median(c['minor_faults'] for c in cells[s]):.0f}" for s in ("old", "new"))
            print(f"{label:12s} {row['old_cpu_ms']:8.1f} {row['new_cpu_ms']:8.1f} {row['speed_up']:8.2f}x  {faults:>14s}  {'yes' if same else 'NO'}", flush=True)
            if args.json is not None:
                args.json.parent.mkdir(parents=True, exist_ok=True)
                args.json.write_text(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        print(json.dumps(worker(*json.loads(sys.argv[2]))))
    else:
        main()
