"""Training pairs (limits, determinism, cross-language) and held-out splits (no leakage)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd
import pytest

from corpora.pairs import iter_pairs, write_pairs
from corpora.splits import match_key, split_table
from corpora.table import concept_frame


def table_with(names_per_code: dict[str, list[tuple[str, str, str]]]) -> pd.DataFrame:
    """A concept table from ``{code: [(name, lang, term_type)]}``."""
    return concept_frame(
        {"code": code, "name": name, "lang": lang, "term_type": term_type}
        for code, names in names_per_code.items()
        for name, lang, term_type in names
    )


@pytest.fixture
def big_table() -> pd.DataFrame:
    """12 codes: code i has i+2 names, alternating Korean and English; the first two preferred."""
    return table_with(
        {
            f"C{code:02d}": [
                (
                    f"{'이름' if n % 2 else 'name'} {code} {n}",
                    "ko" if n % 2 else "en",
                    "preferred" if n < 2 else "synonym",
                )
                for n in range(code + 2)
            ]
            for code in range(12)
        }
    )


def test_all_pairs_below_the_limit() -> None:
    table = table_with({"A": [("a", "en", "preferred"), ("b", "en", "synonym"), ("가", "ko", "synonym")]})
    assert list(iter_pairs(table)) == [("a", "b", "A"), ("a", "가", "A"), ("b", "가", "A")]


def test_limit_and_determinism(big_table: pd.DataFrame) -> None:
    pairs = list(iter_pairs(big_table, max_pairs=10, seed=7))
    per_code = pd.Series([code for _, _, code in pairs]).value_counts()
    assert per_code.max() == 10
    assert per_code["C02"] == 6  # 4 names: all 6 pairs
    assert pairs == list(iter_pairs(big_table, max_pairs=10, seed=7))
    assert pairs != list(iter_pairs(big_table, max_pairs=10, seed=8))
    names = dict(zip(big_table["name"], big_table["code"], strict=True))
    assert all(names[first] == names[second] == code for first, second, code in pairs)
    assert len({(first, second) for first, second, _ in pairs}) == len(pairs)


def test_a_codes_sample_does_not_depend_on_other_codes(big_table: pd.DataFrame) -> None:
    alone = big_table[big_table["code"] == "C11"]
    together = [pair for pair in iter_pairs(big_table, max_pairs=5) if pair[2] == "C11"]
    assert list(iter_pairs(alone, max_pairs=5)) == together


def test_cross_language_only(big_table: pd.DataFrame) -> None:
    langs = dict(zip(big_table["name"], big_table["lang"], strict=True))
    pairs = list(iter_pairs(big_table, cross_language_only=True))
    assert pairs and all({langs[first], langs[second]} == {"ko", "en"} for first, second, _ in pairs)


def test_write_pairs_header(tmp_path: Path) -> None:
    path = tmp_path / "pairs.tsv"
    count = write_pairs(iter([("간경화", "cirrhosis", "K74.6")]), path)
    assert count == 1
    assert path.read_text(encoding="utf-8") == "sent0\tsent1\tlabel\n간경화\tcirrhosis\tK74.6\n"


def assert_no_leakage(table: pd.DataFrame, split) -> None:
    train_keys = set(zip(split.train["code"], split.train["name"].map(match_key), strict=True))
    dictionary_keys = set(zip(split.dictionary["code"], split.dictionary["name"].map(match_key), strict=True))
    dev = {(code, match_key(query.mention)) for query in split.dev for code in query.codes}
    test = {(code, match_key(query.mention)) for query in split.test for code in query.codes}
    assert not dev & test
    assert not (dev | test) & train_keys
    assert not (dev | test) & dictionary_keys
    assert {code for code, _ in dev}.isdisjoint({code for code, _ in test})
    assert {code for code, _ in dev | test} <= set(split.dictionary["code"])  # every gold code stays linkable


def test_term_split_holds_out_synonyms_without_leakage(big_table: pd.DataFrame) -> None:
    split = split_table(big_table, level="term", dev_size=3, test_size=3, seed=1)
    assert len(split.dev) == len(split.test) == 3
    assert_no_leakage(big_table, split)
    assert split.train.equals(split.dictionary)
    assert len(split.train) == len(big_table) - 6
    with_synonyms = set(big_table.loc[big_table["term_type"] == "synonym", "code"])
    for query in split.dev + split.test:
        term_type = big_table.loc[big_table["name"] == query.mention, "term_type"].item()
        assert term_type == ("synonym" if query.codes[0] in with_synonyms else "preferred")
    assert split_table(big_table, level="term", dev_size=3, test_size=3, seed=1).dev == split.dev


def test_concept_split_removes_whole_codes_from_training(big_table: pd.DataFrame) -> None:
    split = split_table(big_table, level="concept", dev_size=2, test_size=2, seed=3)
    assert_no_leakage(big_table, split)
    held_codes = {code for query in split.dev + split.test for code in query.codes}
    assert len(held_codes) == 4
    assert held_codes.isdisjoint(set(split.train["code"]))
    kept = split.dictionary[split.dictionary["code"].isin(held_codes)]
    assert set(kept["term_type"]) == {"preferred"}


def test_normalised_duplicates_are_held_out_together_and_shared_names_never() -> None:
    table = table_with(
        {
            "A": [
                ("Liver cirrhosis", "en", "preferred"),
                ("liver-cirrhosis", "en", "synonym"),
                ("경변증", "ko", "synonym"),
            ],
            "B": [("Hepatic sclerosis", "en", "preferred"), ("경변증", "ko", "synonym")],
        }
    )
    split = split_table(table, level="term", dev_size=5, test_size=0, seed=0)
    assert split.dev == []  # the only non-preferred names are a duplicate key of the preferred one or shared
    table.loc[table["name"] == "liver-cirrhosis", "term_type"] = "synonym"
    table = pd.concat([table, table_with({"A": [("hepatic cirrhosis", "en", "synonym")]})], ignore_index=True)
    split = split_table(table, level="term", dev_size=5, test_size=0, seed=0)
    assert [query.mention for query in split.dev] == ["hepatic cirrhosis"]
    assert_no_leakage(table, split)


def test_every_held_out_row_is_accounted_for(big_table: pd.DataFrame) -> None:
    for level, seed in itertools.product(("term", "concept"), (0, 1)):
        split = split_table(big_table, level=level, dev_size=2, test_size=2, seed=seed)
        assert len(split.dictionary) + split.counts["held-out names"] == len(big_table)
