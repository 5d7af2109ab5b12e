"""The bundled MNIST classifier: its accuracy on t10k, its recorded hash, the ``mnist`` extractor, and training determinism."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_eval.errors import GanEvalError
from gan_eval.features import FEATURES
from gan_eval.features.mnist_classifier import WEIGHTS_PATH, file_sha256, inference_copy, load_net, weights_card
from gan_eval.features.weights import state_hash
from gan_eval.features.train_mnist_classifier import TrainSettings, accuracy, random_shift, train_classifier
from gan_eval.io.mnist import load_mnist



@pytest.fixture(scope="module")
def t10k(mnist_dir):
    return load_mnist(mnist_dir, "test")


def test_shipped_weights_reach_99_3_percent_on_t10k_as_recorded(t10k):
    """The issue's bar: >= 99.3 % on the 10,000 test digits the classifier never saw; the card says the same."""
    images, labels = t10k
    acc = accuracy(inference_copy(load_net()[0]), images, labels)  # the net the metric runs (BatchNorm folded)
    assert acc >= 0.993
    assert abs(acc - weights_card()["test_accuracy"]) <= 1e-4  # at most one image apart (float round-off)


def test_weights_file_is_small_and_matches_its_recorded_sha256():
    card = weights_card()
    assert WEIGHTS_PATH.stat().st_size < 2_000_000
    assert file_sha256(WEIGHTS_PATH) == card["sha256"]
    assert state_hash(torch.load(WEIGHTS_PATH, weights_only=True)) == card["weights"]
    assert card["settings"]["seed"] == 0 and "train-classifier" in card["command"]


def test_mnist_extractor_layers_and_32px_crop(t10k):
    images = torch.from_numpy(t10k[0][:64]).float().div(255).unsqueeze(1)
    extractor = FEATURES.get("mnist")()
    out = extractor(images)
    assert out["penultimate"].shape == (64, 128) and out["logits"].shape == (64, 10)
    assert (out["penultimate"] >= 0).all()  # after ReLU
    padded = torch.nn.functional.pad(images, (2, 2, 2, 2))
    assert torch.equal(extractor(padded)["logits"], out["logits"])
    assert extractor.describe()["weights"] == weights_card()["weights"]
    with pytest.raises(GanEvalError, match="N x 1 x H x W digits or N x 3"):
        extractor(images.expand(-1, 2, -1, -1))
    with pytest.raises(GanEvalError, match="images are 20x20 but the mnist classifier takes 28x28"):
        extractor(images[:, :, :20, :20])


def test_stacked_mnist_features_are_the_concatenated_features_of_each_channel(t10k):
    """The invariant that defines the per-channel layers, exactly: a 3-channel sample's features are its three
    channels' grayscale features side by side, in channel order (penultimate 3 x 128, logits 3 x 10)."""
    digits = torch.from_numpy(t10k[0][:96]).float().div(255).unsqueeze(1)
    stacked = torch.cat([digits[:32], digits[32:64], digits[64:]], dim=1)  # N x 3 x 28 x 28, three digits each
    extractor = FEATURES.get("mnist")()
    out = extractor(stacked)
    assert out["penultimate"].shape == (32, 384) and out["logits"].shape == (32, 30)
    for layer in ("penultimate", "logits"):
        per_channel = [extractor(stacked[:, c : c + 1])[layer] for c in range(3)]
        assert torch.equal(out[layer], torch.cat(per_channel, dim=1)), layer
    swapped = extractor(stacked[:, [2, 0, 1]])["penultimate"]  # channel order is the block order
    assert torch.equal(swapped, torch.cat([out["penultimate"][:, 256:], out["penultimate"][:, :256]], dim=1))
    labels = torch.from_numpy(t10k[1][:96]).reshape(3, 32).T
    assert (extractor.predict(stacked) == labels).float().mean() > 0.97  # N x 3 digits, one per channel
    assert "each channel on its own" in extractor.describe()["preprocessing"]


def test_foreign_weights_file_is_a_one_line_error(tmp_path):
    bad = tmp_path / "w.pt"
    torch.save({"conv.weight": torch.zeros(3)}, bad)
    with pytest.raises(GanEvalError, match="not an mnist classifier state dict"):
        load_net(bad)


def test_random_shift_is_a_zero_filled_translation():
    x = torch.arange(2 * 6 * 6, dtype=torch.float32).reshape(2, 1, 6, 6) + 1
    shifted = random_shift(x, 2, torch.Generator().manual_seed(1))
    for i in range(2):
        # find the offset: the image must equal x shifted by some (dy, dx) in [-2, 2]^2 with zeros moved in
        matches = []
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                ref = torch.zeros(6, 6)
                ys, xs = slice(max(dy, 0), 6 + min(dy, 0)), slice(max(dx, 0), 6 + min(dx, 0))
                yd, xd = slice(max(-dy, 0), 6 + min(-dy, 0)), slice(max(-dx, 0), 6 + min(-dx, 0))
                ref[yd, xd] = x[i, 0][ys, xs]
                matches.append(torch.equal(ref, shifted[i, 0]))
        assert sum(matches) == 1


def test_training_is_deterministic_from_its_seed(t10k):
    """Same seed, same weights (bit for bit); another seed, other weights. A short run on 512 digits."""
    images, labels = t10k[0][:512], t10k[1][:512]
    settings = TrainSettings(epochs=1, batch_size=64)
    state = torch.get_rng_state()
    a = train_classifier(images, labels, settings)  # on one thread, as train-classifier --threads 1
    b = train_classifier(images, labels, settings)
    c = train_classifier(images, labels, TrainSettings(epochs=1, batch_size=64, seed=1))
    assert torch.equal(torch.get_rng_state(), state)  # the caller's RNG is untouched
    assert state_hash(a) == state_hash(b) != state_hash(c)
    assert np.isfinite(sum(float(v.float().sum()) for v in a.values()))
