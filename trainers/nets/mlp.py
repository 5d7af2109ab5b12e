"""Multi-layer perceptrons for the 2-D and 1200-D mixtures, and maxout layers (Goodfellow et al. 2013).

Networks are built on the CPU and initialised from an explicit ``torch.Generator`` (never the global RNG),
so the same seed gives the same weights on any device; the caller moves them to the device afterwards.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "leaky_relu": lambda: nn.LeakyReLU(0.2)}


class Maxout(nn.Module):
    """``units`` outputs, each the max over ``pieces`` affine maps of the input."""

    def __init__(self, in_features: int, units: int, pieces: int) -> None:
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(in_features, units * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # max() backpropagates to the argmax only; amax() splits among ties, which costs an extra pass.
        return self.linear(x).view(-1, self.units, self.pieces).max(dim=-1).values


def mlp(
    sizes: Sequence[int],
    activation: str = "relu",
    *,
    batchnorm: bool = False,
    hidden_bias: bool = True,
) -> nn.Sequential:
    """``sizes[0] -> sizes[1] -> ... -> sizes[-1]``; hidden layers are Linear [-> BatchNorm] -> activation,
    the last layer is linear. ``hidden_bias=False`` drops the bias of hidden layers (redundant before BN)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == len(sizes) - 2
        layers.append(nn.Linear(a, b, bias=last or hidden_bias))
        if not last:
            if batchnorm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def maxout_mlp(in_features: int, hidden: int, pieces: int, layers: int, out_features: int = 1) -> nn.Sequential:
    """``layers`` maxout layers of ``hidden`` units x ``pieces`` pieces, then a linear output."""
    blocks: list[nn.Module] = []
    width = in_features
    for _ in range(layers):
        blocks.append(Maxout(width, hidden, pieces))
        width = hidden
    blocks.append(nn.Linear(width, out_features))
    return nn.Sequential(*blocks)


@torch.no_grad()
def init_normal(module: nn.Module, std: float, generator: torch.Generator) -> nn.Module:
    """Weights of every Linear ~ N(0, std^2), biases 0 (the DCGAN-era init of the PacGAN / ALI code)."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, 0.0, std, generator=generator)
            if layer.bias is not None:
                layer.bias.zero_()
    return module


@torch.no_grad()
def init_orthogonal(module: nn.Module, gain: float, generator: torch.Generator) -> nn.Module:
    """Orthogonal weights with ``gain`` (Saxe et al. 2014), biases 0 (the unrolled-GAN notebook's init)."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.orthogonal_(layer.weight, gain, generator=generator)
            if layer.bias is not None:
                layer.bias.zero_()
    return module


@torch.no_grad()
def init_xavier(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """Glorot-uniform weights, biases 0: TF-slim's ``fully_connected`` default, used by the VEEGAN notebooks."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.xavier_uniform_(layer.weight, generator=generator)
            if layer.bias is not None:
                layer.bias.zero_()
    return module


@torch.no_grad()
def init_he_glorot(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """tflib's ``Linear`` as the WGAN-GP toy code calls it (igul222/improved_wgan_training ``gan_toy.py``
    ``ReLULayer``: ``initialization='he'``; the output layer's default, ``'glorot'``): hidden weights uniform with
    standard deviation sqrt(2 / fan_in) (He), the last Linear's uniform with sqrt(2 / (fan_in + fan_out))
    (Glorot), biases 0."""
    layers = [layer for layer in module.modules() if isinstance(layer, nn.Linear)]
    for i, layer in enumerate(layers):
        if i == len(layers) - 1:
            nn.init.xavier_uniform_(layer.weight, generator=generator)
        else:
            nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu", generator=generator)
        if layer.bias is not None:
            layer.bias.zero_()
    return module
