"""The image evaluators of the training engine (fid / kid, ivom) and evaluator specs with options.

Proven against what no one here wrote: FID equals the closed-form Fréchet distance of the same features computed
here with numpy and scipy's ``sqrtm``; KID equals torch-fidelity's ``kid_features_to_metric``; FID through the
bundled MNIST classifier equals ``gan_eval.score`` of the same images as files; IvOM reaches the closed forms of
a linear generator whose range holds the held-out images (MSE 0) and of a constant one (mean squared distance).
Small synthetic datasets (``npz`` files in tmp_path), no downloads.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.linalg
import torch
from conftest import stub_torchvision
from torch import nn

import gan_eval
from gan_eval.errors import GanEvalError
from gan_eval.io.latent import LatentSpec
from trainers.datasets import build_dataset
from trainers.evaluators import EvalInput, build_evaluators
from trainers.loop import TrainConfig, resolve_config

CPU = torch.device("cpu")
SHAPE = (1, 4, 4)


def npz_dataset(tmp_path, array: np.ndarray, options: str = "held_out=0.5"):
    path = tmp_path / "data.npz"
    np.savez(path, x=array)
    return build_dataset(f"npz:path={path},{options}")


def evaluate(evaluator, samples: torch.Tensor, generator: nn.Module | None = None, latent_dim: int = 3, seed: int = 0):
    return evaluator(EvalInput(samples, generator or nn.Identity(), LatentSpec(latent_dim), seed, CPU))


def frechet_numpy(a: np.ndarray, b: np.ndarray) -> float:
    """The closed form ||mu_a - mu_b||^2 + tr(S_a + S_b - 2 sqrtm(S_a S_b)), numpy covariances and scipy's sqrtm."""
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(sa + sb - 2 * scipy.linalg.sqrtm(sa @ sb).real))


@pytest.fixture
def signed_images(tmp_path):
    """A [-1, 1] float dataset of 1 x 4 x 4 images (200 held out) and 150 samples from another distribution."""
    rng = np.random.RandomState(0)
    data = np.tanh(rng.randn(400, *SHAPE)).astype(np.float32)
    samples = torch.from_numpy(np.tanh(0.5 * rng.randn(150, *SHAPE) + 0.3).astype(np.float32))
    return npz_dataset(tmp_path, data), samples


def test_fid_equals_the_closed_form_frechet_distance_scipy(signed_images):
    """Pixel features on the [0, 1] scale ((x + 1) / 2 of [-1, 1] images): the evaluator's FID is numpy/scipy's."""
    dataset, samples = signed_images
    (fid,) = build_evaluators(["fid:features=pixels"], dataset, CPU)
    expected = frechet_numpy(((samples.numpy() + 1) / 2).reshape(150, -1), ((dataset.held_out().numpy() + 1) / 2).reshape(200, -1))
    assert fid.keys == ("fid",)
    assert abs(evaluate(fid, samples)["fid"] - expected) < 1e-6 * expected  # scipy's sqrtm: ~1e-7 relative
    assert evaluate(fid, samples) == evaluate(fid, samples)  # the reference kept in memory gives the same number


def test_fid_of_the_held_out_split_against_itself_is_zero(signed_images):
    dataset, _ = signed_images
    (fid,) = build_evaluators(["fid:features=pixels"], dataset, CPU)
    assert abs(evaluate(fid, dataset.held_out())["fid"]) < 1e-9


