"""pretrain stage: the shared Encoder and SapBERT self-alignment pretraining.

``from pretrain import MultiSimilarityLoss`` works, yet importing the package stays light: the loss (and torch) is
loaded on first use, so ``sapbert --help`` does not pay for it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MultiSimilarityLoss"]


def __getattr__(name: str) -> Any:
    if name == "MultiSimilarityLoss":
        from pretrain.loss import MultiSimilarityLoss

        return MultiSimilarityLoss
    raise AttributeError(f"module 'pretrain' has no attribute {name!r}")
