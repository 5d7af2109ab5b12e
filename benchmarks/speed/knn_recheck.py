"""The float64 recheck of exact k-NN (gan_eval.ops.knn.exact_sq_distances) at several chunk sizes, in one run: the
chunk size (``RECHECK_ELEMENTS``) changes only speed and memory, never a bit of the result (asserted here).

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/speed/knn_recheck.py [--n 8192] [--dim 2048] [--k 29]

It rechecks n x k random pairs of n points in ``--dim`` dimensions (float32 points, as Inception features are), the
work :func:`~gan_eval.ops.knn.knn` does for each row's float32 candidates, and prints seconds per chunk size,
best of three, with the ratio to the default's.
"""
from __future__ import annotations

import argparse
import time

import torch

import gan_eval.ops.knn as knn_module

SIZES = (1 << 23, 1 << 21, 1 << 19, 1 << 17)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=8192)
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--k", type=int, default=29)
    args = parser.parse_args()
    g = torch.Generator().manual_seed(0)
    x = torch.randn(args.n, args.dim, generator=g)
    rows = torch.arange(args.n).repeat_interleave(args.k)
    cols = torch.randint(0, args.n, (args.n * args.k,), generator=g)
    default = knn_module.RECHECK_ELEMENTS
    print(f"{args.n * args.k:,} pairs in {args.dim} dims, torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    seconds, results = {}, {}
    for size in sorted({*SIZES, default}, reverse=True):
        knn_module.RECHECK_ELEMENTS = size
        times = []
        for _ in range(3):
            start = time.perf_counter()
            results[size] = knn_module.exact_sq_distances(x, x, rows, cols)
            times.append(time.perf_counter() - start)
        seconds[size] = min(times)
    knn_module.RECHECK_ELEMENTS = default
    assert all(torch.equal(results[size], results[default]) for size in results), "a chunk size changed a result"
    for size, s in seconds.items():
        mark = "  (default)" if size == default else ""
        print(f"chunk {size * 8 / 2**20:6.1f} MiB of float64: {s:6.2f} s, {s / seconds[default]:4.2f}x the default's{mark}")


if __name__ == "__main__":
    main()
