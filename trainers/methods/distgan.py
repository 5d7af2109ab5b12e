"""Dist-GAN (Tran, Bui, Cheung 2018, "Dist-GAN: An Improved GAN using Distance Constraints").

An encoder E and the generator G form an autoencoder ``x -> E(x) -> G(E(x)) = x_r``; its regulariser (the
latent-data distance constraint) asks that the mean distance between reconstructions and samples in data space
follow the mean distance between their codes (tntrung/gan ``distgan_toy2d/distgan_toy2d.py`` L84-91;
``distgan_image/distgan.py`` L191-195, with ``lambda_w``, and on D's features for ``x``: Images below)::

    R_reg = ( mean(x_r - G(z)) - lambda_w * mean(E(x) - z) )^2        (means over batch and every dimension)

Three updates per iteration, each on its own noise (``distgan_toy2d.py`` L151-175): the autoencoder minimises
``reconstruction + lambda_r * R_reg`` (stepping E and G on the mixtures, E alone on images: Autoencoder's optimiser
below); D then takes ``n_critics`` steps on the cross-entropy of real (1),
reconstructed and generated samples, plus ``lambda_p`` times the gradient penalty
``mean((sqrt(mean_d (dD/dx_hat)^2) - 1)^2)`` at ``x_hat = (1 - b) x + b G(z)``, ``b ~ U(0, 1)`` per sample (the
root-MEAN square over dimensions, ``utils.py`` L9-14); G then minimises ``|mean sigmoid D(x) - mean sigmoid D(G(z))|``
on the autoencoder step's data batch. ``tests/test_diversity_methods.py`` checks ``R_reg`` against the formula
written out with loops.

Defaults, mixtures (``distgan_toy2d.py`` L27-39, L55-63, L89-110): z ~ U(-1, 1)^2; G, E and D 3 x 128 ReLU MLPs
with weights N(0, 2 / fan_in) (``model_mlp.py`` ``xavier_init``), biases 0; batch 128; Adam lr 1e-3, betas (0.8,
0.999); lambda_p = lambda_r = 0.1, lambda_w = 1 (the 2-D code has no lambda_w), 5 critic steps; D's loss
``0.5 (BCE(x, 1) + BCE(x_r, 0)) + BCE(G(z), 0)``; the reconstruction compared in data space. Deviations: the 2-D
code's G ends in a sigmoid on data normalised to [0, 1] with a cross-entropy reconstruction; our mixtures are not
normalised, so G is linear and the reconstruction is the squared error, the code's commented alternative
(L87, ``tf.reduce_mean(tf.square(_Xr_prob - X))``).

Learning-rate schedule, mixtures (tntrung/gan at 6e67fe3, ``distgan_toy2d/distgan_toy2d.py`` L33-34 ``decay_niter =
10000``, ``decay_base = 0.9``; L118-125: ``tf.train.exponential_decay(lr, global_step, decay_niter, decay_base,
staircase=True)`` shared by the three Adam solvers, each ``minimize(..., global_step=global_step)``; L164-175: per
iteration one R, ``n_critics`` D and one G step): ``global_step`` counts every optimizer step, so the s-th step (from
0; the rate is read before the increment) takes ``lr * 0.9 ** (s // 10_000)``, where iteration i's steps are
``s = i (n_critics + 2) + k``, k = 0 (R), 1..n_critics (D), n_critics + 1 (G): with 5 critics the rate first drops
within iteration 1,428. ``lr_decay`` 0.9, ``lr_decay_every`` 10,000 optimizer steps; the iteration count is
checkpointed, and a method that changes its rate is not CUDA-graph safe, so it trains eagerly. On images the
reference keeps the rate constant (``distgan_image/distgan.py`` ``decay_rate = 1.0``, and its DCGAN-net solvers do
not advance ``global_step``): ``lr_decay`` 1.
``default_steps``: 500 epochs of the reference's toy sets, which we do not have: 25,000 iterations, stated as ours.

Images (``distgan_image/distgan.py`` L22-35, L158-233; None fields take these): z ~ U(-1, 1)^100, batch 64, Adam
lr 2e-4, betas (0.5, 0.9), lambda_p = lambda_r = 1, one critic step; the reconstruction and both gaps of ``R_reg``
are compared in D's feature space ``f`` (its flattened last hidden layer): ``mean((f(x) - f(x_r))^2)`` and
``(mean(f(x_r) - f(G(z))) - lambda_w mean(E(x) - z))^2`` (L192-195, ``md_x`` on ``f_recon - f_fake``;
``distance_space`` ``features``, where before 2026-11-30 the gap was taken on the images: ``distance_space=data``);
``lambda_w = sqrt(d / D)``, d the latent and D the feature width (``distgan_mnist.py``, ``distgan_cifar.py``,
``distgan_celeba.py``: ``lambda_w = np.sqrt(noise_dim * 1.0 / feature_dim)``, "as in the paper"; 0.11 on this
toolkit's dcgan64 and sn-cnn32 D, 8,192 features; before 2026-11-30 fixed at MNIST's 0.15625, which
``--set distance_space=data --set lambda_w=0.15625`` restore); D labels reconstructions real. G and D are
this toolkit's DCGAN pair, E is D's architecture with a linear head to z (our choice; the reference's
``encoder_dcgan_*`` are likewise D-shaped convolution stacks).

Autoencoder's optimiser (``autoencoder_updates``): which nets the reconstruction step moves. The 2-D code steps E and
G (``distgan_toy2d.py`` L123, ``var_list=theta_E + theta_G``); the image code steps E alone on CIFAR-10, CelebA and
STL-10 and E and G only on MNIST (tntrung/gan at 6e67fe3, ``distgan_image/distgan.py`` L281-284: ``if self.db_name in
['mnist']: ... self.vars_e + self.vars_g ... else: ... self.vars_e``; its ResNet branch, L257, steps E alone too), so
there G learns only from the discriminator-score term and D's reconstructions. Defaults: ``encoder+generator`` on the
mixtures, ``encoder`` on images (the branch of the datasets the image tables train, bms-cifar and bms-celeba); an
MNIST-like run of the reference takes ``--set autoencoder_updates=encoder+generator``, which also restores this
toolkit's image behaviour before 2026-11-30. The code's history shows the choice was deliberate and not constant:
E only (2018-04-30), E + G as a "bug fix" (4d002f2, 2018-06-03), E only again (61f8096, 2018-07-17), E + G on MNIST and
CelebA (d2b6de2, 2018-10-20), CelebA back to E only (385beee, 2019-04-05); the paper's Algorithm 1 does not say, and
the code's current state is the reference here.

D's weights on images (``d_weight_schedule``): D's loss is ``w_real BCE(x, 1) + w_recon BCE(x_r, 1) + BCE(G(z), 0)``.
The image code moves the weight from the reconstructions to the real samples over the run (tntrung/gan at 6e67fe3,
``distgan_image/distgan.py`` L197-214, since 385beee, 2019-04-05, for every net and both losses): with ``t = i / N``,
``i`` the iteration (0 to ``n_steps``, fed as ``self.iteration``) and ``N`` the run's ``n_steps`` (300,000 CIFAR-10,
200,000 CelebA, 100,000 MNIST), ``mu = max(min((0.1 t - 0.05) * 2, 0.05), 0)``, ``w_real = 0.95 + mu``,
``w_recon = 0.05 - mu``: (0.95, 0.05) up to ``t = 0.5``, linear to (1, 0) at ``t = 0.75`` (the code's comment says
3N/2; its formula ends at 3N/4), then D no longer sees the reconstructions. ``linear`` (default on images) does this
with ``N`` the run's ``steps`` as it started (kept in the checkpoint, so extending a finished run continues at (1, 0));
the code's loop takes ``n_steps + 1`` iterations (``range(self.n_steps + 1)``, L304, the last at ``t = 1``), a run
here its ``steps``: one iteration fewer, at weights (1, 0), not followed;
``fixed`` keeps (0.95, 0.05), the code from 2018-05-02 (bc4b148, "lower weights for d_recon to achieve sharper
generated images, slightly improved from the original paper", replacing ``(d_real + d_recon) * 0.5``) to 2019-04-05,
and this toolkit's image runs before 2026-11-30 (the paper's own text was not checked here). The weights are Python
floats set each iteration, so with ``linear`` the method trains eagerly (no CUDA graph), as a decaying learning rate
does. The mixtures keep the 2-D code's fixed weights (0.5, 0.5, 1 above); ``linear`` is refused there.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch
from torch import nn

from gan_eval.errors import GanEvalError
from gan_eval.io.latent import LatentSpec
from trainers.methods.base import DataShape, RealBatch, StaircaseLRMethod, adam, added_option, descend, register_method
from trainers.methods.image import build_image_nets
from trainers.nets import mlp
from trainers.nets.mlp_pairs import FeatureSequential
from trainers.penalties import input_gradients


def latent_data_distance(x_recon: torch.Tensor, x_fake: torch.Tensor, z_encoded: torch.Tensor, z: torch.Tensor,
                         lambda_w: float, batch_dims: int = 1) -> torch.Tensor:
    """Dist-GAN's ``R_reg = (mean(x_r - G(z)) - lambda_w mean(E(x) - z))^2``, the means over everything after the
    ``batch_dims - 1`` leading (seed) dimensions: one value per seed."""
    lead = batch_dims - 1
    data_gap = (x_recon - x_fake).flatten(lead).mean(-1)
    code_gap = (z_encoded - z).flatten(lead).mean(-1)
    return (data_gap - lambda_w * code_gap).square()


@torch.no_grad()
def init_he_normal(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """Weights N(0, 2 / fan_in), biases 0: ``model_mlp.py``'s ``xavier_init`` (``stddev = 1 / sqrt(in_dim / 2)``)."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, 0.0, (2.0 / layer.in_features) ** 0.5, generator=generator)
            nn.init.zeros_(layer.bias)
    return module


