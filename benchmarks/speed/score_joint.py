"""FID + KID + PRDC in one ``gan_eval.score`` call (one Inception pass per input, the features stage) against
three separate calls on the same input (three passes per input). Not a timed test: it prints wall times and the
ratio of one run, and checks that the numbers agree.

    PYTHONPATH=. python benchmarks/speed/score_joint.py [--n 256] [--device cpu] [--batch-size 64]
        [--weights pt_inception-2015-12-05-6726825d.pth]

Without ``--weights`` (or GAN_EVAL_INCEPTION_WEIGHTS) the Inception network has random weights in the published
key format (the cost of a pass does not depend on the values). Images: N random 32 x 32 uint8 "real" images
(smoothed noise) and N "fake" ones (uniform noise). The reference cache is turned off (``cache=False``) so the
separate calls pay for their reference passes as a first run would.
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

import gan_eval

TESTS = Path(__file__).resolve().parents[2] / "tests"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--weights", default=os.environ.get("GAN_EVAL_INCEPTION_WEIGHTS"))
    args = parser.parse_args()
    weights = args.weights
    if weights is None:
        sys.path.insert(0, str(TESTS))
        from inception_helpers import write_random_inception_weights

        weights = str(write_random_inception_weights(Path(tempfile.mkdtemp()) / "random_inception.pth"))
        print("weights: random; pass --weights for the real network")
    rng = np.random.RandomState(0)
    real = (rng.randint(0, 256, (args.n, 3, 16, 16)).repeat(2, 2).repeat(2, 3) // 2 + 40).astype(np.uint8)
    fake = rng.randint(0, 256, (args.n, 3, 32, 32)).astype(np.uint8)
    common = dict(weights=weights, device=args.device, batch_size=args.batch_size, cache=False)
    kid = dict(subset_size=min(100, args.n), subsets=20)

    start = time.perf_counter()
    joint = gan_eval.score(fake, "fid,kid,prdc", real, **common, **kid)
    joint_s = time.perf_counter() - start
    start = time.perf_counter()
    alone = {
        "fid": gan_eval.score(fake, "fid", real, **common),
        "kid": gan_eval.score(fake, "kid", real, **common, **kid),
        "prdc": gan_eval.score(fake, "prdc", real, **common),
    }
    alone_s = time.perf_counter() - start
    for name, result in alone.items():
        for key, value in result.values.items():
            assert abs(joint[name].values[key] - value) <= 1e-6 * max(1.0, abs(value)), (name, key)
    print(f"n={args.n} per side, {args.device}, torch threads {torch.get_num_threads()}")
    print(f"one call (fid,kid,prdc): {joint_s:.2f} s, {joint.protocol['feature_passes']} extractor passes")
    print(f"three calls:             {alone_s:.2f} s, 6 extractor passes")
    print(f"ratio three/one: {alone_s / joint_s:.2f}x  (numbers agree to 1e-6)")


if __name__ == "__main__":
    main()
