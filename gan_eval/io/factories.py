"""A generator given as code: ``pkg.module:factory``, ``path/to/file.py:factory``, with optional arguments.

Spellings (``gan-eval sample/score``, ``gan_eval.score``)::

    pkg.mod:Generator                              a module importable from the working folder
    foreign/dcgan.py:Generator                     a Python file, imported under a private module name
    'pkg.mod:Generator(img_size=32, latent_dim=100)'
    pkg.mod:Generator --factory-arg img_size=32    repeated, merged over those in the parentheses

Arguments are Python literals, each read with :func:`ast.literal_eval` (numbers, strings, tuples, lists, dicts,
True/False/None); nothing is evaluated, so a spec cannot run code of its own. A ``--factory-arg`` value that is
not a literal is taken as a string (``--factory-arg norm=batch``).

Reference implementations are often scripts: they parse the command line and create output folders at import
(``opt = parser.parse_args()``; ``os.makedirs("images")``). The module is therefore imported with ``sys.argv``
holding only its own name (so ``parse_args`` sees no gan-eval flags and takes its defaults) and with the working
folder switched, for the import only, to a temporary folder that is deleted afterwards (so what the script
writes at import does not land in the user's folder; modules are still found from the user's folder, which is
put on ``sys.path`` as an absolute path first). What the script prints at import is held back and, if the
import fails or exits, its last line is named in the one-line error. The factory itself is called in the
user's folder, with the real ``sys.argv`` restored.
"""
from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import io
import os
import re
import sys
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from torch import nn

from gan_eval.errors import GanEvalError, first_line

#: ``module:attr`` then optional ``(arguments)``; the module part is dotted names or a path ending ``.py``
FACTORY_PATTERN = re.compile(r"^(?P<module>[A-Za-z_][\w.]*|.+\.py):(?P<attr>[A-Za-z_]\w*)\s*(?P<args>\(.*\))?\s*$", re.S)


@dataclass(frozen=True)
class FactorySpec:
    """A parsed factory spec: where the code is, the callable's name, and the arguments to call it with."""

    text: str
    module: str
    attr: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def is_file(self) -> bool:
        return self.module.endswith(".py")

    def call_text(self) -> str:
        """``Generator(32, latent_dim=100)``: how the factory is called, for messages and the protocol."""
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.attr}({', '.join(parts)})"


def is_factory_spec(spec: object) -> bool:
    """``pkg.module:callable`` or ``file.py:callable``, with optional arguments (and not an existing file)."""
    return isinstance(spec, (str, Path)) and bool(FACTORY_PATTERN.match(str(spec))) and not Path(spec).exists()


def parse_factory_spec(spec: str, factory_args: list[str] | tuple[str, ...] = ()) -> FactorySpec:
    """Parse ``spec`` (module docstring) and merge ``factory_args`` (``key=value`` strings) over its keywords."""
    match = FACTORY_PATTERN.match(spec)
    if match is None:
        raise GanEvalError(f"{spec}: not a factory spec; write pkg.module:Generator or path/to/file.py:Generator")
    args, kwargs = _call_arguments(spec, match["attr"], match["args"]) if match["args"] else ((), {})
    for item in factory_args:
        key, sep, value = item.partition("=")
        if not sep or not key.strip().isidentifier():
            raise GanEvalError(f"--factory-arg {item!r}: expected key=value, e.g. --factory-arg img_size=32")
        kwargs[key.strip()] = _literal_or_text(value.strip())
    return FactorySpec(spec, match["module"], match["attr"], args, kwargs)


