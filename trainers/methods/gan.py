"""GAN (Goodfellow et al. 2014) with a named loss, on the PacGAN / ALI 2-D baseline architecture.

Defaults, from the PacGAN code's synthetic-data configs (Lin et al. 2018), which copy ALI's 2-D experiment
(Dumoulin et al. 2017):

* z ~ N(0, I_2);  G: 4 x [Linear 400 without bias, BatchNorm, ReLU] -> Linear to the data dimension;
* D: 3 maxout layers of 200 units x 5 pieces -> Linear 1;
* weights ~ N(0, 0.02^2), biases 0; Adam lr 1e-4, beta1 0.8 (beta2 0.999: TF's default); batch 100;
* the non-saturating loss (``loss=ns``: G minimises -log D(G(z))); any loss of :mod:`trainers.losses` by name;
* one D and one G update per iteration from one forward pass (``update=simultaneous``, as the PacGAN code's
  ``ali_algorithm`` runs both ops in one ``session.run``); ``update=sequential`` steps D first, then G on
  fresh noise against the updated D.

``default_steps`` is the paper budget, ~400 epochs of the 100k-point training set at batch 100 = 400k
iterations; ``reproduce`` runs far fewer (see :mod:`trainers.tables`).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from trainers.losses import LOSSES
from trainers.methods.base import Method, RealBatch, adam, descend, descend_together, register_method
from trainers.nets import build_nets


@dataclass
class GANParams:
    """Hyper-parameters of the GAN baseline (PacGAN / ALI 2-D code)."""

    latent_dim: int = 2
    g_hidden: int = 400
    g_layers: int = 4
    d_units: int = 200
    d_pieces: int = 5
    d_layers: int = 3
    init_std: float = 0.02
    lr: float = 1e-4
    beta1: float = 0.8
    beta2: float = 0.999
    batch_size: int = 100
    loss: str = "ns"
    update: str = "simultaneous"


@register_method("gan")
class GAN(Method):
    """A GAN with a named loss; :class:`trainers.methods.pacgan.PacGAN` packs ``pack`` samples per D input."""

    Params = GANParams
    default_steps = 400_000
    pack = 1

    def build(self, generator: torch.Generator) -> torch.nn.ModuleDict:
        p = self.params
        self.nets["G"], self.nets["D"] = build_nets(
            "maxout", p.latent_dim, self.data.shape, generator, pack=self.pack, g_hidden=p.g_hidden, g_layers=p.g_layers,
            d_units=p.d_units, d_pieces=p.d_pieces, d_layers=p.d_layers, init_std=p.init_std,
        )
        return self.nets.to(self.device)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        return {
            name: adam(self.nets[name].parameters(), p.lr, (p.beta1, p.beta2))
            for name in ("D", "G")
        }

    @property
    def generator_per_slot(self) -> bool:
        """Whether :meth:`generate` runs G once per pack slot (pacgan's and pacdcgan's ``generator_per_slot``); False here."""
        return False

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """G's samples for ``batch_size * pack`` latents, in the order :meth:`discriminate` packs them. With
        :attr:`generator_per_slot`, G runs once per slot j on the latents ``i * pack + j`` alone, so its BatchNorm
        normalises over ``batch_size`` samples per pass, as in the unpacked baseline: PacGAN's code builds one G per
        slot's own z placeholder and concatenates their outputs (fjxmlzn/PacGAN ``stacked_MNIST_experiments/
        VEEGAN_experiment/model.py`` ``build_model``, ``G_sep``; ``synthetic_data_experiments/PacGAN/pacgan/bricks.py``
        ``compute_losses``). Otherwise one pass over all of them."""
        G = self.nets["G"]
        if self.pack == 1 or not self.generator_per_slot:
            return G(z)
        slots = z.unflatten(-2, (-1, self.pack))  # [..., B, pack, d]
        sample_dims = len(self.data.shape)
        packed = torch.stack([G(slots[..., j, :]) for j in range(self.pack)], dim=-1 - sample_dims)
        return packed.flatten(-2 - sample_dims, -1 - sample_dims)

    def discriminate(self, x: torch.Tensor) -> torch.Tensor:
        """D on packs: samples ``i*pack .. i*pack+pack-1`` of the batch are concatenated into one D input."""
        shape = self.data.shape
        lead, batch = x.shape[: -1 - len(shape)], x.shape[-1 - len(shape)]
        # vectors: [B, d] -> [B/pack, pack*d]; images: [B, C, H, W] -> [B/pack, pack*C, H, W] (channels, as PacGAN)
        return self.nets["D"](x.reshape(*lead, batch // self.pack, self.pack * shape[0], *shape[1:]))

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        loss = LOSSES.get(self.params.loss)
        if loss.labels is not None:  # a cross-entropy against labels: torch's fused kernel (see Method.bce)
            return self.bce(real_logits, loss.labels.real) + self.bce(fake_logits, loss.labels.fake)
        real_term, fake_term = loss.d_terms(real_logits, fake_logits)
        return self.mean(real_term) + self.mean(fake_term)

    def g_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        loss = LOSSES.get(self.params.loss)
        if loss.labels is not None:
            return loss.labels.g_sign * self.bce(fake_logits, loss.labels.g)
        return self.mean(loss.g_term(fake_logits))

    def train_step(self, real: RealBatch, noise: torch.Generator) -> dict[str, torch.Tensor]:
        n = self.batch_size * self.pack
        x = real(n)
        fake = self.generate(self.noise(n, noise))
        if self.update == "simultaneous":
            fake_logits = self.discriminate(fake)
            d_loss = self.d_loss(self.discriminate(x), fake_logits)
            g_loss = self.g_loss(fake_logits)
            descend_together((d_loss, self.opt["D"]), (g_loss, self.opt["G"]))
        else:
            d_loss = self.d_loss(self.discriminate(x), self.discriminate(fake.detach()))
            descend(d_loss, self.opt["D"])
            g_loss = self.g_loss(self.discriminate(self.generate(self.noise(n, noise))))
            descend(g_loss, self.opt["G"])
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach()}
