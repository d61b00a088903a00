"""The embedded default terminology: the KCD-9 concept table shipped inside the package.

``corpora/data/kcd_concepts.tsv.gz`` is derived from the KOSTAT KCD-9 DB masterfile (with the everyday forms of its
formal cancer names, 간암 for 간의 악성 신생물), plus the English clinical abbreviations whose usual sense links to a
KCD code (HCC, T2DM, HTN: clinicians write them inside Korean notes), by
``sapbert corpora build-default`` (see ``corpora/data/SOURCE.md``); the build is byte-for-byte reproducible: rows in
a stable order, gzip without a timestamp or file name.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from corpora.files import atomic_file
from corpora.table import conform, read_concepts

DEFAULT_FILE = "kcd_concepts.tsv.gz"
TERM_TYPE_ORDER = {"preferred": 0, "synonym": 1, "exclusion": 2, "abbreviation": 3, "derived": 4}


def default_terminology_path() -> Path:
    """Return the path of the embedded default concept table (KCD-9, Korean and English names)."""
    return Path(__file__).resolve().parent / "data" / DEFAULT_FILE


def load_default_terminology() -> pd.DataFrame:
    """Return the embedded default concept table (columns of :data:`corpora.table.COLUMNS`)."""
    return read_concepts(default_terminology_path())


def write_deterministic_tsv_gz(table: pd.DataFrame, path: str | Path) -> Path:
    """Write a concept table as ``.tsv.gz`` whose bytes depend only on the rows (gzip mtime 0, no file name).

    Rows are sorted stably by code, then term type (preferred, synonym, exclusion, abbreviation), keeping source
    order within.
    """
    frame = conform(table)
    rank = frame["term_type"].map(TERM_TYPE_ORDER).fillna(len(TERM_TYPE_ORDER))
    frame = frame.assign(_rank=rank).sort_values(["code", "_rank"], kind="stable").drop(columns="_rank")
    frame = frame.replace(r"[\t\r\n]", " ", regex=True)
    text = frame.to_csv(sep="\t", index=False, lineterminator="\n", quoting=csv.QUOTE_NONE)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as archive:
        archive.write(text.encode("utf-8"))
    with atomic_file(path, "wb") as handle:
        handle.write(buffer.getvalue())
    return Path(path)


def build_default(
    masterfile: str | Path,
    out: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    abbreviations: str | Path | None = None,
):
    """Rebuild the default table from the KCD masterfile into ``out`` (the embedded file by default).

    KCD's formal cancer names also get their everyday forms (간의 악성 신생물 → 간암; :mod:`corpora.everyday_names`).
    ``abbreviations`` is the folder of clinical abbreviation inventories (``shared/data/abbreviations``): each
    abbreviation whose usual sense links confidently to a KCD code (:mod:`corpora.abbreviations`, through KCD names
    and the ICD-10-CM terms that agree with KCD) becomes one more name of that code, once per code and name.
    The read reports are saved beside the table (``kcd_concepts.report.json``) without timing and folder, so that
    file is reproducible too. Returns ``(path written, read reports)``.
    """
    from dataclasses import replace

    from corpora.everyday_names import everyday_name_rows
    from corpora.kcd import read_kcd
    from corpora.report import save_reports

    table, report = read_kcd(masterfile, progress)
    reports = [replace(report, path=Path(masterfile).name, seconds=0.0)]
    if abbreviations is not None:
        linked = abbreviation_rows(table, abbreviations)
        table = pd.concat([table, linked.table], ignore_index=True)
        reports += [replace(item, path=Path(item.path).name, seconds=0.0) for item in linked.reports]
    derived, derived_report = everyday_name_rows(table)
    table = pd.concat([table, derived], ignore_index=True)
    reports.append(derived_report)
    target = write_deterministic_tsv_gz(table, out or default_terminology_path())
    save_reports(reports, target)
    return target, reports


def abbreviation_rows(kcd: pd.DataFrame, folder: str | Path):
    """Return the abbreviations of the inventories in ``folder`` linked to ``kcd`` codes, one row per code and name.

    Several inventories often give the same abbreviation the same code; the first (in inventory order) is kept and
    the others are counted in that inventory's report as duplicates. Returns a
    :class:`~corpora.abbreviations.AbbreviationResult`.
    """
    from dataclasses import replace

    from corpora.abbreviations import inventory_files, read_abbreviations
    from corpora.icd10cm import read_icd10cm

    files = inventory_files(folder)
    if not files:
        from corpora.errors import InputError

        raise InputError(folder, "no abbreviation inventories (.txt or .csv files) in this folder")
    linked = read_abbreviations(files, kcd, icd10cm=read_icd10cm(kcd).table)
    duplicate = linked.table.duplicated(subset=["code", "name"])
    by_source = {item.source: item for item in linked.reports}
    for source, count in linked.table.loc[duplicate, "source"].value_counts().items():
        by_source[source].skip("same code and name as an earlier inventory", int(count))
    return replace(linked, table=linked.table[~duplicate].reset_index(drop=True))
