"""The query file format shared with pretraining and the benchmarks."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpora.errors import InputError
from corpora.queries import Query, read_queries, write_queries


def test_tsv_round_trip_keeps_several_gold_codes(tmp_path: Path) -> None:
    queries = [Query("간경화", ("K74.6", "K74.1")), Query("cholera", ("A00",))]
    path = write_queries(queries, tmp_path / "q.tsv")
    assert path.read_text(encoding="utf-8").splitlines()[:2] == ["mention\tcode", "간경화\tK74.6|K74.1"]
    assert read_queries(path) == queries


def test_reads_sapbert_lines(tmp_path: Path) -> None:
    path = tmp_path / "q.txt"
    path.write_text("K74.6|K74.1||간경화\n\nA00||cholera\n", encoding="utf-8")
    assert read_queries(path) == [Query("간경화", ("K74.6", "K74.1")), Query("cholera", ("A00",))]


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("mention\tcode\n간경화\tK74.6\nno code here\n", 3),
        ("mention\tcode\n\tK74.6\n", 2),
        ("A00||cholera\nbroken line\n", 2),
        ("just text\n", 1),
    ],
)
def test_malformed_line_is_named(tmp_path: Path, content: str, line: int) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as error:
        read_queries(path)
    assert error.value.line == line
    assert str(path) in str(error.value)


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.tsv"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(InputError, match="empty"):
        read_queries(empty)
    with pytest.raises(InputError, match="not found"):
        read_queries(tmp_path / "missing.tsv")
