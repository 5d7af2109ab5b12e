"""Grouped seeds (trainers.grouped) against the ground truth no one here wrote: torch's own ungrouped
forward, backward, BatchNorm running statistics, Adam and state_dict formats, on S separately initialised
copies of the trainers' networks (Linear, BatchNorm1d, ReLU, Tanh, Maxout)."""
from __future__ import annotations

import copy

import pytest
import torch
from torch import nn
from torch.func import functional_call

from gan_eval.errors import GanEvalError
from trainers.grouped import GroupedModule, merge_optimizer_states, parse_seeds, split_optimizer_state
from trainers.methods.base import adam
from trainers.nets import init_normal, init_orthogonal, maxout_mlp, mlp


S, BATCH, STEPS = 3, 16, 20
CLOSE = {"rtol": 1e-5, "atol": 1e-6}


def make_net(seed: int) -> nn.Sequential:
    """Every layer type the trainers' MLPs use, nested (names like ``0.1.running_mean``), from seed's generator."""
    net = nn.Sequential(
        mlp([3, 16, 16, 8], "relu", batchnorm=True, hidden_bias=False),
        nn.Tanh(),
        maxout_mlp(8, 6, 3, 2, out_features=2),
    )
    return init_normal(net, 0.5, torch.Generator().manual_seed(seed))


def separate_and_grouped() -> tuple[list[nn.Module], GroupedModule]:
    nets = [make_net(seed) for seed in range(S)]
    return nets, GroupedModule(copy.deepcopy(nets))


def batch(generator: torch.Generator) -> torch.Tensor:
    return torch.randn(S, BATCH, 3, generator=generator)


def loss_per_seed(out: torch.Tensor) -> torch.Tensor:
    """A GAN-like per-seed loss of outputs [..., B, 2]: softplus of one logit plus a square, batch means."""
    return nn.functional.softplus(-out[..., 0]).mean(-1) + out[..., 1].pow(2).mean(-1)


def assert_nets_equal(grouped: GroupedModule, nets: list[nn.Module]) -> None:
    for name, stacked in [*grouped.named_parameters(), *grouped.named_buffers()]:
        expected = torch.stack([net.state_dict()[name] for net in nets])
        torch.testing.assert_close(stacked.detach(), expected.detach(), **CLOSE, msg=lambda m: f"{name}: {m}")


def test_forward_train_mode_equals_each_module_and_its_running_stats():
    nets, grouped = separate_and_grouped()
    x = batch(torch.Generator().manual_seed(10))
    out = grouped(x)
    expected = torch.stack([net(x[s]) for s, net in enumerate(nets)])
    assert out.shape == (S, BATCH, 2)
    torch.testing.assert_close(out, expected, **CLOSE)
    assert_nets_equal(grouped, nets)  # running means/vars and num_batches_tracked moved per seed
    assert grouped.get_buffer("0.1.num_batches_tracked").tolist() == [1] * S


def test_gradient_of_summed_losses_equals_each_modules_own_gradient():
    nets, grouped = separate_and_grouped()
    x = batch(torch.Generator().manual_seed(11))
    loss_per_seed(grouped(x)).sum().backward()
    for s, net in enumerate(nets):
        loss_per_seed(net(x[s])).backward()
    for name, stacked in grouped.named_parameters():
        expected = torch.stack([net.get_parameter(name).grad for net in nets])
        torch.testing.assert_close(stacked.grad, expected, **CLOSE, msg=lambda m: f"{name}.grad: {m}")


