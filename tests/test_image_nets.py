"""The image G/D pairs of ``trainers.nets``: the pair contract, the reference codes' layer shapes, TF's SAME
padding, spectral normalisation, and stacked copies under ``torch.func.vmap`` (grouped seeds)."""
from __future__ import annotations

import copy
import functools
import math

import pytest
import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm as torch_spectral_norm

from gan_eval.errors import GanEvalError
from trainers.nets import NETS, build_nets
from trainers.nets.image_pair import ImagePair
from trainers.nets.spectral import spectral_norm_all
from trainers.nets.tf_same import SameConv2d, SameConvTranspose2d, same_padding

IMAGE_PAIRS = [name for name in NETS.names() if isinstance(NETS.get(name), ImagePair)]
LATENT = 16
BATCH = 4


def image_shape(name: str) -> tuple[int, int, int]:
    size = NETS.get(name).size
    return (3, size, size)


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def state(*modules: nn.Module) -> dict[str, torch.Tensor]:
    return {f"{i}.{k}": v.clone() for i, m in enumerate(modules) for k, v in m.state_dict().items()}


@functools.cache
def pristine(name: str) -> tuple[dict[str, torch.Tensor], tuple[nn.Module, nn.Module]]:
    """One seed-0 build per pair (building the big DCGANs costs ~1 s), with its state at build time."""
    G, D = build_nets(name, LATENT, image_shape(name), seeded(0))
    return state(G, D), (G, D)


def meta_pair(name: str, latent_dim: int, pack: int = 1, **options) -> tuple[nn.Module, nn.Module]:
    """The architecture alone, on the meta device (shapes without memory or init)."""
    shape = image_shape(name)
    with torch.device("meta"):
        return NETS.get(name).build(latent_dim, shape, shape[0] * pack, "tanh", **options)


# ---------------------------------------------------------------- the contract, for every registered image pair

@pytest.mark.parametrize("name", IMAGE_PAIRS)
def test_pair_contract_shapes_range_features_and_train_mode_backward(name):
    _, (G, D) = pristine(name)
    shape = image_shape(name)
    z = torch.randn(BATCH, LATENT, generator=seeded(1))
    G.eval(), D.eval()
    with torch.no_grad():
        x = G(z)
        logits = D(x)
        logits_too, features = D(x, features=True)
    assert x.shape == (BATCH, *shape) and x.dtype == torch.float32
    lo, hi = G.output_range
    assert lo <= x.min() and x.max() <= hi and x.std() > 0
    assert logits.shape == (BATCH, 1) and torch.equal(logits, logits_too)
    assert features.shape == (BATCH, D.head.in_features)
    # the features are the penultimate activations: D's last linear layer maps them to the logits
    torch.testing.assert_close(D.head(features), logits)

    G.train(), D.train()
    G.zero_grad(), D.zero_grad()
    D(G(z)).sum().backward()
    for net in (G, D):
        for pname, p in net.named_parameters():
            assert p.grad is not None and torch.isfinite(p.grad).all(), pname
            assert p.grad.abs().sum() > 0, pname


@pytest.mark.parametrize("name", IMAGE_PAIRS)
def test_init_comes_from_the_generator_alone(name):
    """Same seed -> identical weights, buffers and SN vectors; another seed -> different; global RNG untouched."""
    first, _ = pristine(name)
    before = torch.get_rng_state()
    again = state(*build_nets(name, LATENT, image_shape(name), seeded(0)))
    other = state(*build_nets(name, LATENT, image_shape(name), seeded(1)))
    assert torch.equal(torch.get_rng_state(), before)
    assert first.keys() == again.keys() == other.keys()
    assert all(torch.equal(first[k], again[k]) for k in first)
    weights = [k for k in first if first[k].is_floating_point() and first[k].numel() > 1 and first[k].std() > 0]
    assert weights and all(not torch.equal(first[k], other[k]) for k in weights)


@pytest.mark.parametrize("name", IMAGE_PAIRS)
def test_pack_multiplies_the_discriminator_input_channels(name):
    """PacGAN concatenates the m packed images along channels (``tf.concat(G_sep, 3)`` in NHWC)."""
    c = image_shape(name)[0]
    _, D = meta_pair(name, LATENT, pack=4)
    first = next(m for m in D.modules() if isinstance(m, nn.Conv2d))
    assert first.in_channels == 4 * c


