"""The stepper (trainers/stepper.py): staged random inputs equal eager draws bit for bit on the CPU, for every
registered method, both update orders, ungrouped and grouped; the CUDA-only paths (graph capture, TF32) are
checked on a GPU and skipped here with the reason; the GPU script runs end to end in its --tiny mode.

The reference is the eager step itself (torch's own RNG and kernels): the staged step must consume the same CPU
generators in the same order and compute on the same values, so every loss, parameter, buffer, optimizer moment
and generator state must be *equal*, not close."""
from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
import torch

from gan_eval.errors import GanEvalError
from test_grouped_training import TINY as VECTOR_TINY
from trainers.loop import Group, Run, TrainConfig, train, train_seeds
from trainers.methods import METHODS
from trainers.methods.base import CountingMethod
from trainers.stepper import Stepper, StagedInputs, tf32_matmuls


ROOT = Path(__file__).resolve().parents[1]
STEPS = 4
# Methods that take images as well get narrow image nets; WGAN without its critic schedule (see the test below).
IMAGE_TINY = {"width": 4, "batch_size": 8}
TINY = {**VECTOR_TINY, **{name: IMAGE_TINY for name in ("dcgan", "pacdcgan", "ali-dcgan", "veegan-dcgan")},
        "unrolled-dcgan": {**IMAGE_TINY, "unroll": 2},
        **{name: {**VECTOR_TINY[name], **IMAGE_TINY} for name in VECTOR_TINY
           if name in METHODS.names() and "image" in METHODS.get(name).data_kinds}}
TINY["wgan"] = {**TINY["wgan"], "n_critic_boost": 0}
# MD-GAN and Dist-GAN without their learning-rate schedules (and Dist-GAN's D-weight schedule on images), and SN-GAN,
# hinge and BW-GAN without their linear decay on images: each sets a Python float each step and so trains eagerly.
for _name in ("mdgan", "distgan"):
    TINY[_name] = {**TINY[_name], "lr_decay": 1.0}
TINY["distgan"]["d_weight_schedule"] = "fixed"
for _name in ("sngan", "hinge", "bwgan"):
    TINY[_name] = {**TINY[_name], "lr_schedule": "constant"}
DATASET_OF_KIND = {"vector": "ring8", "image": "stacked-mnist"}
CASES = []
for _name in (name for name in METHODS.names() if METHODS.get(name).graph_safe is not False):  # MMD-GAN is never staged
    _params = METHODS.get(_name).Params
    _orders = ("simultaneous", "sequential") if "update" in _params.__dataclass_fields__ else (None,)
    for _kind in METHODS.get(_name).data_kinds:
        for _order in _orders:
            CASES.append((_name, DATASET_OF_KIND[_kind], {} if _order is None else {"update": _order}))
CASES += [("veegan", "ring8", {"reconstructor": False}), ("veegan", "ring8", {"reconstructor": False, "update": "sequential"})]


def test_every_method_has_tiny_settings():
    assert set(METHODS.names()) <= set(TINY), "a new method needs small settings in TINY to be tested here"


def group_of(method, dataset, params, seeds, tmp_path, tag, data_dir):
    runs = [Run(TrainConfig(method, dataset, seed=s, params={**TINY[method], **params}, data_dir=data_dir), tmp_path / f"{tag}-{s}") for s in seeds]
    return Group(runs)


def state_of(group: Group) -> list[torch.Tensor]:
    method = group.method
    tensors = [*method.nets.parameters(), *method.nets.buffers()]
    for optimizer in method.opt.values():
        tensors += [t for st in optimizer.state.values() for t in st.values() if isinstance(t, torch.Tensor)]
    tensors += [g.get_state() for run in group.runs for g in run.generators.values()]
    return [t.detach().clone() for t in tensors]


