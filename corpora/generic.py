"""Readers of user dictionaries: CSV / TSV / JSONL with a column mapping, and the SapBERT ``CODE||name`` format.

- CSV/TSV (header line) and JSONL (one object a line): ``code_col`` and ``name_col`` name the code and the name;
  ``lang_col`` optionally names a language column (``ko``/``en``/other values kept as ``other``), else the
  language is detected from the name.
- SapBERT dictionary (``.txt``): ``CODE||name`` lines; several codes joined by ``|`` give the name to each code.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from corpora.collect import ConceptCollector
from corpora.errors import InputError
from corpora.report import ReadReport
from corpora.table import LANGS
from corpora.textfiles import iter_delimited, iter_lines


def _records_delimited(path: Path, delimiter: str, encoding: str) -> Iterator[tuple[int, dict[str, str]]]:
    rows = iter_delimited(path, delimiter, encoding)
    first = next(rows, None)
    if first is None:
        raise InputError(path, "file is empty: expected a header line")
    header = [name.strip() for name in first[1]]
    for number, fields in rows:
        if not any(field.strip() for field in fields):
            continue
        if len(fields) != len(header):
            raise InputError(path, f"expected {len(header)} fields like the header, found {len(fields)}", line=number)
        yield number, dict(zip(header, fields, strict=True))


def _records_jsonl(path: Path, encoding: str) -> Iterator[tuple[int, dict[str, str]]]:
    for number, text in iter_lines(path, encoding):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(
                path, f"invalid JSON ({error.msg}): expected one JSON object a line", line=number
            ) from error
        if not isinstance(record, dict):
            raise InputError(path, "expected a JSON object", line=number)
        yield number, {key: "" if value is None else str(value) for key, value in record.items()}


def read_table_file(
    path: str | Path,
    *,
    code_col: str = "code",
    name_col: str = "name",
    lang_col: str | None = None,
    source: str | None = None,
    concept_type: str = "",
    encoding: str = "auto",
) -> tuple[pd.DataFrame, ReadReport]:
    """Return the concept table of a CSV, TSV or JSONL file read through the given column mapping."""
    started = time.perf_counter()
    file = Path(path)
    name = file.name.lower().removesuffix(".gz")
    label = source or file.name.split(".")[0]
    report = ReadReport(label, str(file))
    collector = ConceptCollector(label, report)
    if name.endswith(".jsonl"):
        records = _records_jsonl(file, encoding)
    elif name.endswith((".tsv", ".tab")):
        records = _records_delimited(file, "\t", encoding)
    elif name.endswith(".csv"):
        records = _records_delimited(file, ",", encoding)
    else:
        raise InputError(file, "unknown table format: expected .csv, .tsv or .jsonl")
    wanted = [column for column in (code_col, name_col, lang_col) if column]
    for number, record in records:
        missing = [column for column in wanted if column not in record]
        if missing:
            raise InputError(file, f"missing column(s) {', '.join(missing)}: expected {', '.join(wanted)}", line=number)
        report.rows_read += 1
        code, text = record[code_col].strip(), record[name_col].strip()
        if not code or not text:
            report.skip("row without code or name")
            continue
        lang = record[lang_col].strip().lower() if lang_col else None
        collector.add(code, text, term_type="synonym", concept_type=concept_type, lang=_lang(lang))
    if report.rows_read == 0:
        raise InputError(file, "no rows: expected a header line followed by rows")
    frame = collector.frame()
    report.counts["codes"] = frame["code"].nunique()
    report.seconds = time.perf_counter() - started
    return frame, report


def _lang(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    return value if value in LANGS else "other"


def read_sapbert_dictionary(
    path: str | Path, *, source: str | None = None, concept_type: str = "", encoding: str = "auto"
) -> tuple[pd.DataFrame, ReadReport]:
    """Return the concept table of a SapBERT dictionary (``CODE||name`` lines, codes joined by ``|``)."""
    started = time.perf_counter()
    file = Path(path)
    label = source or file.name.split(".")[0]
    report = ReadReport(label, str(file))
    collector = ConceptCollector(label, report)
    for number, text in iter_lines(file, encoding):
        if not text.strip():
            continue
        report.rows_read += 1
        if "||" not in text:
            raise InputError(file, "expected 'CODE||name' (codes joined by '|')", line=number)
        codes, name = text.split("||", 1)
        codes_list = [code.strip() for code in codes.split("|") if code.strip()]
        if not codes_list or not name.strip():
            raise InputError(file, "expected a code and a name in 'CODE||name'", line=number)
        for code in codes_list:
            collector.add(code, name, term_type="synonym", concept_type=concept_type)
    if report.rows_read == 0:
        raise InputError(file, "file is empty: expected 'CODE||name' lines")
    frame = collector.frame()
    report.counts["codes"] = frame["code"].nunique()
    report.seconds = time.perf_counter() - started
    return frame, report
