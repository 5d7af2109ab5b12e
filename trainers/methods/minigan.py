"""The GAN of the mode-collapse mini-project (seed paper of ``PROTOCOLS.md``): tiny tanh / ReLU MLPs and plain SGD.

Its latent-dimension study trains on the 32 noise-free points of ``make_moons(32, noise=0)`` (dataset
``moons-mini`` with ``train_size=32``) with:

* G: z -> Linear 8 -> ReLU -> Linear 4 -> ReLU -> Linear 2 (``g_hidden``, ``g_hidden2``);
* D: x -> Linear 64 -> tanh -> Linear 8 -> tanh -> Linear 1 -> sigmoid (``d_hidden``, ``d_hidden2``; the sigmoid lives
  in the cross-entropy, which takes the logit);
* every weight and bias ~ N(0, 1) (``init_std = 1``), SGD lr 5e-4 for both nets, batch 32, cross-entropy;
* latent 2 (the paper: collapses to one moon, snapshots at 10k / 40k / 75k / 150k iterations) against latent 4
  (separates the moons, snapshots at 10k / 40k / 100k / 200k).

Not in the text, so chosen and stated: G minimises the non-saturating ``-log D(G(z))`` (``loss=ns``; "cross-entropy"
with the real label, the usual PyTorch recipe) and D is stepped before G on fresh noise (``update=sequential``);
``loss`` and ``update`` switch both. These two, and z ~ N(0, I), are unverified: the project's notebooks ("Addressing
mode collapse in GANs", C6.5 Theories of Deep Learning, Oxford) are indexed by their opening cell only, and no
repository holding them could be found. No reading tried reproduces the paper's z=2 collapse (a seed-batched copy of
these nets, 8-16 seeds): at 40k steps ``loss=minimax``, simultaneous updates and z ~ U[-1, 1] each leave 0-2 seeds in 8
on one moon (>= 90 % of the high-quality samples), z=2 and z=4 alike; at 150k with these defaults 1 of 16 z=2 seeds and
5 of 16 z=4 seeds sit on one moon. Plain SGD is elementwise, so seeds group (a leading seed dimension on every
tensor) exactly as with Adam.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from trainers.methods.base import register_method
from trainers.methods.gan import GAN
from trainers.nets import mlp


@dataclass
class MiniGANParams:
    """Hyper-parameters of the mini-project's GAN (its text: ``PROTOCOLS.md``, "Mode-collapse mini-project")."""

    latent_dim: int = 2
    g_hidden: int = 8
    g_hidden2: int = 4
    d_hidden: int = 64
    d_hidden2: int = 8
    init_std: float = 1.0
    lr: float = 5e-4
    batch_size: int = 32
    loss: str = "ns"
    update: str = "sequential"


@torch.no_grad()
def init_all_normal(module: nn.Module, std: float, generator: torch.Generator) -> nn.Module:
    """Every parameter (weights and biases) ~ N(0, std^2): the mini-project's initialisation."""
    for param in module.parameters():
        param.normal_(0.0, std, generator=generator)
    return module


@register_method("mini-gan")
class MiniGAN(GAN):
    Params = MiniGANParams
    default_steps = 200_000

    def build(self, generator: torch.Generator) -> nn.ModuleDict:
        p = self.params
        self.nets["G"] = init_all_normal(mlp([p.latent_dim, p.g_hidden, p.g_hidden2, self.data_dim], "relu"), p.init_std, generator)
        self.nets["D"] = init_all_normal(mlp([self.data_dim, p.d_hidden, p.d_hidden2, 1], "tanh"), p.init_std, generator)
        return self.nets.to(self.device)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {name: torch.optim.SGD(self.nets[name].parameters(), lr=self.params.lr) for name in ("D", "G")}
