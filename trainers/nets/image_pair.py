"""The contract of an image G/D pair, and the options every registered image pair takes.

``G``: ``z [B, latent_dim] -> images [B, C, H, W]``, with ``G.output_range`` the range of its output activation.
``D``: ``images [B, C * pack, H, W] -> logits [B, 1]``; ``D(x, features=True)`` returns ``(logits, features)``,
the features ``[B, F]`` being D's penultimate activations (the input of its last linear layer), which GDPP,
MMD-GAN and Dist-GAN use. Both are plain modules with no in-place op on their inputs, so a stack of S copies
runs under ``torch.func.vmap`` + ``functional_call`` (grouped seeds), BatchNorm keeping per-copy statistics.

Options common to every image pair:
- ``pack`` (PacGAN, Lin et al. 2018): D judges ``pack`` images at once, concatenated along channels
  (PacGAN's ``tf.concat(G_sep, 3)`` in NHWC, i.e. dim -3 here), so its first layer takes ``C * pack`` channels.
- ``spectral_norm``: spectral normalisation (Miyato et al. 2018) of every Conv2d / Linear weight of D.
- ``output``: G's output activation, ``tanh`` (range [-1, 1], the default of every reference code here but
  BEGAN's), ``sigmoid`` ([0, 1]), or ``linear`` / ``linear01``: none in training (carpedm20/BEGAN-tensorflow's G and
  decoder end in a plain convolution) and, in eval mode, where samples are drawn and exported, a clip to [-1, 1] /
  [0, 1], as that code's ``denorm_img`` clips the images it saves (:class:`ClipWhenSampling`).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

import torch
from torch import nn

from gan_eval.errors import GanEvalError
from trainers.nets.registry import keyword_options
from trainers.nets.spectral import spectral_norm_all

class ClipWhenSampling(nn.Module):
    """The identity in training mode; in eval mode (sampling, export) a clip to ``[low, high]``."""

    def __init__(self, low: float, high: float) -> None:
        super().__init__()
        self.low, self.high = low, high

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.training else x.clamp(self.low, self.high)


OUTPUTS: dict[str, tuple[Callable[[], nn.Module], tuple[float, float]]] = {
    "tanh": (nn.Tanh, (-1.0, 1.0)),
    "sigmoid": (nn.Sigmoid, (0.0, 1.0)),
    "linear": (partial(ClipWhenSampling, -1.0, 1.0), (-1.0, 1.0)),
    "linear01": (partial(ClipWhenSampling, 0.0, 1.0), (0.0, 1.0)),
}


class Generator(nn.Sequential):
    """``layers`` then the ``output`` activation; ``output_range`` is that activation's range."""

    def __init__(self, *layers: nn.Module, output: str) -> None:
        activation, output_range = OUTPUTS[output]
        super().__init__(*layers, activation())
        self.output_range = output_range


