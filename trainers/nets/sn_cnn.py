"""The "standard CNN" of the SN-GAN paper (Miyato et al. 2018, Table 3) for 32 x 32 images (M = 32, M_g = 4).

    G: z -> dense 4*4*512, BN, ReLU -> [512, 4, 4] -> 4x4 stride-2 deconvs to 256, 128, 64 channels (BN, ReLU)
       -> 3x3 stride-1 conv to C channels -> tanh.
    D: 3x3 s1 conv 64, 4x4 s2 conv 64, 3x3 s1 conv 128, 4x4 s2 conv 128, 3x3 s1 conv 256, 4x4 s2 conv 256,
       3x3 s1 conv 512, each LeakyReLU 0.1 ("the slopes of all lReLU functions are set to 0.1"), no BN
       -> flatten (the features: 512 * 4 * 4) -> dense 1. Spectral normalisation on by default, as trained there.
Padding 1 on every conv (4x4 stride 2 halves the size), as the authors' lab's chainer-gan-lib ``common/net.py``
(``DCGANGenerator``, ``SNDCGANDiscriminator``), which also fixes what Table 3 leaves open: the dense layer of G is
followed by BN over its 8192 units and ReLU; weights N(0, 0.02^2), biases 0; chainer's BN (decay 0.9, eps 2e-5).
That code differs from Table 3 elsewhere (stride-2 convs double the width, LeakyReLU 0.2; its README: "not
faithful re-implementation"): Table 3 is followed there.
"""
from __future__ import annotations

from torch import nn

from trainers.nets.image_init import init_dcgan
from trainers.nets.image_pair import Discriminator, Generator, ImagePair
from trainers.nets.registry import NETS

BOTTOM, WIDTH = 4, 64  # M_g, and Table 3's narrowest channels (G's dense layer has 8 x WIDTH)
CHAINER_BN = {"eps": 2e-5, "momentum": 0.1}  # chainer L.BatchNormalization(decay=0.9, eps=2e-5)
D_MULTIPLES = (1, 1, 2, 2, 4, 4, 8)  # Table 3 (b): 64, 64, 128, 128, 256, 256, 512 channels at WIDTH 64
SLOPE = 0.1


def sn_standard_cnn(latent_dim: int, shape: tuple[int, int, int], d_channels: int,
                    output: str, *, width: int = WIDTH) -> tuple[Generator, Discriminator]:
    """``width``: Table 3's narrowest channel count (64); every layer scales with it, so smaller widths make the same
    net cheaper (tests)."""
    top = 8 * width
    g_layers: list[nn.Module] = [
        nn.Linear(latent_dim, BOTTOM * BOTTOM * top),
        nn.BatchNorm1d(BOTTOM * BOTTOM * top, **CHAINER_BN),
        nn.ReLU(),
        nn.Unflatten(1, (top, BOTTOM, BOTTOM)),
    ]
    for c_in, c_out in ((top, top // 2), (top // 2, top // 4), (top // 4, top // 8)):
        g_layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), nn.BatchNorm2d(c_out, **CHAINER_BN), nn.ReLU()]
    g_layers.append(nn.Conv2d(top // 8, shape[0], 3, 1, 1))

    d_widths = [width * m for m in D_MULTIPLES]
    d_layers: list[nn.Module] = []
    for i, (c_in, c_out) in enumerate(zip((d_channels, *d_widths), d_widths)):
        kernel, stride = (3, 1) if i % 2 == 0 else (4, 2)
        d_layers += [nn.Conv2d(c_in, c_out, kernel, stride, 1), nn.LeakyReLU(SLOPE)]
    d_layers.append(nn.Flatten())

    D = Discriminator(nn.Sequential(*d_layers), d_widths[-1] * BOTTOM * BOTTOM)
    return Generator(*g_layers, output=output), D


NETS.add("sn-cnn32", ImagePair("sn-cnn32", 32, sn_standard_cnn, init_dcgan, spectral_norm=True))
