"""The ``gan-eval`` command line. Each module below adds its commands to the one typer app."""
from gan_eval.cli.app import app, main

# One line per command module: importing it registers its commands.
from gan_eval.cli import demo, generators, references, score, stacked_mnist, stats, train  # noqa: F401,E402

__all__ = ["app", "main"]
