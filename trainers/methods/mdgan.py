"""MD-GAN (Eghbal-zadeh, Zellinger, Widmer 2019, "Mixture Density Generative Adversarial Networks").

D embeds a sample into R^m (m = 9) and scores it by the density of a fixed Gaussian mixture there: m + 1
components with means at the vertices of a regular simplex centred at the origin, covariance 0.25 I and weights
1 / (m + 1) (eghbalz/mdgan ``utils.py`` L6-54, ``simplex_params``). The reference's vertices lie 0.9436 from the
centre, not 1: its ``simplex_coordinates`` takes the square root inside the loop that sums the first vertex's squares
(L29-31), so it divides by a nested root instead of that vertex's norm (:func:`reference_simplex_radius`;
``simplex_radius`` None, the default; ``--set simplex_radius=1`` the unit simplex this toolkit used before). With
``p(e) = sum_k w_k N(e; mu_k, Sigma_k)`` (``losses.py`` L4-26, ``get_gaussian_likelihood``: ``det(2 pi S)^-1/2
exp(-maha / 2) w``, summed over components in ``mdgan.ipynb``) and ``lambda = max_e p(e)``, the losses of
``mdgan.ipynb`` (code cell 8; code cells counted from 1) are, with ``r = 1e-8`` against ``log 0``::

    D minimises  -mean[ log(r + p(D(x))) + log(r + lambda - p(D(G(z)))) ]
    G minimises   mean[ log(r + lambda - p(D(G(z)))) ]

The reference finds ``lambda`` by training a one-layer network to maximise ``p`` (cell 4-6); we find the same
maximum by the mean-shift fixed point ``e <- sum_k r_k(e) mu_k`` (r_k: the components' responsibilities) in float64
(:func:`mixture_maximum`). The components overlap (std 0.5, means 0.94 from the centre and 1.41 apart; 1 and 1.49
on the unit simplex), so the maximum is the centre of the simplex: ``p(0) = (pi / 2)^(-9/2) e^(-2 r^2)`` (r the
radius: 0.0221 at the reference's, 0.0177 at 1) exceeds ``p(mu_k)`` (0.0154, 0.0145). Proven without training in
``tests/test_diversity_methods.py``: the density against scipy's ``multivariate_normal``, the simplex and
``lambda`` in closed form.

Defaults, mixtures (``mdgan.ipynb`` cell 2 and 10, ``architectures.py`` L19-32): z ~ U(-1, 1)^2; G: 128 ReLU,
128 ReLU, linear 2 then ``6 tanh``; D: 128 LeakyReLU(0.2), 128 LeakyReLU(0.2), linear m then ``5 sigmoid - 2.5``;
all weights N(0, 0.02^2), biases 0 (Lasagne's ``DenseLayer`` default); batch 500; Adam lr 1e-3 for both,
beta1 0.5 (Lasagne's beta2 0.999, eps 1e-8); each iteration one D step, then one G step on fresh noise against the
updated D (``update=sequential``); 2000 epochs of the reference's 10,000-point grid set = 40,000 iterations
(``default_steps``). Learning-rate schedule: the reference halves both learning rates at the start of every 500th
epoch (``iterators.py`` L4-7, called once per epoch by ``mdgan.ipynb``'s ``for epoch in range(2000)`` loop, cell
10), i.e. every 10,000 iterations of its 20-batch epochs: iteration i (from 0) trains D and G at
``lr * 0.5 ** (i // 10_000)`` (``lr_decay`` 0.5, ``lr_decay_every`` 10,000 iterations; the iteration count is
checkpointed, and a method that changes its rate is not CUDA-graph safe, so it trains eagerly). Its data is a fixed
10,000-point set; here the table's (fresh samples unless ``train_size``). The reference has no ring configuration and no image code: on images G and D are
this toolkit's DCGAN pair (:func:`trainers.methods.dcgan.build_image_nets`) with D's head widened to m and the same
scaled sigmoid, z ~ U(-1, 1)^100, batch 64, Adam lr 2e-4, beta1 0.5, constant (the carpedm20 DCGAN settings of
``dcgan``: ``lr_decay`` 1 on images).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from gan_eval.io.latent import LatentSpec
from trainers.methods.base import DataShape, RealBatch, StaircaseLRMethod, adam, descend, descend_together, register_method
from trainers.methods.image import build_image_nets
from trainers.nets import init_normal, mlp

#: Covariance scale of every component (``utils.py`` ``var2cov``: identity * .25).
COVARIANCE_SCALE = 0.25
#: ``params['reg']`` of ``mdgan.ipynb``: "for avoiding numerical instabilities".
REG = 1e-8


def centred_simplex(m: int) -> torch.Tensor:
    """The m + 1 vertices ([m + 1, m], float64) of ``simplex_coordinates`` of ``utils.py`` before its scaling: unit
    basis vectors plus ``(1 - sqrt(m + 1)) / m`` on every axis, centred at 0."""
    x = torch.cat([torch.eye(m, dtype=torch.float64), torch.full((1, m), (1.0 - math.sqrt(m + 1)) / m, dtype=torch.float64)])
    return x - x.mean(0)


def reference_simplex_radius(m: int) -> float:
    """The distance from the centre at which ``simplex_coordinates`` (``utils.py`` L28-35) leaves the vertices. It
    means to divide by the first vertex's norm, but its square root sits inside the summing loop: with ``c_i`` that
    vertex's coordinates it divides by ``s_m``, ``s_i = sqrt(s_(i-1) + c_i^2)``, ``s_0 = 0``, so the radius is
    ``|c| / s_m``: 0.9436 for m = 9."""
    vertex = centred_simplex(m)[0]
    nested = 0.0
    for c in vertex.tolist():
        nested = math.sqrt(nested + c * c)
    return float(vertex.norm()) / nested


def simplex_vertices(m: int, radius: float = 1.0) -> torch.Tensor:
    """The m + 1 vertices of a regular simplex in R^m centred at 0, at distance ``radius`` from it ([m + 1, m],
    float64)."""
    x = centred_simplex(m)
    return radius * x / x[0].norm()


def mixture_density(embeddings: torch.Tensor, means: torch.Tensor, scale: float = COVARIANCE_SCALE) -> torch.Tensor:
    """``p(e) = sum_k 1/K N(e; mu_k, scale I)`` for embeddings ``[..., m]`` and means ``[K, m]``: shape ``[...]``."""
    m = means.shape[-1]
    squared = (embeddings.unsqueeze(-2) - means).square().sum(-1)  # [..., K]
    log_norm = -0.5 * m * math.log(2.0 * math.pi * scale) - math.log(means.shape[0])
    return torch.exp(log_norm - 0.5 * squared / scale).sum(-1)


def mixture_maximum(means: torch.Tensor, scale: float = COVARIANCE_SCALE, iterations: int = 200) -> float:
    """``max_e p(e)`` of the equal isotropic mixture, by mean-shift iterations from the first mean (float64); for the
    simplex mixture they reach its centre (module docstring)."""
    e = means[0].to(torch.float64)
    means = means.to(torch.float64)
    for _ in range(iterations):
        weights = torch.softmax(-0.5 * (e - means).square().sum(-1) / scale, 0)
        e = weights @ means
    return float(mixture_density(e, means, scale))


class ScaledSigmoid(nn.Module):
    """``scale * sigmoid(x) - shift`` (``architectures.py`` ``ScaledSig``: 5 and 2.5)."""

    def __init__(self, scale: float = 5.0, shift: float = 2.5) -> None:
        super().__init__()
        self.scale, self.shift = scale, shift

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * torch.sigmoid(x) - self.shift


class ScaledTanh(nn.Module):
    """``scale * tanh(x)`` (``architectures.py`` ``ScaledTanh``: 6)."""

    def __init__(self, scale: float = 6.0) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * torch.tanh(x)


@dataclass
class MDGANParams:
    """Hyper-parameters of MD-GAN; None: the data kind's default (module docstring)."""

    latent_dim: int | None = None
    embedding_dim: int = 9
    #: distance of the mixture's means from the centre; None: the reference's (:func:`reference_simplex_radius`)
    simplex_radius: float | None = None
    hidden: int = 128
    init_std: float = 0.02
    batch_size: int | None = None
    lr: float | None = None
    beta1: float = 0.5
    beta2: float = 0.999
    update: str = "sequential"
    lr_decay: float | None = None
    lr_decay_every: int = 10_000
    net: str = "auto"
    width: int | None = None
    output: str = "auto"


