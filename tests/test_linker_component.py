"""The spaCy component `sapbert_linker`: spans exact to the character, every tokenizer, batching, saving, defaults."""

# ruff: noqa: F811  (pytest fixtures imported from tests.linker_support are parameters here)

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import spacy

from linker.index import IndexModelMismatch
from tests.linker_support import (  # noqa: F401  (pytest fixtures)
    NOTE,
    NOTE_LINKS,
    THRESHOLD,
    index_dir,
    linker_model,
    other_model,
    terminology,
)

KIWI = {"nlp": {"tokenizer": {"@tokenizers": "sapbert.KiwiTokenizer.v1"}}}
REPO = Path(__file__).resolve().parents[1]


def expected_spans(text: str, links=NOTE_LINKS) -> list[tuple[int, int, str, str]]:
    """Return (start, end, text, code) of each expected mention, located in ``text`` in order."""
    spans, position = [], 0
    for mention, code in links:
        start = text.index(mention, position)
        spans.append((start, start + len(mention), mention, code))
        position = start + len(mention)
    return spans


def linked(doc) -> list[tuple[int, int, str, str]]:
    return [(ent.start_char, ent.end_char, ent.text, ent.kb_id_) for ent in doc.ents]


def make_nlp(index: Path, lang: str = "ko", **config):
    nlp = spacy.blank(lang, config=KIWI) if lang == "ko" else spacy.blank(lang)
    nlp.add_pipe("sapbert_linker", config={"index": str(index), "threshold": THRESHOLD, **config})
    return nlp


@pytest.mark.parametrize("lang", ["ko", "xx"])
def test_example_note_is_linked_exactly(lang: str, index_dir: Path) -> None:
    doc = make_nlp(index_dir, lang)(NOTE)
    assert linked(doc) == expected_spans(NOTE)
    assert doc.text == NOTE
    cirrhosis = next(ent for ent in doc.ents if ent.text == "간경화")
    assert NOTE[cirrhosis.end_char] == "가"  # the particle stays outside the span
    assert cirrhosis.label_ == "disease"
    assert cirrhosis._.concept_name == "간경화"
    codes = [code for code, _ in cirrhosis._.kb_ents]
    assert codes[0] == "K74.6" and len(codes) == len(set(codes)) == 5
    scores = [score for _, score in cirrhosis._.kb_ents]
    assert scores == sorted(scores, reverse=True)
    assert next(ent for ent in doc.ents if ent.text == "두통").label_ == "symptom"
    assert {span.text for span in doc.spans["sapbert"]} >= {mention for mention, _ in NOTE_LINKS}


def test_dense_proposals_link_abbreviations_not_in_the_gazetteer_pass(index_dir: Path) -> None:
    doc = make_nlp(index_dir, mentions=["proposals"])(NOTE)
    found = {(ent.text, ent.kb_id_) for ent in doc.ents}
    assert {("T2DM", "E11"), ("HCC", "C22.0"), ("liver cirrhosis", "K74.6"), ("두통", "R51")} <= found
    assert all(ent._.kb_ents[0][1] >= THRESHOLD for ent in doc.ents)
    assert "환자" not in {ent.text for ent in doc.ents}  # a noun not in the dictionary stays below threshold


def test_english_only_empty_and_whitespace_documents(index_dir: Path) -> None:
    nlp = make_nlp(index_dir, "en")
    doc = nlp("History of hypertension and headache; r/o HCC.")
    assert [(ent.text, ent.kb_id_) for ent in doc.ents] == [
        ("hypertension", "I10"),
        ("headache", "R51"),
        ("HCC", "C22.0"),
    ]
    for text in ("", "   \n "):
        doc = nlp(text)
        assert doc.text == text and list(doc.ents) == [] and list(doc.spans["sapbert"]) == []


