"""``update=sequential`` reproduces the trainers from before the engine bit for bit.

Trains GAN, PacGAN, VEEGAN, VEEGAN's GAN ablation, ALI and Unrolled for 30 steps (seed 3) on ring8 and hd1200
twice: with the code of a git revision from before the engine (checked out into a temporary worktree) and with
this checkout (``update=sequential`` where the method has the option; ALI and Unrolled always took both gradients
from one forward pass, so they run with their defaults), then compares the final networks (``torch.equal``) and
every metrics line. Same machine, same thread count: bit identity is a claim about one device.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/reproduce/sequential_bit_check.py --before 05b5ca1
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

RUNS = [("gan", {}), ("pacgan", {}), ("veegan", {}), ("veegan", {"reconstructor": "False"}), ("ali", {}), ("unrolled", {"batch_size": "64"})]
CHOOSES_ORDER = ("gan", "pacgan", "veegan")

TRAIN = """
import json, sys, torch
from trainers.loop import train, TrainConfig
torch.set_num_threads(1)
out, runs, sequential = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3] == "1"
for dataset in ("ring8", "hd1200"):
    for method, params, name in runs:
        if sequential and method in {choosers}:
            params = dict(params, update="sequential")
        train(TrainConfig(method, dataset, seed=3, steps=30, eval_every=10, eval_samples=100, params=params), f"{{out}}/{{name}}-{{dataset}}")
"""


def train_all(root: Path, out: Path, sequential: bool) -> None:
    runs = [(m, p, m + ("-ablation" if p.get("reconstructor") else "")) for m, p in RUNS]
    code = TRAIN.format(choosers=repr(CHOOSES_ORDER))
    subprocess.run([sys.executable, "-c", code, str(out), json.dumps(runs), "1" if sequential else "0"], cwd=root, check=True, env={"PYTHONPATH": str(root), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})


def compare(before: Path, after: Path) -> list[str]:
    rows = []
    for run in sorted(p.name for p in before.iterdir()):
        a = torch.load(before / run / "checkpoint.pt", weights_only=True)["nets"]
        b = torch.load(after / run / "checkpoint.pt", weights_only=True)["nets"]
        nets = a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        la, lb = ([{k: v for k, v in json.loads(line).items() if k != "elapsed_s"} for line in (d / run / "metrics.jsonl").read_text().splitlines()] for d in (before, after))
        shared = [{k: x[k] for k in x if k in y} for x, y in zip(la, lb)]
        lines = shared == [{k: y[k] for k in x} for x, y in zip(shared, lb)]
        rows.append(f"| {run} | {nets} | {lines} |")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default="05b5ca1", help="A git revision from before the engine.")
    args = parser.parse_args()
    repo = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        subprocess.run(["git", "-C", str(repo), "worktree", "add", "-q", "--detach", str(tmp / "before"), args.before], check=True)
        try:
            train_all(tmp / "before", tmp / "runs-before", sequential=False)
            train_all(repo, tmp / "runs-after", sequential=True)
            rows = compare(tmp / "runs-before", tmp / "runs-after")
        finally:
            subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(tmp / "before")], check=True)
    print(f"| run (30 steps, seed 3) | networks bit-identical to {args.before} | metrics lines equal |\n| --- | --- | --- |")
    print("\n".join(rows))
    return 0 if all(row.endswith("| True | True |") for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
