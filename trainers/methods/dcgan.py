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

G's BatchNorm when sampling (``sample_batchnorm``; the evaluation samples and the generator evaluators read; the
exported generator file keeps the running statistics, one sample per latent, as every generator file, and its
sidecar says so):
``running`` normalises by the running statistics, as carpedm20's ``sampler`` (``g_bn*(h, train=False)``) and the
VEEGAN-setting fork of PacGAN Table 2 (fjxmlzn/PacGAN ``stacked_MNIST_experiments/VEEGAN_experiment/model.py``
``sampler``, ``train=False``) do; ``batch`` normalises each batch of ``batch_size`` latents by its own statistics, as
the unrolled-GAN-setting fork of PacGAN Table 3 does for its DCGAN and PacDCGAN rows (``unrolled_GAN_experiment/
D=0.25G/model.py`` and ``D=0.5G/model.py`` ``sampler``: ``self.g_bn0(self.h0)`` ... with ``ops.py`` ``batch_norm.
__call__(x, train=True)``, so ``is_training=True``; ``log_metrics`` samples ``num_test_sample`` 25,600 latents in
batches of ``batch_size`` 128), where G never uses its moving averages. Default: ``batch`` with that setting's net
(``net=unrolled28x3``), ``running`` otherwise; ``--set sample_batchnorm=running`` is the Table 3 evaluation of this
toolkit before 2026-11-30. Training is the same either way.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch

from gan_eval.errors import GanEvalError
from trainers.methods.base import RealBatch, adam, added_option, descend, register_method
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
    #: G's BatchNorm when sampling: ``running`` or ``batch`` statistics; None: ``batch`` on ``unrolled28x3`` (PacGAN
    #: Table 3's fork), else ``running`` (module docstring)
    sample_batchnorm: str | None = added_option(None)


#: G's BatchNorm statistics when sampling (``sample_batchnorm``).
SAMPLE_BATCHNORM = ("running", "batch")
#: The net of the setting whose reference sampler normalises by batch statistics (PacGAN Table 3).
BATCH_STATISTICS_NET = "unrolled28x3"


@register_method("dcgan")
class DCGAN(ImageNets, GAN):
    Params = DCGANParams

    @classmethod
    def filled_params(cls, params: Any, kind: str, shape: tuple[int, ...] | None = None) -> Any:
        params = super().filled_params(params, kind, shape)
        if params.sample_batchnorm is None and params.net == BATCH_STATISTICS_NET:
            params = dataclasses.replace(params, sample_batchnorm="batch")
        return params

    def setup(self, generator: torch.Generator) -> None:
        if self.params.sample_batchnorm not in (None, *SAMPLE_BATCHNORM):
            raise GanEvalError(f"method {self.method_name}: sample_batchnorm={self.params.sample_batchnorm!r}; use one of {', '.join(SAMPLE_BATCHNORM)}")
        super().setup(generator)

    @property
    def sample_batch_statistics(self) -> bool:
        return self.params.sample_batchnorm == "batch"

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
