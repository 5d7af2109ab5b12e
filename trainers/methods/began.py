"""BEGAN (Berthelot, Schumm & Metz 2017, "BEGAN: Boundary Equilibrium Generative Adversarial Networks"): an
autoencoder D with an L1 reconstruction loss, balanced by the equilibrium variable k_t.

With ``L(v) = mean |v - D(v)|`` per sample (eta = 1, the mean over features as the authors' and carpedm20's
BEGAN-tensorflow code ``tf.reduce_mean(tf.abs(AE_x - x))``), the paper's eq. 4 and Sec. 3.4::

    L_D = L(x) - k_t L(G(z))          L_G = L(G(z))
    k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1)        (clipped to [0, 1] in Sec. 3.4's text)
    M_global = L(x) + |gamma L(x) - L(G(z))|                               (eq. 5, the convergence measure)

Defaults from the paper: gamma = 0.5 (its Figure 2 / experiments use 0.3-0.7), lambda_k = 0.001, k_0 = 0, batch 16,
Adam lr 1e-4 (Sec. 4.1: "initial learning rate of 1e-4"), the embedding h = 64 = latent dimension (``z_num = 64``
in carpedm20/BEGAN-tensorflow ``config.py`` L21), and z ~ U(-1, 1)^64 (the paper's model-architecture section:
"z in [-1, 1]^N_z uniform random samples"; carpedm20 ``trainer.py`` L173-174 ``tf.random_uniform(..., minval=-1.0,
maxval=1.0)``; ``latent_distribution=normal`` is the N(0, I) these trainers drew before, an ablation).
Adam's betas: the paper (Sec. 4.1) names Adam and its learning rate only, i.e. Adam's own defaults (0.9, 0.999: Kingma
& Ba's, and TF's ``AdamOptimizer``'s); carpedm20's ``config.py`` L40-41 declares beta1 0.5, beta2 0.999, but
``trainer.py`` L194 builds ``AdamOptimizer(self.g_lr)`` without them, so that code too runs beta1 0.9. Here 0.9, what
both the paper's text and the port's running code give (the authors released no code); ``--set beta1=0.5`` is the
port's unused flag and these trainers' default before 2026-11-30 (an ablation). Kept out: the learning-rate decay. The paper halves
the rate "when the measure of convergence stalls" (not reproducible from the text); carpedm20 instead halves both
rates every ``lr_update_step`` = 100,000 steps, from 8e-5 down to 2e-5 (``config.py`` L36-39; ``trainer.py``
L68-69, L163-164; its stall test is commented out).
Nets: :mod:`trainers.methods.autoencoder_critic` (MLPs on vectors). On images (``net=began``, ``output=linear``) the
authors' nets as carpedm20/BEGAN-tensorflow ``models.py`` builds them (:mod:`trainers.nets.began`: 3x3 ELU conv
blocks, no BatchNorm, nearest-neighbour upsampling, n = ``width`` = 128, the embedding h = ``code_dim``, G's and the
decoder's output linear in training, the samples clipped to the data's range as its ``denorm_img`` clips saved
images; the data in [-1, 1] as its ``norm_img``); ``net=auto output=auto`` is the DCGAN pair ending in tanh /
sigmoid that these trainers used before 2026-11-30, an ablation. Both are image defaults (``defaults_by_kind``), so
the 2-D runs' settings read as before. One update of D, G and k_t per iteration from one forward pass on one z
(``update=simultaneous``, as carpedm20's ``k_update`` runs with both optimisers in one ``session.run``);
``sequential`` steps D, then G on fresh noise, then k_t from the D step's L(x) and the G step's L(G(z)).

k_t is the method's state beyond its networks (:meth:`extra_state`, one value per grouped seed), checkpointed so
that a resume is bit-identical; ``m_global`` and ``k`` are reported with the losses at every evaluation.
Proof: ``tests/test_objective_structure.py`` (k_t's update on fixed losses against the formula, clipping included;
the image nets' structure), ``tests/test_image_nets.py`` (the nets' variables against ``models.py``).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from gan_eval.io.latent import LatentSpec
from trainers.methods.autoencoder_critic import AutoencoderCriticMethod, AutoencoderCriticParams
from trainers.methods.base import RealBatch, descend, descend_together, register_method


@dataclass
class BEGANParams(AutoencoderCriticParams):
    """Hyper-parameters of BEGAN (module docstring)."""

    gamma: float = 0.5
    lambda_k: float = 0.001
    k_0: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.999
    batch_size: int = 16
    update: str = "simultaneous"
    latent_distribution: str = "uniform"
    net: str | None = None
    output: str | None = None


def equilibrium_step(k: torch.Tensor, real_loss: torch.Tensor, fake_loss: torch.Tensor, gamma: float,
                     lambda_k: float) -> torch.Tensor:
    """BEGAN's ``k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1)`` on detached losses."""
    return (k + lambda_k * (gamma * real_loss.detach() - fake_loss.detach())).clamp(0.0, 1.0)


