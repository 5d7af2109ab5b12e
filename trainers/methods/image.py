"""What a method needs to train on images with the DCGAN-family nets of the Stacked-MNIST papers: the net pair
chosen by image size, its hyper-parameters, and the encoders and pair discriminators built from its D.

:class:`ImageNets` is a mixin: ``class DCGAN(ImageNets, GAN)``, ``class ALIDCGAN(ImageNets, ALI)``, ... keep the
method's own training step and swap in the image nets, so one method file holds the loss and the update of
both its vector and its image variant.

Nets (``net=auto``): ``dcgan28x3`` for 28 x 28 x 3 (the carpedm20 DCGAN fork of VEEGAN's and PacGAN's
Stacked-MNIST experiments, ``../shared/PROTOCOLS.md``), ``dcgan32`` for 32 x 32, ``dcgan64`` for 64 x 64; any pair
of :mod:`trainers.nets` by name (``unrolled28x3`` for the unrolled-GAN setting of PacGAN Table 3, with
``d_scale`` 0.25 or 0.5). ``output=auto`` ends G in a sigmoid for data in [0, 1] and in tanh for [-1, 1].

Encoders (ALI's E, VEEGAN's reconstructor F): the pair's discriminator body (for ``dcgan28x3``: carpedm20's four
5x5 stride-2 convs, 64-512 channels, LeakyReLU 0.2, BN on all but the first) under a linear head to the code,
as ALI's image encoders are convolution stacks shaped like its x-discriminator with a last layer of
``2 * NLAT`` units (IshmaelBelghazi/ALI ``experiments/ali_cifar10.py``, ``create_model_brick``, the encoder's
``conv_brick(1, 1, 2 * NLAT)``). VEEGAN's authors released no Stacked-MNIST or CIFAR code (akashgit/VEEGAN holds
the 2-D notebook and a contributed MNIST notebook, ``veegan_julia_mnist.ipynb``, both with MLP reconstructors);
their paper uses "the DCGAN architecture" for those experiments, so the same construction is our reading of it,
except that VEEGAN's F has no BatchNorm (``encoder(..., batchnorm=False)``), as neither reference reconstructor has:
F's code enters a per-sample loss d(z, F(G(z))) whose gradient reaches G, and a BatchNorm in training mode scales
each batch's spread to 1, so that F decodes z from a G whose images differ by 1 % and that loss's gradient at G
grows as their spread shrinks (:mod:`trainers.methods.veegan`). Pair discriminators D(x, z):
:class:`trainers.nets.image_pair.JointDiscriminator`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from gan_eval.errors import GanEvalError
from gan_eval.io.latent import LatentSpec
from trainers.methods.base import DataShape
from trainers.nets import build_nets
from trainers.nets.image_pair import Discriminator, reheaded

AUTO_NETS = {28: "dcgan28x3", 32: "dcgan32", 64: "dcgan64"}
#: ``net=began``: carpedm20/BEGAN-tensorflow's nets at the images' size (:mod:`trainers.nets.began`)
BEGAN_NETS = {28: "began28", 32: "began32", 64: "began64"}


def image_net(net: str, shape: tuple[int, ...], method: str, auto: dict[int, str] = AUTO_NETS) -> str:
    """The net pair ``net`` names; for ``auto`` the one ``auto`` gives the images' size, for ``began`` BEGAN's nets
    of that size (a one-line error if there is none)."""
    by_size = {"auto": auto, "began": BEGAN_NETS}.get(net)
    if by_size is None:
        return net
    size = shape[-1]
    if size not in by_size:
        raise GanEvalError(f"method {method}: no {net} net for {size} x {size} images; name one with --net ({', '.join(by_size.values())})")
    return by_size[size]


def generator_output(output: str, data: DataShape) -> str:
    """G's output activation: ``auto`` follows the data's range (sigmoid for [0, 1], else tanh; the PacGAN fork kept
    tanh on its [0, 1] Stacked MNIST, which we do not copy: carpedm20's own MNIST generator, on ``X / 255.``, ends
    in a sigmoid, ``model.py`` ``generator`` (``y_dim`` branch) and ``load_mnist``); ``linear`` (none, samples
    clipped to the range: :data:`trainers.nets.image_pair.OUTPUTS`) is ``linear01`` on [0, 1] data; any other
    value is passed to the net as given."""
    unit = data.value_range == (0.0, 1.0)
    if output == "auto":
        return "sigmoid" if unit else "tanh"
    return "linear01" if output == "linear" and unit else output


def build_image_nets(method: str, net: str, latent_dim: int, data: DataShape, generator: torch.Generator, *, output: str = "auto",
                     width: int | None = None, **options: object) -> tuple[torch.nn.Module, torch.nn.Module]:
    """``(G, D)`` of the image pair ``net`` for ``data`` (:func:`image_net`, :func:`generator_output`); ``width`` None
    keeps the net's own (carpedm20: 64)."""
    if width is not None:
        options["width"] = width
    return build_nets(image_net(net, data.shape, method), latent_dim, data.shape, generator, output=generator_output(output, data), **options)


