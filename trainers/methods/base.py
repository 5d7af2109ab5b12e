"""What a training method is: hyper-parameters as a dataclass, networks, optimizers, one training step.

A method module defines a ``Params`` dataclass (defaults = the paper's or its reference code's, each with
its source in the docstring) and a :class:`Method` subclass registered with ``@register_method(name)``;
one import line in :mod:`trainers.methods` makes it known to ``gan-eval train`` and ``reproduce``. A method
composes parts: nets (:mod:`trainers.nets`), a loss (:mod:`trainers.losses`) and its update rule.

Randomness comes only from the generators the loop passes in: ``build`` gets the model-init generator,
``train_step`` the noise generator and a ``real(n)`` callable that draws data from the data generator.
All noise is drawn on the CPU and moved to the device, so a seed means the same z on any device.

Update order (``update``): ``simultaneous`` takes the D and the G gradients from one forward pass and applies
both, as the reference codes do (VEEGAN's notebook and PacGAN/ALI's ``ali_algorithm`` run both training ops
in one ``session.run``); ``sequential`` steps D first, then G against the updated D on fresh noise (what
every trainer here did before, kept bit for bit).
"""
from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable, Literal, Mapping, Union

import torch
from torch import nn

from gan_eval.errors import GanEvalError
from gan_eval.io.latent import LatentSpec
from gan_eval.options import fill_options
from gan_eval.registry import Registry
from trainers.losses import LOSSES, binary_cross_entropy

RealBatch = Callable[[int], torch.Tensor]
#: The noise generator of a step: one CPU generator, or one per seed when the method is grouped.
Noise = Union[torch.Generator, list[torch.Generator]]


def adam(params: Iterable[torch.Tensor], lr: float, betas: tuple[float, float], eps: float = 1e-8) -> torch.optim.Adam:
    """Adam with the fused kernel (about 3x faster than the default on these small CPU networks). On CUDA it is
    ``capturable`` (its step counter stays on the device), so that :mod:`trainers.stepper` can capture whole
    training steps in a CUDA graph (torch's "whole network capture" recipe)."""
    params = list(params)
    capturable = bool(params) and params[0].is_cuda
    return torch.optim.Adam(params, lr=lr, betas=betas, eps=eps, fused=True, capturable=capturable)


def gradients(loss: torch.Tensor, optimizer: torch.optim.Optimizer, retain_graph: bool = False) -> list[torch.Tensor]:
    """Gradient of ``loss`` with respect to the parameters ``optimizer`` updates (and nothing else). A loss per
    grouped seed (shape [S]) is summed, so each seed's parameter slice gets its own seed's gradient."""
    params = [q for group in optimizer.param_groups for q in group["params"]]
    return list(torch.autograd.grad(loss.sum(), params, retain_graph=retain_graph))


def apply(optimizer: torch.optim.Optimizer, grads: list[torch.Tensor]) -> None:
    """One optimizer step with the given gradients (as returned by :func:`gradients`)."""
    params = [q for group in optimizer.param_groups for q in group["params"]]
    for q, g in zip(params, grads):
        # Gradients through vmap (grouped seeds) come back with transposed strides, and torch's fused CPU Adam
        # reads a gradient in its parameter's memory order: give it the parameter's layout.
        q.grad = g if g.stride() == q.stride() else torch.empty_like(q).copy_(g)
    optimizer.step()


