"""Query files: mentions with their gold codes, the format shared by splits, pretraining evaluation and benchmarks.

Two layouts are read:

- TSV with the header ``mention<TAB>code``; several gold codes of one mention are joined by ``|``
  (``간경화<TAB>K74.6|K74.1``). This is the form :func:`write_queries` writes.
- SapBERT / XL-BEL lines ``CODE||mention`` (several codes joined by ``|``: ``K74.6|K74.1||간경화``), no header.

The layout is recognised from the first non-empty line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from corpora.errors import InputError

HEADER = ("mention", "code")
CODE_SEPARATOR = "|"
SAPBERT_SEPARATOR = "||"


@dataclass(frozen=True)
class Query:
    """One mention to link and the gold code(s) it may be linked to (any of them counts as correct)."""

    mention: str
    codes: tuple[str, ...]


def _split_codes(field: str) -> tuple[str, ...]:
    return tuple(code.strip() for code in field.split(CODE_SEPARATOR) if code.strip())


def _read_text(path: Path) -> list[str]:
    if not path.exists():
        raise InputError(path, "query file not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(path, f"not UTF-8 text (byte {error.start}): expected a UTF-8 query file") from error
    return text.splitlines()


def _parse_tsv(path: Path, lines: list[str], start: int) -> list[Query]:
    queries: list[Query] = []
    for number, line in enumerate(lines[start + 1 :], start=start + 2):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 2:
            raise InputError(path, f"expected 2 tab-separated fields (mention, code), found {len(fields)}", line=number)
        mention, codes = fields[0].strip(), _split_codes(fields[1])
        if not mention or not codes:
            raise InputError(path, "expected a non-empty mention and at least one code", line=number)
        queries.append(Query(mention, codes))
    return queries


def _parse_sapbert(path: Path, lines: list[str], start: int) -> list[Query]:
    queries: list[Query] = []
    for number, line in enumerate(lines[start:], start=start + 1):
        if not line.strip():
            continue
        if SAPBERT_SEPARATOR not in line:
            raise InputError(path, "expected 'CODE||mention' (codes joined by '|')", line=number)
        code_field, mention = line.split(SAPBERT_SEPARATOR, 1)
        codes, mention = _split_codes(code_field), mention.strip()
        if not mention or not codes:
            raise InputError(path, "expected a non-empty mention and at least one code in 'CODE||mention'", line=number)
        queries.append(Query(mention, codes))
    return queries


def read_queries(path: str | Path) -> list[Query]:
    """Return the queries of a ``mention<TAB>code`` TSV (with header) or a SapBERT ``CODE||mention`` file.

    Raises InputError (file + line + expectation) on a malformed line or an empty file.
    """
    source = Path(path)
    lines = _read_text(source)
    start = next((index for index, line in enumerate(lines) if line.strip()), None)
    if start is None:
        raise InputError(source, "query file is empty: expected a 'mention<TAB>code' header or 'CODE||mention' lines")
    first = lines[start]
    if tuple(field.strip().lower() for field in first.split("\t")) == HEADER:
        queries = _parse_tsv(source, lines, start)
    elif SAPBERT_SEPARATOR in first:
        queries = _parse_sapbert(source, lines, start)
    else:
        raise InputError(
            source,
            "unknown query format: expected a 'mention<TAB>code' header or 'CODE||mention' lines",
            line=start + 1,
        )
    if not queries:
        raise InputError(source, "query file has a header but no queries")
    return queries


def write_queries(queries: Iterable[Query], path: str | Path) -> Path:
    """Write queries as the ``mention<TAB>code`` TSV (codes joined by ``|``), atomically; return the path."""
    from corpora.files import atomic_file

    target = Path(path)
    with atomic_file(target, "w") as handle:
        handle.write("\t".join(HEADER) + "\n")
        for query in queries:
            mention = " ".join(query.mention.split())
            if not mention or not query.codes:
                raise ValueError(f"query needs a mention and at least one code: {query!r}")
            if any(CODE_SEPARATOR in code or "\t" in code for code in query.codes):
                raise ValueError(f"a code may not contain '|' or a tab: {query.codes!r}")
            handle.write(f"{mention}\t{CODE_SEPARATOR.join(query.codes)}\n")
    return target
