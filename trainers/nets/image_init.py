"""The initialisations of the image nets' reference codes, from an explicit ``torch.Generator`` only."""
from __future__ import annotations

from functools import partial
from typing import Callable

import torch
from torch import nn

DCGAN_STD = 0.02  # Radford et al. 2016, Sec. 4; carpedm20 ops.py ``stddev=0.02``; chainer-gan-lib ``wscale=0.02``


@torch.no_grad()
def init_dcgan(module: nn.Module, generator: torch.Generator, *, truncated_convs: bool = False) -> nn.Module:
    """Weights of every Conv2d, ConvTranspose2d and Linear ~ N(0, 0.02^2), biases 0; BatchNorm gamma 1, beta 0,
    running statistics reset. Sets every parameter and buffer of ``module`` (refuses a layer it does not know),
    so ``module`` may come uninitialised from ``to_empty``; the layers are visited in ``modules()`` order.

    ``truncated_convs``: Conv2d weights from N(0, 0.02^2) truncated at 2 std, i.e. TF's
    ``truncated_normal_initializer``, which carpedm20/DCGAN-tensorflow's ``conv2d`` uses (its ``deconv2d`` and
    ``linear`` use the plain ``random_normal_initializer``). BatchNorm: ``tf.contrib.layers.batch_norm(scale=True)``
    and chainer's ``BatchNormalization`` both start at gamma 1, beta 0 (the N(1, 0.02) gamma is the PyTorch DCGAN
    example's, which none of the reference codes ported here uses).
    """
    def weight(layer: nn.Module) -> None:
        if truncated_convs and isinstance(layer, nn.Conv2d):
            nn.init.trunc_normal_(layer.weight, 0.0, DCGAN_STD, -2 * DCGAN_STD, 2 * DCGAN_STD, generator=generator)
        else:
            nn.init.normal_(layer.weight, 0.0, DCGAN_STD, generator=generator)

    return _init_layers(module, weight, "init_dcgan")


@torch.no_grad()
def init_glorot(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """Weights of every Conv2d, ConvTranspose2d and Linear Glorot-uniform, U(-a, a) with ``a = sqrt(6 / (fan_in +
    fan_out))`` (a convolution's fans count its kernel's taps: ``k * k * channels``), biases 0: TF-slim's defaults
    (``slim.conv2d`` and ``slim.fully_connected``: ``xavier_initializer()``, ``zeros_initializer()``), with which
    carpedm20/BEGAN-tensorflow ``models.py`` builds every layer. As :func:`init_dcgan`, every parameter is set."""
    return _init_layers(module, lambda layer: nn.init.xavier_uniform_(layer.weight, generator=generator), "init_glorot")


def _init_layers(module: nn.Module, weight: Callable[[nn.Module], None], initialiser: str) -> nn.Module:
    """``weight(layer)`` for each Conv2d, ConvTranspose2d and Linear in ``modules()`` order, their biases 0;
    BatchNorm (statistics reset) and GroupNorm gamma 1, beta 0 (tflib's ``Layernorm``: scale ones, offset zeros); a
    one-line TypeError naming any parameter or buffer left unset."""
    done: set[int] = set()
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            weight(layer)
            if layer.bias is not None:
                layer.bias.zero_()
        elif isinstance(layer, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm)):
            layer.weight.fill_(1.0)
            layer.bias.zero_()
            if isinstance(layer, nn.modules.batchnorm._BatchNorm):
                layer.reset_running_stats()
        else:
            continue
        done.update(id(t) for t in (*layer.parameters(recurse=False), *layer.buffers(recurse=False)))
    missed = [name for name, t in (*module.named_parameters(), *module.named_buffers()) if id(t) not in done]
    if missed:
        raise TypeError(f"{initialiser} does not know how to initialise {', '.join(missed)}")
    return module


init_carpedm20 = partial(init_dcgan, truncated_convs=True)
