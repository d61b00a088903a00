"""Reader of the KOSTAT KCD DB masterfile (xlsx): the Korean Classification of Diseases as a concept table.

Layout (``../shared/data/README.md``): a header row with 표제어, 분류기준, 질병분류코드, 검별, 주석, 한글명칭,
영문명칭. Rules:

- A row with a headword flag (표제어 1 or 2) is a concept, its Korean and English names the preferred names.
  Headwords of level 대 (chapter) and 중 (block), and range codes (``A00-A09``), are not concepts: they give the
  ``chapter`` and (for 3-character codes) the ``parent`` of the codes below them. Other codes' parent is the
  longest existing code they extend (``K74.60`` -> ``K74.6``).
- A row without a flag, under a concept code, with 주석 empty or 포함 is an inclusion term: a synonym in both
  languages. Fifth-character subdivision lists (``0 공동이 있는``), "use additional code" instructions and
  glossary descriptions (sentences ending in ``.``, or over 200 characters) share that layout but are not terms:
  skipped and counted.
- A row with 주석 제외 is an exclusion term: it becomes a synonym (term_type ``exclusion``) of the single code its
  trailing reference names (``결핵성 장염(A18.31†)`` -> A18.31) when that code exists, never of the code it is
  listed under. Ranges and lists of codes name no single code: skipped and counted. An exclusion that is one
  English adjective ("Pulmonary(I28.8)", Korean 폐) only qualifies the code's own name: skipped and counted.
- Notes (주석 주) are dropped and counted.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Container
from pathlib import Path

import pandas as pd

from corpora.collect import ConceptCollector
from corpora.normalize import trailing_code_reference, without_groups
from corpora.report import ReadReport
from corpora.xlsx import cell_text, find_header, header_key, iter_sheet_rows, open_workbook

SOURCE = "kcd"
CONCEPT_TYPE = "disease"
COLUMNS = {
    "headword": "표제어",
    "level": "분류기준",
    "code": "질병분류코드",
    "note": "주석",
    "ko": "한글명칭",
    "en": "영문명칭",
}
STRUCTURAL_LEVELS = frozenset({"대", "중"})
NOTE_MARKS = frozenset({"주", "주석"})
INCLUSION_MARKS = frozenset({"", "포함"})
EXCLUSION_MARK = "제외"
DESCRIPTION_MAX_CHARS = 200
QUALIFIER = re.compile(r"[A-Za-z]{3,}(?:al|ary|ar|ic|ous|ive)")  # Pulmonary, Congenital; not Tic


def _non_term_reason(ko: str, en: str) -> str | None:
    """Why an unmarked row below a code is not a term (None when it is one)."""
    if any(text[:1].isdigit() and text[1:2] == " " for text in (ko, en)):
        return "subdivision list, not a term"
    if en.lower().startswith("use additional") or "사용할 것" in ko or ko.endswith("사용한다") or "사용한다." in ko:
        return "instruction, not a term"
    if ko.endswith(".") or en.endswith(".") or max(len(ko), len(en)) > DESCRIPTION_MAX_CHARS:
        return "description, not a term"
    return None


def _is_qualifier(en: str) -> bool:
    """Whether an exclusion's English text is one adjective ("Pulmonary(I28.8)" under I87.1 *Compression of vein*).

    Such a row means "the pulmonary kind of this code's concept goes to I28.8"; alone, "Pulmonary" / "폐" would link
    every 폐 or "coronary" of a note to that code. A Korean text of several words is a full name and is kept
    ("장간막 림프절염" beside "Mesenteric").
    """
    return QUALIFIER.fullmatch(without_groups(en).replace("NOS", "").strip()) is not None


def _parent_of(code: str, known: Container[str], block: str) -> str:
    """The longest existing code that ``code`` extends; a 3-character code's parent is its block."""
    candidate = code
    while len(candidate) > 3:
        candidate = candidate[:-1].rstrip(".")
        if candidate in known:
            return candidate
    return block if block != code else ""


