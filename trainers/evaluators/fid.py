"""FID (Heusel et al. 2017) and KID (Bińkowski et al. 2018) of the evaluation samples against the dataset's
held-out split, in the feature space of a named gan_eval extractor (default ``inception``, the TF-faithful FID
Inception, pool_3).

Both distances are gan_eval's: :func:`gan_eval.metrics.fid.fid_of_moments` (the Fréchet distance of the two
feature Gaussians, float64, unbiased covariances) and :func:`gan_eval.metrics.kid.kernel_inception_distance`
(unbiased polynomial MMD^2 over random subsets, torch-fidelity's defaults). Images reach the extractor through
gan_eval's pipeline (:func:`gan_eval.stats.collect.collect_statistics`): the samples and the held-out images are
both in the dataset's value range, which is handed on as a stated :class:`~gan_eval.io.ranges.ValueRange` (each
batch is checked to lie in it) and mapped to [0, 1]. Grayscale images (MNIST): the Inception extractor repeats the
one channel three times, as TTUR, pytorch-fid and torch-fidelity do; ``mnist`` reads one channel natively.

One evaluator reports both, chosen by the options ``fid`` and ``kid``: the cost of an evaluation is the samples'
features, which FID and KID share, so ``fid:kid=true`` extracts them once (two evaluators would extract them twice
and hold the reference twice). ``kid`` is the same evaluator reporting KID only.

The reference: the held-out images (``reference_n`` caps them: a subset drawn once with seed 0, the same for every
run and seed, so runs compare), their features and moments computed at the first evaluation and kept in memory.
The extractor is made at construction, before training: missing Inception weights, an extractor that does not
take the images (probed on two held-out images), a dataset without a held-out split are one line then.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch

from gan_eval.errors import GanEvalError
from gan_eval.features.resolve import check_layer, default_layer, make_extractor
from gan_eval.io.samples import ArraySource
from gan_eval.metrics.fid import fid_of_moments
from gan_eval.metrics.kid import kernel_inception_distance
from gan_eval.stats.collect import collect_statistics
from gan_eval.stats.gaussian import GaussianStats
from trainers.datasets.base import Dataset
from trainers.evaluators.base import EvalInput, Evaluator, Values, dataset_range, held_out_images

#: the seed of the ``reference_n`` subset: fixed, so every run is compared with the same held-out images
REFERENCE_SEED = 0
#: gan_eval's messages name the ``score`` CLI's flags; with ``--eval`` they are options of the spec
CLI_FLAGS = (("--weights PATH", "--eval {name}:weights=PATH"), ("--weights", "{name}:weights"), ("--features ", "{name}:features="))


@dataclass(frozen=True)
class FeatureDistanceOptions:
    """``features``: a gan_eval extractor (``inception``, ``mnist``, ``pixels``) or ``pkg.module:factory``;
    ``weights``: its weights file (Inception's: else ``$GAN_EVAL_INCEPTION_WEIGHTS``, else torch hub's cache, else
    a download, :mod:`gan_eval.features.weights`); ``layer`` (default ``pool``, else the extractor's first);
    ``resize``, ``precision``: Inception's (``tf1``/``clean``; ``fp32``...); ``reference_n``: held-out images used
    (default all); ``batch_size``: images per extractor pass; ``fid``, ``kid``: which distances to report;
    ``subsets``, ``subset_size``, ``degree``, ``gamma``, ``coef0``: KID's (torch-fidelity's defaults)."""

    features: str = "inception"
    weights: str | None = None
    layer: str | None = None
    resize: str | None = None
    precision: str | None = None
    reference_n: int | None = None
    batch_size: int = 128
    fid: bool = True
    kid: bool = False
    subsets: int = 100
    subset_size: int = 1000
    degree: int = 3
    gamma: float | None = None
    coef0: float = 1.0


@dataclass(frozen=True)
class KidOptions(FeatureDistanceOptions):
    """The same options; KID only by default."""

    fid: bool = False
    kid: bool = True


def reference_subset(held: torch.Tensor, n: int | None, evaluator: str) -> torch.Tensor:
    """All held-out images, or ``n`` of them drawn without replacement with :data:`REFERENCE_SEED`."""
    if n is None:
        return held
    if not 2 <= n <= len(held):
        raise GanEvalError(f"evaluator {evaluator}: reference_n={n} must be between 2 and the {len(held)} held-out images")
    return held[torch.randperm(len(held), generator=torch.Generator().manual_seed(REFERENCE_SEED))[:n]]


class FeatureDistanceEvaluator(Evaluator):
    name = "fid"
    Options = FeatureDistanceOptions

    def __init__(self, dataset: Dataset, device: torch.device, options: Any = None) -> None:
        super().__init__(dataset, device, options)
        opts = self.options
        if not (opts.fid or opts.kid):
            raise GanEvalError(f"evaluator {self.name}: fid=false and kid=false report nothing; keep one of them")
        if opts.batch_size < 1:
            raise GanEvalError(f"evaluator {self.name}: batch_size={opts.batch_size} must be positive")
        self.keys = tuple(key for key, wanted in (("fid", opts.fid), ("kid", opts.kid)) if wanted)
        held = held_out_images(self.name, dataset)
        self.held_out_count = len(held)
        self.images: torch.Tensor | None = reference_subset(held, opts.reference_n, self.name)
        if len(self.images) < 2:
            raise GanEvalError(f"evaluator {self.name}: dataset {dataset.name} holds out {len(self.images)} image; a covariance needs 2 or more")
        if opts.kid and not 2 <= opts.subset_size <= len(self.images):
            raise GanEvalError(
                f"evaluator {self.name}: KID subset_size={opts.subset_size} must be between 2 and the {len(self.images)}"
                f" reference images; pass {self.name}:subset_size=N"
            )
        self.value_range = dataset_range(dataset)
        try:
            self.extractor = make_extractor(opts.features, device, opts.weights, resize=opts.resize, precision=opts.precision)
            self.layer = check_layer(self.extractor, opts.layer) if opts.layer else default_layer(self.extractor, ("pool",))
            self.features(self.images[:2], f"{dataset.name} held-out images", keep=False)  # the extractor takes them
        except GanEvalError as exc:
            message = str(exc)
            for flag, option in CLI_FLAGS:
                message = message.replace(flag, option.format(name=self.name))
            raise GanEvalError(f"evaluator {self.name}: {message}") from None
        self.reference: tuple[GaussianStats, torch.Tensor | None] | None = None

    def features(self, images: torch.Tensor, name: str, keep: bool) -> tuple[GaussianStats, torch.Tensor | None]:
        """Statistics (and, for KID, the features) of images in the dataset's range, through gan_eval's pipeline."""
        return collect_statistics(
            ArraySource(images.numpy(), name), self.extractor, self.layer,
            batch_size=self.options.batch_size, device=self.device, value_range=self.value_range, keep_features=keep,
        )

    def __call__(self, evaluation: EvalInput) -> Values:
        opts = self.options
        if self.reference is None:  # once per evaluator; the images are then no longer needed
            assert self.images is not None
            self.reference, self.images = self.features(self.images, f"{self.dataset.name} held-out images", opts.kid), None
        reference, reference_features = self.reference
        samples, sample_features = self.features(evaluation.samples, "evaluation samples", opts.kid)
        values: Values = {}
        if opts.fid:
            values["fid"] = fid_of_moments(samples.moments(), reference.moments(), "evaluation samples", "held-out images")
        if opts.kid:
            assert sample_features is not None and reference_features is not None
            if opts.subset_size > len(sample_features):
                raise GanEvalError(
                    f"evaluator {self.name}: KID subset_size={opts.subset_size} exceeds the {len(sample_features)} evaluation"
                    f" samples; raise --eval-samples or pass {self.name}:subset_size={len(sample_features)}"
                )
            values["kid"], values["kid_std"] = kernel_inception_distance(
                sample_features.to(self.device), reference_features.to(self.device), subsets=opts.subsets,
                subset_size=opts.subset_size, degree=opts.degree, gamma=opts.gamma, coef0=opts.coef0,
                seed=evaluation.seed % 2**32,  # KID's subsets come from numpy's RandomState: 32-bit seeds
            )
        return values

    def undefined(self) -> Values:
        return dict.fromkeys(self.keys + ("kid_std",) * self.options.kid)

    def describe(self) -> dict[str, Any]:
        """Name, options (the weights' path left out: the extractor's description identifies the weights by their
        content), the extractor's description and layer, and the reference images."""
        options = {k: v for k, v in asdict(self.options).items() if k != "weights"}
        subset = "all" if self.options.reference_n is None else f"{self.options.reference_n} drawn with seed {REFERENCE_SEED}"
        return {
            "name": self.name, "options": options, "features": self.extractor.describe(), "layer": self.layer,
            "reference": {"split": "held out", "images": subset, "of": self.held_out_count, "value_range": self.value_range.range},
        }


class KidEvaluator(FeatureDistanceEvaluator):
    name = "kid"
    Options = KidOptions
