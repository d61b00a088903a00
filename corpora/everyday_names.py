"""Everyday names derived from formal KCD names by fixed rules: "간의 악성 신생물" is what clinicians write as 간암.

KCD names a cancer by its site ("유방의 악성 신생물", "Malignant neoplasm of breast"); notes say 유방암 or "breast
cancer", and nothing in KCD links the two: a dense model trained on KCD alone sends 간암 to 간염 and 갑상선암 to
갑상선염, names one character away. The rules here add the everyday form of each such name:

- Korean ``[상세불명의 ]<site>의 악성 신생물[, 상세불명]`` → ``<site>암`` when the site is one word of Hangul (간, 유방,
  자궁경부);
- English ``Malignant neoplasm of [the ]<site>[, unspecified]`` → ``<site> cancer`` when the site is one or two plain
  words.

A derived name that any code of the table already uses is not added (no new ambiguity); each derived row keeps the
name it came from in ``original``, so every one can be traced back.
"""

from __future__ import annotations

import re

import pandas as pd

from corpora.report import ReadReport
from corpora.table import conform

TERM_TYPE = "derived"
KOREAN_CANCER = re.compile(r"^(?:상세불명의 )?([가-힣]+)의 악성 신생물(?:, ?상세불명)?$")
ENGLISH_CANCER = re.compile(r"^Malignant neoplasm of (?:the )?([A-Za-z]+(?: [A-Za-z]+)?)(?:, unspecified)?$")
TUMOUR_WORD = re.compile(r"암|종$|종양|oma\b|cancer|tumou?r|neoplasm")
RULES = {"ko": (KOREAN_CANCER, "암"), "en": (ENGLISH_CANCER, " cancer")}  # language -> (formal pattern, suffix)


def everyday_name(name: str, lang: str) -> str | None:
    """Return the everyday form of a formal name (``간의 악성 신생물`` → ``간암``), or None when no rule applies.

    A "site" that is itself a tumour word (간세포암종, cholangiocarcinoma: KCD files morphologies under C22) gets
    no rule: "간세포암종암" is not a name.
    """
    if lang not in RULES:
        return None
    rule, suffix = RULES[lang]
    match = rule.match(name)
    if match is None:
        return None
    site = match.group(1).lower()
    if TUMOUR_WORD.search(site):
        return None
    return f"{site}{suffix}"


def everyday_name_rows(table: pd.DataFrame) -> tuple[pd.DataFrame, ReadReport]:
    """Return new rows (term type ``derived``) naming codes of ``table`` by the everyday forms of their names.

    Only preferred names and synonyms are rewritten (an exclusion term names a neighbouring concept). A derived
    name already present anywhere in ``table`` is skipped; one derived from several names of a code appears once.
    The report counts the rows derived per language and the skipped ones by reason.
    """
    frame = conform(table)
    report = ReadReport(source="everyday-names", path="corpora/everyday_names.py")
    existing = set(frame["name"])
    rows = []
    seen: set[tuple[str, str]] = set()
    for row in frame[frame["term_type"].isin(["preferred", "synonym"])].itertuples(index=False):
        report.rows_read += 1
        derived = everyday_name(row.name, row.lang)
        if derived is None:
            continue
        if derived in existing:
            report.skip("everyday form already a name in the table")
        elif (row.code, derived) in seen:
            report.skip("same code and everyday form as an earlier name")
        else:
            seen.add((row.code, derived))
            rows.append({**row._asdict(), "name": derived, "original": row.name, "term_type": TERM_TYPE})
            report.counts[f"derived names ({row.lang})"] += 1
    return conform(pd.DataFrame(rows, columns=frame.columns)), report
