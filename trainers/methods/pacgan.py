"""PacGAN (Lin et al. 2018): the GAN baseline whose discriminator judges ``pack`` samples at once.

The discriminator's input is ``pack`` real (or ``pack`` generated) samples concatenated; everything else is
the baseline of :mod:`trainers.methods.gan` (the PacGAN code changes only the D input width). Each
iteration therefore draws ``pack x batch_size`` real and generated samples. The paper's Table 1 reports
pack = 2, 3, 4 (``--set pack=3``).
"""
from __future__ import annotations

from dataclasses import dataclass

from trainers.methods.base import register_method
from trainers.methods.gan import GAN, GANParams


@dataclass
class PacGANParams(GANParams):
    """The GAN baseline's hyper-parameters plus the packing degree (PacGAN Table 1: 2, 3, 4)."""

    pack: int = 2


@register_method("pacgan")
class PacGAN(GAN):
    Params = PacGANParams

    @property
    def pack(self) -> int:  # type: ignore[override]
        return int(self.params.pack)