def test_packed_discriminator_judges_images_concatenated_along_channels():
    G, D = build_nets("unrolled28x3", LATENT, image_shape("unrolled28x3"), seeded(0), pack=2)
    pair = torch.cat([G(torch.randn(BATCH, LATENT, generator=seeded(s))) for s in (1, 2)], dim=-3)
    logits, features = D(pair, features=True)
    assert pair.shape == (BATCH, 6, 28, 28) and logits.shape == (BATCH, 1) and features.shape == (BATCH, 16 * 8)


# ---------------------------------------------------------------- the reference codes' own layer shapes

def tf_variable_shapes(module: nn.Module) -> list[tuple[int, ...]]:
    """Parameter shapes in TF's layouts (conv [kh, kw, in, out], deconv [kh, kw, out, in], matrix [in, out]),
    in creation order, as the reference's ``tf.trainable_variables()`` lists them."""
    return [tuple(p.shape[i] for i in (2, 3, 1, 0)) if p.ndim == 4 else tuple(reversed(p.shape))
            for p in module.parameters()]


def bn(c: int) -> list[tuple[int, ...]]:
    return [(c,), (c,)]  # gamma and beta (tf.contrib.layers.batch_norm(scale=True))


@pytest.mark.parametrize("name, s16", [("dcgan28x3", 2), ("dcgan32", 2), ("dcgan64", 4)])
def test_dcgan_has_the_tf_variables_of_carpedm20_model_py(name, s16):
    """fjxmlzn/PacGAN stacked_MNIST_experiments/VEEGAN_experiment/model.py (28 x 28) and
    celeba_experiments/pacgan_task_wrapper_celebA.py (64 x 64): z_dim 100, gf_dim = df_dim = 64,
    g_h0_lin to gf_dim*8*s_h16*s_w16, 5x5 deconv2d / conv2d (ops.py k_h=k_w=5), d_h4_lin on the flattened h3."""
    G, D = meta_pair(name, 100)
    assert tf_variable_shapes(G) == [
        (100, 512 * s16 * s16), (512 * s16 * s16,), *bn(512),  # g_h0_lin, g_bn0
        (5, 5, 256, 512), (256,), *bn(256),  # g_h1, g_bn1
        (5, 5, 128, 256), (128,), *bn(128),  # g_h2, g_bn2
        (5, 5, 64, 128), (64,), *bn(64),  # g_h3, g_bn3
        (5, 5, 3, 64), (3,),  # g_h4
    ]
    assert tf_variable_shapes(D) == [
        (5, 5, 3, 64), (64,),  # d_h0_conv (no BN)
        (5, 5, 64, 128), (128,), *bn(128),  # d_h1_conv, d_bn1
        (5, 5, 128, 256), (256,), *bn(256),  # d_h2_conv, d_bn2
        (5, 5, 256, 512), (512,), *bn(512),  # d_h3_conv, d_bn3
        (512 * s16 * s16, 1), (1,),  # d_h4_lin
    ]
    slopes = {m.negative_slope for m in D.modules() if isinstance(m, nn.LeakyReLU)}
    assert slopes == {0.2}  # ops.py lrelu(leak=0.2)
    assert all(m.momentum == 0.1 and m.eps == 1e-5 for m in (*G.modules(), *D.modules())
               if isinstance(m, nn.BatchNorm2d))  # ops.py batch_norm(epsilon=1e-5, momentum=0.9) as TF decay
    assert isinstance(G[-1], nn.Tanh)


