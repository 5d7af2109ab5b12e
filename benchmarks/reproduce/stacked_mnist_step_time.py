"""CPU seconds of one Stacked-MNIST training step, per method and net width, on one thread (issue 17's CPU sizing).

Each case builds the run as ``trainers.reproduce`` would (:class:`trainers.loop.Run`), takes one warm-up step, then
times ``STEPS`` steps with ``time.process_time`` (CPU time: what one free core would take; the wall clock of a
crowded machine is larger) and ``time.perf_counter``. CASES is JSON: ``[[method, width or null, {params}], ...]``;
a ``dataset`` key in params picks the dataset (default ``stacked-mnist``). Results: one line per case on stdout,
quoted in ``benchmarks/reproduce/results/stacked-mnist-cpu-status.md``.

    OMP_NUM_THREADS=1 PYTHONPATH=. nice -n 10 python benchmarks/reproduce/stacked_mnist_step_time.py \\
        '[["dcgan",null,{}],["dcgan",8,{}]]' 3 [MNIST_DIR]
"""
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

from trainers.loop import Group, Run, TrainConfig


def main() -> None:
    torch.set_num_threads(1)
    cases, steps = json.loads(sys.argv[1]), int(sys.argv[2])
    mnist = sys.argv[3] if len(sys.argv) > 3 else "/work/shared/data/mnist"
    for method, width, params in cases:
        params = dict(params, **({"width": width} if width else {}))
        dataset = params.pop("dataset", "stacked-mnist")
        run = Run(TrainConfig(method, dataset, seed=0, params=params, data_dir=mnist), Path(tempfile.mkdtemp()) / "s0")
        group = Group([run])
        run.method.train_step(group.batch, group.noise())  # warm-up
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(steps):
            run.method.train_step(group.batch, group.noise())
        timing = {"cpu": (time.process_time() - cpu) / steps, "wall": (time.perf_counter() - wall) / steps}
        print(f"{method} w{width} {params}", timing, flush=True)


if __name__ == "__main__":
    main()
