"""The concept table: one row per (code, name), the common currency of every stage.

Every reader (KCD, KOSTOM, UMLS, HIRA, generic files) produces this table; pretraining draws pairs from it, the
linker indexes its names, the benchmarks link queries against it. Columns:

``code``          concept identifier in its terminology (``K74.6``, ``C0023890``, ``N05CC01``)
``name``          the normalised name that is encoded and matched
``original``      the string as it stood in the source, before normalisation (kept so normalisation is auditable)
``lang``          ``ko``, ``en`` or ``other``
``source``        where the row came from (``kcd``, ``kostom``, ``umls:SNOMEDCT_US``, ``hira-edi``...)
``term_type``     ``preferred``, ``synonym``, ``exclusion`` (a KCD exclusion term moved to its real code),
                  ``abbreviation``...
``concept_type``  what kind of concept the code is (``disease``, ``procedure``, ``drug``, ``lab``...): the linker's
                  entity label
``parent``        parent code where the source has a hierarchy, else empty
``chapter``       chapter/section where the source has one, else empty
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from corpora.errors import InputError

COLUMNS: tuple[str, ...] = (
    "code",
    "name",
    "original",
    "lang",
    "source",
    "term_type",
    "concept_type",
    "parent",
    "chapter",
)
REQUIRED: tuple[str, ...] = ("code", "name")
LANGS: frozenset[str] = frozenset({"ko", "en", "other"})


def concept_frame(rows: Iterable[Mapping[str, str]]) -> pd.DataFrame:
    """Return a concept table (all columns, string dtype, missing optional fields as "") from row mappings."""
    frame = pd.DataFrame(list(rows), columns=list(COLUMNS))
    return conform(frame)


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with exactly the table's columns in order, as strings, empty strings for missing values."""
    out = frame.copy()
    for column in COLUMNS:
        if column not in out.columns:
            out[column] = ""
    out = out[list(COLUMNS)].astype(object).fillna("").astype(str)
    if out.empty or (out["original"] == "").any():
        out["original"] = out["original"].where(out["original"] != "", out["name"])
    return out.reset_index(drop=True)


def write_concepts(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a concept table to ``.parquet`` or ``.tsv``/``.tsv.gz`` (chosen by suffix), atomically."""
    from corpora.files import atomic_file

    target = Path(path)
    frame = conform(frame)
    if target.suffix == ".parquet":
        with atomic_file(target, "wb") as handle:
            frame.to_parquet(handle, index=False, compression="zstd")
    elif target.name.endswith((".tsv", ".tsv.gz")):
        compression = "gzip" if target.name.endswith(".gz") else None
        # read_concepts reads without quoting (QUOTE_NONE): write the same way, with tabs/newlines made spaces
        frame = frame.replace(r"[\t\r\n]", " ", regex=True)
        with atomic_file(target, "wb") as handle:
            frame.to_csv(
                handle, sep="\t", index=False, compression=compression, lineterminator="\n", quoting=csv.QUOTE_NONE
            )
    else:
        raise InputError(target, "unknown concept-table format: expected a .parquet, .tsv or .tsv.gz file name")
    return target


def read_concepts(path: str | Path) -> pd.DataFrame:
    """Read a concept table written by :func:`write_concepts` (``.parquet``, ``.tsv``, ``.tsv.gz``) and check it."""
    source = Path(path)
    if not source.exists():
        raise InputError(source, "concept table not found")
    if source.suffix == ".parquet":
        frame = pd.read_parquet(source)
    elif source.name.endswith((".tsv", ".tsv.gz")):
        frame = pd.read_csv(source, sep="\t", dtype=str, keep_default_na=False, quoting=3)
    else:
        raise InputError(source, "unknown concept-table format: expected .parquet, .tsv or .tsv.gz")
    missing = [column for column in REQUIRED if column not in frame.columns]
    if missing:
        raise InputError(source, f"not a concept table: missing column(s) {', '.join(missing)}")
    frame = conform(frame)
    if frame.empty:
        raise InputError(source, "concept table is empty")
    empty = frame.index[(frame["code"] == "") | (frame["name"] == "")]
    if len(empty):
        raise InputError(source, "empty code or name", row=int(empty[0]) + 1)
    return frame
