"""Per-iteration time of every training method on each mixture, on one CPU thread and (if present) CUDA,
and the projected wall time of each ``reproduce`` table with its default budget and ``--jobs``.

    PYTHONPATH=. python benchmarks/speed/trainer_steps.py [--jobs 16] [--steps 30] [--devices cpu,cuda] \
        [--tables bms-table1,mode-collapse-mini-family] [--json benchmarks/speed/results/NAME.json]

Needs only torch, numpy, scipy. CPU time is process time on one thread (what a single-threaded worker of
``reproduce --jobs N`` costs); CUDA time is wall time with synchronisation, one process alone on the GPU.
Projection: sum over runs of steps x ms/step / jobs, and the longest single run (the makespan's floor).

A method whose critic steps per iteration follow a schedule (WGAN's and MMD-GAN's 100 critic steps for the first 25
G iterations and every 500th, 5 otherwise) is timed past its boosted start, and its ms/step is that time scaled by
the run's mean critic steps per iteration over the steady count (10,000 iterations: 5.43 / 5): timing the first
iterations, which take 100 critic steps each, overstates a whole run ~12x.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Callable

import torch

from train_throughput import device_label
from trainers.host import configure_training_process
from trainers.loop import Run, TrainConfig
from trainers.methods.base import Method
from trainers.methods.critic import boosted_critic_steps
from trainers.tables import TABLES


def critic_schedule(method: Method) -> tuple[Callable[[int], int], int] | None:
    """``(critic steps of G iteration g, the first g of the steady count)`` for a method with a boosted critic
    schedule (WGAN's ``n_critic_boost``, MMD-GAN's ``warmup_critic_iters``), else None."""
    p = method.params
    if getattr(p, "n_critic_boost", 0):
        return (lambda g: boosted_critic_steps(g, p.n_critic, p.n_critic_boost, p.boost_first, p.boost_every)), p.boost_first
    if hasattr(p, "warmup_critic_iters"):
        return (lambda g: boosted_critic_steps(g, p.critic_iters, p.warmup_critic_iters, p.warmup_g_iters, p.slow_every)), p.warmup_g_iters
    return None


def step_ms(method: str, params: dict, dataset: str, device: str, steps: int, run_steps: int | None = None) -> float:
    """ms per iteration, averaged over a run of ``run_steps`` iterations (default the method's budget) where the
    critic schedule makes iterations differ (module docstring)."""
    run = Run(TrainConfig(method, dataset, params=params, device=device), tempfile.mkdtemp())
    real = lambda n: run.data.batch(n, run.generators["data"]).to(run.device)  # noqa: E731
    schedule = critic_schedule(run.method)
    scale = 1.0
    if schedule is not None:
        critic, steady = schedule
        counters = run.method.extra_state()  # the G-iteration counter, moved past the boosted start
        run.method.load_extra_state({k: torch.full_like(v, steady) for k, v in counters.items()})
        total = run_steps or run.method.default_steps
        scale = sum(critic(g) for g in range(total)) / total / critic(steady)
    for _ in range(5):
        run.method.train_step(real, run.generators["noise"])
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    clock = time.perf_counter if device.startswith("cuda") else time.process_time
    sync()
    start = clock()
    for _ in range(steps):
        run.method.train_step(real, run.generators["noise"])
    sync()
    return scale * 1000 * (clock() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=16)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--devices", default="cpu,cuda")
    parser.add_argument("--tables", default=",".join(TABLES.names()), help="The reproduce tables to time (default all).")
    parser.add_argument("--json", type=Path, default=None, help="Write ms/step per row and dataset, and the projections, here.")
    args = parser.parse_args()
    names = args.tables.split(",")
    for name in names:
        TABLES.get(name)  # an unknown table is the registry's one-line error
    configure_training_process(1)
    devices = [d for d in args.devices.split(",") if d == "cpu" or torch.cuda.is_available()]
    cache: dict[tuple, float] = {}
    print(f"{'row':10s} {'dataset':10s} " + " ".join(f"{d + ' ms/step':>14s}" for d in devices))
    rows: list[dict] = []
    projections: list[str] = []
    for name in names:
        table = TABLES.get(name)
        for row in table.rows:
            for column in table.columns:
                key = (row.method, tuple(sorted(row.params.items())), column.dataset)
                if key in cache:
                    continue
                times = [step_ms(row.method, dict(row.params), column.dataset, d, args.steps, row.steps or column.steps) for d in devices]
                cache[key] = dict(zip(devices, times))
                rows.append({"row": row.label, "method": row.method, "params": dict(row.params), "dataset": column.dataset, "ms_per_step": cache[key]})
                print(f"{row.label:10s} {column.dataset:10s} " + " ".join(f"{t:14.2f}" for t in times), flush=True)
    for name in names:
        table = TABLES.get(name)
        for d in devices:
            costs = [
                column.steps * cache[(row.method, tuple(sorted(row.params.items())), column.dataset)][d] / 1000
                for row in table.rows
                for column in table.columns
                for _ in range(table.default_seeds)
            ]
            projections.append(f"{name} on {d}: {len(costs)} runs, summed {sum(costs):.0f} s, projected {sum(costs) / args.jobs:.0f} s with --jobs {args.jobs}"
                               f" (longest run {max(costs):.0f} s)")
            print(projections[-1])
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"cpu": device_label("cpu"), "machine": platform.node(), "cpu_count": os.cpu_count(), "torch": torch.__version__,
                                         "timed_steps": args.steps, "rows": rows, "projections": projections}, indent=2))


if __name__ == "__main__":
    main()
