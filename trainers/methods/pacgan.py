"""PacGAN (Lin et al. 2018): the GAN baseline whose discriminator judges ``pack`` samples at once.

The discriminator's input is ``pack`` real (or ``pack`` generated) samples concatenated; everything else is
the baseline of :mod:`trainers.methods.gan` (the PacGAN code changes only the D input width). Each
iteration therefore draws ``pack x batch_size`` real and generated samples. The paper's Table 1 reports
pack = 2, 3, 4 (``--set pack=3``).

``pacdcgan``: PacDCGAN of PacGAN Tables 2 and 3, i.e. :mod:`trainers.methods.dcgan` with ``pack = 2`` by default
(its D reads ``pack`` images concatenated along channels; the rest is DCGAN's, as PacGAN's fork changes only
D's input).

Both run G once per pack slot (``generator_per_slot``, :meth:`GAN.generate <trainers.methods.gan.GAN.generate>`),
as PacGAN's code does on the 2-D data (``synthetic_data_experiments/PacGAN/pacgan/bricks.py`` ``compute_losses``)
and on Stacked MNIST (``G_sep``), so G's BatchNorm normalises over ``batch_size`` samples per pass as in the
unpacked baseline, not over ``batch_size * pack``. ``generator_per_slot=False`` is the one pass of runs before
2026-11-30 (among them ``benchmarks/reproduce/results/pacgan-table1.md``) and of ``gan``/``dcgan --set pack=m``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trainers.methods.base import register_method
from trainers.methods.dcgan import DCGAN, DCGANParams
from trainers.methods.gan import GAN, GANParams


@dataclass
class Packing:
    """PacGAN's packing degree m (Tables 1-3: 2, 3, 4); ``generator_per_slot``: one G pass per pack slot (module
    docstring)."""

    pack: int = 2
    generator_per_slot: bool = True


class SlotGenerators:
    """Mixin for the packed methods: G runs once per pack slot unless ``generator_per_slot`` is off."""

    params: Any

    @property
    def generator_per_slot(self) -> bool:
        return bool(self.params.generator_per_slot)


@dataclass
class PacGANParams(Packing, GANParams):
    """The GAN baseline's hyper-parameters plus the packing degree."""


@register_method("pacgan")
class PacGAN(SlotGenerators, GAN):
    Params = PacGANParams

    @property
    def pack(self) -> int:  # type: ignore[override]
        return int(self.params.pack)


@dataclass
class PacDCGANParams(Packing, DCGANParams):
    """DCGAN's hyper-parameters, packing 2 by default."""


@register_method("pacdcgan")
class PacDCGAN(SlotGenerators, DCGAN):
    Params = PacDCGANParams
