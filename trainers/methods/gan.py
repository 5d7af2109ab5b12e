"""Non-saturating GAN (Goodfellow et al. 2014) with the PacGAN / ALI 2-D baseline architecture.

Defaults, from the PacGAN code's synthetic-data configs (Lin et al. 2018), which copy ALI's 2-D experiment
(Dumoulin et al. 2017):

* z ~ N(0, I_2);  G: 4 x [Linear 400 without bias, BatchNorm, ReLU] -> Linear to the data dimension;
* D: 3 maxout layers of 200 units x 5 pieces -> Linear 1;
* weights ~ N(0, 0.02^2), biases 0; Adam lr 1e-4, beta1 0.8 (beta2 0.999: TF's default); batch 100;
* one D step then one G step per iteration; G minimises -log D(G(z)) (the non-saturating loss), with a fresh z.

``default_steps`` is the paper budget, ~400 epochs of the 100k-point training set at batch 100 = 400k
iterations; ``reproduce`` runs far fewer (see :mod:`trainers.tables`).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from trainers.methods.base import Method, RealBatch, adam, bce_logits, descend, register_method
from trainers.nets import init_normal, maxout_mlp, mlp


@dataclass
class GANParams:
    """Hyper-parameters of the GAN baseline (PacGAN / ALI 2-D code)."""

    latent_dim: int = 2
    g_hidden: int = 400
    g_layers: int = 4
    d_units: int = 200
    d_pieces: int = 5
    d_layers: int = 3
    init_std: float = 0.02
    lr: float = 1e-4
    beta1: float = 0.8
    beta2: float = 0.999
    batch_size: int = 100


def baseline_generator(latent_dim: int, data_dim: int, hidden: int, layers: int) -> torch.nn.Sequential:
    """The PacGAN / ALI generator: ``layers`` x [Linear (no bias), BN, ReLU] then linear."""
    return mlp([latent_dim, *[hidden] * layers, data_dim], "relu", batchnorm=True, hidden_bias=False)


@register_method("gan")
class GAN(Method):
    """Non-saturating GAN; :class:`trainers.methods.pacgan.PacGAN` packs ``pack`` samples per D input."""

    Params = GANParams
    default_steps = 400_000
    pack = 1

    def build(self, generator: torch.Generator) -> torch.nn.ModuleDict:
        p = self.params
        self.nets["G"] = baseline_generator(p.latent_dim, self.data_dim, p.g_hidden, p.g_layers)
        self.nets["D"] = maxout_mlp(self.data_dim * self.pack, p.d_units, p.d_pieces, p.d_layers)
        init_normal(self.nets, p.init_std, generator)
        return self.nets.to(self.device)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        return {
            name: adam(self.nets[name].parameters(), p.lr, (p.beta1, p.beta2))
            for name in ("D", "G")
        }

    def discriminate(self, x: torch.Tensor) -> torch.Tensor:
        """D on packs: rows ``i*pack .. i*pack+pack-1`` are concatenated into one D input."""
        return self.nets["D"](x.reshape(-1, self.pack * self.data_dim))

    def train_step(self, real: RealBatch, noise: torch.Generator) -> dict[str, torch.Tensor]:
        opt = self.opt
        n = self.batch_size * self.pack
        G = self.nets["G"]
        x = real(n)
        fake = G(self.noise(n, noise)).detach()
        d_loss = bce_logits(self.discriminate(x), 1.0) + bce_logits(self.discriminate(fake), 0.0)
        descend(d_loss, opt["D"])

        g_loss = bce_logits(self.discriminate(G(self.noise(n, noise))), 1.0)
        descend(g_loss, opt["G"])
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach()}
