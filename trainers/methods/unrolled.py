"""Unrolled GAN (Metz et al. 2017): G is trained against the discriminator unrolled ``unroll`` steps ahead.

Each iteration: (1) copy D's parameters and Adam moments, take ``unroll`` functional Adam steps of D on the
batch with ``create_graph=True`` (``torch.func.functional_call``), and update G on the loss of the
unrolled D, differentiating through the unrolled updates; (2) take one ordinary D step on the same batch.
Both use D's parameters from the start of the iteration's D step, as in the reference notebook where both
training ops run in one ``session.run``.

Defaults from the unrolled-GAN reference notebook (poolio/unrolled_gan, the 2-D mixture experiment):
G and D: 2 hidden layers of 128 tanh units; orthogonal init with gain 1.4 (the notebook's
``orthogonal_initializer(1.4)`` on every layer); z ~ N(0, I_256); batch 512; Adam D lr 1e-4,
G lr 1e-3, beta1 0.5, eps 1e-8; 5 unrolling steps; the saturating G loss -L_D(unrolled) (the notebook
maximises D's loss); 25,000 iterations.

Deviation: the unrolled Adam denominator uses sqrt(max(v_hat, eps^2)) + eps instead of sqrt(v_hat) + eps,
so its derivative stays finite where a gradient is exactly 0; the forward value differs only where
v_hat < eps^2 = 1e-16.

``unrolled-dcgan``: the same step on images with the nets of :mod:`trainers.methods.image`: ``dcgan28x3`` with
the carpedm20 DCGAN optimiser (Adam 2e-4 for both, beta1 0.5, batch 64, z ~ U(-1, 1)^100) for VEEGAN Table 2,
or ``net=unrolled28x3`` with ``d_scale`` 0.25 / 0.5 and the unrolled-GAN setting's values (z ~ N(0, I_256),
Adam D 2e-4, G 1e-4, betas (0.5, 0.99), batch 128) for PacGAN Table 3, whose rows set them. D's BatchNorm
running statistics are updated by every unrolled forward too; training reads batch statistics only.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.func import functional_call

from trainers.methods.base import Method, RealBatch, adam, descend, register_method
from trainers.methods.image import ImageNetParams, ImageNets
from trainers.nets import build_nets


@dataclass
class UnrollingParams:
    """The unrolled update's hyper-parameters (the reference notebook's values)."""

    d_lr: float = 1e-4
    g_lr: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    eps: float = 1e-8
    unroll: int = 5
    saturating: bool = True


@dataclass
class UnrolledParams(UnrollingParams):
    """Hyper-parameters of the unrolled GAN on vectors (the reference notebook's values)."""

    latent_dim: int = 256
    hidden: int = 128
    layers: int = 2
    init_gain: float = 1.4
    batch_size: int = 512


@register_method("unrolled")
class UnrolledGAN(Method):
    Params = UnrolledParams
    default_steps = 25_000

    def build(self, generator: torch.Generator) -> torch.nn.ModuleDict:
        p = self.params
        pair = build_nets("tanh-mlp", p.latent_dim, self.data.shape, generator, hidden=p.hidden, layers=p.layers, init_gain=p.init_gain)
        self.nets["G"], self.nets["D"] = pair
        return self.nets.to(self.device)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        betas = (p.beta1, p.beta2)
        return {
            "D": adam(self.nets["D"].parameters(), p.d_lr, betas, eps=p.eps),
            "G": adam(self.nets["G"].parameters(), p.g_lr, betas, eps=p.eps),
        }

    def d_loss(self, params: dict[str, torch.Tensor], x: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        D = self.nets["D"]
        return self.bce(functional_call(D, params, (x,)), 1.0) + self.bce(functional_call(D, params, (fake,)), 0.0)

    def unrolled_params(self, x: torch.Tensor, fake: torch.Tensor) -> dict[str, torch.Tensor]:
        """D's parameters after ``unroll`` differentiable Adam steps, starting from D's optimizer state."""
        p = self.params
        params = dict(self.nets["D"].named_parameters())
        state = self.opt["D"].state
        names = list(params)
        m = {k: state[params[k]]["exp_avg"] if params[k] in state else torch.zeros_like(params[k]) for k in names}
        v = {k: state[params[k]]["exp_avg_sq"] if params[k] in state else torch.zeros_like(params[k]) for k in names}
        step = state[params[names[0]]]["step"] if params[names[0]] in state else None
        # On CUDA the step counter stays a tensor: reading it as a number would sync the GPU and stop the step
        # from being captured in a CUDA graph (trainers.stepper); on the CPU the Python number keeps the numbers.
        t0 = 0 if step is None else (step if step.is_cuda else int(step))
        for i in range(1, p.unroll + 1):
            grads = torch.autograd.grad(self.d_loss(params, x, fake).sum(), list(params.values()), create_graph=True)
            t = t0 + i
            new = {}
            for k, g in zip(names, grads):
                m[k] = p.beta1 * m[k] + (1 - p.beta1) * g
                v[k] = p.beta2 * v[k] + (1 - p.beta2) * g * g
                m_hat = m[k] / (1 - p.beta1**t)
                v_hat = v[k] / (1 - p.beta2**t)
                new[k] = params[k] - p.d_lr * m_hat / (v_hat.clamp_min(p.eps**2).sqrt() + p.eps)
            params = new
        return params

    def train_step(self, real: RealBatch, noise: torch.Generator) -> dict[str, torch.Tensor]:
        n = self.batch_size
        G = self.nets["G"]
        x = real(n)
        z = self.noise(n, noise)
        fake = G(z)
        unrolled = self.unrolled_params(x, fake)
        if self.params.saturating:
            g_loss = -self.d_loss(unrolled, x, fake)
        else:
            g_loss = self.bce(functional_call(self.nets["D"], unrolled, (fake,)), 1.0)
        descend(g_loss, self.opt["G"])

        d_loss = self.d_loss(dict(self.nets["D"].named_parameters()), x, fake.detach())
        descend(d_loss, self.opt["D"])
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach()}


@dataclass
class UnrolledDCGANParams(ImageNetParams, UnrollingParams):
    """The unrolled GAN on image nets (module docstring): carpedm20's Adam rates for both nets."""

    d_lr: float = 2e-4
    g_lr: float = 2e-4


@register_method("unrolled-dcgan")
class UnrolledDCGAN(ImageNets, UnrolledGAN):
    Params = UnrolledDCGANParams

    def build(self, generator: torch.Generator) -> torch.nn.ModuleDict:
        self.nets["G"], self.nets["D"] = self.image_pair(generator)
        return self.nets.to(self.device)