@pytest.mark.parametrize("name, repeat, base", [("began28", 2, 14), ("began32", 3, 8), ("began64", 4, 8)])
def test_began_pairs_have_the_tf_variables_of_carpedm20_began_models_py(name, repeat, base):
    """carpedm20/BEGAN-tensorflow models.py (722b3f1): GeneratorCNN L5-20 (fully_connected to 8*8*n, repeat_num blocks
    of two 3x3 ELU convs with nearest upscaling between, a linear 3x3 conv to the channels) and DiscriminatorCNN's
    encoder L24-36 (3x3 conv n, blocks of two 3x3 convs of n(i+1) channels and a 3x3 stride-2 conv between, flattened
    8*8*n*repeat_num); repeat_num = int(log2(size)) - 2 (trainer.py L86), n = conv_hidden_num 128 (config.py L19).
    No BatchNorm anywhere (slim.conv2d without normalizer_fn), every activation ELU."""
    n = 128
    G, D = meta_pair(name, 64)
    conv = lambda c_in, c_out: [(3, 3, c_in, c_out), (c_out,)]  # noqa: E731
    g_blocks = [shape for _ in range(repeat) for shape in conv(n, n) + conv(n, n)]
    assert tf_variable_shapes(G) == [(64, base * base * n), (base * base * n,), *g_blocks, *conv(n, 3)]
    d_shapes = conv(3, n)
    for i in range(repeat):
        previous, block = n * max(i, 1), n * (i + 1)
        d_shapes += conv(previous, block) + conv(block, block) + (conv(block, block) if i < repeat - 1 else [])
    assert tf_variable_shapes(D) == [*d_shapes, (base * base * n * repeat, 1), (1,)]
    strides = [m.stride for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert strides.count((2, 2)) == repeat - 1 and all(isinstance(m, SameConv2d) for m in D.modules() if getattr(m, "stride", None) == (2, 2))
    ups = [m for m in G.modules() if isinstance(m, nn.Upsample)]
    assert len(ups) == repeat - 1 and all(m.mode == "nearest" and m.scale_factor == 2 for m in ups)
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in (*G.modules(), *D.modules()))
    nonlinear = (nn.ELU, nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid)
    assert {type(m) for m in (*list(G)[:-1], *D.modules()) if isinstance(m, nonlinear)} == {nn.ELU}


def test_began_pair_weights_are_tf_slim_glorot_uniform_and_biases_zero():
    """TF-slim's conv2d / fully_connected default, xavier_initializer(uniform=True): U(-a, a), a = sqrt(6 / (fan_in +
    fan_out)), fans counting the kernel's taps; biases zeros_initializer. Closed form: every weight within a, the
    variance a^2 / 3 (within 10 %: the smallest tensor here has 3 x 3 x 16 x 16 = 2,304 draws, sd of its variance
    estimate ~3 %)."""
    G, D = build_nets("began32", LATENT, (3, 32, 32), seeded(0), width=16)
    for layer in (*G.modules(), *D.modules()):
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            w = layer.weight
            receptive = w[0, 0].numel() if w.ndim == 4 else 1
            a = math.sqrt(6.0 / (receptive * (w.shape[0] + w.shape[1])))
            assert w.abs().max().item() <= a and torch.count_nonzero(layer.bias) == 0
            if w.numel() >= 2304:
                assert w.var().item() == pytest.approx(a * a / 3, rel=0.1)


@pytest.mark.parametrize("d_scale, widths", [(0.25, (2, 4, 8)), (0.5, (4, 8, 16))])
def test_unrolled_pair_has_the_tf_variables_of_pacgan_d_equals_quarter_and_half_g(d_scale, widths):
    """fjxmlzn/PacGAN stacked_MNIST_experiments/unrolled_GAN_experiment/D=0.25G/model.py and D=0.5G/model.py:
    z_dim 256, G linear to 4*4*64, 3x3 deconvs to 32, 16, 8, a 3x3 stride-1 conv to 3; D 3x3 stride-2 convs
    with d_bn1..3 on every one, leak 0.3, d_h4_lin on the flattened 4 x 4 x widths[-1]."""
    G, D = meta_pair("unrolled28x3", 256, d_scale=d_scale)
    assert tf_variable_shapes(G) == [
        (256, 1024), (1024,), *bn(64),
        (3, 3, 32, 64), (32,), *bn(32),
        (3, 3, 16, 32), (16,), *bn(16),
        (3, 3, 8, 16), (8,), *bn(8),
        (3, 3, 8, 3), (3,),
    ]
    a, b, c = widths
    assert tf_variable_shapes(D) == [
        (3, 3, 3, a), (a,), *bn(a),
        (3, 3, a, b), (b,), *bn(b),
        (3, 3, b, c), (c,), *bn(c),
        (16 * c, 1), (1,),
    ]
    assert {m.negative_slope for m in D.modules() if isinstance(m, nn.LeakyReLU)} == {0.3}
    assert sum(p.numel() for p in D.parameters()) == {0.25: 585, 0.5: 1889}[d_scale]


