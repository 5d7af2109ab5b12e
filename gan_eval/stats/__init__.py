"""Streaming, mergeable statistics (the middle of features -> statistics -> score)."""
from gan_eval.stats.mode_histogram import ModeHistogram

__all__ = ["ModeHistogram"]
from gan_eval.stats.gaussian import GaussianStats, Moments  # noqa: E402

__all__ += ["GaussianStats", "Moments"]
