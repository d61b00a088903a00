"""Which reader reads which file, and building one concept table from several source files.

A source's type is given explicitly or recognised from its file name (see :func:`detect_kind`). Building reads
every source, concatenates their tables and removes names a code already has from an earlier source.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from corpora.errors import InputError
from corpora.report import ReadReport
from corpora.table import COLUMNS, conform, read_concepts

KINDS = ("kcd", "kostom", "umls", "generic", "sapbert", "hira-edi", "hira-drugs", "hira-drug-master", "concepts")
Progress = Callable[[int], None]


@dataclass
class SourceOptions:
    """Reader options of a build (each reader uses the ones that concern it)."""

    code_col: str = "code"
    name_col: str = "name"
    lang_col: str | None = None
    concept_type: str = ""
    encoding: str = "auto"
    keep_without_cui: bool = False
    umls_languages: Sequence[str] = ("ENG", "KOR")
    umls_sources: Sequence[str] = ()
    umls_keep_suppressed: bool = False
    umls_preferred_only: bool = False
    drug_master: Path | None = None


@dataclass
class BuildResult:
    """A built concept table, one report per source (plus one for the merge), and SNOMED CT links of EDI codes."""

    table: pd.DataFrame
    reports: list[ReadReport]
    snomed_links: pd.DataFrame = field(default_factory=pd.DataFrame)


def detect_kind(path: str | Path) -> str:
    """Return the source type of a file from its name (``--type`` overrides it).

    ``*.xlsx`` with ``edi``/``snomed`` in the name: hira-edi, other ``*.xlsx``: kcd; ``MRCONSO*``/``*.RRF``: umls;
    ``kostom`` in the name: kostom; ``atc*.csv``: hira-drugs; ``*ingredient_master*``: hira-drug-master;
    ``*.parquet`` or a ``.tsv[.gz]`` with the concept-table header: concepts; ``*.csv``/``*.tsv``/``*.jsonl``:
    generic; ``*.txt``: sapbert (``CODE||name``).
    """
    file = Path(path)
    name = file.name.lower()
    if name.endswith(".xlsx"):
        return "hira-edi" if "edi" in name or "snomed" in name else "kcd"
    if name.startswith("mrconso") or name.endswith(".rrf"):
        return "umls"
    if "kostom" in name:
        return "kostom"
    if "ingredient_master" in name:
        return "hira-drug-master"
    if "atc" in name and name.endswith(".csv"):
        return "hira-drugs"
    if name.endswith(".parquet") or (name.endswith((".tsv", ".tsv.gz")) and _has_concept_header(file)):
        return "concepts"
    if name.endswith((".csv", ".tsv", ".tsv.gz", ".jsonl", ".jsonl.gz", ".tab")):
        return "generic"
    if name.endswith(".txt"):
        return "sapbert"
    raise InputError(file, f"cannot tell the source type from the file name: pass --type (one of {', '.join(KINDS)})")


def _has_concept_header(path: Path) -> bool:
    from corpora.textfiles import iter_lines

    if not path.exists():
        raise InputError(path, "file not found")
    first = next(iter_lines(path), (1, ""))[1]
    return tuple(first.split("\t")) == COLUMNS


def read_source(path: str | Path, kind: str, options: SourceOptions, progress: Progress | None = None) -> BuildResult:
    """Read one source file with the reader of ``kind``; return its table and report."""
    source = Path(path)
    if not source.exists():
        raise InputError(source, "file not found")
    links = pd.DataFrame()
    if kind == "kcd":
        from corpora.kcd import read_kcd

        frame, report = read_kcd(source, progress)
    elif kind == "kostom":
        from corpora.kostom import read_kostom

        frame, report = read_kostom(
            source,
            keep_without_cui=options.keep_without_cui,
            concept_type=options.concept_type,
            encoding=options.encoding,
            progress=progress,
        )
    elif kind == "umls":
        from corpora.umls import read_mrconso

        frame, report = read_mrconso(
            source,
            languages=options.umls_languages,
            sources=options.umls_sources,
            keep_suppressed=options.umls_keep_suppressed,
            preferred_only=options.umls_preferred_only,
            concept_type=options.concept_type,
            progress=progress,
        )
    elif kind == "generic":
        from corpora.generic import read_table_file

        frame, report = read_table_file(
            source,
            code_col=options.code_col,
            name_col=options.name_col,
            lang_col=options.lang_col,
            concept_type=options.concept_type,
            encoding=options.encoding,
        )
    elif kind == "sapbert":
        from corpora.generic import read_sapbert_dictionary

        frame, report = read_sapbert_dictionary(source, concept_type=options.concept_type, encoding=options.encoding)
    elif kind == "hira-edi":
        from corpora.hira_edi import read_edi

        frame, report, links = read_edi(source)
    elif kind == "hira-drugs":
        from corpora.hira_drugs import read_hira_drugs

        frame, report = read_hira_drugs(source, options.drug_master, encoding=options.encoding)
    elif kind == "concepts":
        started = time.perf_counter()
        frame = read_concepts(source)
        report = ReadReport("concepts", str(source), rows_read=len(frame), seconds=time.perf_counter() - started)
    else:
        raise InputError(source, f"unknown source type {kind!r}: expected one of {', '.join(KINDS)}")
    return BuildResult(frame, [report], links)


def build_table(
    sources: Sequence[tuple[Path, str]],
    options: SourceOptions,
    progress_for: Callable[[Path], Progress | None] = lambda _path: None,
) -> BuildResult:
    """Read every ``(path, kind)`` source and merge them into one concept table (first source wins a duplicate).

    A ``hira-drug-master`` source is not read on its own: it supplies the generic names of the ``hira-drugs``
    source of the same build.
    """
    masters = [path for path, kind in sources if kind == "hira-drug-master"]
    if masters and not any(kind == "hira-drugs" for _path, kind in sources):
        raise InputError(masters[0], "the drug ingredient master needs the HIRA ATC mapping file in the same build")
    if masters and options.drug_master is None:
        options.drug_master = masters[0]
    tables, reports, links = [], [], []
    for path, kind in sources:
        if kind == "hira-drug-master":
            continue
        result = read_source(path, kind, options, progress_for(path))
        tables.append(result.table)
        reports += result.reports
        links.append(result.snomed_links)
    if not tables:
        raise InputError(sources[0][0] if sources else "-", "no source to read")
    merged = pd.concat([conform(table) for table in tables], ignore_index=True)
    merge = ReadReport("merge", f"{len(tables)} source(s)", rows_read=len(merged))
    before = len(merged)
    merged = merged.drop_duplicates(subset=["code", "name"], keep="first").reset_index(drop=True)
    merge.counts["names already given by an earlier source"] = before - len(merged)
    merge.counts["codes"] = merged["code"].nunique()
    merge.counts["names"] = len(merged)
    reports.append(merge)
    non_empty = [frame for frame in links if not frame.empty]
    return BuildResult(merged, reports, pd.concat(non_empty, ignore_index=True) if non_empty else pd.DataFrame())