def descend(loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
    """One step of ``optimizer`` on ``loss``; other networks' ``.grad`` are left untouched."""
    apply(optimizer, gradients(loss, optimizer))


def descend_together(*pairs: tuple[torch.Tensor, torch.optim.Optimizer]) -> None:
    """The simultaneous update: every ``(loss, optimizer)``'s gradient from the one graph, then every step."""
    grads = [gradients(loss, opt, retain_graph=i < len(pairs) - 1) for i, (loss, opt) in enumerate(pairs)]
    for (_, opt), g in zip(pairs, grads):
        apply(opt, g)


def staircase_lr(lr: float, step: int, every: int, factor: float) -> float:
    """``lr * factor ** floor(step / every)``: a learning rate multiplied by ``factor`` every ``every`` steps (TF1's
    ``exponential_decay(..., staircase=True)``; Dist-GAN's toy code, 0.9 every 10,000 optimizer steps; MD-GAN's halving
    every 500 epochs). ``factor`` 1 keeps it constant."""
    return lr if factor == 1.0 else lr * factor ** (step // every)


def linear_lr(lr: float, step: int, steps: int) -> float:
    """``lr * max(0, 1 - step / steps)``: a learning rate falling linearly from ``lr`` at step 0 to 0 at step ``steps``
    (chainer's ``LinearShift('alpha', (lr, 0.), (0, steps))``, which pfnet-research/sngan_projection ``train.py``
    L120-123 applies to both Adams with its config's ``iteration_decay_start: 0``: the extension sets the value of
    iteration t, counted from 0, to ``lr + t / steps * (0 - lr)``). ``steps`` 0 keeps it constant."""
    return lr if steps == 0 else lr * max(0.0, 1.0 - step / steps)


UPDATES = ("simultaneous", "sequential")


@dataclass(frozen=True)
class DataShape:
    """What a method needs to know of its data: one sample's shape, vectors or images, and the value range
    (None for vectors of a known distribution) its generator must produce."""

    shape: tuple[int, ...]
    kind: Literal["vector", "image"] = "vector"
    value_range: tuple[float, float] | None = None


class Method:
    """One GAN-type training method on data of one :class:`DataShape`.

    Subclasses set ``Params``, ``default_steps`` (the paper's iteration budget) and ``data_kinds`` (the kinds
    of data their nets take) and implement :meth:`build`, :meth:`optimizers`, :meth:`train_step` and
    :meth:`generator`.
    """

    Params: ClassVar[type]
    default_steps: ClassVar[int]
    data_kinds: ClassVar[tuple[str, ...]] = ("vector",)
    #: The name the method is registered under (``gan-eval train NAME``), set by :func:`register_method`: what its
    #: error messages name.
    method_name: ClassVar[str] = "method"
    #: True when the nets are stacked over grouped seeds (:mod:`trainers.grouped`): tensors carry a leading [S].
    grouped: bool = False
    #: Hyper-parameters whose reference default differs on the mixtures and on images: ``{field: (vector, image)}``,
    #: filled in where the field is None (:func:`kind_defaults`).
    defaults_by_kind: ClassVar[Mapping[str, tuple[Any, Any]]] = {}
    #: Where the step's random inputs come from: None draws each one when asked; :class:`trainers.stepper.Stepper`
    #: sets its staged inputs (drawn beforehand from the same generators in the same order, on the device).
    inputs: Any = None
    #: The run's iteration budget (its ``steps``), set by the loop before :meth:`setup`; None outside a run. A
    #: schedule over the whole run reads it (:attr:`CountingMethod.horizon`), :attr:`default_steps` where it is None.
    run_steps: int | None = None

    def __init__(self, params: Any, data: DataShape, device: torch.device) -> None:
        self.params = self.filled_params(params, data.kind, data.shape)
        self.data = data
        self.device = torch.device(device)
        self.nets = nn.ModuleDict()
        self.opt: dict[str, torch.optim.Optimizer] = {}

    @classmethod
    def filled_params(cls, params: Any, kind: str, shape: tuple[int, ...] | None = None) -> Any:
        """``params`` with the defaults that depend on the data (:func:`kind_defaults` of :attr:`defaults_by_kind`; an
        image default by size needs ``shape``, a sample's) or, in a subclass, on other hyper-parameters filled in where
        None: what the method trains with and a run records."""
        return kind_defaults(params, kind, cls.defaults_by_kind, shape)

    @property
    def data_dim(self) -> int:
        """Features of one flattened sample (the vector methods' input width)."""
        return math.prod(self.data.shape)

    @property
    def update(self) -> str:
        """``simultaneous`` or ``sequential`` (module docstring); methods without the choice are simultaneous."""
        return str(getattr(self.params, "update", "simultaneous"))

    def mean(self, t: torch.Tensor) -> torch.Tensor:
        """The mean over a batch of per-sample terms: the reduction every loss goes through. Grouped over S
        seeds (``self.grouped``, every tensor [S, B, ...]) it is one mean per seed, shape [S]."""
        return t.flatten(1).mean(1) if self.grouped else t.mean()

    def bce(self, logits: torch.Tensor, target: float) -> torch.Tensor:
        """Mean binary cross-entropy of sigmoid(logits) against a constant label (0 or 1). Ungrouped it is torch's
        fused mean, whose backward rounds differently from the mean of elementwise terms: keeping it keeps
        ``update=sequential`` bit-identical to the trainers before the engine."""
        if self.grouped:
            return self.mean(binary_cross_entropy(logits, target))
        return nn.functional.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))

    def randn(self, n: int, dim: int, generator: Noise) -> torch.Tensor:
        """``n`` x ``dim`` standard normals from the CPU ``generator`` (grouped: per seed), on the device."""
        return self._draw(lambda g: torch.randn(n, dim, generator=g), generator)

    def rand(self, n: int, shape: tuple[int, ...], generator: Noise) -> torch.Tensor:
        """``n`` x ``shape`` uniforms on [0, 1) from the CPU ``generator`` (grouped: per seed), on the device."""
        return self._draw(lambda g: torch.rand(n, *shape, generator=g), generator)

    @property
    def graph_safe(self) -> bool:
        """Whether every step draws the same inputs and runs the same operations, so that staged inputs and a CUDA
        graph of one step serve any other (:mod:`trainers.stepper`); False where Python state changes the step's
        work (WGAN's critic schedule), which then always runs eagerly."""
        return True

    def setup(self, generator: torch.Generator) -> None:
        """Build the networks from the init ``generator`` and create the optimizers (``self.opt``)."""
        if hasattr(self.params, "loss"):
            LOSSES.get(self.params.loss)  # an unknown loss is one line before any training or file
        self.latent_spec()  # so is a bad latent distribution
        self.build(generator)
        self.opt = self.optimizers()

    @property
    def batch_size(self) -> int:
        return int(self.params.batch_size)

    def latent_spec(self) -> LatentSpec:
        return LatentSpec(int(self.params.latent_dim), "normal")

    def noise(self, n: int, generator: Noise) -> torch.Tensor:
        """``n`` latents from the CPU ``generator`` (grouped: one generator per seed, [S, n, d]), on the device."""
        return self._draw(lambda g: self.latent_spec().sample(n, g), generator)

    def _draw(self, draw: Callable[[torch.Generator], torch.Tensor], generator: Noise) -> torch.Tensor:
        if self.grouped:
            on_cpu = lambda: torch.stack([draw(g) for g in generator])  # type: ignore[union-attr]  # noqa: E731
        else:
            on_cpu = lambda: draw(generator)  # type: ignore[arg-type]  # noqa: E731
        return on_cpu().to(self.device) if self.inputs is None else self.inputs.take(on_cpu)

    def build(self, generator: torch.Generator) -> nn.ModuleDict:
        """Create and initialise ``self.nets`` on the CPU from ``generator``, then move them to the device."""
        raise NotImplementedError

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def train_step(self, real: RealBatch, noise: Noise) -> dict[str, torch.Tensor]:
        """One iteration (all its D and G updates); returns detached losses by name (scalars; [S] grouped)."""
        raise NotImplementedError

    def after_replay(self) -> None:
        """What a step does in Python besides its tensor work, for a step the stepper ran as a CUDA-graph replay
        (:mod:`trainers.stepper`), which runs the captured kernels and none of :meth:`train_step`'s Python: state a
        :attr:`graph_safe` step keeps in Python (a count) advances here as the step would advance it."""

    def generator(self) -> nn.Module:
        """The network z -> x (what is exported and sampled)."""
        return self.nets["G"]

    def extra_state(self) -> dict[str, torch.Tensor]:
        """State beyond networks and optimizers that a resume needs (BEGAN's k_t, a schedule's position, an EMA
        generator's tensors), checkpointed with the run; grouped, every tensor carries the leading [S]."""
        return {}

    def load_extra_state(self, state: dict[str, torch.Tensor]) -> None:
        """Restore what :meth:`extra_state` returned."""
        if state:
            raise GanEvalError(f"checkpoint holds method state {sorted(state)} that {self.method_name} does not keep")

    def generator_of(self, seed_index: int = 0) -> nn.Module:
        """The generator network of one seed: :meth:`generator` itself, or seed ``seed_index``'s copy of a
        grouped generator (what that seed's run exports)."""
        net = self.generator()
        return net.unstack(seed_index) if self.grouped else net  # type: ignore[operator]

    @property
    def sample_batch_statistics(self) -> bool:
        """Whether G's BatchNorm normalises each sampling batch of :attr:`batch_size` by that batch's own statistics
        (a reference whose sampler runs its batch norm in training mode) rather than by its running statistics."""
        return False

    def eval_generator(self, seed_index: int = 0) -> nn.Module:
        """One seed's generator as a copy in eval mode (what evaluations sample and read; training goes on unchanged),
        its BatchNorm on batch statistics where :attr:`sample_batch_statistics` (:func:`with_batch_statistics`; the
        exported file keeps the running statistics: ``Run.export``). A grouped seed's :meth:`generator_of` is already a
        copy."""
        net = self.generator_of(seed_index)
        net = (net if self.grouped else copy.deepcopy(net)).eval()
        return with_batch_statistics(net) if self.sample_batch_statistics else net

    @torch.no_grad()
    def sample(
        self, n: int, generator: torch.Generator, batch_size: int | None = None, seed_index: int = 0, net: nn.Module | None = None
    ) -> torch.Tensor:
        """``n`` samples (CPU, float32) with the generator (``net``, default the seed's own) in eval mode (BatchNorm
        uses its running statistics, as the exported generator files do; or, where :attr:`sample_batch_statistics`,
        each batch's own, default net :meth:`eval_generator`); training mode is restored afterwards. ``batch_size``
        None: 10,000 a batch, or the training batch size where the statistics are the batch's."""
        if net is None:
            net = self.eval_generator(seed_index) if self.sample_batch_statistics else self.generator_of(seed_index)
        if batch_size is None:
            batch_size = self.batch_size if self.sample_batch_statistics else 10_000
        was_training = net.training
        net.eval()
        try:
            z = self.latent_spec().sample(n, generator)
            return torch.cat([net(chunk.to(self.device)).float().cpu() for chunk in torch.split(z, batch_size)])
        finally:
            net.train(was_training)


