"""GDPP-GAN (Elfeki et al. 2019, "GDPP: Learning Diverse Generations Using Determinantal Point Processes").

G's loss adds the GDPP loss: the eigen-structure of the DPP kernel ``L = phi phi^T`` of the fake batch's features
(D's last hidden layer, each row L2-normalised; ``L`` is B x B) is pulled towards that of the real batch. With
``(lambda_i, v_i)`` the eigenpairs of the real kernel and ``(mu_i, u_i)`` of the fake one, both in ascending order
(M-Elfeki/GDPP ``gdppgan_Synthetic.py`` L120-140, ``compute_diversity_loss``)::

    L_GDPP = 1e-4 * mean_i (mu_i - lambda_i)^2  +  sum_i lhat_i (1 - <u_i, v_i>),
    lhat = (lambda - min lambda) / (max lambda - min lambda)          (min-max normalised real eigenvalues)

The reference's structure term is ``-sum_i lhat_i <u_i, v_i>``; we add the constant ``sum_i lhat_i`` (real data
only: G's gradient is unchanged) so that the loss is 0 when the fake batch equals the real one and positive
otherwise (``tests/test_diversity_methods.py``). G minimises ``0.5 * (ns + L_GDPP)`` (L172); D is the plain
cross-entropy GAN's. Eigenvector gradients use TensorFlow's ``self_adjoint_eig`` backward, whose
``1 / (lambda_j - lambda_i)`` factors are computed as safe reciprocals: with B > F the kernel has B - F zero
eigenvalues, where torch's ``linalg.eigh`` backward divides by zero. Like the reference's, the loss pairs eigenvectors
by eigenvalue order and compares them with their signs, so it jumps where two eigenvalues cross or round-off flips a
sign: trajectories are chaotic beyond the usual GAN's (grouped and separate seeds part after ~10 steps,
``tests/test_grouped_training.py``).

Defaults, mixtures (``gdppgan_Synthetic.py`` L22-34, L62-76, L143-190): G and D 2 x 128 tanh MLPs (D's features:
its second tanh layer), orthogonal init with gain 1.4 (``build_nets("tanh-mlp")``), z ~ N(0, I_256), batch 512,
Adam G lr 1e-3, D lr 1e-4, beta1 0.5, eps 1e-8; both updates from one forward pass (``sess.run([g_train_op,
d_train_op])``, ``update=simultaneous``); 25,000 iterations (``default_steps``).

Images (``gdppgan_stackedMnist.py`` L24-28, L131-160; the ``None`` defaults take these on images): batch 64, z 128,
Adam lr 1e-4 for both, betas (0.5, 0.9), one-sided label smoothing (D's real target 0.9, fake 0.1, G's 0.9), 15,000
iterations. Deviations: the image nets are this toolkit's DCGAN pair (:func:`trainers.methods.dcgan.build_image_nets`,
D's features its flattened last conv layer) rather than the reference's 3-conv D; z ~ N(0, I) without the reference's
learnt per-sample affine reparameterisation of z. The Stacked-MNIST code steps D then G on fresh noise
(L150-160), so on images ``update`` is ``sequential``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.nn import functional as F

from trainers.methods.base import Method, RealBatch, adam, descend, descend_together, register_method
from trainers.methods.image import build_image_nets
from trainers.nets import build_nets

#: The reference's weight of the eigenvalue (magnitude) term, "to make the two losses operating in comparable ranges".
MAGNITUDE_WEIGHT = 1e-4
#: TensorFlow's ``_SafeReciprocal`` epsilon in the ``self_adjoint_eig`` gradient.
SAFE_EPS = 1e-20


class SymmetricEigh(torch.autograd.Function):
    """``torch.linalg.eigh`` (ascending) with TensorFlow's backward: ``V (diag(g_lambda) + F o (V^T g_V)) V^T``,
    ``F_ij = (lambda_j - lambda_i) / ((lambda_j - lambda_i)^2 + 1e-20)`` off the diagonal and 0 on it, symmetrised.
    Equal to torch's own backward where the eigenvalues are distinct; finite where they repeat."""

    @staticmethod
    def forward(ctx: Any, kernel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        values, vectors = torch.linalg.eigh(kernel)
        ctx.save_for_backward(values, vectors)
        return values, vectors

    @staticmethod
    def backward(ctx: Any, g_values: torch.Tensor | None, g_vectors: torch.Tensor | None) -> torch.Tensor:  # type: ignore[override]
        values, vectors = ctx.saved_tensors
        vt = vectors.transpose(-1, -2)
        inner = torch.zeros_like(vectors) if g_values is None else torch.diag_embed(g_values)
        if g_vectors is not None:
            gap = values.unsqueeze(-2) - values.unsqueeze(-1)  # [i, j] = lambda_j - lambda_i
            factor = (gap / (gap.square() + SAFE_EPS)).diagonal_scatter(torch.zeros_like(values), dim1=-2, dim2=-1)
            inner = inner + factor * (vt @ g_vectors)
        grad = vectors @ inner @ vt
        return 0.5 * (grad + grad.transpose(-1, -2))


def dpp_eigen(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues (ascending) and eigenvectors (columns) of ``phi phi^T``, ``phi`` the row-normalised features
    ``[..., B, F]``."""
    phi = F.normalize(features, dim=-1)
    return SymmetricEigh.apply(phi @ phi.transpose(-1, -2))


def gdpp_loss(fake_features: torch.Tensor, real_features: torch.Tensor, magnitude_weight: float = MAGNITUDE_WEIGHT) -> torch.Tensor:
    """The GDPP loss (module docstring) of feature batches ``[..., B, F]``: one value per leading index."""
    fake_values, fake_vectors = dpp_eigen(fake_features)
    real_values, real_vectors = dpp_eigen(real_features)
    magnitude = magnitude_weight * (fake_values - real_values).square().mean(-1)
    low, high = real_values.amin(-1, keepdim=True), real_values.amax(-1, keepdim=True)
    weights = (real_values - low) / (high - low)
    alignment = (fake_vectors * real_vectors).sum(-2)  # <u_i, v_i> for every eigenpair i
    return magnitude + (weights * (1.0 - alignment)).sum(-1)


@dataclass
class GDPPParams:
    """Hyper-parameters of GDPP-GAN; None: the data kind's reference default (module docstring)."""

    latent_dim: int | None = None
    hidden: int = 128
    layers: int = 2
    init_gain: float = 1.4
    batch_size: int | None = None
    g_lr: float | None = None
    d_lr: float | None = None
    beta1: float = 0.5
    beta2: float | None = None
    eps: float = 1e-8
    real_label: float | None = None
    fake_label: float | None = None
    gdpp_weight: float = 1.0
    update: str | None = None
    net: str = "auto"
    width: int | None = None
    output: str = "auto"


#: (mixtures, images) defaults of the None fields.
DEFAULTS_BY_KIND = {
    "latent_dim": (256, 128),
    "batch_size": (512, 64),
    "g_lr": (1e-3, 1e-4),
    "d_lr": (1e-4, 1e-4),
    "beta2": (0.999, 0.9),
    "real_label": (1.0, 0.9),
    "fake_label": (0.0, 0.1),
    "update": ("simultaneous", "sequential"),
}


@register_method("gdpp")
class GDPP(Method):
    Params = GDPPParams
    default_steps = 25_000
    data_kinds = ("vector", "image")
    defaults_by_kind = DEFAULTS_BY_KIND


    def build(self, generator: torch.Generator) -> torch.nn.ModuleDict:
        p = self.params
        if self.data.kind == "image":
            pair = build_image_nets("gdpp", p.net, p.latent_dim, self.data, generator, output=p.output, width=p.width)
        else:
            pair = build_nets("tanh-mlp", p.latent_dim, self.data.shape, generator, hidden=p.hidden, layers=p.layers, init_gain=p.init_gain)
        self.nets["G"], self.nets["D"] = pair
        return self.nets.to(self.device)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        return {
            "D": adam(self.nets["D"].parameters(), p.d_lr, (p.beta1, p.beta2), eps=p.eps),
            "G": adam(self.nets["G"].parameters(), p.g_lr, (p.beta1, p.beta2), eps=p.eps),
        }

    def g_loss(self, fake_logits: torch.Tensor, fake_features: torch.Tensor, real_features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``0.5 * (adversarial + w * L_GDPP)`` and ``L_GDPP``; the real features are D's, held fixed for G."""
        diversity = gdpp_loss(fake_features.flatten(self.grouped + 1), real_features.detach().flatten(self.grouped + 1))
        return 0.5 * (self.bce(fake_logits, self.params.real_label) + self.params.gdpp_weight * diversity), diversity

    def train_step(self, real: RealBatch, noise: torch.Generator) -> dict[str, torch.Tensor]:
        p, n = self.params, self.batch_size
        G, D = self.nets["G"], self.nets["D"]
        x = real(n)
        fake = G(self.noise(n, noise))
        real_logits, real_features = D(x, features=True)
        if self.update == "simultaneous":
            fake_logits, fake_features = D(fake, features=True)
            d_loss = self.bce(real_logits, p.real_label) + self.bce(fake_logits, p.fake_label)
            g_loss, diversity = self.g_loss(fake_logits, fake_features, real_features)
            descend_together((d_loss, self.opt["D"]), (g_loss, self.opt["G"]))
        else:
            d_loss = self.bce(real_logits, p.real_label) + self.bce(D(fake.detach()), p.fake_label)
            descend(d_loss, self.opt["D"])
            _, real_features = D(x, features=True)
            fake_logits, fake_features = D(G(self.noise(n, noise)), features=True)
            g_loss, diversity = self.g_loss(fake_logits, fake_features, real_features)
            descend(g_loss, self.opt["G"])
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(), "gdpp": diversity.detach()}
