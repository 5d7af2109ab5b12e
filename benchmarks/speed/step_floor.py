"""How far a training step is from its matmul floor on one CPU thread: the step's matrix products (every ``mm``,
``addmm``, ``bmm`` the step runs, forward, backward and double backward, recorded with their shapes and strides by a
dispatch mode), their FLOPs, the same products replayed alone on random data, and the whole step, all in process CPU
time.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/speed/step_floor.py --methods bms-vae-gan,sngan --json out.json

``matmul share`` = replayed products / step: what is left (elementwise kernels, autograd and Python) is the most any
change that keeps the products could save. The products are the step's minimum where each loss's gradient is taken
alone (separate ``autograd.grad`` calls, as the methods' simultaneous updates need), so a step with a share near 1
is at its floor for these kernels; ``GFLOP/s`` is what the machine's sgemm gives at these shapes.
"""
from __future__ import annotations

import argparse
import collections
import json
import math
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from train_throughput import device_label
from trainers.host import configure_training_process
from trainers.loop import Group, Run, TrainConfig

PRODUCTS = ("mm", "addmm", "bmm", "baddbmm")
DEFAULT_METHODS = "bms-vae-gan,wgan-gp,bwgan,sngan,hinge,alpha-gan,gdpp,mmdgan"


class RecordProducts(TorchDispatchMode):
    """Counts every matrix product by (op, operand shapes and strides), and every aten op."""

    def __init__(self) -> None:
        super().__init__()
        self.products: collections.Counter = collections.Counter()
        self.ops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        self.ops += 1
        name = func.overloadpacket.__name__
        if name in PRODUCTS:
            operands = tuple((tuple(a.shape), tuple(a.stride())) for a in args if isinstance(a, torch.Tensor))
            self.products[(name, operands)] += 1
        return func(*args, **(kwargs or {}))


def product_flops(name: str, operands: tuple) -> int:
    (a, _), (b, _) = operands[-2:]
    return 2 * math.prod(a) * b[-1]


def replay_seconds(name: str, operands: tuple, repeats: int) -> float:
    tensors = [torch.randn(1 + sum((n - 1) * s for n, s in zip(shape, stride))).as_strided(shape, stride) for shape, stride in operands]
    op = getattr(torch, name)
    op(*tensors)
    started = time.process_time()
    for _ in range(repeats):
        op(*tensors)
    return (time.process_time() - started) / repeats


def floor_of(method: str, dataset: str, warmup: int, steps: int) -> dict[str, Any]:
    group = Group([Run(TrainConfig(method, dataset), tempfile.mkdtemp(prefix="step-floor-"))])
    step = lambda: group.method.train_step(group.batch, group.noise())  # noqa: E731
    for _ in range(warmup):
        step()
    record = RecordProducts()
    with record:
        step()
    matmul_s = sum(count * replay_seconds(name, operands, 3) for (name, operands), count in record.products.items())
    flops = sum(count * product_flops(name, operands) for (name, operands), count in record.products.items())
    started = time.process_time()
    for _ in range(steps):
        step()
    step_s = (time.process_time() - started) / steps
    top = sorted(record.products.items(), key=lambda kv: -kv[1] * product_flops(*kv[0]))[:4]
    return {"method": method, "dataset": dataset, "step_ms": 1000 * step_s, "matmul_ms": 1000 * matmul_s, "matmul_share": matmul_s / step_s,
            "gflop_per_step": flops / 1e9, "matmul_gflops": flops / matmul_s / 1e9, "aten_ops_per_step": record.ops,
            "matmul_calls_per_step": sum(record.products.values()),
            "largest_products": [{"op": n, "shapes": [s for s, _ in o], "calls": c} for (n, o), c in top]}


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", default=DEFAULT_METHODS)
    parser.add_argument("--dataset", default="ring8")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    configure_training_process(1)
    rows = []
    print(f"{'method':12s} {'step ms':>8s} {'matmul ms':>9s} {'share':>6s} {'GFLOP':>7s} {'GFLOP/s':>8s} {'aten ops':>9s}", flush=True)
    for method in args.methods.split(","):
        row = floor_of(method, args.dataset, args.warmup, args.steps)
        rows.append(row)
        print(f"{method:12s} {row['step_ms']:8.1f} {row['matmul_ms']:9.1f} {row['matmul_share']:6.2f} {row['gflop_per_step']:7.2f} "
              f"{row['matmul_gflops']:8.1f} {row['aten_ops_per_step']:9d}", flush=True)
        if args.json is not None:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({"cpu": device_label("cpu"), "machine": platform.node(), "cpu_count": os.cpu_count(), "torch": torch.__version__,
                                             "threads": torch.get_num_threads(), "note": "process CPU time on a shared machine; one measurement each",
                                             "rows": rows}, indent=2))
    return rows


if __name__ == "__main__":
    main()
