"""Published reference values of FID and IS on CIFAR-10, recomputed with gan-eval's Inception.

    PYTHONPATH=. python benchmarks/reproduce/fid_reference_values.py --cifar10 DIR
        [--weights pt_inception-2015-12-05-6726825d.pth] [--device cuda] [--batch-size 200]

``DIR`` holds CIFAR-10's python version (``cifar-10-batches-py/``, the folder torchvision downloads; its
batches are Python pickles, loaded here because they are the official distribution). Weights are looked up
as everywhere in gan-eval (flag, GAN_EVAL_INCEPTION_WEIGHTS, torch hub cache, download when online).

Checks, each printed next to the published number:
* FID CIFAR-10 train (50k) vs test (10k) = 3.15 (TTUR's TF Inception, as torch-fidelity and clean-fid's
  ``legacy_tensorflow`` report it), to 0.01;
* IS of CIFAR-10 train = 11.24 +- 0.20 (10 splits), mean to 0.02;
* torch-fidelity's regression test: FID of 5,000 train vs 5,000 test images, each chosen with
  ``np.random.RandomState(2020).choice(N, 5000, replace=False)`` = 10.3233274 (asserted there to 1e-4), to 1e-3.

Exits 0 when all hold, 1 when a value is off, 2 with one line when the data or the weights are missing.
"""
from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np
import torch

from gan_eval.errors import GanEvalError
from gan_eval.features.extract import image_batches
from gan_eval.features.inception import Inception
from gan_eval.io.samples import ArraySource
from gan_eval.metrics.fid import frechet_distance
from gan_eval.metrics.inception_score import inception_score
from gan_eval.stats.gaussian import GaussianStats

TRAIN = [f"data_batch_{i}" for i in range(1, 6)]


def load_cifar10(root: Path) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 train (50000) and test (10000) as uint8 N x 32 x 32 x 3, in torchvision's order."""
    folder = root / "cifar-10-batches-py" if (root / "cifar-10-batches-py").is_dir() else root
    missing = [name for name in [*TRAIN, "test_batch"] if not (folder / name).is_file()]
    if missing:
        raise GanEvalError(
            f"{folder}: CIFAR-10 python batches missing ({', '.join(missing[:2])}...); download"
            " https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz and unpack it there"
        )

    def read(name: str) -> np.ndarray:
        with open(folder / name, "rb") as f:
            data = pickle.load(f, encoding="bytes")[b"data"]
        return np.asarray(data, dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)

    return np.concatenate([read(name) for name in TRAIN]), read("test_batch")


def check(label: str, value: float, expected: float, tolerance: float, extra: str = "") -> bool:
    ok = abs(value - expected) <= tolerance
    print(f"{'ok  ' if ok else 'OFF '} {label:48s} {value:10.4f}{extra}   published {expected} (tolerance {tolerance})")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cifar10", type=Path, required=True)
    parser.add_argument("--weights", "--inception-weights", dest="inception_weights", default=None)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch-size", type=int, default=200)
    args = parser.parse_args()
    try:
        train, test = load_cifar10(args.cifar10)
        net = Inception(args.device, args.inception_weights)
    except GanEvalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"weights {net.describe()['weights_file']} ({net.weights_hash}), resize {net.resize}, device {args.device}")

    def features(images: np.ndarray) -> dict[str, torch.Tensor]:
        """pool and logits_unbiased of every image, in one pass."""
        parts: dict[str, list[torch.Tensor]] = {"pool": [], "logits_unbiased": []}
        with torch.inference_mode():
            for batch in image_batches(ArraySource(images), args.batch_size):
                out = net(batch.to(args.device))
                for layer in parts:
                    parts[layer].append(out[layer].cpu())
        return {layer: torch.cat(chunks) for layer, chunks in parts.items()}

    def fid(x: torch.Tensor, y: torch.Tensor) -> float:
        a, b = GaussianStats.of(x).moments(), GaussianStats.of(y).moments()
        return frechet_distance(a.mu, a.sigma, b.mu, b.sigma)

    train_f, test_f = features(train), features(test)
    results = [check("FID CIFAR-10 train 50k vs test 10k", fid(train_f["pool"], test_f["pool"]), 3.15, 0.01)]
    is_mean, is_std = inception_score(train_f["logits_unbiased"], splits=10, seed=2020)
    results.append(check("IS CIFAR-10 train (10 splits)", is_mean, 11.24, 0.02, f" +- {is_std:.2f}"))
    pick_train = torch.from_numpy(np.random.RandomState(2020).choice(len(train), 5000, replace=False))
    pick_test = torch.from_numpy(np.random.RandomState(2020).choice(len(test), 5000, replace=False))
    subsets = fid(train_f["pool"][pick_train], test_f["pool"][pick_test])
    results.append(check("FID torch-fidelity subsets 5k train vs 5k test", subsets, 10.3233274, 1e-3))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
