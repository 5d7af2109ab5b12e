"""Mode metrics on 10M 2-D samples: gan-eval (chunked torch) vs a straightforward numpy implementation.

    python benchmarks/speed/modes_10m.py [--n 10000000] [--reference grid25] [--device cpu]

Prints both wall times and their ratio from one run, and asserts both give the same modes, HQ count and
per-mode histogram. The numpy peer is what a paper's notebook does: a full (n x K) distance matrix,
argmin, threshold, unique.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from gan_eval.metrics import mode_coverage
from gan_eval.references import get_reference


def numpy_modes(x: np.ndarray, means: np.ndarray, std: float, k: float = 3.0) -> tuple[int, int, np.ndarray]:
    d = np.sqrt(((x[:, None, :] - means[None, :, :]) ** 2).sum(-1))
    nearest = d.argmin(1)
    hq = d[np.arange(len(x)), nearest] <= k * std
    counts = np.bincount(nearest[hq], minlength=len(means))
    return int((counts > 0).sum()), int(hq.sum()), counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--reference", default="grid25")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    ref = get_reference(args.reference)
    x = (ref.sample(args.n, seed=0) * 1.01).numpy()  # some samples fall outside the HQ radius

    start = time.perf_counter()
    modes_np, hq_np, counts_np = numpy_modes(x.astype(np.float64), ref.centres(), ref.std)
    numpy_s = time.perf_counter() - start

    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    cov = mode_coverage(torch.from_numpy(x), ref, device=args.device)
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    ours_s = time.perf_counter() - start

    assert cov.modes == modes_np and int(cov.histogram.hq.sum()) == hq_np
    assert np.array_equal(cov.histogram.hq.numpy(), counts_np)
    print(f"{args.n:,} samples x {ref.n_modes} modes ({args.reference}), device {args.device}, torch threads {torch.get_num_threads()}")
    print(f"numpy full-matrix peer: {numpy_s:.2f} s   gan-eval: {ours_s:.2f} s   speed-up x{numpy_s / ours_s:.1f}")
    print(f"same result: modes {cov.modes}, HQ {cov.hq_percent:.3f} %")


if __name__ == "__main__":
    main()
