"""The bundled MNIST digit classifier, registered as the ``mnist`` feature extractor.

Stacked MNIST needs a trusted digit classifier and no package ships one, so gan-eval ships its own:
``gan_eval/weights/mnist_classifier.pt`` (a plain state dict, loaded with ``torch.load(weights_only=True)``),
made by ``gan-eval train-classifier`` (:mod:`gan_eval.features.train_mnist_classifier`) on the 60,000 MNIST
training images only; ``mnist_classifier.json`` beside it records the file's sha256 (checked when loaded),
the weights' content hash (``weights``, :func:`gan_eval.features.weights.state_hash`, the identity every
extractor's ``describe()`` states and which a re-run of the command reproduces), the
t10k test accuracy and the training settings.

Architecture: a LeNet-style CNN in the spirit of PacGAN's Stacked-MNIST classifier (conv32, conv64, dense 128,
dropout; Lin et al. 2018, code ``stacked_mnist/classifier``), with valid 5x5 convolutions and a pool after
each so that the weights stay small (~0.75 MB) and BatchNorm so that a few epochs suffice:

    conv 5x5 1->32, BN, ReLU, maxpool 2     28 -> 24 -> 12
    conv 5x5 32->64, BN, ReLU, maxpool 2    12 ->  8 ->  4
    flatten 1024, dropout .25, dense 128, ReLU      -> layer "penultimate" (128)
    dropout .5, dense 10                            -> layer "logits" (10)

Input: float32 N x 1 x 28 x 28 in [0, 1] (white digit on black, as MNIST stores it). 32 x 32 inputs (the
padded Stacked-MNIST variant) are centre-cropped by 2 pixels on each side, which undoes that padding: the default
size policy ``resize=crop`` of :mod:`gan_eval.io.resize`; ``resize=resize`` interpolates any size to 28 x 28
instead (for digits that were resized, not padded). What the policy changed is in ``describe()["changed"]``.

Stacked MNIST (N x 3 x H x W, one digit per channel): every layer is computed for each channel on its own, as a
grayscale batch, and the three results are concatenated in channel order, so ``penultimate`` is 3 x 128 = 384-d
and ``logits`` 3 x 10 = 30-d; the feature of a sample is exactly the concatenation of its channels' features.
This is what the digit classifier can say about a three-digit image (it was never trained on colour), and it
makes FID, KID and PRDC on Stacked MNIST work offline with ``--features mnist``; the extractor's description
(``preprocessing``, in every result and statistics file) states it.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from gan_eval.errors import GanEvalError
from gan_eval.features.base import FEATURES
from gan_eval.features.weights import state_hash
from gan_eval.io.resize import DEFAULT_POLICY, change_note, check_policy, fit_images

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
WEIGHTS_PATH = WEIGHTS_DIR / "mnist_classifier.pt"
CARD_PATH = WEIGHTS_DIR / "mnist_classifier.json"
#: the classifier's input size (MNIST digits)
INPUT_SIZE = (28, 28)
PREPROCESSING = (
    "grayscale N x 1 x 28 x 28 in [0, 1]; other sizes fitted by the size policy (gan_eval.io.resize: resize=crop,"
    " the default, centre-crops 32 x 32 by 2 px; resize=resize interpolates); N x 3 x H x W (Stacked MNIST): each"
    " channel on its own, layers concatenated in channel order (penultimate 3 x 128 = 384, logits 3 x 10 = 30)"
)


class MnistNet(nn.Module):
    """The classifier network; ``forward`` returns the named layers ``penultimate`` and ``logits``."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 5), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Dropout(0.25), nn.Linear(64 * 4 * 4, 128), nn.ReLU(),
        )  # fmt: skip
        self.head = nn.Sequential(nn.Dropout(0.5), nn.Linear(128, 10))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        penultimate = self.features(x)
        return {"penultimate": penultimate, "logits": self.head(penultimate)}


def check_digits(images: torch.Tensor) -> None:
    """Check a grayscale batch N x 1 x H x W (its size is fitted by :mod:`gan_eval.io.resize`).

    Messages name no input: the caller that knows the file (:func:`gan_eval.features.extract.layer_features`)
    puts its name in front."""
    if images.ndim != 4 or images.shape[1] != 1:
        raise GanEvalError(
            f"the mnist classifier takes N x 1 x H x W digits or N x 3 x H x W Stacked MNIST (one digit per channel),"
            f" got shape {tuple(images.shape)}"
        )


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def weights_card() -> dict[str, Any]:
    """The bundled weights' record: sha256, test accuracy, how they were trained."""
    return json.loads(CARD_PATH.read_text(encoding="utf-8"))


