"""The one training loop: seeding, evaluation with its own RNG, run directory, checkpoints, resume, export.

A run directory holds

* ``config.json``: the resolved configuration (every hyper-parameter, the reference's definition);
* ``environment.json``: versions of Python / torch / numpy / gan-eval, the device, the thread count;
* ``metrics.jsonl``: one line per evaluation: step, mean losses since the last one, and every scalar of the
  run's evaluators (:mod:`trainers.evaluators`: modes / HQ % / KL on mixtures, Stacked-MNIST modes / KL, ...);
* ``checkpoint.pt``: state dicts of the networks and optimizers, the RNG states, the data order, the step
  (written atomically at every evaluation);
* at the end ``generator.pt2`` (a ``torch.export`` program, CPU, eval mode, any batch size), the same
  network as TorchScript ``generator.pt`` (for tools that read only TorchScript), ``generator.json`` (their
  latent spec, with reference, method, seed, steps), ``samples.npz`` (the final evaluation samples) and
  ``result.json``; see :func:`gan_eval.io.generator_files.save_generator`.

Randomness: four CPU ``torch.Generator`` s seeded from (seed, purpose) by numpy's SeedSequence: model
init, training-set draw, data batches, noise. Evaluation draws its latents from a fifth generator that is
re-seeded at every evaluation and samples with the networks in eval mode (BatchNorm then neither uses nor
updates batch statistics), so evaluating never changes the training trajectory.

Resume: running again into a directory with a checkpoint continues from it, bit-identically to an
uninterrupted run on the same device, and refuses (one-line :class:`GanEvalError`) when the resolved
configuration differs from the stored one in anything but ``steps`` (a finished run may be extended).
"""
from __future__ import annotations

import dataclasses
import json
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

import gan_eval
from gan_eval.errors import GanEvalError
from gan_eval.io.atomic import atomic_path, save_json, save_npz, write_with
from gan_eval.io.generator_files import save_generator
from gan_eval.io.latent import LatentSpec
from trainers.datasets import build_dataset
from trainers.evaluators import EvalInput, build_evaluators, headline
from trainers.methods import METHODS, Method, make_params
from trainers.methods.base import DataShape

PURPOSES = ("init", "train_set", "data", "noise", "eval")
RESUMABLE_CHANGES = ("steps", "data_dir")


@dataclass
class TrainConfig:
    """What to train. ``dataset`` is a dataset spec (:func:`trainers.datasets.build_dataset`: a mixture name,
    ``stacked-mnist``, ``cifar10``, ``folder:size=64``...) read from ``data_dir`` where it has files;
    ``steps=None`` means the method's paper budget; ``train_size=None`` the dataset's natural training set
    (fresh samples every batch for a known distribution), N a fixed set of N samples drawn once;
    ``evaluators=None`` the dataset's default evaluators; ``params`` overrides the method's hyper-parameter
    defaults (``--set key=value``)."""

    method: str
    dataset: str = "ring8"
    seed: int = 0
    steps: int | None = None
    train_size: int | None = None
    eval_every: int = 1000
    eval_samples: int = 2500
    device: str = "cpu"
    params: dict[str, Any] = field(default_factory=dict)
    data_dir: str | None = None
    evaluators: tuple[str, ...] | None = None


@dataclass
class StepInfo:
    """What the loop reports after each step: losses as detached tensors (no device sync unless read);
    ``evaluation`` is the metrics line when this step was evaluated."""

    step: int
    steps: int
    losses: dict[str, torch.Tensor]
    evaluation: dict[str, Any] | None = None
    headline: tuple[str, ...] = ()


def derive_seeds(seed: int) -> dict[str, int]:
    """Independent 63-bit seeds per purpose from the run seed."""
    states = np.random.SeedSequence([seed, 0x6A9]).spawn(len(PURPOSES))
    return {p: int(s.generate_state(1, np.uint64)[0] >> np.uint64(1)) for p, s in zip(PURPOSES, states)}


