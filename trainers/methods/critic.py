"""The GAN objectives that are compositions of the engine's parts: nets + loss + D constraint + optimizer +
critic steps per G step, as one method class (:class:`CriticGAN`) and thin registered names.

Each iteration takes ``n_critic`` D steps (each on a fresh real batch and fresh noise; after each, D's weights
are clipped where ``clip > 0``), then one G step on fresh noise (``update=sequential``: the order of
igul222/improved_wgan_training ``gan_toy.py``'s training loop, whose iteration 0 skips the G step, so its
sequence is D x n, G, D x n, G, ...). G's step draws ``g_batch_size`` latents: D's batch, but on images 128 for
SN-GAN and hinge and twice the batch for BW-GAN, as their codes [3, 5]. ``update=simultaneous`` takes the last D
step and the G step from one forward pass (f-GAN's single-step gradient method, Nowozin et al. 2016, Algorithm 1).

Defaults, per registered name (vectors / images where they differ; "ref." is the reference code read)::

    name     loss             D constraint                 n_critic  optimizer, lr, betas       ref.
    wgan     wasserstein      weight clipping c = 0.01     5 (100)   RMSprop 5e-5               [1]
    wgan-gp  wasserstein      gradient penalty 0.1 / 10    5         Adam 1e-4 (0.5, 0.9)       [2]
                                                                     64 x 64: (0, 0.9), D layer-normalised
    bwgan    wasserstein / g  GP in the dual Sobolev norm  5         Adam 2e-4 (0, 0.9)         [3]
                                                                     images: lr linearly to 0 over 100,000
    lsgan    least-squares    -                            1         Adam D 1e-4, G 1e-3 / 2e-4 (0.5, 0.999)  [4]
    hinge    hinge            -                            5         Adam 2e-4 (0, 0.9)         [5] without SN
    sngan    hinge            spectral norm on D           5         Adam 2e-4 (0, 0.9)         [5]
                                                                     images: lr linearly to 0 over 50,000
    fgan     divergence       -                            1 (simultaneous)  Adam 2e-4 (0.5, 0.999)  [6]

[1] martinarjovsky/WassersteinGAN ``main.py``: ``--lrD/--lrG 0.00005``, ``--clamp_lower/upper -0.01/0.01``,
    ``--Diters 5``, RMSprop (torch defaults), ``--batchSize 64``, ``--nz 100`` (normal z); its loop's schedule
    "``if gen_iterations < 25 or gen_iterations % 500 == 0: Diters = 100``" (``n_critic_boost``, ``boost_first``,
    ``boost_every``). It clamps *before* each D step; here, as in the paper's Algorithm 1 (line 7) and
    ``gan_toy.py``'s ``clip_disc_weights``, after it, so D is inside the box whenever G reads it. On vectors there is
    no WGAN authors' code: the nets and batch are ``gan_toy.py``'s (``MODE = 'wgan'``), whose loop has no boosted
    schedule (a fixed ``CRITIC_ITERS = 5``) and uses TF's RMSProp (decay 0.9, epsilon 1e-10, lines 110-120); here
    main.py's schedule and torch's RMSprop on both kinds.
[2] igul222/improved_wgan_training ``gan_toy.py`` lines 18-27 (``DIM = 512``, ``LAMBDA = .1``, ``CRITIC_ITERS = 5``,
    ``BATCH_SIZE = 256``), ``Generator`` / ``Discriminator`` (3 x 512 ReLU, z ~ N(0, I_2): net ``relu-mlp``) and
    its ``AdamOptimizer(learning_rate=1e-4, beta1=0.5, beta2=0.9)``; on images ``gan_cifar.py`` (``LAMBDA = 10``,
    ``BATCH_SIZE = 64``). The WGAN row on vectors is ``gan_toy.py``'s ``MODE = 'wgan'`` on the same nets.
    On images z ~ N(0, I_128), as both image scripts draw it (``gan_cifar.py`` line 49, ``gan_64x64.py`` line 240).
    The image scripts differ by size, and each size takes its own script's settings (``BySize`` defaults): at 28 x 28
    and 32 x 32 ``gan_mnist.py`` (L150-158) and ``gan_cifar.py`` (L137-138) take Adam 1e-4 (0.5, 0.9) and a critic
    without normalisation (``gan_cifar.py`` L73-80: no BatchNorm in wgan-gp mode; ``d_norm`` off); at 64 x 64
    ``gan_64x64.py`` takes Adam 1e-4 (0, 0.9) (L541-545, the paper's Algorithm 1 defaults: ``beta1`` 0.0) and
    layer-normalises the critic's hidden convolutions (``Normalize``, L84-90: a ``Discriminator`` layer in wgan-gp
    mode gets ``Layernorm`` over (C, H, W), which the DCGAN critic ``DCGANDiscriminator``, L428-460, calls after its
    2nd, 3rd and 4th convolutions: ``d_norm`` layer, the DCGAN net's option). The script's default pair is its ResNet
    (``GoodGenerator`` / ``GoodDiscriminator``, L45); its DCGAN pair (L48, "Baseline") is the one here, as every row of
    the tables on 64 x 64 images trains on it. ``--set beta1=0.5 --set d_norm=off`` at 64 x 64 is the setting
    trained before 2026-11-30 (an ablation). A net without the option (``--net began``) keeps its own critic: the
    ``layer`` default does not apply to it, and an explicit ``--set d_norm`` on it is refused.
[3] adler-j/bwgan ``cifar10_sobolev.py`` (:class:`BWGAN`): ``EXPONENT = 2``, ``SOBOLEV_S = 0``, ``SOBOLEV_C = 5``,
    ``num_d_train = 5``, ``AdamOptimizer(2e-4 * decay, beta1=0., beta2=0.9)``, ``BATCH_SIZE = 64``; its z is
    N(0, I_128) on images (line 185). Its ``decay = max(0, 1 - global_step / MAX_ITERS)`` (L225-227, ``MAX_ITERS =
    100000``, the step counting G steps, and the run ends at ``MAX_ITERS``, L317) is
    :func:`~trainers.methods.base.linear_lr` over the run: on images ``lr_schedule`` = ``linear``, falling to 0 at
    the run's own ``steps`` (constant on vectors, where there is no BW-GAN code; ``--set lr_schedule=constant``: the
    constant rate trained before 2026-11-30). Its G loss reads ``2 * BATCH_SIZE`` fresh samples (L192-193: ``z_gen =
    tf.random_normal([BATCH_SIZE * 2, 128])``, ``d_generated_train``; L217: ``g_loss = tf.reduce_mean(
    d_generated_train) / gamma``), its D loss ``BATCH_SIZE`` real and as many generated (L185: ``z`` of
    ``tf.shape(x_true)[0]``): on images ``g_batch_size`` = 2 x ``batch_size``, 128 at the code's 64 (vectors: D's
    batch; ``--set g_batch_size=N``, N = ``batch_size`` the G step these trainers took before, an ablation).
    ``gamma`` and ``lambda`` are norms of the real batch (L195-199), never of the G batch.
[4] Mao et al. 2017 (LSGAN), eq. 9's 0-1 coding (``loss=least-squares``; ``loss=least-squares-pearson`` is eq. 8's
    (a, b, c) = (-1, 1, 0)). On vectors, the authors' own mixture-of-Gaussians code, xudonmao/LSGAN
    ``stability_comparison/mixture_gaussian/ls.py`` (itself poolio/unrolled_gan's setting): G and D 2 x 128 tanh
    (``n_hidden=128, n_layer=2``) with orthogonal init, gain 1.4 (net ``tanh-mlp``), z ~ N(0, I_256), batch 512,
    Adam D 1e-4, G 1e-3, beta1 0.5, eps 1e-8 (its ``params``), both nets stepped from one forward pass (its
    ``sess.run([..., g_train_op, d_train_op])``: ``update=simultaneous``); its losses sum over the batch with
    ``tf.nn.l2_loss`` (0.5 * sum of squares, then 0.5 *): the paper's means times B / 2, the same Adam steps up
    to Adam's epsilon. Before this, vectors took gan_toy.py's ReLU nets [2], z 2, batch 256, Adam 2e-4 for both
    and sequential steps (``--net relu-mlp --hidden 512 --layers 3 --latent-dim 2 --batch-size 256 --lr 2e-4
    --g-lr 2e-4 --update sequential``). On images: one D and one G step, Adam 2e-4, beta1 0.5: the DCGAN setting
    its networks build on (the paper's per-dataset learning rates are not transcribed here).
[5] pfnet-research/sngan_projection ``configs/sn_cifar10_unconditional.yml``: ``adam: alpha 0.0002, beta1 0.0,
    beta2 0.9``, ``n_dis: 5``, ``loss_type: hinge``, ``batchsize: 64``, ``dim_z: 128`` (its ``updater.py`` steps G
    first, then the n_dis D steps: the same alternation but for one G step at the start). Its ``train.py``
    (L120-123) decays both Adams' alpha linearly to 0 over the run (chainer's ``LinearShift``, from
    ``iteration_decay_start``: 0 in the CIFAR-10 configs, 50,000 before the end in the ImageNet ones) to the
    config's ``iteration``, the run's length: on images ``lr_schedule`` = ``linear``, so that iteration t (from 0,
    one G step and its ``n_critic`` D steps, the updater's iteration) of a run of T ``steps`` takes
    ``lr * (1 - t / T)`` (:func:`~trainers.methods.base.linear_lr`; the config's 50,000 is ``--steps 50000``).
    ``--set lr_decay_steps=N`` decays over N iterations instead (the start of a longer reference run), and a run
    longer than N, or one extended past the steps it started with, is refused (its rate would be 0). ``--set
    lr_schedule=constant`` is the constant rate of the runs before 2026-11-30 (an ablation). On vectors the rate
    stays constant: the authors' code has no 2-D setting (the
    2-D nets, batch and budget here are ``gan_toy.py``'s, whose rate is constant) and the BMS paper, whose Table 1
    has the SN-GAN row on the mixtures, states no schedule. Its G step reads the config's ``n_gen_samples: 128``
    samples (``updater.py`` L79-86: ``self._generete_samples()``, whose size defaults to ``n_gen_samples``, L50-52),
    its D steps ``batchsize: 64`` real and 64 generated (L89-92: ``_generete_samples(n_gen_samples=batchsize)``): on
    images ``g_batch_size`` = 128 for ``hinge`` and ``sngan``, whatever ``batch_size`` (on vectors D's batch;
    ``--set g_batch_size=64`` is the G step these trainers took before, an ablation). The paper's standard-CNN table
    (Miyato et al. 2018, Table 1, settings A-F) varies these; this is its authors' code's.
    Images: ``sn-cnn32`` (the paper's standard CNN) at 32 x 32, else the DCGAN pair with SN and without D's BN.
[6] Nowozin et al. 2016 (f-GAN): the output activations and conjugates of Table 2 (:mod:`trainers.losses`),
    Algorithm 1's single step; Adam lr 2e-4, beta1 0.5 (the DCGAN setting; the authors released no code, and
    their per-experiment settings are not transcribed here).

Data-kind defaults (a field left None): ``latent_dim`` 2 on vectors (``gan_toy.py``), 100 on images (WGAN's
``--nz``; LSGAN and f-GAN, the DCGAN setting; WGAN-GP, BW-GAN, hinge and SN-GAN 128, their codes' [2, 3, 5]);
``batch_size`` 256 / 64; ``g_batch_size`` the batch, but on images SN-GAN's and hinge's 128 and BW-GAN's twice the
batch [3, 5]; the gradient penalty's ``gp_weight`` 0.1 / 10. Vectors use the ``relu-mlp`` pair (LSGAN:
``tanh-mlp``, [4]), images the DCGAN pair of their size (``net=auto``), without D's BatchNorm wherever D is
penalised or spectrally normalised (both need a D that treats samples independently). ``default_steps`` is
``gan_toy.py``'s ``ITERS = 100000`` (SN-GAN and hinge: the config's ``iteration: 50000``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from gan_eval.errors import GanEvalError
from gan_eval.io.latent import LatentSpec
from trainers.losses import LOSSES
from trainers.methods.base import (BySize, Noise, PerBatch, RealBatch, ScheduledLRMethod, adam, added_option, descend,
                                   descend_together, linear_lr, register_method)
from trainers.methods.image import AUTO_NETS, generator_output, image_net
from trainers.nets import build_nets
from trainers.nets.registry import net_options
from trainers.penalties import clip_weights_, dual_exponent, gradient_penalty, sobolev_norm

OPTIMIZERS = ("adam", "rmsprop")
#: ``lr_schedule`` values (None: constant, the default on vectors)
LR_SCHEDULES = (None, "constant", "linear")
F_DIVERGENCES = ("kl", "reverse-kl", "js", "pearson", "squared-hellinger")


def boosted_critic_steps(g_iterations: int, steps: int, boost: int, first: int, every: int) -> int:
    """The critic schedule of WGAN's main.py, which MMD-GAN's mmd_gan.py copies: ``boost`` critic steps (100) before
    each of the first ``first`` (25) G iterations and every ``every``-th (500), else ``steps`` (5)."""
    return boost if g_iterations < first or g_iterations % every == 0 else steps


@dataclass
class CriticParams:
    """The family's hyper-parameters (the module docstring gives each registered name's defaults and sources)."""

    n_critic: int = 5
    clip: float = 0.0
    gp_weight: float | None = 0.0
    spectral_norm: bool = False
    optimizer: str = "adam"
    lr: float = 1e-4
    beta1: float = 0.5
    beta2: float = 0.9
    batch_size: int | None = None
    latent_dim: int | None = None
    net: str = "auto"
    hidden: int = 512
    layers: int = 3
    width: int | None = None
    update: str = "sequential"
    g_lr: float | None = added_option(None)
    #: the DCGAN critic's normalisation (``batch``, ``layer``, ``off``); None: BatchNorm, off where D is penalised or
    #: spectrally normalised (the module docstring; WGAN-GP at 64 x 64: ``layer``, where the net takes the option)
    d_norm: str | None = added_option(None)
    #: both rates ``constant``, or ``linear``: falling to 0 over ``lr_decay_steps`` (:func:`~trainers.methods.base.linear_lr`);
    #: None: constant on vectors, the reference's per method on images (module docstring: [3], [5])
    lr_schedule: str | None = added_option(None)
    #: iterations over which a ``linear`` schedule falls to 0; None: the run's own steps, as the reference codes'
    lr_decay_steps: int | None = added_option(None)
    #: latents G's step draws (the batch its loss averages); None: ``batch_size``, D's, as before; on images SN-GAN's
    #: and hinge's 128, BW-GAN's 2 x ``batch_size`` (module docstring: [3], [5]); with ``update=simultaneous`` G reads
    #: the last D step's batch
    g_batch_size: int | None = added_option(None)


@dataclass
class WGANParams(CriticParams):
    """WGAN [1]: weight clipping, RMSprop 5e-5, and main.py's 100 critic steps for the first 25 G steps and every 500th."""

    loss: str = "wasserstein"
    clip: float = 0.01
    optimizer: str = "rmsprop"
    lr: float = 5e-5
    n_critic_boost: int = 100
    boost_first: int = 25
    boost_every: int = 500


