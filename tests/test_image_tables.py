"""The CIFAR-10 and CelebA tables end to end (``veegan-ivom``, ``bms-cifar10``, ``bms-celeba``) on small files in the
real formats written here: CIFAR-10 binary batches (1 label byte + 3072 pixel bytes per record), a CelebA-like folder
of 178 x 218 JPEG and PNG files, random FID-Inception weights in the published key format. The papers' numbers
beside ours are the papers' (VEEGAN's CIFAR IvOM; the BMS-VAE-GAN paper's FID tables and its appendix's IoVM, as
``PROTOCOLS.md`` transcribes them); the bad-input tests check one line and exit 2 before any run folder exists."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from gan_eval.cli import app
from gan_eval.features.weights import load_inception_state
from test_datasets import write_cifar
from trainers.tables import TABLES


#: the smallest runs that exercise every stage: 2 steps, one evaluation, tiny nets, a few images per metric
TINY = ["--steps", "2", "--seeds", "1", "--eval-every", "2", "--eval-samples", "4", "--set", "width=4", "--no-progress"]
TINY_IVOM = ["--set", "ivom:n=2", "--set", "ivom:steps=3"]


@pytest.fixture(scope="module")
def cifar(tmp_path_factory):
    """CIFAR-10's binary layout, six batches of 4 records each."""
    root = tmp_path_factory.mktemp("cifar")
    write_cifar(root, n=4, layouts=("bin",))
    return root


