"""Command-line commands of the pretrain stage, added to the `sapbert` application.

Encoding commands (``similarity``, ``encode``) live in :mod:`pretrain.encode_cli`, training (``pretrain``) in
:mod:`pretrain.train_cli`.
"""

from __future__ import annotations

import typer

from pretrain.encode_cli import register as register_encode
from pretrain.train_cli import register as register_train


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the root `sapbert` application."""
    register_encode(app)
    register_train(app)
