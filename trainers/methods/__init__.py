"""Training methods: one module each, registered by ``@register_method``. Importing this package registers them."""
from trainers.methods.base import METHODS, Method, make_params, register_method

# One line per method module: importing it registers it.
from trainers.methods import ali, alpha_gan, began, bms, critic, dcgan, distgan, ebgan, gan, gdpp, mdgan, minigan, mmdgan, pacgan, unrolled, veegan, wae  # noqa: F401,E402

__all__ = ["METHODS", "Method", "make_params", "register_method"]
