"""WAE (Tolstikhin, Bousquet, Gelly & Schoelkopf 2018, "Wasserstein Auto-Encoders"): a deterministic encoder, the
reconstruction cost, and a latent penalty matching the aggregate posterior Q_Z to the prior P_Z = N(0, I):

* ``penalty=mmd`` (WAE-MMD, Algorithm 2): :func:`trainers.autoencoding.mmd_imq`, the unbiased MMD^2 over the
  inverse multiquadratics kernels of the code (``wae.py`` ``mmd_penalty``, L287-310 at tolstikhin/wae 6351565);
* ``penalty=gan`` (WAE-GAN, Algorithm 1): a latent discriminator trained by cross-entropy (prior real, codes
  fake) and E's non-saturating term (``wae.py`` ``gan_penalty`` L312-330: ``loss_match = loss_Qz_trick``),
  the adversary an MLP of 4 x 512 ReLU (``models.py`` ``z_adversary`` L329-355; ``configs.py`` L96-97).

E and G minimise ``0.05 ||x - G(E(x))||^2 + lambda * penalty`` (``wae.py`` L84-89 and ``reconstruction_loss``
L339-342: ``cost='l2sq'`` weighted 0.05), lambda = 10 (``configs.py`` L105, MNIST; the code keeps the one lambda
for both penalties; the paper's text uses 1 for WAE-GAN, set ``--latent-weight 1`` for that). Adam with beta1 0.5,
lr 1e-3 for E and G and 5e-4 for the adversary (``configs.py`` L70-73; ``wae.py`` ``optimizer`` L367-373; beta2:
TF's default 0.999), batch 100 (L75), prior N(0, I) with ``pz_scale`` 1 (L100-102).

The encoder (``encoder_noise``, the code's ``e_noise``; ``wae.py`` L52-71, ``models.py`` ``encoder`` L6-36):

* ``deterministic`` (the default, as the paper's experiments): ``z = E(x)``;
* ``add_noise`` (the MNIST and CelebA configs' ``e_noise``, ``configs.py`` L86 and L34; ``models.py`` L8-16): during
  training E reads ``x + n`` with n truncated-normal, sd 0.01, cut at 2 sd (``tf.truncated_normal(shape, 0.0,
  0.01)``); the reconstruction target stays the clean x (``wae.py`` L86-87 compares ``sample_points``);
* ``gaussian`` (``wae.py`` L58-71; the e_noise of the code's MLP "toy MNIST" config, ``configs.py`` L108-123, with a
  4-D z and 3 x 256 MLPs): E outputs a mean m and a log-variance, clipped to [-50, 50]; the code is
  ``m + sqrt(1e-8 + exp(log s^2)) e``, e ~ N(0, I), one draw per data point; the penalties see these codes.
  Rubenstein, Schoelkopf & Tolstikhin ("On the latent space of Wasserstein auto-encoders", 2018) show why a
  deterministic encoder cannot match a prior of more dimensions than the data's: its codes lie on the image of
  the data manifold (here a 2-D image of near-discrete 2-D data in a 32-D latent).

On the 2-D mixtures (the BMS paper's Table 1, which states no WAE settings) the deterministic default in a 32-D
latent puts each mode's codes in a tight cluster the MMD does not spread, and prior samples decode between the modes;
``benchmarks/reproduce/wae_mixtures_probe.py`` tries the encoders, latent sizes, weights and WAE-GAN
(``benchmarks/reproduce/results/wae-mixtures-probe.md``): the Gaussian encoder in a 2-D latent covers the modes, but
the weight of the cost it needs depends on the data's scale (0.05 on the grid, 1 on the ring), and none reaches the
paper's HQ.

Other choices the code leaves open or that differ here: the adversary's loss is not multiplied by lambda
(``wae.py`` L326 does; Adam is invariant to that scale up to its epsilon); WAE-GAN's adversary steps from the
same forward pass as E and G (the code runs ``ae_opt``, then ``z_adv_opt`` on the same batch and prior draw with
the updated encoder's codes, ``wae.py`` L590-611); its weights are Glorot-uniform, not the code's N(0, 0.01^2)
(``configs.py`` L77 ``init_std``, ``ops.py`` ``linear`` L69-72); no encoder pre-training
(``e_pretrain``) and no lambda or learning-rate schedule (``config_mnist``'s ``lr_schedule='manual'`` halves both
rates at epoch 30 and divides them by 5 more at epoch 50, ``wae.py`` L542-548, as the paper's MNIST setup; epochs
have no meaning on the mixtures' fresh samples); nets and latent sizes are the family's
(:mod:`trainers.methods.autoencoding`; the MNIST config's z is 8-D, use ``--latent-dim 8`` for it).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from gan_eval.errors import GanEvalError
from trainers.methods.autoencoding import AutoencodingMethod, AutoencodingParams
from trainers.methods.base import added_option, register_method

PENALTIES = {"mmd": "mmd", "gan": "adversarial"}
ENCODER_NOISE = ("deterministic", "add_noise", "gaussian")
#: ``add_noise``'s sd on E's input, and its truncation (``tf.truncated_normal`` redraws beyond 2 sd).
INPUT_NOISE_SD, INPUT_NOISE_CUT = 0.01, 2.0
#: The Gaussian encoder's variance floor and log-variance clip (``wae.py`` L61 and L69).
VARIANCE_FLOOR, LOG_VARIANCE_CLIP = 1e-8, 50.0


@dataclass
class WAEParams(AutoencodingParams):
    """WAE's hyper-parameters (tolstikhin/wae ``configs.py`` ``config_mnist``)."""

    penalty: str = "mmd"
    encoder_noise: str = added_option("deterministic")
    batch_size: int | None = 100
    cost: str = "l2sq"
    reconstruction_weight: float = 0.05
    latent_weight: float = 10.0
    latent_d_hidden: int = 512
    latent_d_layers: int = 4
    code_loss: str = "ns"
    lr: float = 1e-3
    d_lr: float = 5e-4
    beta2: float = 0.999