DEFAULTS_BY_KIND = {"latent_dim": (2, 100), "batch_size": (500, 64), "lr": (1e-3, 2e-4), "lr_decay": (0.5, 1.0)}


@register_method("mdgan")
class MDGAN(StaircaseLRMethod):
    Params = MDGANParams
    default_steps = 40_000
    data_kinds = ("vector", "image")
    defaults_by_kind = DEFAULTS_BY_KIND

    def __init__(self, params: MDGANParams, data: DataShape, device: torch.device) -> None:
        super().__init__(params, data, device)
        p = self.params
        radius = reference_simplex_radius(p.embedding_dim) if p.simplex_radius is None else p.simplex_radius
        means = simplex_vertices(p.embedding_dim, radius)
        self.lam = mixture_maximum(means)
        self.means = means.to(device=self.device, dtype=torch.get_default_dtype())

    def latent_spec(self) -> LatentSpec:
        return LatentSpec(int(self.params.latent_dim), "uniform")

    def build(self, generator: torch.Generator) -> torch.nn.ModuleDict:
        p = self.params
        if self.data.kind == "image":
            G, D = build_image_nets("mdgan", p.net, p.latent_dim, self.data, generator, output=p.output, width=p.width)
            D.head = init_normal(nn.Linear(D.head.in_features, p.embedding_dim), p.init_std, generator)
        else:
            G = init_normal(nn.Sequential(*mlp([p.latent_dim, p.hidden, p.hidden, self.data_dim], "relu"), ScaledTanh()), p.init_std, generator)
            D = init_normal(mlp([self.data_dim, p.hidden, p.hidden, p.embedding_dim], "leaky_relu"), p.init_std, generator)
        self.nets["G"], self.nets["D"] = G, nn.Sequential(D, ScaledSigmoid())
        return self.nets.to(self.device)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        return {name: adam(self.nets[name].parameters(), p.lr, (p.beta1, p.beta2)) for name in ("D", "G")}

    def fake_term(self, fake: torch.Tensor) -> torch.Tensor:
        """``log(r + lambda - p(D(G(z))))`` per sample."""
        return torch.log(REG + self.lam - mixture_density(self.nets["D"](fake), self.means))

    def d_loss(self, x: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        real_term = torch.log(REG + mixture_density(self.nets["D"](x), self.means))
        return -self.mean(real_term + self.fake_term(fake))

    def train_step(self, real: RealBatch, noise: torch.Generator) -> dict[str, torch.Tensor]:
        n, G = self.batch_size, self.nets["G"]
        for name in self.opt:  # D and G: the reference halves both every 500 epochs
            self.schedule(name, self.iterations)
        self.iterations += 1
        x = real(n)
        fake = G(self.noise(n, noise))
        if self.update == "simultaneous":
            d_loss = self.d_loss(x, fake)
            g_loss = self.mean(self.fake_term(fake))
            descend_together((d_loss, self.opt["D"]), (g_loss, self.opt["G"]))
        else:
            d_loss = self.d_loss(x, fake.detach())
            descend(d_loss, self.opt["D"])
            g_loss = self.mean(self.fake_term(G(self.noise(n, noise))))
            descend(g_loss, self.opt["G"])
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach()}
