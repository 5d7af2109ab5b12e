"""Inference via optimisation (IvOM): how closely can the generator reproduce each real test image?

For each test image x (C x H x W, [0, 1] scale) search the latent space,

    MSE(x) = min_z  mean_pixels (G(z) - x)^2,     G's outputs mapped to [0, 1],

and report the mean over images (lower is better) with its standard error. A mode-collapsed generator leaves
test images that no latent reaches, so their MSE stays high. Sources: Metz et al. 2017 ("Unrolled Generative
Adversarial Networks", ICLR; its CIFAR-10 inference-via-optimisation experiment on manifold collapse) and
VEEGAN (Srivastava et al. 2017, NeurIPS; the CIFAR-10 IvOM column of its results). As their code ran it (``../shared/PROTOCOLS.md``, IvOM):
L-BFGS from z0 ~ N(0, I), 3 random restarts, the best restart kept per image, per-image MSE over pixels on
the [0, 1] scale, mean over images.

Our deviation, and why: the era code ran scipy's L-BFGS-B on the whole batch's latents concatenated into one
vector, with ONE objective (the batch's summed error) and so one shared line search, one shared curvature
history and one shared stopping test. An image's result then depends on which images share its batch (a hard
image shortens everyone's steps; the batch stops when the sum stalls). Here every image and restart is its own
problem: a row-wise L-BFGS with per-row history, step sizes, weak-Wolfe line search and stopping tests
(:mod:`gan_eval.ops.row_minimise`), run on thousands of rows at once. An image's result does not depend on
its batch (``tests/test_ivom.py`` checks batches of 1, 7 and 500 and a per-image loop). Adam (elementwise) is
an option. Start latents of image i depend only on the seed and i, so results do not depend on batch size.

Proven by ``tests/test_ivom.py``: a linear generator whose range holds every test image reaches MSE ~ 0; a
constant generator gives the closed form mean((x - c)^2).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Callable, Iterable

import torch

from gan_eval.artefacts import Arrays, ImagePairs
from gan_eval.errors import GanEvalError
from gan_eval.io.generators import GeneratorSource, latent_batches
from gan_eval.io.images import to_unit_float
from gan_eval.io.latent import LatentSpec
from gan_eval.io.resize import DEFAULT_POLICY, change_note, fit_images
from gan_eval.io.samples import ArraySource, as_source
from gan_eval.metrics.base import MetricResult, ScoreRequest, register_metric
from gan_eval.ops.row_minimise import adam_rows, lbfgs_rows
from gan_eval.options import positive

OPTIMISERS = ("lbfgs", "adam")
DEFAULT_STEPS = {"lbfgs": 100, "adam": 1000}


@dataclass
class Inversion:
    """Per image: the best MSE over restarts, its latent and which restart it came from; the optimiser's work:
    batched generator calls and rows (image x restart) evaluated."""

    mse: torch.Tensor
    z: torch.Tensor
    restart: torch.Tensor
    evaluations: int
    row_evaluations: int

    @property
    def mean(self) -> float:
        return float(self.mse.double().mean())

    @property
    def std(self) -> float:
        """Sample standard deviation over images; NaN for one image."""
        return float(self.mse.double().std()) if len(self.mse) > 1 else math.nan

    @property
    def sem(self) -> float:
        """Standard error of the mean over images, std / sqrt(n)."""
        return self.std / math.sqrt(len(self.mse))


def start_latents(n_images: int, latent_dim: int, restarts: int, seed: int) -> torch.Tensor:
    """z0 ~ N(0, I) for every image and restart, n_images x restarts x latent_dim; image i's starts depend only
    on the seed and i."""
    rows = n_images * restarts
    return next(latent_batches(LatentSpec(latent_dim, "normal"), seed, rows, rows)).view(n_images, restarts, latent_dim)


def ivom(
    generate: Callable[[torch.Tensor], torch.Tensor],
    images: torch.Tensor,
    latent_dim: int,
    *,
    restarts: int = 3,
    optimizer: str = "lbfgs",
    steps: int | None = None,
    lr: float = 0.05,
    seed: int = 0,
    batch_size: int = 1000,
    device: torch.device | str = "cpu",
    starts: torch.Tensor | None = None,
    progress: Callable[..., Iterable] | None = None,
) -> Inversion:
    """IvOM of ``images`` (float N x C x H x W in [0, 1]) under ``generate`` (latents B x latent_dim on
    ``device`` -> images B x C x H x W in [0, 1], differentiable, each row computed on its own).

    ``steps``: L-BFGS iterations (default 100) or Adam steps (default 1000); ``lr``: Adam only (L-BFGS sizes its
    steps by line search). ``starts``: n x restarts x latent_dim start latents (default :func:`start_latents`).
    ``batch_size``: images per batch (rows = images x restarts); results do not depend on it.
    """
    if optimizer not in OPTIMISERS:
        raise GanEvalError(f"ivom: optimizer {optimizer!r} is unknown; use one of {', '.join(OPTIMISERS)}")
    if restarts < 1 or batch_size < 1:
        raise GanEvalError(f"ivom: restarts ({restarts}) and batch size ({batch_size}) must be positive")
    steps = DEFAULT_STEPS[optimizer] if steps is None else steps
    n = len(images)
    if starts is None:
        starts = start_latents(n, latent_dim, restarts, seed)
    mse, best_z, best_r, evaluations, row_evaluations = [], [], [], 0, 0
    for a in range(0, n, batch_size):
        target = images[a : a + batch_size].to(device)
        z0 = starts[a : a + batch_size].reshape(-1, latent_dim).to(device)
        r = starts.shape[1]

        def loss(z: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
            # the sum over pixels, not the mean: same minimiser, gradients on the scale the tolerances expect
            return (generate(z) - target[rows // r]).square().flatten(1).sum(1)

        if optimizer == "lbfgs":
            found = lbfgs_rows(loss, z0, iterations=steps, progress=progress)
        else:
            found = adam_rows(loss, z0, steps=steps, lr=lr, progress=progress)
        per_restart = found.loss.view(-1, r) / target[0].numel()
        best = per_restart.argmin(1)  # the first of equal restarts
        mse.append(per_restart.gather(1, best[:, None])[:, 0].cpu())
        best_z.append(found.z.view(-1, r, latent_dim)[torch.arange(len(best)), best].cpu())
        best_r.append(best.cpu())
        evaluations, row_evaluations = evaluations + found.evaluations, row_evaluations + found.row_evaluations
    return Inversion(torch.cat(mse), torch.cat(best_z), torch.cat(best_r), evaluations, row_evaluations)


@dataclass
class IvomOptions:
    """``restarts``: random starts per image (3, as the era code); the best is kept.
    ``optimizer``: ``lbfgs`` (row-wise, per-image line search) or ``adam``.
    ``steps``: L-BFGS iterations (default 100) or Adam steps (default 1000). ``lr``: Adam's step size.
    ``images``: score the first N test images only (default all). ``reference_key``: array name in the file.
    ``show``: worst and best cases drawn in the -o figure. ``resize``: the size policy (:mod:`gan_eval.io.resize`,
    as the ``mnist`` extractor's) fitting the generator's outputs to test images of another size: ``crop``
    (default: 32 x 32 outputs centre-cropped to 28 x 28 test digits) or ``resize``."""

    restarts: int = positive(3)
    optimizer: str = "lbfgs"
    steps: int | None = positive(None)
    lr: float = positive(0.05)
    images: int | None = positive(None)
    reference_key: str | None = None
    show: int = 8
    resize: str = DEFAULT_POLICY


@register_metric(
    "ivom",
    options=IvomOptions,
    needs_reference=True,
    needs_generator=True,
    summary="inference via optimisation: per-image MSE of the best latent",
    reference="test images (a file or folder)",
    statistic="per-image reconstruction MSE of the test images",
    reduction="sum",
    writes=("figure", "arrays"),
)
def evaluate(request: ScoreRequest, options: IvomOptions) -> MetricResult:
    source = request.samples
    assert isinstance(source, GeneratorSource)  # needs_generator: the API refuses a samples file
    g = source.generator
    if len(g.sample_shape) < 2:
        raise GanEvalError(f"{g.name}: makes vectors of shape {g.sample_shape}; ivom compares images")
    # a file or a folder of test images; the first options.images of them
    array = as_source(request.reference, options.reference_key, skip_unreadable=request.skip_unreadable).array()[: options.images]
    test = ArraySource(array, request.reference)
    # both sides on the [0, 1] scale, each from its own range, which must be comparable (gan_eval.io.ranges)
    unit_images = partial(g.unit_images, value_range=request.range_of(source).range)
    images = to_unit_float(torch.from_numpy(array), request.range_of(test, "reference").range, request.reference)
    want = tuple(g.sample_shape) if len(g.sample_shape) == 3 else (1, *g.sample_shape)
    if images.shape[1] != want[0]:
        raise GanEvalError(
            f"{request.reference}: test images are {'x'.join(map(str, images.shape[1:]))} but {g.name} makes"
            f" {'x'.join(map(str, want))}; pass test images with the generator's channels"
        )
    size = tuple(images.shape[2:])
    try:
        fit_images(torch.zeros(1, *want), size, options.resize, f"{request.reference}'s test images")
    except GanEvalError as exc:
        raise GanEvalError(f"{g.name}: {exc}") from None
    changed = change_note(want[1:], size, options.resize)

    def generate(z: torch.Tensor) -> torch.Tensor:  # the generator's images at the test images' size
        return fit_images(unit_images(z), size, options.resize, "")
    found = ivom(
        generate,
        images,
        g.spec.latent_dim,
        restarts=options.restarts,
        optimizer=options.optimizer,
        steps=options.steps,
        lr=options.lr,
        seed=request.seed,
        batch_size=request.batch_size,
        device=request.device,
        progress=request.progress,
    )
    artefacts = _artefacts(request, found, images, generate, options.show) if request.output else []
    order = torch.argsort(found.mse)
    return MetricResult(
        metric="ivom",
        values={"mse": found.mean, "sem": found.sem, "std": found.std, "n_images": len(images)},
        details={"best": _cases(found, order[: options.show]), "worst": _cases(found, order.flip(0)[: options.show])},
        protocol={
            "test_images": request.reference,
            "resize": options.resize,
            **({"changed": [f"generator's {changed}"]} if changed else {}),
            "n": len(images),
            "objective": "min_z mean over pixels of (G(z) - x)^2 on the [0, 1] scale, per image",
            "optimizer": options.optimizer,
            "steps": DEFAULT_STEPS.get(options.optimizer) if options.steps is None else options.steps,
            "restarts": options.restarts,
            "starts": "z0 ~ N(0, I), image i's from the seed and i",
            "line_search": "per image (weak Wolfe)" if options.optimizer == "lbfgs" else None,
            "batched_evaluations": found.evaluations,
            "evaluations_per_image_restart": found.row_evaluations / (len(images) * options.restarts),
        },
        artefacts=artefacts,
    )


def _cases(found: Inversion, index: torch.Tensor) -> dict[str, list]:
    return {"image": index.tolist(), "mse": found.mse[index].tolist(), "restart": found.restart[index].tolist()}


def _artefacts(request: ScoreRequest, found: Inversion, images: torch.Tensor, generate, show: int) -> list:
    """Per-image MSE and latents (arrays) and the worst/best grid: ``-o x.png`` writes x.png and x.npz; ``-o x.npz``
    only the arrays (:func:`gan_eval.artefacts.write_artefacts`)."""
    artefacts: list = [Arrays({"mse": found.mse.numpy(), "z": found.z.numpy(), "restart": found.restart.numpy()})]
    if request.output.suffix.lower() != ".npz":
        artefacts.append(nearest_pairs(found, images, generate, show, request.batch_size, request.device))
    return artefacts


def nearest_pairs(found: Inversion, images: torch.Tensor, generate: Callable[[torch.Tensor], torch.Tensor], show: int,
                  batch_size: int, device: torch.device | str) -> ImagePairs:
    """The ``show`` worst and ``show`` best test images above their nearest images G(z*) (``generate`` on the [0, 1]
    scale), labelled with the image index and its MSE: the figure of IvOM (Metz et al. 2017, Fig. 4)."""
    order = torch.argsort(found.mse)
    k = min(show, len(order))
    picked = torch.cat([order.flip(0)[:k], order[:k]])
    with torch.no_grad():
        recon = torch.cat([generate(z.to(device)).cpu() for z in found.z[picked].split(batch_size)])
    labels = [f"{'worst' if i < k else 'best'} #{int(j)}\nmse {float(found.mse[j]):.3g}" for i, j in enumerate(picked)]
    title = f"IvOM: test image (top) / best reconstruction (below); mean MSE {found.mean:.4g} ± {found.sem:.2g} (sem)"
    return ImagePairs(images[picked].cpu(), recon, labels, title, columns=k)