def test_kid_equals_torch_fidelity_on_the_same_features(signed_images):
    """``fid:kid=true`` reports both from one extraction; KID is torch-fidelity 0.4.0's on the same features,
    subsets drawn from the evaluation seed; ``kid`` alone is the same number."""
    stub_torchvision()
    from torch_fidelity.metric_kid import kid_features_to_metric

    dataset, samples = signed_images
    (both,) = build_evaluators(["fid:features=pixels,kid=true,subsets=7,subset_size=50"], dataset, CPU)
    (only,) = build_evaluators(["kid:features=pixels,subsets=7,subset_size=50"], dataset, CPU)
    fake, real = ((samples + 1) / 2).flatten(1).double(), ((dataset.held_out() + 1) / 2).flatten(1).double()
    expected = kid_features_to_metric(fake, real, kid_subsets=7, kid_subset_size=50, kid_kernel="poly", kid_kernel_poly_degree=3,
                                      kid_kernel_poly_gamma=None, kid_kernel_poly_coef0=1, rng_seed=4, verbose=False)
    values = evaluate(both, samples, seed=4)
    assert (both.keys, only.keys) == (("fid", "kid"), ("kid",))
    assert abs(values["kid"] - expected["kernel_inception_distance_mean"]) < 1e-6 * abs(expected["kernel_inception_distance_mean"])
    assert abs(values["kid_std"] - expected["kernel_inception_distance_std"]) < 1e-4 * expected["kernel_inception_distance_std"]
    assert evaluate(only, samples, seed=4) == {"kid": values["kid"], "kid_std": values["kid_std"]}
    with pytest.raises(GanEvalError, match="both report 'kid'; pick one of them"):
        build_evaluators(["fid:features=pixels,kid=true,subset_size=50", "kid:features=pixels,subset_size=50"], dataset, CPU)


def test_grayscale_fid_with_the_bundled_mnist_classifier_equals_gan_eval_score(tmp_path):
    """uint8 1 x 28 x 28 images train in [-1, 1]; the evaluator's FID on them equals ``gan_eval.score`` of the
    same images given as uint8 files (range 0..255), the ``mnist`` features reading the one channel."""
    rng = np.random.RandomState(1)
    data = (rng.rand(300, 1, 28, 28) ** 2 * 255).astype(np.uint8)
    dataset = npz_dataset(tmp_path, data, "held_out=0.5")
    samples = (rng.rand(160, 1, 28, 28) * 255).astype(np.uint8)
    np.savez(tmp_path / "held.npz", x=data[150:])
    (fid,) = build_evaluators(["fid:features=mnist"], dataset, CPU)
    ours = evaluate(fid, torch.from_numpy(samples).float() / 127.5 - 1)["fid"]
    peer = gan_eval.score(samples, "fid", str(tmp_path / "held.npz"), features="mnist")["fid"]
    assert fid.layer == "penultimate"
    assert abs(ours - peer) < 1e-5 * peer


def test_reference_n_draws_a_fixed_subset_and_is_recorded(signed_images):
    dataset, samples = signed_images
    a, b = (build_evaluators(["fid:features=pixels,reference_n=50"], dataset, CPU)[0] for _ in range(2))
    assert evaluate(a, samples) == evaluate(b, samples)
    assert a.describe()["reference"] == {"split": "held out", "images": "50 drawn with seed 0", "of": 200, "value_range": "-1,1"}
    with pytest.raises(GanEvalError, match="reference_n=500 must be between 2 and the 200"):
        build_evaluators(["fid:features=pixels,reference_n=500"], dataset, CPU)


def test_specs_with_options_are_checked_and_recorded(signed_images):
    """Options fill each evaluator's dataclass (typed), describe() is JSON and the same for the same spec."""
    dataset, _ = signed_images
    specs = ["fid:features=pixels,batch_size=7", "ivom:n=9,steps=5,lr=1"]
    first, second = (json.dumps([e.describe() for e in build_evaluators(specs, dataset, CPU)]) for _ in range(2))
    assert first == second
    fid, ivom = json.loads(first)
    assert (fid["options"]["batch_size"], fid["features"]["name"], fid["layer"]) == (7, "pixels", "pixels")
    assert ivom["options"] | {"n": 9, "steps": 5, "lr": 1.0} == ivom["options"]
    defaults = build_evaluators(None, build_dataset("ring8"), CPU)  # the dataset's, without options: recorded as before
    assert json.dumps([e.describe() for e in defaults]) == '[{"name": "modes"}]'


