"""Turning a ``--features`` value into an extractor: a registered name, or a user's ``package.module:factory``.

From Python, ``features`` may also be an ``nn.Module`` (wrapped as below) or an object that already is an
extractor. A user factory is called with the keyword arguments it accepts among ``device`` and ``weights`` and may return
a full extractor (``layers``, ``describe()``, called on images giving a dict of layers) or any ``nn.Module``
mapping images N x C x H x W in [0, 1] to N x D features, which is wrapped with the single layer ``features``.
"""
from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any, Callable

import torch

from gan_eval.errors import GanEvalError
from gan_eval.features.base import FEATURES, FeatureExtractor
from gan_eval.features.weights import state_hash

DEFAULT = "inception"


class ModuleExtractor:
    """A user's ``nn.Module`` as an extractor with the one layer ``features``."""

    def __init__(self, name: str, module: torch.nn.Module, device: torch.device) -> None:
        self.name = name
        self.module = module.eval().to(device)
        self.device = device
        self.layers = {"features": -1}

    def __call__(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"features": self.module(images.to(self.device)).flatten(1)}

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "weights": state_hash(self.module.state_dict()), "preprocessing": "none, [0, 1]"}


def _factory(spec: str) -> Callable[..., Any]:
    if ":" not in spec:
        return FEATURES.get(spec)
    module_name, _, attr = spec.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise GanEvalError(f"--features {spec}: cannot import it ({exc}); give package.module:factory") from None


def make_extractor(
    spec: str | torch.nn.Module | FeatureExtractor | None,
    device: torch.device | str = "cpu",
    weights: str | Path | None = None,
    **settings: Any,
) -> FeatureExtractor:
    """The extractor named by ``spec`` (default ``inception``). ``settings`` with value None are left to the
    extractor's defaults; others (e.g. ``resize``, ``precision``) must be accepted by its factory."""
    if spec is not None and not isinstance(spec, str):
        return _given_extractor(spec, torch.device(device), weights, settings)
    spec = spec or DEFAULT
    factory = _factory(spec)
    accepted = inspect.signature(factory).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values())
    kwargs: dict[str, Any] = {"device": torch.device(device)}
    if weights is not None:
        kwargs["weights"] = weights
    kwargs.update({k: v for k, v in settings.items() if v is not None})
    refused = [k for k in kwargs if k not in accepted and not takes_any]
    if [k for k in refused if k != "device"]:
        raise GanEvalError(f"--features {spec} does not take {', '.join(refused)}; drop those settings")
    extractor = factory(**{k: v for k, v in kwargs.items() if k not in refused})
    if isinstance(extractor, torch.nn.Module):
        return ModuleExtractor(spec, extractor, torch.device(device))
    return extractor


def _given_extractor(obj: Any, device: torch.device, weights: str | Path | None, settings: dict[str, Any]) -> FeatureExtractor:
    """An extractor or ``nn.Module`` passed from Python; it is used as given, so settings for a named one are refused."""
    given = [name for name, value in {"weights": weights, **settings}.items() if value is not None]
    if given:
        raise GanEvalError(f"features given as a {type(obj).__name__} take no {', '.join(given)}; set them up in the object itself")
    if isinstance(obj, torch.nn.Module):
        return ModuleExtractor(type(obj).__name__, obj, device)
    if callable(obj) and hasattr(obj, "layers") and hasattr(obj, "describe"):
        return obj
    raise GanEvalError(f"features: a {type(obj).__name__} is neither a name, pkg.module:factory, an nn.Module nor an extractor")


def recorded_spec(described: dict[str, Any], origin: str | Path) -> str:
    """The ``--features`` value that makes again the extractor whose ``describe()`` a statistics file recorded:
    its registered name or its ``pkg.module:factory``."""
    name = described.get("name")
    if not isinstance(name, str) or (name not in FEATURES and ":" not in name):
        raise GanEvalError(
            f"{origin}: made with features {name!r}, neither a registered extractor ({', '.join(FEATURES.names())})"
            " nor pkg.module:factory; pass --features"
        )
    return name


def default_layer(extractor: FeatureExtractor, preferred: tuple[str, ...]) -> str:
    """The first of ``preferred`` that the extractor offers, else its first layer."""
    for name in preferred:
        if name in extractor.layers:
            return name
    return next(iter(extractor.layers))


def check_layer(extractor: FeatureExtractor, layer: str) -> str:
    if layer not in extractor.layers:
        raise GanEvalError(f"features {extractor.name} have no layer {layer!r}; its layers: {', '.join(extractor.layers)}")
    return layer
