"""The proposal threshold: calibrated per index on phrases that name no concept, used when no threshold is set."""

# ruff: noqa: F811  (pytest fixtures imported from tests.linker_support are parameters here)

from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy

from linker.calibration import calibrate_threshold, non_mentions
from linker.component import resolve_overlaps
from linker.index import Candidate, DictionaryIndex
from linker.mentions import Mention
from tests.linker_support import index_dir, linker_model, terminology  # noqa: F401  (pytest fixtures)

PHRASES = ["환자", "병력", "입원", "admission", "history", "recently", "status", "plan"]


def test_shipped_calibration_phrases_are_plain_words() -> None:
    phrases = non_mentions()
    assert len(phrases) >= 100 and len(set(phrases)) == len(phrases)
    assert not any(phrase.startswith("#") for phrase in phrases)
    assert {"환자", "병력", "admission"} <= set(phrases)


def test_threshold_is_the_rounded_up_quantile_of_non_mention_scores(index_dir: Path) -> None:
    index = DictionaryIndex.load(index_dir)
    scores = sorted(found[0].score for found in index.search(PHRASES, 1))
    highest = calibrate_threshold(index, PHRASES, quantile=1.0)
    assert scores[-1] <= highest < scores[-1] + 0.01
    lowest = calibrate_threshold(index, PHRASES, quantile=0.0)
    assert scores[0] <= lowest < scores[0] + 0.01
    assert lowest <= calibrate_threshold(index, PHRASES) <= highest


def test_dictionary_names_are_left_out_of_calibration(index_dir: Path) -> None:
    index = DictionaryIndex.load(index_dir)
    assert calibrate_threshold(index, [*PHRASES, "고혈압", "HCC"], 1.0) == calibrate_threshold(index, PHRASES, 1.0)
    with pytest.raises(ValueError, match="no calibration phrase"):
        calibrate_threshold(index, ["고혈압", "Hypertension"])


def test_built_index_stores_its_threshold(index_dir: Path) -> None:
    meta = json.loads((index_dir / "index.json").read_text(encoding="utf-8"))
    assert meta["proposal_threshold"] == calibrate_threshold(DictionaryIndex.load(index_dir))


@pytest.mark.parametrize("stored, linked", [(0.0, True), (1.01, False)])
def test_component_without_threshold_uses_the_index_threshold(
    index_dir: Path, tmp_path: Path, stored: float, linked: bool
) -> None:
    index = DictionaryIndex.load(index_dir)
    index.meta["proposal_threshold"] = stored
    folder = index.save(tmp_path / "index")
    nlp = spacy.blank("xx")
    linker = nlp.add_pipe("sapbert_linker", config={"index": str(folder), "mentions": ["proposals"]})
    doc = nlp("환자 입원")
    assert linker.proposal_threshold == stored
    assert bool(doc.ents) is linked


def _candidates(code: str, name: str, score: float) -> list[Candidate]:
    return [Candidate(code, name, score)]


def test_a_longer_proposal_with_another_code_replaces_the_name_inside() -> None:
    text = "제2형 당뇨병 병력"
    name = Mention(4, 7, "당뇨병", "gazetteer")
    specific = Mention(0, 7, "제2형 당뇨병", "proposals")
    same_code = Mention(4, 10, "당뇨병 병력", "proposals")
    results = {
        "당뇨병": _candidates("E14", "당뇨병", 1.0),
        "제2형 당뇨병": _candidates("E11", "2형 당뇨병", 0.95),
        "당뇨병 병력": _candidates("E14", "당뇨병", 0.97),
    }
    assert resolve_overlaps([name, specific, same_code], results, text) == {specific}
    assert resolve_overlaps([name, same_code], results, text) == {name}


def test_particles_and_joined_names_never_replace_dictionary_names() -> None:
    text = "간경화가 두통 및 고혈압"
    cirrhosis = Mention(0, 3, "간경화", "gazetteer")
    glued = Mention(0, 4, "간경화가", "proposals")
    headache, hypertension = Mention(5, 7, "두통", "gazetteer"), Mention(10, 13, "고혈압", "gazetteer")
    joined = Mention(5, 13, "두통 및 고혈압", "proposals")
    results = {
        "간경화": _candidates("K74.6", "간경화", 1.0),
        "간경화가": _candidates("K74.1", "간경화증", 0.99),
        "두통": _candidates("R51", "두통", 1.0),
        "고혈압": _candidates("I10", "고혈압", 1.0),
        "두통 및 고혈압": _candidates("G44", "긴장성 두통", 0.99),
    }
    mentions = [cirrhosis, glued, headache, hypertension, joined]
    assert resolve_overlaps(mentions, results, text) == {cirrhosis, headache, hypertension}
