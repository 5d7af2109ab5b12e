"""Training throughput in run-steps per second: S seeds trained as one grouped model through the loop's stepper
(:mod:`trainers.stepper`: on CUDA staged inputs, with and without the CUDA graph) against today's path, one
process per run (each an ungrouped, eager run), for GAN, VEEGAN, Unrolled and PacGAN4 (issue 13) and the costliest rows of
``mode-collapse-mini-family`` and ``bms-table1`` (issues 15 and 16) at their paper defaults.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/speed/train_throughput.py --device cpu --seconds 1 --json out.json
    PYTHONPATH=. python benchmarks/speed/train_throughput.py --device cuda --sizes 1,10,100 --datasets ring8,hd1200

A run-step is one training iteration of one run, so S grouped seeds at r steps/s make S x r run-steps/s.
Grouped cells: the loop's own :class:`trainers.loop.Group` and :class:`trainers.stepper.Stepper`, timed by the
wall clock over at least ``--seconds`` after warm-up (on CUDA past the graph's capture and its checked replay),
synchronised at the end. Per-process cells: ``min(S, --jobs)`` worker processes (spawned once, ``--jobs``
default: the CPU count, one torch thread each) each train one ungrouped eager run, start together at a set
time, and their steps/s are summed: what ``reproduce --no-group-seeds --jobs J`` gets from S runs; with
``--jobs 1`` the single run trains in this process. On a machine shared with other work, numbers move with
the load.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import torch

#: The methods of issue 13 with their paper defaults (PacGAN Table 1's PacGAN4 packs 4), then the rows of issues 15 and
#: 16's tables (``mode-collapse-mini-family``, ``bms-table1``) that cost most per step on one CPU thread.
METHODS = {"GAN": ("gan", {}), "VEEGAN": ("veegan", {}), "Unrolled": ("unrolled", {}), "PacGAN4": ("pacgan", {"pack": 4}),
           "WGAN-GP": ("wgan-gp", {}), "BW-GAN": ("bwgan", {}), "SN-GAN": ("sngan", {}), "hinge": ("hinge", {}), "MMD-GAN": ("mmdgan", {}),
           "LSGAN": ("lsgan", {}), "BMS-VAE-GAN": ("bms-vae-gan", {}), "alpha-GAN": ("alpha-gan", {}), "GDPP": ("gdpp", {})}


def _group(method: str, params: dict, dataset: str, device: str, seeds: range):
    from trainers.loop import Group, Run, TrainConfig

    where = tempfile.mkdtemp(prefix="throughput-")
    return Group([Run(TrainConfig(method, dataset, seed=s, params=params, device=device), Path(where) / f"s{s}") for s in seeds])


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed_steps(stepper, group, device: str, seconds: float, warmup: int, start_at: float | None = None) -> tuple[int, float]:
    """(steps, wall seconds) of ``stepper`` over at least ``seconds`` after ``warmup`` steps (and ``start_at``)."""
    for _ in range(warmup):
        stepper.step(group.batch, group.noise())
    _sync(device)
    if start_at is not None:
        time.sleep(max(0.0, start_at - time.time()))
    started, steps = time.perf_counter(), 0
    while time.perf_counter() - started < seconds or steps == 0:
        stepper.step(group.batch, group.noise())
        steps += 1
    _sync(device)
    return steps, time.perf_counter() - started


def grouped_cell(method: str, params: dict, dataset: str, device: str, size: int, seconds: float, graph: bool) -> dict[str, Any]:
    from trainers.stepper import WARMUP_STEPS, Stepper

    group = _group(method, params, dataset, device, range(size))
    stepper = Stepper(group.method, graph=graph)
    warmup = WARMUP_STEPS + 3 if stepper.graph_wanted else 1
    steps, wall = timed_steps(stepper, group, device, seconds, warmup)
    return {"steps": steps, "wall_s": wall, "run_steps_per_s": size * steps / wall, "cuda_graph": stepper.graph_state}


def per_process_run(method: str, params: dict, dataset: str, device: str, seed: int, seconds: float, start_at: float | None) -> dict[str, Any]:
    """One ungrouped eager run (today's worker), timed from ``start_at``; in a worker process or here."""
    from trainers.stepper import Stepper

    torch.set_num_threads(1)
    group = _group(method, params, dataset, device, range(seed, seed + 1))
    late = start_at is not None and time.time() > start_at
    steps, wall = timed_steps(Stepper(group.method, staged=False, graph=False), group, device, seconds, 2, start_at)
    return {"steps": steps, "wall_s": wall, "late": late or (start_at is not None and time.time() - start_at > 1.5 * seconds + 1)}


def _ready(device: str) -> int:
    import trainers.loop  # noqa: F401  (import once per worker before the timed cells)

    if device.startswith("cuda"):
        torch.zeros(1, device=device)  # the worker's CUDA context, before the timed cells

    time.sleep(0.5)
    return os.getpid()


def per_process_cell(pool: ProcessPoolExecutor | None, method: str, params: dict, dataset: str, device: str, size: int, jobs: int, seconds: float) -> dict[str, Any]:
    processes = min(size, jobs)
    if pool is None:
        runs = [per_process_run(method, params, dataset, device, 0, seconds, None)]
    else:
        start_at = time.time() + 0.5 + 0.05 * processes  # workers (imported by _ready) build and warm up first
        futures = [pool.submit(per_process_run, method, params, dataset, device, s, seconds, start_at) for s in range(processes)]
        runs = [f.result() for f in futures]
    rate = sum(r["steps"] / r["wall_s"] for r in runs)
    return {"processes": processes, "run_steps_per_s": rate, "late_starts": sum(bool(r.get("late")) for r in runs)}


def device_label(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    parser.add_argument("--sizes", default="1,10,100", help="Grouped seeds S per cell, comma-separated.")
    parser.add_argument("--seconds", type=float, default=2.0, help="Timed seconds per cell (at least one step).")
    parser.add_argument("--methods", default="GAN,VEEGAN,Unrolled,PacGAN4", help=f"Of {', '.join(METHODS)} (default: issue 13's four).")
    parser.add_argument("--datasets", default="ring8", help="ring8 and/or hd1200 (the 1200-D mixture).")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="Most worker processes of the per-process path.")
    parser.add_argument("--json", type=Path, default=None, help="Write the cells and machine labels here.")
    args = parser.parse_args(argv)
    device = args.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        parser.error(f"--device {device}: no CUDA device here; use --device cpu")
    torch.set_num_threads(1)
    sizes = [int(s) for s in args.sizes.split(",")]
    labels = args.methods.split(",")
    unknown = [m for m in labels if m not in METHODS]
    if unknown:
        parser.error(f"--methods: unknown {', '.join(unknown)}; use {', '.join(METHODS)}")
    graphs = [True, False] if device.startswith("cuda") else [False]
    started = time.perf_counter()
    cells: list[dict[str, Any]] = []
    summary = {
        "device": device,
        "device_name": device_label(device),
        "machine": platform.node(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "torch_threads": torch.get_num_threads(),
        "jobs": args.jobs,
        "seconds_per_cell": args.seconds,
        "cells": cells,
        "complete": False,  # until every cell is measured (the JSON is rewritten after each one)
    }
    pool = None
    if args.jobs > 1:
        import multiprocessing

        pool = ProcessPoolExecutor(max_workers=args.jobs, mp_context=multiprocessing.get_context("spawn"))
        [f.result() for f in [pool.submit(_ready, device) for _ in range(args.jobs)]]
    print(f"{'method':9s} {'dataset':8s} {'S':>4s} {'per-process':>12s} " + " ".join(f"{'grouped' + ('+graph' if g else ''):>14s}" for g in graphs) + "  speed-up  (run-steps/s)", flush=True)
    try:
        for label in labels:
            method, params = METHODS[label]
            for dataset in args.datasets.split(","):
                for size in sizes:
                    base = per_process_cell(pool, method, params, dataset, device, size, args.jobs, args.seconds)
                    grouped = [grouped_cell(method, params, dataset, device, size, args.seconds, g) for g in graphs]
                    best = max(g["run_steps_per_s"] for g in grouped)
                    cell = {"method": label, "dataset": dataset, "size": size, "per_process": base, "grouped": dict(zip(["graph" if g else "eager" for g in graphs], grouped)),
                            "speed_up": best / base["run_steps_per_s"]}
                    cells.append(cell)
                    notes = "; ".join(g["cuda_graph"] for g in grouped if g["cuda_graph"] not in ("off",) and not g["cuda_graph"].startswith("captured"))
                    print(f"{label:9s} {dataset:8s} {size:4d} {base['run_steps_per_s']:12.1f} " + " ".join(f"{g['run_steps_per_s']:14.1f}" for g in grouped)
                          + f"  {cell['speed_up']:7.1f}x" + (f"  ({notes})" if notes else ""), flush=True)
                    summary["wall_s"] = round(time.perf_counter() - started, 1)
                    write_json(args.json, summary)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    summary["wall_s"], summary["complete"] = round(time.perf_counter() - started, 1), True
    print(f"{summary['device_name']} ({device}), torch {torch.__version__}, {summary['cpu_count']} CPUs, per-process path with up to {args.jobs} processes; {summary['wall_s']} s")
    write_json(args.json, summary)
    return summary


def write_json(path: Path | None, summary: dict[str, Any]) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(summary, indent=2))
        tmp.replace(path)


if __name__ == "__main__":
    main()
