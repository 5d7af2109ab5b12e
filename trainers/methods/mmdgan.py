"""MMD-GAN (Li, Chang, Cheng, Yang & Poczos 2017, "MMD GAN: Towards Deeper Understanding of Moment Matching
Network"): G minimises the MMD between data and samples under a mixture of Gaussian kernels on the codes of an
adversarially trained encoder-decoder critic, as the authors' ``OctoberChang/MMD-GAN`` ``mmd_gan.py`` trains it.

With ``f = Enc(.)``, ``X`` a real and ``Y`` a generated batch, and ``k(a, b) = sum_sigma exp(-|a - b|^2 / (2 sigma^2))``
over ``sigma_list = [1, 2, 4, 8, 16]`` (``mmd_gan.py`` l. 120, at commit b15c988; ``mmd.py``: ``_mix_rbf_kernel``'s
``gamma = 1 / (2 sigma^2)``), the code's losses are::

    MMD2 = mix_rbf_mmd2(f(X), f(Y))                                        (the BIASED estimate, ``biased=True``)
    one_side = -mean(relu(-(mean f(X) - mean f(Y))))                       (``ONE_SIDED``)
    D maximises  sqrt(relu(MMD2)) + lambda_rg one_side - lambda_AE_X L2(X, Dec f(X)) - lambda_AE_Y L2(Y, Dec f(Y))
    G minimises  sqrt(relu(MMD2)) + lambda_rg one_side
    L2(a, b) = mean((a - b)^2)  (``util.match(.., 'L2')``);  lambda_MMD = 1, lambda_AE_X = lambda_AE_Y = 8, lambda_rg = 16
    (``mmd_gan.py`` l. 137-140; ``ONE_SIDED`` l. 57-67)

and before every D iteration the ENCODER's parameters (not the decoder's) are clamped to [-0.01, 0.01] (l. 166-169). Schedule
(kept as in the code): each G iteration follows ``Diters`` D iterations, each on a fresh real batch, with
``Diters = 100`` for the first 25 G iterations and every 500th, else 5 (l. 155-160; ``critic_iters``, ``warmup_critic_iters``,
``warmup_g_iters``, ``slow_every``); the G-iteration counter is the method's checkpointed state. RMSprop lr 5e-5
for both (l. 134-135; ``util.get_args``), batch 64, and the latent and code dimension ``nz`` of ``run_exp.sh`` for the
data set (the code ties the code dimension to ``nz``, ``mmd_gan.py`` l. 102-105): 10 on the mixtures and at 28 x 28
(its MNIST setting, ``NZ=10``), 128 at 32 x 32 (its CIFAR-10 setting) and 64 at 64 x 64 (its CelebA setting; its
LSUN setting, also 64 x 64, takes 128: ``--set latent_dim=128 --set code_dim=128``). Before 2026-11-30 every kind
took 10 (``--set latent_dim=10 --set code_dim=10`` on images, an ablation). One ``train_step`` is one G iteration with its D iterations.

Deviations, stated: ``sqrt`` is taken of ``max(MMD2, 1e-12)`` rather than ``relu(MMD2)``, since ``sqrt'(0)`` times
relu's zero gradient is NaN in autograd; the code's epoch boundary (which cuts a D loop short when the loader ends)
does not exist with fresh batches. Nets: :mod:`trainers.methods.autoencoder_critic` (the code's ``base_module`` DCGAN
encoder / decoder is the same family as the DCGAN pair used here on images; MLPs on vectors). Seeds group.
Proof: ``tests/test_objective_structure.py`` (the biased and unbiased estimates against a brute-force double sum).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

from trainers.methods.autoencoder_critic import AutoencoderCriticMethod, AutoencoderCriticParams
from trainers.methods.base import BySize, RealBatch, descend, register_method
from trainers.methods.critic import boosted_critic_steps
from trainers.penalties import clip_weights_

SIGMAS = (1.0, 2.0, 4.0, 8.0, 16.0)
#: run_exp.sh's ``NZ`` by data set: MNIST 10 (and the mixtures), CIFAR-10 (32 x 32) 128, CelebA (64 x 64) 64
NZ = (10, BySize(10, ((32, 128), (64, 64))))


@dataclass
class MMDGANParams(AutoencoderCriticParams):
    """Hyper-parameters of MMD-GAN (``mmd_gan.py``, ``util.py``, ``run_exp.sh``; module docstring)."""

    latent_dim: int | None = None
    code_dim: int | None = None
    lambda_ae_x: float = 8.0
    lambda_ae_y: float = 8.0
    lambda_rg: float = 16.0
    clip: float = 0.01
    critic_iters: int = 5
    warmup_critic_iters: int = 100
    warmup_g_iters: int = 25
    slow_every: int = 500
    lr: float = 5e-5


def rbf_mixture_kernels(x: torch.Tensor, y: torch.Tensor, sigmas: tuple[float, ...] = SIGMAS) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``K_XX, K_XY, K_YY`` of ``k(a, b) = sum_sigma exp(-|a - b|^2 / (2 sigma^2))`` for ``x, y`` of shape
    ``[..., m, c]`` (``mmd.py``'s ``_mix_rbf_kernel``: squared distances by the expansion of one Gram matrix)."""
    m = x.shape[-2]
    z = torch.cat([x, y], dim=-2)
    gram = z @ z.transpose(-1, -2)
    norms = gram.diagonal(dim1=-2, dim2=-1)
    squared = norms.unsqueeze(-1) - 2 * gram + norms.unsqueeze(-2)
    kernel = sum(torch.exp(-squared / (2 * sigma**2)) for sigma in sigmas)
    return kernel[..., :m, :m], kernel[..., :m, m:], kernel[..., m:, m:]  # type: ignore[index]


