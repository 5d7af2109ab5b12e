"""Generator files: ``torch.export`` programs (``.pt2``), and the TorchScript archives (``.pt``) read before them.

TorchScript is deprecated in current torch (every ``torch.jit`` call warns), so generators are saved as
``torch.export`` programs: the network's ATen graph with its weights, exported in eval mode (batch norm uses
its running statistics) with a dynamic batch dimension, saved by ``torch.export.save`` and read back by
``torch.export.load(path).module()`` (torch may unpickle parts of the archive, so, as with TorchScript, load
files you trust). :func:`save_generator` also writes the TorchScript archive beside it (``generator.pt``) for
tools that read only TorchScript, and the JSON sidecar (``generator.json``, :mod:`gan_eval.io.latent`) that
both files share.

Reading accepts both: a ``.pt2`` file or a ``torch.export`` archive under any name, and a TorchScript archive
(``torch.jit.script(G).save(path)``). torch's TorchScript deprecation warnings are silenced where this module
reads or writes TorchScript on purpose: the user asked for that file, the warning is about torch's roadmap.
"""
from __future__ import annotations

import contextlib
import copy
import logging
import warnings
import zipfile
from pathlib import Path
from typing import Callable, Iterator

import torch
from torch import nn

from gan_eval.errors import GanEvalError, first_line
from gan_eval.io.atomic import atomic_path
from gan_eval.io.latent import LatentSpec, save_latent_spec

EXPORT_SUFFIX = ".pt2"
#: ``torch.export.Dim`` and ``dynamic_shapes`` (a dynamic batch dimension) arrived in torch 2.2.
DYNAMIC_EXPORT_TORCH = "2.2"


def is_torchscript(path: str | Path) -> bool:
    """A TorchScript archive is a zip holding ``constants.pkl`` and ``code/``; a ``torch.save`` file holds neither."""
    return _zip_holds(path, lambda name: name.endswith("/constants.pkl") or "/code/" in name)


def is_exported_program(path: str | Path) -> bool:
    """A ``torch.export.save`` archive: a zip holding ``archive_format`` (torch's PT2 archive) or
    ``serialized_exported_program.json`` (the layout of older torch)."""
    return _zip_holds(path, lambda name: name.endswith(("archive_format", "serialized_exported_program.json")))


def is_generator_file(path: str | Path) -> bool:
    """A ``.pt2`` path (even a missing or broken one: reading it says what is wrong) or a generator archive."""
    path = Path(path)
    return path.suffix.lower() == EXPORT_SUFFIX or (path.is_file() and (is_exported_program(path) or is_torchscript(path)))


def load_generator_file(path: str | Path, device: torch.device) -> nn.Module:
    """The generator in ``path`` on ``device``, in eval mode; every failure is a one-line :class:`GanEvalError`."""
    path = Path(path)
    if not path.exists():
        raise GanEvalError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise GanEvalError(f"{path}: is a folder; pass a generator file (.pt2 or TorchScript .pt) or pkg.module:factory")
    if path.suffix.lower() == EXPORT_SUFFIX or is_exported_program(path):
        return _load_exported(path, device)
    if not is_torchscript(path):
        raise GanEvalError(
            f"{path}: not a generator file; save one with gan_eval.io.generator_files.save_generator(G, spec, path)"
            " (torch.export .pt2), or pass pkg.module:factory"
        )
    try:
        with _torchscript_allowed():
            return torch.jit.load(str(path), map_location=device).eval()
    except (RuntimeError, OSError, ValueError) as exc:
        raise GanEvalError(f"{path}: cannot load this TorchScript archive ({first_line(exc)}); re-export it") from None


