"""Shared builders for the linker tests: a tiny terminology, tiny models, an index.

The tiny model has random weights, so it cannot link paraphrases: every mention a test expects to link is in the
terminology verbatim (the gazetteer finds it) or is searched as an exact string (identical strings -> cosine 1;
the mean-pooled tiny model keeps different strings below ~0.97, hence the tests' threshold of 0.99).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from corpora.table import concept_frame, write_concepts
from tests.tiny_models import build_tiny_xlmr

NOTE = (
    "환자는 liver cirrhosis 및 제2형 당뇨병(T2DM) 병력이 있으며, "
    "최근 간경화가 악화되어 입원함. r/o HCC. 두통 호소 없음."
)
# (mention as written in NOTE, code) in text order: what the example note must link to.
NOTE_LINKS = [
    ("liver cirrhosis", "K74.6"),
    ("제2형 당뇨병", "E11"),
    ("T2DM", "E11"),
    ("간경화", "K74.6"),
    ("HCC", "C22.0"),
    ("두통", "R51"),
]
THRESHOLD = 0.99
TERMS = [
    ("K74.6", "간경변증", "ko", "disease"),
    ("K74.6", "간경화", "ko", "disease"),
    ("K74.6", "liver cirrhosis", "en", "disease"),
    ("K74.6", "cirrhosis of liver", "en", "disease"),
    ("K74.1", "간경화증", "ko", "disease"),
    ("E11", "제2형 당뇨병", "ko", "disease"),
    ("E11", "type 2 diabetes mellitus", "en", "disease"),
    ("E11", "T2DM", "en", "disease"),
    ("C22.0", "간세포암", "ko", "disease"),
    ("C22.0", "hepatocellular carcinoma", "en", "disease"),
    ("C22.0", "HCC", "en", "disease"),
    ("R51", "두통", "ko", "symptom"),
    ("R51", "headache", "en", "symptom"),
    ("I10", "고혈압", "ko", "disease"),
    ("I10", "hypertension", "en", "disease"),
]


def write_terminology(folder: Path) -> Path:
    """Write the tiny KCD-like concept table as a .tsv and return its path."""
    rows = [
        {"code": code, "name": name, "lang": lang, "concept_type": kind, "source": "kcd-test"}
        for code, name, lang, kind in TERMS
    ]
    return write_concepts(concept_frame(rows), folder / "tiny_kcd.tsv")


def build_index(model: Path, terminology: Path, out: Path, kind: str = "flat") -> Path:
    """Build and save the index of ``model`` over ``terminology``; return its folder."""
    from corpora.table import read_concepts
    from linker.index import DictionaryIndex, load_encoder

    index = DictionaryIndex.build(
        load_encoder(model), read_concepts(terminology), kind=kind, model_name=str(model), terminology=str(terminology)
    )
    return index.save(out)


@pytest.fixture(scope="session")
def linker_model(tiny_xlmr: Path) -> Path:
    """The tiny mean-pooled model the linker tests index with."""
    return tiny_xlmr


@pytest.fixture(scope="session")
def other_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second tiny model (other random weights): an index built with ``linker_model`` must refuse it."""
    return build_tiny_xlmr(tmp_path_factory.mktemp("other-model") / "model", seed=1)


@pytest.fixture(scope="session")
def terminology(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny terminology as a .tsv concept table."""
    return write_terminology(tmp_path_factory.mktemp("terminology"))


@pytest.fixture(scope="session")
def index_dir(linker_model: Path, terminology: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A flat index of the tiny model over the tiny terminology."""
    return build_index(linker_model, terminology, tmp_path_factory.mktemp("index") / "tiny")
