"""Shared numerics: the matrix square-root trace of FID."""
from gan_eval.ops.sqrtm_trace import sqrtm_trace

__all__ = ["sqrtm_trace"]