def mmd2(x: torch.Tensor, y: torch.Tensor, sigmas: tuple[float, ...] = SIGMAS, biased: bool = True) -> torch.Tensor:
    """The squared MMD of two equal-size batches ``[..., m, c]`` under :func:`rbf_mixture_kernels` (``mmd.py``'s
    ``_mmd2``). Biased (V-statistic): ``(sum K_XX + sum K_YY - 2 sum K_XY) / m^2``. Unbiased (Gretton et al. 2012,
    eq. 3): the diagonals of ``K_XX`` and ``K_YY`` left out and divided by ``m (m - 1)``; ``K_XY`` over ``m^2``."""
    k_xx, k_xy, k_yy = rbf_mixture_kernels(x, y, sigmas)
    m = x.shape[-2]
    cross = k_xy.sum((-2, -1)) / (m * m)
    if biased:
        return (k_xx.sum((-2, -1)) + k_yy.sum((-2, -1))) / (m * m) - 2 * cross
    within = lambda k: (k.sum((-2, -1)) - k.diagonal(dim1=-2, dim2=-1).sum(-1)) / (m * (m - 1))  # noqa: E731
    return within(k_xx) + within(k_yy) - 2 * cross


def one_sided(difference: torch.Tensor) -> torch.Tensor:
    """The code's ``ONE_SIDED`` rank hinge of ``mean f(X) - mean f(Y)`` (``[..., c]``): ``-mean(relu(-d))``."""
    return -F.relu(-difference).mean(-1)


@register_method("mmdgan")
class MMDGAN(AutoencoderCriticMethod):
    Params = MMDGANParams
    default_steps = 50 * 70_000 // 64
    defaults_by_kind = {"latent_dim": NZ, "code_dim": NZ}
    graph_safe = False  # 100 critic iterations' batches at some steps, 5 at others (see Method.graph_safe)

    def setup(self, generator: torch.Generator) -> None:
        super().setup(generator)
        self.g_iters = torch.zeros((), dtype=torch.int64)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {name: torch.optim.RMSprop(self.nets[name].parameters(), lr=self.params.lr) for name in ("D", "G")}

    def critic_iterations(self) -> int:
        """``Diters`` of the current G iteration (the code's schedule; equal for every grouped seed)."""
        p = self.params
        return boosted_critic_steps(int(self.g_iters.flatten()[0]), p.critic_iters, p.warmup_critic_iters, p.warmup_g_iters, p.slow_every)

    def mmd_loss(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``sqrt(MMD2) + lambda_rg one_side`` of the codes, and both reconstructions' L2 (per seed)."""
        rec_x, code_x = self.nets["D"](x)
        rec_y, code_y = self.nets["D"](y)
        distance = mmd2(code_x, code_y).clamp_min(1e-12).sqrt()
        hinge = one_sided(code_x.mean(-2) - code_y.mean(-2))
        return distance + self.params.lambda_rg * hinge, distance, self.mean(self.squared_error(x, rec_x)), self.mean(self.squared_error(y, rec_y))

    def train_step(self, real: RealBatch, noise: torch.Generator) -> dict[str, torch.Tensor]:
        p, n, G = self.params, self.batch_size, self.nets["G"]
        for _ in range(self.critic_iterations()):
            clip_weights_(self.nets["D"].encoder, p.clip)
            x = real(n)
            with torch.no_grad():
                y = G(self.noise(n, noise))
            critic, distance, ae_x, ae_y = self.mmd_loss(x, y)
            d_objective = critic - p.lambda_ae_x * ae_x - p.lambda_ae_y * ae_y
            descend(-d_objective, self.opt["D"])  # D maximises it (the code's errD.backward(mone))
        g_loss, g_distance, _, _ = self.mmd_loss(real(n), G(self.noise(n, noise)))
        descend(g_loss, self.opt["G"])
        self.g_iters = self.g_iters + 1
        return {"d_loss": -d_objective.detach(), "g_loss": g_loss.detach(), "mmd": g_distance.detach()}

    def extra_state(self) -> dict[str, torch.Tensor]:
        return {"g_iters": self.g_iters.expand(self.nets["G"].group_size).clone() if self.grouped else self.g_iters}

    def load_extra_state(self, state: dict[str, torch.Tensor]) -> None:
        self.g_iters = state["g_iters"]