def convergence_measure(real_loss: torch.Tensor, fake_loss: torch.Tensor, gamma: float) -> torch.Tensor:
    """BEGAN's ``M_global = L(x) + |gamma L(x) - L(G(z))|`` (eq. 5)."""
    return (real_loss + (gamma * real_loss - fake_loss).abs()).detach()


@register_method("began")
class BEGAN(AutoencoderCriticMethod):
    Params = BEGANParams
    default_steps = 50 * 70_000 // 16  # 50 epochs of Stacked MNIST's pool at the paper's batch 16
    #: images: BEGAN's own nets with a linear output (module docstring); vectors: the family's MLPs, which read neither
    defaults_by_kind = {"net": ("auto", "began"), "output": ("auto", "linear")}

    def setup(self, generator: torch.Generator) -> None:
        super().setup(generator)
        self.k = torch.tensor(float(self.params.k_0), device=self.device)

    def latent_spec(self) -> LatentSpec:
        return LatentSpec(int(self.params.latent_dim), self.params.latent_distribution)

    def reconstruction_loss(self, x: torch.Tensor) -> torch.Tensor:
        """L(x) of the batch: one value, or one per grouped seed."""
        return self.mean(self.absolute_error(x, self.nets["D"](x)[0]))

    def train_step(self, real: RealBatch, noise: torch.Generator) -> dict[str, torch.Tensor]:
        p, n, G = self.params, self.batch_size, self.nets["G"]
        x = real(n)
        fake = G(self.noise(n, noise))
        real_loss = self.reconstruction_loss(x)
        if self.update == "simultaneous":
            fake_loss = self.reconstruction_loss(fake)
            d_loss = real_loss - self.k * fake_loss
            descend_together((d_loss, self.opt["D"]), (fake_loss, self.opt["G"]))
        else:
            d_loss = real_loss - self.k * self.reconstruction_loss(fake.detach())
            descend(d_loss, self.opt["D"])
            fake_loss = self.reconstruction_loss(G(self.noise(n, noise)))
            descend(fake_loss, self.opt["G"])
        if self.k.shape != real_loss.shape:  # a grouped method's first step: one k per seed from the shared k_0
            self.k = self.k.expand_as(real_loss).clone()
        # in place: a CUDA graph of the step (trainers.stepper) replays its update of this very tensor
        self.k.copy_(equilibrium_step(self.k, real_loss, fake_loss, p.gamma, p.lambda_k))
        return {
            "d_loss": d_loss.detach(),
            "g_loss": fake_loss.detach(),
            "real_loss": real_loss.detach(),
            "k": self.k.clone(),
            "m_global": convergence_measure(real_loss, fake_loss, p.gamma),
        }

    def extra_state(self) -> dict[str, torch.Tensor]:
        return {"k": self.k}

    def load_extra_state(self, state: dict[str, torch.Tensor]) -> None:
        self.k = state["k"].to(self.device)
