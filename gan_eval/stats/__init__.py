"""Streaming, mergeable statistics (the middle of features -> statistics -> score)."""
from gan_eval.stats.mode_histogram import ModeHistogram

__all__ = ["ModeHistogram"]
