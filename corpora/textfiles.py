"""Streaming text files of unknown encoding (UTF-8 or the Korean cp949) line by line, with line numbers.

Korean terminology files (KOSTOM, HIRA masters) are often distributed in cp949; the same files re-saved are UTF-8.
The encoding is decided from the start of the file and every line is decoded on its own, so a huge file streams
and a line in the wrong encoding is reported with its number.
"""

from __future__ import annotations

import codecs
import csv
import gzip
from collections.abc import Iterator
from pathlib import Path

from corpora.errors import InputError

SNIFF_BYTES = 1 << 20
ENCODINGS = ("utf-8", "cp949")


def _open_binary(path: Path):
    return gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")


def detect_encoding(path: str | Path, encoding: str = "auto") -> str:
    """Return ``encoding``, or for ``auto`` the first of UTF-8 and cp949 that decodes the file's first megabyte."""
    source = Path(path)
    if not source.exists():
        raise InputError(source, "file not found")
    if encoding != "auto":
        try:
            codecs.lookup(encoding)
        except LookupError as error:
            raise InputError(source, f"unknown encoding {encoding!r}: expected e.g. utf-8 or cp949") from error
        return encoding
    with _open_binary(source) as handle:
        head = handle.read(SNIFF_BYTES)
    if not head.strip():
        raise InputError(source, "file is empty: expected a header line and rows")
    for candidate in ENCODINGS:
        try:
            codecs.getincrementaldecoder(candidate)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return "utf-8-sig" if candidate == "utf-8" else candidate
    raise InputError(source, "undecodable text: expected UTF-8 or cp949", line=1)


def iter_lines(path: str | Path, encoding: str = "auto") -> Iterator[tuple[int, str]]:
    """Yield ``(line number, text without line ending)`` for each line; InputError names the undecodable line."""
    source = Path(path)
    chosen = detect_encoding(source, encoding)
    with _open_binary(source) as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode(chosen if number == 1 else chosen.replace("-sig", ""))
            except UnicodeDecodeError as error:
                raise InputError(
                    source,
                    f"cannot decode byte {error.start} as {chosen}: expected one encoding throughout "
                    "(choose it with --encoding, e.g. cp949)",
                    line=number,
                ) from error
            yield number, text.rstrip("\r\n")


def iter_delimited(path: str | Path, delimiter: str, encoding: str = "auto") -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line number, fields)`` of a delimited file; quoted fields (CSV) are honoured for ``,``.

    Tab- and pipe-separated files are split plainly (their fields are never quoted in the sources read here).
    """
    lines = iter_lines(path, encoding)
    if delimiter != ",":
        for number, text in lines:
            yield number, text.split(delimiter)
        return
    for number, text in lines:
        if text.count('"') % 2:
            raise InputError(path, "unbalanced double quote: expected one CSV record per line", line=number)
        yield number, next(csv.reader([text]))
