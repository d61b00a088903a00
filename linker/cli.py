"""Command-line commands of the linker stage, added to the `sapbert` application."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the root `sapbert` application."""
