"""Architectures for the trainers, built on the CPU from an explicit ``torch.Generator``.

Importing this package registers every G/D pair in ``NETS``; build one with ``build_nets``."""
from trainers.nets.mlp import Maxout, init_normal, init_orthogonal, init_xavier, maxout_mlp, mlp
from trainers.nets.registry import NETS, build_nets

# One line per pair module: importing it registers it.
from trainers.nets import dcgan  # noqa: F401,E402  (registers "dcgan28x3", "dcgan32", "dcgan64")
from trainers.nets import unrolled_stacked  # noqa: F401,E402  (registers "unrolled28x3")
from trainers.nets import sn_cnn  # noqa: F401,E402  (registers "sn-cnn32")
from trainers.nets import began  # noqa: F401,E402  (registers "began28", "began32", "began64")
from trainers.nets import mlp_pairs  # noqa: F401,E402  (registers "maxout", "tanh-mlp", "relu-mlp")

__all__ = ["Maxout", "NETS", "build_nets", "init_normal", "init_orthogonal", "init_xavier", "maxout_mlp", "mlp"]