def with_batch_statistics(net: nn.Module) -> nn.Module:
    """``net`` (in place) with every BatchNorm layer normalising by the statistics of the batch it is given, in eval
    mode too, and keeping no running statistics (so sampling changes nothing): TF's ``batch_norm(is_training=True)``
    at sampling time, without its moving-average update."""
    for layer in net.modules():
        if isinstance(layer, nn.modules.batchnorm._BatchNorm):
            layer.track_running_stats = False
            layer.running_mean = layer.running_var = layer.num_batches_tracked = None
    return net


class CountingMethod(Method):
    """A method whose step reads how many iterations it has taken (WGAN's critic schedule, a learning-rate schedule):
    ``self.iterations``, 0 after :meth:`setup`, raised by the subclass's step (and by :meth:`after_replay` for a step
    replayed as a CUDA graph) and checkpointed with the run.

    A schedule over the whole run (SN-GAN's rate falling to 0 at the run's end, Dist-GAN's image D weights) reads
    ``self.horizon``: the run's steps as it started (:attr:`run_steps`, else :attr:`default_steps`). While
    :attr:`spans_run` it is checkpointed too, so a run extended to more steps keeps the schedule it started with, as
    the reference codes run one schedule per run."""

    #: Whether a schedule reads :attr:`horizon` (then the checkpoint keeps it); a subclass's property.
    spans_run: bool = False

    def setup(self, generator: torch.Generator) -> None:
        self.iterations = 0
        self.horizon = self.run_steps or self.default_steps
        super().setup(generator)

    def after_replay(self) -> None:
        self.iterations += 1  # the replayed step's own ``self.iterations += 1`` did not run

    def extra_state(self) -> dict[str, torch.Tensor]:
        count = torch.tensor(self.iterations)
        state = {"iterations": count.expand(self.nets["G"].group_size).clone() if self.grouped else count}
        if self.spans_run:
            state["horizon"] = torch.full_like(state["iterations"], self.horizon)
        return state

    def load_extra_state(self, state: dict[str, torch.Tensor]) -> None:
        self.iterations = int(state["iterations"].flatten()[0])
        if "horizon" in state:
            self.horizon = int(state["horizon"].flatten()[0])


