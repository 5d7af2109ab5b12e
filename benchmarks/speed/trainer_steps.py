"""Per-iteration time of every training method on each mixture, on one CPU thread and (if present) CUDA,
and the projected wall time of each ``reproduce`` table with its default budget and ``--jobs``.

    PYTHONPATH=. python benchmarks/speed/trainer_steps.py [--jobs 16] [--steps 30] [--devices cpu,cuda]

Needs only torch, numpy, scipy. CPU time is process time on one thread (what a single-threaded worker of
``reproduce --jobs N`` costs); CUDA time is wall time with synchronisation, one process alone on the GPU.
Projection: sum over runs of steps x ms/step / jobs, and the longest single run (the makespan's floor).
"""
from __future__ import annotations

import argparse
import tempfile
import time

import torch

from trainers.loop import Run, TrainConfig
from trainers.tables import TABLES


def step_ms(method: str, params: dict, dataset: str, device: str, steps: int) -> float:
    run = Run(TrainConfig(method, dataset, params=params, device=device), tempfile.mkdtemp())
    real = lambda n: run.data.batch(n, run.generators["data"]).to(run.device)  # noqa: E731
    for _ in range(5):
        run.method.train_step(real, run.generators["noise"])
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    clock = time.perf_counter if device.startswith("cuda") else time.process_time
    sync()
    start = clock()
    for _ in range(steps):
        run.method.train_step(real, run.generators["noise"])
    sync()
    return 1000 * (clock() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=16)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--devices", default="cpu,cuda")
    args = parser.parse_args()
    torch.set_num_threads(1)
    devices = [d for d in args.devices.split(",") if d == "cpu" or torch.cuda.is_available()]
    cache: dict[tuple, float] = {}
    print(f"{'row':10s} {'dataset':10s} " + " ".join(f"{d + ' ms/step':>14s}" for d in devices))
    for name in TABLES.names():
        table = TABLES.get(name)
        for row in table.rows:
            for column in table.columns:
                key = (row.method, tuple(sorted(row.params.items())), column.dataset)
                if key in cache:
                    continue
                times = [step_ms(row.method, dict(row.params), column.dataset, d, args.steps) for d in devices]
                cache[key] = dict(zip(devices, times))
                print(f"{row.label:10s} {column.dataset:10s} " + " ".join(f"{t:14.2f}" for t in times), flush=True)
    for name in TABLES.names():
        table = TABLES.get(name)
        for d in devices:
            costs = [
                column.steps * cache[(row.method, tuple(sorted(row.params.items())), column.dataset)][d] / 1000
                for row in table.rows
                for column in table.columns
                for _ in range(table.default_seeds)
            ]
            print(f"{name} on {d}: {len(costs)} runs, summed {sum(costs):.0f} s, projected {sum(costs) / args.jobs:.0f} s with --jobs {args.jobs}"
                  f" (longest run {max(costs):.0f} s)")


if __name__ == "__main__":
    main()
