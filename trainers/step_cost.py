"""CPU seconds of one training step and one evaluation of the DCGAN-family image methods, from the size of the nets
they build: what ``python -m trainers.reproduce`` prints as its rough estimate for the Stacked-MNIST tables.

A step costs three things, each counted from the method's step (:data:`STEP_TERMS`) and the nets' forward FLOPs
per image (:func:`forward_flops`, counted by ``torch.utils.flop_counter`` on the nets built as the run builds them,
so ``--set width=N``, ``net=unrolled28x3``, ``d_scale`` and ``pack`` change it)::

    seconds = SECONDS_PER_FLOP * (g_work * flops(G) + d_work * flops(D))   # the convolutions
            + SECONDS_PER_CALL * calls                                    # per net evaluation: launches, autograd, Python
            + SECONDS_PER_SAMPLE * samples                                # per image drawn: data, noise, elementwise ops

``g_work`` / ``d_work`` count images through G / D in forward equivalents (a forward 1, a forward with its
backward 3; an unrolled D step of the unrolled GAN 9, its gradient being differentiated again). At the papers'
width 64 the first term is ~90 % of a DCGAN step; at width 8 and on ``unrolled28x3`` the other two are most of it,
which is why a FLOP count alone (width^2) would put the narrow nets 10x too low.

The three constants are the least-squares fit (relative error) to the 13 CPU-s per step measured on one thread of
the development machine (``benchmarks/reproduce/stacked_mnist_step_time.py``, table in
``benchmarks/reproduce/results/stacked-mnist-cpu-status.md``): DCGAN at width 64 / 16 / 8 / 4, ALI, VEEGAN,
Unrolled (5 steps), PacDCGAN2 / 3 / 4 at width 8, and PacGAN Table 3's DCGAN, Unrolled 10 and PacDCGAN4 at
D = 1/4 G. Every one of them is within 1.5x of the model (``tests/test_step_cost.py``); the cells not measured
(Unrolled 1 and 5, PacDCGAN2 and 3 at D = 1/4 G, every D = 1/2 G cell) are the model's interpolation.

An evaluation of Stacked MNIST (``stacked_mnist_eval_seconds``) generates the samples and classifies their three
digits: :data:`EVAL_SECONDS_PER_SAMPLE` per sample plus G's forward FLOPs, from the same file's 20 CPU-s at width 8
and 85 at width 64 for 26,000 samples (``benchmarks/reproduce/stacked_mnist_eval_time.py``).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import torch
from torch.utils.flop_counter import FlopCounterMode

from trainers.methods.image import image_net
from trainers.nets import NETS

SECONDS_PER_FLOP = 0.0265e-9
SECONDS_PER_CALL = 6.7e-3
SECONDS_PER_SAMPLE = 0.65e-3
#: generating one sample's overheads plus classifying its three digits (the bundled MNIST classifier): 20 CPU-s for
#: 26,000 samples at width 8, where G's FLOPs are ~1 s of it
EVAL_SECONDS_PER_SAMPLE = 0.72e-3


@dataclass(frozen=True)
class StepTerms:
    """What one iteration runs: images through G and through D in forward equivalents, net evaluations, images drawn."""

    g_work: float
    d_work: float
    calls: int
    samples: int


def _dcgan(p: Mapping[str, Any]) -> StepTerms:
    """One D step on real and detached fake, then ``g_steps`` G steps through D (trainers/methods/dcgan.py); G makes
    ``pack x batch`` images, D reads ``batch`` packs."""
    b, m, s = p["batch_size"], p.get("pack", 1), p["g_steps"]
    return StepTerms(b * m * (1 + 3 * s), b * (6 + 3 * s), 3 + 2 * s, b * m)


def _unrolled(p: Mapping[str, Any]) -> StepTerms:
    """G forward and backward; ``unroll`` differentiable D steps on real and fake (forward, gradient with its graph,
    differentiated again by G's loss), G's loss through the unrolled D, one ordinary D step (trainers/methods/unrolled.py)."""
    b, k = p["batch_size"], p["unroll"]
    return StepTerms(3 * b, b * (18 * k + 12), 5 + 6 * k, b)


def _ali(p: Mapping[str, Any]) -> StepTerms:
    """G(z), E(x) and D on both pairs, all with backward; E and D are the net's D body (trainers/methods/ali.py)."""
    b = p["batch_size"]
    return StepTerms(3 * b, 9 * b, 4, b)


def _veegan(p: Mapping[str, Any]) -> StepTerms:
    """G(z), F(x), D on the data and the generated pairs (twice, sequential update), F(G(z)); F and D are the net's D
    body (trainers/methods/veegan.py)."""
    b = p["batch_size"]
    return StepTerms(3 * b, 15 * b, 6, b)


#: The methods whose step the model counts; any other method on images has no estimate.
STEP_TERMS: dict[str, Callable[[Mapping[str, Any]], StepTerms]] = {
    "dcgan": _dcgan, "pacdcgan": _dcgan, "unrolled-dcgan": _unrolled, "ali-dcgan": _ali, "veegan-dcgan": _veegan,
}


@functools.lru_cache(maxsize=64)
def _flops(method: str, net: str, latent_dim: int, shape: tuple[int, ...], pack: int, sizes: tuple[tuple[str, Any], ...]) -> tuple[int, int]:
    # the pair's architecture without its initialisation (the values do not change the count), on the CPU: a meta
    # forward would be as exact but first loads torch's meta kernels (seconds)
    with torch.device("meta"):
        G, D = NETS.get(image_net(net, shape, method)).build(latent_dim, shape, shape[0] * pack, "tanh", **dict(sizes))
    counts = []
    with torch.no_grad():
        for module, x in ((G, torch.zeros(1, latent_dim)), (D.body, torch.zeros(1, shape[0] * pack, *shape[1:]))):
            with FlopCounterMode(display=False) as counter:
                module.to_empty(device="cpu").eval()(x)
            counts.append(counter.get_total_flops())
    return counts[0], counts[1]


def forward_flops(method: str, params: Mapping[str, Any], shape: tuple[int, ...]) -> tuple[int, int]:
    """FLOPs of one forward of G (one image) and of D's body (one pack of ``pack`` images; its linear head is a few
    hundred FLOPs) as ``params`` (a run's resolved
    hyper-parameters: ``net``, ``latent_dim``, ``width``, ``d_scale``, ``pack``) build them for ``shape``."""
    sizes = tuple((key, params[key]) for key in ("width", "d_scale") if params.get(key) is not None)
    return _flops(method, params["net"], int(params["latent_dim"]), tuple(shape), int(params.get("pack", 1)), sizes)


def image_step_seconds(method: str, params: Mapping[str, Any], shape: tuple[int, ...]) -> float | None:
    """CPU seconds of one iteration of ``method`` with ``params`` on images of ``shape`` (module docstring), or None
    for a method the model does not count."""
    if method not in STEP_TERMS:
        return None
    terms = STEP_TERMS[method](params)
    g, d = forward_flops(method, params, shape)
    return SECONDS_PER_FLOP * (terms.g_work * g + terms.d_work * d) + SECONDS_PER_CALL * terms.calls + SECONDS_PER_SAMPLE * terms.samples


def stacked_mnist_eval_seconds(method: str, params: Mapping[str, Any], shape: tuple[int, ...], samples: int) -> float:
    """CPU seconds of one Stacked-MNIST evaluation of ``samples`` samples: generating them and classifying their digits."""
    g, _ = forward_flops(method, params, shape)
    return samples * (EVAL_SECONDS_PER_SAMPLE + SECONDS_PER_FLOP * g)
