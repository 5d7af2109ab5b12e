"""The reproducible tables: which runs make each one, our step budgets, and the papers' published numbers.

Paper numbers are copied from the tables as published (VEEGAN Table 1: Srivastava et al. 2017; PacGAN
Table 1: Lin et al. 2018; see ``PROTOCOLS.md`` in the project notes). Each cell is ``{metric: (mean,
spread)}``, spread None where the paper gives none (VEEGAN: means over 5 runs; PacGAN: ± standard error
over 10 trials).

Budgets (deviation from the papers, stated in every output): the papers train VEEGAN for 100k iterations
at batch 500 and the PacGAN baselines ~400 epochs of a 100k-point set at batch 100 (~400k iterations).
Our defaults are sized from per-step times measured on one CPU core (``benchmarks/speed/trainer_steps.py``)
so that each full table (``--seeds`` as the paper) finishes in well under two hours on this 2-core
machine; every method in a column gets the same number of iterations. ``--steps N`` overrides them
(``--steps`` x the per-step times gives the cost).

Measured here (ms per iteration, one thread, process time on a shared 2-core machine): ring8 / grid25:
GAN 22, ALI 24, PacGAN2 31, PacGAN3 33, PacGAN4 35, Unrolled 51, VEEGAN 8, VEEGAN's GAN ablation 5;
hd1200: GAN 45, ALI 42, Unrolled 160, VEEGAN 46, ablation 25.

VEEGAN Table 1 gets 8,000 iterations on the 2-D mixtures, the fewest at which VEEGAN held 7-8 ring modes
in our seed-0 probe (6.5 on average over 10 seeds; it spreads out only after ~6k; see
:mod:`trainers.methods.veegan`), and 1,500 on hd1200 (~9,000 core-seconds for 5 seeds). Its GAN row is our
construction (the paper's GAN configuration is in no released code; the row's note says so in every output):
VEEGAN's own networks without the reconstructor, so the row isolates what the paper claims (that GAN holds
0-2 ring modes at every 1k evaluation up to 7k in 20 of 20 runs and has left its mode by 8k in 3:
``benchmarks/reproduce/results/veegan-claim-seeds.md``); PacGAN's GAN baseline is in ``pacgan-table1``.
PacGAN Table 1: 2,000 iterations (100 runs, ~5,800 core-seconds); moons: 3,000 iterations at batch 32.

Stacked MNIST (VEEGAN Table 2, PacGAN Tables 2 and 3) defaults to the papers' budgets, since a GPU runs them
(``benchmarks/gpu/issue17.py``): 100,000 iterations in the VEEGAN setting (50 epochs of PacGAN's 128,000 fixed
triples at batch 64) and 500,000 in the unrolled-GAN setting (PacGAN's ``unrolled_GAN_experiment/D=0.25G/
config.py``: one epoch of ``num_training_sample: 500000 * 128`` fresh triples at batch 128). A full-width DCGAN
step takes seconds on a crowded CPU core, so CPU runs pass ``--steps`` (and ``--set width=N`` for narrower nets),
which every output states.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from gan_eval.errors import GanEvalError
from gan_eval.registry import Registry

Paper = dict[str, tuple[float, float | None]]


@dataclass(frozen=True)
class Row:
    """One table row: a method with hyper-parameter overrides; ``note`` says where the row departs from the
    paper's (printed above the table and stored in its JSON). ``steps`` overrides the columns' budget for this
    row (a paper that trains its rows for different lengths); ``snapshots`` are iterations at which the row's
    samples are kept (``samples-STEP.npz`` in each run, drawn in ``NAME-snapshots.png``), as a paper's figures
    show them."""

    label: str
    method: str
    params: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    steps: int | None = None
    snapshots: tuple[int, ...] = ()


@dataclass(frozen=True)
class Column:
    """One table column: a dataset, our iteration budget, and how training data is drawn
    (``train_size`` None: the dataset's default, e.g. fresh samples every batch; N: a fixed set of N points drawn
    once). ``params``: hyper-parameters every row of the column takes (a row's own override them), and
    ``label`` the column's name where two columns share a dataset (PacGAN Table 3's D = 1/4 G and 1/2 G);
    ``evaluators``: the evaluator specs that score it (None: the dataset's default), the paper's protocol."""

    dataset: str
    steps: int
    train_size: int | None = None
    paper_steps: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    label: str | None = None
    evaluators: tuple[str, ...] | None = None

    @property
    def name(self) -> str:
        """How the table, its JSON and ``--datasets`` name the column."""
        return self.label or self.dataset


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    digits: int


#: Where a table's data note names the samples scored per evaluation: :meth:`Table.data_text` writes the count a run
#: used there, as the header states it (``--eval-samples 500`` once read "500" above and "2,500 samples scored" below).
EVAL_SAMPLES = "{eval_samples}"


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    rows: tuple[Row, ...]
    columns: tuple[Column, ...]
    metrics: tuple[Metric, ...]
    default_seeds: int
    paper: dict[tuple[str, str], Paper]
    paper_spread: str
    #: how the data and the scoring were made; :data:`EVAL_SAMPLES` where it names the samples each evaluation scores
    data_note: str
    eval_samples: int = 2500
    #: the papers' values of hyper-parameters a cheaper run may override with ``--set`` (e.g. the nets' width), stated
    #: beside the override in the table's header
    paper_params: dict[str, Any] = field(default_factory=dict)

    def row(self, label: str) -> Row:
        return next(r for r in self.rows if r.label == label)

    def data_text(self, eval_samples: int) -> str:
        """:attr:`data_note` with the samples each evaluation scored where it says :data:`EVAL_SAMPLES` (``2,500``)."""
        return self.data_note.replace(EVAL_SAMPLES, f"{eval_samples:,}")

    def only(self, labels: list[str] | None, datasets: list[str] | None = None) -> "Table":
        """This table restricted to the rows ``labels`` and the columns ``datasets`` (all when None), in order."""
        rows = _pick("--rows", self.name, self.rows, [r.label for r in self.rows], labels)
        columns = _pick("--datasets", self.name, self.columns, [c.name for c in self.columns], datasets)
        return dataclasses.replace(self, rows=rows, columns=columns)


def _pick(option: str, table: str, items: tuple, keys: list[str], wanted: list[str] | None) -> tuple:
    if not wanted:
        return items
    unknown = [w for w in wanted if w not in keys]
    if unknown:
        raise GanEvalError(f"{option} {unknown[0]}: {table} has no such {option[2:-1]}; it has {', '.join(keys)}")
    return tuple(item for item, key in zip(items, keys) if key in wanted)


MODES = Metric("modes", "modes", 1)
HQ = Metric("hq_percent", "HQ %", 1)
KL = Metric("kl", "reverse KL", 2)

TABLES: Registry[Table] = Registry("table")

TABLES.add(
    "veegan-table1",
    Table(
        name="veegan-table1",
        title="VEEGAN Table 1: modes captured / high-quality samples (%) on the synthetic mixtures",
        rows=(
            Row(
                "GAN",
                "veegan",
                {"reconstructor": False},
                note="our construction, not the paper's: VEEGAN's networks, optimiser and batch without the "
                "reconstructor (D on x alone); the paper's GAN configuration is in no released code",
            ),
            Row("ALI", "ali"),
            Row("Unrolled", "unrolled"),
            Row("VEEGAN", "veegan"),
        ),
        columns=(
            Column("ring8", 8000, paper_steps=100_000),
            Column("grid25", 8000, paper_steps=100_000),
            Column("hd1200", 1500, paper_steps=100_000),
        ),
        metrics=(MODES, HQ),
        default_seeds=5,
        paper={
            ("GAN", "ring8"): {"modes": (1, None), "hq_percent": (99.3, None)},
            ("GAN", "grid25"): {"modes": (3.3, None), "hq_percent": (0.5, None)},
            ("GAN", "hd1200"): {"modes": (1.6, None), "hq_percent": (2.0, None)},
            ("ALI", "ring8"): {"modes": (2.8, None), "hq_percent": (0.13, None)},
            ("ALI", "grid25"): {"modes": (15.8, None), "hq_percent": (1.6, None)},
            ("ALI", "hd1200"): {"modes": (3, None), "hq_percent": (5.4, None)},
            ("Unrolled", "ring8"): {"modes": (7.6, None), "hq_percent": (35.6, None)},
            ("Unrolled", "grid25"): {"modes": (23.6, None), "hq_percent": (16, None)},
            ("Unrolled", "hd1200"): {"modes": (0, None), "hq_percent": (0.0, None)},
            ("VEEGAN", "ring8"): {"modes": (8, None), "hq_percent": (52.9, None)},
            ("VEEGAN", "grid25"): {"modes": (24.6, None), "hq_percent": (40, None)},
            ("VEEGAN", "hd1200"): {"modes": (5.5, None), "hq_percent": (28.29, None)},
        },
        paper_spread="means over 5 runs (no spread published)",
        data_note="fresh samples every batch (VEEGAN's notebooks); ALI and Unrolled with their reference code's "
        "architecture and optimiser; {eval_samples} samples scored; HQ within 3 std (2-D), the equal-mass 10-std ball (1200-D)",
    ),
)

TABLES.add(
    "pacgan-table1",
    Table(
        name="pacgan-table1",
        title="PacGAN Table 1: modes / HQ % / reverse KL on the 2-D mixtures",
        rows=(
            Row("GAN", "gan"),
            Row("ALI", "ali"),
            Row("PacGAN2", "pacgan", {"pack": 2}),
            Row("PacGAN3", "pacgan", {"pack": 3}),
            Row("PacGAN4", "pacgan", {"pack": 4}),
        ),
        columns=(
            Column("ring8", 2000, train_size=100_000, paper_steps=400_000),
            Column("grid25", 2000, train_size=100_000, paper_steps=400_000),
        ),
        metrics=(MODES, HQ, KL),
        default_seeds=10,
        paper={
            ("GAN", "ring8"): {"modes": (6.3, 0.5), "hq_percent": (98.2, 0.2), "kl": (0.45, 0.09)},
            ("GAN", "grid25"): {"modes": (17.3, 0.8), "hq_percent": (94.8, 0.7), "kl": (0.70, 0.07)},
            ("ALI", "ring8"): {"modes": (6.6, 0.3), "hq_percent": (97.6, 0.4), "kl": (0.36, 0.04)},
            ("ALI", "grid25"): {"modes": (24.1, 0.4), "hq_percent": (95.7, 0.6), "kl": (0.14, 0.03)},
            ("PacGAN2", "ring8"): {"modes": (7.9, 0.1), "hq_percent": (95.6, 2.0), "kl": (0.07, 0.03)},
            ("PacGAN2", "grid25"): {"modes": (23.8, 0.7), "hq_percent": (91.3, 0.8), "kl": (0.13, 0.04)},
            ("PacGAN3", "ring8"): {"modes": (7.8, 0.1), "hq_percent": (97.7, 0.3), "kl": (0.10, 0.02)},
            ("PacGAN3", "grid25"): {"modes": (24.6, 0.4), "hq_percent": (94.2, 0.4), "kl": (0.06, 0.02)},
            ("PacGAN4", "ring8"): {"modes": (7.8, 0.1), "hq_percent": (95.9, 1.4), "kl": (0.07, 0.02)},
            ("PacGAN4", "grid25"): {"modes": (24.8, 0.2), "hq_percent": (93.6, 0.6), "kl": (0.04, 0.01)},
        },
        paper_spread="mean ± standard error over 10 trials",
        data_note="a fixed 100,000-point training set drawn once per seed, visited in shuffled epochs (PacGAN code); "
        "{eval_samples} samples scored; HQ within 3 std",
    ),
)

TABLES.add(
    "moons-latent-dim",
    Table(
        name="moons-latent-dim",
        title="Moons mini-project: GAN with latent dimension 2 vs 4 on make_moons(32, noise=0)",
        rows=(
            Row("GAN z=2", "gan", {"latent_dim": 2, "batch_size": 32}),
            Row("GAN z=4", "gan", {"latent_dim": 4, "batch_size": 32}),
        ),
        columns=(Column("moons-mini", 3000, train_size=32),),
        metrics=(MODES, HQ, KL),
        default_seeds=5,
        paper={},
        paper_spread="no published numbers",
        data_note="the same 32 noise-free make_moons points every batch (the mini-project's make_moons(32, noise=0)); "
        "HQ within 3 x 0.05 of an arc",
    ),
)

# The mode-collapse mini-project's latent-dimension study (PROTOCOLS.md, "Mode-collapse mini-project"): its own tiny
# nets and SGD (trainers.methods.minigan), the paper's budgets (150k and 200k iterations: these nets are tiny, so
# this is the paper's budget on one CPU core) and the iterations of its Figures 1 (latent 2) and 2 (latent 4).
MINI_LATENT_SNAPSHOTS = {2: (10_000, 40_000, 75_000, 150_000), 4: (10_000, 40_000, 100_000, 200_000)}

TABLES.add(
    "mode-collapse-mini",
    Table(
        name="mode-collapse-mini",
        title="Mode-collapse mini-project: latent dimension 2 vs 4 on the 32 noise-free moons points",
        rows=tuple(
            Row(f"GAN z={dim}", "mini-gan", {"latent_dim": dim}, steps=snapshots[-1], snapshots=snapshots)
            for dim, snapshots in MINI_LATENT_SNAPSHOTS.items()
        ),
        columns=(Column("moons-mini", 200_000, train_size=32, paper_steps=200_000),),
        metrics=(MODES, HQ, KL),
        default_seeds=5,
        # The paper's verdict, as modes (moons) covered: latent 2 collapses to one moon, latent 4 separates them.
        paper={("GAN z=2", "moons-mini"): {"modes": (1, None)}, ("GAN z=4", "moons-mini"): {"modes": (2, None)}},
        paper_spread="the paper's verdict from its figures (one run each; no numbers published): z=2 one moon, z=4 both",
        data_note="make_moons(32, noise=0): the same 32 points every batch; G 8-4 ReLU, D 64-8 tanh, N(0, 1) init, "
        "SGD 5e-4; z=2 trained 150,000 and z=4 200,000 iterations as in the paper; HQ within 3 x 0.05 of an arc",
        eval_samples=500,
    ),
)

# The objectives side by side on the 2-D mixtures, so a reader sees which collapse: every row on its own paper's
# nets and optimiser (the module docstrings of trainers.methods), the same data and budget, fresh samples every batch.
TABLES.add(
    "mode-collapse-mini-family",
    Table(
        name="mode-collapse-mini-family",
        title="The objective family on the 2-D mixtures: modes / HQ % / reverse KL (mode-collapse mini-project review)",
        rows=(
            Row("GAN", "gan"), Row("WGAN", "wgan"), Row("WGAN-GP", "wgan-gp"), Row("BW-GAN", "bwgan"),
            Row("LSGAN (0,1,1)", "lsgan"), Row("LSGAN (-1,1,0)", "lsgan", {"loss": "least-squares-pearson"}),
            Row("hinge", "hinge"), Row("SN-GAN", "sngan"),
            *(Row(f"f-GAN {d}", "fgan", {"divergence": d}) for d in ("kl", "reverse-kl", "js", "pearson", "squared-hellinger")),
            Row("EBGAN", "ebgan"),
            Row("MMD-GAN", "mmdgan", note="the authors never ran 2-D data: their losses and schedule on MLPs (ours). Its 0 modes "
                "are divergence, not collapse: G's samples run off to a median |x| of 3,300-4,800 by 10,000 iterations (all 10 runs) (D's reconstruction "
                "loss grows with them), pushed by the one-sided term lambda_rg = 16 in G's loss, which rewards fake codes above "
                "the real ones and is unbounded on a linear output; with --set lambda_rg=0 the samples stay a blob of sd 0.15-0.25 "
                "near the origin at 3,000 iterations (2 seeds), the clipped encoder's MMD near 0.002"),
            Row("BEGAN", "began"),
        ),
        columns=(Column("ring8", 10_000), Column("grid25", 10_000)),
        metrics=(MODES, HQ, KL),
        default_seeds=5,
        paper={},
        paper_spread="no published numbers for these objectives on these mixtures (the mini-project reviews them in words)",
        data_note="fresh samples every batch; every method with its own paper's or reference code's defaults; "
        "{eval_samples} samples scored; HQ within 3 std",
    ),
)

# The BMS-VAE-GAN paper's Table 1 (Bhattacharyya et al., "Best-of-Many-Samples" Distribution Matching), as transcribed in
# PROTOCOLS.md ("Published tables", the line "BMS-VAE-GAN seed paper, grid (25) / ring (8), modes and HQ %"): every
# cell below is that line's. Its VEEGAN and GDPP cells carry no spread and equal GDPP's Table 1 (Elfeki et al. 2019:
# "GDPP-GAN 8.0/71.7, 24.8/68.5"; VEEGAN's Table 1: 8 / 52.9 ring, 24.6 / 40 grid): copied there, not re-run.
TABLES.add(
    "bms-table1",
    Table(
        name="bms-table1",
        title="BMS-VAE-GAN Table 1: modes captured / high-quality samples (%) on the 2-D grid and ring",
        rows=(
            Row("VEEGAN", "veegan", note="the paper's VEEGAN cells are VEEGAN's own Table 1, whose released code trains "
                "100,000 iterations, four times this table's budget; at 100,000 on the CPU (veegan-table1's VEEGAN row, "
                "benchmarks/reproduce/results/veegan-100k-cpu-status.md) the ring reached 8 modes / 61.0 ± 2.9 % HQ (5 seeds) "
                "and the grid 23 / 39.2 % at 70,000 (one seed)"),
            Row("GDPP", "gdpp"),
            Row("SN-GAN", "sngan"),
            Row("MD-GAN", "mdgan", note="the authors' code has a grid configuration only; the ring uses the same settings"),
            Row("WAE", "wae", note="the paper states no WAE settings; tolstikhin/wae's MNIST config (deterministic encoder, "
                "0.05 x squared error, lambda 10, MMD-IMQ) in the paper's 32-D latent collapses to a few modes. No setting probed "
                "at 5,000 iterations reaches the paper's cells (benchmarks/reproduce/results/wae-mixtures-probe.md): a Gaussian "
                "encoder (the reference's e_noise='gaussian') in a 2-D latent spreads the codes over the prior (grid 22.7 modes / "
                "8.5 % HQ) but collapses its posterior on the ring, whose squared errors are 16 times smaller (per-axis variance 0.5 against the grid's 8); the cost weight that "
                "prevents that (1: ring 7.7 / 15.2 %) blurs the grid (20.0 / 2.1 %). Kept at the reference's config"),
            Row("alpha-GAN", "alpha-gan"),
            Row("BMS-VAE-GAN", "bms-vae-gan"),
        ),
        columns=(
            Column("grid25", 25_000, paper_steps=25_000),
            Column("ring8", 25_000, paper_steps=25_000),
        ),
        metrics=(MODES, HQ),
        default_seeds=5,
        paper={
            ("VEEGAN", "grid25"): {"modes": (24.6, None), "hq_percent": (40, None)},
            ("VEEGAN", "ring8"): {"modes": (8, None), "hq_percent": (52.9, None)},
            ("GDPP", "grid25"): {"modes": (24.8, None), "hq_percent": (68.5, None)},
            ("GDPP", "ring8"): {"modes": (8, None), "hq_percent": (71.7, None)},
            ("SN-GAN", "grid25"): {"modes": (23.8, 1.5), "hq_percent": (90.9, 4.0)},
            ("SN-GAN", "ring8"): {"modes": (6.8, 1.1), "hq_percent": (86.6, 9.7)},
            ("MD-GAN", "grid25"): {"modes": (25, None), "hq_percent": (99.3, 2.2)},
            ("MD-GAN", "ring8"): {"modes": (8, None), "hq_percent": (89.0, 3.6)},
            ("WAE", "grid25"): {"modes": (25, None), "hq_percent": (65.4, 3.8)},
            ("WAE", "ring8"): {"modes": (8, None), "hq_percent": (35.8, 4.7)},
            ("alpha-GAN", "grid25"): {"modes": (25, None), "hq_percent": (70.5, 4.2)},
            ("alpha-GAN", "ring8"): {"modes": (8, None), "hq_percent": (83.6, 5.3)},
            ("BMS-VAE-GAN", "grid25"): {"modes": (25, None), "hq_percent": (99.7, 0.2)},
            ("BMS-VAE-GAN", "ring8"): {"modes": (8, None), "hq_percent": (99.6, 0.3)},
        },
        paper_spread="± as printed (the paper does not say sd or s.e.; none for VEEGAN and GDPP, copied from GDPP's Table 1)",
        data_note="fresh samples every batch; every method with its own reference code's networks, optimiser and batch "
        "(see each method's docstring); {eval_samples} samples scored; HQ within 3 std; the paper states no iteration count: the "
        "budget is GDPP's and the unrolled GAN's 25,000 (the setting its GDPP cells come from)",
    ),
)


STACKED_KL = Metric("kl", "KL", 2)
#: carpedm20's ``gf_dim = df_dim`` of the papers' DCGAN nets, which ``--set width=N`` narrows: trainers.nets.dcgan.GF_DIM
#: (not imported: this module stays free of torch; tests/test_reproduce.py holds the two equal)
DCGAN_WIDTH = {"width": 64}
STACKED_MODES = Metric("modes", "modes", 1)
VEEGAN_SETTING = "a fixed set of 128,000 triples drawn once per seed from MNIST train + test digits, values in [0, 1], " \
    "visited in shuffled epochs (PacGAN's VEEGAN-setting code); {eval_samples} samples scored by the bundled MNIST classifier " \
    "per channel; KL(p_gen || U_1000) in nats over observed triples"

TABLES.add(
    "veegan-table2",
    Table(
        name="veegan-table2",
        title="VEEGAN Table 2: modes captured (of 1000) / KL on Stacked MNIST, DCGAN nets",
        rows=(
            Row("DCGAN", "dcgan"),
            Row("ALI", "ali-dcgan", note="our construction of ALI on the DCGAN nets (trainers/methods/image.py): the "
                "paper names the architecture only"),
            Row("Unrolled", "unrolled-dcgan", note="5 unrolling steps and the saturating G loss of the reference notebook "
                "on the DCGAN nets; the paper does not state its unrolling steps here"),
            Row("VEEGAN", "veegan-dcgan", note="our construction on the DCGAN nets (trainers/methods/image.py): the "
                "authors released no image code"),
        ),
        columns=(Column("stacked-mnist", 100_000, paper_steps=100_000),),
        metrics=(STACKED_MODES, STACKED_KL),
        default_seeds=5,
        paper={
            ("DCGAN", "stacked-mnist"): {"modes": (99, None), "kl": (3.4, None)},
            ("ALI", "stacked-mnist"): {"modes": (16, None), "kl": (5.4, None)},
            ("Unrolled", "stacked-mnist"): {"modes": (48.7, None), "kl": (4.32, None)},
            ("VEEGAN", "stacked-mnist"): {"modes": (150, None), "kl": (2.95, None)},
        },
        paper_spread="means over 5 runs (no spread published)",
        data_note=VEEGAN_SETTING + "; the paper's budget is our reading of its carpedm20 setting (50 epochs)",
        eval_samples=26_000,
        paper_params=DCGAN_WIDTH,
    ),
)

TABLES.add(
    "pacgan-table2",
    Table(
        name="pacgan-table2",
        title="PacGAN Table 2: modes captured (of 1000) / KL on Stacked MNIST, VEEGAN's setting, DCGAN nets",
        rows=(
            Row("DCGAN", "dcgan"),
            Row("PacDCGAN2", "pacdcgan", {"pack": 2}),
            Row("PacDCGAN3", "pacdcgan", {"pack": 3}),
            Row("PacDCGAN4", "pacdcgan", {"pack": 4}),
        ),
        columns=(Column("stacked-mnist", 100_000, paper_steps=100_000),),
        metrics=(STACKED_MODES, STACKED_KL),
        default_seeds=10,
        paper={
            ("DCGAN", "stacked-mnist"): {"modes": (78.9, 6.46), "kl": (4.50, 0.127)},
            ("PacDCGAN2", "stacked-mnist"): {"modes": (1000, None), "kl": (0.06, None)},
            ("PacDCGAN3", "stacked-mnist"): {"modes": (1000, None), "kl": (0.06, None)},
            ("PacDCGAN4", "stacked-mnist"): {"modes": (1000, None), "kl": (0.07, None)},
        },
        paper_spread="PacGAN's ± as published (DCGAN row only; 10 trials, the count of its Table 1, is our reading)",
        data_note=VEEGAN_SETTING + "; PacGAN's fork trains 50 epochs at batch 64, lr 2e-4",
        eval_samples=26_000,
        paper_params=DCGAN_WIDTH,
    ),
)

UNROLLED_SETTING = {"net": "unrolled28x3", "latent_dim": 256, "latent_distribution": "normal", "batch_size": 128, "beta2": 0.99}
REDUCED_D_RATES = {"lr": 2e-4, "g_lr": 1e-4, "g_steps": 1}  # PacGAN D=0.25G config.py; model.py: one D, one G step
UNROLLED_RATES = {"d_lr": 2e-4, "g_lr": 1e-4}
QUARTER, HALF = "D=1/4G", "D=1/2G"
TABLE3_PAPER = {  # (modes, sd), (KL, sd) at D = 1/4 G | D = 1/2 G
    "DCGAN": ((30.6, 20.73, 5.99, 0.42), (628.0, 140.9, 2.58, 0.75)),
    "Unrolled 1": ((65.4, 34.75, 5.91, 0.14), (523.6, 55.77, 2.44, 0.26)),
    "Unrolled 5": ((236.4, 63.30, 4.67, 0.43), (732.0, 44.98, 1.66, 0.09)),
    "Unrolled 10": ((327.2, 74.67, 4.66, 0.46), (817.4, 37.91, 1.43, 0.12)),
    "PacDCGAN2": ((484.5, 32.99, 2.61, 0.22), (840.7, 15.92, 1.00, 0.05)),
    "PacDCGAN3": ((601.3, 32.18, 2.00, 0.17), (866.6, 12.10, 0.90, 0.04)),
    "PacDCGAN4": ((667.4, 29.00, 1.81, 0.15), (820.2, 25.50, 1.15, 0.14)),
}

TABLES.add(
    "pacgan-table3",
    Table(
        name="pacgan-table3",
        title="PacGAN Table 3: modes captured (of 1000) / KL on Stacked MNIST, the unrolled-GAN setting (reduced D)",
        rows=(
            Row("DCGAN", "dcgan", REDUCED_D_RATES),
            *(Row(f"Unrolled {k}", "unrolled-dcgan", {**UNROLLED_RATES, "unroll": k},
                  note="the saturating G loss of the reference notebook") for k in (1, 5, 10)),
            *(Row(f"PacDCGAN{m}", "pacdcgan", {**REDUCED_D_RATES, "pack": m}) for m in (2, 3, 4)),
        ),
        columns=(
            Column("stacked-mnist:setting=unrolled", 500_000, paper_steps=500_000, params={**UNROLLED_SETTING, "d_scale": 0.25}, label=QUARTER),
            Column("stacked-mnist:setting=unrolled", 500_000, paper_steps=500_000, params={**UNROLLED_SETTING, "d_scale": 0.5}, label=HALF),
        ),
        metrics=(STACKED_MODES, STACKED_KL),
        default_seeds=50,
        paper={
            (label, column): {"modes": (cells[i][0], cells[i][1]), "kl": (cells[i][2], cells[i][3])}
            for label, cells in TABLE3_PAPER.items()
            for i, column in enumerate((QUARTER, HALF))
        },
        paper_spread="mean ± sd over 50 trials as published",
        data_note="fresh triples of the 60,000 MNIST training digits every batch, values in [-1, 1]; G and the reduced D "
        "of the unrolled-GAN appendix (net unrolled28x3, d_scale 0.25 / 0.5), z ~ N(0, I_256), Adam D 2e-4, G 1e-4, "
        "betas (0.5, 0.99), batch 128 (PacGAN's unrolled_GAN_experiment code); {eval_samples} samples scored",
        eval_samples=25_600,
    ),
)

# --- CIFAR-10 and CelebA (the user's copies, --data-dir) -------------------------------------------------------------
# Paper numbers: PROTOCOLS.md ("Published tables": VEEGAN CIFAR IvOM; "Addendum": the BMS seed paper's CIFAR-10 and
# CelebA FID tables and its appendix's IoVM on CelebA). None of these papers states its CIFAR-10 iteration count
# (BMS: only for its 300k rows); our defaults are stated in each table's data note and every output. Scoring follows
# each paper: IvOM on held-out (CIFAR-10 test) images, trainers.evaluators.ivom; FID with the TF-faithful Inception
# (pool_3, TF1 bilinear resize to 299) whose weights the user gives (--weights PATH or $GAN_EVAL_INCEPTION_WEIGHTS),
# trainers.evaluators.fid, against 10,000 held-out images.

IVOM = Metric("ivom_mse", "IvOM MSE", 5)
FID = Metric("fid", "FID", 1)
#: 50 epochs of CIFAR-10's 50,000 training images at carpedm20's batch 64: VEEGAN's Stacked-MNIST reading of "the
#: DCGAN architecture" (its carpedm20 fork trains 50 epochs) carried over to CIFAR-10; VEEGAN states no budget here.
CIFAR_DCGAN_STEPS = 50 * 50_000 // 64
#: the FID protocol of the BMS paper: 10,000 real images (CIFAR-10: the whole test split; CelebA: of the held-out tenth)
FID_10K_REAL = "fid:reference_n=10000"
DCGAN_NOTE = "on the DCGAN nets (trainers/methods/image.py)"

TABLES.add(
    "veegan-ivom",
    Table(
        name="veegan-ivom",
        title="VEEGAN CIFAR-10: inference via optimisation (IvOM, mean per-image MSE on the [0, 1] scale; lower is better)",
        rows=(
            Row("DCGAN", "dcgan"),
            Row("ALI", "ali-dcgan", note=f"our construction of ALI {DCGAN_NOTE}: the paper names the architecture only"),
            Row("Unrolled", "unrolled-dcgan", note=f"5 unrolling steps and the saturating G loss of the reference notebook {DCGAN_NOTE}"),
            Row("VEEGAN", "veegan-dcgan", note=f"our construction {DCGAN_NOTE}: the authors released no image code"),
        ),
        columns=(Column("cifar10", CIFAR_DCGAN_STEPS, evaluators=("ivom",)),),
        metrics=(IVOM,),
        default_seeds=5,
        paper={
            ("DCGAN", "cifar10"): {"ivom_mse": (0.00844, 0.002)},
            ("ALI", "cifar10"): {"ivom_mse": (0.0067, 0.004)},
            ("Unrolled", "cifar10"): {"ivom_mse": (0.013, 0.0009)},
            ("VEEGAN", "cifar10"): {"ivom_mse": (0.0068, 0.0001)},
        },
        paper_spread="± as published (5 runs, the unrolled GAN paper's count; VEEGAN does not say sd or s.e.)",
        data_note="the user's CIFAR-10, 50,000 training images in [-1, 1]; IvOM of 256 test images drawn from each run's "
        "evaluation seed, L-BFGS (100 iterations) from 3 starts z0 ~ N(0, I), best start kept, each image its own problem "
        "(the era code shared one line search over the batch: gan_eval/metrics/ivom.py); VEEGAN states no budget: "
        f"{CIFAR_DCGAN_STEPS:,} iterations are carpedm20's 50 epochs at batch 64, the reading of its Stacked-MNIST setting",
        # IvOM inverts the generator itself; the evaluation samples only feed the table's sample figure
        eval_samples=64,
        paper_params=DCGAN_WIDTH,
    ),
)

SN_CNN = {"net": "sn-cnn32"}
STANDARD_CNN = "the SN-GAN paper's standard CNN (net sn-cnn32), the paper's 'standard CNN' group"
#: the rows both BMS FID tables open with (the autoencoders, then the DCGAN baseline), on the DCGAN nets
BMS_FIRST_ROWS = (Row("WAE", "wae"), Row("BMS-VAE", "bms-vae"), Row("DCGAN", "dcgan"))

BMS_CIFAR_STEPS, BMS_CELEBA_STEPS = 100_000, 200_000
BMS_TWO_NUMBERS = "the paper prints two numbers for this row, {first} / {second}, without saying which setting each is; the first is shown"

TABLES.add(
    "bms-cifar10",
    Table(
        name="bms-cifar10",
        title="BMS-VAE-GAN CIFAR-10: FID (10k real / 5k generated)",
        rows=(
            *BMS_FIRST_ROWS,
            Row("alpha-GAN", "alpha-gan"),
            Row("SN-GAN", "sngan", note=STANDARD_CNN),
            Row("BW-GAN", "bwgan", SN_CNN, note=STANDARD_CNN),
            Row("alpha-GAN + SN", "alpha-gan-sn", SN_CNN, note=STANDARD_CNN),
            Row("BMS-VAE-GAN", "bms-vae-gan", SN_CNN, note=STANDARD_CNN + "; " + BMS_TWO_NUMBERS.format(first="23.8 ± .2", second="23.4 ± .2")),
            Row("Dist-GAN (300k)", "distgan", SN_CNN, note=STANDARD_CNN + "; 300,000 iterations as the paper's row", steps=300_000),
            Row("BMS-VAE-GAN (300k)", "bms-vae-gan", SN_CNN, note=STANDARD_CNN + "; 300,000 iterations as the paper's row", steps=300_000),
        ),
        columns=(Column("cifar10", BMS_CIFAR_STEPS, evaluators=(FID_10K_REAL,)),),
        metrics=(FID,),
        default_seeds=5,
        paper={
            ("WAE", "cifar10"): {"fid": (89.3, 0.3)},
            ("BMS-VAE", "cifar10"): {"fid": (87.9, 0.4)},
            ("DCGAN", "cifar10"): {"fid": (30.7, 0.2)},
            ("alpha-GAN", "cifar10"): {"fid": (29.4, 0.3)},
            ("SN-GAN", "cifar10"): {"fid": (25.5, None)},
            ("BW-GAN", "cifar10"): {"fid": (25.1, None)},
            ("alpha-GAN + SN", "cifar10"): {"fid": (24.6, 0.3)},
            ("BMS-VAE-GAN", "cifar10"): {"fid": (23.8, 0.2)},
            ("Dist-GAN (300k)", "cifar10"): {"fid": (22.9, None)},
            ("BMS-VAE-GAN (300k)", "cifar10"): {"fid": (21.8, 0.2)},
        },
        paper_spread="± as printed (the paper does not say sd or s.e., nor over how many runs; none for SN-GAN, BW-GAN, Dist-GAN)",
        data_note="the user's CIFAR-10, 50,000 training images in [-1, 1]; FID of {eval_samples} samples against the 10,000 test "
        "images, TF-faithful Inception pool_3 (TF1 bilinear resize to 299) with the user's weights (hash in the JSON); "
        "the first four rows on the DCGAN nets (net auto: dcgan32); the paper states no iteration count but for its 300k "
        "rows: 100,000 is ours; its BMS-GAN row (28.8 ± .4) has no registered method and is left out",
        eval_samples=5000,
    ),
)

CELEBA = "celeba64"
#: WAE on CelebA as its authors' CelebA config (tolstikhin/wae ``configs.py`` L47 ``zdim`` 64, L53 ``lambda`` 100, at
#: commit 6351565; the method's defaults are its MNIST config's lambda 10 and the family's 100-D image latent)
WAE_CELEBA = {"latent_dim": 64, "latent_weight": 100.0}
TABLES.add(
    "bms-celeba",
    Table(
        name="bms-celeba",
        title="BMS-VAE-GAN CelebA 64 x 64: FID (10k real / 10k generated) / IoVM (appendix)",
        rows=(
            Row("WAE", "wae", WAE_CELEBA, note="tolstikhin/wae's CelebA config: 64-D latent, lambda 100 (WAE-MMD)"),
            *BMS_FIRST_ROWS[1:],
            Row("WGAN-GP", "wgan-gp"),
            Row("BEGAN", "began"),
            Row("Dist-GAN", "distgan"),
            Row("SN-GAN", "sngan"),
            Row("alpha-GAN", "alpha-gan"),
            Row("alpha-GAN + SN", "alpha-gan-sn"),
            Row("BMS-VAE-GAN", "bms-vae-gan", note=BMS_TWO_NUMBERS.format(first="14.3 ± .4", second="13.6 ± .4")),
        ),
        columns=(Column("folder:crop=108,size=64", BMS_CELEBA_STEPS, paper_steps=BMS_CELEBA_STEPS, evaluators=(FID_10K_REAL, "ivom"), label=CELEBA),),
        metrics=(FID, IVOM),
        default_seeds=5,
        paper={
            ("WAE", CELEBA): {"fid": (41.2, 0.3)},
            ("BMS-VAE", CELEBA): {"fid": (39.8, 0.3)},
            ("DCGAN", CELEBA): {"fid": (31.1, 0.9)},
            ("WGAN-GP", CELEBA): {"fid": (26.8, 1.2)},
            ("BEGAN", CELEBA): {"fid": (26.3, 0.9)},
            ("Dist-GAN", CELEBA): {"fid": (23.7, 0.3)},
            ("SN-GAN", CELEBA): {"fid": (21.9, 0.8), "ivom_mse": (0.0221, 0.0003)},
            ("alpha-GAN", CELEBA): {"fid": (19.2, 0.8)},
            ("alpha-GAN + SN", CELEBA): {"fid": (15.1, 0.2), "ivom_mse": (0.0036, 0.0001)},
            ("BMS-VAE-GAN", CELEBA): {"fid": (14.3, 0.4), "ivom_mse": (0.0034, 0.0001)},
        },
        paper_spread="± as printed (the paper does not say sd or s.e., nor over how many runs); IoVM for three rows only (appendix)",
        data_note="the user's aligned CelebA (img_align_celeba, 178 x 218): centre 108 x 108 crop, bilinear resize to 64 x 64, "
        "[-1, 1] (DCGAN-tensorflow's preprocessing, trainers/datasets/folder.py); the last tenth of the sorted files held out "
        "(about CelebA's test split); FID of {eval_samples} samples against 10,000 held-out images, TF-faithful Inception pool_3 "
        "(TF1 bilinear resize to 299) with the user's weights (hash in the JSON); IoVM of 256 held-out images as "
        "veegan-ivom's; every row on the DCGAN nets at 64 x 64 (net auto: dcgan64) but BEGAN's, on its authors' nets (net "
        "began: began64, carpedm20/BEGAN-tensorflow); 200,000 iterations as the paper",
        eval_samples=10_000,
    ),
)
