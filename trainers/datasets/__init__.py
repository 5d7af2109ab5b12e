"""Training datasets: one module each, registered with one line below (a factory ``(options, data_dir)``)."""
from trainers.datasets.base import DATASETS, Dataset, Sampler, build_dataset
from trainers.datasets.cifar10 import build_cifar10
from trainers.datasets.folder import build_folder
from trainers.datasets.mixture import MixtureDataset, TrainingData
from trainers.datasets.mnist import build_mnist
from trainers.datasets.npz import build_npz
from trainers.datasets.stacked_mnist import build_stacked_mnist

DATASETS.add("mnist", build_mnist)
DATASETS.add("stacked-mnist", build_stacked_mnist)
DATASETS.add("cifar10", build_cifar10)
DATASETS.add("folder", build_folder)
DATASETS.add("npz", build_npz)

__all__ = ["DATASETS", "Dataset", "MixtureDataset", "Sampler", "TrainingData", "build_dataset"]
