"""``reproduce`` under torchrun: two gloo ranks on CPU give the one-process table; cells split whole and
balanced; a failing or dying rank is one line on rank 0, never a hang."""
from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import random
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
from typer.testing import CliRunner

from gan_eval.cli import app
from gan_eval.errors import GanEvalError
from gan_eval.stats.dist import world
from trainers import distributed
from trainers.distributed import Rank, cells_for_rank, coordinated, current, rank_from_env, use_local_gpu
from trainers.reproduce import Job, plan, rank_share, reproduce
from trainers.tables import TABLES


ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 300  # a hang fails the test instead of stalling the suite (a loaded 2-core machine needs ~70 s)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env() -> dict[str, str]:
    """This interpreter's environment with the checkout first on PYTHONPATH and one thread per process."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"}


def torchrun(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1", "--master-port", str(free_port()), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, env=child_env(), cwd=ROOT)


def test_two_gloo_ranks_write_the_one_process_table(tmp_path):
    """moons-latent-dim (2 cells) x 2 seeds x 20 steps under torchrun with two CPU ranks: each rank trains one
    whole cell, rank 0 alone prints and writes the table, and every per-seed value equals a one-process run's
    (same device, same seeds: the runs are deterministic)."""
    one = reproduce("moons-latent-dim", tmp_path / "one", seeds=2, steps=20)
    two = torchrun("-m", "trainers.reproduce", "moons-latent-dim", "--out", str(tmp_path / "two"), "--seeds", "2", "--steps", "20", "--jobs", "1")
    assert two.returncode == 0, two.stderr[-3000:]
    assert two.stdout.count("| GAN z=2 |") == 1 and two.stdout.count("wrote ") == 4  # rank 0 prints, rank 1 does not
    for r in (0, 1):  # each rank planned one cell of two seeds
        assert f"rank {r} of 2, moons-latent-dim: 4 runs (2 methods x 1 dataset x 2 seeds), 2 to train" in two.stderr
    table = json.loads((tmp_path / "two" / "moons-latent-dim.json").read_text())
    assert table["ranks"] == 2 and table["trained"] == 4
    assert [c["ours"]["values"] for c in table["cells"]] == [c["ours"]["values"] for c in one["cells"]]
    assert table["cells"] == one["cells"]
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in (tmp_path / "one").iterdir())


def bad_input_from_the_cli(out: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["reproduce", "moons-latent-dim", "--out", out, "--seeds", "0", "--no-progress"])
    return result.exit_code, result.output


def test_bad_input_on_two_ranks_is_one_line_from_rank_0(tmp_path):
    """``gan-eval reproduce`` with the same bad input on both ranks: exit code 2 on each, one ``error:`` line
    (rank 0's), rank 1 silent, nothing written."""
    said = in_two_ranks(bad_input_from_the_cli, str(tmp_path))
    assert said == {0: (2, "error: --seeds 0 / --jobs 1: both must be positive\n"), 1: (2, "")}
    assert not any(tmp_path.iterdir())


@coordinated("planned", "trained")
def two_stages(mode: str) -> str:
    group = current()
    assert group is not None
    group.wait("planned")
    if group.rank.rank == 1 and mode == "raise":
        raise GanEvalError("boom on rank 1")
    if group.rank.rank == 1 and mode == "die":
        os._exit(3)
    group.wait("trained")
    return "finished"


def said_by_rank(rank: int, port: int, said: multiprocessing.SimpleQueue, work: Callable[..., Any], *args: Any) -> None:
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(rank), "WORLD_SIZE": "2", "LOCAL_RANK": str(rank)})
    try:
        said.put((rank, work(*args)))
    except GanEvalError as exc:
        said.put((rank, f"error: {exc}"))


