"""DCGAN as carpedm20/DCGAN-tensorflow builds it (``model.py``, ``ops.py``), the code VEEGAN's and PacGAN's
Stacked-MNIST and CelebA experiments fork (fjxmlzn/PacGAN ``stacked_MNIST_experiments/VEEGAN_experiment/model.py``,
``celeba_experiments/pacgan_task_wrapper_celebA.py``), at ``gf_dim = df_dim = 64``.

For ``s x s`` images (``s16 = ceil(s / 16)`` after four halvings, as ``conv_out_size_same``):
    G: z -> linear 8*64*s16*s16 -> [512, s16, s16], BN, ReLU -> 5x5 stride-2 deconvs to 256, 128, 64 channels
       (BN, ReLU) at s/8, s/4, s/2 -> 5x5 stride-2 deconv to C channels at s -> tanh.
    D: 5x5 stride-2 convs to 64, 128, 256, 512 channels, LeakyReLU 0.2, BN on all but the first
       -> flatten (the features: 512 * s16 * s16) -> linear 1.
Every convolution is padded as TF's SAME; BN as ``tf.contrib.layers.batch_norm(decay=0.9, epsilon=1e-5)``, i.e.
momentum 0.1, eps 1e-5; init in :func:`~trainers.nets.image_init.init_dcgan` (truncated-normal convs).
All three registered sizes are this one net: 28 x 28 x 3 is PacGAN's/VEEGAN's Stacked MNIST (2 x 2 bottleneck),
64 x 64 is PacGAN's CelebA, 32 x 32 the same recipe at CIFAR-10's size (2 x 2 bottleneck).
The reference G ends in tanh even where its data lie in [0, 1] (VEEGAN setting: ``X_stacked / 255.``).
"""
from __future__ import annotations

import math

from torch import nn

from gan_eval.errors import GanEvalError
from trainers.nets.image_init import init_carpedm20
from trainers.nets.image_pair import Discriminator, Generator, ImagePair
from trainers.nets.registry import NETS
from trainers.nets.tf_same import SameConv2d, SameConvTranspose2d

GF_DIM = 64  # carpedm20 main.py's gf_dim = df_dim, kept by both forks
KERNEL = 5
TF_BN = {"eps": 1e-5, "momentum": 0.1}  # tf.contrib.layers.batch_norm(decay=0.9, epsilon=1e-5)
D_NORMS = ("batch", "layer", "off")


def carpedm20_dcgan(latent_dim: int, shape: tuple[int, int, int], d_channels: int,
                    output: str, *, width: int = GF_DIM, d_norm: str = "batch") -> tuple[Generator, Discriminator]:
    """``width``: carpedm20's ``gf_dim = df_dim`` (64); smaller widths make the same net cheaper (tests).
    ``d_norm``: what normalises D's hidden convolutions (all but the first), one of :data:`D_NORMS`: ``batch``
    (carpedm20's BatchNorm), ``off`` (none: the WGAN-GP critic of ``gan_cifar.py`` and the SN-GAN one; a gradient
    penalty is per sample, which a D that normalises over the batch is not: Gulrajani et al. 2017, Sec. 4), or
    ``layer``: igul222/improved_wgan_training ``gan_64x64.py``'s ``Normalize`` (L84-90) in wgan-gp mode, its
    ``Layernorm`` (``tflib/ops/layernorm.py``) of each sample over (C, H, W) with a per-channel scale and offset and
    eps 1e-5, which is ``GroupNorm`` with one group."""
    if d_norm not in D_NORMS:
        raise GanEvalError(f"net dcgan: option d_norm must be one of {', '.join(D_NORMS)}, got {d_norm!r}")
    channels, size = shape[0], shape[1]
    sizes = [size]
    for _ in range(4):
        sizes.append(math.ceil(sizes[-1] / 2))  # s, s2, s4, s8, s16
    widths = [width * 8, width * 4, width * 2, width]
    g_layers: list[nn.Module] = [
        nn.Linear(latent_dim, widths[0] * sizes[4] ** 2),
        nn.Unflatten(1, (widths[0], sizes[4], sizes[4])),
        nn.BatchNorm2d(widths[0], **TF_BN),
        nn.ReLU(),
    ]
    for c_in, c_out, out_size in zip(widths, widths[1:], sizes[3:0:-1]):
        g_layers += [SameConvTranspose2d(c_in, c_out, KERNEL, 2, out_size), nn.BatchNorm2d(c_out, **TF_BN), nn.ReLU()]
    g_layers.append(SameConvTranspose2d(widths[-1], channels, KERNEL, 2, size))

    d_widths = [width, width * 2, width * 4, width * 8]
    d_layers: list[nn.Module] = [SameConv2d(d_channels, d_widths[0], KERNEL, 2), nn.LeakyReLU(0.2)]
    for c_in, c_out in zip(d_widths, d_widths[1:]):
        norm = {"batch": [nn.BatchNorm2d(c_out, **TF_BN)], "layer": [nn.GroupNorm(1, c_out, eps=1e-5)], "off": []}[d_norm]
        d_layers += [SameConv2d(c_in, c_out, KERNEL, 2), *norm, nn.LeakyReLU(0.2)]
    d_layers.append(nn.Flatten())

    D = Discriminator(nn.Sequential(*d_layers), d_widths[-1] * sizes[4] ** 2)
    return Generator(*g_layers, output=output), D


NETS.add("dcgan28x3", ImagePair("dcgan28x3", 28, carpedm20_dcgan, init_carpedm20))
NETS.add("dcgan32", ImagePair("dcgan32", 32, carpedm20_dcgan, init_carpedm20))
NETS.add("dcgan64", ImagePair("dcgan64", 64, carpedm20_dcgan, init_carpedm20))