class ScheduledLRMethod(CountingMethod):
    """A method whose optimizers' learning rates follow a schedule (:meth:`lr_at`) over a step count its subclass
    defines from ``self.iterations``: :meth:`schedule` sets the rate before each optimizer step. The rate is a Python
    float, so while a schedule is on (:attr:`lr_scheduled`) the method is not :attr:`graph_safe` (it trains eagerly)."""

    @property
    def lr_scheduled(self) -> bool:
        """Whether the rates change during training (False: :meth:`schedule` leaves the optimizers alone)."""
        raise NotImplementedError

    def lr_at(self, name: str, step: int) -> float:
        """The learning rate of optimizer ``name`` at step ``step`` (from 0) of the subclass's count."""
        raise NotImplementedError

    @property
    def graph_safe(self) -> bool:
        return not self.lr_scheduled

    def schedule(self, name: str, step: int) -> None:
        """Optimizer ``name`` takes the rate of ``step`` from its next step on."""
        if self.lr_scheduled:
            for group in self.opt[name].param_groups:
                group["lr"] = self.lr_at(name, step)


class StaircaseLRMethod(ScheduledLRMethod):
    """A method whose learning rates follow :func:`staircase_lr` (its ``lr``, ``lr_decay``, ``lr_decay_every``
    hyper-parameters; ``lr_decay`` 1 keeps them constant)."""

    def setup(self, generator: torch.Generator) -> None:
        if self.params.lr_decay_every < 1:
            raise GanEvalError(f"method {self.method_name}: lr_decay_every={self.params.lr_decay_every}; the rate changes every N >= 1 steps "
                               "(--set lr_decay=1 keeps it constant)")
        super().setup(generator)

    @property
    def lr_scheduled(self) -> bool:
        return self.params.lr_decay != 1.0

    def lr_at(self, name: str, step: int) -> float:
        p = self.params
        return staircase_lr(p.lr, step, p.lr_decay_every, p.lr_decay)


