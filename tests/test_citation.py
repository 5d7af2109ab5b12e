"""CITATION.cff: valid Citation File Format 1.2.0 (its required keys, each reference's), and every training method
``gan-eval train`` ships cited by its paper.

The method table below names, for each registered method, a phrase of its paper's title; a method registered without
an entry fails here until its paper is added to CITATION.cff and to the table. Each entry is cross-checked against the
code: the paper's first author must appear in the docstrings of the method's class or of the classes
it builds on, where :mod:`trainers.methods` names each method's source."""
from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from trainers.methods import METHODS

yaml = pytest.importorskip("yaml", reason="PyYAML (the dev extra) parses CITATION.cff")

CITATION = Path(__file__).resolve().parents[1] / "CITATION.cff"
GAN = "Generative Adversarial Nets"
ALI = ("Adversarially Learned Inference", "Adversarial Feature Learning")  # ALI and BiGAN, the same model
BMS = "Best-of-Many-Samples"
#: registered method -> phrases of the titles of the papers it implements
METHOD_PAPERS: dict[str, tuple[str, ...]] = {
    "gan": (GAN,),
    "mini-gan": (GAN,),  # the mini-project's GAN: its text is a course notebook, not a paper
    "dcgan": ("Deep Convolutional Generative Adversarial Networks",),
    "pacgan": ("PacGAN",),
    "pacdcgan": ("PacGAN",),
    "wgan": ("Wasserstein Generative Adversarial Networks",),
    "wgan-gp": ("Improved Training of Wasserstein GANs",),
    "bwgan": ("Banach Wasserstein GAN",),
    "lsgan": ("Least Squares Generative Adversarial Networks",),
    "hinge": ("Geometric GAN", "Spectral Normalization"),
    "sngan": ("Spectral Normalization",),
    "fgan": ("f-GAN",),
    "ebgan": ("Energy-based Generative Adversarial Network",),
    "began": ("BEGAN",),
    "mmdgan": ("MMD GAN: Towards Deeper Understanding",),
    "ali": ALI,
    "ali-dcgan": ALI,
    "unrolled": ("Unrolled Generative Adversarial Networks",),
    "unrolled-dcgan": ("Unrolled Generative Adversarial Networks",),
    "veegan": ("VEEGAN",),
    "veegan-dcgan": ("VEEGAN",),
    "wae": ("Wasserstein Auto-Encoders",),
    "alpha-gan": ("Variational Approaches for Auto-Encoding",),
    "alpha-gan-sn": ("Variational Approaches for Auto-Encoding", BMS),  # the BMS paper's ablation of alpha-GAN
    "bms-vae": (BMS,),
    "bms-vae-gan": (BMS,),
    "mdgan": ("Mixture Density Generative Adversarial Networks",),
    "gdpp": ("GDPP",),
    "distgan": ("Dist-GAN",),
}


@pytest.fixture(scope="module")
def citation() -> dict:
    return yaml.safe_load(CITATION.read_text(encoding="utf-8"))


def test_citation_has_the_cff_1_2_required_keys(citation):
    """CFF 1.2.0's schema requires cff-version, message, title and authors at the top, and type, title and authors in
    each reference (every author a person with family-names, or an entity with a name); years here are integers."""
    assert citation["cff-version"] == "1.2.0"
    assert citation["message"] and citation["title"] and citation["authors"]
    for ref in citation["references"]:
        assert ref["type"] and ref["title"] and ref["authors"], ref
        assert all(author.get("family-names") or author.get("name") for author in ref["authors"]), ref["title"]
        assert isinstance(ref["year"], int) and 1990 < ref["year"] < 2100, ref["title"]
    titles = [ref["title"] for ref in citation["references"]]
    assert len(titles) == len(set(titles)), "a paper is cited twice"


def test_every_registered_method_cites_its_paper(citation):
    """Each registered method has an entry in the table, each phrase matches the title of exactly one reference, and
    that paper's first author is named in the docstrings of the method's classes."""
    assert set(METHODS.names()) == set(METHOD_PAPERS), "a method without a paper here, or an entry for none"
    references = citation["references"]
    for method, phrases in METHOD_PAPERS.items():
        cls = METHODS.get(method)
        docs = " ".join(inspect.getdoc(obj) or "" for c in cls.__mro__ for obj in (c, inspect.getmodule(c)))
        for phrase in phrases:
            matches = [ref for ref in references if phrase in ref["title"]]
            assert len(matches) == 1, (method, phrase, [ref["title"] for ref in matches])
            first_author = matches[0]["authors"][0]["family-names"]
            assert first_author in docs, (method, phrase, first_author)