@dataclass
class DistGANParams:
    """Hyper-parameters of Dist-GAN; None: the data kind's reference default (module docstring)."""

    latent_dim: int | None = None
    hidden: int = 128
    layers: int = 3
    batch_size: int | None = None
    lr: float | None = None
    beta1: float | None = None
    beta2: float | None = None
    lambda_p: float | None = None
    lambda_r: float | None = None
    #: None: 1 on the mixtures (the 2-D code has none), on images ``sqrt(latent_dim / width of the space the data gap
    #: is taken in)`` (the image code's rule; module docstring)
    lambda_w: float | None = None
    #: where ``R_reg`` takes its data gap: ``data`` (samples) or ``features`` (D's last hidden layer)
    distance_space: str | None = None
    n_critics: int | None = None
    #: the nets the reconstruction step moves: ``encoder`` or ``encoder+generator`` (module docstring)
    autoencoder_updates: str | None = None
    lr_decay: float | None = None
    lr_decay_every: int = 10_000
    #: D's real / reconstruction weights on images: ``linear`` (the image code's schedule over the run) or ``fixed``
    #: (0.95 / 0.05); None on the mixtures, whose code keeps its own fixed weights (module docstring)
    d_weight_schedule: str | None = added_option(None)
    net: str = "auto"
    width: int | None = None
    output: str = "auto"


