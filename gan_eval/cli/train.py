"""``gan-eval train`` and ``gan-eval reproduce``: the reference trainers (imported lazily, so ``--help`` stays fast)."""
from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path
from typing import List, Optional

import typer

from gan_eval.cli.app import PROGRESS, app, resolve_device
from gan_eval.cli.render import dataclass_options
from gan_eval.errors import GanEvalError
from gan_eval.options import parse_settings


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def train(
    ctx: typer.Context,
    method: str = typer.Argument(..., help="A training method (`gan-eval methods` lists them with their hyper-parameters)."),
    dataset: str = typer.Option("ring8", "--dataset", "--data", "-d", help="A known mixture (`gan-eval references`) or a dataset (`gan-eval datasets`), e.g. stacked-mnist."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Folder holding the dataset's files (image datasets)."),
    evaluators: Optional[List[str]] = typer.Option(None, "--eval", help="Evaluator NAME[:key=value,...] (repeatable; default: the dataset's; `gan-eval datasets`), e.g. fid:features=inception."),
    seed: int = typer.Option(0, "--seed"),
    seeds: Optional[str] = typer.Option(None, "--seeds", help="Several seeds trained as one grouped model, each to its own run folder: 0-9, 0,2,5 or 0-3,8."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Iterations (default: the paper's budget)."),
    train_size: Optional[int] = typer.Option(None, "--train-size", help="Fixed training set of N samples drawn once (default: the dataset's own; fresh samples of a known distribution)."),
    eval_every: int = typer.Option(1000, "--eval-every", help="Evaluate (the evaluators' scores) and checkpoint every N steps."),
    eval_samples: int = typer.Option(2500, "--eval-samples", help="Samples per evaluation (VEEGAN: 2,500)."),
    out: Path = typer.Option(Path("runs"), "--out", "-o", help="Parent folder; the run goes to OUT/METHOD[-KEYVALUE...]-DATASET-sSEED."),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:N or auto."),
    threads: int = typer.Option(1, "--threads", help="torch CPU threads (1 is fastest for these small networks)."),
    cuda_graph: Optional[bool] = typer.Option(None, "--cuda-graph/--no-cuda-graph", help="Replay each step as a CUDA graph (default: on CUDA; same numbers)."),
    tf32: bool = typer.Option(False, "--tf32", help="TF32 training matmuls on CUDA (faster, other numbers; recorded in config.json)."),
    settings: Optional[List[str]] = typer.Option(None, "--set", "-s", help="Hyper-parameter key=value (repeatable); or --key value."),
    progress: bool = PROGRESS,
) -> None:
    """Train one method on one dataset; resumes from OUT/... if a checkpoint is there.

    Hyper-parameters are flags too: `gan-eval train pacgan --pack 3 --lr 2e-4`. `--seeds 0-9` trains ten seeds as
    one stacked model (one process; on a GPU many times the throughput of ten runs), each seed in its own folder."""
    import dataclasses

    from trainers.curves import plot_curves
    from trainers.evaluators import describe_values
    from trainers.grouped import parse_seeds
    from trainers.host import configure_training_process
    from trainers.loop import TrainConfig, train_seeds

    configure_training_process(threads)
    if seeds is not None and seed != 0:
        raise GanEvalError(f"--seed {seed} and --seeds {seeds}: give one of them")
    seed_list = [seed] if seeds is None else parse_seeds(seeds)

    params = {**parse_settings(settings), **parse_flags(ctx.args)}
    config = TrainConfig(
        method, dataset, seed_list[0], steps, train_size, eval_every, eval_samples, str(resolve_device(device)), params,
        data_dir=None if data_dir is None else str(data_dir), evaluators=tuple(evaluators) if evaluators else None, tf32=tf32,
    )
    configs = [dataclasses.replace(config, seed=s) for s in seed_list]
    run_dirs = [out / f"{run_stem(method, params, dataset)}-s{s}" for s in seed_list]
    report = _TrainReport(config, progress, len(seed_list))
    try:
        results = train_seeds(configs, run_dirs, callback=report.update, cuda_graph=cuda_graph)
    finally:
        report.close()
    for run_dir, result in zip(run_dirs, results):
        plot_curves([run_dir], run_dir / "curves.png")
        stopped = f" (diverged at step {result['diverged_at']}: training stopped)" if result.get("diverged_at") else ""
        typer.echo(f"{run_dir}: step {result['step']}{stopped}: {describe_values(result['values'], result['headline'])}")
    names = ", ".join(results[0]["files"])
    typer.echo(f"wrote {', '.join(f'{d}/' for d in run_dirs)}: {names}, metrics.jsonl, curves.png, result.json")


def run_stem(method: str, params: dict[str, str], dataset: str) -> str:
    """``METHOD[-KEYVALUE...]-DATASET``, a run folder's name before ``-sSEED``, from the flags as typed (``gan-ring8``,
    ``gan-lr1e-4-ring8``): the dataset spec's ``:`` and ``,`` as ``-``, its ``=`` dropped. It is one path component
    under --out: a ``/`` or ``\\`` (a dataset's file path, a value) becomes ``-`` (``npz:path=/tmp/real.npz`` once
    made ``gan-npz-path/tmp/real.npz-s0``, nested, and a ``../`` left --out), and names without one are today's, so
    killed runs resume in their folders. Holding ``-DATASET``, it is never ``.`` or ``..``, and it begins with the
    method, which is refused before any folder is made unless registered (no name starts with ``.``)."""
    tag = "".join(f"-{k}{v}" for k, v in sorted(params.items()))
    stem = f"{method}{tag}-{dataset.replace(':', '-').replace(',', '-').replace('=', '')}"
    return stem.replace("/", "-").replace("\\", "-")


def parse_flags(args: list[str]) -> dict[str, str]:
    """Hyper-parameters given as ``--key value`` or ``--key=value`` (``-`` and ``_`` alike)."""
    params: dict[str, str] = {}
    items = iter(args)
    for item in items:
        if not item.startswith("--") or len(item) == 2:
            raise GanEvalError(f"unexpected argument {item!r}; hyper-parameters go as --key value or --set key=value")
        key, sep, value = item[2:].partition("=")
        if not sep:
            value = next(items, None)
            if value is None or value.startswith("--"):
                raise GanEvalError(f"--{key} needs a value, e.g. --{key} 3")
        params[key.replace("-", "_")] = value
    return params


@app.command()
def methods() -> None:
    """List the training methods, their paper budgets and hyper-parameters with defaults."""
    from trainers.methods import METHODS

    for name in METHODS:
        method = METHODS.get(name)
        typer.echo(f"{name} (paper budget: {method.default_steps:,} iterations); hyper-parameters, as --key value:")
        # a plain wrap would split "name=value (type)" items; NBSP keeps each item whole
        items = ", ".join(item.replace(" ", "\u00a0") for item in dataclass_options(method.Params))
        typer.echo(textwrap.fill(items, width=100, initial_indent="  ", subsequent_indent="  ").replace("\u00a0", " "))
        if method.defaults_by_kind:
            kinds = ", ".join(f"{key}\u00a0{vector}\u00a0|\u00a0{image}" for key, (vector, image) in method.defaults_by_kind.items())
            typer.echo(textwrap.fill(f"None = the reference's default on vectors | on images: {kinds}", width=100, initial_indent="  ",
                                     subsequent_indent="  ").replace("\u00a0", " "))


@app.command()
def datasets() -> None:
    """List the training datasets, the evaluators that score training runs, and the losses methods can use."""
    import sys

    from trainers.datasets import DATASETS
    from trainers.evaluators import EVALUATORS
    from trainers.losses import LOSSES

    typer.echo("datasets (--dataset NAME[:key=value,...] --data-dir DIR):")
    for name in DATASETS:
        doc = " ".join((sys.modules[DATASETS.get(name).__module__].__doc__ or "").strip().split("\n\n")[0].split())
        typer.echo(f"  {name}: {doc.removeprefix(f'``{name}``: ').split(';')[0].rstrip('.:')}")
    typer.echo("  any known mixture (`gan-eval references`): ring8, grid25, hd1200, moons, ring:n=6,... (no --data-dir)")
    typer.echo("evaluators (--eval NAME[:key=value,...], repeatable):")
    for name in EVALUATORS:
        evaluator = EVALUATORS.get(name)
        # fid's keys are set per instance (fid and/or kid, as its options ask), so a class may have none
        keys = getattr(evaluator, "keys", None) or ("chosen by its options",)
        options = [f.name for f in dataclasses.fields(evaluator.Options)]
        typer.echo(f"  {name}: {', '.join(keys)}" + (f" (options: {', '.join(options)})" if options else ""))
    typer.echo(f"losses (--loss NAME, methods gan/pacgan/dcgan): {', '.join(LOSSES.names())}")


@app.command()
def curves(
    runs: List[Path] = typer.Argument(..., help="Run directories (from `train` or `reproduce`'s runs/)."),
    out: Path = typer.Option(Path("curves.png"), "--out", "-o", help="PNG to write."),
) -> None:
    """Plot modes, HQ % and losses against iterations, one line per run."""
    from gan_eval.plotting import check_figure_path
    from trainers.curves import plot_curves

    typer.echo(f"wrote {plot_curves(runs, check_figure_path(out))}")


class _TrainReport:
    """On stderr: the budget line (iterations, the paper's budget, a rough time estimate) when training starts,
    then progress over steps showing the last evaluation."""

    def __init__(self, config, enabled: bool, seeds: int = 1) -> None:  # noqa: ANN001 (trainers.loop.TrainConfig, imported lazily)
        self.config = config
        self.enabled = enabled
        self.seeds = seeds
        self.progress = None

    def update(self, info) -> None:  # noqa: ANN001 (trainers.loop.StepInfo)
        if self.progress is None:
            typer.echo(budget_line(self.config, info.step - 1, info.steps, self.seeds), err=True)
            from gan_eval.progress import Progress

            self.progress = Progress(info.steps, "train", initial=info.step - 1, enabled=self.enabled)
        if info.evaluation is not None:
            from trainers.evaluators import describe_values

            self.progress.set_postfix(describe_values(info.evaluation, info.headline))
        self.progress.update()
        if info.step == info.steps:
            self.progress.close()  # before the export, so the last line times the training

    def close(self) -> None:
        if self.progress is not None:
            self.progress.close()


def budget_line(config, start: int, steps: int, seeds: int = 1) -> str:  # noqa: ANN001 (trainers.loop.TrainConfig)
    """``train veegan on ring8 (seed 0): 100,000 iterations (the paper's budget; ...); about 0:16:40 ...``."""
    from trainers.datasets import build_dataset
    from trainers.methods import METHODS
    from trainers.methods.base import params_record, resolved_params
    from trainers.reproduce import estimate_note, run_ms

    paper = METHODS.get(config.method).default_steps
    budget = "the paper's budget; --steps N for a shorter run" if config.steps is None else f"paper: {paper:,}"
    resumed = f", resuming at step {start:,}" if start else ""
    dataset = build_dataset(config.dataset, config.data_dir)
    params = params_record(resolved_params(config.method, config.params, dataset.kind, tuple(dataset.shape)))
    ms = run_ms(config.method, params, tuple(dataset.shape), dataset.name, start, steps, config.eval_every, config.eval_samples)
    if ms is None:
        estimate = f"no time estimate for {config.method} on images (not counted by trainers.step_cost)"
    else:
        estimate = estimate_note(seeds * ms / 1000, config.device)
    who = f"seed {config.seed}" if seeds == 1 else f"{seeds} seeds grouped"
    return (
        f"train {config.method} on {config.dataset} ({who}): {steps:,} iterations ({budget}){resumed};"
        f" {estimate}"
    )


@app.command()
def reproduce(
    table: str = typer.Argument(..., help="One of veegan-table1, veegan-table2, veegan-ivom, pacgan-table1, pacgan-table2, pacgan-table3, bms-table1, bms-cifar10, bms-celeba, moons-latent-dim, mode-collapse-mini or mode-collapse-mini-family."),
    seeds: Optional[int] = typer.Option(None, "--seeds", help="Seeds per cell (default: the paper's: 5 or 10)."),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Runs in parallel (one process each; per rank under torchrun)."),
    out: Path = typer.Option(Path("results"), "--out", "-o", help="Folder for runs/, TABLE.md, TABLE.json, TABLE.png."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Iterations per run (default: the table's budget)."),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:N or auto."),
    threads: int = typer.Option(1, "--threads", help="torch threads per run."),
    rows: Optional[List[str]] = typer.Option(None, "--rows", help="Only this row (repeatable), e.g. --rows VEEGAN."),
    datasets: Optional[List[str]] = typer.Option(None, "--datasets", help="Only this column (repeatable), e.g. --datasets ring8."),
    group_seeds: Optional[bool] = typer.Option(None, "--group-seeds/--no-group-seeds", help="Train a cell's seeds as one grouped model (default: on CUDA)."),
    cuda_graph: Optional[bool] = typer.Option(None, "--cuda-graph/--no-cuda-graph", help="Replay each step as a CUDA graph (default: on CUDA; same numbers)."),
    tf32: bool = typer.Option(False, "--tf32", help="TF32 training matmuls on CUDA (other numbers: part of each run's configuration)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="The dataset's folder (Stacked-MNIST tables: the four MNIST files; CIFAR-10 tables: the one holding cifar-10-batches-bin or -py; bms-celeba: img_align_celeba)."),
    eval_every: Optional[int] = typer.Option(None, "--eval-every", help="Iterations between evaluations (default: a tenth of the budget)."),
    eval_samples: Optional[int] = typer.Option(None, "--eval-samples", help="Samples each evaluation scores (default: the paper's, e.g. 26,000); stated in the table."),
    settings: Optional[List[str]] = typer.Option(None, "--set", "-s", help="Hyper-parameter key=value of every run (repeatable), e.g. width=8, or an evaluator's option EVALUATOR:key=value, e.g. fid:reference_n=500; stated in the table."),
    weights: Optional[Path] = typer.Option(None, "--weights", help="FID Inception weights file (pt_inception-2015-12-05-6726825d.pth) for the FID tables; default $GAN_EVAL_INCEPTION_WEIGHTS, then torch hub's cache, as `score`."),
    as_json: bool = typer.Option(False, "--json", help="Print the JSON summary instead of the Markdown table."),
    progress: bool = PROGRESS,
) -> None:
    """Re-run a paper's table (finished runs are kept), print ours beside the paper's, write Markdown, JSON, figure.

    Across GPUs and machines: `torchrun --nproc-per-node G -m gan_eval reproduce TABLE --device cuda ...` (each
    rank trains whole cells on its GPU; rank 0 writes and prints the table; --out on a shared filesystem)."""
    import json

    from trainers.distributed import speaks
    from trainers.reproduce import ConsoleReport
    from trainers.reproduce import reproduce as run_table

    report = ConsoleReport(progress and speaks())
    try:
        summary = run_table(table, out, seeds=seeds, jobs=jobs, steps=steps, device=str(resolve_device(device)), threads=threads, rows=rows, datasets=datasets, group_seeds=group_seeds, cuda_graph=cuda_graph, tf32=tf32,
                            data_dir=data_dir, eval_every=eval_every, overrides=parse_settings(settings),
                            eval_samples=eval_samples, weights=weights, **report.callbacks())
    except GanEvalError:
        if not speaks():  # rank 0 says it once for every rank of a torchrun launch
            raise typer.Exit(2) from None
        raise
    finally:
        report.close()
    if summary is None:  # a rank > 0 of a torchrun launch: rank 0 prints the table
        return
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    typer.echo(Path(summary["files"]["markdown"]).read_text(encoding="utf-8"))
    typer.echo("\n".join(f"wrote {p}" for p in summary["files"].values()))
