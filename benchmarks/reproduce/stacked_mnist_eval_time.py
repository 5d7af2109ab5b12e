"""CPU seconds of one full Stacked-MNIST evaluation (26,000 samples generated, 78,000 digits classified by the
bundled MNIST classifier) on one thread, for an untrained DCGAN at width 8 and at the papers' 64 (issue 17's CPU
sizing). ``sample`` is one generation of the evaluation samples; ``evaluate`` is :meth:`trainers.loop.Run.evaluate`
(which generates them again and scores them), so classification is ``evaluate - sample``.

    OMP_NUM_THREADS=1 PYTHONPATH=. nice -n 10 python benchmarks/reproduce/stacked_mnist_eval_time.py [MNIST_DIR]
"""
import sys
import tempfile
import time
from pathlib import Path

import torch

from trainers.loop import Run, TrainConfig


def main() -> None:
    torch.set_num_threads(1)
    mnist = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/mnist"
    for width in (8, 64):
        run = Run(TrainConfig("dcgan", "stacked-mnist", seed=0, params={"width": width}, data_dir=mnist, eval_samples=26_000), Path(tempfile.mkdtemp()) / "s0")
        start = time.process_time()
        run.eval_samples()
        sampled = time.process_time()
        run.evaluate({})
        done = time.process_time()
        print(f"width {width}: sample {sampled - start:.1f} CPU-s, evaluate {done - sampled:.1f} CPU-s", flush=True)


if __name__ == "__main__":
    main()