class FeatureD(nn.Module):
    """A D with the nets registry's interface: ``D(x, features=True) -> (logits, features)``."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.body = mlp([3, 8, 4], "relu", batchnorm=True)
        self.head = nn.Linear(4, 1)
        self.scale = nn.Parameter(torch.ones(()))  # a parameter on the root module itself
        init_normal(self, 0.5, torch.Generator().manual_seed(seed))

    def forward(self, x: torch.Tensor, features: bool = False):
        h = self.body(x)
        logits = self.scale * self.head(h)
        return (logits, h) if features else logits


def test_keyword_arguments_pass_to_every_seed_and_tuple_outputs_keep_the_seed_dimension():
    nets = [FeatureD(seed) for seed in range(S)]
    grouped = GroupedModule(copy.deepcopy(nets))
    assert [name for name, _ in grouped.named_parameters()] == [name for name, _ in nets[0].named_parameters()]
    x = batch(torch.Generator().manual_seed(18))
    logits, features = grouped(x, features=True)
    expected = [net(x[s], features=True) for s, net in enumerate(nets)]
    torch.testing.assert_close(logits, torch.stack([e[0] for e in expected]), **CLOSE)
    torch.testing.assert_close(features, torch.stack([e[1] for e in expected]), **CLOSE)
    assert grouped(x).shape == (S, BATCH, 1)


def train_both(grouped: GroupedModule, opt: torch.optim.Optimizer, nets: list[nn.Module],
               opts: list[torch.optim.Optimizer], steps: int, data: torch.Generator) -> None:
    """``steps`` steps of the group on the summed per-seed losses, and of each separate net on its slice."""
    for _ in range(steps):
        x = batch(data)
        opt.zero_grad()
        loss_per_seed(grouped(x)).sum().backward()
        opt.step()
        for s, (net, o) in enumerate(zip(nets, opts)):
            o.zero_grad()
            loss_per_seed(net(x[s])).backward()
            o.step()


@pytest.fixture(scope="module")
def trained():
    """K fused-Adam steps of the grouped nets, and K steps of S separate fused Adams on the same batches."""
    nets, grouped = separate_and_grouped()
    opt = adam(grouped.parameters(), 1e-2, (0.5, 0.999))
    opts = [adam(net.parameters(), 1e-2, (0.5, 0.999)) for net in nets]
    train_both(grouped, opt, nets, opts, STEPS, torch.Generator().manual_seed(12))
    return nets, opts, grouped, opt


def test_twenty_fused_adam_steps_equal_separate_adams_with_running_stats(trained):
    nets, _, grouped, _ = trained
    assert_nets_equal(grouped, nets)
    start = GroupedModule([make_net(seed) for seed in range(S)])
    moved = (grouped.get_parameter("2.0.linear.weight") - start.get_parameter("2.0.linear.weight")).abs().amin(-1)
    assert bool((moved > 0).all())  # every seed's parameters moved: the comparison is not of untouched copies
    assert grouped.get_buffer("0.4.num_batches_tracked").tolist() == [STEPS] * S


def test_eval_mode_uses_each_seeds_running_statistics(trained):
    nets, _, grouped, _ = copy.deepcopy(trained)
    x = batch(torch.Generator().manual_seed(13))
    train_out = grouped(x)
    for s, net in enumerate(nets):
        net(x[s])  # the same running-statistics update as the grouped call's
    grouped.eval()
    for net in nets:
        net.eval()
    before = {k: v.clone() for k, v in grouped.state_dict().items()}
    out = grouped(x)
    torch.testing.assert_close(out, torch.stack([net(x[s]) for s, net in enumerate(nets)]), **CLOSE)
    assert not torch.allclose(out, train_out, atol=1e-3)  # batch statistics and running statistics differ here
    for key, value in grouped.state_dict().items():
        assert torch.equal(value, before[key]), key  # eval leaves the running statistics alone
    grouped.train()
    assert grouped.training and grouped.get_submodule("0.1").training


def test_functional_call_with_swapped_stacked_parameters_and_second_order_gradient():
    """The unrolled GAN's use: D's parameters after a differentiable gradient step, swapped in through
    functional_call(grouped, {name: stacked}), and G's gradient through that step; against each module's
    functional_call with its own slice. Uses the unrolled setting's D (tanh MLP, orthogonal init)."""
    nets = [init_orthogonal(mlp([3, 16, 16, 2], "tanh"), 1.4, torch.Generator().manual_seed(s)) for s in range(S)]
    grouped = GroupedModule(copy.deepcopy(nets))
    x = batch(torch.Generator().manual_seed(14))
    shift = torch.randn(S, 1, 3, generator=torch.Generator().manual_seed(15), requires_grad=True)

    def unrolled_loss(module, params, inputs, shift):
        grads = torch.autograd.grad(loss_per_seed(functional_call(module, params, (inputs + shift,))).sum(),
                                    list(params.values()), create_graph=True)
        stepped = {k: p - 0.1 * g for (k, p), g in zip(params.items(), grads)}
        return loss_per_seed(functional_call(module, stepped, (inputs + shift,))).sum()

    grouped_loss = unrolled_loss(grouped, dict(grouped.named_parameters()), x, shift)
    (grouped_grad,) = torch.autograd.grad(grouped_loss, shift)
    separate_losses, separate_grads = [], []
    for s, net in enumerate(nets):
        loss = unrolled_loss(net, dict(net.named_parameters()), x[s], shift[s])
        separate_losses.append(loss)
        separate_grads.append(torch.autograd.grad(loss, shift)[0][s])
    torch.testing.assert_close(grouped_loss, torch.stack(separate_losses).sum(), **CLOSE)
    torch.testing.assert_close(grouped_grad, torch.stack(separate_grads), **CLOSE)
    # functional_call restores the module's own parameters afterwards
    torch.testing.assert_close(grouped(x), torch.stack([net(x[s]) for s, net in enumerate(nets)]), **CLOSE)


def test_state_dicts_are_the_base_modules_format_and_load_back(trained):
    nets, _, grouped, _ = trained
    per_seed = grouped.state_dicts()
    for s, net in enumerate(nets):
        expected = net.state_dict()
        assert list(per_seed[s]) == list(expected)  # same keys in the same order
        assert per_seed[s]._metadata == expected._metadata  # BatchNorm's version, read by load_state_dict
        for key, value in expected.items():
            assert per_seed[s][key].shape == value.shape and per_seed[s][key].dtype == value.dtype, key
            torch.testing.assert_close(per_seed[s][key], value, **CLOSE)
            # copies, not views of the stacked tensor: torch.save would otherwise write all S seeds
            assert per_seed[s][key].untyped_storage().nbytes() == value.untyped_storage().nbytes(), key
        plain = make_net(99)
        plain.load_state_dict(per_seed[s])  # strict: an ungrouped module reads it
    fresh = GroupedModule([make_net(100 + seed) for seed in range(S)])
    for s, sd in enumerate(per_seed):
        fresh.load_unstacked(s, sd)
    for key, value in grouped.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value), key


