"""Describing a concept table: codes, names per language and source, synonyms per code, skipped rows."""

from __future__ import annotations

import pandas as pd

HISTOGRAM_BINS = ((1, 1), (2, 2), (3, 3), (4, 5), (6, 10), (11, 20), (21, 50), (51, None))


def synonyms_histogram(table: pd.DataFrame) -> list[tuple[str, int]]:
    """Return ``(bin label, number of codes)`` for the number of distinct names per code."""
    per_code = table.drop_duplicates(subset=["code", "name"]).groupby("code").size()
    rows = []
    for low, high in HISTOGRAM_BINS:
        mask = per_code >= low if high is None else (per_code >= low) & (per_code <= high)
        label = f"{low}+" if high is None else str(low) if low == high else f"{low}-{high}"
        rows.append((label, int(mask.sum())))
    return rows


def describe(table: pd.DataFrame, reports: list[dict] | None = None) -> str:
    """Return a multi-line summary of ``table`` and, where given, the skipped rows of its build reports."""
    names = table.drop_duplicates(subset=["code", "name"])
    langs_per_code = names.groupby("code")["lang"].agg(lambda langs: frozenset(langs))
    lines = [
        f"codes: {names['code'].nunique()}",
        f"names: {len(names)}",
        f"codes with Korean and English names: {int(langs_per_code.map(lambda s: {'ko', 'en'} <= s).sum())}",
        "names per language:",
    ]
    lines += [f"  {lang}: {count}" for lang, count in names.groupby("lang").size().items()]
    lines.append("names per source and term type:")
    for (source, term_type), count in names.groupby(["source", "term_type"]).size().items():
        lines.append(f"  {source} {term_type}: {count}")
    lines.append("names per concept type:")
    lines += [f"  {kind or '(none)'}: {count}" for kind, count in names.groupby("concept_type").size().items()]
    lines.append("distinct names per code (codes):")
    lines += [f"  {label}: {count}" for label, count in synonyms_histogram(table)]
    for report in reports or []:
        lines.append(f"build report {report['source']} ({report['path']}): {report['rows_read']} rows read")
        lines += [f"  {name}: {value}" for name, value in report.get("counts", {}).items()]
        skipped = report.get("skipped", {})
        if skipped:
            lines.append(f"  dropped rows: {sum(skipped.values())}")
            lines += [f"    {reason}: {value}" for reason, value in skipped.items()]
    return "\n".join(lines)
