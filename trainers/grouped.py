"""Grouped seeds: S independently initialised copies of one network trained as a single stacked model.

A :class:`GroupedModule` holds every parameter and buffer of the base network stacked along a new leading
seed dimension, ``[S, *shape]``, under the base network's own names: the base's ``0.weight`` of shape
``[out, in]`` is the grouped module's ``0.weight`` of shape ``[S, out, in]``, and the grouped module's
``state_dict()`` has exactly the base's keys. ``forward`` maps ``[S, B, ...] -> [S, B, ...]`` by
``torch.func.vmap`` over ``torch.func.functional_call`` of a parameter-free (meta-device) copy of the base,
so seed ``s``'s output is the base network with seed ``s``'s parameters applied to ``x[s]``; BatchNorm
normalises each seed's batch on its own and updates that seed's slice of the stacked running statistics.

Training: back-propagate the SUM over seeds of the per-seed losses, so each slice receives exactly its own
seed's gradient, and step one optimiser over the stacked parameters. Adam (and SGD, RMSprop, ...) are
elementwise, so each slice follows the run its seed would have taken alone; the only shared quantity is
Adam's step counter, equal for all seeds because they all take every step.

Checkpoints stay per seed: :meth:`GroupedModule.state_dicts` gives each seed's ``state_dict`` in the base
network's format (what an ungrouped run writes), :meth:`GroupedModule.load_unstacked` loads one back, and
:func:`split_optimizer_state` / :func:`merge_optimizer_states` convert between the stacked optimiser's
``state_dict`` and the per-seed ones an ungrouped run's optimiser would have.
"""
from __future__ import annotations

import copy
import re
from collections import Counter
from typing import Any, Mapping, Sequence

import torch
from torch import nn
from torch.func import functional_call, vmap

from gan_eval.errors import GanEvalError

# (owning submodule, attribute name inside it, full dotted name)
_Slot = tuple[nn.Module, str, str]


def _slots(module: nn.Module, kind: str) -> list[_Slot]:
    """Every non-None parameter (``kind="_parameters"``) or buffer (``"_buffers"``) of ``module`` with its owner,
    in ``state_dict`` order; shared (tied) tensors appear under each of their names."""
    return [
        (sub, key, f"{prefix}.{key}" if prefix else key)
        for prefix, sub in module.named_modules(remove_duplicate=False)
        for key, tensor in getattr(sub, kind).items()
        if tensor is not None
    ]


def _check_same_structure(modules: Sequence[nn.Module]) -> None:
    """Raise ValueError unless every module has the first one's submodule types and tensor names, shapes, dtypes."""
    def signature(m: nn.Module) -> list[tuple[str, ...]]:
        subs = [(name, type(sub).__name__) for name, sub in m.named_modules(remove_duplicate=False)]
        tensors = [
            (name, str(tuple(t.shape)), str(t.dtype), str(t.device))
            for name, t in [*m.named_parameters(remove_duplicate=False), *m.named_buffers(remove_duplicate=False)]
        ]
        return subs + tensors

    first = signature(modules[0])
    for s, m in enumerate(modules[1:], 1):
        other = signature(m)
        if other != first:
            diff = next((a, b) for a, b in zip(first + [()], other + [()]) if a != b)
            raise ValueError(f"GroupedModule: module {s} differs from module 0 in structure: {diff[1]} vs {diff[0]}")
    params = list(modules[0].named_parameters(remove_duplicate=False))
    if len({id(t) for _, t in params}) != len(params):
        raise ValueError("GroupedModule: the base module ties parameters (one tensor under two names); stacking "
                         "would untie them")


