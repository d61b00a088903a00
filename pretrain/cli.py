"""Command-line commands of the pretrain stage, added to the `sapbert` application.

Encoding commands (``similarity``, ``encode``) live in :mod:`pretrain.encode_cli`, training (``pretrain``) in
:mod:`pretrain.train_cli`, re-training the shipped default model (``pretrain-default``) in
:mod:`pretrain.default_model_cli`, vocabulary pruning (``prune-vocab``) in :mod:`pretrain.prune_vocab`.
"""

from __future__ import annotations

import typer

from pretrain.default_model_cli import register as register_default_model
from pretrain.encode_cli import register as register_encode
from pretrain.prune_vocab import register as register_prune_vocab
from pretrain.train_cli import register as register_train


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the root `sapbert` application."""
    register_encode(app)
    register_train(app)
    register_default_model(app)
    register_prune_vocab(app)