def write_celeba(folder, n: int = 20) -> None:
    """``n`` aligned-CelebA-sized (178 x 218) RGB images named as CelebA's, alternately JPEG and PNG."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        pixels = rng.integers(0, 256, (218, 178, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i + 1:06d}.{'jpg' if i % 2 else 'png'}")


@pytest.fixture(scope="module")
def celeba(tmp_path_factory):
    folder = tmp_path_factory.mktemp("celeba") / "img_align_celeba"
    write_celeba(folder)
    return folder


def reproduce(*args):
    result = CliRunner().invoke(app, ["reproduce", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result


def summary_of(out, name):
    return json.loads((out / f"{name}.json").read_text())


def test_veegan_ivom_tiny_writes_the_papers_ivom_beside_ours_the_nearest_image_grid_and_resumes(tmp_path, cifar):
    """veegan-ivom, DCGAN row, on binary CIFAR-10 batches: VEEGAN's .00844 ± .002 beside our IvOM of the 2 test
    images, the per-row nearest-image grid (test images above G(z*)), the IvOM protocol in the JSON; a second call
    trains nothing and gives the same cells."""
    out = tmp_path / "out"
    args = ["veegan-ivom", "--rows", "DCGAN", "--data-dir", cifar, "--out", out, *TINY, *TINY_IVOM]
    reproduce(*args)
    md = (out / "veegan-ivom.md").read_text()
    assert "| DCGAN | 0." in md and "| 0.00844 ± 0.00200 |" in md
    assert "Set by --steps 2, not the table's default (cifar10: 39,062 iterations)." in md
    assert "Settings of every run (not the paper's): width=4 (paper: 64), ivom:n=2, ivom:steps=3." in md
    data = summary_of(out, "veegan-ivom")
    (cell,) = data["cells"]
    assert cell["paper"] == {"mean": 0.00844, "spread": 0.002} and 0 < cell["ours"]["mean"] < 1
    (ivom,) = data["protocol"]["cifar10"]["evaluators"]
    assert ivom["name"] == "ivom" and (ivom["options"]["n"], ivom["options"]["steps"], ivom["options"]["restarts"]) == (2, 3, 3)
    assert data["protocol"]["cifar10"]["data"]["layout"] == "binary" and data["protocol"]["cifar10"]["steps"] == 2
    grid = out / "veegan-ivom-nearest-dcgan-cifar10.png"
    assert data["files"]["nearest-dcgan-cifar10"] == str(grid) and grid.stat().st_size > 5_000
    (run,) = (out / "runs").iterdir()
    with np.load(run / "ivom.npz") as pairs:  # the 2 test images twice (worst, best) above their nearest G(z*)
        assert pairs["first"].shape == pairs["second"].shape == (4, 3, 32, 32) and 0 <= pairs["second"].min() <= pairs["second"].max() <= 1
    reproduce(*args)
    again = summary_of(out, "veegan-ivom")
    assert again["trained"] == 0 and again["cells"] == data["cells"]


def test_bms_cifar10_tiny_scores_fid_with_the_given_weights_records_their_hash_and_resumes(tmp_path, cifar, inception_weights):
    """bms-cifar10, DCGAN row, ``--weights PATH``: the paper's 30.7 ± .2 beside our FID; the JSON's protocol holds the
    extractor, its weights' content hash (gan_eval's, of this file), the TF1 resize, the real and generated counts."""
    out = tmp_path / "out"
    args = ["bms-cifar10", "--rows", "DCGAN", "--data-dir", cifar, "--weights", inception_weights, "--out", out, *TINY,
            "--set", "fid:reference_n=3"]
    reproduce(*args)
    md = (out / "bms-cifar10.md").read_text()
    assert "| DCGAN | " in md and "| 30.7 ± 0.2 |" in md and "Samples scored per evaluation: 4, not the paper's 5,000." in md
    data = summary_of(out, "bms-cifar10")
    (cell,) = data["cells"]
    assert cell["ours"]["n"] == 1 and cell["ours"]["mean"] > 0
    (fid,) = data["protocol"]["cifar10"]["evaluators"]
    assert fid["features"]["weights"] == load_inception_state(inception_weights)[1]
    assert (fid["features"]["name"], fid["features"]["resize"], fid["layer"]) == ("inception", "tf1", "pool")
    assert fid["reference"]["images"] == "3 drawn with seed 0" and fid["reference"]["of"] == 4
    assert data["protocol"]["cifar10"]["eval_samples"] == 4 and data["paper_eval_samples"] == 5000
    assert str(inception_weights.parent) not in json.dumps(data["protocol"])  # the hash identifies them, not the path
    reproduce(*args)
    assert summary_of(out, "bms-cifar10")["trained"] == 0


def test_bms_celeba_tiny_scores_fid_and_iovm_with_weights_from_the_environment_and_resumes(tmp_path, celeba, inception_weights, monkeypatch):
    """bms-celeba, SN-GAN row, on a CelebA-like folder (178 x 218 JPEG/PNG, cropped 108 and resized to 64), the
    weights from $GAN_EVAL_INCEPTION_WEIGHTS: FID beside 21.9 ± .8 and IoVM beside the appendix's .0221 ± .0003."""
    monkeypatch.setenv("GAN_EVAL_INCEPTION_WEIGHTS", str(inception_weights))
    out = tmp_path / "out"
    args = ["bms-celeba", "--rows", "SN-GAN", "--data-dir", celeba, "--out", out, *TINY, *TINY_IVOM, "--set", "fid:reference_n=2"]
    reproduce(*args)
    md = (out / "bms-celeba.md").read_text()
    assert "| 21.9 ± 0.8 / 0.02210 ± 0.00030 |" in md and "(paper: 200,000), BELOW the paper's" in md
    data = summary_of(out, "bms-celeba")
    assert {c["metric"]: c["paper"]["mean"] for c in data["cells"]} == {"fid": 21.9, "ivom_mse": 0.0221}
    assert all(c["ours"]["mean"] is not None for c in data["cells"])
    protocol = data["protocol"]["celeba64"]
    assert protocol["data"]["shape"] == [3, 64, 64] and protocol["data"]["options"] == {"size": 64, "crop": 108, "held_out": 0.1}
    assert [e["name"] for e in protocol["evaluators"]] == ["fid", "ivom"]
    assert protocol["evaluators"][0]["features"]["weights"] == load_inception_state(inception_weights)[1]
    assert (out / "bms-celeba-nearest-sn-gan-celeba64.png").is_file()
    reproduce(*args)
    assert summary_of(out, "bms-celeba")["trained"] == 0