#: 50 epochs of the 128,000 fixed triples at batch 64: PacGAN's VEEGAN-setting code (``config.py``
#: ``num_training_sample: 128000``; carpedm20's ``epoch`` 50), the Stacked-MNIST budget of VEEGAN Table 2 and
#: PacGAN Table 2.
STACKED_MNIST_STEPS = 50 * 128_000 // 64


@dataclass
class ImageNetParams:
    """The image nets' hyper-parameters (carpedm20 DCGAN defaults: z ~ U(-1, 1)^100, batch 64).
    ``width``: carpedm20's ``gf_dim = df_dim`` (None: the net's own, 64; small values make tests fast);
    ``d_scale``: ``unrolled28x3``'s D width (None: the net's default, 0.25)."""

    net: str = "auto"
    latent_dim: int = 100
    latent_distribution: str = "uniform"
    batch_size: int = 64
    output: str = "auto"
    width: int | None = None
    d_scale: float | None = None


@dataclass
class ImageAdamParams(ImageNetParams):
    """The image nets with carpedm20's Adam (lr 2e-4, beta1 0.5, TF's beta2 0.999), which every row of VEEGAN
    Table 2 shares."""

    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999


@dataclass
class ImageCodeParams(ImageAdamParams):
    """For the methods that infer a code (ALI, VEEGAN): their standard-normal prior, z ~ N(0, I_100), and
    ``joint_hidden``, the units of D(x, z)'s hidden layer on [D's features of x, z]
    (:class:`trainers.nets.image_pair.JointDiscriminator`): None as many as D's features (2048 at width 64, the
    width of ALI's CIFAR-10 joint layers), 0 none (a linear head, which cannot tell whether x and z match)."""

    latent_distribution: str = "normal"
    joint_hidden: int | None = None


def without_batchnorm(net: torch.nn.Module) -> torch.nn.Module:
    """``net`` with every BatchNorm layer replaced by the identity (in place; the other layers and their weights
    kept): a net whose output for one sample does not depend on the rest of its batch in training mode."""
    for name, child in net.named_children():
        if isinstance(child, torch.nn.modules.batchnorm._BatchNorm):
            setattr(net, name, torch.nn.Identity())
        else:
            without_batchnorm(child)
    return net


class ImageNets:
    """Mixin for a :class:`trainers.methods.base.Method` on images (see the module docstring)."""

    data_kinds = ("image",)
    default_steps = STACKED_MNIST_STEPS
    params: Any
    data: Any
    method_name: str  # the registered name (trainers.methods.base.register_method)

    def latent_spec(self) -> LatentSpec:
        return LatentSpec(int(self.params.latent_dim), self.params.latent_distribution)

    def net_name(self) -> str:
        return image_net(self.params.net, self.data.shape, self.method_name)

    def image_pair(self, generator: torch.Generator, **options: Any) -> tuple[torch.nn.Module, Discriminator]:
        """``(G, D)`` of the net, G's output activation following the data's range (``output=auto``)."""
        p = self.params
        sizes = {key: value for key, value in (("width", p.width), ("d_scale", p.d_scale)) if value is not None}
        return build_nets(self.net_name(), p.latent_dim, self.data.shape, generator, output=generator_output(p.output, self.data), **sizes, **options)

    def encoder(self, outputs: int, generator: torch.Generator, *, batchnorm: bool = True) -> Discriminator:
        """A fresh discriminator body of the net (its own weights) under a linear head of ``outputs`` units;
        ``batchnorm=False`` drops the body's BatchNorm layers (:func:`without_batchnorm`), so that in training
        too each image's code depends on that image alone."""
        _, body = self.image_pair(generator)
        return reheaded(body if batchnorm else without_batchnorm(body), outputs, generator)

    def pair_discriminator(self, D: Discriminator, generator: torch.Generator) -> Discriminator:
        """``D``'s body under a head that also reads the code through a hidden layer: D(x, z)."""
        hidden = D.head.in_features if self.params.joint_hidden is None else int(self.params.joint_hidden)  # >= 0: make_params
        return reheaded(D, 1, generator, code_dim=int(self.params.latent_dim), joint_hidden=hidden)
