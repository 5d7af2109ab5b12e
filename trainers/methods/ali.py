"""ALI / BiGAN (Dumoulin et al. 2017; Donahue et al. 2017): an encoder E(x) and a discriminator on (x, z) pairs.

D separates data pairs (x, E(x, e)) from generated pairs (G(z), z); G and E play the swapped-label
(non-saturating) game. As in the ALI code, D and (G, E) are updated simultaneously from one forward pass.
Defaults from the ALI / PacGAN 2-D code: the baseline G of :mod:`trainers.methods.gan`; E: [x, e], e ~ N(0, I_2)
-> 2 x [Linear 400, BN, ReLU] -> Linear to the latent dimension; joint D: 3 maxout layers (200 units x 5
pieces) on the concatenation [x, z] -> Linear 1; N(0, 0.02^2) init, Adam 1e-4, beta1 0.8, batch 100.

``ali-dcgan``: the same game on images with the DCGAN nets of VEEGAN Table 2 (:mod:`trainers.methods.image`):
G the net's generator; E the net's discriminator body under a linear head to (mu, log sigma) of the code,
z_hat = mu + exp(log sigma) * e, e ~ N(0, I) (ALI's Gaussian conditional encoder, ``experiments/ali_cifar10.py``
``conv_brick(1, 1, 2 * NLAT)``); D(x, z) the body's features of x concatenated with z -> one hidden layer as wide as
those features, LeakyReLU 0.2 -> linear 1 (:class:`trainers.nets.image_pair.JointDiscriminator`, ``joint_hidden``). Prior
z ~ N(0, I_100) (ALI's); Adam 2e-4, beta1 0.5, batch 64 (the DCGAN rows' optimiser: VEEGAN trains every method
of its Table 2 on the one architecture); one simultaneous update per iteration, as above.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from trainers.methods.base import Method, RealBatch, adam, descend_together, register_method
from trainers.methods.gan import GANParams
from trainers.methods.image import ImageCodeParams, ImageNets
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

    @property
    def encoder_noise_dim(self) -> int:
        """Width of the encoder's noise e: an input of E beside x (2-D code)."""
        return int(self.params.e_noise_dim)

    def encode(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        """z_hat = E(x, e), a sample of the encoder's q(z | x)."""
        return self.nets["E"](torch.cat([x, e], dim=-1))

    def judge(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """D's logit on the pair (x, z)."""
        return self.nets["D"](torch.cat([x, z], dim=-1))

    def train_step(self, real: RealBatch, noise: torch.Generator) -> dict[str, torch.Tensor]:
        n = self.batch_size
        G = self.nets["G"]
        x = real(n)
        z = self.noise(n, noise)
        z_hat = self.encode(x, self.randn(n, self.encoder_noise_dim, noise))
        x_fake = G(z)
        d_data = self.judge(x, z_hat)
        d_model = self.judge(x_fake, z)
        d_loss = self.bce(d_data, 1.0) + self.bce(d_model, 0.0)
        ge_loss = self.bce(d_data, 0.0) + self.bce(d_model, 1.0)
        descend_together((d_loss, self.opt["D"]), (ge_loss, self.opt["GE"]))
        return {"d_loss": d_loss.detach(), "g_loss": ge_loss.detach()}


@register_method("ali-dcgan")
class ALIDCGAN(ImageNets, ALI):
    Params = ImageCodeParams

    def build(self, generator: torch.Generator) -> torch.nn.ModuleDict:
        self.nets["G"], D = self.image_pair(generator)
        self.nets["E"] = self.encoder(2 * int(self.params.latent_dim), generator)
        self.nets["D"] = self.pair_discriminator(D, generator)
        return self.nets.to(self.device)

    @property
    def encoder_noise_dim(self) -> int:
        return int(self.params.latent_dim)

    def encode(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        mean, log_std = self.nets["E"](x).chunk(2, dim=-1)
        return mean + log_std.exp() * e

    def judge(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.nets["D"](x, z)
