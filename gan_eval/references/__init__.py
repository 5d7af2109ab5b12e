"""Known-mode references: a registry of named ones and ``name:key=value,...`` specs for your own.

>>> get_reference("ring8").n_modes
8
>>> get_reference("ring:n=6,radius=2,std=0.02").n_modes
6
"""
from __future__ import annotations

import inspect
from typing import Callable

from gan_eval.errors import GanEvalError
from gan_eval.options import parse_spec
from gan_eval.references.base import Reference, hq_radius
from gan_eval.references.mixtures import GaussianMixture, grid, ring, shifted_subspace
from gan_eval.references.moons import Moons
from gan_eval.registry import Registry

#: Named references, each a zero-argument factory.
REFERENCES: Registry[Callable[[], Reference]] = Registry("reference")
#: Families a user can parametrise: ``ring:n=6,radius=2``.
FAMILIES: Registry[Callable[..., Reference]] = Registry("reference family")

REFERENCES.add("ring8", lambda: ring(8, 1.0, 0.01, name="ring8"))
REFERENCES.add("ring8-r2", lambda: ring(8, 2.0, 0.02, name="ring8-r2"))
REFERENCES.add("ring8-linspace", lambda: ring(8, 1.0, 0.01, endpoint=True, sin_cos=True, name="ring8-linspace"))
REFERENCES.add("grid25", lambda: grid(5, 2.0, 0.05, name="grid25"))
REFERENCES.add("hd1200", lambda: shifted_subspace(name="hd1200"))
REFERENCES.add("moons", lambda: Moons(0.05, name="moons"))
REFERENCES.add("moons-mini", lambda: Moons(0.0, scale=0.05, name="moons-mini"))

FAMILIES.add("ring", ring)
FAMILIES.add("grid", grid)
FAMILIES.add("hd", shifted_subspace)
FAMILIES.add("moons", Moons)


def get_reference(spec: str | Reference) -> Reference:
    """A registered name (``ring8``), or a family with parameters (``grid:side=7,spacing=1,std=0.02``)."""
    if isinstance(spec, Reference):
        return spec
    if ":" not in spec:
        return REFERENCES.get(spec)()
    family_name, kwargs = parse_spec(spec, "reference", "ring:n=6,radius=2,std=0.02")
    family = FAMILIES.get(family_name)
    allowed = [p for p in inspect.signature(family).parameters if p != "name"]
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise GanEvalError(f"reference {spec!r}: unknown parameter {unknown[0]!r}; {family_name} takes {', '.join(allowed)}")
    try:
        return family(**kwargs, name=spec)
    except (TypeError, ValueError) as exc:
        raise GanEvalError(f"reference {spec!r}: {exc}") from None


__all__ = [
    "FAMILIES",
    "GaussianMixture",
    "Moons",
    "REFERENCES",
    "Reference",
    "get_reference",
    "grid",
    "hq_radius",
    "ring",
    "shifted_subspace",
]
