"""The interface every benchmarked system implements, and the step they share: name scores -> best distinct codes.

A system ranks codes for mentions: ``rank(mentions, top_k)`` returns, per mention, up to ``top_k`` distinct
:class:`linker.index.Candidate` (code, best-matching name, score), best first, exactly what the linker's index
returns, so baselines and encoders are scored by the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from linker.index import Candidate


class RankingSystem(Protocol):
    """Anything that ranks dictionary codes for mentions (exact match, TF-IDF, an encoder, a hybrid)."""

    name: str

    def rank(self, mentions: Sequence[str], top_k: int) -> list[list[Candidate]]:
        """Return per mention up to ``top_k`` distinct codes, best first."""
        ...


class CodeCollapser:
    """Turns a (mentions x dictionary names) score matrix into each mention's best distinct codes.

    A code scores as its best name (max over its names), as in SapBERT's and scispaCy's dictionary look-up.
    """

    def __init__(self, codes: Sequence[str], names: Sequence[str]) -> None:
        codes_array = np.asarray(codes, dtype=object)
        self._order = np.argsort(codes_array.astype(str), kind="stable")
        sorted_codes = codes_array[self._order]
        boundaries = np.flatnonzero(sorted_codes[1:] != sorted_codes[:-1]) + 1
        self._starts = np.concatenate([[0], boundaries]).astype(np.int64)
        self._ends = np.append(self._starts[1:], len(sorted_codes))
        self.codes = [str(code) for code in sorted_codes[self._starts]]
        self._names = np.asarray(names, dtype=object)[self._order]

    def top(self, scores: np.ndarray, top_k: int) -> list[list[Candidate]]:
        """Return per row of ``scores`` (one column per dictionary name) the ``top_k`` best codes with scores."""
        ordered = np.asarray(scores, dtype=np.float32)[:, self._order]
        per_code = np.maximum.reduceat(ordered, self._starts, axis=1)
        k = min(top_k, per_code.shape[1])
        best = np.argpartition(-per_code, k - 1, axis=1)[:, :k]
        results = []
        for row, chosen in enumerate(best):
            chosen = chosen[np.argsort(-per_code[row, chosen], kind="stable")]
            found = []
            for code_index in chosen:
                start, end = self._starts[code_index], self._ends[code_index]
                name_index = start + int(np.argmax(ordered[row, start:end]))
                found.append(
                    Candidate(self.codes[code_index], str(self._names[name_index]), float(per_code[row, code_index]))
                )
            results.append(found)
        return results