@dataclass
class WGANGPParams(CriticParams):
    """WGAN-GP [2]: lambda None = 0.1 on vectors (gan_toy.py), 10 on images (gan_cifar.py); beta1 None = 0.5, but 0 at
    64 x 64 (gan_64x64.py)."""

    loss: str = "wasserstein"
    gp_weight: float | None = None
    beta1: float | None = None


@dataclass
class BWGANParams(CriticParams):
    """BW-GAN [3]: the penalty in the dual norm of W^{s,p} (W^{-s,q}); gp_weight None = the reference's data-driven
    lambda; ``drift`` its 1e-5 * E[D(x)^2]."""

    gp_weight: float | None = None
    lr: float = 2e-4
    beta1: float = 0.0
    sobolev_s: float = field(default=0.0, metadata={"signed": True})  # negative orders too (Adler & Lunz train s < 0)
    sobolev_p: float = 2.0
    sobolev_c: float = 5.0
    drift: float = 1e-5


@dataclass
class OneStepParams(CriticParams):
    """One D step per G step with DCGAN's Adam (2e-4, betas (0.5, 0.999)): LSGAN [4] and f-GAN [6]."""

    n_critic: int = 1
    lr: float = 2e-4
    beta2: float = 0.999


@dataclass
class LSGANParams(OneStepParams):
    """LSGAN [4]: ``lr``, ``g_lr``, ``update``, ``latent_dim``, ``batch_size`` None take the data kind's (the
    authors' mixture code on vectors: D 1e-4, G 1e-3; DCGAN's on images: both 2e-4); ``hidden`` and ``layers`` are
    the 2-D nets'."""

    loss: str = "least-squares"
    lr: float | None = None
    hidden: int = 128
    layers: int = 2
    update: str | None = None


