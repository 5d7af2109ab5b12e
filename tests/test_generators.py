"""Generators as sample sources: seeded latents, on-the-fly scoring equal to scoring a sampled file, loaders, errors."""
from __future__ import annotations

import json
import re
import zipfile

import numpy as np
import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from gan_eval.cli import app
from gan_eval.errors import GanEvalError
from gan_eval.features import image_batches
from gan_eval.io.ranges import resolve_range
from gan_eval.io.generator_files import save_generator
from gan_eval.io.generators import LATENT_BLOCK, GeneratorSource, latent_batches, load_generator
from gan_eval.io.latent import LatentSpec, save_latent_spec

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


class GridGenerator(nn.Module):
    """Maps z (4-D) onto the 25 modes of grid25: a mode from z[:2], N(0, 0.05^2) noise from z[2:]."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor([1.2, 0.05]))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        centre = 2.0 * torch.round(torch.clamp(self.scale[0] * z[:, :2], -2.0, 2.0))
        return centre + self.scale[1] * z[:, 2:4]


class TanhImages(nn.Module):
    """DCGAN-style: takes N x d x 1 x 1 latents, returns tanh images N x 1 x 8 x 8."""

    def __init__(self, latent_dim: int = 3) -> None:
        super().__init__()
        self.net = nn.ConvTranspose2d(latent_dim, 1, 8)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.net(z))


class FirstRowOnly(nn.Module):
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z[:1]


class NaNAfter(nn.Module):
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.where(z[:, :1] > 3.0, torch.full_like(z, float("nan")), z)


def export(module: nn.Module, path, latent_dim: int, distribution: str = "normal", example=None, sidecar=True):
    """``path`` (.pt2) as our trainers write it, with the TorchScript .pt and (if ``sidecar``) the JSON beside it."""
    save_generator(module, LatentSpec(latent_dim, distribution), path, example)
    if not sidecar:
        path.with_suffix(".json").unlink()
    return path


@pytest.mark.parametrize("distribution", ["normal", "uniform"])
def test_latent_i_depends_only_on_seed_and_i(distribution):
    """The same latents for any batch size, and the first n of a longer run are the shorter run."""
    spec = LatentSpec(5, distribution)
    n = 2 * LATENT_BLOCK + 37
    whole = torch.cat(list(latent_batches(spec, 3, n, n)))
    for batch_size in (1, 7, LATENT_BLOCK, 3000):
        assert torch.equal(torch.cat(list(latent_batches(spec, 3, n, batch_size))), whole)
    assert torch.equal(next(latent_batches(spec, 3, 100, 100)), whole[:100])
    assert not torch.equal(next(latent_batches(spec, 4, 100, 100)), whole[:100])
    if distribution == "uniform":
        assert whole.min() >= -1 and whole.max() <= 1


@pytest.mark.parametrize("suffix", [".pt2", ".pt"])
def test_score_on_the_fly_equals_scoring_the_sampled_file(tmp_path, suffix):
    """`gan-eval score gen.pt2 -n 2500` = `gan-eval sample gen.pt2 -n 2500` then `gan-eval score fake.npz`, and a
    prefix of a longer file equals a shorter draw; the same for the TorchScript gen.pt."""
    gen = export(GridGenerator(), tmp_path / "gen.pt2", 4).with_suffix(suffix)
    fake = tmp_path / "fake.npz"
    sampled = invoke("sample", gen, "-n", 3000, "--seed", 5, "-o", fake, "--batch-size", 333, "--device", "cpu")
    assert sampled.exit_code == 0, sampled.output
    for n in (2500, 1000):
        common = ["--metric", "modes", "--reference", "grid25", "--seed", 5, "-n", n, "--json", "--device", "cpu"]
        live = json.loads(invoke("score", gen, *common).stdout)
        saved = json.loads(invoke("score", fake, *common).stdout)
        assert live["values"] == saved["values"] and live["details"] == saved["details"]
        assert live["values"]["n"] == n and live["protocol"]["generator"]["latent_dim"] == 4
    assert live["values"]["modes"] == 25 and live["values"]["hq_percent"] > 95  # 98.9 % expected within 3 std


def test_factory_with_weights_draws_what_the_exported_files_draw(tmp_path, monkeypatch):
    module_file = tmp_path / "ivom_test_factory.py"
    module_file.write_text(
        "import torch\nfrom torch import nn\n\n"
        "def build():\n    return nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2))
    weights = tmp_path / "g.pt"
    torch.save(net.state_dict(), weights)
    save_latent_spec(weights, LatentSpec(3, "uniform"))  # the sidecar beside the weights gives the latent spec
    export(net, tmp_path / "exported.pt2", 3, "uniform")
    a = tmp_path / "a.npy"
    assert invoke("sample", "ivom_test_factory:build", "--generator-weights", weights, "-n", 50, "-o", a).exit_code == 0
    for name in ("exported.pt2", "exported.pt"):
        b = tmp_path / f"{name}.npy"
        assert invoke("sample", tmp_path / name, "-n", 50, "-o", b).exit_code == 0
        np.testing.assert_array_equal(np.load(a), np.load(b))


def test_torch_without_dynamic_export_writes_torchscript_only(tmp_path, monkeypatch):
    """torch 2.1 has torch.export but no Dim (dynamic batch): save_generator warns, naming the torch version,
    and writes the TorchScript file and sidecar, which `sample` reads."""
    monkeypatch.delattr(torch.export, "Dim")
    with pytest.warns(UserWarning, match=f"torch {re.escape(torch.__version__)} cannot export a dynamic batch"):
        written = save_generator(GridGenerator(), LatentSpec(4), tmp_path / "g.pt2")
    assert [p.name for p in written] == ["g.pt", "g.json"] and not (tmp_path / "g.pt2").exists()
    assert invoke("sample", tmp_path / "g.pt", "-n", 5, "-o", tmp_path / "o.npy").exit_code == 0


class FixedBatch(nn.Module):
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z.new_zeros(len(z), 2) + z[:, :2]  # len(z) fixes the batch size in torch.export's trace


def test_generator_that_cannot_export_a_dynamic_batch_is_a_one_line_error(tmp_path):
    with pytest.raises(GanEvalError, match=r"FixedBatch: torch.export cannot export it for any batch size .*z.shape\[0\]") as info:
        save_generator(FixedBatch(), LatentSpec(3), tmp_path / "g.pt2")
    assert "\n" not in str(info.value) and not list(tmp_path.iterdir())


class BatchNormGenerator(nn.Sequential):
    """Linear, batch norm with non-trivial running statistics, ReLU, Linear: exported in eval mode, sample i
    must not depend on its batch-mates."""

    def __init__(self) -> None:
        torch.manual_seed(0)
        super().__init__(nn.Linear(3, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 2))
        with torch.no_grad():
            for _ in range(5):
                self(torch.randn(64, 3) * 2 + 1)  # train mode: moves the running statistics off (0, 1)


def test_exported_generators_match_the_live_network_for_any_batch_size(tmp_path):
    """torch.export (.pt2, dynamic batch) and TorchScript (.pt) files draw the live network's samples bit for bit
    at batch sizes 1, 7 and 1000 (n crosses a latent block), so eval mode holds in the files (batch norm's
    running statistics). Across batch sizes the live network itself differs by float32 rounding (the CPU BLAS
    picks kernels by row count), so those agree to 1e-6."""
    net = BatchNormGenerator()
    export(net, tmp_path / "g.pt2", 3)
    n = LATENT_BLOCK + 76
    live, files = load_generator(net.eval(), latent_dim=3), [load_generator(tmp_path / name) for name in ("g.pt2", "g.pt")]
    whole = GeneratorSource(live, n, seed=4).array(n)
    for batch_size in (1, 7, 1000):  # a fresh source each time: a source keeps the samples it drew
        expected = GeneratorSource(live, n, seed=4).array(batch_size)
        for loaded in files:
            np.testing.assert_array_equal(GeneratorSource(loaded, n, seed=4).array(batch_size), expected, err_msg=f"{loaded.name}, batch {batch_size}")
        np.testing.assert_allclose(expected, whole, rtol=1e-5, atol=1e-6)


def test_latent_layout_and_image_range_are_found_by_the_probe():
    """A DCGAN-style generator (N x d x 1 x 1 latents, tanh) streams through the image pipeline as [0, 1] images."""
    g = load_generator(TanhImages(3), latent_dim=3)
    source = GeneratorSource(g, 10, seed=0)
    assert g.latent_4d and g.sample_shape == (1, 8, 8) and resolve_range(source).range == "-1,1"
    raw = torch.cat(list(source.batches(4)))
    unit = torch.cat(list(image_batches(source, 4)))
    torch.testing.assert_close(unit, (raw + 1) / 2)
    assert np.array_equal(source.array(3), raw.numpy())


@pytest.mark.parametrize(
    "make, args, pattern",
    [
        (None, ["sample", "{d}/missing.pt2", "-n", 5, "-o", "{d}/o.npz"], "no such file"),
        ("tensor", ["sample", "{d}/t.pt", "-n", 5, "-o", "{d}/o.npz"], "not a generator file"),
        ("garbage", ["sample", "{d}/g.pt2", "-n", 5, "-o", "{d}/o.npz"], "not a torch.export program"),
        ("truncated", ["sample", "{d}/g.pt2", "-n", 5, "-o", "{d}/o.npz"], "not a torch.export program"),
        ("truncated", ["score", "{d}/g.pt2", "-r", "grid25", "-n", 5], "not a torch.export program"),
        ("no_program", ["sample", "{d}/g.pt2", "-n", 5, "-o", "{d}/o.npz"], f"torch {torch.__version__} cannot load this torch.export program"),
        ("first_row", ["sample", "{d}/g.pt2", "-n", 5, "-o", "{d}/o.npz"], "one sample per latent"),
        ("grid", ["sample", "{d}/g.pt", "-n", 5, "-o", "{d}/o.npz", "--latent-dim", 1], "output of shape (64, 0)"),
        ("grid", ["sample", "{d}/g.pt2", "-n", 5, "-o", "{d}/o.npz", "--latent-dim", 1], "check --latent-dim"),
        ("images", ["sample", "{d}/g.pt2", "-n", 5, "-o", "{d}/o.npz", "--latent-dim", 5], "check --latent-dim"),
        ("images", ["sample", "{d}/g.pt", "-n", 5, "-o", "{d}/o.npz", "--latent-dim", 5], "check --latent-dim"),
        ("grid_no_spec", ["sample", "{d}/g.pt2", "-n", 5, "-o", "{d}/o.npz"], "latent size is unknown"),
        ("nan", ["sample", "{d}/g.pt2", "-n", 5000, "-o", "{d}/o.npz"], "NaN/Inf"),
        (None, ["sample", "no_such_pkg.gen:build", "-n", 5, "-o", "{d}/o.npz"], "cannot import no_such_pkg.gen"),
        (None, ["sample", "json:no_such_factory", "-n", 5, "-o", "{d}/o.npz"], "no callable 'no_such_factory'"),
        (None, ["sample", "json:dumps", "-n", 5, "-o", "{d}/o.npz"], "calling dumps() failed"),
        ("grid", ["score", "{d}/g.pt2", "-r", "grid25"], "pass -n N"),
        ("grid", ["score", "{d}/g.pt2", "-r", "grid25", "-n", 10, "--latent-distribution", "cauchy"], "cauchy"),
        ("tensor", ["score", "{d}/t.pt", "-r", "grid25", "-n", 99], "holds 5 samples but -n asks for 99"),
        ("tensor", ["score", "{d}/t.pt", "-r", "grid25", "--latent-dim", 2], "generator flags"),
    ],
)
def test_bad_generator_specs_give_one_line_errors(tmp_path, make, args, pattern):
    def truncated():
        export(GridGenerator(), tmp_path / "g.pt2", 4)
        whole = (tmp_path / "g.pt2").read_bytes()
        (tmp_path / "g.pt2").write_bytes(whole[: len(whole) // 2])

    makers = {
        "tensor": lambda: torch.save(torch.zeros(5, 2), tmp_path / "t.pt"),
        "garbage": lambda: (tmp_path / "g.pt2").write_bytes(b"not a zip archive\n" * 10),
        "truncated": truncated,
        "no_program": lambda: zipfile.ZipFile(tmp_path / "g.pt2", "w").writestr("g/archive_format", "pt2"),
        "first_row": lambda: export(FirstRowOnly(), tmp_path / "g.pt2", 2),
        "grid": lambda: export(GridGenerator(), tmp_path / "g.pt2", 4),
        "images": lambda: export(TanhImages(3), tmp_path / "g.pt2", 3, example=torch.randn(2, 3, 1, 1)),
        "grid_no_spec": lambda: export(GridGenerator(), tmp_path / "g.pt2", 4, sidecar=False),
        "nan": lambda: export(NaNAfter(), tmp_path / "g.pt2", 2),
    }
    if make:
        makers[make]()
    result = invoke(*[str(a).format(d=tmp_path) for a in args], "--device", "cpu")
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("error: ") and pattern in lines[0], lines
    assert not (tmp_path / "o.npz").exists()


def test_python_api_scores_a_module_on_the_fly():
    """``gan_eval.score(module, ...)`` draws the same samples as the file route."""
    from gan_eval import score

    module = GridGenerator()
    live = score(module, "modes", "grid25", n=2500, seed=2, latent_dim=4)
    drawn = GeneratorSource(load_generator(module, latent_dim=4), 2500, seed=2).array()
    assert live.values == score(drawn, "modes", "grid25").values
    assert live.protocol["generator"]["latent_dim"] == 4 and module.scale.requires_grad


class CountingAffine(nn.Module):
    """Elementwise (so a sample does not depend on its batch's size, bit for bit), counting the rows it is run on."""

    def __init__(self) -> None:
        super().__init__()
        self.rows = 0

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        self.rows += len(z)
        return z * 3 - 1


@pytest.mark.parametrize("n", [LATENT_BLOCK * 2 + 37, 5])
def test_rank_shares_run_the_generator_on_their_latents_only(n):
    """Under torchrun rank r of 2 reads samples r, r + 2, ... (gan_eval.stats.dist.shard): its share of a
    generator runs the generator on those rows only (counted), and the two shares, interleaved by sample index,
    are the one-process draw exactly (the same seeded latents: a saved one-process result does not change)."""
    net = CountingAffine()
    loaded = load_generator(net, latent_dim=3)
    whole = GeneratorSource(loaded, n, seed=4).array(100)
    net.rows = 0
    shares = [GeneratorSource(loaded, n, seed=4).share(r, 2) for r in range(2)]
    parts = []
    for share in shares:
        before = net.rows
        parts.append(np.concatenate([b.numpy() for b in share.batches(100)]))
        assert net.rows - before == len(share) == len(range(share.rank, n, 2))
        assert share.array() is share.held  # a second read is served from the held share
    together = np.empty_like(whole)
    together[0::2], together[1::2] = parts
    np.testing.assert_array_equal(together, whole)
    assert GeneratorSource(loaded, n, seed=4).share(1, 2).describe() == GeneratorSource(loaded, n, seed=4).describe()


def test_shard_gives_a_generator_its_own_share(monkeypatch):
    """What a metric reads on rank 1 of 2 (``ScoreRequest.batches`` through ``shard``) is the generator's share,
    the same object on every read (so its held samples serve the next metric)."""
    from gan_eval.stats import dist

    source = GeneratorSource(load_generator(CountingAffine(), latent_dim=3), 9, seed=0)
    monkeypatch.setattr(dist, "world", lambda: (1, 2))
    assert dist.shard(source) is dist.shard(source) is source.share(1, 2) and len(dist.shard(source)) == 4


def test_a_share_names_the_sample_index_of_a_non_finite_sample():
    loaded = load_generator(NaNAfter(), latent_dim=2)
    with pytest.raises(GanEvalError) as whole:
        GeneratorSource(loaded, 5000, seed=0).array(64)
    first = int(re.search(r"first: sample (\d+)", str(whole.value)).group(1))
    with pytest.raises(GanEvalError, match=f"first: sample {first}\\)"):
        GeneratorSource(loaded, 5000, seed=0).share(first % 2, 2).array(64)
