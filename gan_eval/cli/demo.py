"""``gan-eval demo``: the built-in default job, real ring8 samples next to a collapsed generator."""
from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from gan_eval.cli.app import app, positive_option
from gan_eval.cli.render import table

if TYPE_CHECKING:
    import torch


def collapsed_samples(reference_name: str, n: int, modes: int, seed: int) -> torch.Tensor:
    """Real samples of the first ``modes`` modes only: what a mode-collapsed generator produces."""
    from gan_eval.references import get_reference

    reference = get_reference(reference_name)
    x = reference.sample(2 * n * reference.n_modes // modes + 100, seed)  # ample: about half that lands on the kept modes
    index, _ = reference.assign(x)
    return x[index < modes][:n]


@app.command()
def demo(
    reference: str = typer.Option("ring8", "--reference", "-r", help="A known mixture."),
    n: int = positive_option(2500, "-n", what="the number of samples", help="Samples per row (VEEGAN uses 2,500)."),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Score real samples and a deliberately collapsed set (2 modes) side by side."""
    from gan_eval.api import score
    from gan_eval.references import get_reference

    real = get_reference(reference).sample(n, seed)
    rows = {"real": real, "collapsed (2 modes)": collapsed_samples(reference, n, 2, seed + 1)}
    results = {label: score(x, "modes", reference, seed=seed) for label, x in rows.items()}
    if as_json:
        import json

        typer.echo(json.dumps({label: r.to_dict() for label, r in results.items()}, indent=2))
        return
    heads = list(next(iter(results.values())).values)
    typer.echo(f"mode metrics against {reference} (n = {n}, seed {seed})\n")
    typer.echo(table(["samples", *heads], [[label, *r.values.values()] for label, r in results.items()]))
