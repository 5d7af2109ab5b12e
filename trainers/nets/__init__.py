"""Architectures for the trainers, built on the CPU from an explicit ``torch.Generator``."""
from trainers.nets.mlp import Maxout, init_normal, init_orthogonal, init_xavier, maxout_mlp, mlp

__all__ = ["Maxout", "init_normal", "init_orthogonal", "init_xavier", "maxout_mlp", "mlp"]
