"""Architectures for the trainers, built on the CPU from an explicit ``torch.Generator``."""
from trainers.nets.mlp import Maxout, init_normal, init_orthogonal, init_xavier, maxout_mlp, mlp
from trainers.nets.registry import NETS, build_nets

# the image pairs register themselves in NETS on import
from trainers.nets import dcgan, sn_cnn, unrolled_stacked  # noqa: E402,F401  isort: skip

__all__ = ["Maxout", "NETS", "build_nets", "init_normal", "init_orthogonal", "init_xavier", "maxout_mlp", "mlp"]