def test_sn_cnn32_is_the_standard_cnn_of_sn_gan_table_3():
    """Miyato et al. 2018, Table 3 (M = 32, M_g = 4): G dense -> 4x4x512, 4x4 stride-2 deconvs BN 256, 128, 64
    ReLU, 3x3 conv 3 tanh; D 3x3/4x4 convs 64, 64, 128, 128, 256, 256, 512 with lReLU 0.1, dense -> 1."""
    G, D = meta_pair("sn-cnn32", 128)
    assert isinstance(G[0], nn.Linear) and (G[0].in_features, G[0].out_features) == (128, 4 * 4 * 512)
    deconvs = [(m.kernel_size, m.stride, m.out_channels) for m in G if isinstance(m, nn.ConvTranspose2d)]
    assert deconvs == [((4, 4), (2, 2), 256), ((4, 4), (2, 2), 128), ((4, 4), (2, 2), 64)]
    assert [m.num_features for m in G if isinstance(m, nn.BatchNorm2d)] == [256, 128, 64]
    last = [m for m in G if isinstance(m, nn.Conv2d)]
    assert [(m.kernel_size, m.stride, m.out_channels) for m in last] == [((3, 3), (1, 1), 3)]
    assert isinstance(G[-1], nn.Tanh)
    convs = [(m.kernel_size[0], m.stride[0], m.out_channels) for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert convs == [(3, 1, 64), (4, 2, 64), (3, 1, 128), (4, 2, 128), (3, 1, 256), (4, 2, 256), (3, 1, 512)]
    assert {m.negative_slope for m in D.modules() if isinstance(m, nn.LeakyReLU)} == {0.1}
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in D.modules())
    assert (D.head.in_features, D.head.out_features) == (4 * 4 * 512, 1)


def test_sn_cnn32_width_scales_every_layer_of_table_3_and_64_is_table_3():
    """``width`` is Table 3's narrowest channel count: 64 builds Table 3's net; 8 divides every channel count by 8."""
    def channels(width):
        G, D = build_nets("sn-cnn32", LATENT, (3, 32, 32), seeded(0), **({} if width is None else {"width": width}))
        return ([m.out_features for m in G.modules() if isinstance(m, nn.Linear)], [m.out_channels for m in G.modules() if isinstance(m, nn.ConvTranspose2d)],
                [m.out_channels for m in D.modules() if isinstance(m, nn.Conv2d)], D.head.in_features)

    assert channels(64) == channels(None)
    assert channels(8) == ([4 * 4 * 64], [32, 16, 8], [8, 8, 16, 16, 32, 32, 64], 4 * 4 * 64)


# ---------------------------------------------------------------- TensorFlow's SAME padding

def test_same_padding_follows_tf_rule():
    """The classic example of TF's SAME (13 inputs, filter 6, stride 5: 1 zero before, 2 after) and the cases
    the ported nets meet: output ceil(n / s), the odd zero after."""
    assert same_padding(13, 6, 5) == (1, 2)
    assert same_padding(28, 5, 2) == (1, 2) and same_padding(7, 5, 2) == (2, 2)
    assert same_padding(28, 3, 2) == (0, 1) and same_padding(28, 3, 1) == (1, 1)
    x = torch.randn(2, 3, 28, 28)
    for n_out, conv in ((14, SameConv2d(3, 4, 5, 2)), (14, SameConv2d(3, 4, 3, 2)), (28, SameConv2d(3, 4, 3, 1))):
        assert conv(x).shape[-2:] == (n_out, n_out)


def test_same_padding_equals_torch_where_it_is_symmetric():
    """With an even total padding TF's SAME is torch's symmetric ``padding=p``."""
    x = torch.randn(2, 3, 7, 7)
    same = SameConv2d(3, 4, 5, 2)  # 7 -> 4, 2 zeros each side
    ref = nn.Conv2d(3, 4, 5, 2, padding=2)
    ref.load_state_dict(same.state_dict())
    torch.testing.assert_close(same(x), ref(x))


@pytest.mark.parametrize("kernel, stride, n_out", [(5, 2, 4), (5, 2, 7), (5, 2, 14), (5, 2, 28), (5, 2, 64),
                                                   (3, 2, 7), (3, 2, 14), (3, 2, 28)])
