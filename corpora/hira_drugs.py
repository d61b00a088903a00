"""Reader of HIRA drug tables: ATC-coded drug concepts with Korean ingredient and English generic names.

- The ATC mapping (``atc_mapping_*.csv``, cp949): 주성분코드 (ingredient code), 제품명 (product name with the
  Korean ingredient in parentheses: ``리비알정(티볼론)_(2.5mg/1정)``, or first in the dose part:
  ``..._(발프로산나트륨, 0.3g/1정)``), ATC코드, ATC코드 명칭 (English).
- Optionally the ingredient master (``drug_ingredient_master_*.csv``, cp949): 일반명코드 (= 주성분코드), 일반명
  (the generic name, English or Korean).

Concept = a substance-level (7-character) ATC code; names = the ATC English name (preferred), the Korean
ingredients of its products and the generic names of its ingredient codes (synonyms). ``parent`` is the ATC
level-4 code, ``chapter`` the anatomical main group. Products with class-level or combination ATC codes are
skipped and counted.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pandas as pd

from corpora.collect import ConceptCollector
from corpora.errors import InputError
from corpora.report import ReadReport
from corpora.textfiles import iter_delimited

SOURCE = "hira-drug"
CONCEPT_TYPE = "drug"
ATC_COLUMNS = ("주성분코드", "제품명", "ATC코드", "ATC코드 명칭")
MASTER_COLUMNS = ("일반명코드", "일반명")
SUBSTANCE_ATC = re.compile(r"^[A-Z]\d{2}[A-Z]{2}\d{2}$")
HANGUL = re.compile(r"[가-힣]")
GROUP = re.compile(r"\(([^()]*)\)")
NOT_INGREDIENTS = ("수출명", "미분화")  # export names and "micronised" also stand in parentheses


def korean_ingredient(product: str) -> str:
    """Return the Korean ingredient named in a HIRA product name, or "" when it names none."""
    name, _, dose = product.partition("_(")
    for inner in GROUP.findall(name):
        if HANGUL.search(inner) and not inner.startswith(NOT_INGREDIENTS) and "," not in inner:
            return inner.strip()
    first = dose.split(",")[0].strip().rstrip(")")
    if HANGUL.search(first) and not re.search(r"\d", first):
        return first
    return ""


def _records(path: Path, columns: tuple[str, ...], encoding: str):
    rows = iter_delimited(path, ",", encoding)
    first = next(rows, None)
    if first is None:
        raise InputError(path, f"file is empty: expected a header with {', '.join(columns)}")
    header = [field.strip() for field in first[1]]
    missing = [column for column in columns if column not in header]
    if missing:
        raise InputError(path, f"missing column(s) {', '.join(missing)}: expected {', '.join(columns)}", line=1)
    index = {column: header.index(column) for column in columns}
    for number, fields in rows:
        if not any(field.strip() for field in fields):
            continue
        if len(fields) != len(header):
            raise InputError(path, f"expected {len(header)} comma-separated fields, found {len(fields)}", line=number)
        yield number, {column: fields[position].strip() for column, position in index.items()}


def _generic_names(master: Path, encoding: str) -> dict[str, str]:
    return {record["일반명코드"]: record["일반명"] for _, record in _records(master, MASTER_COLUMNS, encoding)}


def read_hira_drugs(
    atc_path: str | Path, master_path: str | Path | None = None, *, encoding: str = "auto"
) -> tuple[pd.DataFrame, ReadReport]:
    """Return the ATC drug concept table of the HIRA ATC mapping (plus the ingredient master) and its report."""
    started = time.perf_counter()
    source = Path(atc_path)
    report = ReadReport(SOURCE, str(source) + (f" + {master_path}" if master_path else ""))
    collector = ConceptCollector(SOURCE, report)
    generic = _generic_names(Path(master_path), encoding) if master_path else {}
    for _number, record in _records(source, ATC_COLUMNS, encoding):
        report.rows_read += 1
        atc, atc_name = record["ATC코드"], record["ATC코드 명칭"]
        if not atc:
            report.skip("product without ATC code")
            continue
        if not SUBSTANCE_ATC.match(atc):
            report.skip("ATC code not at substance level (class or combination)")
            continue
        metadata = {"concept_type": CONCEPT_TYPE, "parent": atc[:5], "chapter": atc[0]}
        if atc_name:
            collector.add(atc, atc_name, term_type="preferred", **metadata)
        ingredient = korean_ingredient(record["제품명"])
        if ingredient:
            collector.add(atc, ingredient, term_type="synonym", **metadata)
        else:
            report.counts["products without a Korean ingredient name"] += 1
        name = generic.get(record["주성분코드"], "")
        if name:
            collector.add(atc, name, term_type="synonym", **metadata)
        elif master_path:
            report.counts["ingredient codes missing from the master"] += 1
    frame = collector.frame()
    report.counts["codes"] = frame["code"].nunique()
    report.seconds = time.perf_counter() - started
    return frame, report
