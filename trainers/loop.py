"""The one training loop: seeding, evaluation with its own RNG, run directory, checkpoints, resume, export.

A run directory holds

* ``config.json``: the resolved configuration (every hyper-parameter, the dataset's identity, the evaluators);
* ``environment.json``: versions of Python / torch / numpy / gan-eval, the device, the thread count, and how the
  steps ran (:mod:`trainers.stepper`: CUDA graph captured or why not, staged inputs, TF32);
* ``metrics.jsonl``: one line per evaluation: step, mean losses since the last one, and every scalar of the
  run's evaluators (:mod:`trainers.evaluators`: modes / HQ % / KL on mixtures, Stacked-MNIST modes / KL, ...);
* ``checkpoint.pt``: state dicts of the networks and optimizers, the method's own state (``extra_state``), the RNG
  states, the data order, the step (one per seed also when seeds train grouped, in the same format)
  (written atomically at every evaluation);
* at the end ``generator.pt2`` (a ``torch.export`` program, CPU, eval mode, any batch size), the same
  network as TorchScript ``generator.pt`` (for tools that read only TorchScript), ``generator.json`` (their
  latent spec, with reference, method, seed, steps), ``samples.npz`` (the final evaluation samples),
  ``EVALUATOR.npz`` where an evaluator keeps arrays of its last evaluation (IvOM's nearest images) and
  ``result.json``; see :func:`gan_eval.io.generator_files.save_generator`;
* ``train.lock``: held by the process training the run (:mod:`trainers.run_lock`), so a second one is refused.

Randomness: four CPU ``torch.Generator`` s seeded from (seed, purpose) by numpy's SeedSequence: model
init, training-set draw, data batches, noise. Evaluation draws its latents from a fifth generator that is
re-seeded at every evaluation and samples with the networks in eval mode (BatchNorm then neither uses nor
updates batch statistics), so evaluating never changes the training trajectory.

Divergence: a run whose evaluation samples are not all finite has diverged (its parameters are NaN or
overflow, and no later step brings them back; f-GAN's KL conjugate exp(v - 1) does this within 1,000 steps on
the mixtures). Training ends at the first evaluation where every run of the group has diverged, as if at the
budget: the export and ``result.json`` are written, with ``diverged_at`` (the first of the non-finite
evaluations the run ended on, else None); the run counts as finished, and an extension of it only re-exports.
A grouped seed that diverges alone trains on with the others (its slices of the stacked model cost the same
either way).

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
from trainers.datasets.base import Dataset
from trainers.evaluators import EvalInput, Evaluator, build_evaluators, headline
from trainers.methods import METHODS, Method, make_params
from trainers.grouped import merge_optimizer_states, split_optimizer_state
from trainers.methods.base import DataShape, params_record, resolved_params, stack_methods
from trainers.run_lock import LOCK_NAME, training_lock
from trainers.stepper import Stepper

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
    #: TF32 training matmuls on CUDA (:mod:`trainers.stepper`): other numbers, so part of the configuration.
    tf32: bool = False


@dataclass
class StepInfo:
    """What the loop reports after each step: losses as detached tensors (no device sync unless read);
    ``evaluation`` is the metrics line when this step was evaluated."""

    step: int
    steps: int
    losses: dict[str, torch.Tensor]
    evaluation: dict[str, Any] | None = None
    headline: tuple[str, ...] = ()
    #: Every grouped seed's metrics line at an evaluation step (``evaluation`` is the first seed's).
    evaluations: list[dict[str, Any]] | None = None


def derive_seeds(seed: int) -> dict[str, int]:
    """Independent 63-bit seeds per purpose from the run seed."""
    states = np.random.SeedSequence([seed, 0x6A9]).spawn(len(PURPOSES))
    return {p: int(s.generate_state(1, np.uint64)[0] >> np.uint64(1)) for p, s in zip(PURPOSES, states)}


def resolve_config(config: TrainConfig) -> dict[str, Any]:
    """The configuration with every default filled in (what ``config.json`` stores); a method that cannot take
    the dataset, or an evaluator that cannot score it, is a one-line :class:`GanEvalError` here, before any
    training."""
    return resolve(config)[0]


def resolve(config: TrainConfig) -> tuple[dict[str, Any], Dataset, list[Evaluator]]:
    """:func:`resolve_config` with the dataset and evaluators it built (a run uses them: built once)."""
    method_cls = METHODS.get(config.method)
    dataset = build_dataset(config.dataset, config.data_dir)
    params = resolved_params(config.method, config.params, dataset.kind, tuple(dataset.shape))
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
    if config.tf32 and torch.device(config.device).type != "cuda":
        raise GanEvalError(f"--tf32: TF32 is a CUDA matmul mode and changes nothing on {config.device}; drop --tf32 or train with --device cuda")
    resolved = {
        "method": config.method,
        "dataset": config.dataset,
        "seed": config.seed,
        "steps": steps,
        "train_size": config.train_size,
        "eval_every": config.eval_every,
        "eval_samples": config.eval_samples,
        "device": str(torch.device(config.device)),
        "params": params_record(params),
        "data": dataset.describe(),
        "data_dir": config.data_dir,
        "evaluators": [e.describe() for e in evaluators],
        **({"tf32": True} if config.tf32 else {}),  # absent when off: configurations from before the flag keep their hash
    }
    return resolved, dataset, evaluators


def check_method_builds(config: TrainConfig, dataset: Dataset) -> None:
    """Build the method's networks for ``dataset`` once on the CPU and drop them: an option its nets do not take
    (``width`` for a fixed-width net) is then a one-line :class:`GanEvalError` before any run of a table trains."""
    shape = DataShape(dataset.shape, dataset.kind, dataset.value_range)
    METHODS.get(config.method)(make_params(config.method, config.params), shape, torch.device("cpu")).setup(torch.Generator().manual_seed(0))


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

    def __init__(self, config: TrainConfig, run_dir: str | Path, like: Run | None = None) -> None:
        """``like``: a run of the same configuration but its seed, whose dataset and evaluators this one shares
        (grouped seeds: the data loaded and a FID reference computed once)."""
        self.dir = Path(run_dir)
        if like is None:
            self.config, self.dataset, self.evaluators = resolve(config)
        else:
            self.config = {**like.config, "seed": config.seed}
            self.dataset, self.evaluators = like.dataset, like.evaluators
        self.steps = self.config["steps"]
        self.device = torch.device(config.device)
        self.seeds = derive_seeds(config.seed)
        self.generators = {p: torch.Generator().manual_seed(self.seeds[p]) for p in ("init", "data", "noise")}
        params = make_params(config.method, config.params)
        shape = DataShape(self.dataset.shape, self.dataset.kind, self.dataset.value_range)
        self.method: Method = METHODS.get(config.method)(params, shape, self.device)
        self.method.run_steps = self.steps
        self.method.setup(self.generators["init"])
        #: This run's seed in ``self.method`` once :class:`Group` stacks several runs into one grouped method.
        self.index = 0
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

    def checkpoint(self, nets: dict[str, Any], optimizers: dict[str, Any], extra: dict[str, Any]) -> None:
        """Write ``checkpoint.pt``: this seed's networks, optimizer and method state (as an ungrouped run of
        it holds them), its RNG states and data order, and the step."""
        state = {
            "step": self.step,
            "elapsed": self.elapsed,
            "nets": nets,
            "optimizers": optimizers,
            "method": extra,
            "rng": {k: g.get_state() for k, g in self.generators.items()},
            "data": self.data.state_dict(),
        }
        with atomic_path(self.path("checkpoint.pt")) as tmp:
            torch.save(state, tmp)

    def read_checkpoint(self) -> dict[str, Any] | None:
        """The stored checkpoint, its RNG and data state restored into this run; None when there is none."""
        path = self.path("checkpoint.pt")
        if not path.exists():
            return None
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            for k, g in self.generators.items():
                g.set_state(state["rng"][k])
            self.data.load_state_dict(state["data"])
            self.step = int(state["step"])
            self.elapsed = float(state["elapsed"])
            state.setdefault("method", {})
            state["nets"], state["optimizers"]  # noqa: B018 (a checkpoint without them is unreadable)
        except (RuntimeError, KeyError, EOFError) as exc:
            raise GanEvalError(f"{path}: unreadable checkpoint ({str(exc).splitlines()[0]}); delete it to start over") from None
        self._truncate_metrics()
        return state

    def _truncate_metrics(self) -> None:
        """Drop metric lines written after the checkpoint (a kill between evaluation and checkpoint)."""
        path = self.path("metrics.jsonl")
        if path.exists():
            kept = [line for line in evaluation_lines(self.dir) if line["step"] <= self.step]
            # A line cut short by a kill is dropped too: the next evaluation's line would be appended onto it.
            if len(kept) != len(path.read_text(encoding="utf-8").splitlines()):
                write_with(path, lambda tmp: tmp.write_text("".join(json.dumps(k) + "\n" for k in kept), encoding="utf-8"))

    def append_metrics(self, line: dict[str, Any]) -> None:
        with open(self.path("metrics.jsonl"), "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")

    # --- evaluation and export -------------------------------------------------------------------
    def eval_samples(self, net: torch.nn.Module | None = None) -> torch.Tensor:
        """The evaluation samples: the same latents at every evaluation, from the eval seed (of ``net``, default
        this seed's generator)."""
        eval_generator = torch.Generator().manual_seed(self.seeds["eval"])
        return self.method.sample(self.config["eval_samples"], eval_generator, seed_index=self.index, net=net)

    def evaluate(self, losses: dict[str, float]) -> tuple[dict[str, Any], torch.Tensor]:
        generator = self.method.eval_generator(self.index)  # one copy, sampled and handed to the evaluators
        samples = self.eval_samples(generator)
        finite = bool(torch.isfinite(samples).all())
        evaluation = EvalInput(samples, generator, self.method.latent_spec(), self.seeds["eval"], self.device)
        values: dict[str, Any] = {}
        for evaluator in self.evaluators:
            values.update(evaluator(evaluation) if finite else evaluator.undefined())
        line = {"step": self.step, "elapsed_s": round(self.elapsed, 3), **losses, **values, "finite": finite}
        return line, samples

    def batch_statistics_note(self) -> str:
        """What the sidecar of a generator whose evaluation sampled with batch statistics says: the exported file runs
        its BatchNorm on the running statistics, as every generator file does (each sample its latent's alone,
        :mod:`gan_eval.io.generators`), so its samples are not those of ``samples.npz``."""
        return (f"batch statistics of batches of {self.method.batch_size} latents (samples.npz); this file uses the running "
                "statistics, one sample per latent")

    def export(self, samples: torch.Tensor, line: dict[str, Any]) -> dict[str, Any]:
        """Write generator.pt2 (+ .pt, .json), samples.npz and result.json (the run is then finished)."""
        spec = self.method.latent_spec()
        cfg = self.config
        value_range = self.dataset.value_range
        sidecar = LatentSpec(
            spec.latent_dim,
            spec.latent_distribution,
            value_range=None if value_range is None else "{:g},{:g}".format(*value_range),
            extra={"dataset": cfg["dataset"], "method": cfg["method"], "seed": cfg["seed"], "steps": self.step,
                   **({"evaluation_batchnorm": self.batch_statistics_note()} if self.method.sample_batch_statistics else {})},
        )
        written = save_generator(self.method.generator_of(self.index), sidecar, self.path("generator.pt2"))
        save_npz(self.path("samples.npz"), samples=samples.numpy())
        files = [p.name for p in written] + ["samples.npz"]
        for evaluator in self.evaluators:
            arrays = evaluator.artefacts(self.seeds["eval"])
            if arrays:
                files.append(save_npz(self.path(f"{evaluator.name}.npz"), **arrays).name)
        result = {
            "config": cfg,
            "step": self.step,
            "diverged_at": diverged_at(self.dir),
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
        if run_dir.is_dir() and any(p.name != LOCK_NAME for p in run_dir.iterdir()):
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


def evaluation_lines(run_dir: str | Path) -> list[dict[str, Any]]:
    """The evaluation lines of a run directory's ``metrics.jsonl`` in file order; none where it is absent. A line
    that does not parse (one a worker is still writing, or one a kill cut short) is skipped, so a reader never
    fails on a run that is training."""
    path = Path(run_dir) / "metrics.jsonl"
    lines = []
    for text in path.read_text(encoding="utf-8").splitlines() if path.is_file() else []:
        try:
            line = json.loads(text)
        except ValueError:
            continue
        if isinstance(line, dict) and isinstance(line.get("step"), int):
            lines.append(line)
    return lines


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """The evaluation lines of a run directory's ``metrics.jsonl``, in step order; an error where there are none."""
    lines = evaluation_lines(run_dir)
    if not lines:
        if not (Path(run_dir) / "metrics.jsonl").is_file():
            raise GanEvalError(f"{run_dir}: no metrics.jsonl; give a run directory written by `gan-eval train` or `reproduce`")
        raise GanEvalError(f"{Path(run_dir) / 'metrics.jsonl'}: no evaluation yet; train past the first --eval-every step")
    return sorted(lines, key=lambda line: line["step"])


def evaluated_step(run_dir: str | Path) -> int:
    """The last step in a run directory's ``metrics.jsonl`` (its last checkpoint), 0 if none yet."""
    lines = evaluation_lines(run_dir)
    return lines[-1]["step"] if lines else 0


def diverged_at(run_dir: str | Path) -> int | None:
    """The step from which every evaluation of the run in ``run_dir`` had samples not all finite, through its last
    one; None where the last was finite (or there is none)."""
    at = None
    for line in evaluation_lines(run_dir):
        at = (at or line["step"]) if line.get("finite") is False else None
    return at


def finished_result(run_dir: str | Path, config: dict[str, Any]) -> dict[str, Any] | None:
    """The result of the run in ``run_dir`` if it finished with exactly the resolved configuration ``config``
    (steps included: at that budget, or earlier where it diverged), else None."""
    path = Path(run_dir) / "result.json"
    if not path.exists():
        return None
    result = json.loads(path.read_text(encoding="utf-8"))
    at_budget = result.get("step") == config["steps"] or result.get("diverged_at") is not None
    return result if result.get("config") == config and at_budget else None


class Group:
    """Runs of one configuration but their seeds, trained as one method: the runs' own method when there is one
    run, else :func:`trainers.methods.base.stack_methods` of theirs (each seed initialised from its own init
    generator; one stacked optimizer; per-seed data, noise and evaluation generators), so each seed follows the
    run it would have taken alone, to float round-off. Checkpoints stay per seed and in the ungrouped format."""

    def __init__(self, runs: list[Run]) -> None:
        self.runs = runs
        if len(runs) == 1:
            self.method = runs[0].method
        else:
            self.method = stack_methods([run.method for run in runs])
            for index, run in enumerate(runs):
                run.method, run.index = self.method, index
        self.device = runs[0].device

    def batch(self, n: int) -> torch.Tensor:
        """``n`` training samples of every seed, from each run's data generator ([S, n, ...] when grouped), on the CPU."""
        dtype = torch.get_default_dtype()  # float32 unless a test asks for float64
        if not self.method.grouped:
            run = self.runs[0]
            return run.data.batch(n, run.generators["data"]).to(dtype=dtype)
        return torch.stack([run.data.batch(n, run.generators["data"]) for run in self.runs]).to(dtype=dtype)

    def noise(self) -> torch.Generator | list[torch.Generator]:
        generators = [run.generators["noise"] for run in self.runs]
        return generators if self.method.grouped else generators[0]

    def save_checkpoints(self) -> None:
        method = self.method
        if not method.grouped:
            nets = [method.nets.state_dict()]
            optimizers = [{k: o.state_dict() for k, o in method.opt.items()}]
            extras = [method.extra_state()]
        else:
            size = len(self.runs)
            per_net = {name: net.state_dicts() for name, net in method.nets.items()}
            nets = [{f"{name}.{key}": value for name, states in per_net.items() for key, value in states[i].items()} for i in range(size)]
            split = {k: split_optimizer_state(o.state_dict(), size) for k, o in method.opt.items()}
            optimizers = [{k: states[i] for k, states in split.items()} for i in range(size)]
            extra = method.extra_state()
            extras = [{k: v[i] for k, v in extra.items()} for i in range(size)]
        for run, net_state, opt_state, extra_state in zip(self.runs, nets, optimizers, extras):
            run.checkpoint(net_state, opt_state, extra_state)

    def load_checkpoints(self) -> None:
        """Resume every run from its checkpoint (all or none of a group's runs have one, at one step)."""
        states = [run.read_checkpoint() for run in self.runs]
        present = [s is not None for s in states]
        if not any(present):
            return
        steps = {run.step for run in self.runs}
        if not all(present) or len(steps) > 1:
            where = ", ".join(f"{run.dir.name}: {run.step if ok else 'none'}" for run, ok in zip(self.runs, present))
            raise GanEvalError(f"grouped seeds resume from checkpoints of one step, but they are at ({where}); train these seeds separately")
        method = self.method
        try:
            if not method.grouped:
                (state,) = states
                method.nets.load_state_dict(state["nets"])
                for k, o in method.opt.items():
                    o.load_state_dict(state["optimizers"][k])
                method.load_extra_state(state["method"])
                return
            for name, net in method.nets.items():
                for i, state in enumerate(states):
                    net.load_unstacked(i, {k[len(name) + 1:]: v for k, v in state["nets"].items() if k.startswith(name + ".")})
            for k, o in method.opt.items():
                o.load_state_dict(merge_optimizer_states([state["optimizers"][k] for state in states]))
            extra = states[0]["method"]
            method.load_extra_state({k: torch.stack([state["method"][k] for state in states]) for k in extra})
        except GanEvalError as exc:  # the method's own refusal of this resume (a decay the extended run would outlast)
            raise GanEvalError(f"{self.runs[0].dir}: {exc}") from None
        except (RuntimeError, KeyError, ValueError) as exc:
            raise GanEvalError(f"{self.runs[0].dir}: checkpoint does not fit the method ({str(exc).splitlines()[0]}); delete it to start over") from None


def check_group(configs: list[TrainConfig]) -> None:
    """Seeds train as one group only when everything but the seed is the same, and each seed once."""
    seeds = [c.seed for c in configs]
    if len(set(seeds)) != len(seeds):
        raise GanEvalError(f"seeds {', '.join(map(str, seeds))}: a seed is given twice; list each seed once")
    first = dataclasses.replace(configs[0], seed=0)
    for config in configs[1:]:
        if dataclasses.replace(config, seed=0) != first:
            raise GanEvalError(f"seed {config.seed}: its configuration differs from seed {configs[0].seed}'s beyond the seed; only such runs train as one group")


def train(
    config: TrainConfig,
    run_dir: str | Path,
    *,
    callback: Callable[[StepInfo], None] | None = None,
    stop_after: int | None = None,
    cuda_graph: bool | None = None,
) -> dict[str, Any] | None:
    """Train (or resume, or extend) the run in ``run_dir``; returns ``result.json``'s content.

    ``callback`` is called after every step (the CLI's progress bar). ``stop_after`` ends the loop after
    that step without finishing the run, exactly as a kill would (tests); then None is returned.
    ``cuda_graph`` (default: on CUDA) replays the step as a CUDA graph (:mod:`trainers.stepper`).
    """
    return train_seeds([config], [run_dir], callback=callback, stop_after=stop_after, cuda_graph=cuda_graph)[0]


def train_seeds(
    configs: list[TrainConfig],
    run_dirs: list[str | Path],
    *,
    callback: Callable[[StepInfo], None] | None = None,
    stop_after: int | None = None,
    cuda_graph: bool | None = None,
) -> list[dict[str, Any] | None]:
    """Train the runs of several seeds of one configuration as one grouped model (:class:`Group`); each seed
    keeps its own run directory, checkpoints, export and result, as :func:`train` writes them. Finished runs
    are returned as they are and not trained again. A run another process is training is a one-line
    :class:`GanEvalError` before any file of these runs is read or written (:mod:`trainers.run_lock`)."""
    check_group(configs)
    results: list[dict[str, Any] | None] = [None] * len(configs)
    every: list[Run] = []
    first: Run | None = None
    for config, run_dir in zip(configs, run_dirs):
        first = Run(config, run_dir, like=first)
        check_stored_config(first.dir, first.config, RESUMABLE_CHANGES)  # a foreign folder is refused untouched
        every.append(first)
    for run in every:
        run.dir.mkdir(parents=True, exist_ok=True)
    with training_lock(run.dir for run in every):  # before a file of the runs is read or written
        runs = []
        for i, run in enumerate(every):
            run.open_directory()
            stored = evaluated_step(run.dir)
            if stored > run.steps:
                raise GanEvalError(f"{run.dir}: already trained {stored} steps, more than the {run.steps} asked; ask for at least {stored}")
            done = finished_result(run.dir, run.config)
            if done is not None and stored == done["step"]:
                results[i] = done
            else:
                runs.append((i, run))
        if not runs:
            return results
        group = Group([run for _, run in runs])
        group.load_checkpoints()
        if group.runs[0].step > group.runs[0].steps:  # metrics.jsonl lost but the checkpoint is further on
            run = group.runs[0]
            raise GanEvalError(f"{run.dir}: already trained {run.step} steps, more than the {run.steps} asked; ask for at least {run.step}")
        stepper = Stepper(group.method, graph=cuda_graph, tf32=configs[0].tf32)
        for (i, run), result in zip(runs, _train_group(group, stepper, callback, stop_after)):
            results[i] = result
    return results


def _train_group(group: Group, stepper: Stepper, callback: Callable[[StepInfo], None] | None, stop_after: int | None) -> list[dict[str, Any] | None]:
    runs, method = group.runs, group.method
    lead = runs[0]
    steps, eval_every = lead.steps, lead.config["eval_every"]
    sums: dict[str, torch.Tensor] = {}
    count = 0
    lines: list[dict[str, Any] | None] = [None] * len(runs)
    samples: list[torch.Tensor | None] = [None] * len(runs)
    started = time.perf_counter() - lead.elapsed
    step = lead.step
    if step and all(diverged_at(run.dir) is not None for run in runs):  # resumed after its divergence stopped it
        steps = step
    while step < steps:
        losses = stepper.step(group.batch, group.noise())
        step += 1
        for run in runs:
            run.step = step
        for k, v in losses.items():
            sums[k] = sums[k] + v if k in sums else v
        count += 1
        evaluation = None
        if step % eval_every == 0 or step == steps:
            elapsed = time.perf_counter() - started
            for i, run in enumerate(runs):
                run.elapsed = elapsed
                mean_losses = {k: float(v[i] if method.grouped else v) / count for k, v in sums.items()}
                lines[i], samples[i] = run.evaluate(mean_losses)
                run.append_metrics(lines[i])
                save_json(run.path("environment.json"), environment(run.device) | stepper.describe())
            group.save_checkpoints()
            sums, count = {}, 0
            evaluation = lines[0]
        if callback is not None:
            callback(StepInfo(step, steps, losses, evaluation, headline(lead.evaluators), lines if evaluation else None))
        if stop_after is not None and step >= stop_after:
            return [None] * len(runs)
        if evaluation is not None and not any(line["finite"] for line in lines if line is not None):
            break  # every run diverged: the steps left would train NaNs (module docstring)
    results = []
    for i, run in enumerate(runs):
        if samples[i] is None:  # resumed at the last step's checkpoint but killed before the export
            samples[i] = run.eval_samples()
            lines[i] = read_metrics(run.dir)[-1]
        results.append(run.export(samples[i], lines[i]))
    return results
