"""NETS: the registry of generator / discriminator pairs the trainers build, by name.

An entry is a callable ``(latent_dim, shape, generator, **options) -> (G, D)`` that refuses shapes and options
it does not take with a one-line :class:`~gan_eval.errors.GanEvalError`; it initialises both nets on the CPU
from ``generator`` alone (never the global RNG). Each entry lives in its own module with one registration line.
"""
from __future__ import annotations

import inspect
from typing import Callable

import torch
from torch import nn

from gan_eval.registry import Registry

PairBuilder = Callable[..., tuple[nn.Module, nn.Module]]
NETS: Registry[PairBuilder] = Registry("net")


def build_nets(name: str, latent_dim: int, shape: tuple[int, ...], generator: torch.Generator,
               **options: object) -> tuple[nn.Module, nn.Module]:
    """``(G, D)`` of the pair ``name``: ``G: [B, latent_dim] -> [B, *shape]``, ``D: [B, *shape] -> [B, 1]``."""
    return NETS.get(name)(latent_dim, shape, generator, **options)


def keyword_options(builder: Callable[..., object]) -> tuple[str, ...]:
    """The keyword-only parameters of ``builder``: the options a pair's builder takes."""
    return tuple(p.name for p in inspect.signature(builder).parameters.values() if p.kind is p.KEYWORD_ONLY)


def net_options(name: str) -> frozenset[str]:
    """Every option the pair ``name`` takes (``build_nets(name, ..., **options)``): an image pair's
    :attr:`~trainers.nets.image_pair.ImagePair.options`, a vector pair's keyword-only parameters."""
    entry = NETS.get(name)
    return frozenset(getattr(entry, "options", None) or keyword_options(entry))
