"""``gan-eval stacked-mnist`` (real Stacked-MNIST samples) and ``gan-eval train-classifier`` (the bundled weights)."""
from __future__ import annotations

import io
import platform
from pathlib import Path

import typer

from gan_eval.cli.app import PROGRESS, app
from gan_eval.errors import GanEvalError
from gan_eval.progress import progress_wrapper

MNIST_DIR_HELP = "Folder with the four MNIST IDX files (.gz or raw), or torchvision's root holding MNIST/raw/."


def _mnist_dir(mnist_dir: Path, download: bool) -> Path:
    from gan_eval.io.mnist import download_mnist

    return download_mnist(mnist_dir) if download else mnist_dir


@app.command("stacked-mnist")
def stacked_mnist(
    mnist_dir: Path = typer.Option(..., "--mnist-dir", help=MNIST_DIR_HELP),
    n: int = typer.Option(26_000, "-n", help="Samples (VEEGAN and PacGAN score 26,000)."),
    seed: int = typer.Option(0, "--seed"),
    pool: str = typer.Option("train+test", "--pool", help="Digit pool: train+test (VEEGAN/PacGAN) or train (unrolled GAN)."),
    size: int = typer.Option(28, "--size", help="28, or 32 (each digit zero-padded by 2 px)."),
    labels: bool = typer.Option(False, "--labels", help="Also save the labels 100a+10b+c (then score with --key images)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output .npz: 'images', uint8 N x 3 x size x size."),
    download: bool = typer.Option(False, "--download", help="Fetch MNIST into --mnist-dir first (needs torchvision, internet)."),
) -> None:
    """Real Stacked-MNIST samples: three independent uniform MNIST digits as the channels (1000 modes)."""
    from gan_eval.io.atomic import save_npz
    from gan_eval.references.stacked_mnist import build_stacked, digit_pool

    if n <= 0:
        raise GanEvalError(f"-n {n}: pass a positive number of samples")
    images, digit_labels = digit_pool(_mnist_dir(mnist_dir, download), pool)
    stacked = build_stacked(images, digit_labels, n, seed=seed, size=size)
    arrays = {"images": stacked.images.numpy()}
    if labels:
        arrays["labels"] = stacked.labels.numpy()
    save_npz(out, **arrays)
    typer.echo(f"wrote {out}: {n} samples, uint8 {tuple(stacked.images.shape)}, pool {pool}, seed {seed}")


@app.command("train-classifier")
def train_classifier(
    mnist_dir: Path = typer.Option(..., "--mnist-dir", help=MNIST_DIR_HELP),
    out: Path = typer.Option(..., "--out", "-o", help="Output state dict (.pt); a .json card with sha256 and accuracy goes beside it."),
    seed: int = typer.Option(0, "--seed"),
    epochs: int = typer.Option(6, "--epochs"),
    threads: int = typer.Option(1, "--threads", help="CPU threads; the same seed and thread count give the same weights."),
    download: bool = typer.Option(False, "--download", help="Fetch MNIST into --mnist-dir first (needs torchvision, internet)."),
    progress: bool = PROGRESS,
) -> None:
    """Train the MNIST digit classifier on the 60k training set, on the CPU, deterministically from --seed."""
    import torch

    from gan_eval.features.mnist_classifier import MnistNet, file_sha256
    from gan_eval.features.weights import state_hash
    from gan_eval.io.atomic import save_json, write_with
    from gan_eval.io.mnist import load_mnist
    from gan_eval.features.train_mnist_classifier import TrainSettings, accuracy, train_classifier as train

    if epochs <= 0 or threads <= 0:
        raise GanEvalError("--epochs and --threads must be positive")
    folder = _mnist_dir(mnist_dir, download)
    train_images, train_labels = load_mnist(folder, "train")
    test_images, test_labels = load_mnist(folder, "test")
    torch.set_num_threads(threads)
    settings = TrainSettings(epochs=epochs, seed=seed)
    state = train(train_images, train_labels, settings, progress=progress_wrapper(progress))
    net = MnistNet()
    net.load_state_dict(state)
    test_accuracy = accuracy(net, test_images, test_labels)
    buffer = io.BytesIO()  # saved through a buffer so the archive's inner folder is "archive", not the temp name
    torch.save(state, buffer)
    write_with(out, lambda tmp: tmp.write_bytes(buffer.getvalue()))
    card = {
        "file": out.name,
        "sha256": file_sha256(out),
        "weights": state_hash(state),
        "test_accuracy": test_accuracy,
        "test_errors": round((1 - test_accuracy) * len(test_labels)),
        "test_set": "MNIST t10k (10,000 images), never seen in training",
        "train_set": "MNIST train (60,000 images)",
        "settings": settings.to_dict(),
        "threads": threads,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "command": f"gan-eval train-classifier --mnist-dir DIR -o {out.name} --seed {seed} --epochs {epochs} --threads {threads}",
    }
    save_json(out.with_suffix(".json"), card)
    typer.echo(f"wrote {out} (sha256 {card['sha256'][:12]}...), test accuracy {100 * test_accuracy:.2f} %")
