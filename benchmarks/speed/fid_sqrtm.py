"""The FID score step from 2048-d statistics: gan-eval (Cholesky/eigh, float64 torch) vs pytorch-fid
(``scipy.linalg.sqrtm`` of S1 S2, as ``calculate_frechet_distance`` does).

    PYTHONPATH=. python benchmarks/speed/fid_sqrtm.py [--dim 2048] [--device cpu|cuda] [--repeat 3]

Prints both wall times (best of ``--repeat``) and their ratio from one run and asserts both FIDs agree to 1e-6
relative. The peer is pytorch-fid's own function when importable (with the test suite's torchvision stub),
else the same three lines of scipy it runs.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.linalg
import torch

from gan_eval.metrics.fid import frechet_distance


def peer_fid():
    """pytorch-fid's calculate_frechet_distance, or its scipy core where pytorch-fid is absent or broken."""

    def scipy_fid(mu1, sigma1, mu2, sigma2):
        covmean = scipy.linalg.sqrtm(sigma1 @ sigma2).real
        diff = mu1 - mu2
        return diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
    try:
        from conftest import stub_torchvision

        stub_torchvision()
        from pytorch_fid.fid_score import calculate_frechet_distance
    except ImportError:
        return scipy_fid, "scipy.linalg.sqrtm (pytorch-fid not installed)"
    try:
        calculate_frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.eye(2))
    except TypeError:  # pytorch-fid 0.3 passes sqrtm(disp=False), which newer scipy removed
        return scipy_fid, "scipy.linalg.sqrtm as pytorch-fid computes it (pytorch-fid 0.3 fails on this scipy)"
    return calculate_frechet_distance, "pytorch-fid calculate_frechet_distance"


def statistics(dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A mean and a well-conditioned but correlated covariance, like Inception pool statistics."""
    rng = np.random.RandomState(seed)
    a = rng.randn(dim, dim) / np.sqrt(dim)
    return rng.rand(dim), a @ a.T * 0.1 + np.diag(rng.rand(dim)) * 0.01


def best_of(repeat: int, fn) -> tuple[float, float]:
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return min(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    (mu1, s1), (mu2, s2) = statistics(args.dim, 0), statistics(args.dim, 1)
    peer, peer_name = peer_fid()
    device = torch.device(args.device)
    t1, m1, t2, m2 = (torch.from_numpy(v).to(device) for v in (mu1, s1, mu2, s2))

    def ours() -> float:
        value = frechet_distance(t1, m1, t2, m2)  # float() synchronises the device
        return value

    ours()  # warm-up (CUDA context, MKL threads)
    ours_s, ours_value = best_of(args.repeat, ours)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy's "disp is deprecated"
        peer_s, peer_value = best_of(args.repeat, lambda: float(peer(mu1, s1, mu2, s2)))
    rel = abs(ours_value - peer_value) / abs(peer_value)
    print(f"FID score step, dim {args.dim}, gan-eval on {device}, peer: {peer_name} (CPU), best of {args.repeat}")
    print(f"  gan-eval  {ours_s:8.3f} s   FID {ours_value:.10g}")
    print(f"  peer      {peer_s:8.3f} s   FID {peer_value:.10g}")
    print(f"  speed-up  {peer_s / ours_s:8.1f} x   relative difference {rel:.2e}")
    assert rel < 1e-6, f"FIDs differ: {ours_value} vs {peer_value}"


if __name__ == "__main__":
    main()
