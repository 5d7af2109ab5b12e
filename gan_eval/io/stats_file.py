"""Statistics files: our npz (sums + mean/cov + metadata, optionally the features) and pytorch-fid/TTUR's
``mu``/``sigma`` npz.

Ours holds ``count``, ``sum``, ``outer`` (float64 sufficient statistics, mergeable), ``mu`` and ``sigma``
(so pytorch-fid and TTUR read our files too), ``meta`` (JSON: extractor ``describe()``, layer, n, value range,
source) and, when kept, ``features`` (float32 N x D, what KID needs). Never pickled.
"""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gan_eval.errors import GanEvalError
from gan_eval.io.atomic import save_npz
from gan_eval.stats.gaussian import GaussianStats, Moments

FORMAT = "gan-eval-gaussian-stats/1"


@dataclass
class StatsFile:
    """What a statistics file holds: always ``moments``; ``stats`` and ``features`` when the file has them."""

    moments: Moments
    stats: GaussianStats | None = None
    features: torch.Tensor | None = None


def save_stats(path: str | Path, stats: GaussianStats, features: torch.Tensor | None = None) -> Path:
    """Write ``stats`` (and optionally the N x D features) atomically as our npz."""
    moments = stats.moments()
    meta = {"format": FORMAT, **stats.meta, "n": stats.count}
    arrays = {
        "count": np.int64(stats.count),
        "sum": stats.total.cpu().numpy(),
        "outer": stats.outer.cpu().numpy(),
        "mu": moments.mu.cpu().numpy(),
        "sigma": moments.sigma.cpu().numpy(),
        "meta": np.array(json.dumps(meta)),
    }
    if features is not None:
        arrays["features"] = features.to(torch.float32).cpu().numpy()
    return save_npz(path, **arrays)


def is_stats_file(path: str | Path) -> bool:
    """True for an npz holding ``mu`` and ``sigma`` (ours, pytorch-fid's or TTUR's)."""
    path = Path(path)
    if path.suffix.lower() != ".npz" or not path.is_file() or not zipfile.is_zipfile(path):
        return False  # np.load leaks the file handle of a damaged zip; the samples loader then names the damage
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {"mu", "sigma"} <= set(npz.files)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError):
        return False


def read_meta(path: str | Path) -> dict:
    """The metadata of a statistics npz (only that member is read); empty for a pytorch-fid / TTUR file."""
    try:
        with np.load(Path(path), allow_pickle=False) as npz:
            return json.loads(str(npz["meta"])) if "meta" in npz.files else {}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise GanEvalError(f"{path}: not a readable statistics .npz ({exc}); recreate it with `gan-eval stats`") from None


def load_stats(path: str | Path) -> StatsFile:
    """Read our statistics npz, or a pytorch-fid / TTUR ``mu``/``sigma`` npz (no metadata, no count)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise GanEvalError(f"{path}: not a readable statistics .npz ({exc}); recreate it with `gan-eval stats`") from None
    if "mu" not in arrays or "sigma" not in arrays:
        raise GanEvalError(f"{path}: holds {', '.join(arrays)} but no mu/sigma; create it with `gan-eval stats`")
    mu = torch.from_numpy(np.asarray(arrays["mu"], dtype=np.float64))
    sigma = torch.from_numpy(np.asarray(arrays["sigma"], dtype=np.float64))
    if mu.ndim != 1 or sigma.shape != (len(mu), len(mu)):
        raise GanEvalError(f"{path}: mu {tuple(mu.shape)} and sigma {tuple(sigma.shape)} are not a D and a D x D array")
    if "meta" not in arrays:
        return StatsFile(Moments(mu, sigma, None, {}))
    meta = json.loads(str(arrays["meta"]))
    count = int(arrays["count"])
    stats = GaussianStats(count, torch.from_numpy(arrays["sum"]), torch.from_numpy(arrays["outer"]), meta)
    features = torch.from_numpy(arrays["features"]) if "features" in arrays else None
    return StatsFile(Moments(mu, sigma, count, meta), stats, features)