def added_option(default: Any) -> Any:
    """A dataclass field for a hyper-parameter added to a method after runs of it were trained: a run's recorded
    configuration (:func:`params_record`) names it only when it is set away from ``default``, so the runs trained
    before it keep their configuration hash, folder and resume point (the same rule as ``--tf32``)."""
    return dataclasses.field(default=default, metadata={"recorded_at_default": False})


def params_record(params: Any) -> dict[str, Any]:
    """``params`` as the plain dict a run's configuration records and hashes: every field, except an
    :func:`added_option` at its default."""
    record = dataclasses.asdict(params)
    for f in dataclasses.fields(params):
        if f.metadata.get("recorded_at_default") is False and getattr(params, f.name) == f.default:
            del record[f.name]
    return record


@dataclass(frozen=True)
class BySize:
    """An image default of :attr:`Method.defaults_by_kind` that depends on the images' side: ``sizes[side]``, else
    ``other`` (WGAN-GP's reference takes other betas at 64 x 64 than at 32 x 32)."""

    other: Any
    sizes: tuple[tuple[int, Any], ...]

    def at(self, size: int) -> Any:
        return dict(self.sizes).get(size, self.other)

    def __str__(self) -> str:
        return ", ".join(f"{value} at {side}x{side}" for side, value in self.sizes) + f", else {self.other}"