def _load_exported(path: Path, device: torch.device) -> nn.Module:
    """``torch.export.load(path).module()`` moved to ``device``. The module is already in eval mode: it was
    exported in it, and torch refuses ``.eval()`` / ``.train()`` on exported modules."""
    if not is_exported_program(path):
        raise GanEvalError(
            f"{path}: not a torch.export program (damaged, or another kind of file); write generators with"
            " gan_eval.io.generator_files.save_generator or torch.export.save"
        )
    try:
        with _torch_export_log() as logged, open(path, "rb") as f:  # a file object: torch wants the name to end .pt2
            program = torch.export.load(f)
    except Exception as exc:  # noqa: BLE001 (zip, JSON, schema-version and graph errors come in many types)
        raise GanEvalError(
            f"{path}: torch {torch.__version__} cannot load this torch.export program ({first_line((logged or [exc])[0])});"
            " re-export it with this torch, or pass the TorchScript .pt beside it"
        ) from None
    move = getattr(getattr(torch.export, "passes", None), "move_to_device_pass", None)  # torch >= 2.6
    if move is not None and device.type != "cpu":
        program = move(program, device)
    return program.module().to(device)


@contextlib.contextmanager
def _torch_export_log() -> Iterator[list[BaseException]]:
    """Hold back what ``torch.export.load`` logs (a traceback on stderr before it raises "check the warnings
    above"); yield the exceptions it logged, so the one-line error can name the real cause."""
    logged: list[BaseException] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.exc_info and record.exc_info[1] is not None:
                logged.append(record.exc_info[1])

    logger = logging.getLogger("torch.export")  # torch gives it a stderr handler of its own
    handlers, propagate = logger.handlers, logger.propagate
    logger.handlers, logger.propagate = [Collect()], False
    try:
        yield logged
    finally:
        logger.handlers, logger.propagate = handlers, propagate


def save_generator(module: nn.Module, spec: LatentSpec, path: str | Path, example: torch.Tensor | None = None) -> list[Path]:
    """Write ``path`` (a ``.pt2`` torch.export program of ``module`` in eval mode on the CPU, any batch size),
    the TorchScript archive ``path.with_suffix(".pt")`` and the sidecar ``path.with_suffix(".json")``;
    return the paths written. ``module`` itself is not changed (a copy is exported).

    ``example``: a batch of at least 2 latents to trace with (default: 2 drawn from ``spec``; pass
    N x d x 1 x 1 for a DCGAN-style generator). On torch older than 2.2 (no dynamic batch export) only the
    TorchScript file and the sidecar are written, with a warning.
    """
    path = Path(path)
    if path.suffix.lower() != EXPORT_SUFFIX:
        raise GanEvalError(f"{path}: name the exported generator NAME{EXPORT_SUFFIX}")
    net = copy.deepcopy(module).cpu().eval()
    z = spec.sample(2, torch.Generator().manual_seed(0)) if example is None else example.cpu()
    if len(z) < 2:
        raise GanEvalError(f"example: {len(z)} latent; trace with at least 2 (torch.export fixes a batch of 1 as static)")
    written = []
    if hasattr(torch.export, "Dim"):
        try:
            with torch.no_grad():
                program = torch.export.export(net, (z,), dynamic_shapes=({0: torch.export.Dim("batch", min=1)},))
        except Exception as exc:  # noqa: BLE001 (tracing errors come in many types)
            raise GanEvalError(
                f"{type(module).__name__}: torch.export cannot export it for any batch size ({first_line(exc)});"
                " in forward use z.shape[0] rather than len(z) or a fixed batch size"
            ) from None
        with atomic_path(path) as tmp:
            torch.export.save(program, str(tmp))
        written.append(path)
    else:
        warnings.warn(
            f"torch {torch.__version__} cannot export a dynamic batch dimension (needs torch >= {DYNAMIC_EXPORT_TORCH});"
            f" wrote the TorchScript {path.with_suffix('.pt').name} only",
            stacklevel=2,
        )
    torchscript = path.with_suffix(".pt")
    with _torchscript_allowed(), torch.no_grad():
        traced = torch.jit.trace(net, z)
        with atomic_path(torchscript) as tmp:
            torch.jit.save(traced, str(tmp))
    written.append(torchscript)
    written.append(save_latent_spec(path, spec))
    return written


@contextlib.contextmanager
def _torchscript_allowed() -> Iterator[None]:
    """Silence torch's "torch.jit.* is deprecated" warnings for a TorchScript file read or written on purpose."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.jit.*deprecated", category=DeprecationWarning)
        yield


def _zip_holds(path: str | Path, wanted: Callable[[str], bool]) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return any(wanted(name) for name in archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False

