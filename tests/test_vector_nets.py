"""The vector G/D pairs of the nets registry (``maxout``, ``tanh-mlp``): the contract every pair keeps, and that
building through the registry is exactly what the methods built before it (same layers, same initial weights)."""
from __future__ import annotations

import pytest
import torch

from gan_eval.errors import GanEvalError
from trainers.nets import NETS, build_nets, init_normal, init_orthogonal, maxout_mlp, mlp
from trainers.nets.image_pair import ImagePair
from trainers.nets.mlp_pairs import baseline_generator


VECTOR_PAIRS = [name for name in NETS.names() if not isinstance(NETS.get(name), ImagePair)]


@pytest.mark.parametrize("name", VECTOR_PAIRS)
def test_vector_pair_contract(name):
    G, D = build_nets(name, 4, (3,), torch.Generator().manual_seed(0))
    initial = {k: v.clone() for k, v in G.state_dict().items()}
    z = torch.randn(16, 4)
    x = G(z)
    logits, features = D(x, features=True)
    assert x.shape == (16, 3) and logits.shape == (16, 1) and features.shape[0] == 16
    torch.testing.assert_close(D(x), logits)
    again = build_nets(name, 4, (3,), torch.Generator().manual_seed(0))
    other = build_nets(name, 4, (3,), torch.Generator().manual_seed(1))
    assert all(torch.equal(a, b) for a, b in zip(initial.values(), again[0].state_dict().values()))
    assert not all(torch.equal(a, b) for a, b in zip(initial.values(), other[0].state_dict().values()))
    with pytest.raises(GanEvalError, match="reads vectors"):
        build_nets(name, 4, (3, 28, 28), torch.Generator())


def test_registry_pairs_are_the_layers_and_weights_the_methods_built_before():
    """The old construction, written out: a ModuleDict {G, D} initialised in one pass (G's layers, then D's)."""
    gen = torch.Generator().manual_seed(7)
    old = torch.nn.ModuleDict({"G": baseline_generator(2, 2, 400, 4), "D": maxout_mlp(4, 200, 5, 3)})
    init_normal(old, 0.02, gen)
    G, D = build_nets("maxout", 2, (2,), torch.Generator().manual_seed(7), pack=2)
    new = torch.nn.ModuleDict({"G": G, "D": D})
    assert old.state_dict().keys() == new.state_dict().keys()
    assert all(torch.equal(a, b) for a, b in zip(old.state_dict().values(), new.state_dict().values()))
    gen = torch.Generator().manual_seed(7)
    old = torch.nn.ModuleDict({"G": mlp([256, 128, 128, 2], "tanh"), "D": mlp([2, 128, 128, 1], "tanh")})
    init_orthogonal(old, 1.4, gen)
    new = torch.nn.ModuleDict(dict(zip("GD", build_nets("tanh-mlp", 256, (2,), torch.Generator().manual_seed(7)))))
    assert all(torch.equal(a, b) for a, b in zip(old.state_dict().values(), new.state_dict().values()))
