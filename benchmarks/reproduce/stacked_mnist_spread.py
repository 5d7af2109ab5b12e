"""Whether an image method's G leaves its initial near-constant output: per-iteration figures on Stacked MNIST.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/reproduce/stacked_mnist_spread.py METHOD WIDTH STEPS SEED \
        [PARAMS_JSON] [--data-dir ../shared/data/mnist] [--every 10]

Trains METHOD (``dcgan``, ``veegan-dcgan``, ...) at ``width`` on the 128,000 fixed triples of ``veegan-table2``
(no evaluation) and prints one JSON line every ``every`` iterations: the step's losses; on 64 fixed latents (a copy
of G, so training is untouched) G's mean, its spread over the batch (per-pixel std, averaged) and within an image
(per-image std over pixels), in training mode (batch statistics) and, on 256 latents, in eval mode (what
evaluations sample). For ``veegan-dcgan`` also the norms of the gradients at G's images of the adversarial term
(mean D(G(z), z)) and of the reconstruction term (0.5 ||z - F(G(z))||^2), on copies of D and F: which one drives
G (``stacked-mnist-cpu-status.md``, "VEEGAN's grey field").
"""
from __future__ import annotations

import argparse
import copy
import json
import time

import torch

from trainers.loop import Run, TrainConfig


def spread(images: torch.Tensor) -> dict[str, float]:
    return {"mean": images.mean().item(), "std_batch": images.std(0).mean().item(),
            "std_pixels": images.flatten(1).std(1).mean().item()}


def term_gradients(method, z: torch.Tensor) -> dict[str, float]:
    """Norms of d(term)/d(G's images) for VEEGAN's two G terms, on copies of G, D and F in training mode."""
    G, D, F = (copy.deepcopy(method.nets[k]).train() for k in ("G", "D", "F"))
    images = G(z)
    adversarial = D(images, z).mean()
    reconstruction = 0.5 * (z - F(images)).pow(2).sum(-1).mean()
    return {f"grad_{name}": torch.autograd.grad(term, images, retain_graph=True)[0].norm().item()
            for name, term in (("adversarial", adversarial), ("reconstruction", reconstruction))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("method")
    parser.add_argument("width", type=int)
    parser.add_argument("steps", type=int)
    parser.add_argument("seed", type=int)
    parser.add_argument("params", nargs="?", default="{}", help="further hyper-parameters as JSON")
    parser.add_argument("--data-dir", default="../shared/data/mnist")
    parser.add_argument("--every", type=int, default=10)
    args = parser.parse_args()
    config = TrainConfig(args.method, "stacked-mnist", seed=args.seed, steps=args.steps, train_size=128_000,
                         params={"width": args.width, **json.loads(args.params)}, data_dir=args.data_dir, evaluators=())
    run = Run(config, "unused")  # nothing is written: the loop's files are never opened
    method = run.method
    z = method.latent_spec().sample(256, torch.Generator().manual_seed(123))
    start = time.time()
    losses: dict[str, torch.Tensor] = {}
    for step in range(args.steps + 1):
        if step:
            losses = method.train_step(lambda n: run.data.batch(n, run.generators["data"]), run.generators["noise"])
        if step % args.every:
            continue
        G = copy.deepcopy(method.nets["G"])
        with torch.no_grad():
            train_mode, eval_mode = spread(G.train()(z[:64])), spread(G.eval()(z))
        line = {"step": step, **{k: float(v) for k, v in losses.items()}, **{f"train_{k}": v for k, v in train_mode.items()},
                **{f"eval_{k}": v for k, v in eval_mode.items()}}
        if "F" in method.nets:
            line.update(term_gradients(method, z[:64]))
        print(json.dumps({k: round(v, 5) if isinstance(v, float) else v for k, v in {**line, "s": time.time() - start}.items()}), flush=True)


if __name__ == "__main__":
    main()
