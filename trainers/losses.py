"""GAN losses as elementwise terms on D's logits, by name (registry :data:`LOSSES`).

A :class:`Loss` never reduces: each term has the logits' shape (``[B, 1]``, or ``[S, B, 1]`` with grouped
seeds), and the method reduces per seed::

    d_loss = mean(real_term) + mean(fake_term)      # two means, so `ns` is today's BCE bit for bit
    g_loss = mean(g_term)

D minimises ``d_loss``, G minimises ``g_loss``; "logits" is D's raw last-layer output ``v`` (no activation).

The losses (r, f: logits of real and generated samples; softplus(x) = log(1 + e^x))::

    name            D: real term, fake term        G term                       source
    ns              softplus(-r), softplus(f)      softplus(-f) = -log D(G(z))  Goodfellow et al. 2014, Sec. 3
    minimax         softplus(-r), softplus(f)      -softplus(f) = log(1-D(G(z)))  Goodfellow et al. 2014, eq. 1
    log-ratio       softplus(-r), softplus(f)      -f = -log(D / (1 - D))       Rosca et al. 2017, Algorithm 1
    wasserstein     -r, f                          -f                           Arjovsky et al. 2017 (needs a
                                                                                Lipschitz constraint: penalties)
    hinge           relu(1 - r), relu(1 + f)       -f                           Lim & Ye 2017; Miyato et al. 2018
    least-squares   (r - 1)^2 / 2, f^2 / 2         (f - 1)^2 / 2                Mao et al. 2017 (a=0, b=1, c=1)
    least-squares-pearson  (r - 1)^2 / 2, (f + 1)^2 / 2  f^2 / 2                Mao et al. 2017 (a=-1, b=1, c=0)
    kl, reverse-kl, js, pearson, squared-hellinger: -g_f(r), f*(g_f(f)) / G -g_f(f)   Nowozin et al. 2016 (below)

**f-GAN** (Nowozin, Cseke & Tomioka 2016, "f-GAN: Training Generative Neural Samplers using Variational
Divergence Minimization"). D's output is ``T = g_f(v)``, with the output activation ``g_f`` of the paper's
Table 2 keeping ``T`` in the domain of the conjugate ``f*``; D maximises the variational lower bound
``F = E_P[g_f(v)] - E_Q[f*(g_f(v))] <= D_f(P || Q) = E_Q[f(p/q)]`` (P = data, Q = model; eq. 6), tight at
``T*(x) = f'(p(x)/q(x))``. The terms below are ``f*(g_f(v))`` simplified in closed form, which is exact and
avoids ``log(-t)`` / ``log(2 - exp t)`` on values rounded out of the conjugate's domain::

    name               f(u)                           g_f(v)                 f*(t)             real, fake term
    kl                 u log u                        v                      exp(t - 1)        -v, exp(v - 1)
    reverse-kl         -log u                         -exp(-v)               -1 - log(-t)      exp(-v), v - 1
    js                 u log u - (u+1) log((1+u)/2)   log 2 - softplus(-v)   -log(2 - exp t)   softplus(-v) - log 2,
                                                                                               softplus(v) - log 2
    pearson            (u - 1)^2                      v                      t^2/4 + t         -v, v^2/4 + v
    squared-hellinger  (sqrt(u) - 1)^2                1 - exp(-v)            t / (1 - t)       expm1(-v), expm1(v)

``kl`` is KL(data || model) and ``reverse-kl`` KL(model || data). ``js`` is the f-GAN Jensen-Shannon: with
its ``f``, ``D_f = 2 JSD`` (JSD with its usual 1/2, the square of scipy's ``jensenshannon``), and its D loss is
the ``ns`` D loss minus ``2 log 2``.

The f-GAN G term is the alternative the paper recommends in Sec. 3.2, ``-g_f(v)`` (G maximises ``E_Q[g_f(v)]``),
not the saturating ``-f*(g_f(v))`` of the saddle-point objective: like Goodfellow's -log D trick (for ``js`` it
is exactly the ``ns`` G term minus ``log 2``), it keeps G's gradient large where D rejects the samples, which
the paper reports trains faster, and it keeps the stationary point Q = P (there T* = f'(1) is constant).

``kl``'s fake term ``exp(v - 1)`` and ``squared-hellinger``'s ``expm1(v)`` overflow float32 for v > ~88: that
is the divergence (f* grows exponentially), not rounding; a D that gets there has diverged.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch.nn import functional as F

from gan_eval.registry import Registry

Terms = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class Labels:
    """A loss that is a cross-entropy against constant labels: D's targets for real and fake, G's target, and
    the sign of G's cross-entropy (-1: G maximises D's error, the saturating minimax game). Methods compute
    such a loss with torch's fused mean cross-entropy (``Method.bce``), whose backward rounds differently from
    the mean of these terms, so the trainers' numbers stay what they were before the loss registry."""

    real: float
    fake: float
    g: float
    g_sign: float = 1.0


