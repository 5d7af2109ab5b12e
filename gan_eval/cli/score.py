"""``gan-eval score`` and ``gan-eval metrics``."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from gan_eval.cli.app import (
    EXTRACTOR_WEIGHTS, FACTORY_ARGS, GENERATOR_WEIGHTS, LATENT_DIM, LATENT_DISTRIBUTION, PROGRESS, RANGE, REFERENCE_RANGE, SKIP_UNREADABLE, app,
    positive_option, resolve_device,
)
from gan_eval.cli.render import dataclass_options, render, render_results, table
from gan_eval.errors import GanEvalError
from gan_eval.options import parse_settings
from gan_eval.progress import progress_wrapper


@app.command()
def score(
    samples: Path = typer.Argument(..., help="Samples file (.npz, .npy, .pt), a folder of images, or a generator: torch.export .pt2, TorchScript .pt or pkg.module:factory."),
    metric: str = typer.Option("modes", "--metric", "-m", help="A registered metric, or several comma-separated (fid,kid,prdc: one feature pass for all; see `gan-eval metrics`)."),
    reference: Optional[str] = typer.Option(None, "--reference", "-r", help="What to compare against: a mixture name, a file."),
    features: Optional[str] = typer.Option(None, "--features", help="Feature extractor or pkg.module:factory (default: the one a statistics reference records, else the metric's; see `gan-eval metrics`)."),
    key: Optional[str] = typer.Option(None, "--key", help="Array name inside an .npz/.pt holding several."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda or cuda:N."),
    seed: int = typer.Option(0, "--seed", help="Seed of every random choice the metric makes."),
    batch_size: int = positive_option(10_000, "--batch-size", what="samples per batch", help="Samples per batch."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="File for a metric's figure or arrays."),
    settings: Optional[List[str]] = typer.Option(None, "--set", "-s", help="Metric option key=value (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables."),
    progress: bool = PROGRESS,
    n: Optional[int] = typer.Option(None, "-n", help="Samples to draw from a generator (seeded by --seed), or the first N of a file."),
    latent_dim: Optional[int] = LATENT_DIM,
    latent_distribution: Optional[str] = LATENT_DISTRIBUTION,
    generator_weights: Optional[str] = GENERATOR_WEIGHTS,
    factory_args: Optional[List[str]] = FACTORY_ARGS,
    value_range: str = RANGE,
    reference_range: str = REFERENCE_RANGE,
    weights: Optional[Path] = EXTRACTOR_WEIGHTS,
    skip_unreadable: bool = SKIP_UNREADABLE,
) -> None:
    """Score samples with a metric, or several in one feature pass; under torchrun the ranks share the samples."""
    # here, not at the top: --help needs no torch
    from gan_eval.api import score as score_samples
    from gan_eval.metrics import MetricResult
    from gan_eval.stats.dist import check_ranks_agree, init_from_env, speaks

    init_from_env()
    metric_settings = parse_settings(settings)
    if "batch_size" in metric_settings:  # score's own keyword: passed on, it would collide with --batch-size's
        raise GanEvalError(f"--set batch_size={metric_settings['batch_size']}: a feature metric's batch is score's "
                           "--batch-size (images per extractor pass: the smaller of it and 128); use --batch-size")
    check_ranks_agree({
        "SAMPLES": samples, "--metric": [m.strip() for m in metric.split(",")], "--reference": reference, "--features": features,
        "--weights": weights, "--key": key, "--seed": seed, "-n": n, "--set": metric_settings, "--latent-dim": latent_dim,
        "--latent-distribution": latent_distribution, "--generator-weights": generator_weights, "--factory-arg": factory_args,
        "--range": value_range, "--reference-range": reference_range, "--skip-unreadable": skip_unreadable,
    })
    result = score_samples(
        samples,
        metric,
        reference,
        features=features,
        device=resolve_device(device),
        seed=seed,
        batch_size=batch_size,
        output=out,
        key=key,
        n=n,
        latent_dim=latent_dim,
        latent_distribution=latent_distribution,
        generator_weights=generator_weights,
        factory_args=factory_args or (),
        progress=progress_wrapper(progress),  # on stderr, so --json stays parseable
        value_range=value_range,
        reference_range=reference_range,
        weights=weights,
        skip_unreadable=skip_unreadable,
        **metric_settings,
    )
    if not speaks():
        return
    if as_json:
        typer.echo(result.to_json())
    else:
        typer.echo(render(result, str(samples)) if isinstance(result, MetricResult) else render_results(result, str(samples)))


@app.command()
def metrics() -> None:
    """List the registered metrics, the feature extractor each uses without --features, and their options."""
    from gan_eval.metrics import METRICS

    rows = []
    for name in METRICS:
        spec = METRICS.get(name)
        rows.append(
            [
                name,
                "yes" if spec.needs_reference else "no",
                spec.default_features or "-",
                spec.summary,
                ", ".join(dataclass_options(spec.options)) or "-",
            ]
        )
    typer.echo(table(["metric", "reference", "features (default)", "what", "options (--set key=value)"], rows))