@dataclass(frozen=True)
class PerBatch:
    """A default of :attr:`Method.defaults_by_kind` that is ``factor`` times the run's ``batch_size`` (adler-j/bwgan's G
    step reads ``2 * BATCH_SIZE`` samples, so it keeps that ratio at any batch)."""

    factor: int

    def __str__(self) -> str:
        return f"{self.factor} x batch_size"


def kind_defaults(params: Any, kind: str, defaults: Mapping[str, tuple[Any, Any]], shape: tuple[int, ...] | None = None) -> Any:
    """``params`` with each field of ``defaults`` that is None set to its ``(vector, image)`` default for the data's
    ``kind``: for methods whose reference codes set a hyper-parameter differently on the mixtures and on images. An
    image default that is a :class:`BySize` takes the side of the images of ``shape`` (C, H, W), which it then needs;
    one that is a :class:`PerBatch` the filled ``batch_size``."""
    missing = {k: pair[kind == "image"] for k, pair in defaults.items() if getattr(params, k) is None}
    for k, value in missing.items():
        if isinstance(value, BySize):
            if shape is None:
                raise ValueError(f"the image default of {k} depends on the image size: pass the data's shape")
            missing[k] = value.at(shape[-1])
    filled = dataclasses.replace(params, **missing) if missing else params
    per_batch = {k: value.factor * int(filled.batch_size) for k, value in missing.items() if isinstance(value, PerBatch)}
    return dataclasses.replace(filled, **per_batch) if per_batch else filled


def stack_methods(methods: list[Method]) -> Method:
    """S set-up methods of one class and configuration (each initialised from its own seed) as one grouped
    method: every network a :class:`trainers.grouped.GroupedModule` of the S copies, fresh optimizers over the
    stacked parameters (their state is loaded from the seeds' checkpoints by the loop)."""
    from trainers.grouped import GroupedModule

    grouped = copy.copy(methods[0])
    grouped.grouped = True
    grouped.nets = nn.ModuleDict({name: GroupedModule([m.nets[name] for m in methods]) for name in methods[0].nets})
    grouped.opt = grouped.optimizers()
    return grouped


METHODS: Registry[type[Method]] = Registry("training method")


def register_method(name: str) -> Callable[[type[Method]], type[Method]]:
    """Class decorator: ``@register_method("gan")``; the class's :attr:`Method.method_name` becomes ``name``."""

    def decorate(cls: type[Method]) -> type[Method]:
        cls.method_name = name
        return METHODS.register(name)(cls)

    return decorate


def make_params(method: str, overrides: Mapping[str, Any] | None = None) -> Any:
    """The method's ``Params`` with ``key=value`` overrides (strings are converted to the field's type)."""
    cls = METHODS.get(method).Params
    params = fill_options(cls, overrides, f"method {method}", noun="hyper-parameter", label="--set")
    if getattr(params, "update", UPDATES[0]) not in (*UPDATES, None):  # None: the data kind's (defaults_by_kind)
        raise GanEvalError(f"method {method}: update={params.update!r}; use one of {', '.join(UPDATES)}")
    for f in dataclasses.fields(cls):
        value = getattr(params, f.name)
        if f.metadata.get("signed"):  # a field whose negative values mean something (BW-GAN's Sobolev order)
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
            raise GanEvalError(f"method {method}: {f.name}={value} must not be negative")
    return params


def resolved_params(method: str, overrides: Mapping[str, Any] | None, kind: str, shape: tuple[int, ...] | None = None) -> Any:
    """:func:`make_params` with the method's data-dependent defaults filled in (:meth:`Method.filled_params`;
    ``shape`` a sample's): what a run records and hashes, so a per-kind default changed in the code gives new run
    folders, as any other default does, instead of resuming runs trained with the old value."""
    return METHODS.get(method).filled_params(make_params(method, overrides), kind, shape)
