"""One training process per run directory (trainers/run_lock.py): a second process is refused before it touches the
run, and the lock dies with its holder (the kernel's flock semantics, flock(2))."""
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from gan_eval.errors import GanEvalError
from trainers.loop import TrainConfig, train, train_seeds
from trainers.run_lock import LOCK_NAME, training_lock, training_pid

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no fcntl: no lock is taken")

CONFIG = TrainConfig("gan", "ring8", seed=0, steps=4, eval_every=2, eval_samples=100)


def files(run_dir):
    return {p.name: p.read_bytes() for p in run_dir.iterdir() if p.name != LOCK_NAME}


def test_second_trainer_of_a_run_is_refused_and_leaves_its_files(tmp_path):
    run_dir = tmp_path / "run"
    assert train(CONFIG, run_dir, stop_after=2) is None
    before = files(run_dir)
    with training_lock([run_dir]):
        with pytest.raises(GanEvalError, match=rf"being trained by another process \(pid {os.getpid()}\)") as err:
            train(CONFIG, run_dir)
    assert "\n" not in str(err.value) and str(run_dir) in str(err.value)
    assert files(run_dir) == before  # nothing read-modified: no checkpoint, no metric line, no result
    assert train(CONFIG, run_dir)["step"] == 4  # released: the same call now finishes the run


def test_grouped_seeds_take_every_lock_or_none(tmp_path):
    dirs = [tmp_path / f"s{seed}" for seed in range(3)]
    configs = [TrainConfig("gan", "ring8", seed=seed, steps=2, eval_every=2, eval_samples=100) for seed in range(3)]
    for d in dirs:
        d.mkdir()
    with training_lock([dirs[2]]):
        with pytest.raises(GanEvalError, match="being trained by another process"):
            train_seeds(configs, dirs)
    with training_lock(dirs[:2]):  # the refused call released the two locks it had taken
        pass
    assert [r["step"] for r in train_seeds(configs, dirs)] == [2, 2, 2]


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    """flock(2): a lock is released when its holder's file is closed, also by the kernel at SIGKILL."""
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from pathlib import Path
            from trainers.run_lock import training_lock
            with training_lock([Path({str(tmp_path)!r})]):
                print("held", flush=True)
                time.sleep(60)
        """)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert training_pid(tmp_path) == holder.pid
        with pytest.raises(GanEvalError, match=rf"pid {holder.pid}\)"):
            with training_lock([tmp_path]):
                pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert training_pid(tmp_path) is None
    with training_lock([tmp_path]):
        assert (tmp_path / LOCK_NAME).read_text().strip() == str(os.getpid())


def test_training_pid_names_the_holder_only_while_it_trains(tmp_path):
    assert training_pid(tmp_path) is None  # never trained: no lock file
    with training_lock([tmp_path]):
        assert training_pid(tmp_path) == os.getpid()
    assert training_pid(tmp_path) is None
    with training_lock([tmp_path]):  # the probe took nothing with it
        pass
