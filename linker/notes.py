"""Batch linking of clinical notes: read notes (JSONL, plain text, a folder of .txt), link them, write JSON lines.

Bad input lines are collected as :class:`~corpora.errors.InputError` (file and line number) while every good line
is still linked; the caller reports them. Output records keep input order:
``{"id": ..., "entities": [{"start", "end", "text", "label", "code", "name", "score", "candidates": [...]}]}``.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpora.errors import InputError

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")


@dataclass
class Notes:
    """Notes read from an input: ids and texts in input order, plus the bad lines that were left out."""

    ids: list[Any] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)

    def add(self, note_id: Any, text: str) -> None:
        self.ids.append(note_id)
        self.texts.append(text)


def read_notes(path: str | Path, *, text_field: str = "text", id_field: str = "id") -> Notes:
    """Read notes from a JSONL file, a plain-text file (one note per line) or a folder of ``.txt`` files.

    JSONL ids come from ``id_field`` (the line number where absent); plain-text ids are line numbers; folder ids
    are file names relative to the folder. Malformed JSONL lines are returned in ``errors`` and skipped.
    """
    source = Path(path)
    if source.is_dir():
        return _read_folder(source)
    if not source.is_file():
        raise InputError(source, "input not found: expected a .jsonl file, a text file or a folder of .txt files")
    if source.suffix.lower() in JSONL_SUFFIXES:
        return _read_jsonl(source, text_field, id_field)
    notes = Notes()
    with source.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            notes.add(number, line.rstrip("\r\n"))
    return notes


def _read_folder(folder: Path) -> Notes:
    notes = Notes()
    files = sorted(folder.rglob("*.txt"))
    if not files:
        raise InputError(folder, "no .txt files in this folder")
    for file in files:
        notes.add(str(file.relative_to(folder)), file.read_text(encoding="utf-8"))
    return notes


def _read_jsonl(source: Path, text_field: str, id_field: str) -> Notes:
    notes = Notes()
    with source.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                notes.errors.append(InputError(source, f"not valid JSON ({error.msg})", line=number))
                continue
            if not isinstance(record, dict) or not isinstance(record.get(text_field), str):
                expected = f"a JSON object with a string field {text_field!r}"
                notes.errors.append(InputError(source, f"expected {expected}", line=number))
                continue
            notes.add(record.get(id_field, number), record[text_field])
    return notes


def entity_records(doc) -> list[dict]:
    """Return the linked entities of a processed Doc as JSON-ready dicts (unlinked upstream entities left out)."""
    records = []
    for span in doc.ents:
        candidates = span._.sapbert_candidates
        if not span.kb_id_ or not candidates:
            continue
        best = candidates[0]
        records.append(
            {
                "start": span.start_char,
                "end": span.end_char,
                "text": span.text,
                "label": span.label_,
                "code": best.code,
                "name": best.name,
                "score": round(best.score, 4),
                "candidates": [{"code": c.code, "name": c.name, "score": round(c.score, 4)} for c in candidates],
            }
        )
    return records


def link_texts(nlp, texts: Iterable[str], batch_size: int) -> Iterator[list[dict]]:
    """Yield the entity records of each text in order, linking ``batch_size`` texts per encoder call."""
    for doc in nlp.pipe(texts, batch_size=batch_size):
        yield entity_records(doc)


def display_width(text: str) -> int:
    """Return how many terminal columns ``text`` takes (Hangul and other wide characters take two)."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def entity_table(text: str, entities: list[dict]) -> str:
    """Return a readable table of one note's entities: span, text, code, score, label and matched name."""
    header = ("span", "text", "code", "score", "label", "name")
    rows = [header] + [
        (
            f"{e['start']}-{e['end']}",
            e["text"],
            e["code"],
            f"{e['score']:.3f}",
            e["label"],
            e["name"],
        )
        for e in entities
    ]
    widths = [max(display_width(row[column]) for row in rows) for column in range(len(header) - 1)]
    lines = [text, ""]
    for row in rows:
        cells = [cell + " " * (width - display_width(cell)) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    if not entities:
        lines.append("(no entities found)")
    return "\n".join(lines)