def load_net(weights: str | Path | None = None) -> tuple[MnistNet, str]:
    """The network in eval mode on the CPU, and the sha256 of its weights file.

    ``weights``: a state-dict file made by ``gan-eval train-classifier``; default the bundled one, whose
    sha256 must match ``mnist_classifier.json``.
    """
    path, digest = checked_weights(weights)
    return _read_net(path), digest


def checked_weights(weights: str | Path | None) -> tuple[Path, str]:
    """The weights file (default the bundled one) and its sha256, which for the bundled file must match its card."""
    path = Path(weights) if weights is not None else WEIGHTS_PATH
    if not path.is_file():
        raise GanEvalError(f"{path}: no such weights file; make one with gan-eval train-classifier")
    digest = file_sha256(path)
    if weights is None and digest != weights_card()["sha256"]:
        raise GanEvalError(f"{path}: sha256 {digest[:12]}... does not match mnist_classifier.json; reinstall gan-eval")
    return path, digest


def _read_net(path: Path) -> MnistNet:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        net = MnistNet()
        net.load_state_dict(state)
    except Exception as exc:  # noqa: BLE001  (any failure here means the file is not our state dict)
        first = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise GanEvalError(f"{path}: not an mnist classifier state dict ({first}); make one with gan-eval train-classifier") from None
    return net.eval()


@lru_cache(maxsize=4)
def _cached_net(path: Path, sha256: str) -> tuple[MnistNet, str]:
    """The net and its weights identity (:func:`~gan_eval.features.weights.state_hash`, a content hash); keyed by
    the file's sha256 too, so that a weights file rewritten in place is read again."""
    net = _read_net(path)
    return net, state_hash(net.state_dict())


class MnistClassifier:
    """The ``mnist`` feature extractor: layers ``penultimate`` (128) and ``logits`` (10) per channel (one channel,
    or the three of Stacked MNIST concatenated; see the module docstring)."""

    name = "mnist"
    layers = {"penultimate": 128, "logits": 10}

    def __init__(self, device: torch.device | str = "cpu", weights: str | Path | None = None, resize: str = DEFAULT_POLICY) -> None:
        self.device = torch.device(device)
        self.resize = check_policy(resize)
        self.changed: list[str] = []  # what the size policy did to the images seen (gan_eval.io.resize)
        path, self.sha256 = checked_weights(weights)
        self.weights_file = path.name if weights is not None else "bundled:mnist_classifier.pt"
        net, self.weights_hash = _cached_net(path, self.sha256)
        self.net = inference_copy(net).to(self.device)

    def __call__(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        if images.ndim == 4 and images.shape[1] == 3:
            channels = [self._grayscale(images[:, c : c + 1]) for c in range(3)]
            return {layer: torch.cat([out[layer] for out in channels], dim=1) for layer in channels[0]}
        return self._grayscale(images)

    def _grayscale(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        check_digits(images)
        note = change_note(tuple(images.shape[-2:]), INPUT_SIZE, self.resize)
        if note is not None and note not in self.changed:
            self.changed.append(note)
        x = fit_images(images, INPUT_SIZE, self.resize, "the mnist classifier")
        x = x.to(self.device, torch.float32).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            return self.net(x)

    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """Digit labels (int64): N for a grayscale batch, N x 3 for a Stacked-MNIST batch."""
        logits = self(images)["logits"]
        return logits.unflatten(1, (-1, 10)).argmax(dim=2).squeeze(1)

    def describe(self) -> dict[str, Any]:
        # "weights" is the content hash compared for compatibility (the same weights at two paths agree, retrained
        # weights at one path do not); the file's name is only informative
        described = {"name": self.name, "weights": self.weights_hash, "weights_file": self.weights_file, "preprocessing": PREPROCESSING}
        if self.resize != DEFAULT_POLICY:  # so that statistics made before the policy existed stay comparable
            described["resize"] = self.resize
        if self.changed:
            described["changed"] = list(self.changed)
        return described


def inference_copy(net: MnistNet) -> MnistNet:
    """A copy of an eval-mode net with each BatchNorm folded into the conv before it, in channels-last layout.

    Folding is exact algebra (w' = w g / sqrt(v + eps), b' = (b - m) g / sqrt(v + eps) + beta), so outputs
    agree up to float round-off (~1e-5 in the logits); it makes CPU inference ~1.5x faster with the layout.
    """
    copy = MnistNet()
    copy.load_state_dict(net.state_dict())
    copy.eval()
    layers = copy.features
    for conv, bn in ((0, 1), (4, 5)):
        layers[conv] = fuse_conv_bn_eval(layers[conv], layers[bn])
        layers[bn] = nn.Identity()
    return copy.to(memory_format=torch.channels_last)


FEATURES.add("mnist", MnistClassifier)
