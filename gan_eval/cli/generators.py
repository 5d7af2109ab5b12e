"""``gan-eval sample``: draw samples from a generator into a file, batched and seeded."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from gan_eval.cli.app import FACTORY_ARGS, GENERATOR_WEIGHTS, LATENT_DIM, LATENT_DISTRIBUTION, PROGRESS, app, positive_option, resolve_device
from gan_eval.progress import progress_wrapper


@app.command()
def sample(
    generator: str = typer.Argument(..., help="Generator file (torch.export .pt2, or TorchScript .pt) or pkg.module:factory."),
    n: int = positive_option(..., "-n", what="the number of samples", help="Number of samples."),
    out: Path = typer.Option(..., "--out", "-o", help="Output .npz (array 'samples') or .npy."),
    seed: int = typer.Option(0, "--seed", help="Seed of the latents (sample i depends only on it and i)."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda or cuda:N."),
    batch_size: int = positive_option(1000, "--batch-size", what="samples per forward pass", help="Samples per forward pass (memory only)."),
    latent_dim: Optional[int] = LATENT_DIM,
    latent_distribution: Optional[str] = LATENT_DISTRIBUTION,
    generator_weights: Optional[str] = GENERATOR_WEIGHTS,
    factory_args: Optional[List[str]] = FACTORY_ARGS,
    progress: bool = PROGRESS,
) -> None:
    """Draw N samples from a generator, deterministically from a seed, into a samples file (float32)."""
    from gan_eval.io.generators import GeneratorSource, load_generator
    from gan_eval.io.samples import check_samples_target, save_samples

    check_samples_target(out)  # before the generator is loaded and sampled
    loaded = load_generator(
        generator,
        weights=generator_weights,
        latent_dim=latent_dim,
        latent_distribution=latent_distribution,
        factory_args=factory_args or (),
        device=resolve_device(device),
    )
    samples = GeneratorSource(loaded, n, seed).array(batch_size, progress_wrapper(progress))
    save_samples(out, samples)
    spec = loaded.spec
    if loaded.value_range is not None:
        range_note = f", values {loaded.value_range.range} ({loaded.value_range.origin})"
    elif loaded.probe_span is not None:
        range_note = f", probe values in [{loaded.probe_span[0]:.4g}, {loaded.probe_span[1]:.4g}]"
    else:
        range_note = ""
    typer.echo(
        f"wrote {out}: {n} x {' x '.join(map(str, loaded.sample_shape))} samples of {generator}"
        f" (z ~ {spec.latent_distribution}^{spec.latent_dim}, seed {seed}{range_note})"
    )
