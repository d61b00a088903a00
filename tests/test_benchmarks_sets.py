"""Test-set builders: perturbations deterministic and label-preserving, language and cross-language sets."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from benchmarks.perturb import (
    PERTURBATIONS,
    attach_particle,
    change_case,
    change_hyphenation,
    one_typo,
    perturb,
    remove_hanja,
    remove_spaces,
)
from benchmarks.testsets import build_suite, everyday_queries_path, load_suite, split_by_language
from corpora.queries import Query, read_queries
from corpora.table import concept_frame, read_concepts, write_concepts

QUERIES = [
    Query("급성 심근경색", ("I21.9",)),
    Query("간경변", ("K74.6", "K74.69")),
    Query("당뇨", ("E14.9",)),
    Query("누증(淚症)", ("H04.10",)),
    Query("non-Hodgkin lymphoma", ("C85.9",)),
    Query("Liver cirrhosis", ("K74.6",)),
    Query("HTN", ("I10",)),
]


def test_each_perturbation_by_example() -> None:
    rng = random.Random(0)
    assert remove_spaces("급성 심근경색", rng) == "급성심근경색"
    assert remove_spaces("간경변", rng) is None
    assert attach_particle("간경변", rng)[-1] in "이은을과의에도"  # ends in a final consonant
    assert attach_particle("당뇨", rng)[-1] in "가는를와의에도"
    assert attach_particle("HTN", rng) is None
    assert remove_hanja("누증(淚症)", rng) == "누증"
    assert change_case("Liver cirrhosis", rng) in {"LIVER CIRRHOSIS", "liver cirrhosis", "Liver Cirrhosis"}
    assert change_hyphenation("non-Hodgkin", rng) == "non Hodgkin"
    typo = one_typo("cirrhosis", rng)
    assert typo != "cirrhosis" and abs(len(typo) - len("cirrhosis")) <= 1


@pytest.mark.parametrize("kind", list(PERTURBATIONS))
def test_perturbations_are_deterministic_order_free_and_keep_gold_codes(kind: str) -> None:
    first = perturb(QUERIES, kind, seed=5)
    again = perturb(list(reversed(QUERIES)), kind, seed=5)
    assert sorted(first.queries, key=str) == sorted(again.queries, key=str)
    assert len(first.queries) + first.not_applicable == len(QUERIES)
    originals = {query.codes for query in QUERIES}
    for query in first.queries:
        assert query.codes in originals
        assert query.mention not in {original.mention for original in QUERIES}


def test_a_seed_changes_the_random_perturbations() -> None:
    many = [Query(f"hepatocellular carcinoma {i}", ("C22.0",)) for i in range(20)]
    assert perturb(many, "typo", seed=1).queries != perturb(many, "typo", seed=2).queries


def test_split_by_language() -> None:
    groups = split_by_language(QUERIES)
    assert [q.mention for q in groups["ko"]] == ["급성 심근경색", "간경변", "당뇨", "누증(淚症)"]
    assert [q.mention for q in groups["en"]] == ["non-Hodgkin lymphoma", "Liver cirrhosis", "HTN"]


def test_build_suite_writes_every_set(tmp_path: Path) -> None:
    concepts = concept_frame(
        [
            {"code": "K74.6", "name": "간의 경변증", "lang": "ko"},
            {"code": "K74.6", "name": "cirrhosis of liver", "lang": "en"},
            {"code": "I10", "name": "고혈압", "lang": "ko"},
            {"code": "I10", "name": "hypertension", "lang": "en"},
            {"code": "E14.9", "name": "당뇨병", "lang": "ko"},
        ]
    )
    terminology = write_concepts(concepts, tmp_path / "terms.tsv")
    test = [
        Query("간경변", ("K74.6",)),
        Query("당뇨", ("E14.9",)),
        Query("Liver cirrhosis", ("K74.6",)),
        Query("hypertension", ("I10",)),
    ]
    suite = build_suite(test, concepts, terminology, tmp_path / "suite", everyday=everyday_queries_path(), seed=3)
    loaded = load_suite(tmp_path / "suite")
    assert [s.name for s in loaded.sets] == [s.name for s in suite.sets]
    by_name = {s.name: s for s in loaded.sets}
    # "hypertension" is a dictionary name; both English queries' codes have an English name
    assert by_name["heldout-en"].counts == {"queries": 2, "leaked": 1, "gold_named_in_query_language": 2}
    assert by_name["heldout-ko"].counts["gold_named_in_query_language"] == 2
    cross = by_name["cross-ko2en"]
    assert cross.counts["dropped_no_name_in_dictionary_language"] == 1  # E14.9 has no English name
    assert [q.mention for q in read_queries(tmp_path / "suite" / cross.queries)] == ["간경변"]
    english_only = read_concepts(loaded.resolve(tmp_path / "suite", cross.terminology))
    assert set(english_only["lang"]) == {"en"}
    assert "robust-particle" in by_name and "robust-case" in by_name
    assert "robust-hanja-removed" not in by_name and "robust-hanja-removed" in loaded.empty
    everyday = by_name["everyday"]
    assert everyday.counts["queries"] >= 1 and everyday.counts["dropped_gold_not_in_dictionary"] > 100


def test_everyday_set_is_well_formed() -> None:
    queries = read_queries(everyday_queries_path())
    assert 100 <= len(queries) <= 250
    mentions = [query.mention for query in queries]
    assert len(set(mentions)) == len(mentions)
    assert {"간경화", "오십견", "HTN", "COPD"} <= set(mentions)
    assert dict((q.mention, q.codes[0]) for q in queries)["간경화"] == "K74.6"


def test_everyday_codes_exist_in_the_kcd_concept_table() -> None:
    """Every gold code of the everyday set is a code of the embedded KCD-9 concept table (masterfile-derived)."""
    from corpora.embedded import default_terminology_path

    if not default_terminology_path().is_file():
        pytest.skip("the embedded KCD concept table is not built in this checkout")
    known = set(read_concepts(default_terminology_path())["code"])
    missing = {code for query in read_queries(everyday_queries_path()) for code in query.codes} - known
    assert not missing


def test_sample_dictionary_keeps_every_gold_code_and_draws_distractors_by_seed() -> None:
    from benchmarks.testsets import sample_dictionary

    concepts = concept_frame({"code": f"X{i:02d}", "name": f"name {i}"} for i in range(30))
    sets = [[Query("a", ("X01",))], [Query("b", ("X02", "X03"))]]
    first = sample_dictionary(concepts, sets, 5, seed=1)
    assert {"X01", "X02", "X03"} <= set(first["code"])
    assert first["code"].nunique() == 8
    assert first.equals(sample_dictionary(concepts, sets, 5, seed=1))
    assert set(sample_dictionary(concepts, sets, 5, seed=2)["code"]) != set(first["code"])


def test_everyday_unseen_drops_queries_named_in_the_dictionary_or_training_terms(tmp_path: Path) -> None:
    concepts = concept_frame(
        [
            {"code": "K74.6", "name": "간경변증", "lang": "ko"},
            {"code": "I10", "name": "고혈압", "lang": "ko"},
        ]
    )
    training = concept_frame([{"code": "I10", "name": "high-blood pressure", "lang": "en"}])
    everyday = tmp_path / "everyday.tsv"
    everyday.write_text("mention\tcode\n간경화\tK74.6\n고 혈압\tI10\nHigh Blood Pressure\tI10\n", encoding="utf-8")
    terminology = write_concepts(concepts, tmp_path / "terms.tsv")
    test = [Query("간경변", ("K74.6",))]
    suite = build_suite(test, concepts, terminology, tmp_path / "suite", everyday=everyday, training_terms=training)
    unseen = next(s for s in suite.sets if s.name == "everyday-unseen")
    assert unseen.counts == {"queries": 1, "dropped_seen": 2}
    assert [q.mention for q in read_queries(tmp_path / "suite" / unseen.queries)] == ["간경화"]
    without = build_suite(test, concepts, terminology, tmp_path / "plain", everyday=everyday)
    assert "everyday-unseen" not in {s.name for s in without.sets}