@dataclass
class HingeParams(CriticParams):
    """Hinge GAN: SN-GAN's updater [5] without spectral normalisation."""

    loss: str = "hinge"
    lr: float = 2e-4
    beta1: float = 0.0


@dataclass
class SNGANParams(HingeParams):
    """SN-GAN [5]."""

    spectral_norm: bool = True


@dataclass
class FGANParams(OneStepParams):
    """f-GAN [6]: ``divergence`` one of kl, reverse-kl, js, pearson, squared-hellinger."""

    divergence: str = "js"
    update: str = "simultaneous"


class CriticGAN(ScheduledLRMethod):
    """A GAN given by its loss, D constraint (clipping, gradient penalty, spectral norm), optimizer and n_critic."""

    default_steps = 100_000
    data_kinds = ("vector", "image")
    #: ``{field: (vector, image)}`` for the fields left None (module docstring; :func:`trainers.methods.base.kind_defaults`).
    defaults_by_kind = {"latent_dim": (2, 100), "batch_size": (256, 64), "gp_weight": (0.1, 10.0)}
    #: The same with z of 128 on images: the codes of [2], [3] and [5].
    z128_defaults_by_kind = {**defaults_by_kind, "latent_dim": (2, 128)}
    #: WGAN-GP's [2]: by image size, gan_cifar.py's (and gan_mnist.py's) settings, or gan_64x64.py's at 64 x 64.
    wgan_gp_defaults_by_kind = {**z128_defaults_by_kind, "beta1": (0.5, BySize(0.5, ((64, 0.0),))),
                                "d_norm": (None, BySize(None, ((64, "layer"),)))}
    #: SN-GAN's updater [5]: on images the config's linear decay over the run and G step on ``n_gen_samples: 128``.
    sngan_defaults_by_kind = {**z128_defaults_by_kind, "lr_schedule": (None, "linear"), "g_batch_size": (None, 128)}
    #: The pair ``net=auto`` builds on vectors.
    vector_net: ClassVar[str] = "relu-mlp"

    def learning_rate(self, net: str) -> float:
        """``lr``; for G ``g_lr`` where that is set (LSGAN's 2-D code steps G at 1e-3, D at 1e-4)."""
        p = self.params
        return float(p.g_lr if net == "G" and p.g_lr is not None else p.lr)

    @property
    def lr_scheduled(self) -> bool:
        return self.params.lr_schedule == "linear"

    @property
    def spans_run(self) -> bool:
        """A linear decay without its own ``lr_decay_steps`` falls to 0 at the run's end (:attr:`horizon`)."""
        return self.lr_scheduled and self.params.lr_decay_steps is None

    @property
    def decay_steps(self) -> int:
        """The iterations over which a ``linear`` rate falls to 0: ``lr_decay_steps``, else the run's (:attr:`horizon`)."""
        return int(self.params.lr_decay_steps or self.horizon)

    def lr_at(self, name: str, step: int) -> float:
        """The rate of net ``name`` at iteration ``step``: :meth:`learning_rate` falling linearly to 0 over
        :attr:`decay_steps` iterations (SN-GAN's ``LinearShift`` [5])."""
        return linear_lr(self.learning_rate(name), step, self.decay_steps)

    @property
    def batch_size(self) -> int:
        return int(self.params.batch_size)

    @property
    def g_batch_size(self) -> int:
        """Latents G's step draws: ``g_batch_size``, else D's :attr:`batch_size`."""
        p = self.params
        return int(p.batch_size if p.g_batch_size is None else p.g_batch_size)

    def latent_spec(self) -> LatentSpec:
        return LatentSpec(int(self.params.latent_dim), "normal")

    @property
    def loss_name(self) -> str:
        return str(self.params.loss)

    @property
    def penalised(self) -> bool:
        """Whether D's loss has a gradient penalty."""
        return self.params.gp_weight > 0

    def check(self) -> None:
        """One-line errors for hyper-parameters no step could use."""
        p, name = self.params, self.method_name
        if p.n_critic < 1:
            raise GanEvalError(f"method {name}: n_critic={p.n_critic}; D needs at least 1 step per G step (--n-critic 5)")
        if p.optimizer not in OPTIMIZERS:
            raise GanEvalError(f"method {name}: optimizer={p.optimizer!r}; use one of {', '.join(OPTIMIZERS)}")
        if getattr(p, "n_critic_boost", 0) and min(p.boost_first, p.boost_every) < 1:
            raise GanEvalError(f"method {name}: the critic schedule needs boost_first and boost_every >= 1 "
                               f"(main.py: 25, 500), got {p.boost_first}, {p.boost_every}; --n-critic-boost 0 turns it off")
        if p.lr_schedule not in LR_SCHEDULES:
            raise GanEvalError(f"method {name}: lr_schedule={p.lr_schedule!r}; use constant or linear (to 0 over the run)")
        if p.lr_decay_steps is not None and (not self.lr_scheduled or p.lr_decay_steps < 1):
            raise GanEvalError(f"method {name}: lr_decay_steps={p.lr_decay_steps} is the length of a linear decay: >= 1, with "
                               "--set lr_schedule=linear (or leave it out: the decay then spans the run)")
        if p.g_batch_size is not None and p.g_batch_size < 1:
            raise GanEvalError(f"method {name}: g_batch_size={p.g_batch_size}; G's step needs at least 1 sample "
                               "(drop --set g_batch_size for D's batch)")
        if p.g_batch_size not in (None, p.batch_size) and self.update == "simultaneous":
            raise GanEvalError(f"method {name}: g_batch_size={p.g_batch_size}, but update=simultaneous steps G on the last "
                               f"D step's batch of {p.batch_size}; drop --set g_batch_size, or --set update=sequential")
        if p.d_norm is not None and self.data.kind == "vector":
            raise GanEvalError(f"method {name}: d_norm={p.d_norm!r} sets the DCGAN critic's normalisation on images; "
                               "the 2-D nets have none (drop --set d_norm)")
        LOSSES.get(self.loss_name)

    @classmethod
    def filled_params(cls, params: Any, kind: str, shape: tuple[int, ...] | None = None) -> Any:
        """The data's defaults (:attr:`defaults_by_kind`), but a default ``d_norm`` only where the image net takes
        the option (WGAN-GP's 64 x 64 ``layer`` is the DCGAN critic's; ``--net began`` keeps its own critic), and a
        default ``g_batch_size`` only where G takes a step of its own (``update=sequential``)."""
        filled = super().filled_params(params, kind, shape)
        if params.d_norm is None and filled.d_norm is not None and "d_norm" not in net_options(cls.image_pair_name(filled, shape)):
            filled = dataclasses.replace(filled, d_norm=None)
        if params.g_batch_size is None and filled.g_batch_size is not None and filled.update == "simultaneous":
            filled = dataclasses.replace(filled, g_batch_size=None)
        return filled

    @classmethod
    def image_pair_name(cls, params: Any, shape: tuple[int, ...]) -> str:
        """The image pair ``params.net`` names for samples of ``shape`` (``auto``: :meth:`image_nets`)."""
        return image_net(params.net, shape, cls.method_name, cls.image_nets())

    def setup(self, generator: torch.Generator) -> None:
        self.check()
        super().setup(generator)  # self.iterations: G steps taken, WGAN's critic schedule and the rate schedule read it
        self.check_decay_outlasts_run()

    def load_extra_state(self, state: dict[str, torch.Tensor]) -> None:
        super().load_extra_state(state)
        self.check_decay_outlasts_run()

    def check_decay_outlasts_run(self) -> None:
        """A rate that reaches 0 before the run ends would train the rest at 0: refused before any training step
        (outside a run, without :attr:`run_steps`, there is no end to check)."""
        steps = self.run_steps
        if self.lr_scheduled and steps is not None and steps > self.decay_steps:
            fix = ("start a new run for that budget (the rate decays over the steps a run starts with)" if self.spans_run
                   else f"--set lr_decay_steps={steps} or leave it out to decay over the run, as the reference code")
            raise GanEvalError(f"method {self.method_name}: its learning rate falls to 0 at iteration {self.decay_steps:,}, "
                               f"before the run's {steps:,} steps; {fix}")

    def build(self, generator: torch.Generator) -> torch.nn.ModuleDict:
        p = self.params
        latent = int(self.params.latent_dim)
        if self.data.kind == "vector":
            net = self.vector_net if p.net == "auto" else p.net
            if p.spectral_norm and net != "relu-mlp":
                raise GanEvalError(f"method {self.method_name}: spectral_norm on vectors needs --net relu-mlp, "
                                   f"got {net!r}")
            options = {"relu-mlp": {"hidden": p.hidden, "layers": p.layers, "spectral_norm": p.spectral_norm},
                       "tanh-mlp": {"hidden": p.hidden, "layers": p.layers}}.get(net, {})
        else:
            net = self.image_pair_name(p, self.data.shape)
            options = {"spectral_norm": p.spectral_norm, "output": generator_output("auto", self.data)}
            if p.width is not None:
                options["width"] = p.width
            norm = p.d_norm
            if norm is not None and "d_norm" not in net_options(net):
                raise GanEvalError(f"method {self.method_name}: d_norm={norm!r} sets the DCGAN critic's normalisation, "
                                   f"and net {net!r} has no such option: drop --set d_norm, or train the DCGAN net (--set net=auto)")
            if norm is None and net in AUTO_NETS.values() and (self.penalised or p.spectral_norm):
                norm = "off"
            if norm is not None:
                options["d_norm"] = norm
        self.nets["G"], self.nets["D"] = build_nets(net, latent, self.data.shape, generator, **options)
        return self.nets.to(self.device)

    @classmethod
    def image_nets(cls) -> dict[int, str]:
        """The net pair ``net=auto`` builds, by image size."""
        return AUTO_NETS

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {name: self.optimizer(self.nets[name].parameters(), self.learning_rate(name)) for name in ("D", "G")}

    def optimizer(self, params, lr: float) -> torch.optim.Optimizer:  # noqa: ANN001 (an iterable of parameters)
        p = self.params
        if p.optimizer == "rmsprop":  # torch's defaults (alpha 0.99, eps 1e-8), as WGAN's main.py
            return torch.optim.RMSprop(params, lr=lr, capturable=self.device.type == "cuda")
        return adam(params, lr, (p.beta1, p.beta2))

    # --- the losses -------------------------------------------------------------------------------------------
    @property
    def batch_dims(self) -> int:
        return 2 if self.grouped else 1

    def d_loss(self, x: torch.Tensor, fake: torch.Tensor, real_logits: torch.Tensor, fake_logits: torch.Tensor,
               noise: Noise) -> torch.Tensor:
        """mean(real term) + mean(fake term) [+ gp_weight * mean(gradient penalty)], one value per seed."""
        real_term, fake_term = LOSSES.get(self.loss_name).d_terms(real_logits, fake_logits)
        loss = self.mean(real_term) + self.mean(fake_term)
        if self.penalised:
            eps = self.rand(x.shape[self.batch_dims - 1], (), noise)
            loss = loss + self.params.gp_weight * self.mean(gradient_penalty(self.nets["D"], x, fake, eps, self.batch_dims))
        return loss

    def g_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return self.mean(LOSSES.get(self.loss_name).g_term(fake_logits))

    # --- the step ---------------------------------------------------------------------------------------------
    def critic_steps(self) -> int:
        """D steps before this iteration's G step: ``n_critic`` (WGAN: ``n_critic_boost`` on its schedule)."""
        p = self.params
        boost = getattr(p, "n_critic_boost", 0)
        if not boost:
            return p.n_critic
        return boosted_critic_steps(self.iterations, p.n_critic, boost, p.boost_first, p.boost_every)

    @property
    def graph_safe(self) -> bool:
        return not getattr(self.params, "n_critic_boost", 0) and not self.lr_scheduled

    def train_step(self, real: RealBatch, noise: Noise) -> dict[str, torch.Tensor]:
        n = self.batch_size
        G, D = self.nets["G"], self.nets["D"]
        steps = self.critic_steps()
        simultaneous = self.update == "simultaneous"
        for name in ("D", "G"):
            self.schedule(name, self.iterations)
        for i in range(steps):
            x = real(n)
            joint = simultaneous and i == steps - 1
            with torch.set_grad_enabled(joint):  # a D-only step needs no graph through G
                fake = G(self.noise(n, noise))
            if joint:
                fake_logits = D(fake)
                d_loss = self.d_loss(x, fake, D(x), fake_logits, noise)
                g_loss = self.g_loss(fake_logits)
                descend_together((d_loss, self.opt["D"]), (g_loss, self.opt["G"]))
            else:
                d_loss = self.d_loss(x, fake, D(x), D(fake), noise)
                descend(d_loss, self.opt["D"])
            if self.params.clip > 0:
                clip_weights_(D, self.params.clip)
        if not simultaneous:
            g_loss = self.g_loss(D(G(self.noise(self.g_batch_size, noise))))
            descend(g_loss, self.opt["G"])
        self.iterations += 1
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach()}


