"""Feature extractors, one module each, registered in ``FEATURES``. Importing this package registers them."""
from gan_eval.features.base import FEATURES, FeatureExtractor

__all__ = ["FEATURES", "FeatureExtractor"]
