"""Reader of UMLS MRCONSO.RRF: concept names by CUI, filtered by language, source, suppression and preference.

MRCONSO is pipe-delimited, 18 fields and a trailing ``|``: CUI|LAT|TS|LUI|STT|SUI|ISPREF|AUI|SAUI|SCUI|SDUI|SAB|
TTY|CODE|STR|SRL|SUPPRESS|CVF|. The file is streamed (a full release has ~15M lines); memory grows only with the
names kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from corpora.collect import ConceptCollector
from corpora.errors import InputError
from corpora.report import ReadReport
from corpora.textfiles import iter_delimited

SOURCE = "umls"
FIELDS = 18
CUI, LAT, TS, STT, ISPREF, SAB, TTY, STR, SUPPRESS = 0, 1, 2, 4, 6, 11, 12, 14, 16
SUPPRESSED = frozenset({"O", "E", "Y"})
LANGS = {"ENG": "en", "KOR": "ko"}


def read_mrconso(
    path: str | Path,
    *,
    languages: Iterable[str] = ("ENG", "KOR"),
    sources: Iterable[str] = (),
    keep_suppressed: bool = False,
    preferred_only: bool = False,
    concept_type: str = "",
    progress: Callable[[int], None] | None = None,
) -> tuple[pd.DataFrame, ReadReport]:
    """Return the concept table (codes = CUIs, source ``umls:<SAB>``) of an MRCONSO.RRF file and its report.

    ``languages``: LAT values kept; ``sources``: SAB values kept (empty = all); suppressed atoms (SUPPRESS O, E, Y)
    are dropped unless ``keep_suppressed``; ``preferred_only`` keeps only atoms with ISPREF = Y.
    """
    started = time.perf_counter()
    source = Path(path)
    report = ReadReport(SOURCE, str(source))
    wanted_langs = {lang.upper() for lang in languages}
    wanted_sources = {sab for sab in sources}
    collector = ConceptCollector(SOURCE, report)
    for number, fields in iter_delimited(source, "|", "utf-8"):
        if progress and number % 100000 == 0:
            progress(100000)
        if len(fields) == 1 and not fields[0].strip():
            report.skip("empty line")
            continue
        report.rows_read += 1
        if len(fields) not in (FIELDS, FIELDS + 1):
            raise InputError(
                source, f"expected {FIELDS} '|'-separated MRCONSO fields, found {len(fields)}", line=number
            )
        if not fields[CUI] or not fields[STR]:
            raise InputError(source, "expected a CUI (field 1) and a string (field 15)", line=number)
        if fields[LAT] not in wanted_langs:
            report.skip("language filtered out")
        elif wanted_sources and fields[SAB] not in wanted_sources:
            report.skip("source (SAB) filtered out")
        elif fields[SUPPRESS] in SUPPRESSED and not keep_suppressed:
            report.skip("suppressed atom")
        elif preferred_only and fields[ISPREF] != "Y":
            report.skip("not a preferred atom (ISPREF)")
        else:
            preferred = fields[TS] == "P" and fields[STT] == "PF" and fields[ISPREF] == "Y"
            collector.add(
                fields[CUI],
                fields[STR],
                term_type="preferred" if preferred else "synonym",
                concept_type=concept_type,
                lang=LANGS.get(fields[LAT]),
                source=f"{SOURCE}:{fields[SAB]}",
            )
    if report.rows_read == 0:
        raise InputError(source, "file is empty: expected MRCONSO.RRF lines")
    frame = collector.frame()
    report.counts["codes"] = frame["code"].nunique()
    report.seconds = time.perf_counter() - started
    return frame, report
