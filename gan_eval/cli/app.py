"""The typer application and what every command shares: error handling, device choice, output."""
from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from gan_eval.errors import SPELLING, GanEvalError
from gan_eval.options import check_positive

if TYPE_CHECKING:  # torch loads when a command runs, not for --help
    import torch


_OWN_CODE = "/gan_eval/"
# click's UsageError (unknown option, missing argument) from whichever click typer runs on: its own copy since
# typer 0.2x, the click package before.
_USAGE_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


class _Commands(TyperGroup):
    """Turns a :class:`GanEvalError` or a command-line usage error into one line on stderr and exit code 2,
    never a traceback or click's multi-line usage box. A subcommand's arguments are parsed inside ``invoke``,
    so both are caught here."""

    def invoke(self, ctx):  # noqa: ANN001,ANN201 (click's signature)
        # gan-eval's own warnings (e.g. n < feature dimension) as one "warning:" line each; other libraries'
        # deprecation chatter is not the user's business here.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            spelling = SPELLING.set("cli")  # errors name the flags of this command, not score()'s keywords
            try:
                return super().invoke(ctx)
            except GanEvalError as exc:
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(2) from None
            except _USAGE_ERROR as exc:
                where = exc.ctx.command_path if exc.ctx is not None else ctx.command_path
                typer.echo(f"error: {exc.format_message()}; see `{where} --help`", err=True)
                raise typer.Exit(2) from None
            finally:
                SPELLING.reset(spelling)
                for item in caught:
                    if _OWN_CODE in item.filename.replace("\\", "/"):
                        typer.echo(f"warning: {item.message}", err=True)

    def list_commands(self, ctx) -> list[str]:  # noqa: ANN001
        return list(self.commands)  # keep the order in which modules declare them


app = typer.Typer(
    cls=_Commands,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Measure mode collapse and sample quality of generative models.",
)


# Generator flags shared by `score` and `sample` (they override the JSON saved beside a generator).
LATENT_DIM = typer.Option(None, "--latent-dim", help="Generator latent size (else from GENERATOR.json).")
LATENT_DISTRIBUTION = typer.Option(None, "--latent-distribution", help="normal (N(0,I)) or uniform (U(-1,1)).")
GENERATOR_WEIGHTS = typer.Option(
    None,
    "--generator-weights",
    help="State dict for a pkg.module:factory generator: FILE, or FILE:KEY for one inside a checkpoint dict "
    "(found by itself when unambiguous; a module. prefix from DataParallel/DDP is stripped).",
)
FACTORY_ARGS = typer.Option(
    None,
    "--factory-arg",
    help="Argument of a pkg.module:factory generator, key=value with a Python literal value (repeatable); "
    "or write them in the spec: 'pkg.mod:Generator(img_size=32)'.",
)


def _check_progress_interval(value: bool) -> bool:
    """``--progress``'s callback: a bad ``$GAN_EVAL_PROGRESS_INTERVAL`` is one error line while the command's options
    are read, before any work (``train`` once found it only at its first step, its run folder already written)."""
    from gan_eval.progress import line_interval

    line_interval()
    return value


PROGRESS = typer.Option(
    True,
    "--progress/--no-progress",
    callback=_check_progress_interval,
    help="Progress on stderr: a bar on a terminal, else a line every 30 s (GAN_EVAL_PROGRESS_INTERVAL seconds).",
)
EXTRACTOR_WEIGHTS = typer.Option(
    None,
    "--weights",
    "--inception-weights",
    help="Weights of the network that reads the samples: the FID Inception file (inception features), "
    "the digit classifier (mnist features, stacked-mnist) or a pkg.module:factory extractor's state dict.",
)


def positive_option(default: Any, *flags: str, what: str, help: str) -> Any:  # noqa: A002 (typer's name)
    """A number option refused at zero or below as it is parsed (``--batch-size 0: samples per batch must be
    positive``, one error line before any work; None, an unset optional, passes). ``what`` names the number."""
    return typer.Option(default, *flags, help=help, callback=lambda value: check_positive(value, f"{flags[0]} {value}: {what}"))


def _range_option(option: str, whose: str):
    """``--range``-style option, validated as it is parsed (a bad value is one error line before any work)."""
    return typer.Option(
        "auto",
        option,
        callback=lambda value: _parse_range(value, option),
        help=f"Value range of {whose}: auto (declared, else inferred and reported), 0,1, -1,1 or 0,255.",
    )


RANGE = _range_option("--range", "the images (a generator's outputs)")
REFERENCE_RANGE = _range_option("--reference-range", "the reference images (IvOM's test images)")
SKIP_UNREADABLE = typer.Option(
    False, "--skip-unreadable", help="Leave out image files of a folder that cannot be decoded (a warning says how many)."
)


def _parse_range(value: str, option: str) -> str:
    from gan_eval.io.ranges import parse_range

    return parse_range(value, option)


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when present; anything else is checked to exist."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise GanEvalError(f"--device {name!r} is not a device; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GanEvalError(f"--device {name}: no CUDA device is available here; use --device cpu")
    return device


def main() -> None:
    """Console-script entry point."""
    app()