@pytest.mark.parametrize("seeds", [(3,), (3, 4)], ids=["one-seed", "grouped"])
@pytest.mark.parametrize("method, dataset, params", CASES, ids=[f"{m}-{d}" + "".join(f"-{k}={v}" for k, v in p.items()) for m, d, p in CASES])
def test_staged_step_equals_eager_step_bit_for_bit_on_cpu(method, dataset, params, seeds, tmp_path, mnist_dir):
    """4 steps eager and 4 steps staged from the same seeds: every step's losses, and afterwards every parameter,
    buffer, optimizer state tensor and CPU generator state, are equal (torch.equal)."""
    data_dir = str(mnist_dir) if dataset == "stacked-mnist" else None
    eager = group_of(method, dataset, params, seeds, tmp_path, "eager", data_dir)
    staged = group_of(method, dataset, params, seeds, tmp_path, "staged", data_dir)
    eager_stepper, staged_stepper = Stepper(eager.method, staged=False), Stepper(staged.method, staged=True)
    assert not eager_stepper.staged and staged_stepper.staged
    for step in range(STEPS):
        a = eager_stepper.step(eager.batch, eager.noise())
        b = staged_stepper.step(staged.batch, staged.noise())
        assert a.keys() == b.keys()
        for k in a:
            assert torch.equal(a[k], b[k]), (step, k, a[k], b[k])
    assert staged_stepper.inputs is not None and len(staged_stepper.inputs.draws) >= 2  # data and noise both staged
    for x, y in zip(state_of(eager), state_of(staged), strict=True):
        assert torch.equal(x, y)


def test_a_method_whose_steps_differ_is_neither_staged_nor_captured(tmp_path, capsys):
    """WGAN's critic schedule (main.py: 100 critic steps on some iterations, 5 on others) changes what a step draws
    and runs, so staging (which repeats the first step's draws) and a CUDA graph are refused with a note."""
    run = Run(TrainConfig("wgan", "ring8", params={**VECTOR_TINY["wgan"]}), tmp_path / "run")
    assert not run.method.graph_safe
    stepper = Stepper(run.method, staged=True)
    assert not stepper.staged and not stepper.graph_wanted
    assert "training eagerly" in capsys.readouterr().err
    unscheduled = Run(TrainConfig("wgan", "ring8", params=TINY["wgan"]), tmp_path / "other")
    assert unscheduled.method.graph_safe and Stepper(unscheduled.method, staged=True).staged


def test_a_step_that_draws_differently_from_its_first_is_refused():
    """Staging repeats the first step's draws; a step asking for another one is an error, never a stale tensor."""
    inputs = StagedInputs(torch.device("cpu"))
    first = inputs.take(lambda: torch.ones(3))
    inputs.stage()
    assert inputs.take(lambda: torch.zeros(3)) is first and torch.equal(first, torch.ones(3))  # the staged draw repeats
    with pytest.raises(RuntimeError, match="more than the 1 random inputs"):
        inputs.take(lambda: torch.ones(3))
    inputs.stage()
    with pytest.raises(RuntimeError, match="drew 0 of the 1"):
        inputs.check_consumed()


def test_tf32_flags_are_set_inside_the_block_and_restored():
    before = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    with tf32_matmuls(True):
        assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
    with tf32_matmuls(False):
        assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
    assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == before


def test_tf32_on_cpu_is_refused_and_off_is_recorded(tmp_path):
    """--tf32 changes nothing on a CPU: refused in one line before training; a run records its step mode."""
    config = TrainConfig("gan", seed=0, steps=4, eval_every=2, eval_samples=50, params=TINY["gan"])
    with pytest.raises(GanEvalError, match="--tf32: TF32 is a CUDA matmul mode"):
        train(TrainConfig(**{**config.__dict__, "tf32": True}), tmp_path / "tf32")
    assert not (tmp_path / "tf32").exists()
    result = train(config, tmp_path / "run")
    env = json.loads((tmp_path / "run" / "environment.json").read_text())
    assert env["tf32"] is False and env["cuda_graph"] == "off" and env["staged_inputs"] is False
    assert "tf32" not in result["config"]  # off keeps the configurations (and reproduce's folder hashes) of before


def test_cuda_graph_asked_on_cpu_is_ignored_with_a_note(tmp_path, capfd):
    config = TrainConfig("gan", seed=0, steps=3, eval_every=3, eval_samples=50, params=TINY["gan"])
    plain = train(config, tmp_path / "plain")
    asked = train(config, tmp_path / "asked", cuda_graph=True)
    assert "cuda_graph: cpu has no CUDA graphs; training eagerly" in capfd.readouterr().err
    assert {k: v for k, v in asked["values"].items() if k != "elapsed_s"} == {k: v for k, v in plain["values"].items() if k != "elapsed_s"}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a CUDA device; benchmarks/gpu/issue13.py runs this on one")