@pytest.mark.parametrize(
    "spec, message",
    [
        ("fid:feature=pixels", "evaluator 'fid': unknown option 'feature'; it takes features, weights, layer"),
        ("fid:reference_n=many", "evaluator 'fid': option reference_n='many' is not int or none"),
        ("fid:kid=2", "evaluator 'fid': option kid=2 is not bool"),
        ("ivom:n=2.5", "evaluator 'ivom': option n=2.5 is not int"),
        ("fid:pixels", "evaluator 'fid:pixels': 'pixels' is not key=value; e.g. fid:features=pixels"),
        ("fid:features=pixels,layer=pool", "evaluator fid: features pixels have no layer 'pool'; its layers: pixels"),
        ("fid:features=pixels,resize=clean", "evaluator fid: fid:features=pixels does not take resize"),
        ("fid:features=pixels,fid=false", "fid=false and kid=false report nothing"),
        ("kid:features=pixels", "KID subset_size=1000 must be between 2 and the 200 reference images; pass kid:subset_size=N"),
        ("ivom:n=0", "evaluator ivom: n=0 must be positive"),
        ("ivom:steps=0", "evaluator ivom: steps=0 must be positive"),
        ("ivom:optimizer=sgd", "optimizer='sgd' is unknown; use one of lbfgs, adam"),
        ("fidd", "unknown evaluator 'fidd': did you mean 'fid'?"),
        ("modes:n=3", "evaluator 'modes': unknown option 'n'; it takes no options"),
    ],
)
def test_bad_specs_are_one_line_at_construction(signed_images, spec, message):
    dataset, _ = signed_images
    with pytest.raises(GanEvalError) as caught:
        build_evaluators([spec], build_dataset("ring8") if spec.startswith("modes") else dataset, CPU)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_missing_inception_weights_fail_at_construction_naming_the_fixes(signed_images, tmp_path, monkeypatch):
    """Inception (the default features) without weights: one line before training, saying how to give them with
    --eval, the environment variable, or features that need no download."""
    dataset, _ = signed_images
    monkeypatch.setenv("GAN_EVAL_INCEPTION_WEIGHTS", str(tmp_path / "absent.pth"))
    cases = (
        ("fid", f"GAN_EVAL_INCEPTION_WEIGHTS: {tmp_path / 'absent.pth'} is not a file; point it (or --eval fid:weights=PATH) at"),
        (f"fid:weights={tmp_path / 'none.pth'}", f"fid:weights: {tmp_path / 'none.pth'} is not a file; point it (or $GAN_EVAL_INCEPTION_WEIGHTS) at"),
    )
    for spec, cause in cases:
        with pytest.raises(GanEvalError) as caught:
            build_evaluators([spec], dataset, CPU)
        text = str(caught.value)
        assert text.startswith(f"evaluator fid: {cause} pt_inception-2015-12-05-6726825d.pth") and "\n" not in text
        assert "fid:features=pixels" in text and "fid:features=mnist" in text and "--features" not in text


def test_inception_weights_from_the_spec_are_recorded_by_content(signed_images, tmp_path):
    """``fid:weights=PATH`` loads the file at construction (and runs two held-out images through it); the run's
    configuration records the weights' content hash and file name, not the path."""
    from inception_helpers import write_random_inception_weights

    dataset, _ = signed_images
    path = write_random_inception_weights(tmp_path / "pt_inception-2015-12-05-6726825d.pth")
    (fid,) = build_evaluators([f"fid:weights={path}"], dataset, CPU)
    described = fid.describe()
    assert (described["features"]["name"], described["layer"], described["features"]["weights_file"]) == ("inception", "pool", path.name)
    assert str(tmp_path) not in json.dumps(described)


def test_no_held_out_split_or_vectors_are_one_line_before_training(tmp_path):
    images = npz_dataset(tmp_path, np.random.RandomState(0).rand(20, *SHAPE).astype(np.float32), "held_out=0")
    for name in ("fid", "ivom"):
        with pytest.raises(GanEvalError, match=f"^evaluator {name}: dataset npz has no held-out split for {name}; give it one"):
            build_evaluators([f"{name}:features=pixels" if name == "fid" else name], images, CPU)
    with pytest.raises(GanEvalError, match="^evaluator fid: dataset ring8 holds vectors; fid scores images"):
        resolve_config(TrainConfig(method="gan", dataset="ring8", evaluators=("fid:features=pixels",)))


