"""Metrics: one module each, registered by ``@register_metric``. Importing this package registers them all."""
from gan_eval.metrics.base import METRICS, MetricResult, MetricSpec, ScoreRequest, register_metric
from gan_eval.metrics.modes import ModeCoverage, mode_coverage

# One line per metric module: importing it registers it.
from gan_eval.metrics import modes  # noqa: F401,E402  (registers "modes")
from gan_eval.metrics import support_coverage  # noqa: F401,E402  (registers "support-coverage")
from gan_eval.metrics import ivom  # noqa: F401,E402  (registers "ivom")
from gan_eval.metrics import stacked_mnist  # noqa: F401,E402  (registers "stacked-mnist")
from gan_eval.metrics import prdc  # noqa: F401,E402  (registers "prdc")
from gan_eval.metrics import birthday  # noqa: F401,E402  (registers "birthday")
from gan_eval.metrics import ndb  # noqa: F401,E402  (registers "ndb")
from gan_eval.metrics import ms_ssim  # noqa: F401,E402  (registers "ms-ssim")
from gan_eval.metrics import c2st  # noqa: F401,E402  (registers "c2st")
from gan_eval.metrics import vendi  # noqa: F401,E402  (registers "vendi")
from gan_eval.metrics import lpips_diversity  # noqa: F401,E402  (registers "lpips-diversity")

__all__ = ["METRICS", "MetricResult", "MetricSpec", "ModeCoverage", "ScoreRequest", "mode_coverage", "register_metric"]
from gan_eval.metrics import fid, inception_score, kid  # noqa: F401,E402  (registers "fid", "is", "kid")
