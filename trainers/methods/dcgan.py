"""DCGAN (Radford et al. 2016) on images, as the VEEGAN / PacGAN Stacked-MNIST experiments train it.

Defaults from the carpedm20 DCGAN-tensorflow fork the VEEGAN setting uses (``../shared/PROTOCOLS.md``,
"Stacked-MNIST DCGAN"): z ~ U(-1, 1)^100; the net pair by image size (``net=auto``: ``dcgan28x3`` for
28 x 28 x 3, ``dcgan32`` for 32 x 32, ``dcgan64`` for 64 x 64; any pair of :mod:`trainers.nets` by name);
Adam lr 2e-4, beta1 0.5; batch 64; the non-saturating loss; each iteration one D step, then ``g_steps = 2``
G steps on the same z against the updated D (carpedm20's ``train``: "run g_optim twice to make sure that
d_loss does not go to zero"), i.e. ``update=sequential`` as that reference does it. ``pack > 1`` is
PacDCGAN (PacGAN Tables 2-3: D reads ``pack`` images concatenated along channels). ``default_steps``:
50 epochs of the 70,000-image pool at batch 64. ``output=auto`` ends G in a sigmoid for data in [0, 1] and
in tanh for [-1, 1] (deviation: the PacGAN fork keeps tanh on its [0, 1] Stacked MNIST and scores the raw
output); ``spectral_norm`` None keeps the net's own default (on for ``sn-cnn32``).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from gan_eval.io.latent import LatentSpec
from gan_eval.errors import GanEvalError
from trainers.methods.base import DataShape, RealBatch, descend, register_method
from trainers.methods.gan import GAN
from trainers.nets import build_nets

AUTO_NETS = {28: "dcgan28x3", 32: "dcgan32", 64: "dcgan64"}


def image_net(net: str, shape: tuple[int, ...], method: str, auto: dict[int, str] = AUTO_NETS) -> str:
    """The net pair ``net`` names, or for ``auto`` the one ``auto`` gives the images' size (a one-line error if none)."""
    if net != "auto":
        return net
    size = shape[-1]
    if size not in auto:
        raise GanEvalError(f"method {method}: no default net for {size} x {size} images; name one with --net ({', '.join(auto.values())})")
    return auto[size]


def generator_output(output: str, data: DataShape) -> str:
    """G's output activation: ``auto`` follows the data's range (sigmoid for [0, 1], else tanh; the PacGAN fork kept
    tanh on its [0, 1] Stacked MNIST, which we do not copy); any other value is passed to the net as given."""
    if output != "auto":
        return output
    return "sigmoid" if data.value_range == (0.0, 1.0) else "tanh"


def build_image_nets(method: str, net: str, latent_dim: int, data: DataShape, generator: torch.Generator, *, output: str = "auto",
                     width: int | None = None, **options: object) -> tuple[torch.nn.Module, torch.nn.Module]:
    """``(G, D)`` of the image pair ``net`` for ``data`` (:func:`image_net`, :func:`generator_output`); ``width`` None
    keeps the net's own (carpedm20: 64)."""
    if width is not None:
        options["width"] = width
    return build_nets(image_net(net, data.shape, method), latent_dim, data.shape, generator, output=generator_output(output, data), **options)


@dataclass
class DCGANParams:
    """Hyper-parameters of DCGAN (carpedm20 fork, VEEGAN / PacGAN Stacked-MNIST setting)."""

    net: str = "auto"
    latent_dim: int = 100
    latent_distribution: str = "uniform"
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    batch_size: int = 64
    loss: str = "ns"
    update: str = "sequential"
    g_steps: int = 2
    pack: int = 1
    spectral_norm: bool | None = None
    output: str = "auto"
    width: int | None = None


@register_method("dcgan")
class DCGAN(GAN):
    Params = DCGANParams
    default_steps = 50 * 70_000 // 64
    data_kinds = ("image",)

    @property
    def pack(self) -> int:  # type: ignore[override]
        return int(self.params.pack)

    def latent_spec(self) -> LatentSpec:
        return LatentSpec(int(self.params.latent_dim), self.params.latent_distribution)

    def build(self, generator: torch.Generator) -> torch.nn.ModuleDict:
        p = self.params
        self.nets["G"], self.nets["D"] = build_image_nets(
            "dcgan", p.net, p.latent_dim, self.data, generator, output=p.output, width=p.width, pack=p.pack, spectral_norm=p.spectral_norm
        )
        return self.nets.to(self.device)

    def train_step(self, real: RealBatch, noise: torch.Generator) -> dict[str, torch.Tensor]:
        if self.update == "simultaneous":
            return super().train_step(real, noise)
        n = self.batch_size * self.pack
        G = self.nets["G"]
        x = real(n)
        z = self.noise(n, noise)
        d_loss = self.d_loss(self.discriminate(x), self.discriminate(G(z).detach()))
        descend(d_loss, self.opt["D"])
        for _ in range(self.params.g_steps):
            g_loss = self.g_loss(self.discriminate(G(z)))
            descend(g_loss, self.opt["G"])
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach()}
