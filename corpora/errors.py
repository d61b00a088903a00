"""The one error type for bad input files, so every stage reports file, place and expectation the same way."""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """A user-supplied file is unreadable or malformed.

    The message names the file, the place in it (line, or sheet and row) and what was expected, so a user can
    fix the input without reading a traceback. The CLI turns it into a one-line error and a non-zero exit.
    """

    def __init__(
        self,
        path: str | Path,
        message: str,
        *,
        line: int | None = None,
        sheet: str | None = None,
        row: int | None = None,
    ) -> None:
        self.path = str(path)
        self.line = line
        self.sheet = sheet
        self.row = row
        self.reason = message
        where = self.path
        if sheet is not None:
            where += f", sheet {sheet!r}"
        if row is not None:
            where += f", row {row}"
        if line is not None:
            where += f", line {line}"
        super().__init__(f"{where}: {message}")
