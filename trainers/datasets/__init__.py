"""Training datasets: one module each, registered with one line below (a factory ``(options, data_dir)``)."""
from trainers.datasets.base import DATASETS, Dataset, Sampler, build_dataset
from trainers.datasets.mixture import MixtureDataset, TrainingData

__all__ = ["DATASETS", "Dataset", "MixtureDataset", "Sampler", "TrainingData", "build_dataset"]
