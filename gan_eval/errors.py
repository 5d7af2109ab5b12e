"""The one exception type users see: a single line that names the input and the fix."""


class GanEvalError(ValueError):
    """Bad input or configuration. The CLI prints ``error: <message>`` and exits 2, never a traceback.

    Messages are one line and say what to do, e.g.
    ``samples.npz: array has shape (10, 3) but reference ring8 is 2-D; pass N x 2 samples``.
    """
