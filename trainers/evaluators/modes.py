"""Modes, high-quality share and reverse KL of samples of a known mixture (VEEGAN Sec. 5.1, PacGAN Sec. 5),
computed by :func:`gan_eval.mode_coverage` against the dataset's reference."""
from __future__ import annotations

from typing import Any

import torch

from gan_eval import mode_coverage
from gan_eval.errors import GanEvalError
from trainers.datasets.base import Dataset
from trainers.datasets.mixture import MixtureDataset
from trainers.evaluators.base import EvalInput, Evaluator, Values


class ModesEvaluator(Evaluator):
    name = "modes"
    keys = ("modes", "hq_percent", "kl")

    def __init__(self, dataset: Dataset, device: torch.device, options: Any = None) -> None:
        if not isinstance(dataset, MixtureDataset):
            raise GanEvalError(f"evaluator modes: dataset {dataset.name} is not a known mixture; modes needs one (e.g. ring8)")
        super().__init__(dataset, device, options)

    def __call__(self, evaluation: EvalInput) -> Values:
        return mode_coverage(evaluation.samples, self.dataset.reference).values()

    def undefined(self) -> Values:
        return {"modes": 0, "hq_percent": 0.0, "kl": None}