def resolve_config(config: TrainConfig) -> dict[str, Any]:
    """The configuration with every default filled in (what ``config.json`` stores); a method that cannot take
    the dataset, or an evaluator that cannot score it, is a one-line :class:`GanEvalError` here, before any
    training."""
    method_cls = METHODS.get(config.method)
    params = make_params(config.method, config.params)
    dataset = build_dataset(config.dataset, config.data_dir)
    if dataset.kind not in method_cls.data_kinds:
        raise GanEvalError(
            f"method {config.method} trains on {' or '.join(method_cls.data_kinds)}s, but {config.dataset} holds {dataset.kind}s;"
            " pick a method for them (`gan-eval methods`)"
        )
    evaluators = build_evaluators(config.evaluators, dataset, torch.device(config.device))
    steps = method_cls.default_steps if config.steps is None else config.steps
    for name, value in (("steps", steps), ("eval_every", config.eval_every), ("eval_samples", config.eval_samples)):
        if value <= 0:
            raise GanEvalError(f"{name}={value}: must be a positive integer")
    if config.train_size is not None and config.train_size <= 0:
        raise GanEvalError(f"train_size={config.train_size}: must be positive, or omitted for fresh samples every batch")
    return {
        "method": config.method,
        "dataset": config.dataset,
        "seed": config.seed,
        "steps": steps,
        "train_size": config.train_size,
        "eval_every": config.eval_every,
        "eval_samples": config.eval_samples,
        "device": str(torch.device(config.device)),
        "params": dataclasses.asdict(params),
        "data": dataset.describe(),
        "data_dir": config.data_dir,
        "evaluators": [e.describe() for e in evaluators],
    }


def environment(device: torch.device) -> dict[str, Any]:
    env = {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": np.__version__,
        "gan_eval": gan_eval.__version__,
        "platform": platform.platform(),
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
    }
    if device.type == "cuda":
        env["cuda_device"] = torch.cuda.get_device_name(device)
        env["cuda"] = torch.version.cuda
    return env


