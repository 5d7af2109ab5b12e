"""``gan-eval stats``: feature statistics of images (a folder or an array file), saved for later scoring."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from gan_eval.cli.app import EXTRACTOR_WEIGHTS, PROGRESS, RANGE, SKIP_UNREADABLE, app, positive_option, resolve_device
from gan_eval.errors import GanEvalError, own_flags
from gan_eval.progress import progress_wrapper


@app.command()
def stats(
    path: Path = typer.Argument(..., help="A folder of PNG/JPG images, or an .npz/.npy/.pt array of images."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output statistics .npz."),
    name: Optional[str] = typer.Option(
        None, "--name", help="Keep them in the user cache under this name, for `--reference NAME` (listed by `gan-eval references`)."
    ),
    features: Optional[str] = typer.Option(None, "--features", help="Feature extractor (default inception), or pkg.mod:factory."),
    layer: Optional[str] = typer.Option(None, "--layer", help="Feature layer (default pool)."),
    resize: Optional[str] = typer.Option(
        None, "--resize", help="Resize of the features' network: inception tf1 (default) or clean; mnist crop (default) or resize."
    ),
    weights: Optional[Path] = EXTRACTOR_WEIGHTS,
    value_range: str = RANGE,
    key: Optional[str] = typer.Option(None, "--key", help="Array name inside an .npz/.pt holding several."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda or cuda:N."),
    batch_size: int = positive_option(128, "--batch-size", what="images per extractor pass", help="Images per extractor pass."),
    keep_features: bool = typer.Option(False, "--keep-features", help="Also store the features (KID needs them)."),
    progress: bool = PROGRESS,
    skip_unreadable: bool = SKIP_UNREADABLE,
) -> None:
    """Mean, covariance and float64 sums of image features, with the extractor, weights hash and resize recorded."""
    from gan_eval.features.resolve import check_layer, default_layer, make_extractor
    from gan_eval.io.samples import as_source
    from gan_eval.io.stats_file import save_stats
    from gan_eval.references.given import named_path
    from gan_eval.stats.collect import collect_statistics
    from gan_eval.stats.dist import check_ranks_agree, init_from_env, speaks

    if (out is None) == (name is None):
        raise GanEvalError("gan-eval stats: give one of --out FILE.npz and --name NAME (a reference kept in the user cache)")
    out = out if out is not None else named_path(name)
    init_from_env()  # under torchrun each rank passes its share and the sums are reduced; rank 0 writes
    check_ranks_agree({
        "PATH": path, "--features": features, "--layer": layer, "--resize": resize, "--weights": weights,
        "--range": value_range, "--key": key, "--keep-features": keep_features, "--skip-unreadable": skip_unreadable,
    })
    dev = resolve_device(device)
    with own_flags({"resize": "--resize", "layer": "--layer"}):  # the settings score takes as --set, stats as flags
        extractor = make_extractor(features, dev, weights, resize=resize)
        chosen = check_layer(extractor, layer) if layer else default_layer(extractor, ("pool",))
        result, kept = collect_statistics(
            as_source(path, key, skip_unreadable=skip_unreadable), extractor, chosen, batch_size=batch_size, device=dev,
            value_range=value_range, progress=progress_wrapper(progress), keep_features=keep_features,
        )
    if not speaks():
        return
    save_stats(out, result, kept)
    described = extractor.describe()
    typer.echo(
        f"wrote {out}{f' (reference {name})' if name else ''}: {result.count} images, {result.dim}-d {described['name']} {chosen} features"
        + (f", resize {described['resize']}" if "resize" in described else "")
        + (" (features kept)" if keep_features else "")
        + f"; values {result.meta['value_range']} ({result.meta['value_range_from']})"
        + (f"; skipped {result.meta.get('skipped_unreadable', 0)} unreadable files" if skip_unreadable else "")
    )
