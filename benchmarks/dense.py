"""Dense systems: an encoder (the offline base, or any trained model folder) searched through the linker's index.

Benchmarks encode the same strings many times (one dictionary for several test sets, perturbed copies of the
same queries); :class:`CachedEncoder` embeds each distinct string once per process.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm.auto import tqdm

from linker.index import Candidate

if TYPE_CHECKING:
    import pandas as pd

    from linker.index import DictionaryIndex
    from pretrain.encoder import Encoder


class CachedEncoder:
    """An :class:`~pretrain.encoder.Encoder` that remembers every vector it produced (same API, same vectors).

    With ``store`` (a folder), vectors are also saved there in chunks as they are computed and loaded back by the
    next run: a benchmark interrupted on a slow CPU resumes instead of re-encoding 100k dictionary names. The
    folder should be specific to the model's fingerprint (:func:`vector_store`).
    """

    def __init__(self, encoder: Encoder, store: Path | None = None, chunk: int = 2048) -> None:
        self.encoder = encoder
        self.store = store
        self.chunk = chunk
        self._vectors: dict[str, np.ndarray] = {}
        if store is not None:
            for part in sorted(store.glob("chunk-*.npz")):
                with np.load(part, allow_pickle=False) as saved:
                    self._vectors.update(zip(saved["texts"].tolist(), saved["vectors"], strict=True))

    def __getattr__(self, attribute: str):
        return getattr(self.encoder, attribute)

    def encode(self, texts: Sequence[str], batch_size: int = 64, show_progress: bool | None = None) -> np.ndarray:
        """Return the encoder's L2-normalised vectors of ``texts``, encoding only strings not seen before."""
        texts = [str(text) for text in texts]
        missing = list(dict.fromkeys(text for text in texts if text not in self._vectors))
        for start in tqdm(range(0, len(missing), self.chunk), desc="encoding", unit="chunk", disable=not show_progress):
            part = missing[start : start + self.chunk]
            vectors = self.encoder.encode(part, batch_size=batch_size, show_progress=False)
            self._vectors.update(zip(part, vectors, strict=True))
            if self.store is not None:
                self._save(part, vectors)
        if not texts:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        return np.stack([self._vectors[text] for text in texts])

    def _save(self, texts: list[str], vectors: np.ndarray) -> None:
        from corpora.files import atomic_file

        self.store.mkdir(parents=True, exist_ok=True)
        number = len(list(self.store.glob("chunk-*.npz")))
        with atomic_file(self.store / f"chunk-{number:06d}.npz", "wb") as handle:
            np.savez(handle, texts=np.asarray(texts, dtype=str), vectors=vectors)


def vector_store(encoder: Encoder) -> Path:
    """Return the user-cache folder of saved benchmark vectors for this exact model (weights, tokenizer, settings)."""
    from corpora.files import user_cache_dir

    return user_cache_dir() / "bench-vectors" / encoder.fingerprint()


def load_cached_encoder(model: str, persistent: bool = False) -> CachedEncoder:
    """Return the encoder of ``model`` (folder, hub or short name) with a vector cache (saved to disk if asked)."""
    from linker.index import load_encoder

    encoder = load_encoder(model)
    return CachedEncoder(encoder, vector_store(encoder) if persistent else None)


class DenseSystem:
    """Nearest dictionary names by cosine of encoder embeddings, through :class:`linker.index.DictionaryIndex`."""

    def __init__(
        self, name: str, encoder: CachedEncoder, concepts: pd.DataFrame, kind: str = "flat", batch_size: int = 256
    ) -> None:
        from linker.index import DictionaryIndex

        self.name = name
        self.batch_size = batch_size
        self.index: DictionaryIndex = DictionaryIndex.build(
            encoder, concepts, kind=kind, batch_size=batch_size, model_name=name, calibrate=False
        )

    def rank(self, mentions: Sequence[str], top_k: int) -> list[list[Candidate]]:
        """Return per mention the ``top_k`` codes whose best name embeds closest to the mention."""
        return self.index.search(list(mentions), top_k, batch_size=self.batch_size)
