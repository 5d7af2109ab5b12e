"""EBGAN (Zhao, Mathieu & LeCun 2017, "Energy-based Generative Adversarial Network"): D is an autoencoder whose
energy is its reconstruction error; G is pushed to low energy and to spread its codes (the pull-away term).

With ``D(x) = mean((Dec(Enc(x)) - x)^2)`` per sample (the mean squared error over features, as the reference
ports compute it) and margin ``m`` (paper, eq. 1-2 and eq. 5)::

    L_D = mean_x D(x) + mean_z [m - D(G(z))]^+          (the hinge per sample, as eq. 1 writes it)
    L_G = mean_z D(G(z)) + pt_weight * f_PT(S),         S = Enc(G(z)), the batch's codes
    f_PT(S) = 1 / (N (N - 1)) * sum_i sum_{j != i} (S_i . S_j / (|S_i| |S_j|))^2

Defaults from the widely used PyTorch port (eriklindernoren/PyTorch-GAN ``implementations/ebgan/ebgan.py``):
``lambda_pt = 0.1``, ``margin = max(1, batch_size / 64.)`` = 1 at its batch 64, Adam lr 2e-4, betas (0.5, 0.999),
latent 62, a 32-D code. Deviations, stated: that port squares no cosine in its ``pullaway_loss`` and hinges the
batch mean; we follow the paper's eq. 5 (squared cosines) and eq. 1 (per-sample hinge). The port's G loss also
compares the reconstruction with ``gen_imgs.detach()``, so G's gradient reaches it only through D's
reconstruction; here, as eq. 2's L_G = D(G(z)) with D(x) the reconstruction error of x, it flows through both the
reconstruction and its target G(z). The paper writes the energy as the norm ``||Dec(Enc(x)) - x||``; the mean
squared error is the port's (``nn.MSELoss``). The nets are this package's
(:mod:`trainers.methods.autoencoder_critic`: MLPs on vectors, the DCGAN pair as encoder / decoder on images).
One D and one G update per iteration from one forward pass (``update=simultaneous``: the port's order, a G step
then a D step on the same, pre-update fakes, reads the same D and G); ``sequential`` steps D first, then G on
fresh noise. Seeds group. Proof: ``tests/test_objective_structure.py`` (the pull-away term
against its formula, 0 on orthogonal codes).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

from gan_eval.errors import GanEvalError
from trainers.methods.autoencoder_critic import AutoencoderCriticMethod, AutoencoderCriticParams
from trainers.methods.base import RealBatch, descend, descend_together, register_method


@dataclass
class EBGANParams(AutoencoderCriticParams):
    """Hyper-parameters of EBGAN (the PyTorch-GAN port's defaults; module docstring)."""

    latent_dim: int = 62
    code_dim: int = 32
    margin: float = 1.0
    pt_weight: float = 0.1
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    update: str = "simultaneous"


def pull_away_term(codes: torch.Tensor) -> torch.Tensor:
    """EBGAN's f_PT (eq. 5) of codes ``[..., N, c]``: the mean squared cosine similarity over the ``N (N - 1)``
    ordered pairs of distinct samples; one value per leading index (``[]`` or ``[S]``)."""
    n = codes.shape[-2]
    unit = codes / torch.linalg.vector_norm(codes, dim=-1, keepdim=True)
    cos2 = (unit @ unit.transpose(-1, -2)).square()
    return (cos2.sum((-2, -1)) - cos2.diagonal(dim1=-2, dim2=-1).sum(-1)) / (n * (n - 1))


@register_method("ebgan")
class EBGAN(AutoencoderCriticMethod):
    Params = EBGANParams
    default_steps = 50 * 70_000 // 64  # as dcgan: 50 epochs of Stacked MNIST's pool at batch 64

    def setup(self, generator: torch.Generator) -> None:
        if self.params.pt_weight and self.batch_size < 2:
            raise GanEvalError(f"method ebgan: batch_size={self.batch_size}: the pull-away term compares pairs of samples; "
                               "use a batch of 2 or more (or pt_weight=0)")
        super().setup(generator)

    def energy(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-sample energy (reconstruction MSE) and the codes of ``x``."""
        reconstruction, code = self.nets["D"](x)
        return self.squared_error(x, reconstruction), code

    def d_loss(self, real_energy: torch.Tensor, fake_energy: torch.Tensor) -> torch.Tensor:
        return self.mean(real_energy) + self.mean(F.relu(self.params.margin - fake_energy))

    def g_loss(self, fake_energy: torch.Tensor, fake_code: torch.Tensor) -> torch.Tensor:
        return self.mean(fake_energy) + self.params.pt_weight * pull_away_term(fake_code)

    def train_step(self, real: RealBatch, noise: torch.Generator) -> dict[str, torch.Tensor]:
        n, G = self.batch_size, self.nets["G"]
        x = real(n)
        fake = G(self.noise(n, noise))
        real_energy, _ = self.energy(x)
        if self.update == "simultaneous":
            fake_energy, fake_code = self.energy(fake)
            d_loss = self.d_loss(real_energy, fake_energy)
            g_loss = self.g_loss(fake_energy, fake_code)
            descend_together((d_loss, self.opt["D"]), (g_loss, self.opt["G"]))
        else:
            d_loss = self.d_loss(real_energy, self.energy(fake.detach())[0])
            descend(d_loss, self.opt["D"])
            fake_energy, fake_code = self.energy(G(self.noise(n, noise)))
            g_loss = self.g_loss(fake_energy, fake_code)
            descend(g_loss, self.opt["G"])
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(), "real_energy": self.mean(real_energy).detach()}
