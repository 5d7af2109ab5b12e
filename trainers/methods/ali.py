"""ALI / BiGAN (Dumoulin et al. 2017; Donahue et al. 2017): an encoder E(x) and a discriminator on (x, z) pairs.

D separates data pairs (x, E(x, e)) from generated pairs (G(z), z); G and E play the swapped-label
(non-saturating) game. As in the ALI code, D and (G, E) are updated simultaneously from one forward pass.
Defaults from the ALI / PacGAN 2-D code: the baseline G of :mod:`trainers.methods.gan`; E: [x, e], e ~ N(0, I_2)
-> 2 x [Linear 400, BN, ReLU] -> Linear to the latent dimension; joint D: 3 maxout layers (200 units x 5
pieces) on the concatenation [x, z] -> Linear 1; N(0, 0.02^2) init, Adam 1e-4, beta1 0.8, batch 100.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from trainers.methods.base import Method, RealBatch, adam, descend_together, register_method
from trainers.methods.gan import GANParams
from trainers.nets import init_normal, maxout_mlp, mlp
from trainers.nets.mlp_pairs import baseline_generator


@dataclass
class ALIParams(GANParams):
    """The GAN baseline's hyper-parameters plus the encoder's."""

    e_hidden: int = 400
    e_layers: int = 2
    e_noise_dim: int = 2


@register_method("ali")
class ALI(Method):
    Params = ALIParams
    default_steps = 400_000

    def build(self, generator: torch.Generator) -> torch.nn.ModuleDict:
        p = self.params
        self.nets["G"] = baseline_generator(p.latent_dim, self.data_dim, p.g_hidden, p.g_layers)
        self.nets["E"] = mlp([self.data_dim + p.e_noise_dim, *[p.e_hidden] * p.e_layers, p.latent_dim], "relu", batchnorm=True, hidden_bias=False)
        self.nets["D"] = maxout_mlp(self.data_dim + p.latent_dim, p.d_units, p.d_pieces, p.d_layers)
        init_normal(self.nets, p.init_std, generator)
        return self.nets.to(self.device)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        betas = (p.beta1, p.beta2)
        ge = [*self.nets["G"].parameters(), *self.nets["E"].parameters()]
        return {"D": adam(self.nets["D"].parameters(), p.lr, betas), "GE": adam(ge, p.lr, betas)}

    def train_step(self, real: RealBatch, noise: torch.Generator) -> dict[str, torch.Tensor]:
        p, n = self.params, self.batch_size
        G, E, D = self.nets["G"], self.nets["E"], self.nets["D"]
        x = real(n)
        z = self.noise(n, noise)
        e = self.randn(n, p.e_noise_dim, noise)
        z_hat = E(torch.cat([x, e], dim=-1))
        x_fake = G(z)
        d_data = D(torch.cat([x, z_hat], dim=-1))
        d_model = D(torch.cat([x_fake, z], dim=-1))
        d_loss = self.bce(d_data, 1.0) + self.bce(d_model, 0.0)
        ge_loss = self.bce(d_data, 0.0) + self.bce(d_model, 1.0)
        descend_together((d_loss, self.opt["D"]), (ge_loss, self.opt["GE"]))
        return {"d_loss": d_loss.detach(), "g_loss": ge_loss.detach()}