#: Where ``R_reg`` may take its data gap (``distance_space``).
DISTANCE_SPACES = ("data", "features")
#: The nets the autoencoder's optimiser may move (``autoencoder_updates``).
AUTOENCODER_UPDATES = ("encoder", "encoder+generator")
#: How D's weights on the real and reconstructed images move (``d_weight_schedule``).
D_WEIGHT_SCHEDULES = ("linear", "fixed")


def reference_d_weights(iteration: int, n_steps: int) -> tuple[float, float, float]:
    """D's (real, reconstruction, fake) weights at ``iteration`` of an ``n_steps`` image run of tntrung/gan
    (``distgan_image/distgan.py`` L197-204): ``mu = max(min((0.1 t - 0.05) * 2, 0.05), 0)`` at ``t = iteration /
    n_steps``, weights ``(0.95 + mu, 0.05 - mu, 1)``."""
    mu = max(min((0.1 * iteration / n_steps - 0.05) * 2, 0.05), 0.0)
    return 0.95 + mu, 0.05 - mu, 1.0

DEFAULTS_BY_KIND = {
    "latent_dim": (2, 100),
    "batch_size": (128, 64),
    "lr": (1e-3, 2e-4),
    "beta1": (0.8, 0.5),
    "beta2": (0.999, 0.9),
    "lambda_p": (0.1, 1.0),
    "lambda_r": (0.1, 1.0),
    "lambda_w": (1.0, None),
    "distance_space": ("data", "features"),
    "n_critics": (5, 1),
    "autoencoder_updates": ("encoder+generator", "encoder"),
    "lr_decay": (0.9, 1.0),
    "d_weight_schedule": (None, "linear"),
}


