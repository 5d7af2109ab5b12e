"""What a metric returns besides numbers, for the edge to write: image-pair grids (the birthday test's closest
pairs, IvOM's reconstructions) and named arrays (IvOM's per-image MSE and latents). Metrics never write files;
:func:`write_artefacts` does, after every metric of a call has succeeded, so a failed score writes nothing."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_eval.io.atomic import save_npz


@dataclass
class ImagePairs:
    """Pairs of images, float N x C x H x W in [0, 1], drawn one pair per column (``first`` above ``second``)."""

    first: torch.Tensor
    second: torch.Tensor
    labels: list[str]
    title: str
    columns: int

    def arrays(self) -> dict[str, np.ndarray]:
        """The pairs as named arrays (no pickled objects), for a file :meth:`from_arrays` reads back."""
        return {"first": self.first.numpy(), "second": self.second.numpy(), "labels": np.array(self.labels), "title": np.array(self.title),
                "columns": np.array(self.columns)}

    @classmethod
    def from_arrays(cls, arrays: Any) -> "ImagePairs":
        """The pairs :meth:`arrays` wrote (a dict or a loaded npz)."""
        return cls(torch.from_numpy(arrays["first"]), torch.from_numpy(arrays["second"]), [str(x) for x in arrays["labels"]],
                   str(arrays["title"]), int(arrays["columns"]))


@dataclass
class Arrays:
    """Named arrays, written as one npz."""

    arrays: dict[str, np.ndarray]


def write_artefacts(artefacts: list[Any], out: Path) -> list[str]:
    """Write a result's artefacts at ``out``: arrays to ``out`` when it ends in .npz, else beside it (same stem,
    .npz); image grids to ``out`` unless it ends in .npz. Returns the paths written."""
    from gan_eval.plotting import plot_image_pairs

    arrays_only = out.suffix.lower() == ".npz"
    files = []
    for artefact in artefacts:
        if isinstance(artefact, Arrays):
            files.append(str(save_npz(out if arrays_only else out.with_suffix(".npz"), **artefact.arrays)))
        elif not arrays_only:
            pairs: ImagePairs = artefact
            files.append(str(plot_image_pairs(pairs.first, pairs.second, pairs.labels, out, title=pairs.title, columns=pairs.columns)))
    return files
