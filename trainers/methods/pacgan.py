"""PacGAN (Lin et al. 2018): the GAN baseline whose discriminator judges ``pack`` samples at once.

The discriminator's input is ``pack`` real (or ``pack`` generated) samples concatenated; everything else is
the baseline of :mod:`trainers.methods.gan` (the PacGAN code changes only the D input width). Each
iteration therefore draws ``pack x batch_size`` real and generated samples. The paper's Table 1 reports
pack = 2, 3, 4 (``--set pack=3``).

``pacdcgan``: PacDCGAN of PacGAN Tables 2 and 3, i.e. :mod:`trainers.methods.dcgan` with ``pack = 2`` by default
(its D reads ``pack`` images concatenated along channels; the rest is DCGAN's, as PacGAN's fork changes only
D's input). As that fork does, G runs once per pack slot (``generator_per_slot``, :meth:`GAN.generate
<trainers.methods.gan.GAN.generate>`), so its BatchNorm normalises over ``batch_size`` images per pass as in the
DCGAN row, not over ``batch_size * pack``; ``generator_per_slot=False`` is the one pass of runs before 2026-11-30
(and of ``dcgan --set pack=m``). The 2-D ``pacgan`` still draws all slots in one pass, although PacGAN's 2-D code
(``pacgan/bricks.py`` ``compute_losses``) also runs G per slot.
"""
from __future__ import annotations

from dataclasses import dataclass

from trainers.methods.base import register_method
from trainers.methods.dcgan import DCGAN, DCGANParams
from trainers.methods.gan import GAN, GANParams


@dataclass
class Packing:
    """PacGAN's packing degree m (Tables 1-3: 2, 3, 4)."""

    pack: int = 2


@dataclass
class PacGANParams(Packing, GANParams):
    """The GAN baseline's hyper-parameters plus the packing degree."""


@register_method("pacgan")
class PacGAN(GAN):
    Params = PacGANParams

    @property
    def pack(self) -> int:  # type: ignore[override]
        return int(self.params.pack)


@dataclass
class PacDCGANParams(Packing, DCGANParams):
    """DCGAN's hyper-parameters, packing 2 by default; ``generator_per_slot``: one G pass per pack slot (module
    docstring)."""

    generator_per_slot: bool = True


@register_method("pacdcgan")
class PacDCGAN(DCGAN):
    Params = PacDCGANParams
    method_name = "pacdcgan"

    @property
    def generator_per_slot(self) -> bool:
        return bool(self.params.generator_per_slot)