class Discriminator(nn.Module):
    """``body`` (images -> features [B, F]) then one linear ``head`` (features -> ``outputs`` values: a logit,
    or an encoder's code)."""

    def __init__(self, body: nn.Module, features: int, outputs: int = 1) -> None:
        super().__init__()
        self.body = body
        self.head = nn.Linear(features, outputs)

    def forward(self, x: torch.Tensor, features: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        logits = self.head(h)
        return (logits, h) if features else logits


class JointDiscriminator(Discriminator):
    """D on (image, code) pairs, as ALI and VEEGAN need: ``body(x)`` features [B, F] concatenated with the code
    ``z`` [B, L], then ``joint`` (one hidden layer of ``hidden`` units, LeakyReLU 0.2) and a linear head -> logit
    [B, 1]; ``features=True`` gives the hidden layer's activations. The hidden layer on the concatenation is what
    lets D judge whether an image and a code belong together: VEEGAN's 2-D D is FC128-ReLU on [x, z] then the logit
    (akashgit/VEEGAN's notebook; PROTOCOLS.md), ALI's ``joint_discriminator`` two 2048-unit layers on
    [D_x(x), D_z(z)] (IshmaelBelghazi/ALI ``experiments/ali_cifar10.py``, ``create_model_brick``).

    ``hidden`` 0 puts the linear head straight on the concatenation (before 2026-11-30): its logit a(x) + w.z + b is
    additive in x and z, so it scores a batch of matched pairs and the same batch with its codes shuffled alike
    and can only compare the two marginals. Kept as an ablation."""

    def __init__(self, body: nn.Module, features: int, code_dim: int, hidden: int, outputs: int = 1) -> None:
        nn.Module.__init__(self)
        self.body = body
        self.joint = nn.Sequential(nn.Linear(features + code_dim, hidden), nn.LeakyReLU(0.2)) if hidden else nn.Identity()
        self.head = nn.Linear(hidden or features + code_dim, outputs)

    def forward(self, x: torch.Tensor, z: torch.Tensor, features: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        h = self.joint(torch.cat([self.body(x), z], dim=-1))
        logits = self.head(h)
        return (logits, h) if features else logits


def reheaded(D: Discriminator, outputs: int, generator: torch.Generator, *, code_dim: int = 0, joint_hidden: int = 0,
             init: Callable[[nn.Module, torch.Generator], nn.Module] | None = None) -> Discriminator:
    """``D``'s body (its layers and weights, shared) under a new head of ``outputs`` units, initialised from
    ``generator`` by ``init`` (default :func:`trainers.nets.image_init.init_dcgan`, N(0, 0.02^2)): with ``code_dim``
    0 a linear head, an encoder image -> code (ALI's and VEEGAN's inference nets), else a
    :class:`JointDiscriminator` whose head also reads a ``code_dim`` code through ``joint_hidden`` hidden units."""
    from trainers.nets.image_init import init_dcgan

    features = D.head.in_features
    with torch.device("meta"):
        net = JointDiscriminator(D.body, features, code_dim, joint_hidden, outputs) if code_dim else Discriminator(D.body, features, outputs)
    if code_dim:
        net.joint = (init or init_dcgan)(net.joint.to_empty(device="cpu"), generator)
    net.head = (init or init_dcgan)(net.head.to_empty(device="cpu"), generator)
    return net


# (latent_dim, image shape (C, H, W), D's input channels, output, **architecture options) -> (G, D), built on the
# meta device (no memory, no RNG): ImagePair materialises and initialises them
ArchitectureBuilder = Callable[..., tuple[Generator, Discriminator]]
Initialiser = Callable[[nn.Module, torch.Generator], nn.Module]


@dataclass(frozen=True)
class ImagePair:
    """A registered image pair: ``name`` (for messages), the ``size`` x ``size`` images it makes, its builder,
    the reference code's initialisation, and the default of ``spectral_norm`` (on where the paper trains with it).

    The nets are built on the meta device, then materialised on the CPU and initialised from ``generator``
    alone: the global RNG is neither used nor advanced (torch's default layer init would draw from it)."""

    name: str
    size: int
    build: ArchitectureBuilder
    init: Initialiser
    spectral_norm: bool = False

    def __call__(self, latent_dim: int, shape: tuple[int, ...], generator: torch.Generator, *, pack: int = 1,
                 spectral_norm: bool | None = None, output: str = "tanh", **options: object
                 ) -> tuple[Generator, Discriminator]:
        shape = self._check_shape(shape)
        self._check_width("latent_dim", latent_dim)
        if isinstance(pack, bool) or not isinstance(pack, int) or pack < 1:
            raise GanEvalError(f"net {self.name!r}: option pack must be a positive integer (PacGAN's m), got {pack!r}")
        if spectral_norm not in (None, True, False):
            raise GanEvalError(f"net {self.name!r}: option spectral_norm must be true or false, got {spectral_norm!r}")
        if output not in OUTPUTS:
            raise GanEvalError(f"net {self.name!r}: option output must be one of {', '.join(OUTPUTS)}, got {output!r}")
        self._check_options(options)
        if "width" in options:  # every net's width (carpedm20's gf_dim, SN-GAN's narrowest channels) is a channel count
            self._check_width("option width", options["width"])
        with torch.device("meta"):
            G, D = self.build(latent_dim, shape, shape[0] * pack, output, **options)
        G = self.init(G.to_empty(device="cpu"), generator)
        D = self.init(D.to_empty(device="cpu"), generator)
        if self.spectral_norm if spectral_norm is None else spectral_norm:
            spectral_norm_all(D, generator)
        return G, D

    def encoder(self, out_features: int, shape: tuple[int, ...], generator: torch.Generator, **options: object) -> Discriminator:
        """The pair's discriminator body with a linear head to ``out_features`` instead of one logit: the DCGAN-style
        encoder of the autoencoding methods (alpha-GAN, WAE and BMS build their image encoders as the DCGAN
        discriminator with a code-sized output). Initialised from ``generator`` alone, like the pair."""
        shape = self._check_shape(shape)
        self._check_width("encoder output", out_features)
        self._check_options(options)
        if "width" in options:  # every net's width (carpedm20's gf_dim, SN-GAN's narrowest channels) is a channel count
            self._check_width("option width", options["width"])
        with torch.device("meta"):
            _, body = self.build(1, shape, shape[0], "tanh", **options)
            body.head = nn.Linear(body.head.in_features, out_features)
        return self.init(body.to_empty(device="cpu"), generator)

    def _check_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        shape = tuple(shape)
        if len(shape) != 3 or shape[1:] != (self.size, self.size) or shape[0] < 1:
            raise GanEvalError(f"net {self.name!r} makes {self.size} x {self.size} images (shape (C, {self.size}, "
                               f"{self.size})), but the data's samples have shape {shape}: choose a net for that shape")
        return shape

    def _check_width(self, what: str, value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise GanEvalError(f"net {self.name!r}: {what} must be a positive integer, got {value!r}")

    @property
    def options(self) -> tuple[str, ...]:
        """Every option the pair takes: those of every image pair (module docstring) and its builder's own."""
        return tuple(sorted(["output", "pack", "spectral_norm", *keyword_options(self.build)]))

    def _check_options(self, options: dict[str, object]) -> None:
        unknown = sorted(set(options) - set(keyword_options(self.build)))
        if unknown:
            raise GanEvalError(f"net {self.name!r} has no option {unknown[0]!r}: its options are {', '.join(self.options)}")
