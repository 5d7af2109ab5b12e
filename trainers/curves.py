"""Training curves: every evaluator scalar and loss against iterations, read from runs' ``metrics.jsonl``.

One panel per quantity, one line per run, so that e.g. VEEGAN and its GAN ablation can be laid side by side
(``gan-eval curves RUN_A RUN_B -o curves.png``); ``gan-eval train`` draws its own run's curves.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from gan_eval.plotting import new_figure, save_figure
from trainers.loop import read_metrics

# Not curves: bookkeeping fields of a metrics line.
_NOT_PLOTTED = {"step", "elapsed_s", "n_modes", "n", "finite"}


def plot_curves(run_dirs: Sequence[str | Path], path: str | Path, labels: Sequence[str] | None = None) -> Path:
    """One PNG of every run's curves; ``labels`` default to the run directories' names."""
    runs = [read_metrics(d) for d in run_dirs]
    labels = list(labels) if labels is not None else [Path(d).name for d in run_dirs]
    # panels in the order the lines hold them: the losses, then the evaluators' scalars in their order
    panels = list(dict.fromkeys(
        k for lines in runs for line in lines for k, v in line.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in _NOT_PLOTTED
    ))
    ncols = min(3, len(panels))
    nrows = -(-len(panels) // ncols)
    _, fig, grid = new_figure(ncols, width=3.6, nrows=nrows, height=3.0)
    axes = list(np.ravel(grid))
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    colours = [f"C{i % 10}" for i in range(len(runs))]  # a run keeps its colour in panels it is missing from
    for ax, key in zip(axes, panels):
        for lines, label, colour in zip(runs, labels, colours):
            points = [(line["step"], line[key]) for line in lines if line.get(key) is not None]
            if points:
                ax.plot(*zip(*points), marker=".", label=label, color=colour)
        ax.set_xlabel("iteration")
        ax.set_title(key, fontsize=10)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path, dpi=90)
