"""The latent spec of a generator, and the small JSON file saved beside an exported generator.

Contract shared by ``gan-eval sample/score GENERATOR`` and our trainers' exports: a generator file ``NAME.pt2``
(or TorchScript ``NAME.pt``, or a factory's weights ``NAME.pt``) may have ``NAME.json`` beside it (else a
``generator.json`` in the same folder is read) holding at least ``latent_dim`` and ``latent_distribution``
(``"normal"``: N(0, I); ``"uniform"``: U(-1, 1)^d), and optionally ``value_range`` of the outputs
(``"-1,1"``, ``"0,1"``; images only), ``reference`` (the dataset it was trained on), ``method``, ``seed``.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from gan_eval.errors import GanEvalError
from gan_eval.io.atomic import save_json

DISTRIBUTIONS = ("normal", "uniform")


@dataclass(frozen=True)
class LatentSpec:
    """How to draw a generator's input: ``latent_dim`` values from ``latent_distribution``."""

    latent_dim: int
    latent_distribution: str = "normal"
    value_range: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.latent_dim <= 0:
            raise GanEvalError(f"latent_dim must be positive, got {self.latent_dim}")
        if self.latent_distribution not in DISTRIBUTIONS:
            raise GanEvalError(
                f"latent distribution {self.latent_distribution!r} is unknown; use one of {', '.join(DISTRIBUTIONS)}"
            )

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` latents drawn on the CPU from ``generator`` (so the same seed gives the same z on any device)."""
        if self.latent_distribution == "normal":
            return torch.randn(n, self.latent_dim, generator=generator)
        return torch.rand(n, self.latent_dim, generator=generator) * 2.0 - 1.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        extra = data.pop("extra")
        return {**{k: v for k, v in data.items() if v is not None}, **extra}


def sidecar_path(generator_path: str | Path) -> Path:
    """``runs/x/generator.pt2`` (or ``.pt``) -> ``runs/x/generator.json``."""
    return Path(generator_path).with_suffix(".json")


def save_latent_spec(generator_path: str | Path, spec: LatentSpec) -> Path:
    """Write the spec beside the generator file, atomically."""
    return save_json(sidecar_path(generator_path), spec.to_json())


def sidecar_candidates(generator_path: str | Path) -> list[Path]:
    """Where a spec is looked for, first found wins: ``NAME.json`` beside ``NAME.pt``, then ``generator.json``."""
    own = sidecar_path(generator_path)
    shared = own.with_name("generator.json")
    return [own] if own == shared else [own, shared]


def load_latent_spec(generator_path: str | Path) -> LatentSpec | None:
    """The spec beside the generator (or weights) file (:func:`sidecar_candidates`), or None when there is none."""
    path = next((p for p in sidecar_candidates(generator_path) if p.is_file()), None)
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        known = {k: data.pop(k) for k in ("latent_dim", "latent_distribution", "value_range") if k in data}
        return LatentSpec(int(known.pop("latent_dim")), extra=data, **known)
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise GanEvalError(f"{path}: not a valid latent spec ({exc}); it needs latent_dim and latent_distribution") from None
