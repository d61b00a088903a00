"""Placeholder: commands arrive with their stage's work."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add these commands to the root `sapbert` application."""
