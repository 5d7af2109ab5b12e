"""VEEGAN (Srivastava et al. 2017): a reconstructor F maps data to noise; D judges (z, x) pairs.

Algorithm 1 of the paper, with the networks of the authors' 2-D notebooks:

* D(z, x) is trained by cross-entropy to tell generated pairs (z, G(z)) (label 1) from data pairs
  (F(x) + e, x), e ~ N(0, I) (label 0), so its logit estimates log q(x|z)p(z) / p(z|x)p(x);
* G minimises  mean D(z, G(z)) + mean d(z, F(G(z)))  and F minimises  mean d(z, F(G(z))), with the
  noise-space autoencoder loss d(z, z') = 0.5 ||z - z'||^2 (the negative log-likelihood of z under
  F's Gaussian N(F(x), I), without its constant);
* one D and one (G, F) update per iteration on the same batch, from one forward pass (``update=simultaneous``,
  as the notebook's single ``sess.run`` of both training ops); ``update=sequential`` steps D first and then
  (G, F) against the updated D.

Defaults (notebook): z ~ N(0, I_254) plus one extra N(0, 1) input of G that F does not reconstruct
(G's input is 255-D; the exported generator takes all 255); G: FC128-ReLU-FC128-ReLU-linear;
F: FC128-ReLU-FC128-ReLU-linear to 254; D: [x, z] -> FC128-ReLU -> logit; Glorot-uniform init (TF-slim's
default); Adam lr 1e-3, beta1 0.5; batch 500; 100k iterations, fresh data every batch.

``reconstructor=False`` is the plain-GAN ablation on the same networks, loss convention and optimiser: no F,
D sees x alone and G minimises the mean D logit (the notebooks' "vanilla GAN" switch). ``veegan-table1`` uses
it as its GAN row, so that the row differs from VEEGAN by the reconstructor only. Observed on ring8, seed 0,
one CPU thread (``benchmarks/reproduce/results/ring8-20k.md``): the ablation sits on one mode up to 8k
iterations (2,200 of 2,500 samples nearest (-1, 0) at 6k), then spreads to 8 modes by 12k and reaches 90.7 %
HQ at 20k; VEEGAN covers 7 modes by 6k and 8 by 10k but sharpens slowly (10.8 % HQ at 20k; the paper: 52.9 %
after 100k). Those figures are of ``update=sequential``. That is one trajectory: over 10 seeds and two CPU kernel sets
(``benchmarks/reproduce/results/veegan-claim-seeds.md``) VEEGAN averages 3.6 modes at 6k and 6.5 at 8k, the
ablation holds 0-2 modes at every 1k evaluation up to 7k in all 20 runs and has left its mode by 8k in 3.
The reconstructor buys early coverage here, not a better end point at 20k.

``veegan-dcgan``: the same step on images with the DCGAN nets of VEEGAN Table 2 (:mod:`trainers.methods.image`):
G the net's generator; F the net's discriminator body without its BatchNorm under a linear head to the 100-D code
(the mean of F's N(F(x), I)); D(z, x) the body's features of x concatenated with z -> one hidden layer as wide as those
features, LeakyReLU 0.2 -> linear 1 (as the 2-D D's FC128-ReLU on [x, z]; ``joint_hidden``) (with ``reconstructor=False``
the net's own D on x). z ~ N(0, I_100) (VEEGAN's standard-normal code), no extra noise input; Adam 2e-4,
beta1 0.5, batch 64 (the DCGAN optimiser the table's rows share). The authors released no image code: this
is our reading of the paper's "DCGAN architecture" for every method.

F has no BatchNorm because with it G never left its initial grey field (Stacked MNIST, width 8, seed 0: the spread of
G's images over a batch 0.013 at step 0 and 0.012 at 300; 1 mode of 1000 at 300 iterations in both seeds). In
training mode F normalised each batch of G's near-identical images to unit spread, decoded z from differences of
1 % (the reconstruction term fell from 51 to 17 in 600 steps while G stayed grey), and the gradient of that term
at G, growing as the images' spread shrank, was 15x D's at step 0 and 700x at step 600: G's Adam steps followed
it alone. Without BatchNorm (the 2-D notebook's F has none) the spread is 0.12 at 300 iterations, 19.5 ± 12.0
modes (2 seeds; DCGAN 15.5 ± 3.5); ``reconstructor_batchnorm=True`` keeps the old F as an ablation
(``benchmarks/reproduce/results/stacked-mnist-cpu-status.md``, "VEEGAN's grey field").
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from gan_eval.io.latent import LatentSpec
from trainers.methods.base import Method, RealBatch, adam, descend, descend_together, register_method
from trainers.methods.image import ImageCodeParams, ImageNets
from trainers.nets import init_xavier, mlp


@dataclass
class ReconstructorParams:
    """What VEEGAN adds to a GAN: the reconstructor, the weight of its noise-space loss, the update order."""

    reconstruction_weight: float = 1.0
    reconstructor: bool = True
    update: str = "simultaneous"


@dataclass
class VEEGANParams(ReconstructorParams):
    """Hyper-parameters of VEEGAN (the authors' 2-D notebook)."""

    latent_dim: int = 254
    extra_noise_dim: int = 1
    hidden: int = 128
    g_layers: int = 2
    f_layers: int = 2
    d_hidden: int = 128
    d_layers: int = 1
    lr: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    batch_size: int = 500


@register_method("veegan")
class VEEGAN(Method):
    Params = VEEGANParams
    default_steps = 100_000

    def latent_spec(self) -> LatentSpec:
        return LatentSpec(int(self.params.latent_dim + self.params.extra_noise_dim), "normal")

    def build(self, generator: torch.Generator) -> torch.nn.ModuleDict:
        p = self.params
        self.nets["G"] = mlp([p.latent_dim + p.extra_noise_dim, *[p.hidden] * p.g_layers, self.data_dim], "relu")
        if p.reconstructor:
            self.nets["F"] = mlp([self.data_dim, *[p.hidden] * p.f_layers, p.latent_dim], "relu")
        d_input = self.data_dim + (p.latent_dim if p.reconstructor else 0)
        self.nets["D"] = mlp([d_input, *[p.d_hidden] * p.d_layers, 1], "relu")
        init_xavier(self.nets, generator)
        return self.nets.to(self.device)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        betas = (p.beta1, p.beta2)
        gf = [q for name in ("G", "F") if name in self.nets for q in self.nets[name].parameters()]
        return {"D": adam(self.nets["D"].parameters(), p.lr, betas), "GF": adam(gf, p.lr, betas)}

    def judge(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """D's logit on the pair (z, x)."""
        return self.nets["D"](torch.cat([x, z], -1))

    def train_step(self, real: RealBatch, noise: torch.Generator) -> dict[str, torch.Tensor]:
        if not self.params.reconstructor:
            return self._gan_step(real, noise)
        p, n = self.params, self.batch_size
        G, F = self.nets["G"], self.nets["F"]
        x = real(n)
        z_full = self.noise(n, noise)
        z = z_full[..., : p.latent_dim]
        e = self.randn(n, p.latent_dim, noise)
        x_fake = G(z_full)
        z_data = F(x) + e
        simultaneous = self.update == "simultaneous"
        generated = self.judge(x_fake if simultaneous else x_fake.detach(), z)
        d_loss = self.bce(generated, 1.0) + self.bce(self.judge(x, z_data.detach()), 0.0)
        if not simultaneous:
            descend(d_loss, self.opt["D"])
            generated = self.judge(x_fake, z)
        reconstruction = 0.5 * p.reconstruction_weight * self.mean((z - F(x_fake)).pow(2).sum(dim=-1))
        adversarial = self.mean(generated)
        if simultaneous:
            descend_together((d_loss, self.opt["D"]), (adversarial + reconstruction, self.opt["GF"]))
        else:
            descend(adversarial + reconstruction, self.opt["GF"])
        return {"d_loss": d_loss.detach(), "g_loss": adversarial.detach(), "reconstruction": reconstruction.detach()}

    def _gan_step(self, real: RealBatch, noise: torch.Generator) -> dict[str, torch.Tensor]:
        """The ablation: the same step with F, z in D's input and the reconstruction term removed."""
        G, D = self.nets["G"], self.nets["D"]
        x = real(self.batch_size)
        x_fake = G(self.noise(self.batch_size, noise))
        simultaneous = self.update == "simultaneous"
        generated = D(x_fake if simultaneous else x_fake.detach())
        d_loss = self.bce(generated, 1.0) + self.bce(D(x), 0.0)
        if simultaneous:
            adversarial = self.mean(generated)
            descend_together((d_loss, self.opt["D"]), (adversarial, self.opt["GF"]))
        else:
            descend(d_loss, self.opt["D"])
            adversarial = self.mean(D(x_fake))
            descend(adversarial, self.opt["GF"])
        return {"d_loss": d_loss.detach(), "g_loss": adversarial.detach()}


@dataclass
class VEEGANDCGANParams(ImageCodeParams, ReconstructorParams):
    """VEEGAN on the DCGAN nets (module docstring). ``reconstructor_batchnorm``: keep the BatchNorm of the D body
    that F is built from (the construction before 2026-11-30, which keeps G at its initial grey field; an ablation)."""

    reconstructor_batchnorm: bool = False


@register_method("veegan-dcgan")
class VEEGANDCGAN(ImageNets, VEEGAN):
    Params = VEEGANDCGANParams

    def build(self, generator: torch.Generator) -> torch.nn.ModuleDict:
        self.nets["G"], D = self.image_pair(generator)
        if self.params.reconstructor:
            self.nets["F"] = self.encoder(int(self.params.latent_dim), generator, batchnorm=self.params.reconstructor_batchnorm)
            D = self.pair_discriminator(D, generator)
        self.nets["D"] = D
        return self.nets.to(self.device)

    def judge(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.nets["D"](x, z)