def test_cuda_graph_replay_follows_the_eager_cuda_run(tmp_path):
    """On CUDA: 30 steps of two grouped seeds replayed as a graph end with the networks of 30 eager CUDA steps to
    float round-off (the same kernels); the unrolled GAN, whose step reads Adam's counter as a Python int, cannot
    be captured, trains eagerly and says so in environment.json."""
    for method in ("gan", "veegan", "pacgan"):
        configs = [TrainConfig(method, seed=s, steps=30, eval_every=30, eval_samples=100, device="cuda", params=TINY[method]) for s in (0, 1)]
        train_seeds(configs, [tmp_path / f"{method}-eager-{s}" for s in (0, 1)], cuda_graph=False)
        train_seeds(configs, [tmp_path / f"{method}-graph-{s}" for s in (0, 1)], cuda_graph=True)
        env = json.loads((tmp_path / f"{method}-graph-0" / "environment.json").read_text())
        assert env["cuda_graph"].startswith("captured") and env["staged_inputs"], env
        for s in (0, 1):
            eager = torch.load(tmp_path / f"{method}-eager-{s}" / "checkpoint.pt", weights_only=True)["nets"]
            graph = torch.load(tmp_path / f"{method}-graph-{s}" / "checkpoint.pt", weights_only=True)["nets"]
            for key in eager:
                torch.testing.assert_close(graph[key], eager[key], rtol=1e-4, atol=1e-5, msg=f"{method} seed {s} {key}")
    config = TrainConfig("unrolled", seed=0, steps=6, eval_every=6, eval_samples=100, device="cuda", params=TINY["unrolled"])
    train(config, tmp_path / "unrolled", cuda_graph=True)
    assert json.loads((tmp_path / "unrolled" / "environment.json").read_text())["cuda_graph"].startswith("eager: capture failed")


def test_gpu_script_runs_end_to_end_in_tiny_mode(tmp_path):
    """benchmarks/gpu/issue13.py --tiny: the throughput probe, VEEGAN Table 1 and PacGAN Table 1 on a few CPU
    steps, every file written under --out, the summary naming each part's outcome."""
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu" / "issue13.py"), "--tiny", "--out", str(out)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert [p["part"] for p in summary["parts"]] == ["throughput", "veegan-table1", "pacgan-table1"]
    assert all(p["status"] == "finished" for p in summary["parts"]), summary
    assert (out / "throughput.json").is_file() and (out / "veegan-table1.md").is_file() and (out / "pacgan-table1.md").is_file()


def test_issue17_gpu_script_dry_run_runs_its_plan_on_the_cpu(tmp_path, mnist_dir):
    """benchmarks/gpu/issue17.py --dry-run: the throughput probe times every planned row of VEEGAN Table 2 and PacGAN
    Table 2 (its dry rows), both tables train and render with tiny nets, and every file lands under --out."""
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu" / "issue17.py"), "--dry-run", "--probe-seconds", "0.1", "--out", str(out), "--data-dir", str(mnist_dir)],
        capture_output=True, text=True, timeout=600, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert [p["part"] for p in summary["parts"]] == ["throughput", "veegan-table2", "pacgan-table2"]
    assert all(p["status"] == "finished" for p in summary["parts"]), summary
    throughput = json.loads((out / "throughput.json").read_text())["tables"]
    assert set(throughput["veegan-table2"]["rows"]) == {"DCGAN", "VEEGAN"} and set(throughput["pacgan-table2"]["rows"]) == {"PacDCGAN2"}
    assert all(r["steps_per_s"] > 0 for t in throughput.values() for r in t["rows"].values())
    assert throughput["veegan-table2"]["paper_steps"] == 100_000
    for name in ("veegan-table2", "pacgan-table2"):
        md = (out / f"{name}.md").read_text()
        assert "2 iterations (paper: 100,000), BELOW the paper's" in md and "Samples scored per evaluation: 200" in md