class Run:
    """A run directory bound to its resolved configuration: the method, its data and generators."""

    def __init__(self, config: TrainConfig, run_dir: str | Path) -> None:
        self.dir = Path(run_dir)
        self.config = resolve_config(config)
        self.steps = self.config["steps"]
        self.device = torch.device(config.device)
        self.dataset = build_dataset(config.dataset, config.data_dir)
        self.evaluators = build_evaluators(config.evaluators, self.dataset, self.device)
        self.seeds = derive_seeds(config.seed)
        self.generators = {p: torch.Generator().manual_seed(self.seeds[p]) for p in ("init", "data", "noise")}
        params = make_params(config.method, config.params)
        shape = DataShape(self.dataset.shape, self.dataset.kind, self.dataset.value_range)
        self.method: Method = METHODS.get(config.method)(params, shape, self.device)
        self.method.setup(self.generators["init"])
        self.data = self.dataset.sampler(config.train_size, self.seeds["train_set"])
        self.step = 0
        self.elapsed = 0.0

    # --- files -----------------------------------------------------------------------------------
    def path(self, name: str) -> Path:
        return self.dir / name

    def open_directory(self) -> None:
        """Create the run directory, or check that an existing one was made with the same configuration."""
        check_stored_config(self.dir, self.config, RESUMABLE_CHANGES)
        self.dir.mkdir(parents=True, exist_ok=True)
        save_json(self.path("config.json"), self.config)
        save_json(self.path("environment.json"), environment(self.device))

    def save_checkpoint(self) -> None:
        state = {
            "step": self.step,
            "elapsed": self.elapsed,
            "nets": self.method.nets.state_dict(),
            "optimizers": {k: o.state_dict() for k, o in self.method.opt.items()},
            "rng": {k: g.get_state() for k, g in self.generators.items()},
            "data": self.data.state_dict(),
        }
        with atomic_path(self.path("checkpoint.pt")) as tmp:
            torch.save(state, tmp)

    def load_checkpoint(self) -> bool:
        path = self.path("checkpoint.pt")
        if not path.exists():
            return False
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            self.method.nets.load_state_dict(state["nets"])
            for k, o in self.method.opt.items():
                o.load_state_dict(state["optimizers"][k])
            for k, g in self.generators.items():
                g.set_state(state["rng"][k])
            self.data.load_state_dict(state["data"])
        except (RuntimeError, KeyError, EOFError) as exc:
            raise GanEvalError(f"{path}: unreadable checkpoint ({str(exc).splitlines()[0]}); delete it to start over") from None
        self.step = int(state["step"])
        self.elapsed = float(state["elapsed"])
        self._truncate_metrics()
        return True

    def _truncate_metrics(self) -> None:
        """Drop metric lines written after the checkpoint (a kill between evaluation and checkpoint)."""
        path = self.path("metrics.jsonl")
        if path.exists():
            lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
            kept = [ln for ln in lines if json.loads(ln)["step"] <= self.step]
            if len(kept) != len(lines):
                write_with(path, lambda tmp: tmp.write_text("".join(k + "\n" for k in kept), encoding="utf-8"))

    def append_metrics(self, line: dict[str, Any]) -> None:
        with open(self.path("metrics.jsonl"), "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")

    # --- evaluation and export -------------------------------------------------------------------
    def eval_samples(self) -> torch.Tensor:
        """The evaluation samples: the same latents at every evaluation, from the eval seed."""
        return self.method.sample(self.config["eval_samples"], torch.Generator().manual_seed(self.seeds["eval"]))

    def evaluate(self, losses: dict[str, float]) -> tuple[dict[str, Any], torch.Tensor]:
        samples = self.eval_samples()
        finite = bool(torch.isfinite(samples).all())
        evaluation = EvalInput(samples, self.method.generator(), self.method.latent_spec(), self.seeds["eval"], self.device)
        values: dict[str, Any] = {}
        for evaluator in self.evaluators:
            values.update(evaluator(evaluation) if finite else evaluator.undefined())
        line = {"step": self.step, "elapsed_s": round(self.elapsed, 3), **losses, **values, "finite": finite}
        return line, samples

    def export(self, samples: torch.Tensor, line: dict[str, Any]) -> dict[str, Any]:
        """Write generator.pt2 (+ .pt, .json), samples.npz and result.json (the run is then finished)."""
        spec = self.method.latent_spec()
        cfg = self.config
        value_range = self.dataset.value_range
        sidecar = LatentSpec(
            spec.latent_dim,
            spec.latent_distribution,
            value_range=None if value_range is None else "{:g},{:g}".format(*value_range),
            extra={"dataset": cfg["dataset"], "method": cfg["method"], "seed": cfg["seed"], "steps": self.step},
        )
        written = save_generator(self.method.generator(), sidecar, self.path("generator.pt2"))
        save_npz(self.path("samples.npz"), samples=samples.numpy())
        files = [p.name for p in written] + ["samples.npz"]
        result = {
            "config": cfg,
            "step": self.step,
            "elapsed_s": round(self.elapsed, 3),
            "values": line,
            "headline": list(headline(self.evaluators)),
            "files": files,
        }
        save_json(self.path("result.json"), result)
        return result


