"""BEGAN's nets as carpedm20/BEGAN-tensorflow builds them (``models.py`` ``GeneratorCNN`` L5-20 and
``DiscriminatorCNN`` L22-53, at commit 722b3f1), the code the BEGAN paper's architecture section describes.

For ``s x s`` images, ``repeat = int(log2(s)) - 2`` blocks (``trainer.py`` L86 ``repeat_num``) from a ``b x b`` base,
``b = s / 2^(repeat - 1)``: carpedm20 reshapes to 8 x 8, which is this ``b`` at s = 32 and 64; at 28 (Stacked MNIST,
where the code's fixed 8 x 8 does not fit) the same rule gives two blocks from 14 x 14. With ``n = width``
(``conv_hidden_num``, 128)::

    G (the decoder): z -> linear b*b*n -> [n, b, b] -> repeat x [3x3 conv n, ELU, 3x3 conv n, ELU, then (all but the
       last block) nearest-neighbour upsampling x 2] -> 3x3 conv to C -> the output activation (carpedm20: none).
    D body (the encoder): 3x3 conv n, ELU -> block i = 0 .. repeat-1: [3x3 conv n(i+1), ELU, 3x3 conv n(i+1), ELU,
       then (all but the last) 3x3 stride-2 conv n(i+1), ELU] -> flatten (b*b*n*repeat features).

No normalisation and no skip connections; every convolution TF's SAME (:class:`~trainers.nets.tf_same.SameConv2d`
for the stride-2 ones, whose extra zero goes after); weights Glorot-uniform and biases 0, TF-slim's defaults
(:func:`~trainers.nets.image_init.init_glorot`). BEGAN's autoencoder D is this body, a linear map to the embedding h
and a decoder shaped as G (:func:`trainers.nets.autoencoder_critic.image_autoencoder`); as a GAN's D the body ends in
a linear logit, the contract of every pair here. Data and G: carpedm20 scales images to [-1, 1] (``utils.py``
``norm_img``) and leaves G's output linear, clipping only when it saves images (``denorm_img``).
"""
from __future__ import annotations

import math

from torch import nn

from trainers.nets.image_init import init_glorot
from trainers.nets.image_pair import Discriminator, Generator, ImagePair
from trainers.nets.registry import NETS
from trainers.nets.tf_same import SameConv2d

HIDDEN = 128  # config.py ``conv_hidden_num`` (the paper's n)


def began_blocks(size: int) -> tuple[int, int]:
    """``(repeat, base)``: carpedm20's ``repeat_num = int(log2(size)) - 2`` and the base size it upsamples from."""
    repeat = int(math.log2(size)) - 2
    return repeat, size // 2 ** (repeat - 1)


def conv3(c_in: int, c_out: int) -> nn.Conv2d:
    """A 3x3 stride-1 convolution, SAME (symmetric at stride 1)."""
    return nn.Conv2d(c_in, c_out, 3, 1, 1)


def began_nets(latent_dim: int, shape: tuple[int, int, int], d_channels: int, output: str, *,
               width: int = HIDDEN) -> tuple[Generator, Discriminator]:
    """``width``: carpedm20's ``conv_hidden_num`` n (128); smaller widths make the same net cheaper (tests)."""
    channels, size = shape[0], shape[1]
    repeat, base = began_blocks(size)
    g_layers: list[nn.Module] = [nn.Linear(latent_dim, base * base * width), nn.Unflatten(1, (width, base, base))]
    for i in range(repeat):
        g_layers += [conv3(width, width), nn.ELU(), conv3(width, width), nn.ELU()]
        if i < repeat - 1:
            g_layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
    g_layers.append(conv3(width, channels))

    d_layers: list[nn.Module] = [conv3(d_channels, width), nn.ELU()]
    previous = width
    for i in range(repeat):
        block = width * (i + 1)
        d_layers += [conv3(previous, block), nn.ELU(), conv3(block, block), nn.ELU()]
        if i < repeat - 1:
            d_layers += [SameConv2d(block, block, 3, 2), nn.ELU()]
        previous = block
    d_layers.append(nn.Flatten())
    return Generator(*g_layers, output=output), Discriminator(nn.Sequential(*d_layers), base * base * previous)


NETS.add("began28", ImagePair("began28", 28, began_nets, init_glorot))
NETS.add("began32", ImagePair("began32", 32, began_nets, init_glorot))
NETS.add("began64", ImagePair("began64", 64, began_nets, init_glorot))