def in_two_ranks(work: Callable[..., Any], *args: Any) -> dict[int, Any]:
    """``work(*args)`` in two forked ranks, as torchrun's environment describes them but with no torchrun agent
    (which would kill the survivors of a failed rank); what each rank returned or its error line, by rank. The
    test's torch import is reused: seconds, not new interpreters."""
    context = multiprocessing.get_context("fork")
    said = context.SimpleQueue()
    port = free_port()
    procs = [context.Process(target=said_by_rank, args=(r, port, said, work, *args)) for r in (0, 1)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(TIMEOUT_S)
    hung = [r for r, p in enumerate(procs) if p.is_alive()]
    for p in procs:
        p.kill()
    assert not hung and procs[0].exitcode == 0, (hung, procs[0].exitcode)
    return dict(said.get() for p in procs if p.exitcode == 0)


@pytest.mark.parametrize(
    ("mode", "rank0_says"),
    [("raise", "error: rank 1 of 2: boom on rank 1"), ("die", "error: rank 0 of 2 lost contact with the other ranks (")],
)
def test_a_failing_or_dying_rank_stops_the_others_with_one_line(mode, rank0_says, monkeypatch):
    """Rank 1 raises, or dies without a word, after the first stage; rank 0 waiting at the second stops with one
    line naming the cause within the test's timeout (the waits are heartbeats, not one request as long as the
    training; a dead rank is one silent for SILENT_S, shortened here), and so does rank 1 when it can still speak."""
    monkeypatch.setattr(distributed, "SILENT_S", 10.0)  # the forked ranks inherit it
    said = in_two_ranks(two_stages, mode)
    assert said[0].startswith(rank0_says) and sorted(said) == ([0, 1] if mode == "raise" else [0]), said
    assert said.get(1, rank0_says).startswith(rank0_says)


@coordinated("planned")
def metrics_see_one_process() -> tuple[int, int]:
    current().wait("planned")
    return world()


def test_ranks_of_a_table_leave_gan_evals_metrics_one_process():
    """Inside ``reproduce``'s rank group no default process group exists, so an evaluator's gan_eval statistics
    (FID's Gaussian moments, reduced over ranks wherever a group is initialised) stay the rank's own run's."""
    assert in_two_ranks(metrics_see_one_process) == {0: (0, 1), 1: (0, 1)}


def graham_bound_holds(costs: list[float], world: int) -> bool:
    """Graham (1969): longest-processing-time-first is within 4/3 - 1/(3m) of the optimal makespan (here by
    trying every assignment)."""
    cells = {f"c{i}": c for i, c in enumerate(costs)}
    shares = [cells_for_rank(cells, r, world) for r in range(world)]
    lpt = max(sum(cells[c] for c in share) for share in shares)
    best = min(max(sum(c for c, o in zip(costs, owners) if o == r) for r in range(world)) for owners in itertools.product(range(world), repeat=len(costs)))
    return lpt <= (4 / 3 - 1 / (3 * world)) * best + 1e-9


def test_cells_for_rank_gives_every_cell_once_within_grahams_bound():
    rng = random.Random(0)
    for _ in range(30):
        world = rng.randint(2, 3)
        costs = [rng.choice([1.0, 2.0, 3.0, rng.uniform(0.5, 10)]) for _ in range(rng.randint(1, 8))]
        cells = {f"c{i}": c for i, c in enumerate(costs)}
        shares = [cells_for_rank(cells, r, world) for r in range(world)]
        assert sorted(c for share in shares for c in share) == sorted(cells)  # every cell exactly once
        assert graham_bound_holds(costs, world), (costs, world)
    equal = {f"c{i}": 1.0 for i in range(6)}
    assert [len(cells_for_rank(equal, r, 3)) for r in range(3)] == [2, 2, 2]
    assert cells_for_rank({"a": 5.0, "b": 3.0, "c": 2.0}, 1, 2) == ["b", "c"]  # a alone (5) against b + c (5)


def test_rank_share_keeps_every_seed_of_a_cell_on_one_rank(tmp_path):
    """VEEGAN Table 1 (4 methods x 3 datasets x 3 seeds) over 5 ranks: each run on exactly one rank, the seeds of
    a cell together, and the busiest rank within Graham's list-scheduling bound: mean load + (1 - 1/m) x the
    costliest cell."""
    jobs = plan(TABLES.get("veegan-table1"), tmp_path, seeds=3)
    shares = [rank_share(sorted(jobs, key=Job.cost, reverse=True), {j.run_dir: 0 for j in jobs}, r, 5) for r in range(5)]
    assert sorted(str(j.run_dir) for share in shares for j in share) == sorted(str(j.run_dir) for j in jobs)
    owner = {(j.row.label, j.column.dataset): r for r, share in enumerate(shares) for j in share}
    assert all(owner[(j.row.label, j.column.dataset)] == r for r, share in enumerate(shares) for j in share)
    loads = [sum(j.cost() for j in share) for share in shares]
    assert max(loads) <= sum(loads) / 5 + (1 - 1 / 5) * max(j.cost() * 3 for j in jobs)


def test_rank_from_env():
    assert rank_from_env({}) is None
    assert rank_from_env({"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0"}) is None  # one process: as without torchrun
    assert rank_from_env({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"}) == Rank(3, 4, 1)
    with pytest.raises(GanEvalError, match="RANK=4 with WORLD_SIZE=4"):
        rank_from_env({"RANK": "4", "WORLD_SIZE": "4"})
    with pytest.raises(GanEvalError, match="must be integers"):
        rank_from_env({"RANK": "x", "WORLD_SIZE": "4"})


def test_cuda_under_torchrun_needs_a_gpu_per_local_rank(monkeypatch):
    """``--device cuda`` means GPU LOCAL_RANK on each rank: a rank without its GPU is one line before any
    training; ``cpu`` and an explicit ``cuda:N`` are left as asked."""
    import torch

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "set_device", lambda index: chosen.append(index))
    chosen: list[int] = []
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("LOCAL_RANK", "1")
    with pytest.raises(GanEvalError, match=r"--device cuda on rank 1: one GPU per process, but LOCAL_RANK=1 and this machine has 1;"):
        use_local_gpu("cuda")
    use_local_gpu("cpu")
    use_local_gpu("cuda:0")
    monkeypatch.setenv("LOCAL_RANK", "0")
    use_local_gpu("cuda")
    assert chosen == [0]