def read_kcd(path: str | Path, progress: Callable[[int], None] | None = None) -> tuple[pd.DataFrame, ReadReport]:
    """Return the KCD concept table of a DB masterfile and the report of what was kept and skipped.

    ``progress`` (optional) is called with the number of rows read since its last call (for a progress bar).
    """
    started = time.perf_counter()
    source = Path(path)
    report = ReadReport(SOURCE, str(source))
    collector = ConceptCollector(SOURCE, report)
    workbook = open_workbook(source)
    try:
        sheet, header_row, keys = find_header(source, workbook, COLUMNS.values())
        column = {name: keys[header_key(label)] for name, label in COLUMNS.items()}
        width = max(column.values()) + 1
        concepts: dict[str, tuple[str, str]] = {}  # code -> (parent, chapter)
        exclusions: list[tuple[str, str, str, str]] = []  # listed code, target, ko, en
        chapter = block = ""
        for number, row in iter_sheet_rows(source, sheet, header_row + 1, width):
            if progress and number % 1000 == 0:
                progress(1000)
            report.rows_read += 1
            value = {name: cell_text(row[index]) if index < len(row) else "" for name, index in column.items()}
            code, ko, en = value["code"], value["ko"], value["en"]
            if not code and not ko and not en:
                report.skip("empty row")
                continue
            if not code:
                report.skip("row without code")
                continue
            if value["headword"]:
                level = value["level"]
                if level == "대":
                    chapter = block = code
                    report.counts["chapter headings"] += 1
                elif level in STRUCTURAL_LEVELS or "-" in code:
                    block = code
                    report.counts["block headings"] += 1
                else:
                    parent = _parent_of(code, concepts.keys(), block)
                    concepts.setdefault(code, (parent, chapter))
                    parent, concept_chapter = concepts[code]
                    report.counts["headword rows"] += 1
                    if not ko:
                        report.counts["headwords without Korean name"] += 1
                    if not en:
                        report.counts["headwords without English name"] += 1
                    _add_names(collector, code, (ko, en), "preferred", parent, concept_chapter)
                continue
            mark = value["note"]
            if mark in NOTE_MARKS:
                report.skip("note (주)")
            elif mark == EXCLUSION_MARK:
                target = trailing_code_reference(ko) or trailing_code_reference(en) or ""
                exclusions.append((code, target, ko, en))
            elif mark in INCLUSION_MARKS:
                if code not in concepts:
                    report.skip("inclusion row under a chapter, block or unknown code")
                    continue
                reason = _non_term_reason(ko, en)
                if reason:
                    report.skip(reason)
                    continue
                report.counts["inclusion rows"] += 1
                parent, concept_chapter = concepts[code]
                _add_names(collector, code, (ko, en), "synonym", parent, concept_chapter)
            else:
                report.skip(f"unknown 주석 mark {mark!r}")
        for listed, target, ko, en in exclusions:
            if _is_qualifier(en):
                if " " not in without_groups(ko):
                    report.skip("exclusion that only qualifies its code's name (Pulmonary, 선천성): no name by itself")
                    continue
                report.counts["exclusions kept in Korean only (the English only qualifies)"] += 1
                en = ""
            if not target:
                report.skip("exclusion without a single-code reference")
            elif target not in concepts:
                report.skip("exclusion referencing an unknown code")
            elif target == listed:
                report.skip("exclusion referencing its own code")
            else:
                parent, concept_chapter = concepts[target]
                report.counts["exclusion terms attached"] += 1
                _add_names(collector, target, (ko, en), "exclusion", parent, concept_chapter)
        report.counts["codes"] = len(concepts)
    finally:
        workbook.close()
    frame = _drop_ambiguous_exclusions(collector.frame(), report)
    report.seconds = time.perf_counter() - started
    return frame, report


def _add_names(
    collector: ConceptCollector, code: str, texts: tuple[str, str], term_type: str, parent: str, chapter: str
) -> None:
    """Add a row's non-empty Korean and English names to ``code`` with its hierarchy."""
    for text in texts:
        if text:
            collector.add(code, text, term_type=term_type, concept_type=CONCEPT_TYPE, parent=parent, chapter=chapter)


def _drop_ambiguous_exclusions(frame: pd.DataFrame, report: ReadReport) -> pd.DataFrame:
    """Drop exclusion-derived names that another code already has as its own name (preferred or synonym).

    A bare exclusion such as "당뇨병 (O24.-)" (diabetes, in the pregnancy chapter) would otherwise tie with E14's own
    synonym 당뇨병 and win half the links; the code's own name is the reliable one.
    """
    own = frame[frame["term_type"] != "exclusion"]
    owners = own.groupby(own["name"].str.casefold())["code"].agg(set)
    exclusion = frame["term_type"] == "exclusion"
    keys = frame["name"].str.casefold()
    claimed = pd.Series(
        [bool(owners.get(key, set()) - {code}) for key, code in zip(keys, frame["code"], strict=True)],
        index=frame.index,
    )
    ambiguous = exclusion & claimed
    if ambiguous.any():
        report.skip("exclusion name that is another code's own name", int(ambiguous.sum()))
    return frame[~ambiguous].reset_index(drop=True)
