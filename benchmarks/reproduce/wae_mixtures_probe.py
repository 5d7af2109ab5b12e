"""Which WAE setting gives the BMS-VAE-GAN paper's WAE row on the 2-D mixtures (Table 1: 25 modes / 65.4 % HQ on
grid25, 8 / 35.8 % on ring8; the paper states no WAE settings)?

    OMP_NUM_THREADS=1 PYTHONPATH=. nice -n 10 python benchmarks/reproduce/wae_mixtures_probe.py run --steps 5000 \
        --seeds 0 1 2 --runs /tmp/wae-probe --out benchmarks/reproduce/results/wae-mixtures-probe.json
    PYTHONPATH=. python benchmarks/reproduce/wae_mixtures_probe.py render \
        benchmarks/reproduce/results/wae-mixtures-probe.json --out benchmarks/reproduce/results/wae-mixtures-probe.md

``run`` trains WAE for every setting of :data:`SETTINGS` (``--only NAME`` for some) on each dataset, the seeds
grouped as one model (:func:`trainers.loop.train_seeds`), one torch thread, and keeps the last evaluation (modes and
HQ % of 2,500 samples, within 3 std) of every seed, with the machine, torch version and command; the JSON is
rewritten after every setting, and a setting already in it is not trained again (``--again`` to redo), so a killed
run resumes. ``render`` writes the table: per setting and dataset, mean +- sd over the seeds.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.reproduce.veegan_claim_seeds import machine
from gan_eval.io.atomic import save_json, write_with
from trainers.loop import TrainConfig, train_seeds

#: name -> (WAE hyper-parameters over its defaults, what the setting tests). The defaults are tolstikhin/wae's
#: MNIST config (trainers/methods/wae.py): deterministic encoder, 0.05 x squared error, lambda 10, MMD-IMQ, 32-D
#: latent (the BMS paper's on 2-D data), batch 100.
SETTINGS: dict[str, tuple[dict[str, Any], str]] = {
    "default": ({}, "tolstikhin/wae MNIST config, deterministic encoder"),
    "add_noise": ({"encoder_noise": "add_noise"}, "the MNIST config's e_noise: sd-0.01 noise on E's input"),
    "gaussian": ({"encoder_noise": "gaussian"}, "Gaussian encoder (e_noise='gaussian')"),
    "gaussian-rec1": ({"encoder_noise": "gaussian", "reconstruction_weight": 1.0}, "Gaussian encoder, cost weight 1 (cost : lambda = 1 : 10)"),
    "gaussian-rec1-lambda1": ({"encoder_noise": "gaussian", "reconstruction_weight": 1.0, "latent_weight": 1.0}, "Gaussian encoder, cost : lambda = 1 : 1"),
    "gaussian-rec1-lambda0.1": ({"encoder_noise": "gaussian", "reconstruction_weight": 1.0, "latent_weight": 0.1}, "Gaussian encoder, cost : lambda = 10 : 1"),
    "rec1-lambda1": ({"reconstruction_weight": 1.0, "latent_weight": 1.0}, "deterministic, cost : lambda = 1 : 1"),
    "gaussian-z2": ({"encoder_noise": "gaussian", "latent_dim": 2}, "Gaussian encoder, 2-D latent"),
    "gaussian-z2-rec1": ({"encoder_noise": "gaussian", "latent_dim": 2, "reconstruction_weight": 1.0}, "Gaussian encoder, 2-D latent, cost : lambda = 1 : 10"),
    "gaussian-z2-rec0.25": ({"encoder_noise": "gaussian", "latent_dim": 2, "reconstruction_weight": 0.25}, "Gaussian encoder, 2-D latent, cost : lambda = 1 : 40"),
    "gaussian-z2-rec1-lambda1": ({"encoder_noise": "gaussian", "latent_dim": 2, "reconstruction_weight": 1.0, "latent_weight": 1.0}, "Gaussian encoder, 2-D latent, cost : lambda = 1 : 1"),
    "z2": ({"latent_dim": 2}, "deterministic, 2-D latent"),
    "gan": ({"penalty": "gan"}, "WAE-GAN (latent adversary), deterministic"),
    "gan-gaussian": ({"penalty": "gan", "encoder_noise": "gaussian"}, "WAE-GAN, Gaussian encoder"),
    "gaussian-batch500": ({"encoder_noise": "gaussian", "batch_size": 500}, "Gaussian encoder, batch 500"),
}


def run(args: argparse.Namespace) -> None:
    torch.set_num_threads(1)
    out = Path(args.out)
    record: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    record.update(machine=machine(), steps=args.steps, seeds=args.seeds, eval_samples=2500, settings=record.get("settings", {}))
    record.setdefault("commands", []).append(" ".join(["python", *sys.argv]))
    record.setdefault("started", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    for name in args.only or list(SETTINGS):
        params, what = SETTINGS[name]
        if name in record["settings"] and not args.again:
            continue
        entry: dict[str, Any] = {"params": params, "what": what, "datasets": {}}
        for dataset in args.datasets:
            configs = [TrainConfig("wae", dataset, seed=s, steps=args.steps, eval_every=args.steps, params=params) for s in args.seeds]
            dirs = [Path(args.runs) / f"{name}-{dataset}-s{s}" for s in args.seeds]
            started = time.perf_counter()
            finals = [r["values"] for r in train_seeds(configs, dirs) if r is not None]
            entry["datasets"][dataset] = {
                "wall_s": round(time.perf_counter() - started, 1),
                "seeds": [{"seed": s, "modes": v["modes"], "hq_percent": v["hq_percent"]} for s, v in zip(args.seeds, finals)],
            }
            print(f"{name} {dataset}: {render_cell(entry['datasets'][dataset])} ({entry['datasets'][dataset]['wall_s']} s)", flush=True)
        record["settings"][name] = entry
        save_json(out, record)  # after every setting, so a killed run keeps what it measured


def mean_sd(values: list[float]) -> str:
    a = np.asarray(values, dtype=float)
    return f"{a.mean():.1f} ± {a.std(ddof=1) if a.size > 1 else 0.0:.1f}"


def render_cell(cell: dict[str, Any]) -> str:
    seeds = cell["seeds"]
    return f"{mean_sd([s['modes'] for s in seeds])} / {mean_sd([s['hq_percent'] for s in seeds])}"


def render(args: argparse.Namespace) -> None:
    records = [json.loads(Path(p).read_text()) for p in args.files]
    setups = {json.dumps([r["machine"], r["steps"], r["seeds"]], sort_keys=True) for r in records}
    if len(setups) > 1:
        sys.exit(f"error: {', '.join(args.files)} differ in machine, torch, budget or seeds; render them apart")
    m, first = records[0]["machine"], records[0]
    lines = [
        "# WAE on the 2-D mixtures: which setting gives the BMS-VAE-GAN paper's WAE row",
        "",
        f"Machine: {m['cpu']} ({m['cpu_capability']}), torch {m['torch']}, {m['torch_threads']} thread per run, Python {m['python']}; "
        "2 shared cores, niced beside other work.",
        f"Date: {min(r['started'] for r in records)}. Budget: {first['steps']:,} iterations, seeds {', '.join(map(str, first['seeds']))} "
        f"(grouped per setting); the last evaluation of {first['eval_samples']:,} samples, HQ within 3 std.",
        "Commands: " + "; ".join(f"`{c}`" for r in records for c in r["commands"]) + f"; `python {' '.join(sys.argv)}`",
        "",
    ]
    datasets = sorted({d for r in records for e in r["settings"].values() for d in e["datasets"]}, key=["grid25", "ring8"].index)
    lines += [
        "Cells: modes / HQ %, mean ± sd over the seeds. Paper (Table 1, settings not stated): grid25 25 / 65.4 ± 3.8, "
        "ring8 8 / 35.8 ± 4.7. Every setting is WAE's defaults (tolstikhin/wae's MNIST config; `trainers/methods/wae.py`) "
        "with the overrides shown.",
        "",
        "| setting | overrides | " + " | ".join(datasets) + " |",
        "| --- | --- | " + " | ".join("---" for _ in datasets) + " |",
    ]
    for record in records:
        for name, entry in record["settings"].items():
            overrides = ", ".join(f"{k}={v}" for k, v in entry["params"].items()) or "(none)"
            cells = [render_cell(entry["datasets"][d]) if d in entry["datasets"] else "" for d in datasets]
            lines.append(f"| {name} | {overrides} | " + " | ".join(cells) + " |")
    write_with(args.out, lambda path: Path(path).write_text("\n".join(lines) + "\n"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="train every setting, seeds grouped; write the JSON")
    r.add_argument("--steps", type=int, default=5000)
    r.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    r.add_argument("--datasets", nargs="+", default=["grid25", "ring8"])
    r.add_argument("--only", nargs="+", choices=list(SETTINGS))
    r.add_argument("--again", action="store_true", help="retrain settings already in the JSON")
    r.add_argument("--runs", required=True, help="run folders (outside the repository)")
    r.add_argument("--out", required=True)
    r.set_defaults(func=run)
    w = sub.add_parser("render", help="the markdown table of one or more JSON files")
    w.add_argument("files", nargs="+")
    w.add_argument("--out", required=True)
    w.set_defaults(func=render)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