def linear_generator(a: torch.Tensor) -> nn.Module:
    """G(z) = A z, shaped as images."""
    linear = nn.Linear(a.shape[1], a.shape[0], bias=False)
    linear.weight.data.copy_(a)
    return nn.Sequential(linear, nn.Unflatten(1, SHAPE))


def test_ivom_of_a_linear_generator_whose_range_holds_the_images_is_zero(tmp_path):
    """Held-out images A z_i ([-1, 1] floats): each is G(z_i), so min_z ||G(z) - x||^2 = 0 (closed form)."""
    gen = torch.Generator().manual_seed(0)
    a = 0.1 * torch.randn(16, 3, generator=gen)
    images = (torch.randn(60, 3, generator=gen) @ a.T).view(-1, *SHAPE)
    assert images.abs().max() < 1
    dataset = npz_dataset(tmp_path, images.numpy())
    (ivom,) = build_evaluators(["ivom:n=20"], dataset, CPU)
    values = evaluate(ivom, torch.zeros(5, *SHAPE), linear_generator(a), latent_dim=3)
    assert values["ivom_n"] == 20 and values["ivom_mse"] < 1e-10


def test_ivom_of_a_constant_generator_is_the_mean_squared_distance(tmp_path):
    """G(z) = c: MSE(x) = mean((x - c)^2) on the [0, 1] scale for every held-out image (all of them: n > split),
    s.e. = std / sqrt(n); the training generator (BatchNorm, train mode) is left as it was."""
    rng = np.random.RandomState(2)
    dataset = npz_dataset(tmp_path, rng.rand(40, *SHAPE).astype(np.float32))
    c = torch.rand(*SHAPE, generator=torch.Generator().manual_seed(3))
    g = nn.Sequential(nn.Linear(3, 16), nn.BatchNorm1d(16), nn.Unflatten(1, SHAPE))
    nn.init.zeros_(g[0].weight)
    g[1].weight.data.zero_(), g[1].bias.data.copy_(c.flatten())
    before = {k: v.clone() for k, v in g.state_dict().items()}
    (ivom,) = build_evaluators(["ivom:steps=10"], dataset, CPU)
    values = evaluate(ivom, torch.zeros(5, *SHAPE), g.train(), latent_dim=3)
    per_image = ((dataset.held_out() - c) ** 2).flatten(1).mean(1).double()
    assert values["ivom_n"] == 20
    assert abs(values["ivom_mse"] - float(per_image.mean())) < 1e-6
    assert abs(values["ivom_sem"] - float(per_image.std() / 20**0.5)) < 1e-6
    assert g.training and all(torch.equal(before[k], v) for k, v in g.state_dict().items())
    assert all(p.grad is None for p in g.parameters())


def test_ivom_images_are_a_subset_drawn_from_the_evaluation_seed(tmp_path):
    """n < the split: the same seed inverts the same images (the same number), another seed others."""
    dataset = npz_dataset(tmp_path, np.random.RandomState(4).rand(80, *SHAPE).astype(np.float32))
    c = torch.full(SHAPE, 0.5)
    g = nn.Sequential(nn.Linear(3, 16), nn.Unflatten(1, SHAPE))
    nn.init.zeros_(g[0].weight), g[0].bias.data.copy_(c.flatten())
    (ivom,) = build_evaluators(["ivom:n=10,steps=3"], dataset, CPU)
    runs = [evaluate(ivom, torch.zeros(2, *SHAPE), g, seed=seed) for seed in (7, 7, 8)]
    held = dataset.held_out()
    chosen = held[torch.randperm(40, generator=torch.Generator().manual_seed(7))[:10]]
    assert runs[0] == runs[1] != runs[2] and runs[0]["ivom_n"] == 10
    assert abs(runs[0]["ivom_mse"] - float(((chosen - c) ** 2).mean())) < 1e-6