def build_from_factory(spec: FactorySpec) -> nn.Module:
    """Import the factory's module as a script-safe import (module docstring), call it, check it built a module."""
    py_module = _import(spec)
    factory = getattr(py_module, spec.attr, None)
    if factory is None or not callable(factory):
        raise GanEvalError(f"{spec.text}: module {spec.module} has no callable {spec.attr!r}; name a function or class that returns an nn.Module")
    try:
        module = factory(*spec.args, **spec.kwargs)
    except Exception as exc:  # noqa: BLE001 (any failure inside the user's code is reported in one line)
        fix = "pass its arguments: 'mod:Generator(img_size=32)' or --factory-arg img_size=32" if isinstance(exc, TypeError) else "check its arguments"
        raise GanEvalError(f"{spec.text}: calling {spec.call_text()} failed ({first_line(exc)}); {fix}") from None
    if not isinstance(module, nn.Module):
        raise GanEvalError(f"{spec.text}: {spec.call_text()} returned a {type(module).__name__}, not an nn.Module")
    return module


def _call_arguments(spec: str, attr: str, text: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Positional and keyword arguments of ``attr(text)``, each a literal (``ast.literal_eval``), never evaluated."""
    try:
        call = ast.parse(f"{attr}{text}", mode="eval").body
    except SyntaxError as exc:
        raise GanEvalError(f"{spec}: cannot read the arguments {text} ({exc.msg}); write Generator(img_size=32, latent_dim=100)") from None
    if not isinstance(call, ast.Call) or any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        raise GanEvalError(f"{spec}: write the arguments as a plain call, e.g. Generator(img_size=32, latent_dim=100)")
    try:
        return tuple(ast.literal_eval(a) for a in call.args), {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    except ValueError:
        raise GanEvalError(
            f"{spec}: factory arguments must be Python literals (numbers, strings, tuples, lists, dicts, True/False/None);"
            " build anything else inside a factory function of your own"
        ) from None


def _literal_or_text(value: str) -> Any:
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


def _import(spec: FactorySpec) -> Any:
    """The spec's Python module, imported with a clean ``sys.argv`` inside a temporary working folder."""
    cwd = os.getcwd()
    if spec.is_file:
        path = Path(spec.module).resolve()
        if not path.is_file():
            raise GanEvalError(f"{spec.text}: no such Python file {spec.module}; check the path before ':{spec.attr}'")
        folder, argv0 = str(path.parent), str(path)
    else:
        folder, argv0 = cwd, spec.module.rsplit(".", 1)[-1] + ".py"
    if folder not in sys.path:
        sys.path.insert(0, folder)  # `pkg.module` relative to where the user runs the command; a file's siblings
    printed = io.StringIO()
    try:
        with _script_safe(argv0), contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            if not spec.is_file:
                return importlib.import_module(spec.module)
            name = f"gan_eval_user_{zlib.crc32(str(path).encode()):08x}_{path.stem}"
            if name in sys.modules:
                return sys.modules[name]
            loader_spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(loader_spec)
            sys.modules[name] = module
            try:
                loader_spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[name]
                raise
            return module
    except SystemExit as exc:
        said = _last_line(printed.getvalue())
        raise GanEvalError(
            f"{spec.text}: importing {spec.module} exited (exit code {exc.code}{'; it printed: ' + said if said else ''});"
            " it runs a script at import: move that code under `if __name__ == \"__main__\":` or give its arguments defaults"
        ) from None
    except Exception as exc:  # noqa: BLE001 (any failure inside the user's module is reported in one line)
        said = _last_line(printed.getvalue())
        where = "check the path and run from its folder" if isinstance(exc, ModuleNotFoundError) else "fix the module"
        raise GanEvalError(
            f"{spec.text}: cannot import {spec.module} ({type(exc).__name__}: {first_line(exc)}{'; it printed: ' + said if said else ''});"
            f" {where} (imported with no command-line arguments, in a temporary folder)"
        ) from None


@contextlib.contextmanager
def _script_safe(argv0: str) -> Iterator[None]:
    """``sys.argv == [argv0]`` and a temporary working folder, both restored afterwards."""
    argv, cwd = sys.argv, os.getcwd()
    with tempfile.TemporaryDirectory(prefix="gan-eval-import-") as scratch:
        sys.argv = [argv0]
        os.chdir(scratch)
        try:
            yield
        finally:
            os.chdir(cwd)
            sys.argv = argv


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:160] if lines else ""
