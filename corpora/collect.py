"""Turning source terms into concept-table rows: normalisation, language, per-code de-duplication.

Readers hand every term string to one :class:`ConceptCollector`; it expands the string into its normalised
variants (:func:`corpora.normalize.name_variants`), drops names the code already has, and builds the table.
"""

from __future__ import annotations

import pandas as pd

from corpora.normalize import detect_lang, name_variants
from corpora.report import ReadReport
from corpora.table import concept_frame


class ConceptCollector:
    """Accumulates concept-table rows of one source, at most one row per (code, name)."""

    def __init__(self, source: str, report: ReadReport) -> None:
        self.source = source
        self.report = report
        self._rows: list[dict[str, str]] = []
        self._seen: set[tuple[str, str]] = set()

    def add(
        self,
        code: str,
        text: str,
        *,
        term_type: str,
        concept_type: str,
        lang: str | None = None,
        source: str | None = None,
        parent: str = "",
        chapter: str = "",
    ) -> int:
        """Add the normalised names of ``text`` to ``code``; return how many new rows were added.

        The first variant keeps ``term_type``; further variants of a preferred name become synonyms. ``lang``
        defaults to the detected language of each name, ``source`` to the collector's.
        """
        added = 0
        for index, name in enumerate(name_variants(text)):
            key = (code, name)
            if key in self._seen:
                self.report.counts["duplicate names merged"] += 1
                continue
            self._seen.add(key)
            kind = term_type if index == 0 or term_type != "preferred" else "synonym"
            self._rows.append(
                {
                    "code": code,
                    "name": name,
                    "original": text.strip(),
                    "lang": lang or detect_lang(name),
                    "source": source or self.source,
                    "term_type": kind,
                    "concept_type": concept_type,
                    "parent": parent,
                    "chapter": chapter,
                }
            )
            added += 1
        return added

    def frame(self) -> pd.DataFrame:
        """Return the collected rows as a concept table (columns of :data:`corpora.table.COLUMNS`)."""
        return concept_frame(self._rows)
