"""Stacked-MNIST modes (of 1000 digit triples) and KL to uniform (VEEGAN Table 2, PacGAN Tables 2-3), by
:func:`gan_eval.metrics.stacked_mnist.stacked_mnist_modes` with the bundled digit classifier, on all the
evaluation samples (``--eval-samples``; the papers score 26,000)."""
from __future__ import annotations

from typing import Any

import torch

from gan_eval.errors import GanEvalError
from gan_eval.features.mnist_classifier import weights_card
from gan_eval.metrics.stacked_mnist import stacked_mnist_modes
from trainers.datasets.base import Dataset
from trainers.evaluators.base import EvalInput, Evaluator, Values, dataset_range


class StackedMnistEvaluator(Evaluator):
    name = "stacked-mnist"
    keys = ("modes", "kl")

    def __init__(self, dataset: Dataset, device: torch.device, options: Any = None) -> None:
        if dataset.kind != "image" or dataset.shape[0] != 3 or dataset.value_range is None:
            raise GanEvalError(f"evaluator stacked-mnist: dataset {dataset.name} is not 3-channel images; use it with stacked-mnist")
        super().__init__(dataset, device, options)

    def __call__(self, evaluation: EvalInput) -> Values:
        value_range = dataset_range(self.dataset)
        score = stacked_mnist_modes(evaluation.samples, n=None, seed=evaluation.seed, device=self.device, value_range=value_range)
        return score.values()

    def undefined(self) -> Values:
        return {"modes": 0, "kl": None}

    def describe(self) -> dict[str, Any]:
        """The name and the bundled classifier's weights hash (its card's sha256), so that a run's configuration and
        a table's protocol say which classifier counted the modes."""
        card = weights_card()
        return {**super().describe(), "classifier": {"weights": "bundled", "sha256": card["sha256"]}}
