"""Term normalisation: map isolated mentions ("간경화", "T2DM") to their best codes in a dictionary index."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from linker.index import Candidate, DictionaryIndex

if TYPE_CHECKING:
    from pretrain.encoder import Encoder


class Linker:
    """A dictionary index plus its encoder: ``Linker(index_dir).normalize(["간경화"], top_k=5)``."""

    def __init__(
        self,
        index_dir: str | Path | None = None,
        *,
        encoder: Encoder | None = None,
        index: DictionaryIndex | None = None,
    ) -> None:
        if index is None:
            if index_dir is None:
                raise ValueError("give an index folder (or use Linker.from_default())")
            index = DictionaryIndex.load(index_dir, encoder)
        self.index = index

    @classmethod
    def from_default(cls, model: str | None = None) -> Linker:
        """Return the linker on the embedded default (built into the user cache on first use)."""
        from linker.default import default_index

        return cls(index=default_index(model))

    def normalize(self, mentions: Sequence[str], top_k: int = 5, batch_size: int = 256) -> list[list[Candidate]]:
        """Return, per mention and in input order, up to ``top_k`` distinct codes with name and score, best first."""
        return self.index.search(list(mentions), top_k, batch_size=batch_size)
