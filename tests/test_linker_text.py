"""Text handling: the Kiwi tokenizer's offsets, the character gazetteer, token splitting, token proposals."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy

from linker.gazetteer import Gazetteer, normalise_text
from linker.kiwi_tokenizer import KiwiTokenizer, split_points
from linker.mentions import token_proposals
from linker.spans import split_at
from tests.linker_support import NOTE

KIWI = {"nlp": {"tokenizer": {"@tokenizers": "sapbert.KiwiTokenizer.v1"}}}


@pytest.fixture(scope="module")
def kiwi_nlp():
    return spacy.blank("ko", config=KIWI)


def test_kiwi_tokens_are_exact_slices_with_particles_apart(kiwi_nlp) -> None:
    doc = kiwi_nlp(NOTE)
    assert doc.text == NOTE
    words = [token.text for token in doc]
    assert words[words.index("간경화") + 1] == "가"
    assert {"T2DM", "HCC", "liver", "cirrhosis", "두통", "입원"} <= set(words)
    for token in doc:
        assert NOTE[token.idx : token.idx + len(token)] == token.text
    assert doc[words.index("T2DM")].tag_ == "SL"
    assert doc[words.index("간경화")].tag_ == "NNG"


def test_kiwi_keeps_english_words_whole_and_whitespace_exact(kiwi_nlp) -> None:
    text = "  Heart failure.\n\n심부전  악화,\tEF 35%  \n"
    doc = kiwi_nlp(text)
    assert doc.text == text
    assert "failure" in [token.text for token in doc]
    assert kiwi_nlp("").text == ""
    assert kiwi_nlp("   ").text == "   "


def test_long_texts_are_cut_at_line_breaks_and_stay_exact() -> None:
    text = "\n".join(f"{i}번째 줄: 간경화가 악화됨, r/o HCC." for i in range(300))
    pieces = split_points(text, 500)
    assert all(end - start <= 500 for start, end in pieces)
    assert all(text[end - 1] == "\n" for _, end in pieces[:-1])
    doc = KiwiTokenizer(spacy.blank("xx").vocab, chunk_size=500)(text)
    assert doc.text == text
    assert sum(token.text == "HCC" for token in doc) == 300


def test_kiwi_tokenizer_serialises_its_settings(tmp_path: Path, kiwi_nlp) -> None:
    tokenizer = KiwiTokenizer(kiwi_nlp.vocab, chunk_size=1234)
    assert KiwiTokenizer(kiwi_nlp.vocab).from_bytes(tokenizer.to_bytes()).chunk_size == 1234
    tokenizer.to_disk(tmp_path / "tokenizer")
    assert KiwiTokenizer(kiwi_nlp.vocab).from_disk(tmp_path / "tokenizer").chunk_size == 1234
    kiwi_nlp.to_disk(tmp_path / "pipeline")
    assert [t.text for t in spacy.load(tmp_path / "pipeline")(NOTE)] == [t.text for t in kiwi_nlp(NOTE)]


def test_gazetteer_finds_names_inside_words_leftmost_longest() -> None:
    gazetteer = Gazetteer(["간경화", "liver cirrhosis", "cirrhosis", "제2형 당뇨병", "HCC", "두통", "간"])
    found = [(NOTE[m.start : m.end], m.name) for m in gazetteer.find(NOTE)]
    assert found == [
        ("liver cirrhosis", "liver cirrhosis"),
        ("제2형 당뇨병", "제2형 당뇨병"),
        ("간경화", "간경화"),
        ("HCC", "HCC"),
        ("두통", "두통"),
    ]


def test_gazetteer_normalises_case_spacing_and_korean_spaces() -> None:
    gazetteer = Gazetteer(["liver cirrhosis", "제2형 당뇨병", "HCC"])
    text = "Liver   Cirrhosis, 제2형당뇨병 and HCCs or THCC but HCC가"
    found = [text[m.start : m.end] for m in gazetteer.find(text)]
    assert found == ["Liver   Cirrhosis", "제2형당뇨병", "HCC"]
    assert text[gazetteer.find(text)[-1].start :].startswith("HCC가")


def test_names_starting_with_digits_or_latin_do_not_start_inside_a_word() -> None:
    gazetteer = Gazetteer(["2형 당뇨병", "DM"])
    assert gazetteer.find("12형 당뇨병, T2DM") == []
    assert [m.name for m in gazetteer.find("(2형 당뇨병) DM가")] == ["2형 당뇨병", "DM"]


def test_korean_type_numbers_are_also_found_with_je() -> None:
    text = "제2형 당뇨병과 제2형당뇨병"
    found = [(text[m.start : m.end], m.name) for m in Gazetteer(["2형 당뇨병"]).find(text)]
    assert found == [("제2형 당뇨병", "2형 당뇨병"), ("제2형당뇨병", "2형 당뇨병")]


def test_two_word_of_names_are_also_found_in_english_word_order() -> None:
    text = "Liver cirrhosis, cirrhosis of liver; cirrhosis of the liver"
    found = [(text[m.start : m.end], m.name) for m in Gazetteer(["Cirrhosis of liver"]).find(text)]
    assert found == [("Liver cirrhosis", "Cirrhosis of liver"), ("cirrhosis of liver", "Cirrhosis of liver")]


def test_capitalised_abbreviations_match_only_as_written() -> None:
    gazetteer = Gazetteer(["WAS", "HCC", "Hypertension", "afib"])
    text = "It was HCC, not hcc; WAS, hypertension and Afib"
    assert [text[m.start : m.end] for m in gazetteer.find(text)] == ["HCC", "WAS", "hypertension", "Afib"]


def test_short_korean_names_must_start_a_word() -> None:
    gazetteer = Gazetteer(["두통", "편두통"])
    assert [m.name for m in gazetteer.find("편두통과 두통")] == ["편두통", "두통"]
    assert Gazetteer(["두통"]).find("편두통") == []


def test_normalised_text_maps_back_to_original_offsets() -> None:
    normal, origin = normalise_text("A  B\nC")
    assert normal == "a b\nc".replace("\n", " ")
    assert origin == [0, 1, 3, 4, 5]


def test_split_at_cuts_tokens_where_mentions_end() -> None:
    doc = spacy.blank("xx")("최근 간경화가 악화됨")
    assert split_at(doc, [3, 6]) == 1
    assert [token.text for token in doc] == ["최근", "간경화", "가", "악화됨"]
    assert doc.text == "최근 간경화가 악화됨"
    assert doc.char_span(3, 6).text == "간경화"
    assert split_at(doc, [3, 6]) == 0


def test_proposals_cover_noun_phrases_and_abbreviations(kiwi_nlp) -> None:
    proposals = {m.query for m in token_proposals(kiwi_nlp(NOTE))}
    assert {"liver cirrhosis", "제2형 당뇨병", "T2DM", "HCC", "간경화", "두통"} <= proposals
    assert not any(query.endswith("가") or query.endswith("는") for query in proposals)
    english = {m.query for m in token_proposals(spacy.blank("en")("History of the liver cirrhosis and HCC."))}
    assert {"liver cirrhosis", "HCC"} <= english
    assert not any(query.split()[0] in {"of", "the", "and"} for query in english)
