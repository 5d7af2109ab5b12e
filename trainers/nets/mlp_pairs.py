"""The 2-D papers' G/D pairs for vectors, as registry entries (``maxout``: the PacGAN / ALI baseline; ``tanh-mlp``: the
unrolled-GAN notebook's; ``relu-mlp``: the WGAN-GP toy code's), built from :mod:`trainers.nets.mlp` and initialised from the generator alone, G first."""
from __future__ import annotations

import torch
from torch import nn

from gan_eval.errors import GanEvalError
from trainers.nets.mlp import init_he_glorot, init_normal, init_orthogonal, maxout_mlp, mlp
from trainers.nets.registry import NETS
from trainers.nets.spectral import spectral_norm_all


class FeatureSequential(nn.Sequential):
    """A discriminator as ``nn.Sequential`` (same layers, same state-dict keys) whose ``forward(x, features=True)``
    also returns the input of its last layer."""

    def forward(self, x: torch.Tensor, features: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        for layer in list(self)[:-1]:
            x = layer(x)
        logits = self[-1](x)
        return (logits, x) if features else logits


def vector_width(name: str, shape: tuple[int, ...]) -> int:
    if len(shape) != 1:
        raise GanEvalError(f"net {name!r} reads vectors, but the data's samples have shape {tuple(shape)}: choose an image net")
    return int(shape[0])


def maxout_pair(latent_dim: int, shape: tuple[int, ...], generator: torch.Generator, *, pack: int = 1, g_hidden: int = 400,
                g_layers: int = 4, d_units: int = 200, d_pieces: int = 5, d_layers: int = 3, init_std: float = 0.02) -> tuple[nn.Module, nn.Module]:
    """PacGAN / ALI 2-D code: G ``g_layers`` x [Linear without bias, BatchNorm, ReLU] -> Linear; D ``d_layers`` maxout
    layers of ``d_units`` x ``d_pieces`` on ``pack`` concatenated samples -> Linear 1; all weights N(0, init_std^2)."""
    width = vector_width("maxout", shape)
    G = baseline_generator(latent_dim, width, g_hidden, g_layers)
    D = FeatureSequential(*maxout_mlp(width * pack, d_units, d_pieces, d_layers))
    return init_normal(G, init_std, generator), init_normal(D, init_std, generator)


def tanh_mlp_pair(latent_dim: int, shape: tuple[int, ...], generator: torch.Generator, *, hidden: int = 128, layers: int = 2,
                  init_gain: float = 1.4) -> tuple[nn.Module, nn.Module]:
    """Unrolled-GAN notebook: G and D ``layers`` x 128 tanh units, orthogonal init with gain 1.4."""
    width = vector_width("tanh-mlp", shape)
    G = mlp([latent_dim, *[hidden] * layers, width], "tanh")
    D = FeatureSequential(*mlp([width, *[hidden] * layers, 1], "tanh"))
    return init_orthogonal(G, init_gain, generator), init_orthogonal(D, init_gain, generator)


def relu_mlp_pair(latent_dim: int, shape: tuple[int, ...], generator: torch.Generator, *, hidden: int = 512, layers: int = 3,
                  spectral_norm: bool = False) -> tuple[nn.Module, nn.Module]:
    """WGAN-GP toy code (igul222/improved_wgan_training ``gan_toy.py``, ``Generator`` / ``Discriminator``, ``DIM = 512``):
    G and D ``layers`` x ``hidden`` ReLU units, no normalisation, He-uniform hidden and Glorot-uniform output weights
    (:func:`~trainers.nets.mlp.init_he_glorot`); ``spectral_norm`` normalises every layer of D (SN-GAN on vectors)."""
    width = vector_width("relu-mlp", shape)
    G = init_he_glorot(mlp([latent_dim, *[hidden] * layers, width], "relu"), generator)
    D = init_he_glorot(FeatureSequential(*mlp([width, *[hidden] * layers, 1], "relu")), generator)
    return G, spectral_norm_all(D, generator) if spectral_norm else D


def baseline_generator(latent_dim: int, data_dim: int, hidden: int, layers: int) -> nn.Sequential:
    """The PacGAN / ALI generator: ``layers`` x [Linear (no bias), BN, ReLU] then linear."""
    return mlp([latent_dim, *[hidden] * layers, data_dim], "relu", batchnorm=True, hidden_bias=False)


NETS.add("maxout", maxout_pair)
NETS.add("tanh-mlp", tanh_mlp_pair)
NETS.add("relu-mlp", relu_mlp_pair)
