"""How the loop runs a method's training step on its device: eagerly, with staged random inputs, or as a CUDA graph.

**Staged inputs.** A step's random inputs (the data batches ``real(n)`` and the method's noise draws,
:meth:`trainers.methods.base.Method.noise` / ``randn``) are drawn on CPU generators in an order and with shapes
that do not change from step to step. The first staged step records them as the method asks for them (each
drawn on the spot, exactly as an eager step draws it) and gives the method static device tensors holding
them; every later step draws all of them first, from the same generators in the same order (so the same CPU
RNG consumption and the same values as eager), copies them into those static tensors (through pinned memory,
``non_blocking``, on CUDA) and runs the step on them. On the CPU a staged step is bit for bit the eager one
(``tests/test_stepper.py``); it buys nothing there, so the loop stages only on CUDA.

**CUDA graph.** With staged inputs the step reads only static tensors, so it can be captured whole (forward,
backward, optimizer steps: torch's "whole network capture" recipe, ``torch.cuda.graphs``): a few warm-up steps
on a side stream, one capture, then each step is the copies of its inputs and one replay. Optimizers must be
``capturable`` (:func:`trainers.methods.base.adam` is, on CUDA). A graph runs what was captured and nothing
else, so a step that reads a Python value that changes between steps would silently repeat the captured value:
the second replay is therefore checked once against an eager step from the same state (each network tensor and
optimizer moment within 1e-3 of that tensor's own update, counters equal), and a capture that fails (an op that synchronises, such
as the unrolled GAN reading Adam's step counter as a Python int) or a check that disagrees leaves the run
eager, with one line on stderr. A replay runs none of the step's Python either: after each replay (but the one
that follows the capture, whose Python ran there) the method's :meth:`~trainers.methods.base.Method.after_replay`
advances what the step keeps in Python (:class:`~trainers.methods.base.CountingMethod`'s iteration count, which
its checkpoint records); a failed capture puts the method's Python attributes back as they were before it, since the
eager step that takes its place runs that Python again. The graph replays the kernels eager CUDA runs, so it
changes no numbers beyond their round-off; it is an option of the run (``cuda_graph``, recorded in ``environment.json``), not of its
configuration.

**TF32.** ``tf32=True`` lets CUDA matmuls and cuDNN convolutions round their inputs to TF32 (10-bit mantissa):
faster on tensor cores, different numbers, so it is part of the run's configuration (:class:`TrainConfig`);
off, both are IEEE float32 (cuDNN's own default would allow TF32 convolutions). The flags are set only around
training steps, never around evaluation.
"""
from __future__ import annotations

import contextlib
import sys
import warnings
from typing import Any, Callable, Iterator

import torch

from trainers.methods.base import Method, Noise

#: Eager steps on a side stream before the capture (torch's recipe uses 3; DDP would need 11).
WARMUP_STEPS = 3
#: The graph's second replay may differ from an eager step by this fraction of each tensor's own update.
GRAPH_TOLERANCE = 1e-3

CpuDraw = Callable[[], torch.Tensor]