def _thin(name: str, params: type, doc: str, **attributes: object) -> type[CriticGAN]:
    """Register ``name``: :class:`CriticGAN` with its own defaults ``params`` and nothing else of its own."""
    cls = type(params.__name__.removesuffix("Params"), (CriticGAN,),
               {"Params": params, "__doc__": doc, "__module__": __name__, **attributes})
    return register_method(name)(cls)


WGAN = _thin("wgan", WGANParams, "WGAN (Arjovsky, Chintala & Bottou 2017) [1].")
WGANGP = _thin("wgan-gp", WGANGPParams, "WGAN-GP (Gulrajani et al. 2017) [2].", defaults_by_kind=CriticGAN.wgan_gp_defaults_by_kind)
LSGAN = _thin("lsgan", LSGANParams, "LSGAN (Mao et al. 2017) [4], either label coding.", vector_net="tanh-mlp",
              defaults_by_kind={**CriticGAN.defaults_by_kind, "latent_dim": (256, 100), "batch_size": (512, 64),
                                "lr": (1e-4, 2e-4), "g_lr": (1e-3, None), "update": ("simultaneous", "sequential")})
HingeGAN = _thin("hinge", HingeParams, "The hinge GAN (Lim & Ye 2017; Miyato et al. 2018's loss) [5].", default_steps=50_000,
                 defaults_by_kind=CriticGAN.sngan_defaults_by_kind)


