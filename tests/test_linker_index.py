"""The dictionary index: exact search, per-code aggregation, metadata, save/load, model checks, the cached default."""

# ruff: noqa: F811  (pytest fixtures imported from tests.linker_support are parameters here)

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from corpora.errors import InputError
from corpora.table import read_concepts
from linker import Candidate, DictionaryIndex, Linker
from linker.index import IndexModelMismatch, load_encoder
from pretrain.encoder import EncoderSettings
from tests.linker_support import (  # noqa: F401  (pytest fixtures)
    TERMS,
    build_index,
    index_dir,
    linker_model,
    other_model,
    terminology,
)


def test_exact_names_retrieve_their_codes_best_first(index_dir: Path) -> None:
    index = DictionaryIndex.load(index_dir)
    names = [name for _, name, _, _ in TERMS]
    results = index.search(names, top_k=3)
    for (code, name, _, _), candidates in zip(TERMS, results, strict=True):
        assert candidates[0] == Candidate(code, name, pytest.approx(1.0, abs=1e-4))
        assert len(candidates) == 3
        assert len({c.code for c in candidates}) == 3
        scores = [c.score for c in candidates]
        assert scores == sorted(scores, reverse=True)


def test_codes_are_aggregated_to_their_best_name(index_dir: Path) -> None:
    index = DictionaryIndex.load(index_dir)
    codes = {code for code, *_ in TERMS}
    vector = index.encoder.encode(["간경화"])
    candidates = index.search_vectors(vector, top_k=len(codes) + 5)[0]
    assert sorted(c.code for c in candidates) == sorted(codes)  # every code once, even with 4 names for K74.6
    assert candidates[0].name == "간경화"


def test_metadata_records_model_terminology_and_command(index_dir: Path, linker_model: Path, terminology: Path) -> None:
    meta = json.loads((index_dir / "index.json").read_text(encoding="utf-8"))
    encoder = load_encoder(linker_model)
    assert meta["model"] == str(linker_model.resolve())
    assert meta["model_fingerprint"] == encoder.fingerprint()
    assert (meta["pooling"], meta["dim"], meta["kind"]) == ("mean", encoder.dim, "flat")
    assert meta["names"] == len(TERMS) and meta["codes"] == len({code for code, *_ in TERMS})
    assert meta["terminology"] == str(terminology)
    assert len(meta["terminology_hash"]) == 16 and meta["build_command"]


def test_terminology_hash_ignores_row_order(terminology: Path) -> None:
    from linker.index import terminology_hash

    concepts = read_concepts(terminology)
    assert terminology_hash(concepts) == terminology_hash(concepts.iloc[::-1])
    assert terminology_hash(concepts) != terminology_hash(concepts.iloc[1:])


def test_loading_with_another_model_is_refused(index_dir: Path, other_model: Path) -> None:
    with pytest.raises(IndexModelMismatch, match="built with model"):
        DictionaryIndex.load(index_dir, load_encoder(other_model))


def test_missing_index_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a dictionary index"):
        DictionaryIndex.load(tmp_path)


class HashEncoder:
    """A stand-in encoder with well-spread vectors (one random unit vector per distinct string).

    The random tiny models put all strings within a few degrees of each other, below what product quantisation
    resolves; approximate indexes are tested on spread vectors here and measured on real ones in benchmarks.
    """

    dim = 64
    settings = EncoderSettings(pooling="mean")

    def encode(self, texts, batch_size: int = 64, show_progress: bool | None = None) -> np.ndarray:
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            rows.append(np.random.default_rng(seed).standard_normal(self.dim))
        vectors = np.asarray(rows, dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def fingerprint(self) -> str:
        return "hash-encoder"


@pytest.mark.parametrize("kind", ["hnsw", "ivfpq"])
def test_approximate_kinds_find_exact_names(kind: str, tmp_path: Path) -> None:
    codes = [f"X{i:04d}" for i in range(2000)]
    names = [f"synthetic term {i}" for i in range(2000)]
    encoder = HashEncoder()
    index = DictionaryIndex.build(encoder, pd.DataFrame({"code": codes, "name": names}), kind=kind, model_name="hash")
    index = DictionaryIndex.load(index.save(tmp_path / kind), encoder)
    assert index.meta["kind"] == kind
    found = index.search(names[:100], top_k=5)
    hits = sum(candidates[0].code == code for candidates, code in zip(found, codes, strict=False))
    assert hits >= 90  # approximate search: nearly every exact name comes back first
    assert all(len(candidates) == 5 for candidates in found)


def test_ivfpq_refuses_too_small_dictionaries(index_dir: Path, linker_model: Path, terminology: Path) -> None:
    with pytest.raises(ValueError, match="ivfpq"):
        DictionaryIndex.build(load_encoder(linker_model), read_concepts(terminology), kind="ivfpq")


def test_linker_normalizes_in_input_order(index_dir: Path) -> None:
    linker = Linker(index_dir)
    results = linker.normalize(["HCC", "두통", "T2DM"], top_k=2)
    assert [candidates[0].code for candidates in results] == ["C22.0", "R51", "E11"]
    assert all(len(candidates) == 2 for candidates in results)
    assert linker.normalize([]) == []


def test_default_index_is_built_once_into_the_cache(
    linker_model: Path, terminology: Path, isolated_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import linker.default

    monkeypatch.setattr(linker.default, "default_sources", lambda: (str(linker_model), terminology))
    first = Linker.from_default()
    folders = list((isolated_cache / "indexes").iterdir())
    assert len(folders) == 1 and (folders[0] / "index.json").is_file()

    def no_rebuild(*args, **kwargs):
        raise AssertionError("the cached default index was rebuilt")

    monkeypatch.setattr(DictionaryIndex, "build", no_rebuild)
    second = Linker.from_default()
    assert second.normalize(["간경화"])[0][0].code == "K74.6"
    assert np.array_equal(first.index.names["code"], second.index.names["code"])
