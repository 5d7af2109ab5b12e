"""The CPU cost model of the image methods' steps (trainers.step_cost) against the development machine's
measurements, and its direction under the options that set the nets' size. No training: the nets are built and
their forward FLOPs counted."""
from __future__ import annotations

import pytest

from trainers.methods.base import make_params, params_record
from trainers.step_cost import forward_flops, image_step_seconds, stacked_mnist_eval_seconds
from trainers.tables import TABLES

SHAPE = (3, 28, 28)
#: CPU seconds of one step, one thread, measured on the development machine with
#: benchmarks/reproduce/stacked_mnist_step_time.py: benchmarks/reproduce/results/stacked-mnist-cpu-status.md,
#: "Measured cost" (table: rows of VEEGAN Table 2 and PacGAN Table 2 at the widths measured; below it PacGAN Table 3's
#: nets at D = 1/4 G). Keys: (table, row label, column, --set width).
MEASURED_STEP_S = {
    ("veegan-table2", "DCGAN", "stacked-mnist", 64): 2.53,
    ("veegan-table2", "DCGAN", "stacked-mnist", 16): 0.293,
    ("veegan-table2", "DCGAN", "stacked-mnist", 8): 0.149,
    ("veegan-table2", "DCGAN", "stacked-mnist", 4): 0.104,
    ("veegan-table2", "ALI", "stacked-mnist", 8): 0.092,
    ("veegan-table2", "VEEGAN", "stacked-mnist", 8): 0.083,
    ("veegan-table2", "Unrolled", "stacked-mnist", 8): 0.557,
    ("pacgan-table2", "PacDCGAN2", "stacked-mnist", 8): 0.193,
    ("pacgan-table2", "PacDCGAN3", "stacked-mnist", 8): 0.273,
    ("pacgan-table2", "PacDCGAN4", "stacked-mnist", 8): 0.371,
    ("pacgan-table3", "DCGAN", "D=1/4G", None): 0.154,
    ("pacgan-table3", "Unrolled 10", "D=1/4G", None): 0.699,
    ("pacgan-table3", "PacDCGAN4", "D=1/4G", None): 0.596,
}


def cell_params(table: str, row: str, column: str, **overrides) -> tuple[str, dict]:
    """The method and resolved hyper-parameters of a table's cell, merged as ``trainers.reproduce.plan`` merges them."""
    t = TABLES.get(table)
    r = next(r for r in t.rows if r.label == row)
    c = next(c for c in t.columns if c.name == column)
    return r.method, params_record(make_params(r.method, {**c.params, **r.params, **overrides}))


def step_s(table: str, row: str, column: str, **overrides) -> float:
    method, params = cell_params(table, row, column, **overrides)
    return image_step_seconds(method, params, SHAPE)


@pytest.mark.parametrize("cell", list(MEASURED_STEP_S), ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}-w{c[3]}")
def test_step_estimate_is_within_1_6x_of_the_development_machines_measured_cpu_step(cell):
    """Each of the 13 measured CPU seconds per step (MEASURED_STEP_S) lies within 1.6x of the model's (the task's bar
    is 2x; the fit's worst point is VEEGAN's at 1.5x): the width, the net and D's scale of the cell all set it."""
    table, row, column, width = cell
    estimate = step_s(table, row, column, **({"width": width} if width else {}))
    measured = MEASURED_STEP_S[cell]
    assert 1 / 1.6 < estimate / measured < 1.6, (cell, estimate, measured)


def test_a_narrower_net_a_smaller_d_fewer_packs_or_unrolling_steps_cost_less():
    """Direction, for every row of VEEGAN Table 2 and PacGAN Table 2: width 4 < 8 < 16 < 64 (FLOPs ~ width^2 at the
    papers' width, overheads at the narrow ones); PacGAN Table 3: D = 1/2 G costs more than 1/4 G in every row, and
    more packs or more unrolling steps cost more; the papers' width-64 DCGAN step is over 10x the width-8 one
    (measured: 2.53 / 0.149 = 17x)."""
    for table in ("veegan-table2", "pacgan-table2"):
        for row in TABLES.get(table).rows:
            costs = [step_s(table, row.label, "stacked-mnist", width=w) for w in (4, 8, 16, 64)]
            assert costs == sorted(costs) and len(set(costs)) == 4, (row.label, costs)
    assert step_s("veegan-table2", "DCGAN", "stacked-mnist") > 10 * step_s("veegan-table2", "DCGAN", "stacked-mnist", width=8)
    table3 = TABLES.get("pacgan-table3")
    for row in table3.rows:
        assert step_s("pacgan-table3", row.label, "D=1/2G") > step_s("pacgan-table3", row.label, "D=1/4G"), row.label
    ladder = [step_s("pacgan-table3", label, "D=1/4G") for label in ("DCGAN", "Unrolled 1", "Unrolled 5", "Unrolled 10")]
    assert ladder == sorted(ladder)
    packs = [step_s("pacgan-table3", f"PacDCGAN{m}", "D=1/4G") for m in (2, 3, 4)]
    assert packs == sorted(packs)


def test_flops_are_the_closed_form_of_the_nets_convolutions():
    """The counted FLOPs against a hand count of carpedm20's DCGAN D at width 8 on 28 x 28 x 3 (5 x 5 stride-2 SAME
    convs: 3->8 at 14 x 14, 8->16 at 7 x 7, 16->32 at 4 x 4, 32->64 at 2 x 2; 2 FLOPs a multiply-add), and the pack's
    channels entering D's first layer only."""
    method, params = cell_params("veegan-table2", "DCGAN", "stacked-mnist", width=8)
    macs = 25 * (14 * 14 * 3 * 8 + 7 * 7 * 8 * 16 + 4 * 4 * 16 * 32 + 2 * 2 * 32 * 64)
    g, d = forward_flops(method, params, SHAPE)
    assert d == 2 * macs
    _, packed = forward_flops("pacdcgan", {**params, "pack": 3}, SHAPE)
    assert packed - d == 2 * 25 * 14 * 14 * (3 * 3 - 3) * 8
    assert forward_flops("pacdcgan", {**params, "pack": 3}, SHAPE)[0] == g


def test_evaluation_of_26000_samples_matches_the_measured_cpu_seconds():
    """One Stacked-MNIST evaluation of 26,000 samples (generate + classify, stacked-mnist-cpu-status.md): 20 CPU-s
    measured at width 8 and 85 at width 64; the model is within 1.3x of both."""
    for width, measured in ((8, 20), (64, 85)):
        method, params = cell_params("veegan-table2", "DCGAN", "stacked-mnist", width=width)
        assert 1 / 1.3 < stacked_mnist_eval_seconds(method, params, SHAPE, 26_000) / measured < 1.3, width


def test_a_method_the_model_does_not_count_has_no_estimate():
    """No guess for an image method whose step is not counted (a vector method's per-step figure would be 10-100x off)."""
    assert image_step_seconds("wgan-gp", params_record(make_params("wgan-gp")), SHAPE) is None
