"""``gan-eval score`` and ``gan-eval stats`` under torchrun (issue 14 item 4): two gloo ranks on the CPU share the
samples rank-strided and reduce their statistics exactly, and rank 0 alone prints and writes. FID, KID, PRDC,
NDB, modes and Stacked MNIST equal the one-process results: counts and feature-bank metrics exactly (the
gathered features are the one-process matrix, in sample order), float64 sums to 1e-9 relative."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
from typer.testing import CliRunner

from gan_eval.cli import app
from gan_eval.io.stats_file import load_stats
from gan_eval.stats.dist import StridedSource
from gan_eval.io.samples import ArraySource
from test_reproduce_torchrun import in_two_ranks, torchrun

runner = CliRunner()


def test_strided_shares_partition_the_samples_in_order():
    data = np.arange(23)[:, None]
    shares = [StridedSource(ArraySource(data), r, 3) for r in range(3)]
    assert [len(s) for s in shares] == [8, 8, 7]
    for r, share in enumerate(shares):
        assert np.concatenate(list(share.batches(4)))[:, 0].tolist() == list(range(r, 23, 3))


def one_process(*args: str) -> dict:
    result = runner.invoke(app, [*args, "--json", "--no-progress"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def two_ranks(*args: str) -> dict:
    run = torchrun("-m", "gan_eval", *args, "--json", "--no-progress")
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)  # rank 0 alone prints: one JSON document


def cli_said(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.stdout


def cli_said_per_rank(args: list[str]) -> tuple[int, str]:
    """``cli_said`` with every ``@rank`` replaced by this rank's number, as tests/cli_per_rank.py does under torchrun;
    stdout and stderr together (the error line)."""
    result = CliRunner().invoke(app, [a.replace("@rank", os.environ["RANK"]) for a in args])
    return result.exit_code, result.output


def two_forked_ranks(*args: str) -> dict:
    """The CLI on two gloo ranks forked from this process with torchrun's environment (the ranks' code path, without
    a torchrun agent and two fresh interpreters: one real launch above covers those): rank 0's JSON, rank 1 silent."""
    said = in_two_ranks(cli_said, [*args, "--json", "--no-progress"])
    assert said[0][0] == 0 and said[1] == (0, ""), said
    return json.loads(said[0][1])


def assert_same(one: dict, two: dict) -> None:
    for key, value in one.items():
        if isinstance(value, float):
            assert two[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
        else:
            assert two[key] == value, key


def test_two_gloo_ranks_score_as_one_process(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "fake.npz", samples=rng.integers(0, 256, (61, 3, 8, 8), dtype=np.uint8))  # odd: unequal shares
    np.savez(tmp_path / "real.npz", samples=rng.integers(0, 256, (70, 3, 8, 8), dtype=np.uint8))
    angles = rng.integers(0, 8, 301) * np.pi / 4
    np.savez(tmp_path / "ring.npz", samples=np.stack([np.cos(angles), np.sin(angles)], 1) + rng.normal(0, 0.02, (301, 2)))
    np.savez(tmp_path / "stacked.npz", samples=rng.random((41, 3, 28, 28), dtype=np.float32))
    images = ["score", str(tmp_path / "fake.npz"), "-m", "fid,kid,prdc,ndb", "-r", str(tmp_path / "real.npz"), "--features", "pixels",
              "--set", "subset_size=30", "--set", "subsets=4", "--set", "k=5", "--set", "n_init=1", "--set", "cache=false"]
    one, two = one_process(*images), two_ranks(*images)
    for metric in ("fid", "kid", "prdc", "ndb"):
        assert_same(one["metrics"][metric]["values"], two["metrics"][metric]["values"])
        assert two["metrics"][metric]["protocol"]["world_size"] == 2
    assert two["metrics"]["ndb"]["details"] == one["metrics"]["ndb"]["details"]
    modes = ["score", str(tmp_path / "ring.npz"), "-m", "modes", "-r", "ring8"]
    one, two = one_process(*modes), two_forked_ranks(*modes)
    assert two["values"] == one["values"] and two["details"]["per_mode"] == one["details"]["per_mode"]
    assert two["protocol"]["world_size"] == 2
    stacked = ["score", str(tmp_path / "stacked.npz"), "-m", "stacked-mnist", "--set", "subset=none"]
    one, two = one_process(*stacked), two_forked_ranks(*stacked)
    assert two["protocol"]["world_size"] == 2
    assert two["values"] == one["values"] and two["details"]["triple_counts"] == one["details"]["triple_counts"]


def test_two_gloo_ranks_write_the_one_process_statistics(tmp_path):
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "real.npz", samples=rng.integers(0, 256, (45, 3, 8, 8), dtype=np.uint8))
    args = ["stats", str(tmp_path / "real.npz"), "--features", "pixels", "--keep-features", "--no-progress"]
    assert runner.invoke(app, [*args, "-o", str(tmp_path / "one.npz")]).exit_code == 0
    said = in_two_ranks(cli_said, [*args, "-o", str(tmp_path / "two.npz")])
    assert said[0][0] == 0 and said[0][1].count("wrote ") == 1 and said[1] == (0, ""), said  # rank 0 alone
    one, two = load_stats(tmp_path / "one.npz"), load_stats(tmp_path / "two.npz")
    assert two.stats.count == one.stats.count == 45
    assert np.array_equal(two.features.numpy(), one.features.numpy())
    assert np.allclose(two.stats.outer.numpy(), one.stats.outer.numpy(), rtol=1e-12, atol=0)


def test_ranks_given_different_options_all_stop_with_the_same_line(tmp_path):
    """Rank 1 is given another --seed and --set than rank 0: before any extraction both ranks print the same one
    line naming those options and rank 1, exit 2, and ``stats`` writes nothing."""
    rng = np.random.default_rng(2)
    np.savez(tmp_path / "fake.npz", samples=rng.integers(0, 256, (20, 3, 8, 8), dtype=np.uint8))
    run = torchrun("tests/cli_per_rank.py", "score", str(tmp_path / "fake.npz"), "-m", "kid", "-r", str(tmp_path / "fake.npz"),
                   "--features", "pixels", "--seed", "@rank", "--set", "subsets=1@rank", "--set", "subset_size=10")
    said = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    expected = "error: torchrun: the ranks were given different options, --seed (rank 1); --set (rank 1) differ from rank 0; start every rank with the same command"
    assert said == [expected, expected], run.stderr[-3000:]
    assert run.returncode != 0 and "exitcode  : 2" in run.stderr and "gan_eval/" not in run.stderr  # torchrun's report, none of ours
    images = rng.integers(0, 256, (20, 3, 8, 8), dtype=np.uint8)
    np.savez(tmp_path / "two.npz", samples0=images, samples1=images[::-1])
    said = in_two_ranks(cli_said_per_rank, ["stats", str(tmp_path / "two.npz"), "--key", "samples@rank", "--features", "pixels", "-o", str(tmp_path / "s.npz")])
    line = "error: torchrun: the ranks were given different options, --key (rank 1) differ from rank 0; start every rank with the same command\n"
    assert said == {0: (2, line), 1: (2, line)}
    assert not (tmp_path / "s.npz").exists()