def test_unstack_is_an_independent_ordinary_module(trained):
    nets, _, grouped, _ = copy.deepcopy(trained)
    grouped.eval()
    x = batch(torch.Generator().manual_seed(16))
    for s, net in enumerate(nets):
        one = grouped.unstack(s)
        assert type(one) is type(net) and not one.training
        torch.testing.assert_close(one(x[s]), net.eval()(x[s]), **CLOSE)
        with torch.no_grad():
            one.get_parameter("2.2.weight").add_(1.0)
        torch.testing.assert_close(grouped.get_parameter("2.2.weight")[s], net.get_parameter("2.2.weight"), **CLOSE)


def test_load_unstacked_refuses_a_foreign_state_dict_and_changes_nothing(trained):
    _, _, grouped, _ = trained
    before = {k: v.clone() for k, v in grouped.state_dict().items()}
    foreign = make_net(0).state_dict()
    foreign["0.0.weight"] = torch.zeros(16, 4)
    with pytest.raises(RuntimeError, match="size mismatch"):
        grouped.load_unstacked(1, foreign)
    for key, value in grouped.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_optimizer_split_equals_separate_adams_and_merge_resumes_them(trained):
    nets, opts, grouped, opt = copy.deepcopy(trained)
    split = split_optimizer_state(opt.state_dict(), S)
    for s, o in enumerate(opts):
        expected = o.state_dict()
        assert split[s]["param_groups"] == expected["param_groups"]
        assert split[s]["state"].keys() == expected["state"].keys()
        for index, entries in expected["state"].items():
            assert split[s]["state"][index].keys() == entries.keys()
            for name, value in entries.items():
                got = split[s]["state"][index][name]
                assert got.shape == value.shape and got.dtype == value.dtype, (index, name)
                torch.testing.assert_close(got, value, **CLOSE)
    assert torch.equal(split[0]["state"][0]["step"], torch.tensor(float(STEPS)))
    merged = merge_optimizer_states([o.state_dict() for o in opts])
    exact = merge_optimizer_states(split)
    for index, entries in opt.state_dict()["state"].items():
        for name, value in entries.items():
            assert torch.equal(exact["state"][index][name], value), (index, name)
    # resume: a new group from the separate runs' checkpoints continues as the separate runs do
    resumed = GroupedModule([make_net(200 + seed) for seed in range(S)])
    for s, net in enumerate(nets):
        resumed.load_unstacked(s, net.state_dict())
    resumed_opt = adam(resumed.parameters(), 1e-2, (0.5, 0.999))
    resumed_opt.load_state_dict(merged)
    train_both(resumed, resumed_opt, nets, opts, 3, torch.Generator().manual_seed(17))
    assert_nets_equal(resumed, nets)


def test_merge_refuses_seeds_at_different_steps(trained):
    _, opts, _, _ = trained
    states = [copy.deepcopy(o.state_dict()) for o in opts]
    for entries in states[2]["state"].values():
        entries["step"] = entries["step"] + 1
    with pytest.raises(GanEvalError, match=r"seed 2: optimizer step is 21 but seed 0's is 20"):
        merge_optimizer_states(states)


def test_modules_of_different_structure_or_wrong_input_are_refused():
    with pytest.raises(ValueError, match="module 1 differs"):
        GroupedModule([mlp([3, 16, 2]), mlp([3, 8, 2])])
    with pytest.raises(ValueError, match="seed dimension"):
        GroupedModule([mlp([3, 16, 2]), mlp([3, 16, 2])])(torch.zeros(3, 5, 3))


@pytest.mark.parametrize("text, seeds", [
    ("0-9", list(range(10))), ("3", [3]), ("0,2,5", [0, 2, 5]), ("0-3,8", [0, 1, 2, 3, 8]), (" 7 , 1-2 ", [7, 1, 2]),
])
def test_parse_seeds(text, seeds):
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize("text, problem", [
    ("5-2", "descending; write it as 2-5"), ("1,1", "seed 1 is given twice"), ("0-3,2", "seed 2 is given twice"),
    ("-1", "is negative"), ("", "is empty"), ("  ", "is empty"), ("a", "not a seed or a range"),
    ("1-", "not a seed or a range"), ("0,,1", "not a seed or a range"), ("1.5", "not a seed or a range"),
])
def test_parse_seeds_refuses(text, problem):
    with pytest.raises(GanEvalError, match=problem) as info:
        parse_seeds(text)
    message = str(info.value)
    assert message.startswith("--seeds") and "\n" not in message
