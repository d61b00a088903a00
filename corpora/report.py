"""What a reader did: rows read, rows kept, rows skipped by rule (counted by reason), time taken.

Every reader returns one :class:`ReadReport` beside its concept table, so nothing is silently dropped: the build
command prints it and saves it next to the table, ``sapbert corpora stats`` shows it again.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ReadReport:
    """Counts of one read: ``skipped`` maps a reason to the number of source rows skipped for it.

    ``counts`` holds further figures a reader wants to state (e.g. ``inclusion rows``, ``exclusion terms attached``).
    """

    source: str
    path: str
    rows_read: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def skip(self, reason: str, count: int = 1) -> None:
        """Count ``count`` source rows skipped for ``reason``."""
        self.skipped[reason] += count

    def to_dict(self) -> dict:
        """Return the report as plain JSON-ready data."""
        return {
            "source": self.source,
            "path": self.path,
            "rows_read": self.rows_read,
            "skipped": dict(sorted(self.skipped.items())),
            "counts": dict(sorted(self.counts.items())),
            "seconds": round(self.seconds, 2),
        }

    def format(self) -> str:
        """Return a short human-readable summary (several lines) for the terminal."""
        lines = [f"{self.source}: {self.path}: {self.rows_read} rows read in {self.seconds:.1f} s"]
        lines += [f"  {name}: {value}" for name, value in sorted(self.counts.items())]
        if self.skipped:
            lines.append(f"  skipped rows: {sum(self.skipped.values())}")
            lines += [f"    {reason}: {value}" for reason, value in sorted(self.skipped.items())]
        return "\n".join(lines)


def report_path(table_path: str | Path) -> Path:
    """Return where a concept table's build reports are saved (``concepts.parquet`` -> ``concepts.report.json``)."""
    table = Path(table_path)
    name = table.name
    for suffix in (".tsv.gz", ".parquet", ".tsv"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return table.with_name(f"{name}.report.json")


def save_reports(reports: list[ReadReport], table_path: str | Path) -> Path:
    """Save the reports of a build beside its table (see :func:`report_path`) and return that path."""
    from corpora.files import atomic_file

    target = report_path(table_path)
    with atomic_file(target) as handle:
        json.dump([report.to_dict() for report in reports], handle, ensure_ascii=False, indent=2)
        handle.write("\n")
    return target


def load_reports(table_path: str | Path) -> list[dict]:
    """Return the saved build reports of a table, or an empty list where none were saved."""
    target = report_path(table_path)
    if not target.exists():
        return []
    return json.loads(target.read_text(encoding="utf-8"))