def test_very_long_note_keeps_every_offset(index_dir: Path) -> None:
    text = "\n".join([NOTE] * 200)  # ~17,000 characters: tokenized in chunks
    doc = make_nlp(index_dir)(text)
    assert doc.text == text
    assert linked(doc) == expected_spans(text, NOTE_LINKS * 200)


def test_pipe_encodes_a_batch_of_documents_at_once(index_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nlp = make_nlp(index_dir)
    nlp.initialize()
    linker = nlp.get_pipe("sapbert_linker")
    calls = []
    search = linker.index.search
    monkeypatch.setattr(
        linker.index, "search", lambda queries, *a, **k: calls.append(len(queries)) or search(queries, *a, **k)
    )
    texts = [NOTE, "두통 호소", "", "r/o HCC"]
    docs = list(nlp.pipe(texts, batch_size=10))
    assert len(calls) == 1
    assert [linked(doc) for doc in docs] == [linked(nlp(text)) for text in texts]
    assert sum(calls[1:]) == 0  # phrases seen before are not encoded again


def test_upstream_entities_are_linked(index_dir: Path) -> None:
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "PROBLEM", "pattern": "headache"}, {"label": "PROBLEM", "pattern": "gout"}])
    nlp.add_pipe("sapbert_linker", config={"index": str(index_dir), "threshold": THRESHOLD, "mentions": ["ents"]})
    doc = nlp("headache and gout")
    assert [(ent.text, ent.label_, ent.kb_id_) for ent in doc.ents] == [
        ("headache", "PROBLEM", "R51"),
        ("gout", "PROBLEM", ""),
    ]


def test_saved_pipeline_carries_its_index_and_model(index_dir: Path, tmp_path: Path) -> None:
    own_index = shutil.copytree(index_dir, tmp_path / "index")
    nlp = make_nlp(own_index, top_k=3)
    expected = linked(nlp(NOTE))
    nlp.to_disk(tmp_path / "pipeline")
    shutil.rmtree(own_index)  # the saved pipeline must not need the original index folder
    loaded = spacy.load(tmp_path / "pipeline")
    doc = loaded(NOTE)
    assert linked(doc) == expected
    assert len(doc.ents[0]._.kb_ents) == 3
    config = (tmp_path / "pipeline" / "config.cfg").read_text(encoding="utf-8")
    assert "sapbert.KiwiTokenizer.v1" in config and "threshold = 0.99" in config


def test_model_that_does_not_match_the_index_is_refused(index_dir: Path, other_model: Path) -> None:
    nlp = make_nlp(index_dir, model=str(other_model))
    with pytest.raises(IndexModelMismatch):
        nlp("두통")


def test_default_component_uses_the_cached_default(
    linker_model: Path, terminology: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import linker.default

    monkeypatch.setattr(linker.default, "default_sources", lambda: (str(linker_model), terminology))
    nlp = spacy.blank("ko", config=KIWI)
    nlp.add_pipe("sapbert_linker")
    assert ("간경화", "K74.6") in {(ent.text, ent.kb_id_) for ent in nlp("최근 간경화가 악화됨").ents}


def test_entry_points_register_component_and_tokenizer_in_a_fresh_process(index_dir: Path, tmp_path: Path) -> None:
    script = (
        "import json, sys, spacy\n"
        f"nlp = spacy.blank('ko', config={KIWI!r})\n"
        f"nlp.add_pipe('sapbert_linker', config={{'index': sys.argv[1], 'threshold': {THRESHOLD}}})\n"
        f"doc = nlp({NOTE!r})\n"
        "print(json.dumps([[e.start_char, e.end_char, e.text, e.kb_id_] for e in doc.ents], ensure_ascii=False))\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "SAPBERT_CACHE": str(tmp_path / "cache")}
    result = subprocess.run(
        [sys.executable, "-c", script, str(index_dir)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert [tuple(item) for item in json.loads(result.stdout.splitlines()[-1])] == expected_spans(NOTE)
