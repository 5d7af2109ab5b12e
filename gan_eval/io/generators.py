"""Generators as sample sources: a generator file or a ``pkg.module:factory``, sampled on the fly.

A generator maps latents z (N x latent_dim, drawn per :class:`~gan_eval.io.latent.LatentSpec`) to samples
(N x D vectors or N x C x H x W images). It is given as

* a file (:mod:`gan_eval.io.generator_files`): a ``torch.export`` program (``.pt2``, what our trainers and
  :func:`~gan_eval.io.generator_files.save_generator` write) or a TorchScript archive (``.pt``), or
* ``pkg.module:factory``, a callable returning an ``nn.Module``, with optional weights (a state dict loaded
  with ``torch.load(weights_only=True)``, never unpickled objects).

The latent spec comes from flags, else from the JSON file beside the generator (or beside its weights),
else from a ``latent_dim`` attribute of the module. Generators that take N x d x 1 x 1 latents (DCGAN
style) are detected on a first probe. Latents are drawn on the CPU from a ``torch.Generator`` seeded with
``seed`` in fixed blocks of :data:`LATENT_BLOCK` rows, so sample ``i`` depends only on the seed and ``i``:
the same on any device, for any batch size, and the first ``n`` samples of a longer run are the ``n``
samples of a shorter one. Under ``torchrun`` rank r's share (:meth:`GeneratorSource.share`, samples i with
i mod world = r, :mod:`gan_eval.stats.dist`) runs the generator on its own latents only; it still draws every
latent of the seeded stream, keeping each sample's latent (and every saved result) the one-process one, because
a share of rank-strided samples meets every block anyway and a draw costs next to nothing beside the generator
(50,000 x 512 normal latents: 0.5 s on one loaded core). The module runs in eval mode (batch norm uses its running statistics and dropout is off, so every
sample is computed on its own); a module passed in from Python gets its train/eval flags back afterwards.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import torch
from torch import nn

from gan_eval.errors import GanEvalError, first_line
from gan_eval.io.factories import build_from_factory, is_factory_spec, parse_factory_spec
from gan_eval.io.generator_files import load_generator_file
from gan_eval.io.generator_weights import load_generator_weights, split_weights_spec
from gan_eval.io.images import to_unit_float
from gan_eval.io.latent import LatentSpec, load_latent_spec, sidecar_candidates
from gan_eval.io.ranges import ValueRange, declared

#: Latents are drawn in blocks of this many rows, whatever the batch size (see the module docstring).
LATENT_BLOCK = 1024
PROBE_ROWS = 64
#: a generator source keeps its samples for later reads up to this size (float32 bytes); larger draws stream
HOLD_BYTES = 2 << 30


def latent_batches(spec: LatentSpec, seed: int, n: int, batch_size: int) -> Iterator[torch.Tensor]:
    """``n`` latents in batches of ``batch_size``, drawn in blocks of :data:`LATENT_BLOCK` from one seeded
    CPU generator: latent ``i`` depends only on ``seed`` and ``i``."""
    rng = torch.Generator().manual_seed(seed)
    pending = torch.empty(0, spec.latent_dim)
    for start in range(0, n, batch_size):
        want = min(batch_size, n - start)
        while len(pending) < want:
            pending = torch.cat([pending, spec.sample(LATENT_BLOCK, rng)])
        yield pending[:want]
        pending = pending[want:]


@dataclass
class LoadedGenerator:
    """A generator module on its device, with its latent spec and what a probe learnt about it.

    ``latent_4d``: the module takes N x d x 1 x 1 latents. ``sample_shape``: one output's shape.
    ``value_range``: of image outputs, as the latent spec declares it (else None: :mod:`gan_eval.io.ranges`
    infers it from ``probe_span``, the (min, max) of image outputs over the probe and what they were measured on).
    """

    module: nn.Module
    spec: LatentSpec
    name: str
    device: torch.device
    latent_4d: bool = False
    sample_shape: tuple[int, ...] = ()
    value_range: ValueRange | None = None
    probe_span: tuple[float, float, str] | None = None
    weights: dict[str, object] | None = None
    training: dict[nn.Module, bool] = field(default_factory=dict, repr=False)

    def restore_modes(self) -> None:
        """Put back the train/eval flags a caller's module had before it was loaded (sampling needs eval mode)."""
        for submodule, was_training in self.training.items():
            submodule.train(was_training)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Raw outputs for N x latent_dim latents (differentiable; the caller picks grad or inference mode)."""
        z = z.to(self.device)
        return self.module(z[:, :, None, None] if self.latent_4d else z)

    def unit_images(self, z: torch.Tensor, value_range: str) -> torch.Tensor:
        """Outputs, whose range is ``value_range`` (resolved by :mod:`gan_eval.io.ranges`), as float32
        N x C x H x W in [0, 1] (the core's image convention), differentiable in z."""
        return to_unit_float(self.forward(z), value_range, self.name)

    def describe(self) -> dict[str, object]:
        return {
            "generator": self.name,
            **self.spec.to_json(),
            "latent_shape": "N x d x 1 x 1" if self.latent_4d else "N x d",
            "sample_shape": list(self.sample_shape),
            "mode": "eval",
            **({"weights": self.weights} if self.weights else {}),
        }


def load_generator(
    source: str | Path | nn.Module,
    *,
    weights: str | Path | None = None,
    latent_dim: int | None = None,
    latent_distribution: str | None = None,
    value_range: str | None = None,
    factory_args: list[str] | tuple[str, ...] = (),
    device: torch.device | str = "cpu",
) -> LoadedGenerator:
    """Load a generator (a generator file, a factory spec (:mod:`gan_eval.io.factories`) or a module), resolve
    its latent spec and probe it once on a few latents; every failure is a one-line :class:`GanEvalError`.
    ``weights``: a state dict for a factory or module, ``FILE`` or ``FILE:KEY``
    (:mod:`gan_eval.io.generator_weights`). A module passed in is moved to ``device`` and put in eval mode (as
    ``module.to(device).eval()`` does, in place); :meth:`LoadedGenerator.restore_modes` puts its train/eval
    flags back."""
    device = torch.device(device)
    is_code = isinstance(source, nn.Module) or is_factory_spec(source)
    if factory_args and not is_factory_spec(source):
        raise GanEvalError(f"--factory-arg: {source} is not built by a factory (pkg.module:Generator), so it takes no arguments; drop it")
    if weights is not None and not is_code:
        raise GanEvalError(f"--generator-weights: {source} is a generator file that holds its weights; drop --generator-weights")
    training: dict[nn.Module, bool] = {}
    if isinstance(source, nn.Module):
        module, name = source, type(source).__name__
        training = {m: m.training for m in module.modules()}
    elif is_code:
        module, name = build_from_factory(parse_factory_spec(str(source), factory_args)), str(source)
    else:  # a file's module comes on the device, in eval mode (an exported one refuses .eval())
        module, name = load_generator_file(source, device), str(source)
    loaded_weights = load_generator_weights(module, weights, name) if weights is not None else None
    sidecar_of = split_weights_spec(weights)[0] if weights is not None else (None if is_code else Path(source))
    sidecar = load_latent_spec(sidecar_of) if sidecar_of is not None else None
    spec = _resolve_spec(module, name, sidecar, latent_dim, latent_distribution, value_range, sidecar_of)
    if not isinstance(source, nn.Module):  # ours to change; a caller's module keeps its requires_grad flags
        for p in module.parameters():
            p.requires_grad_(False)
    if is_code:  # a file's loader placed its module
        module = module.to(device).eval()
    declared_range = declared(spec.value_range, f"declared by {name}'s latent spec") if spec.value_range else None
    loaded = LoadedGenerator(module, spec, name, device, value_range=declared_range, weights=loaded_weights, training=training)
    try:
        _probe(loaded)
    except GanEvalError:
        loaded.restore_modes()  # the caller gets no source to restore them from
        raise
    return loaded


def _resolve_spec(
    module: nn.Module,
    name: str,
    sidecar: LatentSpec | None,
    latent_dim: int | None,
    latent_distribution: str | None,
    value_range: str | None,
    sidecar_of: Path | None,
) -> LatentSpec:
    """Flags win over the sidecar JSON, which wins over a ``latent_dim`` attribute of the module."""
    attr = getattr(module, "latent_dim", None)
    dim = latent_dim or (sidecar.latent_dim if sidecar else None) or (attr if isinstance(attr, int) else None)
    if dim is None:
        beside = f" or save {' or '.join(p.name for p in sidecar_candidates(sidecar_of))} with latent_dim beside {sidecar_of.name}" if sidecar_of else ""
        raise GanEvalError(f"{name}: its latent size is unknown; pass --latent-dim D (and --latent-distribution normal|uniform){beside}")
    return LatentSpec(
        int(dim),
        latent_distribution or (sidecar.latent_distribution if sidecar else "normal"),
        value_range or (sidecar.value_range if sidecar else None),
        sidecar.extra if sidecar else {},
    )


def _probe(g: LoadedGenerator) -> None:
    """Run the generator on a few latents: find the latent layout, check the output, measure image values."""
    z = g.spec.sample(PROBE_ROWS, torch.Generator().manual_seed(0))
    d = g.spec.latent_dim
    with torch.inference_mode():
        try:
            out = g.forward(z)
        except Exception as flat_exc:  # noqa: BLE001
            g.latent_4d = True
            try:
                out = g.forward(z)
            except Exception:  # noqa: BLE001
                raise GanEvalError(
                    f"{g.name}: fails on a {PROBE_ROWS} x {d} latent batch ({first_line(flat_exc)}); check --latent-dim"
                ) from None
    if not isinstance(out, torch.Tensor) or not out.is_floating_point():
        raise GanEvalError(f"{g.name}: returns {type(out).__name__}, not a float tensor; return the samples tensor only")
    if out.ndim not in (2, 3, 4) or out.shape[0] != PROBE_ROWS or out[0].numel() == 0:
        raise GanEvalError(
            f"{g.name}: output of shape {tuple(out.shape)} for {PROBE_ROWS} latents; expected {PROBE_ROWS} x D vectors"
            f" or {PROBE_ROWS} x C x H x W images (one sample per latent)"
        )
    check_finite(out, g.name, 0)
    g.sample_shape = tuple(out.shape[1:])
    if out.ndim > 2:
        g.probe_span = (float(out.min()), float(out.max()), f"{PROBE_ROWS} probe samples")


def check_finite(out: torch.Tensor, name: str, start: int, stride: int = 1) -> None:
    """One-line error when an output is not finite; rows are samples ``start``, ``start + stride``, ..."""
    bad = ~torch.isfinite(out.flatten(1)).all(1)
    if bad.any():
        first = start + stride * int(bad.nonzero()[0])
        raise GanEvalError(f"{name}: produced NaN/Inf in {int(bad.sum())} samples (first: sample {first}); check the weights")


@dataclass
class GeneratorSource:
    """A :class:`~gan_eval.io.samples.SampleSource` that draws ``n`` samples from a generator.

    The generator is sampled once per source: the first full pass (``batches`` or ``array``) keeps the samples
    (float32, CPU) when they take at most :data:`HOLD_BYTES`, and every later read (a second metric, a range
    check, ``array()`` after ``batches()``) is served from them, not by sampling again. Larger draws are
    streamed batch by batch and never held (a second pass then samples again: the same samples, as sample ``i``
    depends only on the seed and ``i``). ``value_range``, ``probe_span`` and ``sample_shape`` are the
    generator's, for :func:`~gan_eval.io.ranges.resolve_range`. ``rank`` of ``ranks``: this source is that share
    of the ``n`` samples (see :meth:`share`).
    """

    generator: LoadedGenerator
    n: int | None
    seed: int = 0
    held: np.ndarray | None = field(default=None, repr=False)
    rank: int = 0
    ranks: int = 1
    shares: dict[tuple[int, int], "GeneratorSource"] = field(default_factory=dict, repr=False)

    def share(self, rank: int, ranks: int) -> "GeneratorSource":
        """Samples ``rank``, ``rank + ranks``, ... of the ``n`` (what :func:`~gan_eval.stats.dist.shard` gives
        that rank): the generator runs on their latents only. One share object per (rank, ranks), so that what it
        holds serves every later read."""
        if (rank, ranks) not in self.shares:
            self.shares[(rank, ranks)] = GeneratorSource(self.generator, self.n, self.seed, rank=rank, ranks=ranks)
        return self.shares[(rank, ranks)]

    @property
    def name(self) -> str:
        return self.generator.name

    @property
    def value_range(self) -> ValueRange | None:
        return self.generator.value_range

    @property
    def probe_span(self) -> tuple[float, float, str] | None:
        return self.generator.probe_span

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return self.generator.sample_shape

    def __len__(self) -> int:
        if self.n is None:
            raise GanEvalError(f"{self.name}: how many samples should the generator draw? pass -n N (e.g. -n 2500)")
        return len(range(self.rank, self.n, self.ranks))

    def batches(self, batch_size: int) -> Iterator[torch.Tensor]:
        """CPU float32 batches of the ``n`` samples: from the held samples, else drawn (and held once the pass
        completes, when they fit :data:`HOLD_BYTES`)."""
        if self.held is not None:
            for start in range(0, len(self.held), batch_size):
                yield torch.from_numpy(self.held[start : start + batch_size])
            return
        fits = len(self) * int(np.prod(self.sample_shape)) * 4 <= HOLD_BYTES
        into = self._empty() if fits else None
        yield from self._draw(batch_size, into)
        self.held = into

    def array(self, batch_size: int = 1000, progress: Callable[..., Iterable] | None = None) -> np.ndarray:
        """All ``n`` samples in one float32 array, held for later reads (filled batch by batch, no
        concatenation copy)."""
        if self.held is None:
            into = self._empty()
            batches: Iterable[torch.Tensor] = self._draw(batch_size, into)
            if progress is not None:
                batches = progress(batches, total=-(-len(self) // batch_size), desc="sampling")
            for _ in batches:
                pass
            self.held = into
        return self.held

    def _empty(self) -> np.ndarray:
        return np.empty((len(self), *self.sample_shape), dtype=np.float32)

    def _draw(self, batch_size: int, into: np.ndarray | None) -> Iterator[torch.Tensor]:
        """Sample under inference mode on the generator's device, batch by batch, copying into ``into`` if given;
        a share keeps its rows of each batch of latents."""
        start, drawn = 0, 0
        n = self.n if len(self) else 0  # len() refuses a generator without -n
        for z in latent_batches(self.generator.spec, self.seed, n, batch_size * self.ranks):
            z, drawn = z[(self.rank - drawn) % self.ranks :: self.ranks], drawn + len(z)
            if not len(z):
                continue
            with torch.inference_mode():
                out = self.generator.forward(z).float().cpu()
            check_finite(out, self.name, self.rank + start * self.ranks, self.ranks)
            if into is not None:
                into[start : start + len(out)] = out.numpy()
            start += len(out)
            yield out

    def describe(self) -> dict[str, object]:
        return {**self.generator.describe(), "n": self.n, "seed": self.seed, "latent_block": LATENT_BLOCK}
