"""Feature extractors, one module each, registered in ``FEATURES``. Importing this package registers them."""
from gan_eval.features.base import FEATURES, FeatureExtractor
from gan_eval.features.extract import extract, features_of, image_batches

# One line per extractor module: importing it registers it.
from gan_eval.features import pixels  # noqa: F401,E402
from gan_eval.features import mnist_classifier  # noqa: F401,E402

__all__ = ["FEATURES", "FeatureExtractor", "extract", "features_of", "image_batches"]
from gan_eval.features import inception  # noqa: F401,E402