class GroupedModule(nn.Module):
    """S copies of one network with stacked parameters and buffers; ``forward`` maps [S, B, ...] -> [S, B, ...].

    ``GroupedModule([m0, m1, ...])`` takes S modules of identical structure, each initialised from its own
    seed's generator, and copies their tensors (the inputs are left untouched and may be discarded).
    Parameter and buffer names are the base module's (``named_parameters()`` of the grouped module lists
    the base's names in the base's order), with shapes ``[S, *base_shape]``; ``num_batches_tracked`` of
    BatchNorm becomes an ``[S]`` tensor.

    ``forward(x, *args, **kwargs)``: ``x`` and every tensor in ``args`` carry the seed dimension first and
    are split over seeds; ``kwargs`` (``features=True``, ...) are passed unchanged to every seed. Outputs
    (a tensor or a tuple of tensors) carry the seed dimension first. ``train()`` / ``eval()`` act as on the
    base (eval uses each seed's running statistics). Works under
    ``torch.func.functional_call(grouped, {name: stacked_tensor}, (x,))`` with stacked replacements, which
    is how a caller differentiates through functional updates of the parameters (the unrolled GAN).

    Limits (each refused by vmap with an error, never silently wrong): no randomness inside ``forward``
    (vmap's default ``randomness="error"`` refuses dropout); no BatchNorm with ``momentum=None`` (its
    cumulative average reads ``num_batches_tracked`` as a Python number); no ``torch.nn.utils`` spectral
    norm (its power iteration writes ``u`` with ``out=``, which vmap cannot batch; a grouped net needs one
    that updates ``u`` with ``copy_``).
    """

    def __init__(self, modules: Sequence[nn.Module]) -> None:
        super().__init__()
        if not modules:
            raise ValueError("GroupedModule needs at least one module")
        _check_same_structure(modules)
        # A tensor-free copy of the base whose forward runs under functional_call; kept out of the module
        # tree (assigned through __dict__) so that it is neither a submodule nor moved by .to().
        template = copy.deepcopy(modules[0]).to("meta")
        self.__dict__["_template"] = template
        self.group_size = len(modules)
        # The stacked tensors live in a second copy of the base's module tree, whose submodules are
        # registered on self under the base's names: state_dict keys, .train()/.eval() and .to() then
        # behave as on the base. These submodules only store tensors; their own forward is never called.
        holder = copy.deepcopy(template)
        for kind in ("_parameters", "_buffers"):
            per_module = [{name: (sub, key) for sub, key, name in _slots(m, kind)} for m in modules]
            for sub, key, name in _slots(holder, kind):
                stacked = torch.stack([getattr(owner, k).detach() for owner, k in (pm[name] for pm in per_module)])
                if kind == "_parameters":
                    stacked = nn.Parameter(stacked, requires_grad=getattr(*per_module[0][name]).requires_grad)
                getattr(sub, kind)[key] = stacked
        for key, param in holder._parameters.items():
            self.register_parameter(key, param)
        for key, buffer in holder._buffers.items():
            self.register_buffer(key, buffer, persistent=key not in holder._non_persistent_buffers_set)
        for key, child in holder._modules.items():
            self.add_module(key, child)
        self._param_slots = _slots(self, "_parameters")
        self._buffer_slots = _slots(self, "_buffers")
        # (stored submodule, template submodule) pairs, self and the template's root first, to copy the
        # training flag before each forward.
        self._mode_pairs = list(zip(self.modules(), template.modules()))

    def _call_template(self, params: dict, buffers: dict, *args: Any, **kwargs: Any) -> Any:
        return functional_call(self._template, (params, buffers), args, kwargs)

    def forward(self, x: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        if x.shape[0] != self.group_size:
            raise ValueError(f"GroupedModule of {self.group_size} seeds got an input of shape {tuple(x.shape)}; "
                             f"the first dimension must be the seed dimension, {self.group_size}")
        for stored, template in self._mode_pairs:
            template.training = stored.training
        in_dims = (0, 0, 0, *(0 if isinstance(a, torch.Tensor) else None for a in args))
        # Read through the owners' dicts at call time: functional_call(self, ...) swaps the entries there.
        params = {name: sub._parameters[key] for sub, key, name in self._param_slots}
        buffers = {name: sub._buffers[key] for sub, key, name in self._buffer_slots}
        return vmap(self._call_template, in_dims=in_dims)(params, buffers, x, *args, **kwargs)

    def unstack(self, i: int) -> nn.Module:
        """Seed ``i`` as an ordinary module of the base's class, holding copies (not views) of its tensors,
        in the grouped module's training mode; for export, sampling and per-seed checkpoints."""
        if not 0 <= i < self.group_size:
            raise IndexError(f"seed index {i} out of range for a group of {self.group_size}")
        module = copy.deepcopy(self._template)
        for (sub, key, _), (owner, stacked_key, _) in zip(_slots(module, "_parameters"), self._param_slots):
            stacked = owner._parameters[stacked_key]
            sub._parameters[key] = nn.Parameter(stacked[i].detach().clone(), requires_grad=stacked.requires_grad)
        for (sub, key, _), (owner, stacked_key, _) in zip(_slots(module, "_buffers"), self._buffer_slots):
            sub._buffers[key] = owner._buffers[stacked_key][i].detach().clone()
        for m, stored in zip(module.modules(), self.modules()):
            m.training = stored.training
        return module

    def state_dicts(self) -> list[dict[str, torch.Tensor]]:
        """Each seed's ``state_dict``, in exactly the format of the base module's (keys, shapes, dtypes,
        BatchNorm version metadata): what an ungrouped run of that seed writes."""
        return [self.unstack(i).state_dict() for i in range(self.group_size)]

    @torch.no_grad()
    def load_unstacked(self, i: int, state_dict: Mapping[str, Any]) -> None:
        """Load seed ``i`` from a ``state_dict`` of the base module's format (as :meth:`state_dicts` gives or
        an ungrouped run writes); torch's strict ``load_state_dict`` checks keys and shapes."""
        module = self.unstack(i)
        module.load_state_dict(state_dict)
        loaded = dict(module.named_parameters(remove_duplicate=False)) | dict(module.named_buffers(remove_duplicate=False))
        for name, stacked in [*self.named_parameters(remove_duplicate=False), *self.named_buffers(remove_duplicate=False)]:
            stacked[i].copy_(loaded[name])


def _stacked_state_entry(name: str, value: Any) -> bool:
    """Whether an optimizer-state entry is per element (sliced per seed) rather than shared (Adam's ``step``)."""
    return isinstance(value, torch.Tensor) and value.dim() > 0


def split_optimizer_state(state_dict: Mapping[str, Any], group_size: int) -> list[dict[str, Any]]:
    """The ``state_dict`` of one optimizer over stacked parameters as ``group_size`` per-seed ``state_dict``s,
    each what the same optimizer over the base module's parameters would hold after the same steps.

    Per-element entries (Adam's ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq``; SGD's ``momentum_buffer``)
    are sliced along the seed dimension; 0-d entries (Adam's ``step``, one counter per stacked parameter,
    equal for all seeds) are copied to every seed. ``param_groups`` are copied unchanged.
    """
    seeds: list[dict[str, Any]] = [{"state": {}, "param_groups": copy.deepcopy(state_dict["param_groups"])}
                                   for _ in range(group_size)]
    for index, entries in state_dict["state"].items():
        for seed, out in enumerate(seeds):
            per_seed = {}
            for name, value in entries.items():
                if _stacked_state_entry(name, value):
                    if value.shape[0] != group_size:
                        raise ValueError(f"optimizer state {index}.{name} has shape {tuple(value.shape)}; expected "
                                         f"a leading seed dimension of {group_size}")
                    per_seed[name] = value[seed].clone()
                else:
                    per_seed[name] = value.clone() if isinstance(value, torch.Tensor) else copy.deepcopy(value)
            out["state"][index] = per_seed
    return seeds


def merge_optimizer_states(state_dicts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Inverse of :func:`split_optimizer_state`: the per-seed optimizer ``state_dict``s (e.g. read from each
    seed's checkpoint) as the ``state_dict`` of one optimizer over the stacked parameters.

    Raises GanEvalError where the seeds cannot form one group: different hyper-parameters, different sets of
    stepped parameters, or different step counts (``seed 3``: the caller names the seed's file).
    """
    first = state_dicts[0]
    for seed, sd in enumerate(state_dicts[1:], 1):
        if sd["param_groups"] != first["param_groups"]:
            raise GanEvalError(f"seed {seed}: optimizer hyper-parameters differ from seed 0's; only runs with "
                               "the same hyper-parameters can be resumed as one group")
        if sd["state"].keys() != first["state"].keys():
            raise GanEvalError(f"seed {seed}: optimizer state covers different parameters than seed 0's; resume "
                               "the group from checkpoints of the same step")
    merged: dict[str, Any] = {"state": {}, "param_groups": copy.deepcopy(first["param_groups"])}
    for index, entries in first["state"].items():
        out = {}
        for name, value in entries.items():
            values = [sd["state"][index][name] for sd in state_dicts]
            if _stacked_state_entry(name, value):
                out[name] = torch.stack(values)
            else:
                for seed, other in enumerate(values[1:], 1):
                    if not torch.equal(torch.as_tensor(other), torch.as_tensor(value)):
                        raise GanEvalError(f"seed {seed}: optimizer {name} is {float(other):g} but seed 0's is "
                                           f"{float(value):g}; resume the group from checkpoints of the same step")
                out[name] = value.clone() if isinstance(value, torch.Tensor) else copy.deepcopy(value)
        merged["state"][index] = out
    return merged


_SEEDS_ITEM = re.compile(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?")


def parse_seeds(text: str) -> list[int]:
    """Seeds from ``--seeds``: comma-separated non-negative integers and inclusive ranges, in the given order:
    ``"0-9"``, ``"3"``, ``"0,2,5"``, ``"0-3,8"``. Refuses empty input, descending ranges, negatives, duplicates
    and anything else with a one-line GanEvalError naming ``--seeds`` and the fix."""
    example = "e.g. --seeds 0-9 or --seeds 0,2,5 or --seeds 0-3,8"
    if not text.strip():
        raise GanEvalError(f"--seeds is empty; give non-negative seeds, {example}")
    seeds: list[int] = []
    for item in text.split(","):
        match = _SEEDS_ITEM.fullmatch(item)
        if match is None:
            problem = "is negative" if re.fullmatch(r"\s*-\s*\d+.*", item) else "is not a seed or a range"
            raise GanEvalError(f"--seeds {text!r}: {item.strip()!r} {problem}; give non-negative seeds, {example}")
        low, high = int(match[1]), int(match[2] if match[2] is not None else match[1])
        if high < low:
            raise GanEvalError(f"--seeds {text!r}: the range {low}-{high} is descending; write it as {high}-{low}")
        seeds.extend(range(low, high + 1))
    repeated = [seed for seed, count in Counter(seeds).items() if count > 1]
    if repeated:
        raise GanEvalError(f"--seeds {text!r}: seed {repeated[0]} is given twice; list each seed once, {example}")
    return seeds