@dataclass(frozen=True)
class Loss:
    """A GAN loss: elementwise, unreduced terms of D's logits (see the module docstring for the table)."""

    name: str
    d_terms: Callable[[torch.Tensor, torch.Tensor], Terms]
    """``(real_logits, fake_logits) -> (real_term, fake_term)``; D minimises mean(real) + mean(fake)."""
    g_term: Callable[[torch.Tensor], torch.Tensor]
    """``fake_logits -> term``; G minimises its mean."""
    labels: Labels | None = None
    """Set for the cross-entropy losses (``ns``, ``minimax``): the same loss as its terms, by labels."""


LOSSES: Registry[Loss] = Registry("loss")

LOG2 = math.log(2.0)


def _register(name: str, d_terms: Callable[[torch.Tensor, torch.Tensor], Terms],
              g_term: Callable[[torch.Tensor], torch.Tensor], labels: Labels | None = None) -> None:
    LOSSES.add(name, Loss(name, d_terms, g_term, labels))


def binary_cross_entropy(logits: torch.Tensor, label: float) -> torch.Tensor:
    """Elementwise binary cross-entropy of sigmoid(logits) against a constant label: the same kernel as
    ``F.binary_cross_entropy_with_logits(logits, label)`` without its mean: equal forward values after ``.mean()``."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, label), reduction="none")


def _cross_entropy_d(real: torch.Tensor, fake: torch.Tensor) -> Terms:
    """-log D(x) and -log(1 - D(G(z))) with D = sigmoid(v): Goodfellow et al. 2014, eq. 1 negated."""
    return binary_cross_entropy(real, 1.0), binary_cross_entropy(fake, 0.0)


def _critic_d(real: torch.Tensor, fake: torch.Tensor) -> Terms:
    """Wasserstein critic: maximise E[D(x)] - E[D(G(z))] (Arjovsky et al. 2017, eq. 3)."""
    return -real, fake


def _negated(fake: torch.Tensor) -> torch.Tensor:
    """G maximises D's output on its samples (WGAN, hinge; and f-GAN's -g_f when g_f is the identity)."""
    return -fake


_register("ns", _cross_entropy_d, lambda fake: binary_cross_entropy(fake, 1.0), Labels(1.0, 0.0, 1.0))
# The zero-sum game: G minimises exactly D's fake term negated, log(1 - D(G(z))) = -softplus(f).
_register("minimax", _cross_entropy_d, lambda fake: -binary_cross_entropy(fake, 0.0), Labels(1.0, 0.0, 0.0, -1.0))
# alpha-GAN's E and G terms (Rosca et al. 2017, Algorithm 1): -log D/(1 - D), the log density ratio D estimates,
# = -log D + log(1 - D), the sum of the ns and minimax G terms; with D = sigmoid(f) it is exactly -f.
_register("log-ratio", _cross_entropy_d, _negated)
_register("wasserstein", _critic_d, _negated)
_register("hinge", lambda real, fake: (F.relu(1.0 - real), F.relu(1.0 + fake)), _negated)


def _register_least_squares(name: str, a: float, b: float, c: float) -> None:
    """Mao et al. 2017 eq. 2 with its 1/2 factors: D minimises (D(x) - b)^2 / 2 + (D(G(z)) - a)^2 / 2, G minimises
    (D(G(z)) - c)^2 / 2 (a: the fake label, b: the real label, c: the value G wants D to believe)."""
    _register(name, lambda real, fake: (0.5 * (real - b).square(), 0.5 * (fake - a).square()),
              lambda fake: 0.5 * (fake - c).square())


# The paper's two codings: eq. 9's 0-1 coding (its experiments), and eq. 8's, whose b - c = 1, b - a = 2 make G
# minimise the Pearson chi^2 divergence of P + Q from 2Q (Sec. 3.2.1, Theorem 1).
_register_least_squares("least-squares", a=0.0, b=1.0, c=1.0)
_register_least_squares("least-squares-pearson", a=-1.0, b=1.0, c=0.0)

# f-GAN: real term -g_f(v), fake term f*(g_f(v)), G term -g_f(v) (tables in the module docstring).
_register("kl", lambda real, fake: (-real, torch.exp(fake - 1.0)), _negated)
_register("reverse-kl", lambda real, fake: (torch.exp(-real), fake - 1.0), lambda fake: torch.exp(-fake))
_register("js", lambda real, fake: (F.softplus(-real) - LOG2, F.softplus(fake) - LOG2),
          lambda fake: F.softplus(-fake) - LOG2)
_register("pearson", lambda real, fake: (-real, 0.25 * fake.square() + fake), _negated)
_register("squared-hellinger", lambda real, fake: (torch.expm1(-real), torch.expm1(fake)),
          lambda fake: torch.expm1(-fake))