@register_method("sngan")
class SNGAN(CriticGAN):
    """SN-GAN (Miyato et al. 2018) [5]: hinge loss, spectral normalisation of every D layer."""

    Params = SNGANParams
    default_steps = 50_000
    defaults_by_kind = CriticGAN.sngan_defaults_by_kind

    @classmethod
    def image_nets(cls) -> dict[int, str]:
        return {**AUTO_NETS, 32: "sn-cnn32"}


@register_method("fgan")
class FGAN(CriticGAN):
    """f-GAN (Nowozin, Cseke & Tomioka 2016) [6] with one of Table 2's five divergences."""

    Params = FGANParams

    @property
    def loss_name(self) -> str:
        if self.params.divergence not in F_DIVERGENCES:
            raise GanEvalError(f"method fgan: divergence={self.params.divergence!r} is not one of Nowozin et al.'s "
                               f"Table 2 divergences here: {', '.join(F_DIVERGENCES)}")
        return str(self.params.divergence)


@register_method("bwgan")
class BWGAN(CriticGAN):
    """Banach Wasserstein GAN (Adler & Lunz 2018) [3], as adler-j/bwgan ``cifar10_sobolev.py`` computes it::

        lambda = E ||x||_{W^{s,p}},  gamma = E ||x||_{W^{s,q}}         (per real batch, the code's ``lamb``, ``gamma``)
        d_loss = (E[D(G(z))] - E[D(x)]) / gamma + lambda * E[(||grad D(x_hat)||_{W^{-s,q}} / gamma - 1)^2]
                 + 1e-5 * E[D(x)^2]
        g_loss = -E[D(G(z))] / gamma

    with 1/p + 1/q = 1 (D's sign flipped to this module's convention: D scores real samples high). ``gamma`` takes
    W^{s,q} as the code does (its ``gamma`` norms the s-filtered data with the dual exponent; the paper's heuristic
    reads E||x||_{B*}); the two agree at s = 0. ``gp_weight`` set replaces the data-driven ``lambda``.

    **On vectors** the Sobolev order s has nothing to act on: W^{s,p} is defined through derivatives over the
    sample's spatial axes (the code's FFT over an image's H, W), and a point of R^d has none, so the space is l^p
    on R^d, its dual l^q, and s must be 0 (refused otherwise). BW-GAN on vectors is then WGAN-GP with the
    penalty's norm l^q, its target gamma = E||x||_q, and weight lambda = E||x||_p: at the default p = 2 the
    Euclidean gradient penalty with target and weight E||x||_2.

    G's loss reads ``g_batch_size`` fresh samples, on images the code's ``2 * BATCH_SIZE`` (L192-193) [3].

    Deviations: the code keeps an EMA of G for evaluation; it is not here. G's loss takes ``gamma`` of the
    iteration's last critic batch (the code's G step draws a real batch of its own for it: ``x_true``, L185-199, is
    dequeued afresh by each ``sess.run``, L325).
    """

    Params = BWGANParams
    loss_name = "wasserstein"
    #: gp_weight stays None: the data-driven lambda; on images the code's linear decay over the run and its G step
    #: on ``2 * BATCH_SIZE`` samples [3].
    defaults_by_kind = {**{k: v for k, v in CriticGAN.z128_defaults_by_kind.items() if k != "gp_weight"},
                        "lr_schedule": (None, "linear"), "g_batch_size": (None, PerBatch(2))}
    penalised = True

    def check(self) -> None:
        super().check()
        p = self.params
        if p.sobolev_p < 1:
            raise GanEvalError(f"method bwgan: sobolev_p={p.sobolev_p}; the L^p exponent must be >= 1 (2: the reference's)")
        if p.sobolev_s != 0 and self.data.kind != "image":
            raise GanEvalError(f"method bwgan: sobolev_s={p.sobolev_s} needs images (a Sobolev order acts on spatial axes); "
                               "on vectors the norm is l^p and s must be 0")

    def data_norm(self, x: torch.Tensor, s: float, p: float) -> torch.Tensor:
        """Per-sample ||x||_{W^{s,p}}, ``[*batch]``."""
        return sobolev_norm(x.flatten(self.batch_dims), s, p, self.params.sobolev_c, self.data.shape, self.batch_dims)

    def d_loss(self, x: torch.Tensor, fake: torch.Tensor, real_logits: torch.Tensor, fake_logits: torch.Tensor,
               noise: Noise) -> torch.Tensor:
        p = self.params
        q = dual_exponent(p.sobolev_p)
        self.gamma = self.mean(self.data_norm(x, p.sobolev_s, q))
        weight = self.mean(self.data_norm(x, p.sobolev_s, p.sobolev_p)) if p.gp_weight is None else p.gp_weight
        real_term, fake_term = LOSSES.get(self.loss_name).d_terms(real_logits, fake_logits)
        eps = self.rand(x.shape[self.batch_dims - 1], (), noise)
        dual = lambda grad: self.data_norm(grad, -p.sobolev_s, q)  # noqa: E731  (W^{-s,q}, the dual of W^{s,p})
        penalty = gradient_penalty(self.nets["D"], x, fake, eps, self.batch_dims, norm=dual, target=self.gamma)
        return ((self.mean(real_term) + self.mean(fake_term)) / self.gamma + weight * self.mean(penalty)
                + p.drift * self.mean(real_logits.square()))

    def g_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return super().g_loss(fake_logits) / self.gamma