def check_stored_config(run_dir: Path, asked: dict[str, Any], resumable: tuple[str, ...] = ()) -> None:
    """One-line :class:`GanEvalError` unless ``run_dir`` is absent, empty, or holds a ``config.json`` equal to the
    resolved configuration ``asked`` in every key but ``resumable``."""
    stored_path = run_dir / "config.json"
    if not stored_path.exists():
        if run_dir.is_dir() and any(run_dir.iterdir()):
            raise GanEvalError(f"{run_dir}: not empty but holds no config.json of a run; use another --out or move that folder away")
        return
    try:
        stored = json.loads(stored_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        stored = None
    if not isinstance(stored, dict):
        raise GanEvalError(f"{stored_path}: not a JSON configuration; use another --out or move that folder away")
    changed = [k for k in sorted(set(stored) | set(asked)) if k not in resumable and stored.get(k) != asked.get(k)]
    if changed:
        key, here, there = changed[0], stored.get(changed[0]), asked.get(changed[0])
        while isinstance(here, dict) and isinstance(there, dict):  # name the hyper-parameter, not all of params
            sub = next(k for k in sorted(set(here) | set(there)) if here.get(k) != there.get(k))
            key, here, there = f"{key}.{sub}", here.get(sub), there.get(sub)
        raise GanEvalError(
            f"{run_dir}: was made with a different configuration ({key}: {_short(here)} here,"
            f" {_short(there)} asked); use another --out or move that folder away"
        )


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """The evaluation lines of a run directory's ``metrics.jsonl``, in step order."""
    path = Path(run_dir) / "metrics.jsonl"
    if not path.is_file():
        raise GanEvalError(f"{run_dir}: no metrics.jsonl; give a run directory written by `gan-eval train` or `reproduce`")
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not lines:
        raise GanEvalError(f"{path}: no evaluation yet; train past the first --eval-every step")
    return sorted(lines, key=lambda line: line["step"])


def evaluated_step(run_dir: str | Path) -> int:
    """The last step in a run directory's ``metrics.jsonl`` (its last checkpoint), 0 if none yet. A line a
    worker is still writing does not parse and is skipped."""
    path = Path(run_dir) / "metrics.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    for line in reversed(lines):
        try:
            return int(json.loads(line)["step"])
        except (ValueError, KeyError):
            continue
    return 0


def finished_result(run_dir: str | Path, config: dict[str, Any]) -> dict[str, Any] | None:
    """The result of the run in ``run_dir`` if it finished with exactly the resolved configuration ``config``
    (steps included), else None."""
    path = Path(run_dir) / "result.json"
    if not path.exists():
        return None
    result = json.loads(path.read_text(encoding="utf-8"))
    return result if result.get("config") == config and result.get("step") == config["steps"] else None


def train(
    config: TrainConfig,
    run_dir: str | Path,
    *,
    callback: Callable[[StepInfo], None] | None = None,
    stop_after: int | None = None,
) -> dict[str, Any] | None:
    """Train (or resume, or extend) the run in ``run_dir``; returns ``result.json``'s content.

    ``callback`` is called after every step (the CLI's progress bar). ``stop_after`` ends the loop after
    that step without finishing the run, exactly as a kill would (tests); then None is returned.
    """
    run = Run(config, run_dir)
    run.open_directory()
    run.load_checkpoint()
    if run.step > run.steps:
        raise GanEvalError(f"{run.dir}: already trained {run.step} steps, more than the {run.steps} asked; ask for at least {run.step}")
    done = finished_result(run.dir, run.config)
    if run.step == run.steps and done is not None:
        return done
    real = lambda n: run.data.batch(n, run.generators["data"]).to(run.device)  # noqa: E731
    sums: dict[str, torch.Tensor] = {}
    count = 0
    line: dict[str, Any] | None = None
    samples = None
    started = time.perf_counter() - run.elapsed
    while run.step < run.steps:
        losses = run.method.train_step(real, run.generators["noise"])
        run.step += 1
        for k, v in losses.items():
            sums[k] = sums[k] + v if k in sums else v
        count += 1
        evaluation = None
        if run.step % config.eval_every == 0 or run.step == run.steps:
            run.elapsed = time.perf_counter() - started
            line, samples = run.evaluate({k: float(v) / count for k, v in sums.items()})
            run.append_metrics(line)
            run.save_checkpoint()
            sums, count = {}, 0
            evaluation = line
        if callback is not None:
            callback(StepInfo(run.step, run.steps, losses, evaluation, headline(run.evaluators)))
        if stop_after is not None and run.step >= stop_after:
            return None
    if samples is None:  # resumed at the last step's checkpoint but killed before the export
        samples = run.eval_samples()
        line = read_metrics(run.dir)[-1]
    return run.export(samples, line)
