"""The embedded default terminology: the KCD-9 concept table shipped inside the package.

``corpora/data/kcd_concepts.tsv.gz`` is derived from the KOSTAT KCD-9 DB masterfile by
``sapbert corpora build-default`` (see ``corpora/data/SOURCE.md``); the build is byte-for-byte reproducible:
rows in a stable order, gzip without a timestamp or file name.
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
TERM_TYPE_ORDER = {"preferred": 0, "synonym": 1, "exclusion": 2}


def default_terminology_path() -> Path:
    """Return the path of the embedded default concept table (KCD-9, Korean and English names)."""
    return Path(__file__).resolve().parent / "data" / DEFAULT_FILE


def load_default_terminology() -> pd.DataFrame:
    """Return the embedded default concept table (columns of :data:`corpora.table.COLUMNS`)."""
    return read_concepts(default_terminology_path())


def write_deterministic_tsv_gz(table: pd.DataFrame, path: str | Path) -> Path:
    """Write a concept table as ``.tsv.gz`` whose bytes depend only on the rows (gzip mtime 0, no file name).

    Rows are sorted stably by code, then term type (preferred, synonym, exclusion), keeping source order within.
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


def build_default(masterfile: str | Path, out: str | Path | None = None, progress: Callable[[int], None] | None = None):
    """Rebuild the default table from the KCD masterfile into ``out`` (the embedded file by default).

    The read report is saved beside it (``kcd_concepts.report.json``) without timing and folder, so that file is
    reproducible too. Returns ``(path written, read report)``.
    """
    from dataclasses import replace

    from corpora.kcd import read_kcd
    from corpora.report import save_reports

    table, report = read_kcd(masterfile, progress)
    target = write_deterministic_tsv_gz(table, out or default_terminology_path())
    save_reports([replace(report, path=Path(masterfile).name, seconds=0.0)], target)
    return target, report
