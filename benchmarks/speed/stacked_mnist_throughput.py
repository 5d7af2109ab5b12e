"""Throughput of the stacked-mnist metric (samples/s: value conversion, 3 digit classifications per sample, counting).

    PYTHONPATH=. python benchmarks/speed/stacked_mnist_throughput.py                 # CPU
    PYTHONPATH=. python benchmarks/speed/stacked_mnist_throughput.py --device cuda   # GPU, and CPU for the ratio

Uses real Stacked-MNIST samples when the MNIST files are found (--mnist-dir, default ../shared/data/mnist or ./shared/data/mnist),
else random uint8 images of the same shape (throughput does not depend on the pixel values; the modes and
KL printed are then meaningless). Needs only torch, numpy and scipy (no faiss, typer or peers).
The first pass (weights load, allocator warm-up) is not timed; each figure is the best of --repeats passes.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from gan_eval.errors import GanEvalError
from gan_eval.metrics.stacked_mnist import stacked_mnist_modes
from gan_eval.references.stacked_mnist import build_stacked, digit_pool

ROOT = Path(__file__).resolve().parents[2]
# beside the checkout (this project's machines) or inside it (a copied working tree)
DEFAULT_MNIST = next((p for p in (ROOT.parent / "shared/data/mnist", ROOT / "shared/data/mnist") if p.is_dir()), ROOT.parent / "shared/data/mnist")


def samples(n: int, mnist_dir: Path, seed: int) -> tuple[np.ndarray, str]:
    try:
        images, labels = digit_pool(mnist_dir, "test")
    except GanEvalError:
        rng = np.random.default_rng(seed)
        return rng.integers(0, 256, size=(n, 3, 28, 28), dtype=np.uint8), "random uint8 (MNIST not found)"
    return build_stacked(images, labels, n, seed=seed).images.numpy(), f"Stacked MNIST from {mnist_dir} (t10k pool)"


def throughput(x: np.ndarray, device: str, chunk_size: int, repeats: int) -> tuple[float, object]:
    def run() -> object:
        score = stacked_mnist_modes(x, n=None, device=device, chunk_size=chunk_size)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return score

    run()  # warm-up: weights, cudnn autotuning, allocator
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        score = run()
        best = min(best, time.perf_counter() - start)
    return len(x) / best, score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N]; with cuda the CPU is measured too, on --cpu-n samples")
    parser.add_argument("-n", type=int, default=26_000, help="samples (26,000 as VEEGAN/PacGAN)")
    parser.add_argument("--cpu-n", type=int, default=5_000, help="samples for the CPU figure when --device is cuda")
    parser.add_argument("--chunk-sizes", default="128,512,4096", help="samples per classifier pass, comma-separated")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--mnist-dir", type=Path, default=DEFAULT_MNIST)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    x, what = samples(args.n, args.mnist_dir, args.seed)
    print(f"samples: {len(x)} x {x.shape[1:]} {what}; torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    devices = [args.device] + (["cpu"] if args.device != "cpu" else [])
    rates = {}
    for device in devices:
        xs = x if device == args.device else x[: args.cpu_n]
        name = torch.cuda.get_device_name(device) if device.startswith("cuda") else "CPU"
        for chunk in (int(c) for c in args.chunk_sizes.split(",")):
            rate, score = throughput(xs, device, chunk, args.repeats)
            rates.setdefault(device, []).append(rate)
            print(f"{device:8s} ({name}) chunk {chunk:5d}: {rate:10.0f} samples/s  ({len(xs)} samples,"
                  f" modes {score.modes}, KL {score.kl:.4f})")
    if len(devices) == 2:
        print(f"{args.device} / cpu speed-up (best chunk each): {max(rates[args.device]) / max(rates['cpu']):.1f}x")


if __name__ == "__main__":
    main()
