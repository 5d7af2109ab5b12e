"""What EBGAN, BEGAN and MMD-GAN share: a generator and an autoencoder critic ``D(x) -> (reconstruction, code)``
(:mod:`trainers.nets.autoencoder_critic`), on vectors (MLPs) or images (an image pair of :mod:`trainers.nets`), and the
per-sample reconstruction errors their losses are built from. Each method's module gives its losses and update.

Vectors: G ``latent_dim -> hidden x layers -> d`` (ReLU, Glorot-uniform: the 2-D setting of VEEGAN's notebooks,
used here so the mixtures compare methods on one G); the critic as :func:`~trainers.nets.autoencoder_critic.vector_autoencoder`.
Images: G is the image pair's generator (``net=auto``: as :class:`trainers.methods.dcgan.DCGAN` picks it; BEGAN's
default ``net=began``: its authors' nets), the critic :func:`~trainers.nets.autoencoder_critic.image_autoencoder` on
the same pair; ``output=auto`` ends both in sigmoid for [0, 1] data and tanh for [-1, 1].
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from trainers.methods.base import Method, adam
from trainers.methods.image import generator_output, image_net
from trainers.nets import build_nets, init_xavier, mlp
from trainers.nets.autoencoder_critic import image_autoencoder, vector_autoencoder


@dataclass
class AutoencoderCriticParams:
    """The nets' hyper-parameters every autoencoder-critic method has (each method's ``Params`` extends them and
    sets its paper's defaults): G's ``latent_dim`` and the critic's ``code_dim``; on vectors the MLPs' ``hidden``
    width and ``layers``; on images the pair ``net`` (``auto``: by image size), its ``width`` (None: the pair's own)
    and G's ``output`` activation (``auto``: by the data's range); the optimisers' ``lr``."""

    latent_dim: int = 64
    code_dim: int = 64
    hidden: int = 128
    layers: int = 2
    net: str = "auto"
    width: int | None = None
    output: str = "auto"
    lr: float = 1e-4
    batch_size: int = 64


class AutoencoderCriticMethod(Method):
    """A method whose D is an autoencoder; its ``Params`` extend :class:`AutoencoderCriticParams`. Adam on D and G
    (with the ``beta1``, ``beta2`` its ``Params`` add) unless the method overrides :meth:`optimizers`."""

    data_kinds = ("vector", "image")

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        return {name: adam(self.nets[name].parameters(), p.lr, (p.beta1, p.beta2)) for name in ("D", "G")}

    def build(self, generator: torch.Generator) -> nn.ModuleDict:
        p = self.params
        if self.data.kind == "vector":
            self.nets["G"] = init_xavier(mlp([p.latent_dim, *[p.hidden] * p.layers, self.data_dim], "relu"), generator)
            self.nets["D"] = vector_autoencoder(self.data_dim, p.code_dim, p.hidden, p.layers, generator)
        else:
            net = image_net(p.net, self.data.shape, self.method_name)
            options = {"output": generator_output(p.output, self.data)}
            if p.width is not None:  # None: the pair's own width (carpedm20: 64)
                options["width"] = p.width
            self.nets["G"] = build_nets(net, p.latent_dim, self.data.shape, generator, **options)[0]
            self.nets["D"] = image_autoencoder(net, self.data.shape, p.code_dim, generator, **options)
        return self.nets.to(self.device)

    def squared_error(self, x: torch.Tensor, reconstruction: torch.Tensor) -> torch.Tensor:
        """Per-sample mean squared error over the features (pixels): ``[B]``, or ``[S, B]`` grouped."""
        return (reconstruction - x).square().flatten(self.batch_dims).mean(-1)

    def absolute_error(self, x: torch.Tensor, reconstruction: torch.Tensor) -> torch.Tensor:
        """Per-sample mean absolute error over the features (BEGAN's L1 with eta = 1)."""
        return (reconstruction - x).abs().flatten(self.batch_dims).mean(-1)

    @property
    def batch_dims(self) -> int:
        """Leading dimensions that index samples: 1, or 2 with grouped seeds ([S, B])."""
        return 2 if self.grouped else 1