def test_issue17_gpu_script_imports_on_cpu_and_refuses_a_missing_mnist_folder(tmp_path):
    """--help on a CPU machine; a --data-dir without the MNIST files: exit 2 and one line before anything runs."""
    command = [sys.executable, str(ROOT / "benchmarks" / "gpu" / "issue17.py")]
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    helped = subprocess.run([*command, "--help"], capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    assert helped.returncode == 0 and "--dry-run" in helped.stdout
    missing = subprocess.run([*command, "--out", str(tmp_path / "out"), "--data-dir", str(tmp_path / "none")], capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    lines = missing.stderr.strip().splitlines()
    assert missing.returncode == 2 and len(lines) == 1 and lines[0].startswith(f"error: {tmp_path / 'none'}: no such folder; pass --data-dir")
    assert not (tmp_path / "out" / "summary.json").exists()


def load_script(name: str):
    """A GPU session script of benchmarks/gpu as a module, registered in ``sys.modules`` as an import would: its
    dataclasses resolve their string annotations there (Python 3.11's ``dataclasses`` fails on an unregistered
    module, which made these tests pass only after another test had imported the script)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "gpu" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_issue15_16_gpu_script_dry_run_runs_its_plan_on_the_cpu(tmp_path):
    """benchmarks/gpu/issue15_16.py --dry-run: the probe times the planned rows of bms-table1 and the family (1 seed, on
    each table's first column), the family's budget is chosen from it, both tables train and render with 2 steps, and
    every file lands under --out (curves and figures in tables.tar.gz)."""
    import tarfile

    out = tmp_path / "out"
    command = [sys.executable, str(ROOT / "benchmarks" / "gpu" / "issue15_16.py"), "--dry-run", "--probe-seconds", "0.1", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert [p["part"] for p in summary["parts"]] == ["throughput", "bms-table1", "mode-collapse-mini-family"]
    assert all(p["status"] == "finished" for p in summary["parts"]), summary
    assert summary["budget"]["family_steps"] == 2 and summary["budget"]["reason"].startswith("the family's 2 iterations fit")
    throughput = json.loads((out / "throughput.json").read_text())["tables"]
    assert set(throughput["bms-table1"]["rows"]) == {"GDPP", "MD-GAN"} and throughput["bms-table1"]["timed_on"] == "grid25"
    assert set(throughput["mode-collapse-mini-family"]["rows"]) == {"GAN", "WGAN-GP"}
    assert all(t["complete"] and all(r["steps_per_s"] > 0 for r in t["rows"].values()) for t in throughput.values())
    assert throughput["bms-table1"]["paper_steps"] == 25_000 and len(throughput["bms-table1"]["cells_s"]) == 4
    assert "2 iterations (paper: 25,000), BELOW the paper's" in (out / "bms-table1.md").read_text()
    assert "ring8: 2 iterations" in (out / "mode-collapse-mini-family.md").read_text()
    with tarfile.open(out / "tables.tar.gz") as tar:
        names = set(tar.getnames())
    assert {f"{t}/{t}-curves.png" for t in ("bms-table1", "mode-collapse-mini-family")} <= names


def test_issue15_16_family_budget_is_the_longest_the_probe_says_fits():
    """plan_budgets: the family keeps its 10,000 iterations when its estimate fits in the time bms-table1's estimate
    leaves; else the largest multiple of 1,000 whose estimate fits (and 1,000 more would not); no complete probe:
    the default; a resumed call keeps the family's iterations its summary.json recorded."""
    script = load_script("issue15_16")
    rows = lambda rate: {"A": {"steps_per_s": rate}, "B": {"steps_per_s": rate / 2}}  # noqa: E731
    probe = lambda family_rate: {"tables": {  # noqa: E731
        "bms-table1": {"complete": True, "rows": rows(500.0), "timed_on": "grid25", "steps": {"grid25": 25_000, "ring8": 25_000}},
        "mode-collapse-mini-family": {"complete": True, "rows": rows(family_rate)}}}
    fast = script.plan_budgets(probe(1000.0), 400.0)
    assert fast["family_steps"] == 10_000 and fast["estimated_s"]["bms-table1"] == 100.0  # 25k / 250 per s, the longest cell
    slow = script.plan_budgets(probe(20.0), 400.0)
    family_rows, rest = rows(20.0), 400.0 - 100.0
    assert script.table_seconds(family_rows, slow["family_steps"]) <= rest < script.table_seconds(family_rows, slow["family_steps"] + 1000)
    assert slow["family_steps"] % 1000 == 0 and "the longest that fits" in slow["reason"] and slow["bms_limit_s"] == 150.0
    assert script.plan_budgets({"tables": {}}, 400.0)["family_steps"] == 10_000
    assert script.plan_budgets(None, 400.0, default_steps=2, granularity=1)["family_steps"] == 2


def test_issue15_16_resume_keeps_the_recorded_family_budget_and_refuses_a_missing_folder(tmp_path):
    """recorded_steps reads the family's iterations from the resumed summary.json; a --resume folder that does not exist
    is one line and exit 2 before anything is written."""
    script = load_script("issue15_16")
    (tmp_path / "summary.json").write_text(json.dumps({"budget": {"family_steps": 7000, "reason": "x"}}))
    assert script.recorded_steps(tmp_path) == 7000 and script.recorded_steps(tmp_path / "none") is None and script.recorded_steps(None) is None
    command = [sys.executable, str(ROOT / "benchmarks" / "gpu" / "issue15_16.py"), "--out", str(tmp_path / "out"), "--resume", str(tmp_path / "none")]
    missing = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    lines = missing.stderr.strip().splitlines()
    assert missing.returncode == 2 and len(lines) == 1 and lines[0].startswith(f"error: --resume {tmp_path / 'none'}: no such folder")
    assert not (tmp_path / "out").exists()


class EagerReplay:
    """A stand-in for a captured CUDA graph on the CPU: ``replay`` runs the method's step on the staged inputs and,
    as a graph runs kernels and no Python, puts the method's Python attributes back as they were (its tensors keep
    the step's in-place updates); optionally it moves one parameter by a bit more than the tolerance allows (a
    value a capture froze). :meth:`capture` stands in for ``torch.cuda.graph``: the step's Python runs once, and
    no tensor of the step changes (a capture records kernels without running them); with ``fail_capture`` it then
    raises, as a capture invalidated by an op torch reports only when the capture ends."""

    def __init__(self, stepper: Stepper, group: Group, corrupt: bool = False, fail_capture: bool = False) -> None:
        self.stepper, self.group, self.corrupt, self.fail_capture = stepper, group, corrupt, fail_capture

    @contextlib.contextmanager
    def capture(self, graph: "EagerReplay") -> Iterator[None]:
        assert graph is self
        named = self.stepper._state()
        before = [t.detach().clone() for _, t in named]
        yield
        with torch.no_grad():
            for (_, t), b in zip(named, before):
                t.copy_(b)
        if self.fail_capture:
            raise RuntimeError("stand-in: the capture was invalidated")

    def replay(self) -> None:
        method, inputs = self.stepper.method, self.stepper.inputs
        python = dict(vars(method))
        inputs.position, method.inputs = 0, inputs
        losses = method.train_step(lambda n: inputs.take(None), self.group.noise())
        vars(method).clear()
        vars(method).update(python)
        for key, out in self.stepper.static_losses.items():  # a replay writes the captured step's output tensors
            out.copy_(losses[key])
        if self.corrupt:
            with torch.no_grad():
                next(method.nets["G"].parameters()).mul_(1.0001)


@pytest.mark.parametrize("corrupt", [False, True], ids=["faithful", "frozen-value"])
def test_checked_replay_keeps_a_faithful_graph_and_drops_a_wrong_one(corrupt, tmp_path, capfd):
    """The second replay is compared with an eager step from the same state: a replay that repeats the step is
    kept; one that moves a tensor by 1e-4 relative (more than 1e-3 of its update) is dropped, with a note."""
    group = group_of("gan", "ring8", {}, (0,), tmp_path, "g", None)
    stepper = Stepper(group.method, staged=True)
    for _ in range(2):
        stepper.step(group.batch, group.noise())
    fake = EagerReplay(stepper, group, corrupt)
    stepper.graph, stepper.graph_wanted, stepper.replays = fake, True, 1
    stepper.step(group.batch, group.noise())
    if corrupt:
        assert stepper.graph is None and stepper.graph_state.startswith("eager: the replay at step 3 differs from an eager step in parameter G.0.weight")
        assert "cuda_graph: the replay at step 3 differs" in capfd.readouterr().err
    else:
        assert stepper.graph is fake


COUNTING = [name for name in METHODS.names() if issubclass(METHODS.get(name), CountingMethod) and METHODS.get(name).graph_safe is not False]


def stand_in_graph_stepper(group: Group, monkeypatch, fail_capture: bool = False) -> tuple[Stepper, EagerReplay]:
    """A stepper that wants a CUDA graph, on the CPU: ``torch.cuda``'s graph and capture are :class:`EagerReplay`."""
    stepper = Stepper(group.method, staged=True)
    graph = EagerReplay(stepper, group, fail_capture=fail_capture)
    monkeypatch.setattr(torch.cuda, "CUDAGraph", lambda: graph)
    monkeypatch.setattr(torch.cuda, "graph", graph.capture)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: None)
    monkeypatch.setattr(stepper, "_warmup_stream", contextlib.nullcontext)  # no side stream on the CPU
    stepper.graph_wanted, stepper.graph_state = True, "warming up"
    return stepper, graph


@pytest.mark.parametrize("method", COUNTING)
def test_a_counting_methods_iterations_are_the_steps_taken_when_steps_are_graph_replays(method, tmp_path, monkeypatch):
    """8 steps through the stepper's graph path on the CPU, with :class:`EagerReplay` standing in for the CUDA graph
    (a capture that runs the step's Python and changes no tensor, replays that run its tensor work and no Python):
    3 warm-up steps, the capture at step 4 (its Python counted once, then one replay), the checked replay at step 5
    (an eager step) and 3 plain replays, whose Python never runs. The count the checkpoint records must be 8, as an
    eager run's is; without :meth:`Method.after_replay` it is 5, counting the capture's replay too it is 9."""
    group = group_of(method, "ring8", {}, (0,), tmp_path, "g", None)
    stepper, graph = stand_in_graph_stepper(group, monkeypatch)
    steps = 8
    for _ in range(steps):
        stepper.step(group.batch, group.noise())
    assert stepper.graph is graph and stepper.graph_state == "captured at step 4" and stepper.replays == steps - 3
    assert group.method.iterations == steps and int(group.method.extra_state()["iterations"]) == steps


def test_a_capture_failing_after_the_steps_python_ran_does_not_count_that_step_twice(tmp_path, monkeypatch, capfd):
    """A capture that fails once the step's Python has run (counted its iteration) falls back to an eager step, which
    runs that Python again: the count must be put back first, so 6 steps count 6 (without it, 7)."""
    group = group_of("wgan-gp", "ring8", {}, (0,), tmp_path, "g", None)
    stepper, _ = stand_in_graph_stepper(group, monkeypatch, fail_capture=True)
    for _ in range(6):
        stepper.step(group.batch, group.noise())
    assert stepper.graph is None and stepper.graph_state.startswith("eager: capture failed at step 4 (RuntimeError")
    assert "cuda_graph: capture failed at step 4" in capfd.readouterr().err
    assert group.method.iterations == 6


def test_gpu_script_stops_a_part_at_its_time_limit(tmp_path):
    """The hard time guard: a part that outlives its share is killed with its process group, within seconds."""
    issue13 = load_script("issue13")
    record = issue13.run_part("sleeper", [sys.executable, "-c", "import time; time.sleep(120)"], 5.0, tmp_path / "log.txt")
    assert record["status"].startswith("stopped at its 5 s limit") and record["wall_s"] < 20
    assert issue13.run_part("late", [sys.executable, "-c", "pass"], 2.0, tmp_path / "log.txt")["status"].startswith("skipped")


def test_gpu_state_keeps_finished_runs_and_the_unfinished_cells_that_fit(tmp_path, monkeypatch):
    """issue13.pack under a 1 MiB limit: every finished run's small files, the unfinished cell whose checkpoints fit
    (all its seeds, checkpoint and metrics), and none of the cell that does not (named in left_out, so it restarts
    from step 0 rather than reading metrics without a checkpoint); the parts rebuild the same tree (unpack)."""
    issue13 = load_script("issue13")
    monkeypatch.setattr(issue13, "PART_BYTES", 2**19)
    work, out = tmp_path / "work", tmp_path / "out"
    def run(name: str, finished: bool, checkpoint_bytes: int) -> None:
        folder = work / "table" / "runs" / name
        folder.mkdir(parents=True)
        (folder / "config.json").write_text("{}")
        (folder / "metrics.jsonl").write_text('{"step": 10}\n')
        (folder / "checkpoint.pt").write_bytes(b"c" * checkpoint_bytes)
        if finished:
            (folder / "result.json").write_text("{}")
    run("gan-ring8-abc-s0", True, 2**20)
    for seed in (0, 1):
        run(f"small-ring8-abc-s{seed}", False, 2**18)
        run(f"large-ring8-abc-s{seed}", False, 2**19)
    out.mkdir()
    record = issue13.pack(work, out)
    assert record["state"] == ["state.tar.00", "state.tar.01"] and "table/large-ring8-abc" in record["left_out"]
    back = tmp_path / "back"
    back.mkdir()
    issue13.unpack(out, back)
    kept = {str(p.relative_to(back)) for p in back.rglob("*") if p.is_file()}
    assert kept == {"table/runs/gan-ring8-abc-s0/config.json", "table/runs/gan-ring8-abc-s0/metrics.jsonl", "table/runs/gan-ring8-abc-s0/result.json",
                    *(f"table/runs/small-ring8-abc-s{s}/{f}" for s in (0, 1) for f in ("config.json", "metrics.jsonl", "checkpoint.pt"))}
