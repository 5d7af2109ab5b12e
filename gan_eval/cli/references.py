"""``gan-eval references``, ``gan-eval sample-reference`` and ``gan-eval plot``."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from gan_eval.cli.app import app
from gan_eval.cli.render import table
from gan_eval.errors import GanEvalError


@app.command()
def references() -> None:
    """List the known references and the families you can parametrise."""
    from gan_eval.references import FAMILIES, REFERENCES, get_reference

    rows = []
    for name in REFERENCES:
        info = get_reference(name).describe()
        extra = {k: v for k, v in info.items() if k not in ("name", "dim", "modes", "std", "support_dim", "default_threshold_std")}
        params = ", ".join(f"{k}={v}" for k, v in extra.items() if k != "shifts") or "-"
        rows.append([name, info["dim"], info["modes"], info["std"], info["default_threshold_std"], params])
    typer.echo(table(["reference", "dim", "modes", "std", "HQ k", "parameters"], rows))
    typer.echo("\nyour own: " + ", ".join(f"{name}:key=value,..." for name in FAMILIES) + "  e.g. ring:n=6,radius=2,std=0.02")


@app.command("sample-reference")
def sample_reference(
    name: str = typer.Argument(..., help="A reference name or family spec (see `gan-eval references`)."),
    n: int = typer.Option(2500, "-n", help="Number of samples."),
    seed: int = typer.Option(0, "--seed"),
    out: Path = typer.Option(..., "--out", "-o", help="Output .npz (array 'samples')."),
) -> None:
    """Draw real samples from a reference, deterministically from a seed."""
    from gan_eval.io import save_npz
    from gan_eval.references import get_reference

    if n <= 0:
        raise GanEvalError(f"-n {n}: the number of samples must be positive")
    reference = get_reference(name)
    save_npz(out, samples=reference.sample(n, seed).numpy())
    typer.echo(f"wrote {out}: {n} x {reference.dim} samples of {reference.name} (seed {seed})")


@app.command()
def plot(
    samples: Path = typer.Argument(..., help="Samples file (.npz, .npy, .pt)."),
    reference: str = typer.Option(..., "--reference", "-r", help="The reference whose modes are drawn."),
    out: Path = typer.Option(..., "--out", "-o", help="Output image (.png, .pdf, .svg)."),
    key: Optional[str] = typer.Option(None, "--key"),
    threshold_std: Optional[float] = typer.Option(None, "--threshold-std", help="k of the HQ rule."),
    title: Optional[str] = typer.Option(None, "--title"),
) -> None:
    """Scatter/KDE of samples with the mode centres and HQ radii drawn, and per-mode counts."""
    from gan_eval.io import load_array
    from gan_eval.plotting import plot_modes
    from gan_eval.references import get_reference

    ref = get_reference(reference)
    plot_modes(load_array(samples, key), ref, out, threshold_std=threshold_std, title=title or str(samples), name=str(samples))
    typer.echo(f"wrote {out}")
