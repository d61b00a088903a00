"""Each ranking system on a tiny terminology, and the hybrid weight chosen on dev queries only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.accuracy import run_accuracy, single_suite
from benchmarks.baselines import ExactMatchSystem, TfidfSystem
from benchmarks.hybrid import choose_weight, combine
from benchmarks.ranking import CodeCollapser
from benchmarks.systems import SystemFactory
from corpora.queries import Query, write_queries
from corpora.table import concept_frame, write_concepts
from linker.index import Candidate

ROWS = [
    ("K74.6", "간경변증", "ko"),
    ("K74.6", "liver cirrhosis", "en"),
    ("C22.0", "간세포암", "ko"),
    ("C22.0", "hepatocellular carcinoma", "en"),
    ("I10", "본태성 고혈압", "ko"),
    ("I10", "essential hypertension", "en"),
    ("E11.9", "2형 당뇨병", "ko"),
    ("E11.9", "type 2 diabetes mellitus", "en"),
]


@pytest.fixture
def concepts():
    return concept_frame({"code": code, "name": name, "lang": lang} for code, name, lang in ROWS)


def codes(ranked: list[Candidate]) -> list[str]:
    return [candidate.code for candidate in ranked]


def test_exact_match_ignores_case_spaces_and_punctuation_only(concepts) -> None:
    system = ExactMatchSystem(concepts)
    found = system.rank(["Liver-Cirrhosis", "간 경변증", "cirrhosis", "2형 당뇨병"], 5)
    assert codes(found[0]) == ["K74.6"]
    assert codes(found[1]) == ["K74.6"]
    assert found[2] == []
    assert codes(found[3]) == ["E11.9"]


def test_tfidf_ranks_distinct_codes_by_their_best_name(concepts) -> None:
    system = TfidfSystem(concepts)
    found = system.rank(["liver cirrhosis disease", "간경변", "zzzz"], 3)
    assert codes(found[0])[0] == "K74.6"
    assert found[0][0].name == "liver cirrhosis"
    assert codes(found[1])[0] == "K74.6"
    for ranked in found[:2]:
        assert len(set(codes(ranked))) == len(ranked)
        assert [c.score for c in ranked] == sorted((c.score for c in ranked), reverse=True)
    assert found[2] == []  # no shared 3-gram: nothing is proposed


def test_code_collapser_takes_each_codes_best_name() -> None:
    collapser = CodeCollapser(["A", "B", "A"], ["a1", "b1", "a2"])
    ranked = collapser.top(np.array([[0.1, 0.5, 0.9], [0.7, 0.2, 0.3]]), 2)
    assert [(c.code, c.name) for c in ranked[0]] == [("A", "a2"), ("B", "b1")]
    assert ranked[0][0].score == pytest.approx(0.9)
    assert [(c.code, c.name) for c in ranked[1]] == [("A", "a1"), ("B", "b1")]


def test_dense_system_finds_a_dictionary_name_through_the_index(concepts, tiny_bert: Path) -> None:
    system = SystemFactory(concepts).get(str(tiny_bert))
    found = system.rank(["hepatocellular carcinoma", "본태성 고혈압"], 3)
    assert codes(found[0])[0] == "C22.0"
    assert found[0][0].score == pytest.approx(1.0, abs=1e-4)
    assert codes(found[1])[0] == "I10"


def test_combine_sums_weighted_scores_with_floors_by_hand() -> None:
    dense = [Candidate("A", "a", 0.9), Candidate("B", "b", 0.8)]
    sparse = [Candidate("B", "b", 0.9), Candidate("C", "c", 0.2)]
    ranked = combine(dense, sparse, 0.5, 3)
    # A: .5*.9 + .5*.2 (sparse floor) = .55; B: .5*.8 + .5*.9 = .85; C: .5*.8 (dense floor) + .5*.2 = .5
    assert codes(ranked) == ["B", "A", "C"]
    assert [c.score for c in ranked] == pytest.approx([0.85, 0.55, 0.5])


class FakeSystem:
    """Returns fixed candidates per mention."""

    def __init__(self, name: str, table: dict[str, list[Candidate]]) -> None:
        self.name = name
        self.table = table

    def rank(self, mentions, top_k):
        return [self.table.get(mention, [])[:top_k] for mention in mentions]


def test_choose_weight_picks_the_best_dev_weight() -> None:
    def pair(first: str, first_score: float, second: str, second_score: float) -> list[Candidate]:
        return [Candidate(first, "", first_score), Candidate(second, "", second_score)]

    dense = FakeSystem(
        "dense",
        {
            "d1": pair("G1", 0.9, "X", 0.8),
            "d2": pair("X", 0.9, "G2", 0.8),
            "d3": pair("X", 0.9, "G3", 0.85),
            "d4": pair("G4", 0.9, "X", 0.8),
        },
    )
    sparse = FakeSystem(
        "sparse",
        {
            "d1": pair("X", 0.9, "G1", 0.1),
            "d2": pair("G2", 0.9, "X", 0.7),
            "d3": pair("G3", 0.9, "X", 0.2),
            "d4": pair("X", 0.9, "G4", 0.1),
        },
    )
    dev = [Query(f"d{i}", (f"G{i}",)) for i in range(1, 5)]
    choice = choose_weight(dense, sparse, dev)
    # by hand: d1 and d4 hit for w > 0.889, d2 for w < 0.667, d3 for w < 0.933
    assert choice.dev_acc1[0.6] == pytest.approx(2 / 4)
    assert choice.dev_acc1[0.8] == pytest.approx(1 / 4)
    assert choice.dev_acc1[0.9] == pytest.approx(3 / 4)
    assert choice.dev_acc1[1.0] == pytest.approx(2 / 4)
    assert choice.weight == 0.9
    assert choice.dev_queries == 4


def test_hybrid_weight_depends_on_dev_queries_only(concepts, tiny_bert: Path, tmp_path: Path) -> None:
    terminology = write_concepts(concepts, tmp_path / "terms.tsv")
    dev = write_queries([Query("간경변", ("K74.6",)), Query("hypertension", ("I10",))], tmp_path / "dev.tsv")
    test_a = write_queries([Query("간세포 암", ("C22.0",))], tmp_path / "a.tsv")
    test_b = write_queries([Query("diabetes type 2", ("E11.9",)), Query("cirrhosis", ("K74.6",))], tmp_path / "b.tsv")
    system = f"hybrid:{tiny_bert}"
    run_a = run_accuracy(single_suite([test_a], terminology, dev), tmp_path, [system])
    run_b = run_accuracy(single_suite([test_b], terminology, dev), tmp_path, [system])
    run_none = run_accuracy(single_suite([test_a, test_b], terminology, dev), tmp_path, [system])
    weights = {run.weights[str(tiny_bert)].weight for run in (run_a, run_b, run_none)}
    tables = {tuple(run.weights[str(tiny_bert)].dev_acc1.items()) for run in (run_a, run_b, run_none)}
    assert len(weights) == 1 and len(tables) == 1
    assert run_a.weights[str(tiny_bert)].dev_queries == 2


def test_hybrid_without_dev_queries_is_refused(concepts, tiny_bert: Path) -> None:
    with pytest.raises(ValueError, match="dev"):
        SystemFactory(concepts).get(f"hybrid:{tiny_bert}")


class CountingEncoder:
    """Encodes each text to a fixed pseudo-vector and counts the texts it was asked for."""

    dim = 4

    def __init__(self) -> None:
        self.calls: list[str] = []

    def encode(self, texts, batch_size=64, show_progress=None):
        self.calls += list(texts)
        return np.array([[len(text), ord(text[0]), 1.0, 0.0] for text in texts], dtype=np.float32)


def test_cached_encoder_encodes_each_string_once_and_resumes_from_its_store(tmp_path: Path) -> None:
    from benchmarks.dense import CachedEncoder

    inner = CountingEncoder()
    cached = CachedEncoder(inner, tmp_path / "store", chunk=2)
    first = cached.encode(["간경화", "HTN", "간경화", "COPD", "DM"])
    assert inner.calls == ["간경화", "HTN", "COPD", "DM"]
    again = CachedEncoder(CountingEncoder(), tmp_path / "store")
    assert np.array_equal(again.encode(["간경화", "HTN", "COPD", "DM"]), first[[0, 1, 3, 4]])
    assert again.encoder.calls == []
    assert again.dim == 4  # everything else is the wrapped encoder's