def test_image_tables_declare_the_papers_rows_protocols_and_budgets():
    """The rows and cells as PROTOCOLS.md transcribes them, the papers' sample counts as defaults, GPU-sized budgets."""
    ivom, cifar, celeba = (TABLES.get(n) for n in ("veegan-ivom", "bms-cifar10", "bms-celeba"))
    assert [r.method for r in ivom.rows] == ["dcgan", "ali-dcgan", "unrolled-dcgan", "veegan-dcgan"]
    assert [ivom.paper[(r.label, "cifar10")]["ivom_mse"][0] for r in ivom.rows] == [0.00844, 0.0067, 0.013, 0.0068]
    assert ivom.columns[0].evaluators == ("ivom",)
    assert cifar.eval_samples == 5000 and cifar.columns[0].evaluators == ("fid:reference_n=10000",)
    assert celeba.eval_samples == 10_000 and celeba.columns[0].evaluators == ("fid:reference_n=10000", "ivom")
    assert celeba.columns[0].paper_steps == 200_000 and celeba.columns[0].dataset == "folder:crop=108,size=64"
    assert {r.label: r.steps for r in cifar.rows if r.steps} == {"Dist-GAN (300k)": 300_000, "BMS-VAE-GAN (300k)": 300_000}
    assert cifar.paper[("BMS-VAE-GAN (300k)", "cifar10")]["fid"] == (21.8, 0.2)
    assert {r.method for r in celeba.rows} == {"wae", "bms-vae", "dcgan", "wgan-gp", "began", "distgan", "sngan", "alpha-gan", "alpha-gan-sn", "bms-vae-gan"}
    assert {label for (label, _), cells in celeba.paper.items() if "ivom_mse" in cells} == {"SN-GAN", "alpha-GAN + SN", "BMS-VAE-GAN"}


def test_bms_celeba_wae_row_trains_the_authors_celeba_config():
    """tolstikhin/wae configs.py ``config_celebA`` (6351565): zdim 64 (L47), lambda 100 (L53), cost l2sq (L49) weighted
    0.05 (wae.py L339-342), batch 100 (L23), an MMD-IMQ penalty (L51-52); the method's own defaults (MNIST's lambda 10
    and the family's 100-D image latent) stay its defaults elsewhere. BEGAN's row trains on its authors' nets."""
    from trainers.methods import METHODS
    from trainers.methods.base import DataShape, resolved_params

    celeba = TABLES.get("bms-celeba")
    shape = DataShape((3, 64, 64), "image", (-1.0, 1.0))
    rows = {r.label: r for r in celeba.rows}
    wae = METHODS.get("wae")(resolved_params("wae", rows["WAE"].params, "image"), shape, torch.device("cpu"))
    p = wae.params
    assert (wae.latent_dim, p.latent_weight, p.cost, p.reconstruction_weight, wae.batch_size, p.penalty) == (64, 100.0, "l2sq", 0.05, 100, "mmd")
    default = METHODS.get("wae")(resolved_params("wae", {}, "image"), shape, torch.device("cpu"))
    assert (default.latent_dim, default.params.latent_weight) == (100, 10.0)
    assert TABLES.get("bms-cifar10").rows[0].params == {}
    assert resolved_params("began", rows["BEGAN"].params, "image").net == "began"


# --- bad input: one line, exit 2, nothing written ---------------------------------------------------------------------


def refused(tmp_path, *args):
    """``reproduce ARGS``: exit 2 with one line, and no --out folder made."""
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["reproduce", *map(str, args), "--out", str(out), *TINY])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and result.output.startswith("error: "), result.output
    assert not out.exists()
    return result.output


def test_a_partial_or_missing_cifar10_folder_is_one_line_before_training(tmp_path):
    write_cifar(tmp_path / "partial", n=4, layouts=("bin",))
    (tmp_path / "partial" / "cifar-10-batches-bin" / "data_batch_3.bin").unlink()
    line = refused(tmp_path, "veegan-ivom", "--rows", "DCGAN", "--data-dir", tmp_path / "partial")
    assert "no data_batch_3.bin; expected cifar-10-batches-bin/" in line
    line = refused(tmp_path, "bms-cifar10", "--rows", "DCGAN", "--data-dir", tmp_path / "absent")
    assert line.startswith(f"error: {tmp_path / 'absent'}: no such folder; pass --data-dir DIR holding cifar-10-batches-bin/")
    assert "--data-dir DIR holding" in refused(tmp_path, "bms-cifar10", "--rows", "DCGAN")


