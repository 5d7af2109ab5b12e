"""The one exception type users see: a single line that names the input and the fix."""


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
