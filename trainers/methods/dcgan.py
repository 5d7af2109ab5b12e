"""DCGAN (Radford et al. 2016) on images, as the VEEGAN / PacGAN Stacked-MNIST experiments train it.

Defaults from the carpedm20 DCGAN-tensorflow fork the VEEGAN setting uses (``../shared/PROTOCOLS.md``,
"Stacked-MNIST DCGAN"): z ~ U(-1, 1)^100; the net pair by image size (:mod:`trainers.methods.image`);
Adam lr 2e-4 (``g_lr``: G's own rate, None for ``lr``), beta1 0.5; batch 64; the non-saturating loss; each iteration one D step, then ``g_steps = 2``
G steps on the same z against the updated D (carpedm20's ``train``: "run g_optim twice to make sure that
d_loss does not go to zero"), i.e. ``update=sequential`` as that reference does it. ``pack > 1`` is
PacDCGAN (PacGAN Tables 2-3: D reads ``pack`` images concatenated along channels; ``pacdcgan`` in
:mod:`trainers.methods.pacgan`). ``default_steps``: 50 epochs of PacGAN's 128,000 fixed triples at batch 64
(100,000). ``output=auto`` ends G in a sigmoid for data in [0, 1] and in tanh for [-1, 1] (deviation: the
PacGAN fork keeps tanh on its [0, 1] Stacked MNIST and scores the raw output); ``spectral_norm`` None keeps
the net's own default (on for ``sn-cnn32``).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from trainers.methods.base import RealBatch, adam, descend, register_method
from trainers.methods.gan import GAN
from trainers.methods.image import ImageAdamParams, ImageNets


@dataclass
class DCGANParams(ImageAdamParams):
    """Hyper-parameters of DCGAN (carpedm20 fork, VEEGAN / PacGAN Stacked-MNIST setting)."""

    g_lr: float | None = None
    loss: str = "ns"
    update: str = "sequential"
    g_steps: int = 2
    pack: int = 1
    spectral_norm: bool | None = None


@register_method("dcgan")
class DCGAN(ImageNets, GAN):
    Params = DCGANParams
    method_name = "dcgan"

    @property
    def pack(self) -> int:  # type: ignore[override]
        return int(self.params.pack)

    def build(self, generator: torch.Generator) -> torch.nn.ModuleDict:
        self.nets["G"], self.nets["D"] = self.image_pair(generator, pack=self.pack, spectral_norm=self.params.spectral_norm)
        return self.nets.to(self.device)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        g_lr = p.lr if p.g_lr is None else p.g_lr
        return {"D": adam(self.nets["D"].parameters(), p.lr, (p.beta1, p.beta2)), "G": adam(self.nets["G"].parameters(), g_lr, (p.beta1, p.beta2))}

    def train_step(self, real: RealBatch, noise: torch.Generator) -> dict[str, torch.Tensor]:
        if self.update == "simultaneous":
            return super().train_step(real, noise)
        n = self.batch_size * self.pack
        x = real(n)
        z = self.noise(n, noise)
        d_loss = self.d_loss(self.discriminate(x), self.discriminate(self.generate(z).detach()))
        descend(d_loss, self.opt["D"])
        for _ in range(self.params.g_steps):
            g_loss = self.g_loss(self.discriminate(self.generate(z)))
            descend(g_loss, self.opt["G"])
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach()}