@register_method("wae")
class WAE(AutoencodingMethod):
    Params = WAEParams
    default_steps = 100 * 60_000 // 100  # configs.py L76: 100 epochs of MNIST's 60k at batch 100

    @property
    def code_matching(self) -> str:
        if self.params.penalty not in PENALTIES:
            raise GanEvalError(f"penalty={self.params.penalty!r} is unknown; use mmd (WAE-MMD) or gan (WAE-GAN)")
        return PENALTIES[self.params.penalty]

    @property
    def gaussian_encoder(self) -> bool:  # type: ignore[override]
        if self.params.encoder_noise not in ENCODER_NOISE:
            raise GanEvalError(f"encoder_noise={self.params.encoder_noise!r} is unknown; use one of {', '.join(ENCODER_NOISE)}")
        return self.params.encoder_noise == "gaussian"

    def encoder_input(self, x: torch.Tensor, noise: torch.Generator) -> torch.Tensor:
        """``x`` plus truncated-normal noise under ``add_noise`` (module docstring), drawn from the noise generator."""
        if self.params.encoder_noise != "add_noise":
            return x
        cut = INPUT_NOISE_CUT * INPUT_NOISE_SD
        shape = x.shape[1:] if self.grouped else x.shape
        draw = lambda g: torch.nn.init.trunc_normal_(torch.empty(shape), 0.0, INPUT_NOISE_SD, -cut, cut, generator=g)  # noqa: E731
        return x + self._draw(draw, noise)

    def code_sd(self, log_variance: torch.Tensor) -> torch.Tensor:
        """``sqrt(1e-8 + exp(clip(log s^2, -50, 50)))``, the reference's form (``wae.py`` L61, L68-69)."""
        return (VARIANCE_FLOOR + log_variance.clamp(-LOG_VARIANCE_CLIP, LOG_VARIANCE_CLIP).exp()).sqrt()
