"""Autoencoder critics (EBGAN, BEGAN, MMD-GAN): ``x -> code -> reconstruction``, on vectors or on images.

``forward(x)`` returns ``(reconstruction, code)`` of shapes ``[B, *data]`` and ``[B, code_dim]``, as one call so
that a stack of S copies runs under ``torch.func.vmap`` (grouped seeds, :mod:`trainers.grouped`).

* vectors: encoder ``d -> hidden x layers -> code_dim``, decoder ``code_dim -> hidden x layers -> d``, ReLU MLPs
  with Glorot-uniform weights (:func:`trainers.nets.mlp.init_xavier`);
* images: any registered image pair (:mod:`trainers.nets`, e.g. ``dcgan28x3``) built with ``latent_dim = code_dim``:
  its D's convolutional body followed by a linear map to the code is the encoder (the "DCGAN discriminator as
  encoder" of MMD-GAN's ``base_module.Encoder`` and EBGAN's conv encoder), its G is the decoder (ending in G's
  output activation), both initialised as the pair's reference code does. On BEGAN's pair (``began64``, ...) this
  is BEGAN's D exactly: encoder convs, a linear map to the embedding h, a decoder shaped as G
  (carpedm20/BEGAN-tensorflow ``models.py`` ``DiscriminatorCNN``).
"""
from __future__ import annotations

import torch
from torch import nn

from trainers.nets.mlp import init_xavier, mlp
from trainers.nets.registry import NETS, build_nets


class Autoencoder(nn.Module):
    """``encoder`` then ``decoder``; ``forward(x) -> (reconstruction, code)``."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        code = self.encoder(x)
        return self.decoder(code), code


def vector_autoencoder(dim: int, code_dim: int, hidden: int, layers: int, generator: torch.Generator) -> Autoencoder:
    """The MLP autoencoder of ``dim``-vectors (module docstring)."""
    encoder = mlp([dim, *[hidden] * layers, code_dim], "relu")
    decoder = mlp([code_dim, *[hidden] * layers, dim], "relu")
    return init_xavier(Autoencoder(encoder, decoder), generator)


def image_autoencoder(net: str, shape: tuple[int, ...], code_dim: int, generator: torch.Generator,
                      **options: object) -> Autoencoder:
    """The autoencoder of images of ``shape`` on the image pair ``net`` (module docstring); ``options`` go to the
    pair (``output``, ``width``). The encoder's last linear map is initialised as the pair's layers (the DCGAN
    pairs: N(0, 0.02^2); BEGAN's: Glorot-uniform)."""
    decoder, discriminator = build_nets(net, code_dim, shape, generator, **options)
    to_code = NETS.get(net).init(nn.Linear(discriminator.head.in_features, code_dim), generator)  # type: ignore[attr-defined]
    return Autoencoder(nn.Sequential(discriminator.body, to_code), decoder)
