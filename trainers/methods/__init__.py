"""Training methods: one module each, registered by ``@register_method``. Importing this package registers them."""
from trainers.methods.base import METHODS, Method, make_params, register_method

# One line per method module: importing it registers it.
from trainers.methods import ali, dcgan, distgan, gan, gdpp, mdgan, pacgan, unrolled, veegan  # noqa: F401,E402

__all__ = ["METHODS", "Method", "make_params", "register_method"]
