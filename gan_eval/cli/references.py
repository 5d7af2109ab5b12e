"""``gan-eval references``, ``gan-eval sample-reference`` and ``gan-eval plot``."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from gan_eval.cli.app import app, positive_option
from gan_eval.cli.render import table


@app.command()
def references() -> None:
    """List the known references and the families you can parametrise."""
    from gan_eval.references import FAMILIES, REFERENCES, get_reference
    from gan_eval.references.given import named_dir, named_references

    rows = []
    for name in REFERENCES:
        info = get_reference(name).describe()
        extra = {k: v for k, v in info.items() if k not in ("name", "dim", "modes", "std", "support_dim", "default_threshold_std")}
        params = ", ".join(f"{k}={v}" for k, v in extra.items() if k != "shifts") or "-"
        rows.append([name, info["dim"], info["modes"], info["std"], info["default_threshold_std"], params])
    typer.echo(table(["reference", "dim", "modes", "std", "HQ k", "parameters"], rows))
    typer.echo("\nyour own: " + ", ".join(f"{name}:key=value,..." for name in FAMILIES) + "  e.g. ring:n=6,radius=2,std=0.02")
    named = named_references()
    if named:
        rows = [[name, meta.get("n", "-"), _features_of(meta), meta.get("layer", "-"), meta.get("source", "-")] for name, meta in named.items()]
        typer.echo(f"\nnamed statistics in {named_dir()} (`gan-eval stats DIR --name NAME`, then --reference NAME):\n"
                   + table(["reference", "n", "features", "layer", "made from"], rows))


def _features_of(meta: dict) -> str:
    if meta.get("damaged"):
        return "(damaged file)"
    extractor = meta.get("extractor") or {}
    return f"{extractor.get('name', '-')} ({extractor['weights'][:12]})" if extractor.get("weights") else str(extractor.get("name", "-"))


@app.command("sample-reference")
def sample_reference(
    name: str = typer.Argument(..., help="A reference name or family spec (see `gan-eval references`)."),
    n: int = positive_option(2500, "-n", what="the number of samples", help="Number of samples."),
    seed: int = typer.Option(0, "--seed"),
    out: Path = typer.Option(..., "--out", "-o", help="Output .npz (array 'samples') or .npy."),
) -> None:
    """Draw real samples from a reference, deterministically from a seed."""
    from gan_eval.io.samples import check_samples_target, save_samples
    from gan_eval.references import get_reference

    check_samples_target(out)
    reference = get_reference(name)
    save_samples(out, reference.sample(n, seed).numpy())
    typer.echo(f"wrote {out}: {n} x {reference.dim} samples of {reference.name} (seed {seed})")


@app.command()
def plot(
    samples: Path = typer.Argument(..., help="Samples file (.npz, .npy, .pt)."),
    reference: str = typer.Option(..., "--reference", "-r", help="The reference whose modes are drawn."),
    out: Path = typer.Option(..., "--out", "-o", help="Output image (.png, .pdf, .svg)."),
    key: Optional[str] = typer.Option(None, "--key"),
    threshold_std: Optional[float] = positive_option(None, "--threshold-std", what="k of the HQ rule", help="k of the HQ rule."),
    title: Optional[str] = typer.Option(None, "--title"),
) -> None:
    """Scatter/KDE of samples with the mode centres and HQ radii drawn, and per-mode counts."""
    import torch

    from gan_eval.io import load_array
    from gan_eval.metrics.modes import check_shape, mode_coverage
    from gan_eval.plotting import check_figure_path, plot_modes
    from gan_eval.references import get_reference

    check_figure_path(out)
    ref = get_reference(reference)
    x = torch.as_tensor(load_array(samples, key))
    check_shape(x, ref, str(samples))
    k = ref.default_threshold_std if threshold_std is None else threshold_std
    plot_modes(x.numpy(), ref, mode_coverage(x, ref, threshold_std=k), out, title=title or str(samples))
    typer.echo(f"wrote {out}")
