"""Inference via optimisation of memory, IvOM (VEEGAN Sec. 5.3; Metz et al. 2017; ``PROTOCOLS.md``, IvOM): for each
of ``n`` held-out images x, min_z mean over pixels of (G(z) - x)^2 on the [0, 1] scale, best of ``restarts``
starts z0 ~ N(0, I); reported as the mean over images (``ivom_mse``, lower is better: a collapsed generator
leaves images no latent reaches) and its standard error (``ivom_sem``).

The optimisation is :func:`gan_eval.metrics.ivom.ivom` (row-wise L-BFGS, each image and restart its own problem,
so an image's MSE does not depend on the others). The images: ``n`` held-out images (default 256, small enough
to run at every evaluation) drawn without replacement from the run's evaluation seed, the same at every evaluation
of a run; all of them when the split holds fewer. The generator: the evaluation's, copied and put in eval mode
with its parameters frozen, so that inverting it neither updates BatchNorm statistics nor touches the training
generator; its outputs (in the dataset's range) and the images are both mapped to [0, 1].
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import torch

from gan_eval.artefacts import ImagePairs
from gan_eval.errors import GanEvalError
from gan_eval.io.images import to_unit_float
from gan_eval.metrics.ivom import OPTIMISERS, ivom, nearest_pairs
from trainers.datasets.base import Dataset
from trainers.evaluators.base import EvalInput, Evaluator, Values, dataset_range, held_out_images


@dataclass(frozen=True)
class IvomOptions:
    """``n``: held-out images inverted; ``restarts``: starts per image (3, as the era code), the best kept;
    ``optimizer``: ``lbfgs`` or ``adam``; ``steps``: L-BFGS iterations (default 100) or Adam steps (default 1000);
    ``lr``: Adam's step size; ``batch_size``: images per optimisation batch (results do not depend on it);
    ``show``: worst and best images kept with their nearest generated images (``ivom.npz`` of the run)."""

    n: int = 256
    restarts: int = 3
    optimizer: str = "lbfgs"
    steps: int | None = None
    lr: float = 0.05
    batch_size: int = 1000
    show: int = 8


class IvomEvaluator(Evaluator):
    name = "ivom"
    keys = ("ivom_mse", "ivom_sem")
    Options = IvomOptions

    def __init__(self, dataset: Dataset, device: torch.device, options: Any = None) -> None:
        super().__init__(dataset, device, options)
        opts = self.options
        positive = {"n": opts.n, "restarts": opts.restarts, "batch_size": opts.batch_size, "lr": opts.lr, "show": opts.show}
        if opts.steps is not None:
            positive["steps"] = opts.steps
        bad = next((key for key, value in positive.items() if value <= 0), None)
        if bad is not None:
            raise GanEvalError(f"evaluator ivom: {bad}={getattr(opts, bad)} must be positive")
        if opts.optimizer not in OPTIMISERS:
            raise GanEvalError(f"evaluator ivom: optimizer={opts.optimizer!r} is unknown; use one of {', '.join(OPTIMISERS)}")
        self.held = held_out_images(self.name, dataset)
        self.n = min(opts.n, len(self.held))
        self.value_range = dataset_range(dataset).range
        #: per evaluation seed (grouped seeds share this evaluator), the last evaluation's nearest-image pairs
        self.pairs: dict[int, ImagePairs] = {}

    def images(self, seed: int) -> torch.Tensor:
        """The ``n`` held-out images of this run (drawn from its evaluation seed), on the [0, 1] scale."""
        chosen = torch.randperm(len(self.held), generator=torch.Generator().manual_seed(seed))[: self.n]
        return to_unit_float(self.held[chosen], self.value_range, f"{self.dataset.name} held-out images")

    def __call__(self, evaluation: EvalInput) -> Values:
        opts = self.options
        generator = copy.deepcopy(evaluation.generator).eval().requires_grad_(False)

        def generate(z: torch.Tensor) -> torch.Tensor:
            return to_unit_float(generator(z), self.value_range, "the generator's outputs")

        with torch.enable_grad():  # gradients in z only; the loop may evaluate under no_grad
            images = self.images(evaluation.seed)
            found = ivom(
                generate, images, evaluation.latent.latent_dim, restarts=opts.restarts,
                optimizer=opts.optimizer, steps=opts.steps, lr=opts.lr, seed=evaluation.seed,
                batch_size=opts.batch_size, device=self.device,
            )
            self.pairs[evaluation.seed] = nearest_pairs(found, images, generate, opts.show, opts.batch_size, self.device)
        return {"ivom_mse": found.mean, "ivom_sem": found.sem, "ivom_n": self.n}

    def artefacts(self, seed: int) -> dict[str, Any]:
        """The worst and best held-out images above their nearest generated images (:func:`nearest_pairs`)."""
        return self.pairs[seed].arrays() if seed in self.pairs else {}

    def describe(self) -> dict[str, Any]:
        described = super().describe()
        return {**described, "images": f"{self.n} of the {len(self.held)} held-out images, drawn from the evaluation seed"}
