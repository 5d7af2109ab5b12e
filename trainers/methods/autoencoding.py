"""The autoencoding family: an encoder E, a generator (decoder) G, and what matches the codes to the prior and the
samples to the data. One step serves WAE, alpha-GAN (+ SN), BMS-VAE and BMS-VAE-GAN, which differ only in parts:

* the encoder: deterministic (``z_hat = E(x)``: WAE, alpha-GAN) or Gaussian (``E(x) = (m, log s^2)``, T codes
  ``z_t = m + s e_t`` per data point by reparametrisation: BMS-VAE, BMS-VAE-GAN);
* the reconstruction term: :func:`trainers.autoencoding.best_of_many` over the T codes (the BMS paper's Eq. 7),
  which for T = 1 is the plain per-sample cost: alpha-GAN is BMS-VAE-GAN's step with one deterministic code, not
  a second implementation;
* the latent term of E: the closed-form Gaussian KL (BMS-VAE), WAE's IMQ-kernel MMD, or a latent discriminator L
  (alpha-GAN's code discriminator, BMS-VAE-GAN's, WAE-GAN's adversary) trained with the named ``code_loss``
  (real: prior samples z ~ N(0, I); fake: the codes), E minimising its G term;
* an optional data discriminator D (the "synthetic likelihood"), trained with the named ``loss`` on real data
  against both the reconstructions G(z_hat) and the samples G(z); G minimises its G term on both (alpha-GAN's
  Algorithm 1; BMS-VAE-GAN: hinge loss, spectrally normalised D).

Objectives (means over the batch, per grouped seed)::

    E:  w_rec * rec + w_lat * latent_term               G:  w_rec * rec [+ g_term(D(G(z_hat))) + g_term(D(G(z)))]
    D:  real_term(D(x)) + fake_term(D(G(z_hat))) + fake_term(D(G(z)))      L:  real_term(L(z)) + fake_term(L(z_hat))

Update: every net takes one Adam step per iteration, all from one forward pass on one batch and one z (the
joint training of the BMS paper's Algorithm 1, Appendix B; E and G with their own losses and optimisers, as
Rosca et al. confirmed for alpha-GAN (victor-shepardson/alpha-GAN README)). Grouped seeds are supported: every
term keeps the leading seed dimension.

Nets: :mod:`trainers.nets.autoencoder`. Data-kind defaults (``None``): latent 32 on vectors (the BMS paper's 2-D
setting) and 100 on images (carpedm20's DCGAN z, the Stacked-MNIST setting); batch 500 on vectors (VEEGAN's
notebook, the 2-D baseline of BMS Table 1) and 64 on images (DCGAN).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from gan_eval.errors import GanEvalError
from gan_eval.io.latent import LatentSpec
from trainers.autoencoding import COSTS, best_of_many, gaussian_kl, mmd_imq
from trainers.losses import LOSSES
from trainers.methods.base import Method, RealBatch, adam, descend_together
from trainers.methods.image import generator_output, image_net
from trainers.nets.autoencoder import autoencoder_nets, latent_discriminator

LATENT_TERMS = ("kl", "mmd", "adversarial")


@dataclass
class AutoencodingParams:
    """What every autoencoding method takes; each method's subclass sets its reference's defaults."""

    latent_dim: int | None = None
    batch_size: int | None = None
    cost: str = "l1"
    reconstruction_weight: float = 1.0
    latent_weight: float = 1.0
    hidden: int = 128
    layers: int = 2
    net: str = "auto"
    width: int | None = None
    output: str = "auto"
    lr: float = 8e-4
    d_lr: float = 8e-4
    beta1: float = 0.5
    beta2: float = 0.9


class AutoencodingMethod(Method):
    """The shared step (module docstring). Subclasses set ``Params``, ``gaussian_encoder`` and ``latent_term``;
    a ``loss`` hyper-parameter adds the data discriminator D; ``samples`` is T (1 when absent)."""

    data_kinds = ("vector", "image")
    gaussian_encoder: ClassVar[bool] = False
    latent_term: ClassVar[str] = "adversarial"
    #: ``{field: (vector, image)}`` for the fields left None (module docstring).
    defaults_by_kind = {"latent_dim": (32, 100), "batch_size": (500, 64)}

    @property
    def latent_dim(self) -> int:
        return int(self.params.latent_dim)

    @property
    def batch_size(self) -> int:
        return int(self.params.batch_size)

    @property
    def samples(self) -> int:
        """T, the codes drawn per data point."""
        return int(getattr(self.params, "samples", 1))

    @property
    def code_matching(self) -> str:
        """How E's codes are matched to the prior: one of :data:`LATENT_TERMS`."""
        return self.latent_term

    def latent_spec(self) -> LatentSpec:
        return LatentSpec(self.latent_dim, "normal")

    def check(self) -> None:
        """One-line errors for hyper-parameters the step cannot take."""
        p = self.params
        if self.samples < 1:
            raise GanEvalError(f"samples={self.samples}: T, the codes drawn per data point, must be at least 1")
        if self.latent_dim < 1 or self.batch_size < 1:
            raise GanEvalError(f"latent_dim={self.latent_dim}, batch_size={self.batch_size}: both must be at least 1")
        if self.code_matching == "mmd" and self.batch_size < 2:
            raise GanEvalError(f"batch_size={self.batch_size}: the MMD penalty compares pairs of codes, so it needs at least 2")
        if p.cost not in COSTS:
            raise GanEvalError(f"cost={p.cost!r} is unknown; use one of {', '.join(COSTS)}")
        if self.code_matching == "adversarial":
            LOSSES.get(p.code_loss)

    def build(self, generator: torch.Generator) -> torch.nn.ModuleDict:
        self.check()
        p = self.params
        has_d = hasattr(p, "loss")
        image_options: dict[str, object] = {}
        net = p.net
        if self.data.kind == "image":
            net = image_net(p.net, self.data.shape, self.method_name)
            image_options = {"output": generator_output(p.output, self.data)}
            if p.width is not None:  # None: the pair's own width (carpedm20's 64)
                image_options["width"] = p.width
        outputs = self.latent_dim * (2 if self.gaussian_encoder else 1)
        nets = autoencoder_nets(self.data.shape, self.latent_dim, outputs, generator, discriminator=has_d,
                                spectral_norm=bool(getattr(p, "spectral_norm", False)), hidden=p.hidden, layers=p.layers,
                                net=net, image_options=image_options)
        if self.code_matching == "adversarial":
            nets["L"] = latent_discriminator(self.latent_dim, generator, p.latent_d_hidden, p.latent_d_layers)
        for name, module in nets.items():
            self.nets[name] = module
        return self.nets.to(self.device)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        betas = (p.beta1, p.beta2)
        return {name: adam(self.nets[name].parameters(), p.lr if name in ("E", "G") else p.d_lr, betas) for name in self.nets}

    def encoder_input(self, x: torch.Tensor, noise: torch.Generator) -> torch.Tensor:
        """What E reads of the batch during training: the batch itself (WAE's ``add_noise`` perturbs it)."""
        return x

    def code_sd(self, log_variance: torch.Tensor) -> torch.Tensor:
        """The Gaussian encoder's standard deviation from its log-variance output: ``exp(log s^2 / 2)``."""
        return (0.5 * log_variance).exp()

    def encode(self, x: torch.Tensor, noise: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(codes [*lead, T, B, d], KL per sample [*lead, B] or None)``: T reparametrised draws
        ``m + code_sd(log s^2) e`` from the Gaussian encoder (e ~ N(0, I) from the noise generator), or the
        deterministic code once; E reads :meth:`encoder_input`."""
        lead = 1 if self.grouped else 0
        out = self.nets["E"](self.encoder_input(x, noise))
        if not self.gaussian_encoder:
            return out.unsqueeze(lead), None
        mean, log_variance = out.chunk(2, dim=-1)
        e = self.randn(self.samples * x.shape[lead], self.latent_dim, noise).unflatten(lead, (self.samples, x.shape[lead]))
        codes = mean.unsqueeze(lead) + self.code_sd(log_variance).unsqueeze(lead) * e
        return codes, gaussian_kl(mean, log_variance)

    def train_step(self, real: RealBatch, noise: torch.Generator) -> dict[str, torch.Tensor]:
        p, n = self.params, self.batch_size
        lead = 1 if self.grouped else 0
        sample_dims = len(self.data.shape)
        G = self.nets["G"]
        x = real(n)
        z = self.noise(n, noise)
        codes, kl = self.encode(x, noise)
        flat_codes = codes.flatten(lead, lead + 1)  # [*lead, T * B, d]
        reconstructions = G(flat_codes)
        rec = p.reconstruction_weight * self.mean(best_of_many(x, reconstructions.unflatten(lead, codes.shape[lead: lead + 2]), p.cost, sample_dims))
        losses: dict[str, torch.Tensor] = {"reconstruction": rec}
        steps: list[tuple[torch.Tensor, torch.optim.Optimizer]] = []

        if self.code_matching == "kl":
            latent = self.mean(kl)  # type: ignore[arg-type]
        elif self.code_matching == "mmd":
            latent = mmd_imq(flat_codes, z)  # a statistic of the batch: already one per seed
        else:
            code_loss = LOSSES.get(p.code_loss)
            L = self.nets["L"]
            code_logits = L(flat_codes)
            real_term, fake_term = code_loss.d_terms(L(z), code_logits)
            l_loss = self.mean(real_term) + self.mean(fake_term)
            steps.append((l_loss, self.opt["L"]))
            losses["l_loss"] = l_loss
            latent = self.mean(code_loss.g_term(code_logits))
        e_loss = rec + p.latent_weight * latent
        losses["latent"] = latent

        g_loss = rec
        if "D" in self.nets:
            loss = LOSSES.get(p.loss)
            D = self.nets["D"]
            real_logits, rec_logits, sample_logits = D(x), D(reconstructions), D(G(z))
            real_term, rec_term = loss.d_terms(real_logits, rec_logits)
            sample_term = loss.d_terms(real_logits, sample_logits)[1]
            d_loss = self.mean(real_term) + self.mean(rec_term) + self.mean(sample_term)
            adversarial = self.mean(loss.g_term(rec_logits)) + self.mean(loss.g_term(sample_logits))
            g_loss = rec + adversarial
            steps.append((d_loss, self.opt["D"]))
            losses.update(d_loss=d_loss, g_loss=adversarial)
        descend_together(*steps, (e_loss, self.opt["E"]), (g_loss, self.opt["G"]))
        return {name: value.detach() for name, value in losses.items()}