def test_a_missing_empty_or_non_image_celeba_folder_is_one_line_before_training(tmp_path):
    rows = ["bms-celeba", "--rows", "DCGAN", "--data-dir"]
    assert f"{tmp_path / 'absent'}: no such folder" in refused(tmp_path, *rows, tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    assert f"{tmp_path / 'empty'}: no images (.png" in refused(tmp_path, *rows, tmp_path / "empty")
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "list_attr_celeba.txt").write_text("202599\n")
    assert f"{tmp_path / 'text'}: no images (.png" in refused(tmp_path, *rows, tmp_path / "text")
    write_celeba(tmp_path / "broken", n=4)
    (tmp_path / "broken" / "000003.png").write_bytes(b"not a png")
    line = refused(tmp_path, *rows, tmp_path / "broken")
    assert f"{tmp_path / 'broken' / '000003.png'}: not a readable image" in line and "remove or re-save it" in line
    assert "--skip-unreadable" not in line  # an option of `score`, not of the trainers' folder dataset


def test_weights_of_another_network_or_no_weights_file_are_one_line_before_training(tmp_path, cifar, inception_weights):
    """torchvision's ImageNet Inception (the FID keys, a 1000-class fc and an auxiliary head), a file that is no
    state dict, a --weights path that is not there: each one line naming the file, before any run folder."""
    state, _ = load_inception_state(inception_weights)
    state["fc.weight"], state["fc.bias"] = state["fc.weight"][:1000].clone(), state["fc.bias"][:1000].clone()
    state["AuxLogits.fc.weight"] = torch.zeros(1000, 768)
    torchvision_like = tmp_path / "inception_v3_google.pth"
    torch.save(state, torchvision_like)
    del state
    table = ["bms-cifar10", "--rows", "DCGAN", "--data-dir", cifar, "--set", "fid:reference_n=3", "--weights"]
    line = refused(tmp_path, *table, torchvision_like)
    assert line.startswith(f"error: evaluator fid: {torchvision_like}: not FID Inception weights (missing [], unexpected ['AuxLogits.fc.weight']")
    assert "fc.weight (1000, 2048)" in line and line.rstrip().endswith("use pt_inception-2015-12-05-6726825d.pth")
    text = tmp_path / "weights.pth"
    text.write_text("not weights")
    assert f"{text}: not a readable torch state dict" in refused(tmp_path, *table, text)
    assert refused(tmp_path, *table, tmp_path / "absent.pth").startswith(f"error: --weights: {tmp_path / 'absent.pth'} is not a file")


def test_evaluator_settings_and_weights_for_a_table_that_does_not_score_them_are_one_line(tmp_path, cifar, inception_weights):
    table = ["veegan-ivom", "--rows", "DCGAN", "--data-dir", cifar]
    line = refused(tmp_path, *table, "--set", "fid:reference_n=8")
    assert "--set fid:reference_n=8: column cifar10 has no evaluator 'fid'; its evaluators are ivom" in line
    assert "veegan-ivom scores no Inception features (ivom); drop --weights" in refused(tmp_path, *table, "--weights", inception_weights)


def test_decaying_rows_decay_their_rate_over_their_own_budget():
    """sngan_projection (train.py L120-123) and adler-j/bwgan (cifar10_sobolev.py L225-227) decay Adam's rate
    linearly to 0 over their run: every decaying row of the BMS image tables (SN-GAN twice, BW-GAN once) decays over
    exactly the budget its run is given (no ``lr_decay_steps`` of its own), the table's or a shorter ``--steps``."""
    from trainers.methods import METHODS
    from trainers.methods.base import resolved_params

    decaying = 0
    for name in ("bms-cifar10", "bms-celeba"):
        for row in TABLES.get(name).rows:
            if "lr_schedule" not in METHODS.get(row.method).Params.__dataclass_fields__:
                continue
            params = resolved_params(row.method, row.params, "image", (3, 32, 32) if name == "bms-cifar10" else (3, 64, 64))
            if params.lr_schedule == "linear":
                decaying += 1
                assert params.lr_decay_steps is None, (name, row.label)
    assert decaying == 3
