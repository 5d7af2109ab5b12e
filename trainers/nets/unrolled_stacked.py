"""The reduced-discriminator pair of the unrolled-GAN Stacked-MNIST experiment (Metz et al. 2017, Appendix),
as PacGAN re-ran it for its Table 3 (fjxmlzn/PacGAN ``stacked_MNIST_experiments/unrolled_GAN_experiment/
D=0.25G/model.py`` and ``D=0.5G/model.py``, built with carpedm20's ``ops.py``).

    G: z -> linear 4*4*64 -> [64, 4, 4], BN, ReLU -> 3x3 stride-2 deconvs to 32, 16, 8 channels at 7, 14, 28
       (BN, ReLU) -> 3x3 stride-1 conv to C channels -> tanh.
    D: three 3x3 stride-2 convs, each BN + LeakyReLU 0.3 (the first too), to ``d_scale`` x G's deconv widths in
       reverse, i.e. (2, 4, 8) at ``d_scale=0.25`` ("D = 1/4 G") and (4, 8, 16) at 0.5 ("D = 1/2 G"), at 14, 7, 4
       -> flatten (the features: 16 * width) -> linear 1.
TF SAME padding, TF BN (momentum 0.1, eps 1e-5) and carpedm20's init, as :mod:`trainers.nets.dcgan`.
The reference trains it on 60k MNIST-train digits in [-1, 1] with z ~ N(0, I_256).
"""
from __future__ import annotations

from torch import nn

from gan_eval.errors import GanEvalError
from trainers.nets.dcgan import TF_BN
from trainers.nets.image_init import init_carpedm20
from trainers.nets.image_pair import Discriminator, Generator, ImagePair
from trainers.nets.registry import NETS
from trainers.nets.tf_same import SameConv2d, SameConvTranspose2d

G_WIDTHS = (64, 32, 16, 8)  # the 4x4 projection, then the three deconvolutions
BOTTLENECK = 4
KERNEL = 3


def unrolled_stacked_mnist(latent_dim: int, shape: tuple[int, int, int], d_channels: int,
                           output: str, *, d_scale: float = 0.25) -> tuple[Generator, Discriminator]:
    numeric = isinstance(d_scale, (int, float)) and not isinstance(d_scale, bool)
    scaled = [d_scale * w for w in reversed(G_WIDTHS[1:])] if numeric else []
    if not numeric or not all(w >= 1 and float(w).is_integer() for w in scaled):
        raise GanEvalError(f"net 'unrolled28x3': option d_scale={d_scale!r} must make whole D widths from G's "
                           f"{', '.join(map(str, reversed(G_WIDTHS[1:])))} (the papers use 0.25 and 0.5)")
    d_widths = [int(w) for w in scaled]
    g_layers: list[nn.Module] = [
        nn.Linear(latent_dim, G_WIDTHS[0] * BOTTLENECK ** 2),
        nn.Unflatten(1, (G_WIDTHS[0], BOTTLENECK, BOTTLENECK)),
        nn.BatchNorm2d(G_WIDTHS[0], **TF_BN),
        nn.ReLU(),
    ]
    for c_in, c_out, out_size in zip(G_WIDTHS, G_WIDTHS[1:], (7, 14, 28)):
        g_layers += [SameConvTranspose2d(c_in, c_out, KERNEL, 2, out_size), nn.BatchNorm2d(c_out, **TF_BN), nn.ReLU()]
    g_layers.append(SameConv2d(G_WIDTHS[-1], shape[0], KERNEL, 1))

    d_layers: list[nn.Module] = []
    for c_in, c_out in zip([d_channels, *d_widths], d_widths):
        d_layers += [SameConv2d(c_in, c_out, KERNEL, 2), nn.BatchNorm2d(c_out, **TF_BN), nn.LeakyReLU(0.3)]
    d_layers.append(nn.Flatten())

    D = Discriminator(nn.Sequential(*d_layers), d_widths[-1] * BOTTLENECK ** 2)
    return Generator(*g_layers, output=output), D


NETS.add("unrolled28x3", ImagePair("unrolled28x3", 28, unrolled_stacked_mnist, init_carpedm20))