@register_method("distgan")
class DistGAN(StaircaseLRMethod):
    Params = DistGANParams
    default_steps = 25_000
    data_kinds = ("vector", "image")
    defaults_by_kind = DEFAULTS_BY_KIND

    def __init__(self, params: DistGANParams, data: DataShape, device: torch.device) -> None:
        super().__init__(params, data, device)
        # the reconstruction's label in D's loss (module docstring)
        self.recon_label = 1.0 if data.kind == "image" else 0.0

    def latent_spec(self) -> LatentSpec:
        return LatentSpec(int(self.params.latent_dim), "uniform")

    def setup(self, generator: torch.Generator) -> None:
        if self.params.distance_space not in DISTANCE_SPACES:
            raise GanEvalError(f"method distgan: distance_space={self.params.distance_space!r}; use one of {', '.join(DISTANCE_SPACES)}")
        if self.params.autoencoder_updates not in AUTOENCODER_UPDATES:
            raise GanEvalError(f"method distgan: autoencoder_updates={self.params.autoencoder_updates!r}; use one of {', '.join(AUTOENCODER_UPDATES)}")
        schedule = self.params.d_weight_schedule
        if schedule not in (D_WEIGHT_SCHEDULES if self.data.kind == "image" else (None, "fixed")):
            raise GanEvalError(f"method distgan: d_weight_schedule={schedule!r}; use fixed (or, on images, linear: the image code's schedule; "
                               "the 2-D code keeps its weights fixed)")
        super().setup(generator)

    @property
    def spans_run(self) -> bool:
        """The linear D-weight schedule's ``N`` is the run's steps (:attr:`horizon`)."""
        return self.params.d_weight_schedule == "linear"

    @property
    def graph_safe(self) -> bool:
        return super().graph_safe and not self.spans_run

    def d_weights(self, iteration: int) -> tuple[float, float, float]:
        """D's (real, reconstruction, fake) weights at ``iteration`` (from 0; module docstring)."""
        if self.data.kind != "image":
            return 0.5, 0.5, 1.0
        return reference_d_weights(iteration if self.spans_run else 0, self.horizon)

    def descend(self, loss: torch.Tensor, name: str, optimizer_step: int) -> None:
        """One step of optimizer ``name`` at the rate of the reference's ``optimizer_step``-th Adam step (from 0, counted
        over all three optimizers)."""
        self.schedule(name, optimizer_step)
        descend(loss, self.opt[name])

    def build(self, generator: torch.Generator) -> torch.nn.ModuleDict:
        p = self.params
        if self.data.kind == "image":
            self.nets["G"], self.nets["D"] = build_image_nets("distgan", p.net, p.latent_dim, self.data, generator, output=p.output, width=p.width)
            _, E = build_image_nets("distgan", p.net, p.latent_dim, self.data, generator, output=p.output, width=p.width)
            E.head = nn.Linear(E.head.in_features, p.latent_dim)
            nn.init.normal_(E.head.weight, 0.0, 0.02, generator=generator)
            nn.init.zeros_(E.head.bias)
            self.nets["E"] = E
        else:
            hidden = [p.hidden] * p.layers
            self.nets["G"] = init_he_normal(mlp([p.latent_dim, *hidden, self.data_dim], "relu"), generator)
            self.nets["E"] = init_he_normal(mlp([self.data_dim, *hidden, p.latent_dim], "relu"), generator)
            self.nets["D"] = init_he_normal(FeatureSequential(*mlp([self.data_dim, *hidden, 1], "relu")), generator)
        if p.lambda_w is None:
            self.params = dataclasses.replace(p, lambda_w=math.sqrt(p.latent_dim / self.gap_width()))
        return self.nets.to(self.device)

    def gap_width(self) -> int:
        """Width of the space ``R_reg`` takes its data gap in: the sample's, or D's features (the input of its last
        layer)."""
        if self.params.distance_space == "data":
            return self.data_dim
        D = self.nets["D"]
        return int((D.head if self.data.kind == "image" else D[-1]).in_features)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        betas = (p.beta1, p.beta2)
        autoencoder = [*self.nets["E"].parameters()]
        if p.autoencoder_updates == "encoder+generator":
            autoencoder += self.nets["G"].parameters()
        return {"R": adam(autoencoder, p.lr, betas), "D": adam(self.nets["D"].parameters(), p.lr, betas), "G": adam(self.nets["G"].parameters(), p.lr, betas)}

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """D's features of ``x`` (the input of its last layer)."""
        return self.nets["D"](x, features=True)[1]

    def autoencoder_loss(self, x: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The reconstruction (squared error in data space on the mixtures, in D's feature space on images, averaged
        per seed) and ``R_reg`` (its data gap in ``distance_space``)."""
        G, E = self.nets["G"], self.nets["E"]
        z_encoded = E(x)
        x_recon, fake = G(z_encoded), G(z)
        if self.data.kind == "image":
            f_real, f_recon = self.features(x), self.features(x_recon)
            reconstruction = self.mean((f_real - f_recon).square())
        else:
            reconstruction = self.mean((x - x_recon).square())
        if self.params.distance_space == "features":
            x_recon = f_recon if self.data.kind == "image" else self.features(x_recon)
            fake = self.features(fake)
        return reconstruction, latent_data_distance(x_recon, fake, z_encoded, z, self.params.lambda_w, 1 + self.grouped)

    def gradient_penalty(self, x: torch.Tensor, fake: torch.Tensor, noise: torch.Generator) -> torch.Tensor:
        """``mean((rms_d grad D(x_hat) - 1)^2)`` at ``x_hat = (1 - b) x + b G(z)``, one ``b ~ U(0, 1)`` per sample."""
        b = self.rand(x.shape[self.grouped], (1,) * len(self.data.shape), noise)
        x_hat = (1.0 - b) * x + b * fake.detach()
        grads = input_gradients(self.nets["D"], x_hat, 1 + self.grouped)
        return self.mean((grads.square().mean(-1).sqrt() - 1.0).square())

    def train_step(self, real: RealBatch, noise: torch.Generator) -> dict[str, torch.Tensor]:
        p, n = self.params, self.batch_size
        G, E, D = self.nets["G"], self.nets["E"], self.nets["D"]
        first = self.iterations * (p.n_critics + 2)  # the reference's global_step before this iteration's R step
        w_real, w_recon, w_fake = self.d_weights(self.iterations)
        self.iterations += 1

        x = real(n)
        reconstruction, distance = self.autoencoder_loss(x, self.noise(n, noise))
        self.descend(reconstruction + p.lambda_r * distance, "R", first)

        for k in range(p.n_critics):
            x_d, z_d = real(n), self.noise(n, noise)
            with torch.no_grad():
                recon_d, fake_d = G(E(x_d)), G(z_d)
            d_loss = (w_real * self.bce(D(x_d), 1.0) + w_recon * self.bce(D(recon_d), self.recon_label) + w_fake * self.bce(D(fake_d), 0.0)
                      + p.lambda_p * self.gradient_penalty(x_d, fake_d, noise))
            self.descend(d_loss, "D", first + 1 + k)

        fake = G(self.noise(n, noise))
        with torch.no_grad():
            real_score = self.mean(torch.sigmoid(D(x)))
        g_loss = (real_score - self.mean(torch.sigmoid(D(fake)))).abs()
        self.descend(g_loss, "G", first + p.n_critics + 1)
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(), "reconstruction": reconstruction.detach(), "distance": distance.detach()}
