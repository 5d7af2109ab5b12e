"""Training throughput of S seeds as one grouped model (trainers.grouped) against one ungrouped run, on one
CPU thread: forward + backward + Adam steps per second of a G/D pair, and run-steps per second (S x steps/s).

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/speed/grouped_seeds.py [--sizes 1,10,100] [--seconds 2]

The step is a proxy for one training iteration, not a method's exact update: G on a batch of latents,
D on real and generated inputs, the non-saturating D loss per seed, summed over seeds, one backward through
both networks, one fused Adam step of each. Networks:

* veegan: the VEEGAN 2-D notebook's G (255 -> 128 -> 128 -> 2, ReLU) and D on (x, z) pairs
  (256 -> 128 -> 1, ReLU), Xavier init, batch 500;
* pacgan: the PacGAN / ALI 2-D baseline, G 2 -> 4 x [400, BN, ReLU] -> 2 and D 3 maxout layers of
  200 units x 5 pieces -> 1, N(0, 0.02^2) init, batch 100.

Time is process CPU time over at least ``--seconds`` after one warm-up step (robust to other processes
sharing the machine).
"""
from __future__ import annotations

import argparse
import time
from typing import Callable

import torch
from torch import nn

from trainers.grouped import GroupedModule
from trainers.methods.base import adam
from trainers.methods.gan import baseline_generator
from trainers.nets import init_normal, init_xavier, maxout_mlp, mlp

VEEGAN_LATENT, VEEGAN_EXTRA = 254, 1


def veegan_pair(seed: int) -> tuple[nn.Module, nn.Module]:
    g = torch.Generator().manual_seed(seed)
    G = init_xavier(mlp([VEEGAN_LATENT + VEEGAN_EXTRA, 128, 128, 2], "relu"), g)
    D = init_xavier(mlp([2 + VEEGAN_LATENT, 128, 1], "relu"), g)
    return G, D


def pacgan_pair(seed: int) -> tuple[nn.Module, nn.Module]:
    g = torch.Generator().manual_seed(seed)
    return init_normal(baseline_generator(2, 2, 400, 4), 0.02, g), init_normal(maxout_mlp(2, 200, 5, 3), 0.02, g)


def veegan_inputs(lead: tuple[int, ...], batch: int, g: torch.Generator) -> tuple[torch.Tensor, ...]:
    """Latents of G, D's input pairs (real x, its z) and the z paired with each generated x."""
    z = torch.randn(*lead, batch, VEEGAN_LATENT + VEEGAN_EXTRA, generator=g)
    real = torch.cat([torch.randn(*lead, batch, 2, generator=g), torch.randn(*lead, batch, VEEGAN_LATENT, generator=g)], -1)
    return z, real, z[..., :VEEGAN_LATENT]


def pacgan_inputs(lead: tuple[int, ...], batch: int, g: torch.Generator) -> tuple[torch.Tensor, ...]:
    return torch.randn(*lead, batch, 2, generator=g), torch.randn(*lead, batch, 2, generator=g), None


SETUPS: dict[str, tuple[Callable, Callable, int]] = {
    "veegan": (veegan_pair, veegan_inputs, 500),
    "pacgan": (pacgan_pair, pacgan_inputs, 100),
}


def steps_per_second(name: str, size: int | None, seconds: float) -> float:
    """Steps/s of one ungrouped pair (``size=None``) or of a group of ``size`` seeds."""
    make_pair, make_inputs, batch = SETUPS[name]
    pairs = [make_pair(seed) for seed in range(size or 1)]
    G, D = (pairs[0] if size is None else (GroupedModule([p[0] for p in pairs]), GroupedModule([p[1] for p in pairs])))
    lead = () if size is None else (size,)
    opts = [adam(G.parameters(), 1e-3, (0.5, 0.999)), adam(D.parameters(), 1e-3, (0.5, 0.999))]
    data = torch.Generator().manual_seed(0)

    def step() -> None:
        z, real, paired = make_inputs(lead, batch, data)
        fake = G(z)
        fake_in = fake if paired is None else torch.cat([fake, paired], -1)
        loss = nn.functional.softplus(-D(real)).flatten(-2).mean(-1) + nn.functional.softplus(D(fake_in)).flatten(-2).mean(-1)
        for opt in opts:
            opt.zero_grad()
        loss.sum().backward()
        for opt in opts:
            opt.step()

    step()
    steps, start = 0, time.process_time()
    while time.process_time() - start < seconds or steps < 3:
        step()
        steps += 1
    return steps / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,10,100", help="group sizes S to measure (comma-separated)")
    parser.add_argument("--seconds", type=float, default=2.0, help="CPU seconds measured per configuration")
    parser.add_argument("--nets", default="veegan,pacgan")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{'nets':8s} {'mode':12s} {'steps/s':>9s} {'run-steps/s':>12s} {'x ungrouped':>12s}")
    for name in args.nets.split(","):
        base = steps_per_second(name, None, args.seconds)
        print(f"{name:8s} {'ungrouped':12s} {base:9.2f} {base:12.2f} {1.0:12.2f}", flush=True)
        for size in (int(s) for s in args.sizes.split(",")):
            rate = steps_per_second(name, size, args.seconds)
            print(f"{name:8s} {f'grouped S={size}':12s} {rate:9.2f} {size * rate:12.2f} {size * rate / base:12.2f}", flush=True)


if __name__ == "__main__":
    main()
