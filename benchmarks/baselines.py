"""The baselines a user could pick instead of an encoder: exact match after normalisation, and character 3-gram
TF-IDF nearest neighbour (scispaCy's candidate generator: 3-grams within word boundaries, cosine similarity).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from benchmarks.ranking import CodeCollapser
from corpora.normalize import clean_text
from corpora.splits import match_key
from linker.index import Candidate

if TYPE_CHECKING:
    import pandas as pd

TFIDF_CHUNK = 128


def dictionary_names(concepts: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Return the distinct (codes, names) pairs of a concept table as two parallel lists, in table order."""
    pairs = concepts[["code", "name"]].astype(str).drop_duplicates()
    pairs = pairs[(pairs["code"] != "") & (pairs["name"].str.strip() != "")]
    return pairs["code"].tolist(), pairs["name"].tolist()


class ExactMatchSystem:
    """Exact dictionary look-up of the normalised mention; every code with that name scores 1, in table order.

    Normalisation is the corpora split's match key (NFKC, case-folded, spaces and punctuation removed): Korean
    spacing and English hyphenation vary freely, anything else must match character for character. The term-level
    split holds out only names whose key their code does not keep, so this baseline scores 0 on held-out synonyms
    by construction: it shows the queries are not string duplicates.
    """

    name = "exact"

    def __init__(self, concepts: pd.DataFrame) -> None:
        self._by_key: dict[str, list[Candidate]] = defaultdict(list)
        for code, name in zip(*dictionary_names(concepts), strict=True):
            found = self._by_key[match_key(name)]
            if all(candidate.code != code for candidate in found):
                found.append(Candidate(code, name, 1.0))

    def rank(self, mentions: Sequence[str], top_k: int) -> list[list[Candidate]]:
        """Return the codes whose normalised name equals the normalised mention (empty when none does)."""
        return [list(self._by_key.get(match_key(mention), []))[:top_k] for mention in mentions]


class TfidfSystem:
    """Character 3-gram TF-IDF (within word boundaries, ``char_wb``) nearest neighbours by cosine, per code."""

    name = "tfidf"

    def __init__(self, concepts: pd.DataFrame, ngram: int = 3) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        codes, names = dictionary_names(concepts)
        self._vectorizer = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(ngram, ngram),
            preprocessor=lambda text: clean_text(text).casefold(),
            dtype=np.float32,
        )
        self._matrix = self._vectorizer.fit_transform(names).T.tocsr()
        self._collapser = CodeCollapser(codes, names)

    def scores(self, mentions: Sequence[str]) -> np.ndarray:
        """Return the cosine of each mention's TF-IDF vector with every dictionary name ``[mentions, names]``."""
        return (self._vectorizer.transform(list(mentions)) @ self._matrix).toarray()

    def rank(self, mentions: Sequence[str], top_k: int) -> list[list[Candidate]]:
        """Return per mention the ``top_k`` codes whose best name is closest in character 3-grams (none share: none)."""
        results: list[list[Candidate]] = []
        for start in range(0, len(mentions), TFIDF_CHUNK):
            chunk = list(mentions[start : start + TFIDF_CHUNK])
            ranked = self._collapser.top(self.scores(chunk), top_k)
            results.extend([candidate for candidate in found if candidate.score > 0] for found in ranked)
        return results
