"""Inception features + FID statistics for N images: gan-eval vs torch-fidelity 0.4.0 with the same weights,
and (``--precisions``) the FID change from reduced precision.

    PYTHONPATH=. python benchmarks/speed/inception_stats.py [--n 32] [--device cpu] [--batch-size 32]
        [--weights pt_inception-2015-12-05-6726825d.pth] [--precisions fp32,bf16,fp16]

Without ``--weights`` (or GAN_EVAL_INCEPTION_WEIGHTS) both use the same randomly initialised weights written
to a temporary file in the published key format. Images: N random 32 x 32 uint8 "real" images (smoothed
noise) and N "fake" ones (uniform noise). Prints wall times and the ratio from one run and asserts that mean
and covariance agree (1e-4 absolute). torch-fidelity is compared only where it imports (it needs torchvision;
the test suite's stub is used when torchvision is absent); otherwise gan-eval alone is timed.

With ``--precisions`` the fake-vs-real FID is computed at each precision and its relative change from fp32
printed: the tolerance a reduced precision costs (reduced precisions are for CUDA; ``tf32`` is float32 with cuDNN's TF32 convolutions).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from gan_eval.features.inception import Inception
from gan_eval.io.samples import ArraySource
from gan_eval.metrics.fid import frechet_distance
from gan_eval.stats.collect import collect_statistics

TESTS = Path(__file__).resolve().parents[2] / "tests"


def images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(seed)
    real = (rng.randint(0, 256, (n, 16, 16, 3)).repeat(2, 1).repeat(2, 2) // 2 + 40).astype(np.uint8)
    return real, rng.randint(0, 256, (n, 32, 32, 3)).astype(np.uint8)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def ours(x: np.ndarray, weights: str, device: torch.device, batch_size: int, precision: str = "fp32"):
    net = Inception(device, weights, precision=precision)
    net(torch.from_numpy(x[:batch_size]).permute(0, 3, 1, 2).float() / 255)  # warm-up on a full batch
    sync(device)
    start = time.perf_counter()
    stats, _ = collect_statistics(ArraySource(x), net, "pool", batch_size=batch_size, device=device)
    moments = stats.moments()
    sync(device)
    return time.perf_counter() - start, moments


def torch_fidelity(x: np.ndarray, weights: str, device: torch.device, batch_size: int):
    """torch-fidelity's extractor over the same batches, then its fid_features_to_statistics; None if absent."""
    try:
        import torchvision  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(TESTS))
        from conftest import stub_torchvision

        stub_torchvision()
    try:
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
        from torch_fidelity.metric_fid import fid_features_to_statistics
    except ImportError:
        return None
    net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=weights).to(device)
    net(torch.from_numpy(x[:batch_size]).permute(0, 3, 1, 2).to(device))  # warm-up on a full batch
    sync(device)
    start = time.perf_counter()
    with torch.no_grad():
        parts = [net(torch.from_numpy(x[i : i + batch_size]).permute(0, 3, 1, 2).to(device))[0].cpu()
                 for i in range(0, len(x), batch_size)]
    stats = fid_features_to_statistics(torch.cat(parts))
    return time.perf_counter() - start, stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=32)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--weights", default=os.environ.get("GAN_EVAL_INCEPTION_WEIGHTS"))
    parser.add_argument("--precisions", default="", help="e.g. fp32,bf16,fp16: FID change from reduced precision")
    args = parser.parse_args()
    device = torch.device(args.device)
    weights = args.weights
    if weights is None:
        sys.path.insert(0, str(TESTS))
        from inception_helpers import write_random_inception_weights

        weights = str(write_random_inception_weights(Path(tempfile.mkdtemp()) / "random_inception.pth"))
        print("weights: random (same file for both); pass --weights for the real network")
    real, fake = images(args.n, 0)

    ours_s, moments = ours(fake, weights, device, args.batch_size)
    print(f"Inception pool statistics of {args.n} images 32x32 on {device}, batch {args.batch_size}")
    print(f"  gan-eval        {ours_s:8.2f} s  ({args.n / ours_s:.1f} images/s)")
    # torch-fidelity runs whatever the global flags say (cuDNN TF32 convolutions by default on CUDA);
    # true float32 on both sides is what makes the results comparable to 1e-4.
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    peer = torch_fidelity(fake, weights, device, args.batch_size)
    if peer is None:
        print("  torch-fidelity  not importable here; gan-eval timed alone")
    else:
        peer_s, stats = peer
        np.testing.assert_allclose(moments.mu.cpu().numpy(), stats["mu"], atol=1e-4)
        np.testing.assert_allclose(moments.sigma.cpu().numpy(), stats["sigma"], atol=1e-4)
        print(f"  torch-fidelity  {peer_s:8.2f} s  ({args.n / peer_s:.1f} images/s)")
        print(f"  speed-up        {peer_s / ours_s:8.2f} x  (mean and covariance equal to 1e-4)")

    if args.precisions:
        reference = None
        for precision in args.precisions.split(","):
            fake_s, f = ours(fake, weights, device, args.batch_size, precision)
            _, r = ours(real, weights, device, args.batch_size, precision)
            fid = frechet_distance(f.mu, f.sigma, r.mu, r.sigma)
            reference = fid if reference is None else reference
            print(f"  {precision:5s} FID {fid:.6f}  relative change vs first {abs(fid - reference) / reference:.2e}"
                  f"  features {args.n / fake_s:.1f} images/s")


if __name__ == "__main__":
    main()
