"""Reading xlsx workbooks as streams of rows: open safely, find a sheet by its header, map header names to columns.

Shared by the KCD masterfile and HIRA EDI readers. Sheets are read with openpyxl's read-only mode (streaming);
header names are compared without whitespace (``"질병분류\\n코드"`` == ``"질병분류코드"``).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from corpora.errors import InputError

HEADER_SEARCH_ROWS = 10


def header_key(value: Any) -> str:
    """Return a header cell's text without any whitespace, for tolerant comparison."""
    return "".join(str(value).split()) if value is not None else ""


def cell_text(value: Any) -> str:
    """Return a cell as stripped text ("" for empty cells; whole floats without ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def open_workbook(path: str | Path):
    """Open an xlsx workbook read-only; InputError if it is missing or not a readable workbook."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    source = Path(path)
    if not source.exists():
        raise InputError(source, "file not found")
    if source.stat().st_size == 0:
        raise InputError(source, "file is empty: expected an xlsx workbook")
    try:
        return openpyxl.load_workbook(source, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as error:
        raise InputError(
            source, f"not a readable xlsx workbook ({error.__class__.__name__}): expected an .xlsx file"
        ) from error


def find_header(
    path: str | Path, workbook, required: Iterable[str], max_col: int = 30
) -> tuple[Any, int, dict[str, int]]:
    """Return ``(sheet, header row number, {header key: column index})`` of the first sheet holding ``required``.

    InputError names the file and the expected columns when no sheet has them.
    """
    wanted = [header_key(name) for name in required]
    for sheet in workbook.worksheets:
        try:
            rows = sheet.iter_rows(min_row=1, max_row=HEADER_SEARCH_ROWS, max_col=max_col, values_only=True)
            for number, row in enumerate(rows, start=1):
                keys = {header_key(value): index for index, value in enumerate(row) if value is not None}
                if all(name in keys for name in wanted):
                    return sheet, number, keys
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
            raise InputError(path, f"unreadable sheet ({error.__class__.__name__})", sheet=sheet.title) from error
    raise InputError(path, f"no sheet has a header row with the columns {', '.join(wanted)}")


def iter_sheet_rows(path: str | Path, sheet, start_row: int, max_col: int) -> Iterator[tuple[int, tuple]]:
    """Yield ``(row number, cell values)`` from ``start_row`` on; InputError names the sheet if it breaks."""
    try:
        yield from enumerate(sheet.iter_rows(min_row=start_row, max_col=max_col, values_only=True), start=start_row)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise InputError(path, f"unreadable sheet ({error.__class__.__name__})", sheet=sheet.title) from error
