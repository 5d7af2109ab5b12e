"""``gan-eval stats`` and ``score --metric fid/kid`` from the command line, image folders, weights lookup."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import gan_eval
from gan_eval.cli import app
from gan_eval.errors import GanEvalError
from gan_eval.features import weights as weights_module
from gan_eval.io.folder import FolderSource
from gan_eval.io.samples import as_source

runner = CliRunner()


@pytest.fixture()
def folder(tmp_path):
    from PIL import Image

    rng = np.random.RandomState(0)
    images = rng.randint(0, 256, (30, 6, 6, 3)).astype(np.uint8)
    for i, image in enumerate(images):
        Image.fromarray(image).save(tmp_path / f"{i:03d}.png")
    return tmp_path, images


def test_folder_source_reads_images_in_order(folder):
    path, images = folder
    source = as_source(path)
    assert isinstance(source, FolderSource) and len(source) == 30
    np.testing.assert_array_equal(np.concatenate([b.numpy() for b in source.batches(7)]), images)


@pytest.mark.filterwarnings("ignore:.*singular covariance")
def test_stats_then_score_fid_and_kid_from_cli(folder, tmp_path):
    path, images = folder
    out = tmp_path / "real.npz"
    made = runner.invoke(app, ["stats", str(path), "-o", str(out), "--features", "pixels", "--keep-features", "--no-progress"])
    assert made.exit_code == 0, made.output
    fake = tmp_path / "fake.npz"
    np.savez(fake, x=(images.astype(np.float32) / 255.0) ** 2)
    scored = runner.invoke(app, ["score", str(fake), "--metric", "fid", "--reference", str(out), "--features", "pixels", "--json", "--range", "0,1"])
    assert scored.exit_code == 0, scored.output
    value = json.loads(scored.stdout)["values"]["fid"]
    direct = gan_eval.score(str(fake), "fid", reference=str(path), features="pixels")  # folder as reference
    assert value == pytest.approx(direct["fid"], rel=1e-9)
    kid = runner.invoke(app, ["score", str(fake), "-m", "kid", "-r", str(out), "--features", "pixels", "--set", "subset_size=20", "--set", "subsets=3", "--json"])
    assert kid.exit_code == 0, kid.output
    assert json.loads(kid.stdout)["values"]["kid"] > 0


def test_kid_refuses_stats_without_features(folder, tmp_path):
    path, images = folder
    out = tmp_path / "real.npz"
    runner.invoke(app, ["stats", str(path), "-o", str(out), "--features", "pixels", "--no-progress"])
    result = runner.invoke(app, ["score", str(path), "-m", "kid", "-r", str(out), "--features", "pixels"])
    assert result.exit_code == 2 and "--keep-features" in result.output


@pytest.mark.filterwarnings("ignore:.*singular covariance")
def test_user_module_as_features(folder):
    """Same images on both sides: FID 0 up to the round-off of a singular (n < dim) covariance."""
    path, _ = folder
    result = gan_eval.score(str(path), "fid", reference=str(path), features="torch.nn:Flatten")
    assert abs(result["fid"]) < 1e-5 and result.protocol["features"]["name"] == "torch.nn:Flatten"


def test_weights_resolution_order_and_offline_error(tmp_path, monkeypatch):
    monkeypatch.delenv(weights_module.ENV_VAR, raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setattr(weights_module, "_online", lambda *a, **k: False)
    with pytest.raises(GanEvalError, match="offline.*pt_inception-2015-12-05-6726825d.pth"):
        weights_module.resolve_inception_weights()
    cached = tmp_path / "hub" / "checkpoints" / weights_module.FILE_NAMES[1]
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"x")
    assert weights_module.resolve_inception_weights() == cached
    env = tmp_path / "env.pth"
    env.write_bytes(b"x")
    monkeypatch.setenv(weights_module.ENV_VAR, str(env))
    assert weights_module.resolve_inception_weights() == env
    assert weights_module.resolve_inception_weights(cached) == cached
    with pytest.raises(GanEvalError, match="not a file"):
        weights_module.resolve_inception_weights(tmp_path / "missing.pth")


def test_weight_hash_ignores_file_format(tmp_path):
    """pytorch-fid's file keeps num_batches_tracked, torch-fidelity's may not: same weights, same id."""
    state = {"a.weight": torch.arange(4.0), "bn.num_batches_tracked": torch.tensor(3)}
    torch.save(state, tmp_path / "one.pth")
    torch.save({"a.weight": torch.arange(4.0)}, tmp_path / "two.pth")
    assert weights_module.load_inception_state(tmp_path / "one.pth")[1] == weights_module.load_inception_state(tmp_path / "two.pth")[1]
    (tmp_path / "bad.pth").write_bytes(b"not a file")
    with pytest.raises(GanEvalError, match="bad.pth"):
        weights_module.load_inception_state(tmp_path / "bad.pth")


@pytest.mark.filterwarnings("ignore:.*singular covariance")
def test_mnist_classifier_plugs_in_as_features():
    """``--features mnist``: FID/KID on its penultimate layer, IS on its logits, with no metric change."""
    rng = np.random.RandomState(0)
    noise = rng.randint(0, 256, (120, 28, 28)).astype(np.uint8)
    dark = (rng.rand(120, 28, 28) ** 3 * 255).astype(np.uint8)
    fid = gan_eval.score(noise, "fid", reference=_saved_array(dark), features="mnist")
    assert fid["fid"] > 0 and fid.protocol["layer"] == "penultimate"
    assert gan_eval.score(noise, "is", features="mnist", splits=2).protocol["layer"] == "logits"


@pytest.mark.parametrize("command, flag", [
    (["stats", "{d}", "-o", "{d}/s.npz", "--features", "mnist", "--no-progress", "--resize", "clean"], "--resize crop or --resize resize"),
    (["score", "{d}", "-m", "fid", "-r", "{d}", "--features", "mnist", "--no-progress", "--set", "resize=clean"],
     "--set resize=crop or --set resize=resize"),
    (["stats", "{d}", "-o", "{d}/s.npz", "--features", "mnist", "--no-progress"], "pass --resize resize to resize them"),
    (["score", "{d}", "-m", "fid", "-r", "{d}", "--features", "mnist", "--no-progress"], "pass --set resize=resize to resize them"),
])
def test_a_size_policy_error_names_the_option_of_the_command_in_use(folder, command, flag):
    """stats takes the policy as --resize, score as --set resize=...: the fix a message gives is the one that
    command accepts (the 6 x 6 images are too far from 28 x 28 to crop)."""
    d, _ = folder
    result = runner.invoke(app, [a.format(d=d) for a in command])
    assert result.exit_code == 2 and flag in result.stderr, result.output
    assert not (d / "s.npz").exists()


def test_stats_help_lists_every_resize_it_accepts():
    import typer

    (option,) = [p for p in typer.main.get_command(app).commands["stats"].params if p.name == "resize"]
    assert "inception tf1 (default) or clean" in option.help and "mnist crop (default) or resize" in option.help


@pytest.mark.parametrize("metric", ["fid", "prdc"])
@pytest.mark.parametrize("mode, size, differ", [
    ("L", 6, "the images differ (1 vs 3 channels); convert one side to the other's channels"),
    ("RGB", 8, "the images differ (8 x 8 vs 6 x 6 pixels); convert one side to the other's size"),
    ("L", 8, "the images differ (1 vs 3 channels, 8 x 8 vs 6 x 6 pixels); convert one side to the other's channels and size"),
])
def test_pixel_features_of_differently_shaped_images_say_how_the_images_differ(folder, tmp_path_factory, metric, mode, size, differ):
    """Not "use the same --features" (both sides use pixels): the pixel features' size is the images' C x H x W."""
    from PIL import Image

    rgb, _ = folder  # 30 RGB 6 x 6 images
    other = tmp_path_factory.mktemp("other")
    for i in range(30):
        Image.new(mode, (size, size), color=i * 8 if mode == "L" else (i * 8, 0, 0)).save(other / f"{i:03d}.png")
    result = runner.invoke(app, ["score", str(other), "-m", metric, "-r", str(rgb), "--features", "pixels", "--no-progress"])
    assert result.exit_code == 2, result.output
    dim = (1 if mode == "L" else 3) * size * size
    assert result.stderr.strip() == f"error: {other} has {dim}-d features but {rgb} has 108-d: pixel features are the images' values, and {differ}"


def _saved_array(images: np.ndarray) -> str:
    import tempfile

    path = tempfile.mkdtemp() + "/real.npz"
    np.savez(path, x=images)
    return path


@pytest.mark.filterwarnings("ignore:.*singular covariance")
def test_image_reference_statistics_are_cached_until_the_reference_or_extractor_changes(tmp_path, private_cache):
    """The second FID against the same reference file reads the cached statistics and gives the identical value;
    ``cache=false``, a damaged entry or a changed file computes afresh (compared with the uncached value)."""
    rng = np.random.default_rng(0)
    real, fake = tmp_path / "real.npy", tmp_path / "fake.npy"
    np.save(real, rng.random((40, 3, 4, 4), dtype=np.float32))
    np.save(fake, rng.random((40, 3, 4, 4), dtype=np.float32) ** 2)
    before = set(private_cache.rglob("*.npz"))

    def fid(**options):
        result = gan_eval.score(str(fake), "fid", reference=str(real), features="pixels", **options)
        return result["fid"], result.protocol["reference_kind"]

    first, kind = fid()
    assert kind == "images" and len(set(private_cache.rglob("*.npz")) - before) == 1
    again, kind = fid()
    assert (again, kind) == (first, "images (cached statistics)")
    uncached, kind = fid(cache=False)
    assert kind == "images" and uncached == pytest.approx(first, rel=1e-12)
    (entry,) = set(private_cache.rglob("*.npz")) - before
    entry.write_bytes(b"damaged")
    repaired, kind = fid()
    assert kind == "images" and repaired == pytest.approx(first, rel=1e-12) and fid()[1] == "images (cached statistics)"
    np.save(real, rng.random((40, 3, 4, 4), dtype=np.float32))
    changed, kind = fid()
    assert kind == "images" and changed != first


def _truncate(path) -> None:
    """Cut a PNG in half: Pillow opens it (the header is intact) and fails only when decoding."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    "command",
    [
        ["stats", "{images}", "-o", "{written}/stats.npz", "--features", "pixels", "--no-progress"],
        ["score", "{images}", "-m", "birthday", "-o", "{written}/pairs.png", "--no-progress"],
        ["score", "{images}", "-m", "fid", "-r", "{images}", "--features", "pixels", "--no-progress"],
        ["score", "{samples}", "-m", "prdc", "-r", "{images}", "--features", "pixels", "--no-progress"],
    ],
)
def test_a_truncated_png_is_one_error_line_naming_it_and_can_be_skipped(folder, tmp_path, command):
    """Samples or reference folder with a truncated PNG: exit 2, exactly one stderr line naming the file, nothing
    written; with --skip-unreadable it is left out, a warning says so and the count is reported."""
    images, pixels = folder
    bad = images / "007.png"
    _truncate(bad)
    samples, written = tmp_path / "samples.npy", tmp_path / "written"
    written.mkdir()
    np.save(samples, pixels)
    args = [a.format(images=images, written=written, samples=samples) for a in command]
    failed = runner.invoke(app, args)
    assert failed.exit_code == 2 and failed.stdout == ""
    (line,) = failed.stderr.splitlines()
    assert line.startswith(f"error: {bad}: not a readable image") and "--skip-unreadable" in line
    assert not list(written.iterdir())
    skipped = runner.invoke(app, [*args, "--skip-unreadable"] + (["--json"] if args[0] == "score" else []))
    assert skipped.exit_code == 0, skipped.output
    roles = {"samples"} if args[1] == str(images) else set()
    roles |= {"reference"} if "-r" in args else set()
    warned = [line for line in skipped.stderr.splitlines() if "unreadable" in line]  # the same line is not repeated
    assert warned == [f"warning: {images}: skipped 1 unreadable image file(s) (first: {bad})"]
    if args[0] == "stats":
        assert "29 images" in skipped.stdout and "skipped 1 unreadable files" in skipped.stdout
        assert json.loads(str(np.load(written / "stats.npz")["meta"]))["skipped_unreadable"] == 1
    else:
        assert json.loads(skipped.stdout)["protocol"]["skipped_unreadable"] == {role: 1 for role in roles}


@pytest.mark.filterwarnings("ignore:.*unreadable")
def test_skipped_files_leave_the_rest_scored_as_a_folder_without_them(folder):
    """With --skip-unreadable, a folder with a truncated PNG gives exactly the statistics of the same folder with that
    file removed (not a guess at its content)."""
    images, _ = folder
    _truncate(images / "007.png")
    kept = as_source(images, skip_unreadable=True)
    assert len(kept) == 29 and kept.skipped == [images / "007.png"]
    (images / "007.png").unlink()
    np.testing.assert_array_equal(kept.array(), as_source(images).array())
