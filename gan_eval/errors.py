"""The one exception type users see: a single line that names the input and the fix."""
from __future__ import annotations

import contextlib
import re
from contextvars import ContextVar
from typing import Iterator, Mapping


class GanEvalError(ValueError):
    """Bad input or configuration. The CLI prints ``error: <message>`` and exits 2, never a traceback.

    Messages are one line and say what to do, e.g.
    ``samples.npz: array has shape (10, 3) but reference ring8 is 2-D; pass N x 2 samples``.
    """


def first_line(exc: BaseException) -> str:
    """The informative line of an exception, for a one-line message: the first, or for TorchScript errors
    (a traceback) the last; at most 160 characters."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()] or [type(exc).__name__]
    return (lines[-1] if "TorchScript interpreter" in lines[0] else lines[0])[:160]


#: Messages name command-line flags (``--latent-dim``); :func:`for_python` restates them as ``score()`` keywords
#: when the caller is Python code rather than the ``gan-eval`` command (which sets this to ``"cli"``).
SPELLING: ContextVar[str] = ContextVar("gan_eval_spelling", default="python")
#: a flag, then its value when one follows (an upper-case placeholder, a number, a range, a choice list, key=value)
_FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z-]*|-n)\b(?: ((?:[A-Z]+|-?\d[\w.,]*|[\w.]+[,|][\w.,|-]+|\w+=\S+)\b))?")
_KEYWORD_OF = {"--range": "value_range", "-n": "n", "--factory-arg": "factory_args", "--out": "output"}
#: ``--set key=value`` in a message, for :func:`own_flags`
_SETTING = re.compile(r"--set (\w+)=([^\s,;]+)")


@contextlib.contextmanager
def own_flags(flags: Mapping[str, str]) -> Iterator[None]:
    """Within, errors are restated for a command that takes some settings as flags of its own rather than as
    ``--set key=value`` (``gan-eval stats --resize``): with ``{"resize": "--resize"}``, ``--set resize=crop`` in a
    message becomes ``--resize crop``. Messages are worded once, for ``score``; this is where another command's
    spelling comes in."""
    try:
        yield
    except GanEvalError as exc:
        said = _SETTING.sub(lambda m: f"{flags[m[1]]} {m[2]}" if m[1] in flags else m[0], str(exc))
        raise GanEvalError(said) from None


def for_python(message: str) -> str:
    """``message`` with its command-line flags written as keywords of :func:`gan_eval.score` when the caller is
    Python (``pass --latent-dim D`` -> ``pass latent_dim=D``, ``--set k=3`` -> ``k=3``, ``drop --range`` ->
    ``drop value_range``)."""
    if SPELLING.get() == "cli":
        return message

    def keyword(match: re.Match) -> str:
        flag, value = match[1], match[2]
        if flag == "--set" and value:
            return value
        name = _KEYWORD_OF.get(flag, flag[2:].replace("-", "_"))
        if flag == "--factory-arg" and value:
            return f"{name}=[{value!r}]"
        return f"{name}={value}" if value else name

    return _FLAG.sub(keyword, message)
