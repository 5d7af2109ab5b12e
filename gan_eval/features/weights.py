"""Finding and loading the FID Inception weights file.

Order: an explicit path > the environment variable ``GAN_EVAL_INCEPTION_WEIGHTS`` > torch hub's cache
(``torch.hub.get_dir()/checkpoints``, where pytorch-fid and torch-fidelity leave their downloads) > a download
of pytorch-fid's release file, with torch hub's sha256 prefix check, only when github.com answers > else a
one-line error saying where to put the file and naming the extractors that need no download
(:data:`OFFLINE_ALTERNATIVES`). Library code never downloads on its own beyond this last step,
and tests always pass a path.

The weights are identified by a hash of their tensor contents (not of the file's bytes), so the two
published conversions of the same TF weights carry the same id when their numbers are equal.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import socket
import zipfile
from pathlib import Path

import torch

from gan_eval.errors import GanEvalError

ENV_VAR = "GAN_EVAL_INCEPTION_WEIGHTS"
FILE_NAMES = ("pt_inception-2015-12-05-6726825d.pth", "weights-inception-2015-12-05-6726825d.pth")
URL = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + FILE_NAMES[0]
HASH_PREFIX = "6726825d"  # torch hub convention: the file name ends with its sha256 prefix
OFFLINE_ALTERNATIVES = (
    "or use features that need no download: --features mnist (the bundled digit classifier, for MNIST-like images),"
    " --features pixels, or --features pkg.module:factory (your own network)"
)


def hub_checkpoints() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def resolve_inception_weights(path: str | Path | None = None) -> Path:
    """The weights file to use (see the module docstring for the order)."""
    if path is not None:
        return _existing(Path(path), "--weights")
    env = os.environ.get(ENV_VAR)
    if env:
        return _existing(Path(env), ENV_VAR)
    for name in FILE_NAMES:
        cached = hub_checkpoints() / name
        if cached.is_file():
            return cached
    return _download(hub_checkpoints() / FILE_NAMES[0])


def _existing(path: Path, origin: str) -> Path:
    if not path.is_file():
        other = f"${ENV_VAR}" if origin == "--weights" else "--weights PATH"
        raise GanEvalError(f"{origin}: {path} is not a file; point it (or {other}) at {FILE_NAMES[0]}, {OFFLINE_ALTERNATIVES}")
    return path


def _online(host: str = "github.com", timeout: float = 3.0) -> bool:
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _download(target: Path) -> Path:
    where = (
        f"pass --weights PATH, set {ENV_VAR}, or put {FILE_NAMES[0]} (from {URL}) in {target.parent}"
    )
    if not _online():
        raise GanEvalError(f"FID Inception weights not found and this machine is offline; {where}; {OFFLINE_ALTERNATIVES}")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        torch.hub.download_url_to_file(URL, str(target), hash_prefix=HASH_PREFIX, progress=False)
    except (OSError, RuntimeError) as exc:
        raise GanEvalError(f"downloading the FID Inception weights failed ({str(exc)[:120]}); {where}; {OFFLINE_ALTERNATIVES}") from None
    return target


def load_inception_state(path: Path) -> tuple[dict[str, torch.Tensor], str]:
    """The state dict in the published key format (``num_batches_tracked`` dropped) and its content hash."""
    state = read_state_dict(path, f"use {FILE_NAMES[0]}")
    state = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    return state, state_hash(state)


def read_state_dict(path: Path, fix: str) -> dict[str, torch.Tensor]:
    """A file's state dict of tensors, loaded with ``weights_only``; anything else is a one-line error ending in ``fix``."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise GanEvalError(f"{path}: not a readable torch state dict ({first[:120]}); {fix}") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise GanEvalError(f"{path}: not a state dict of tensors; {fix}")
    return state


def state_hash(state: dict[str, torch.Tensor]) -> str:
    """sha256 (first 16 hex digits) over the sorted keys, shapes and float32 values of a state dict."""
    digest = hashlib.sha256()
    for key in sorted(state):
        value = state[key].detach().to("cpu", torch.float32).contiguous()
        digest.update(f"{key}:{tuple(value.shape)};".encode())
        digest.update(value.numpy().tobytes())
    return digest.hexdigest()[:16]
