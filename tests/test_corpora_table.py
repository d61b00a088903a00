"""Concept tables survive a write/read round trip in every format, quotes and stray tabs included."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpora.table import concept_frame, read_concepts, write_concepts


@pytest.mark.parametrize("suffix", [".tsv", ".tsv.gz", ".parquet"])
def test_round_trip_keeps_quotes(tmp_path: Path, suffix: str) -> None:
    table = concept_frame(
        [
            {"code": "F44.0", "name": 'so-called "hysterical" amnesia', "lang": "en"},
            {"code": "F44.0", "name": '"해리성" 기억상실', "lang": "ko"},
        ]
    )
    back = read_concepts(write_concepts(table, tmp_path / f"concepts{suffix}"))
    assert back.equals(table)


def test_tabs_inside_a_name_become_spaces_in_tsv(tmp_path: Path) -> None:
    table = concept_frame([{"code": "A00", "name": "Cholera\tclassical"}])
    back = read_concepts(write_concepts(table, tmp_path / "concepts.tsv"))
    assert back["name"].tolist() == ["Cholera classical"]
