"""Loading a state dict into a generator built by a factory, from checkpoints as researchers save them.

``--generator-weights`` (``generator_weights=`` in Python) accepts

* ``G.pt``: ``torch.save(G.state_dict(), ...)``;
* ``ckpt.pt:generator``: the state dict under a key of a training checkpoint (dotted for deeper nesting:
  ``ckpt.pt:models.G``);
* ``ckpt.pt`` holding a checkpoint dict (``{"generator": sd, "epoch": 3}``): the generator's state dict is
  found only when that is unambiguous (:func:`~gan_eval.io.state_dicts.generator_key`), else a one-line error
  lists the top-level keys to choose from.

Keys saved from ``nn.DataParallel`` / ``DistributedDataParallel`` (``module.`` prefix) or ``torch.compile``
(``_orig_mod.``) are stripped when every key has the prefix and the module has none. Files are read with
``torch.load(weights_only=True)``: tensors and plain containers, never pickled objects. A state dict that does
not fit names the first few missing, unexpected and mismatched keys with their shapes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from gan_eval.errors import GanEvalError, first_line
from gan_eval.io.state_dicts import generator_key, is_state_dict, state_dict_keys

#: prefixes that wrappers add to every key (DataParallel/DDP, torch.compile)
WRAPPER_PREFIXES = ("module.", "_orig_mod.")
#: keys named per kind of misfit in the error
SHOWN = 3


def split_weights_spec(spec: str | Path) -> tuple[Path, str | None]:
    """``ckpt.pt:generator`` -> (``ckpt.pt``, ``"generator"``); a path that exists as given has no key."""
    text = str(spec)
    path, sep, key = text.rpartition(":")
    if not sep or Path(text).exists() or not path or "/" in key or "\\" in key:
        return Path(text), None
    return Path(path), key


def load_generator_weights(module: nn.Module, spec: str | Path, name: str) -> dict[str, Any]:
    """Load the weights ``spec`` names into ``module`` (module docstring); return how they were found, for the
    protocol (``file``, ``key``, ``stripped_prefix``)."""
    path, key = split_weights_spec(spec)
    if not path.is_file():
        raise GanEvalError(f"{path}: no such weights file; check --generator-weights")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 (unpickling errors come in many types)
        raise GanEvalError(
            f"{path}: cannot be read as tensors ({first_line(exc)}); save G.state_dict() with torch.save (pickled objects are never loaded)"
        ) from None
    state, key = _pick_state_dict(saved, path, key)
    state, prefix = _strip_wrapper_prefix(state, module)
    report = fit_report(module, state)
    if report:
        raise GanEvalError(f"{path}{':' + key if key else ''}: does not fit {name}: {report}; build the generator with the arguments it was trained with")
    module.load_state_dict(state)
    return {"file": str(path), **({"key": key} if key else {}), **({"stripped_prefix": prefix} if prefix else {})}


def _pick_state_dict(saved: object, path: Path, key: str | None) -> tuple[Mapping[str, torch.Tensor], str | None]:
    if key is not None:
        value: object = saved
        for part in key.split("."):
            if not isinstance(value, Mapping) or part not in value:
                keys = ", ".join(map(str, value)) if isinstance(value, Mapping) else type(value).__name__
                raise GanEvalError(f"{path}: has no key {part!r} (it holds: {keys}); write {path}:KEY with one of them")
            value = value[part]
        if not is_state_dict(value):
            raise GanEvalError(f"{path}:{key} holds a {type(value).__name__}, not a state dict; name the generator's state dict")
        return value, key
    if is_state_dict(saved):
        return saved, None
    if not isinstance(saved, Mapping):
        raise GanEvalError(f"{path}: holds a {type(saved).__name__}, not a state dict; save G.state_dict()")
    found = generator_key(state_dict_keys(saved))
    if found is None:
        listed = ", ".join(map(str, list(saved)[:12]))
        raise GanEvalError(f"{path}: a checkpoint whose generator state dict is not clear (keys: {listed}); pass {path}:KEY")
    return saved[found], found


def _strip_wrapper_prefix(state: Mapping[str, torch.Tensor], module: nn.Module) -> tuple[dict[str, torch.Tensor], str | None]:
    own = set(module.state_dict())
    for prefix in WRAPPER_PREFIXES:
        if all(k.startswith(prefix) for k in state) and not all(k.startswith(prefix) for k in own):
            return {k[len(prefix):]: v for k, v in state.items()}, prefix
    return dict(state), None


def fit_report(module: nn.Module, state: Mapping[str, torch.Tensor]) -> str:
    """Why ``state`` does not fit ``module``: the first few missing, unexpected and shape-mismatched keys with
    shapes (empty when it fits)."""
    own = module.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    mismatched = [k for k in own if k in state and tuple(own[k].shape) != tuple(state[k].shape)]

    def listed(keys: list[str], show) -> str:  # noqa: ANN001
        more = f" and {len(keys) - SHOWN} more" if len(keys) > SHOWN else ""
        return ", ".join(show(k) for k in keys[:SHOWN]) + more

    parts = []
    if missing:
        parts.append(f"{len(missing)} missing ({listed(missing, lambda k: f'{k} {_shape(own[k])}')})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected ({listed(unexpected, lambda k: f'{k} {_shape(state[k])}')})")
    if mismatched:
        parts.append(f"{len(mismatched)} of another shape ({listed(mismatched, lambda k: f'{k} saved {_shape(state[k])}, model {_shape(own[k])}')})")
    return "; ".join(parts)


def _shape(t: torch.Tensor) -> str:
    return "x".join(map(str, t.shape)) or "scalar"
