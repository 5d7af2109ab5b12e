"""The networks of the autoencoding methods (WAE, alpha-GAN, BMS-VAE, BMS-VAE-GAN): encoder, decoder (the
generator), data discriminator ("synthetic likelihood") and latent (code) discriminator, on vectors or images.

* Vectors: E, G and D are MLPs of ``layers`` x ``hidden`` ReLU units (default 2 x 128: VEEGAN's 2-D notebook,
  the baseline the Best-of-Many-Samples paper's Table 1 compares with; the paper gives no 2-D architecture).
* Images: G and D are the registered image pair ``net`` (:mod:`trainers.nets.dcgan`), E is that pair's
  discriminator body with a code-sized linear head (:meth:`~trainers.nets.image_pair.ImagePair.encoder`).
* The latent discriminator is an MLP of ``layers`` x ``hidden`` ReLU units on codes; 3 x 750 is alpha-GAN's code
  discriminator (Rosca et al. 2017, Appendix) and the BMS paper's latent discriminator.

Vector nets and the latent discriminator take Glorot-uniform weights (TF-slim's default, as VEEGAN's notebook);
image nets their pair's initialisation. Everything is initialised on the CPU from the one ``generator``, in the
order G, D, E, latent discriminator, so a seed means the same networks anywhere.
"""
from __future__ import annotations

import torch
from torch import nn

from trainers.nets.mlp import init_xavier, mlp
from trainers.nets.mlp_pairs import FeatureSequential
from trainers.nets.registry import NETS, build_nets
from trainers.nets.spectral import spectral_norm_all


def latent_discriminator(latent_dim: int, generator: torch.Generator, hidden: int = 750, layers: int = 3) -> nn.Sequential:
    """Codes ``[B, latent_dim]`` -> logits ``[B, 1]``: ``layers`` x ``hidden`` ReLU, no BatchNorm (a code
    discriminator judges each code on its own)."""
    return init_xavier(mlp([latent_dim, *[hidden] * layers, 1], "relu"), generator)


def autoencoder_nets(
    shape: tuple[int, ...],
    latent_dim: int,
    encoder_outputs: int,
    generator: torch.Generator,
    *,
    discriminator: bool,
    spectral_norm: bool,
    hidden: int,
    layers: int,
    net: str,
    image_options: dict[str, object],
) -> dict[str, nn.Module]:
    """``{"G": z -> x, "E": x -> encoder_outputs}`` plus ``"D": x -> logit`` when ``discriminator`` (spectrally
    normalised when ``spectral_norm``). ``net`` names the image pair (ignored for vectors); ``image_options`` go to
    it (``output``, ``width``)."""
    if len(shape) == 1:
        width = int(shape[0])
        nets: dict[str, nn.Module] = {"G": init_xavier(mlp([latent_dim, *[hidden] * layers, width], "relu"), generator)}
        if discriminator:
            nets["D"] = init_xavier(FeatureSequential(*mlp([width, *[hidden] * layers, 1], "relu")), generator)
        nets["E"] = init_xavier(mlp([width, *[hidden] * layers, encoder_outputs], "relu"), generator)
    else:
        # A registered pair builds G and D together; a method without a data discriminator drops the D.
        G, D = build_nets(net, latent_dim, shape, generator, spectral_norm=False, **image_options)
        nets = {"G": G, "D": D} if discriminator else {"G": G}
        encoder_options = {k: v for k, v in image_options.items() if k != "output"}
        nets["E"] = NETS.get(net).encoder(encoder_outputs, shape, generator, **encoder_options)  # type: ignore[attr-defined]
    if discriminator and spectral_norm:
        spectral_norm_all(nets["D"], generator)
    return nets
