"""Telling model weights from samples in a ``torch.save`` file, so that weights are never scored as samples.

A state dict (``model.state_dict()``) maps parameter and buffer names to tensors, and a 2 x 2 weight matrix
would otherwise read as two 2-D samples. It is recognised by its names: the last dotted part of at least one
key is a parameter or buffer name that ``torch.nn`` layers use (``weight``, ``bias``, ``running_mean``,
``running_var``, ``num_batches_tracked``, and the ``weight_orig`` / ``in_proj_weight`` / ``weight_g`` forms
of spectral norm, attention and weight norm). A training checkpoint is a dict whose values include state
dicts (``{"G": ..., "D": ..., "epoch": 3}``); the generator's is found by its key (``G``, ``netG``,
``generator``, ``g_ema``, ...), preferring an exponential moving average (``ema``), the weights GAN papers
evaluate. A dict of sample arrays (``{"samples": tensor}``) matches neither.
"""
from __future__ import annotations

import re
from typing import Mapping

import torch

#: the last dotted part of a parameter or buffer name of a torch.nn layer
PARAMETER_NAME = re.compile(r"^(weight|bias)(_\w+)?$|_(weight|bias)$|^running_(mean|var)$|^num_batches_tracked$")
#: words that name a generator in a checkpoint's keys (split at "_", ".", "-" and case changes)
GENERATOR_WORDS = {"g", "gen", "generator", "netg", "gnet"}


def is_state_dict(obj: object) -> bool:
    """True for a non-empty mapping of tensors with at least one key named like a parameter or buffer."""
    if not isinstance(obj, Mapping) or not obj:
        return False
    if not all(isinstance(value, torch.Tensor) for value in obj.values()):
        return False
    return any(isinstance(key, str) and PARAMETER_NAME.search(key.rsplit(".", 1)[-1]) for key in obj)


def state_dict_keys(checkpoint: Mapping) -> list[str]:
    """The keys of a checkpoint dict whose values are state dicts, in the checkpoint's order."""
    return [str(key) for key, value in checkpoint.items() if is_state_dict(value)]


def generator_key(keys: list[str]) -> str | None:
    """The key among ``keys`` that names a generator (an EMA one first), or None when none or several tie."""
    def words(key: str) -> set[str]:
        return {w.lower() for w in re.split(r"[_.\-\s]+|(?<=[a-z])(?=[A-Z])", key) if w}

    named = [key for key in keys if words(key) & GENERATOR_WORDS]
    if len(keys) == 1 and not named:
        return keys[0]  # the checkpoint's only state dict (e.g. "state_dict" next to "epoch")
    averaged = [key for key in named if "ema" in words(key)]
    for candidates in (averaged, named):
        if len(candidates) == 1:
            return candidates[0]
    return None
