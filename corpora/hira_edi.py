"""Reader of HIRA EDI procedure code tables mapped to SNOMED CT (xlsx, one sheet per chapter).

Header columns used: 수가 코드 (the EDI code), 한글명, 영문명, and, kept as metadata, SCTID / Mapping type /
SNOMED CT FSN. The concept type is ``lab`` for the laboratory chapter (a sheet named ...검사...) and ``procedure``
otherwise; ``chapter`` is the sheet's 절 (section) where it has one, else the sheet name.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from corpora.collect import ConceptCollector
from corpora.report import ReadReport
from corpora.xlsx import cell_text, find_header, header_key, iter_sheet_rows, open_workbook

SOURCE = "hira-edi"
REQUIRED = ("수가 코드", "한글명", "영문명")
OPTIONAL = {"section": "절", "sctid": "SCTID", "mapping": "Mapping type", "fsn": "SNOMED CT FSN"}
MAX_COLUMNS = 30


def read_edi(path: str | Path) -> tuple[pd.DataFrame, ReadReport, pd.DataFrame]:
    """Return ``(concept table, report, SNOMED links)`` of an EDI-SNOMED mapping workbook.

    The links frame (columns code, sctid, mapping_type, snomed_fsn) keeps the SNOMED CT mapping as metadata
    beside the table, one row per EDI code that has one.
    """
    started = time.perf_counter()
    source = Path(path)
    report = ReadReport(SOURCE, str(source))
    collector = ConceptCollector(SOURCE, report)
    links: list[dict[str, str]] = []
    workbook = open_workbook(source)
    try:
        sheet, header_row, keys = find_header(source, workbook, REQUIRED, MAX_COLUMNS)
        column = {name: keys[header_key(label)] for name, label in zip(("code", "ko", "en"), REQUIRED, strict=True)}
        column |= {name: keys[header_key(label)] for name, label in OPTIONAL.items() if header_key(label) in keys}
        concept_type = "lab" if "검사" in sheet.title else "procedure"
        for _number, row in iter_sheet_rows(source, sheet, header_row + 1, max(column.values()) + 1):
            value = {name: cell_text(row[index]) if index < len(row) else "" for name, index in column.items()}
            report.rows_read += 1
            if not any(value.values()):
                report.skip("empty row")
                continue
            code = value["code"]
            if not code or not (value["ko"] or value["en"]):
                report.skip("row without code or name")
                continue
            chapter = value.get("section") or sheet.title
            for text in (value["ko"], value["en"]):
                if text:
                    collector.add(code, text, term_type="preferred", concept_type=concept_type, chapter=chapter)
            if value.get("sctid"):
                links.append(
                    {
                        "code": code,
                        "sctid": value["sctid"],
                        "mapping_type": value.get("mapping", "").lower(),
                        "snomed_fsn": value.get("fsn", ""),
                    }
                )
    finally:
        workbook.close()
    frame = collector.frame()
    report.counts["codes"] = frame["code"].nunique()
    report.counts["SNOMED CT links"] = len(links)
    report.seconds = time.perf_counter() - started
    links_frame = pd.DataFrame(links, columns=["code", "sctid", "mapping_type", "snomed_fsn"]).drop_duplicates()
    return frame, report, links_frame.reset_index(drop=True)