def note(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@contextlib.contextmanager
def tf32_matmuls(enabled: bool) -> Iterator[None]:
    """CUDA matmuls and cuDNN convolutions in TF32 (``enabled``) or IEEE float32 inside the block; the previous
    settings are restored after it."""
    before = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = enabled
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before


class StagedInputs:
    """The random inputs of a step in static device tensors (what :attr:`Method.inputs` holds while it steps).

    Recording (the first step): :meth:`take` draws each input on the spot and keeps its CPU draw to repeat it.
    Afterwards :meth:`stage` repeats every draw in the recorded order into the static tensors and :meth:`take`
    hands them out in that order."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.draws: list[CpuDraw] = []
        self.host: list[torch.Tensor] = []  # pinned CPU tensors the copies to the device read (CUDA)
        self.static: list[torch.Tensor] = []
        self.recording = True
        self.position = 0
        self.copied: torch.cuda.Event | None = None  # the last stage's copies out of self.host

    def take(self, draw: CpuDraw) -> torch.Tensor:
        if self.recording:
            value = draw()
            self.draws.append(draw)
            self.static.append(torch.empty_like(value, device=self.device))
            if self.device.type == "cuda":
                self.host.append(torch.empty_like(value).pin_memory())
            self.static[-1].copy_(value)  # from pageable memory: done before the host goes on (no race on self.host)
            return self.static[-1]
        if self.position == len(self.static):
            raise RuntimeError(f"the step drew more than the {len(self.static)} random inputs of its first step; a staged step needs the same draws every step")
        self.position += 1
        return self.static[self.position - 1]

    def stage(self) -> None:
        """Draw the next step's inputs (same generators, same order as recorded) into the static tensors."""
        if self.copied is not None:
            self.copied.synchronize()  # the previous step's copies have left the pinned buffers we overwrite
        for i, draw in enumerate(self.draws):
            if self.device.type == "cuda":
                self.host[i].copy_(draw())
                self.static[i].copy_(self.host[i], non_blocking=True)  # ordered before the step on this stream
            else:
                self.static[i].copy_(draw())
        if self.device.type == "cuda":
            self.copied = torch.cuda.Event()
            self.copied.record(torch.cuda.current_stream(self.device))
        self.recording, self.position = False, 0

    def check_consumed(self) -> None:
        if not self.recording and self.position != len(self.static):
            raise RuntimeError(f"the step drew {self.position} of the {len(self.static)} random inputs of its first step; a staged step needs the same draws every step")


class Stepper:
    """Runs ``method.train_step`` once per :meth:`step`: eagerly, on staged inputs, or by CUDA graph replay.

    ``staged`` (default: on CUDA) stages the random inputs; ``graph`` (default: on CUDA; needs staging) captures
    the step after :data:`WARMUP_STEPS` staged steps. ``graph=True`` off CUDA is ignored with a note.
    ``tf32`` sets :func:`tf32_matmuls` around every step. :meth:`step` must get the same ``batch`` and
    ``noise`` generators every step (the loop's): staged draws repeat the first step's."""

    def __init__(self, method: Method, *, staged: bool | None = None, graph: bool | None = None, tf32: bool = False) -> None:
        self.method = method
        self.device = method.device
        cuda = self.device.type == "cuda"
        if graph and not cuda:
            note(f"cuda_graph: {self.device} has no CUDA graphs; training eagerly")
        # Staging repeats the first step's draws and a graph its operations: neither fits a method whose steps differ.
        uniform = method.graph_safe
        if not uniform and (graph or staged):
            note(f"{type(method).__name__}'s steps differ from one another (Method.graph_safe): no staged inputs or "
                 "CUDA graph; training eagerly")
        self.graph_wanted = bool(cuda if graph is None else graph) and cuda and uniform
        self.staged = (bool(cuda if staged is None else staged) or self.graph_wanted) and uniform
        self.tf32 = tf32
        self.inputs: StagedInputs | None = None
        self.graph: torch.cuda.CUDAGraph | None = None
        self.static_losses: dict[str, torch.Tensor] = {}
        self.steps = 0  # steps run by this stepper
        self.graph_state = "off" if not self.graph_wanted else "warming up"
        self.replays = 0

    def describe(self) -> dict[str, Any]:
        """What ``environment.json`` records of how the steps ran."""
        return {
            "cuda_graph": self.graph_state,
            "staged_inputs": self.staged,
            "tf32": self.tf32,
            "matmul_allow_tf32": self.tf32 if self.device.type == "cuda" else None,
            "cudnn_allow_tf32": self.tf32 if self.device.type == "cuda" else None,
        }

    def step(self, batch: Callable[[int], torch.Tensor], noise: Noise) -> dict[str, torch.Tensor]:
        """One training step; ``batch(n)`` draws ``n`` training samples on the CPU (the loop's data generator)."""
        self.steps += 1
        on_device = torch.cuda.device(self.device) if self.device.type == "cuda" else contextlib.nullcontext()
        with tf32_matmuls(self.tf32), on_device:
            if not self.staged:
                return self.method.train_step(lambda n: batch(n).to(self.device), noise)
            if self.inputs is None:
                self.inputs = StagedInputs(self.device)
                return self._eager(batch, noise)
            self.inputs.stage()
            if self.graph is not None:
                return self._replay(batch, noise)
            if self.graph_wanted and self.steps > WARMUP_STEPS:
                return self._capture(batch, noise)
            return self._eager(batch, noise)

    def _eager(self, batch: Callable[[int], torch.Tensor], noise: Noise) -> dict[str, torch.Tensor]:
        """The step with the method's draws served by the staged inputs (recorded on the first step); on
        CUDA, while a graph is still wanted, on a side stream (the recipe's warm-up)."""
        inputs = self.inputs
        assert inputs is not None
        self.method.inputs = inputs
        try:
            with self._warmup_stream(), warnings.catch_warnings():
                # capturable Adam warns when it steps outside a graph: the warm-up and the eager fallback do
                warnings.filterwarnings("ignore", message=".*capturable=True.*")
                losses = self.method.train_step(lambda n: inputs.take(lambda: batch(n)), noise)
        finally:
            self.method.inputs = None
        inputs.check_consumed()
        return losses

    @contextlib.contextmanager
    def _warmup_stream(self) -> Iterator[None]:
        if not (self.graph_wanted and self.graph is None):
            yield
            return
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):
            yield
        torch.cuda.current_stream(self.device).wait_stream(side)

    def _capture(self, batch: Callable[[int], torch.Tensor], noise: Noise) -> dict[str, torch.Tensor]:
        """Capture the step (its inputs are staged), then replay it as this step; eager with a note if it fails."""
        graph = torch.cuda.CUDAGraph()
        python = dict(vars(self.method))  # what the step's Python changes (a count), for a failed capture to put back
        self.method.inputs = self.inputs
        try:
            with torch.cuda.graph(graph):
                self.static_losses = self.method.train_step(lambda n: self.inputs.take(lambda: batch(n)), noise)  # type: ignore[union-attr]
            self.inputs.check_consumed()  # type: ignore[union-attr]
        except Exception as exc:  # noqa: BLE001 (any failure to capture leaves the run eager, said on stderr)
            self._give_up(f"capture failed at step {self.steps} ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})")
            torch.cuda.synchronize(self.device)
            vars(self.method).clear()
            vars(self.method).update(python)  # the eager step runs the step's Python again (else counted twice)
            self.inputs.position = 0  # type: ignore[union-attr]  # the eager step takes the same staged inputs
            return self._eager(batch, noise)
        finally:
            self.method.inputs = None
        self.graph, self.graph_state = graph, f"captured at step {self.steps}"
        return self._replay(batch, noise, captured=True)

    def _replay(self, batch: Callable[[int], torch.Tensor], noise: Noise, captured: bool = False) -> dict[str, torch.Tensor]:
        """The step as one replay of the graph (the second replay: :meth:`_checked_replay`). ``captured``: this step's
        Python ran once, in the capture; any other replay runs none of it, so the method is told
        (:meth:`~trainers.methods.base.Method.after_replay`)."""
        assert self.graph is not None
        self.replays += 1
        if self.replays == 2:
            return self._checked_replay(batch, noise)
        self.graph.replay()
        if not captured:
            self.method.after_replay()
        return {k: v.clone() for k, v in self.static_losses.items()}  # the next replay overwrites them

    def _state(self) -> list[tuple[str, torch.Tensor]]:
        """Every tensor a step changes, by name: parameters, buffers and optimizer state."""
        method = self.method
        tensors = [(f"parameter {n}", t) for n, t in method.nets.named_parameters()] + [(f"buffer {n}", t) for n, t in method.nets.named_buffers()]
        for key, optimizer in method.opt.items():
            tensors += [(f"optimizer {key} {k}", t) for state in optimizer.state.values() for k, t in state.items() if isinstance(t, torch.Tensor)]
        return tensors

    def _checked_replay(self, batch: Callable[[int], torch.Tensor], noise: Noise) -> dict[str, torch.Tensor]:
        """Replay once against an eager step from the same state; keep the eager result, drop the graph if they
        differ by more than :data:`GRAPH_TOLERANCE` of the update (a value the capture froze)."""
        named = self._state()
        before = [t.detach().clone() for _, t in named]
        self.graph.replay()  # type: ignore[union-attr]
        replayed = [t.detach().clone() for _, t in named]
        with torch.no_grad():
            for (_, t), b in zip(named, before):
                t.copy_(b)
        self.inputs.position = 0  # type: ignore[union-attr]  # the eager step takes the same staged inputs
        losses = self._eager(batch, noise)
        for (name, now), b, r in zip(named, before, replayed):
            if not now.is_floating_point() or now.dim() == 0:  # counters (Adam's step, BatchNorm's batches): equal
                differs = not torch.equal(now, r)
            else:  # per tensor: the graph's update must be the eager one's up to a fraction of its size
                now = now.detach().double()
                differs = float((now - r.double()).norm()) > GRAPH_TOLERANCE * float((now - b.double()).norm())
            if differs:
                self._give_up(f"the replay at step {self.steps} differs from an eager step in {name}")
                break
        return losses

    def _give_up(self, why: str) -> None:
        self.graph, self.graph_wanted, self.static_losses = None, False, {}
        self.graph_state = f"eager: {why}"
        note(f"cuda_graph: {why}; training eagerly")
