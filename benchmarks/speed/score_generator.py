"""Scoring a generator directly against sampling it to a file and scoring the file (issue 18, item 4).

A DCGAN-style 32 x 32 grayscale generator (random weights, eval mode, ``latent_dim`` attribute so no keyword is
needed), FID with the ``mnist`` extractor against an npz of the same generator at another seed (reference
statistics recomputed in both arms: ``cache=False``). Reported per arm: wall time and the generator's forward
rows (a forward hook), which must be ``n`` plus the 64-row probe when the generator is sampled once per call.
Both arms must give the same FID (the same samples). The 2026-11-30 figures are in the commit message that
added this file.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/speed/score_generator.py -n 2000
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

import gan_eval
from gan_eval.io.generators import GeneratorSource, load_generator


class DCGAN32(nn.Module):
    """z (100) -> 128 x 8 x 8 -> 64 x 16 x 16 -> 1 x 32 x 32, BN + ReLU, tanh (PyTorch-GAN's dcgan.py shape)."""

    latent_dim = 100

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(self.latent_dim, 128 * 8 * 8)
        self.net = nn.Sequential(
            nn.BatchNorm2d(128), nn.Upsample(scale_factor=2), nn.Conv2d(128, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.Upsample(scale_factor=2), nn.Conv2d(64, 1, 3, padding=1), nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.fc(z).view(-1, 128, 8, 8))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.manual_seed(0)
    net = DCGAN32().eval()
    rows: list[int] = []
    net.register_forward_hook(lambda module, inputs, out: rows.append(len(out)))
    common = dict(reference=None, features="mnist", device=args.device, cache=False)
    with tempfile.TemporaryDirectory() as folder:
        reference = Path(folder) / "reference.npz"
        np.savez(reference, samples=GeneratorSource(load_generator(net, device=args.device), args.n, seed=1).array())
        common["reference"] = str(reference)

        rows.clear()
        start = time.perf_counter()
        direct = gan_eval.score(net, "fid", n=args.n, seed=0, **common)
        direct_s, direct_rows = time.perf_counter() - start, sum(rows)

        rows.clear()
        start = time.perf_counter()
        samples = Path(folder) / "samples.npz"
        np.savez(samples, samples=GeneratorSource(load_generator(net, device=args.device), args.n, seed=0).array())
        sample_s, sample_rows = time.perf_counter() - start, sum(rows)
        start = time.perf_counter()
        from_file = gan_eval.score(str(samples), "fid", seed=0, **common)
        file_s = time.perf_counter() - start

    print(f"n={args.n} device={args.device} torch threads={torch.get_num_threads()}")
    print(f"score GEN            {direct_s:7.2f} s   forward rows {direct_rows}   fid {direct.values['fid']:.6f}")
    print(f"sample + score file  {sample_s + file_s:7.2f} s   forward rows {sample_rows}   fid {from_file.values['fid']:.6f}"
          f"   (sample {sample_s:.2f} s, score {file_s:.2f} s)")
    print(f"ratio direct / (sample + file) = {direct_s / (sample_s + file_s):.2f}; same fid: {direct.values['fid'] == from_file.values['fid']}")


if __name__ == "__main__":
    main()