def test_same_transposed_conv_is_the_adjoint_of_same_conv(kernel, stride, n_out):
    """TF defines conv2d_transpose(output_shape, SAME) as the gradient of the SAME conv2d from that output
    size: <conv(x), y> = <x, conv_transpose(y)> for every x, y (checked by autograd)."""
    conv = SameConv2d(3, 5, kernel, stride).double()
    deconv = SameConvTranspose2d(5, 3, kernel, stride, n_out).double()
    with torch.no_grad():
        deconv.weight.copy_(conv.weight)  # one [5, 3, k, k] tensor: conv maps 3 -> 5 channels, deconv 5 -> 3
        conv.bias.zero_(), deconv.bias.zero_()
    n_in = -(-n_out // stride)
    assert conv(torch.zeros(1, 3, n_out, n_out, dtype=torch.float64)).shape[-1] == n_in
    x = torch.zeros(2, 3, n_out, n_out, dtype=torch.float64, requires_grad=True)
    y = torch.randn(2, 5, n_in, n_in, dtype=torch.float64, generator=seeded(0))
    (adjoint_y,) = torch.autograd.grad((conv(x) * y).sum(), x)  # d<conv(x), y>/dx = conv^T y
    torch.testing.assert_close(deconv(y), adjoint_y)


# ---------------------------------------------------------------- spectral normalisation

def planted(out_channels: int, in_channels: int, kernel: int, singular_values: list[float]) -> torch.Tensor:
    """A conv weight whose reshaped [out, in*k*k] matrix has exactly ``singular_values``."""
    g = seeded(3)
    u, _ = torch.linalg.qr(torch.randn(out_channels, out_channels, generator=g))
    v, _ = torch.linalg.qr(torch.randn(in_channels * kernel * kernel, out_channels, generator=g))
    return (u @ torch.diag(torch.tensor(singular_values)) @ v.T).reshape(out_channels, in_channels, kernel, kernel)


def test_spectral_norm_divides_by_the_largest_singular_value():
    """Closed form: SN(W) = W / sigma_max(W) (Miyato et al. 2018, eq. 8) on the reshaped weight; with a clear
    spectral gap the 15 warm-up power iterations already reach it."""
    conv = nn.Conv2d(2, 4, 3)
    with torch.no_grad():
        conv.weight.copy_(planted(4, 2, 3, [3.0, 1.5, 1.0, 0.5]))
    original = conv.weight.detach().clone()
    spectral_norm_all(conv, seeded(0))
    torch.testing.assert_close(conv.weight, original / 3.0)
    torch.testing.assert_close(torch.linalg.matrix_norm(conv.weight.flatten(1), ord=2), torch.tensor(1.0))


def test_spectral_norm_bounds_every_sn_cnn32_discriminator_weight():
    """On the real D weights (random, so with small spectral gaps) the power-iteration estimate u^T W v never
    exceeds sigma_max, so sigma_max(W_sn) >= 1, and it approaches 1 as training forwards iterate; the final
    dense layer is a single row, whose sigma is exact."""
    G, D = build_nets("sn-cnn32", LATENT, image_shape("sn-cnn32"), seeded(0))
    layers = [m for m in D.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert all(parametrize.is_parametrized(m, "weight") for m in layers) and len(layers) == 8
    assert not any(parametrize.is_parametrized(m) for m in G.modules())

    def sigma_max() -> torch.Tensor:
        """sigma_max(W) = sqrt(lambda_max(W W^T)): matrix_norm(ord=2)'s value, without the SVD of a 512 x 4608."""
        with torch.no_grad():
            grams = [m.weight.flatten(1).double() @ m.weight.flatten(1).double().T for m in layers]
            return torch.stack([torch.linalg.eigvalsh(g)[-1].sqrt() for g in grams]).float()

    D.eval()
    after_warmup = sigma_max()
    D.train()
    for _ in range(20):  # each training access of .weight is one power iteration
        for m in layers:
            m.weight
    D.eval()
    later = sigma_max()
    assert (after_warmup >= 1 - 1e-5).all() and (after_warmup <= 1.03).all(), after_warmup
    assert (later >= 1 - 1e-5).all() and (later <= after_warmup + 1e-6).all() and (later <= 1.02).all(), later
    torch.testing.assert_close(later[-1], torch.tensor(1.0))


@pytest.mark.parametrize("layer", [nn.Conv2d(4, 6, 3), nn.Linear(12, 5)], ids=["conv", "linear"])
def test_spectral_norm_matches_torch_spectral_norm_step_for_step(layer):
    """Peer: torch.nn.utils.parametrizations.spectral_norm, started from the same u, v, gives the same
    normalised weight, output and u, v after every training forward, and in eval mode."""
    ours, theirs = copy.deepcopy(layer), copy.deepcopy(layer)
    spectral_norm_all(ours, seeded(0))
    torch_spectral_norm(theirs)
    ours_sn, theirs_sn = ours.parametrizations.weight[0], theirs.parametrizations.weight[0]
    with torch.no_grad():
        theirs_sn._u.copy_(ours_sn._u)
        theirs_sn._v.copy_(ours_sn._v)
    x = torch.randn(3, 4, 7, 7) if isinstance(layer, nn.Conv2d) else torch.randn(3, 12)
    for _ in range(3):
        torch.testing.assert_close(ours(x), theirs(x))
        torch.testing.assert_close(ours_sn._u, theirs_sn._u)
        torch.testing.assert_close(ours_sn._v, theirs_sn._v)
    ours.eval(), theirs.eval()
    torch.testing.assert_close(ours(x), theirs(x))


def test_spectral_norm_option_normalises_exactly_the_discriminator():
    G, D = build_nets("unrolled28x3", LATENT, image_shape("unrolled28x3"), seeded(0), spectral_norm=True)
    d_layers = [m for m in D.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(d_layers) == 4 and all(parametrize.is_parametrized(m, "weight") for m in d_layers)
    assert not any(parametrize.is_parametrized(m) for m in G.modules())
    _, D_plain = build_nets("sn-cnn32", LATENT, image_shape("sn-cnn32"), seeded(0), spectral_norm=False)
    assert not any(parametrize.is_parametrized(m) for m in D_plain.modules())


# ---------------------------------------------------------------- grouped seeds: stacked copies under vmap

@pytest.mark.parametrize("spectral_norm", [False, True], ids=["batchnorm", "batchnorm+sn"])
def test_three_stacked_copies_under_vmap_equal_three_separate_nets(spectral_norm):
    """torch.func.stack_module_state + vmap(functional_call) over [3, B, ...] in train mode = the three nets run
    one by one: outputs, D's features, per-copy BatchNorm running statistics and SN vectors, and the gradients of
    a summed loss (each copy's slice gets its own gradient). unrolled28x3 (BN in G and D; every layer kind of the
    image pairs but BatchNorm1d), with and without spectral norm on D."""
    shape = image_shape("unrolled28x3")
    pairs = [build_nets("unrolled28x3", LATENT, shape, seeded(seed), spectral_norm=spectral_norm)
             for seed in range(3)]
    inputs = (torch.randn(3, BATCH, LATENT, generator=seeded(7)), torch.rand(3, BATCH, *shape, generator=seeded(8)))
    for nets, x, kwargs in (([p[0] for p in pairs], inputs[0], {}), ([p[1] for p in pairs], inputs[1], {"features": True})):
        separate = [copy.deepcopy(net) for net in nets]
        params, buffers = stack_module_state(nets)
        skeleton = copy.deepcopy(nets[0]).to("meta")
        grouped = vmap(lambda p, b, xi: functional_call(skeleton, (p, b), (xi,), kwargs))(params, buffers, x)
        one_by_one = [net(x[i], **kwargs) for i, net in enumerate(separate)]
        outputs = grouped if isinstance(grouped, tuple) else (grouped,)
        for k, out in enumerate(outputs):
            expected = torch.stack([o[k] if isinstance(o, tuple) else o for o in one_by_one])
            torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-5)
            assert not torch.allclose(out[0], out[1])
        for bname, stacked in buffers.items():
            torch.testing.assert_close(stacked, torch.stack([dict(n.named_buffers())[bname] for n in separate]))
        outputs[0].square().sum().backward()
        for o in one_by_one:
            (o[0] if isinstance(o, tuple) else o).square().sum().backward()
        # float noise is relative to the net's gradient scale (a conv bias before BN has a zero gradient in exact
        # arithmetic, so its float gradient is noise of that scale)
        scale = max(p.grad.abs().max() for p in params.values())
        for pname, stacked in params.items():
            expected = torch.stack([dict(n.named_parameters())[pname].grad for n in separate])
            torch.testing.assert_close(stacked.grad, expected, rtol=1e-4, atol=1e-5 * scale)


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("name, shape, options, message", [
    ("dcgan32", (3, 28, 28), {}, r"net 'dcgan32' makes 32 x 32 images .* shape \(3, 28, 28\)"),
    ("dcgan28x3", (2,), {}, r"net 'dcgan28x3' makes 28 x 28 images .* shape \(2,\)"),
    ("dcgan28x3", (3, 28, 28), {"pack": 0}, "option pack must be a positive integer"),
    ("dcgan28x3", (3, 28, 28), {"output": "relu"}, "option output must be one of tanh, sigmoid"),
    ("sn-cnn32", (3, 32, 32), {"spectral_norm": "no"}, "option spectral_norm must be true or false, got 'no'"),
    ("dcgan28x3", (3, 28, 28), {"d_scale": 0.5}, "net 'dcgan28x3' has no option 'd_scale': its options are d_norm, output"),
    ("unrolled28x3", (3, 28, 28), {"d_scale": 0.3}, "option d_scale=0.3 must make whole D widths"),
    ("unrolled28x3", (3, 28, 28), {"d_scale": "0.5"}, "option d_scale='0.5' must make whole D widths"),
    ("dcgan23", (3, 28, 28), {}, "unknown net 'dcgan23': did you mean"),
    ("sn-cnn32", (3, 32, 32), {"width": 0}, "net 'sn-cnn32': option width must be a positive integer, got 0"),
    ("dcgan32", (3, 32, 32), {"width": "8"}, "net 'dcgan32': option width must be a positive integer, got '8'"),
])
def test_bad_input_is_one_clear_error(name, shape, options, message):
    with pytest.raises(GanEvalError, match=message):
        build_nets(name, LATENT, shape, seeded(0), **options)


def test_sigmoid_output_option_puts_images_in_unit_range():
    G, _ = build_nets("unrolled28x3", LATENT, image_shape("unrolled28x3"), seeded(0), output="sigmoid")
    x = G(torch.randn(BATCH, LATENT, generator=seeded(1)))
    assert G.output_range == (0.0, 1.0) and 0 <= x.min() and x.max() <= 1 and isinstance(G[-1], nn.Sigmoid)


@pytest.mark.parametrize("method", ["ali-dcgan", "veegan-dcgan"])
def test_pair_discriminator_sees_whether_image_and_code_match(method):
    """Closed form: a linear head on [features(x), z] has logit a(x) + w.z + b, so the sum of its logits over a batch
    of pairs equals the sum over the same images with their codes permuted (``joint_hidden=0``, the ablation). The
    default head (a hidden layer on the concatenation, as VEEGAN's 2-D D and ALI's joint D) breaks that equality by
    far more than round-off (float64)."""
    from trainers.methods import METHODS
    from trainers.methods.base import DataShape

    shape = DataShape((3, 28, 28), "image", (0.0, 1.0))
    g = torch.Generator().manual_seed(0)
    x = torch.rand(16, 3, 28, 28, generator=g)
    z = torch.randn(16, 100, generator=g)
    shuffled = z[torch.randperm(16, generator=g)]

    def pair_sums(**params):
        cls = METHODS.get(method)
        m = cls(cls.Params(width=4, **params), shape, torch.device("cpu"))
        m.setup(torch.Generator().manual_seed(1))
        D = m.nets["D"].eval().double()
        with torch.no_grad():
            return D(x.double(), z.double()).sum().item(), D(x.double(), shuffled.double()).sum().item(), D

    matched, permuted, linear = pair_sums(joint_hidden=0)
    assert matched == pytest.approx(permuted, rel=1e-12, abs=1e-12)
    matched, permuted, D = pair_sums()
    assert abs(matched - permuted) > 1e-9  # float64 round-off is ~1e-16 here; at DCGAN's N(0, 0.02^2) init the gap is ~1e-5
    assert D.joint[0].out_features == D.joint[0].in_features - 100  # as wide as D's features of x
