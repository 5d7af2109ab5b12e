"""Figures at the edge: samples over a reference's modes, per-mode counts, image-pair grids. They draw results
a metric computed (:class:`~gan_eval.metrics.modes.ModeCoverage`, :mod:`gan_eval.artefacts`) and compute none.
Uses matplotlib's Agg backend."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from gan_eval.errors import GanEvalError
from gan_eval.io.atomic import check_target, write_with
from gan_eval.references import Moons, Reference, hq_radius
from gan_eval.references.moons import _ARCS

if TYPE_CHECKING:
    from gan_eval.metrics.modes import ModeCoverage

KDE_POINTS = 5000  # KDE cost is O(points x grid); a subsample shows the density just as well


def figure_formats() -> list[str]:
    """The file suffixes (without the dot) matplotlib can write a figure to."""
    from matplotlib.backend_bases import FigureCanvasBase

    return sorted(FigureCanvasBase.get_supported_filetypes())


def check_figure_path(path: str | Path) -> Path:
    """``path`` unless matplotlib cannot write a figure there: a suffix it has no writer for (it picks the format
    from the suffix; none would have it read the temporary file's random name) or an existing folder. Called by
    the commands before any work, and by :func:`save_figure`."""
    path = check_target(path, example="figure.png")
    formats = figure_formats()
    if path.suffix.lower().lstrip(".") not in formats:
        what = f"a {path.suffix} file" if path.suffix else "a file without a suffix"
        raise GanEvalError(f"{path}: a figure cannot be written to {what}; name a .png, .pdf or .svg file (or {', '.join(formats)})")
    return path


def save_figure(fig, out: str | Path, dpi: int) -> Path:  # noqa: ANN001 (a matplotlib Figure)
    """Write ``fig`` to ``out`` atomically, in the format its suffix names (checked first), and close it."""
    import matplotlib.pyplot as plt

    try:
        return write_with(check_figure_path(out), lambda tmp: fig.savefig(tmp, dpi=dpi))
    finally:
        plt.close(fig)


def new_figure(ncols: int, width: float = 5.0, nrows: int = 1, height: float | None = None):
    """pyplot on the Agg backend, a figure and its axes (a row of ``ncols``, or an ``nrows`` x ``ncols`` grid)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, (height or width) * nrows), squeeze=False)
    return plt, fig, axes[0] if nrows == 1 else axes


def draw_samples(ax, x: np.ndarray, reference: Reference, threshold_std: float, seed: int = 0) -> None:
    """Scatter + KDE contours of 2-D samples with the modes (centres or arcs) and their HQ radius."""
    from scipy.stats import gaussian_kde

    ax.scatter(x[:, 0], x[:, 1], s=2, alpha=0.3, color="tab:blue", linewidths=0, rasterized=True)
    if len(x) >= 10 and np.ptp(x, axis=0).min() > 0:
        rng = np.random.default_rng(seed)
        sub = x[rng.choice(len(x), min(len(x), KDE_POINTS), replace=False)]
        lo, hi = x.min(axis=0), x.max(axis=0)
        gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 120), np.linspace(lo[1], hi[1], 120))
        density = gaussian_kde(sub.T)(np.vstack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
        ax.contour(gx, gy, density, levels=6, colors="tab:blue", linewidths=0.6, alpha=0.8)
    radius = hq_radius(threshold_std, reference.support_dim) * reference.std
    centres = reference.centres()
    if centres is not None:
        ax.scatter(centres[:, 0], centres[:, 1], marker="x", color="tab:red", s=40, label="mode centre")
        for cx, cy in centres:
            ax.add_patch(_circle(cx, cy, radius))
    if isinstance(reference, Moons):
        for (cx, cy), (a0, a1) in _ARCS:
            t = np.linspace(a0, a1, 200)
            ax.plot(cx + np.cos(t), cy + np.sin(t), color="tab:red", lw=1, label="mode (arc)")
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(loc="upper right", fontsize=8)


def _circle(cx: float, cy: float, r: float):
    from matplotlib.patches import Circle

    return Circle((cx, cy), r, fill=False, color="tab:red", lw=0.6, alpha=0.7)


def draw_counts(ax, nearest: np.ndarray, hq: np.ndarray) -> None:
    """Bars of samples per nearest mode, HQ ones overlaid."""
    idx = np.arange(len(nearest))
    ax.bar(idx, nearest, color="lightgray", label="nearest")
    ax.bar(idx, hq, color="tab:green", label="high quality")
    ax.set_xlabel("mode")
    ax.set_ylabel("samples")
    ax.legend(fontsize=8)


def plot_modes(samples: np.ndarray, reference: Reference, cov: "ModeCoverage", out: str | Path, *, title: str = "") -> Path:
    """Write a figure: samples over the modes (2-D references) and the per-mode histogram of ``cov``, the mode
    coverage of these samples against ``reference``."""
    x = torch.as_tensor(samples)
    k = cov.threshold_std
    _, fig, axes = new_figure(2 if reference.dim == 2 else 1)
    if reference.dim == 2:
        draw_samples(axes[0], x.numpy().astype(np.float64), reference, k)
        axes[0].set_title(f"{title}\n{reference.name}: {cov.modes}/{cov.n_modes} modes, {cov.hq_percent:.1f}% HQ")
    draw_counts(axes[-1], cov.histogram.nearest.numpy(), cov.histogram.hq.numpy())
    kl = "-" if cov.kl is None else f"{cov.kl:.3f}"
    axes[-1].set_title(f"per-mode counts (n={cov.n}, k={k:g}, KL={kl})")
    fig.tight_layout()
    return save_figure(fig, out, dpi=120)


def plot_image_pairs(
    first: torch.Tensor, second: torch.Tensor, labels: list[str], out: str | Path, *, title: str = "", columns: int = 8
) -> Path:
    """Write a grid of image pairs, one pair per column (``first`` above ``second``), each with its label.

    ``first``, ``second``: float N x C x H x W in [0, 1] (the core's image convention).
    """
    n = len(first)
    cols = min(columns, n)
    rows = -(-n // cols)
    _, fig, axes = new_figure(cols, width=1.3, nrows=2 * rows, height=1.4)
    for ax in axes.ravel():
        ax.axis("off")
    for p in range(n):
        r, c = divmod(p, cols)
        for k, img in enumerate((first[p], second[p])):
            shown = img.detach().cpu().clamp(0, 1).permute(1, 2, 0).numpy()
            axes[2 * r + k, c].imshow(shown[..., 0] if shown.shape[2] == 1 else shown, cmap="gray", vmin=0.0, vmax=1.0)
        axes[2 * r, c].set_title(labels[p], fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save_figure(fig, out, dpi=100)


__all__ = ["check_figure_path", "draw_counts", "draw_samples", "figure_formats", "plot_image_pairs", "plot_modes", "save_figure"]
