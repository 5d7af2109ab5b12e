"""gan-eval: mode collapse and sample quality metrics for generative models.

>>> import gan_eval
>>> gan_eval.score("samples.npz", "modes", reference="ring8")   # doctest: +SKIP
"""
__version__ = "0.1.0"

from gan_eval.errors import GanEvalError  # noqa: E402
from gan_eval.metrics import METRICS, MetricResult, mode_coverage  # noqa: E402
from gan_eval.references import REFERENCES, get_reference  # noqa: E402
from gan_eval.api import score  # noqa: E402

__all__ = ["METRICS", "REFERENCES", "GanEvalError", "MetricResult", "__version__", "get_reference", "mode_coverage", "score"]
