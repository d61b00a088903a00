"""Reader of KOSTOM (Korean Standard Terminology of Medicine) as distributed: a tab-separated file.

cp949 or UTF-8 (detected), first line a header, columns in this order: KOSTOM id, id, English term, Korean term,
UMLS CUI, then further code columns (LOINC...). A row with a CUI is a concept row: its English and Korean terms
become names of that CUI. Rows without a CUI are not linkable concepts: they are counted, and kept only with
``keep_without_cui`` as English-Korean pairs grouped under their KOSTOM id.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from corpora.collect import ConceptCollector
from corpora.errors import InputError
from corpora.report import ReadReport
from corpora.textfiles import iter_delimited

SOURCE = "kostom"
MIN_FIELDS = 5
CUI = re.compile(r"^C\d{7}$")


def read_kostom(
    path: str | Path,
    *,
    keep_without_cui: bool = False,
    concept_type: str = "",
    encoding: str = "auto",
    progress: Callable[[int], None] | None = None,
) -> tuple[pd.DataFrame, ReadReport]:
    """Return the concept table (codes = UMLS CUIs) of a KOSTOM file and the report of skipped rows.

    With ``keep_without_cui`` rows lacking a CUI are kept under their KOSTOM id (term_type ``kostom-pair``).
    """
    started = time.perf_counter()
    source = Path(path)
    report = ReadReport(SOURCE, str(source))
    collector = ConceptCollector(SOURCE, report)
    rows = iter_delimited(source, "\t", encoding)
    header = next(rows, None)
    if header is None or len(header[1]) < MIN_FIELDS:
        raise InputError(
            source, "expected a header of at least 5 tab-separated columns: KOSTOM id, id, English, Korean, CUI", line=1
        )
    for number, fields in rows:
        if progress and number % 10000 == 0:
            progress(10000)
        if not any(field.strip() for field in fields):
            report.skip("empty line")
            continue
        report.rows_read += 1
        if len(fields) < MIN_FIELDS:
            raise InputError(
                source,
                f"expected at least {MIN_FIELDS} tab-separated fields (KOSTOM id, id, English, Korean, CUI), "
                f"found {len(fields)}",
                line=number,
            )
        kostom_id, english, korean, cui = fields[0].strip(), fields[2].strip(), fields[3].strip(), fields[4].strip()
        if cui and not CUI.match(cui):
            raise InputError(source, f"expected a UMLS CUI like C0482065 in column 5, found {cui!r}", line=number)
        if not english and not korean:
            report.skip("row without English and Korean term")
            continue
        if cui:
            code, term_type = cui, "synonym"
            report.counts["rows with CUI"] += 1
        elif keep_without_cui:
            if not kostom_id:
                raise InputError(source, "expected a KOSTOM id in column 1", line=number)
            code, term_type = kostom_id, "kostom-pair"
            report.counts["rows without CUI kept as pairs"] += 1
        else:
            report.skip("row without UMLS CUI")
            continue
        for text in (english, korean):
            if text:
                collector.add(code, text, term_type=term_type, concept_type=concept_type)
    frame = collector.frame()
    report.counts["codes"] = frame["code"].nunique()
    report.seconds = time.perf_counter() - started
    return frame, report
