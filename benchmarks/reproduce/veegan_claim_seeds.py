"""VEEGAN against its GAN ablation on ring8 over several seeds: the spread behind the CI claim test.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/reproduce/veegan_claim_seeds.py run --seeds 20 --steps 2000 \
        --eval-every 250 --runs /tmp/claim/short-avx512 --out benchmarks/reproduce/results/veegan-claim-2k-avx512.json
    ATEN_CPU_CAPABILITY=default OMP_NUM_THREADS=1 PYTHONPATH=. python ... run ... --out .../veegan-claim-2k-default.json
    (and --seeds 10 --steps 8000 --eval-every 1000 for the veegan-claim-8k-*.json files)
    (and --seeds 4 --update simultaneous for veegan-claim-2k-simultaneous.json: the reference codes' update order,
    the default since the engine; the others step D before G, --update sequential, which the CI test pins)
    PYTHONPATH=. python benchmarks/reproduce/veegan_claim_seeds.py render benchmarks/reproduce/results/veegan-claim-*.json \
        --out benchmarks/reproduce/results/veegan-claim-seeds.md   # [--ci-steps 1500: the CI test's budget]

``run`` trains VEEGAN and ``--set reconstructor=false`` (VEEGAN's networks without the reconstructor) for each
seed, one torch thread, and writes every evaluation (modes, HQ %, KL at each ``--eval-every`` step) with the
machine's CPU model, torch version, the kernel set torch dispatched to (``ATEN_CPU_CAPABILITY``) and the
command, after every run. Evaluation never changes the trajectory (:mod:`trainers.loop`), so one long run gives
every shorter budget. ``render`` puts such files side by side: per seed and evaluation, VEEGAN's and the GAN's
modes, and per seed their difference averaged over the evaluations (the CI test's statistic).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_eval.io.atomic import save_json, write_with
from trainers.loop import TrainConfig, read_metrics, train

VARIANTS = {"veegan": {}, "gan": {"reconstructor": False}}
CI_EVAL_EVERY = 250  # tests/test_trainers.py's CLAIM_EVAL_EVERY


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    return {
        "cpu": cpu_model(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "ATEN_CPU_CAPABILITY": os.environ.get("ATEN_CPU_CAPABILITY"),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def run(args: argparse.Namespace) -> None:
    torch.set_num_threads(1)
    capability = os.environ.get("ATEN_CPU_CAPABILITY")
    record: dict[str, Any] = {
        "command": " ".join(([f"ATEN_CPU_CAPABILITY={capability}"] if capability else []) + ["python", *sys.argv]),
        "machine": machine(),
        "dataset": "ring8",
        "steps": args.steps,
        "eval_every": args.eval_every,
        "eval_samples": 2500,
        "update": args.update,
        "runs": [],
    }
    for seed in range(args.seeds):
        for name, params in VARIANTS.items():
            config = TrainConfig("veegan", "ring8", seed=seed, steps=args.steps, eval_every=args.eval_every, params={**params, "update": args.update})
            run_dir = Path(args.runs) / f"{name}-s{seed}"
            started = time.perf_counter()
            train(config, run_dir)
            curve = [{k: line[k] for k in ("step", "modes", "hq_percent", "kl")} for line in read_metrics(run_dir)]
            record["runs"].append({"method": name, "seed": seed, "wall_s": round(time.perf_counter() - started, 1), "curve": curve})
            save_json(args.out, record)  # after every run, so a killed job keeps what it measured
            print(f"seed {seed} {name}: {curve[-1]['modes']} modes at {args.steps}", flush=True)


def modes_at(record: dict[str, Any], method: str, step: int) -> dict[int, int]:
    return {r["seed"]: next(c["modes"] for c in r["curve"] if c["step"] == step) for r in record["runs"] if r["method"] == method}


def render(args: argparse.Namespace) -> None:
    records = [json.loads(Path(p).read_text()) for p in args.files]
    lines = [
        "# VEEGAN vs its GAN ablation on ring8, per seed: the spread behind the CI claim test",
        "",
        "Each section is one run of the command shown, on the machine named: CPU model (/proc/cpuinfo), torch, the"
        " kernel set torch dispatched to, threads. Written by `benchmarks/reproduce/veegan_claim_seeds.py render`;"
        " the test is `tests/test_trainers.py::test_veegan_covers_more_ring8_modes_than_the_gan_on_its_networks_over_seeds`.",
        "",
    ]
    for path, rec in zip(args.files, records):
        m = rec["machine"]
        lines += [
            f"## {Path(path).name}: {m['cpu']}, torch {m['torch']}, kernels {m['cpu_capability']}"
            f" (ATEN_CPU_CAPABILITY={m['ATEN_CPU_CAPABILITY'] or 'unset'}), {m['torch_threads']} thread,"
            f" update {rec.get('update', 'sequential')}",  # files from before the update option stepped D first
            "",
            f"`{rec['command']}`",
            "",
            "Modes of 8 covered (2,500 samples) per seed, VEEGAN / GAN (VEEGAN's networks without the reconstructor);"
            " last columns: mean, sd and minimum over seeds of VEEGAN − GAN. Last rows: per seed, VEEGAN − GAN"
            f" averaged over the run's evaluations, and over those of its first {args.ci_steps:,} iterations (the CI test's"
            " statistic: a shorter run is the start of a longer one).",
            "",
        ]
        seeds = sorted({r["seed"] for r in rec["runs"]})
        steps = [c["step"] for c in rec["runs"][0]["curve"]]
        lines.append("| iteration | " + " | ".join(f"s{s}" for s in seeds) + " | mean diff | sd | min diff |")
        lines.append("|" + " --- |" * (len(seeds) + 4))
        for step in steps:
            vee, gan = modes_at(rec, "veegan", step), modes_at(rec, "gan", step)
            common = [s for s in seeds if s in vee and s in gan]
            diff = np.array([vee[s] - gan[s] for s in common])
            cells = [f"{vee[s]} / {gan[s]}" if s in common else "–" for s in seeds]
            lines.append(f"| {step:,} | " + " | ".join(cells) + f" | {diff.mean():+.2f} | {diff.std(ddof=1):.2f} | {diff.min():+d} |")
        # the CI test's statistic: per seed, VEEGAN - GAN averaged over the evaluations of a budget
        budgets = [("average over evaluations", steps)]
        ci_steps = [t for t in steps if t <= args.ci_steps]
        # only a run evaluated on the test's grid gives its statistic; when the run is the test's budget, the row above is it
        if rec["eval_every"] == CI_EVAL_EVERY and ci_steps and ci_steps != steps:
            budgets.append((f"first {args.ci_steps:,} iterations", ci_steps))
        for label, budget in budgets:
            per_seed = np.array([np.mean([modes_at(rec, "veegan", t)[s] - modes_at(rec, "gan", t)[s] for t in budget]) for s in seeds])
            cells = [f"{d:+.2f}" for d in per_seed]
            lines.append(f"| {label} | " + " | ".join(cells)
                         + f" | {per_seed.mean():+.2f} | {per_seed.std(ddof=1):.2f} | {per_seed.min():+.2f} |")
        lines.append("")
    write_with(Path(args.out), lambda tmp: tmp.write_text("\n".join(lines), encoding="utf-8"))
    print(f"wrote {args.out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run")
    p_run.add_argument("--seeds", type=int, default=10)
    p_run.add_argument("--steps", type=int, default=8000)
    p_run.add_argument("--eval-every", type=int, default=1000)
    p_run.add_argument("--update", default="sequential", choices=("sequential", "simultaneous"), help="Update order (the recorded runs: sequential).")
    p_run.add_argument("--runs", required=True, help="Folder for the run directories.")
    p_run.add_argument("--out", required=True, type=Path)
    p_render = sub.add_parser("render")
    p_render.add_argument("files", nargs="+")
    p_render.add_argument("--out", required=True)
    p_render.add_argument("--ci-steps", type=int, default=1500, help="The CI test's budget: a last row averages the evaluations up to it.")
    args = parser.parse_args()
    (run if args.command == "run" else render)(args)


if __name__ == "__main__":
    main()
