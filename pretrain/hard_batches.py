"""Batches of lexically confusable concepts: every batch brings its own hard negatives.

With random batches of 64 pairs out of tens of thousands of codes, a name almost never meets the names that look
like it but mean something else (간경화증 hepatic sclerosis and 간암 liver cancer share 간; "cirrhosis of liver" and
"cancer of liver" share most characters). The Multi-Similarity loss then never learns that shared characters are
not a shared concept. Here codes are grouped with their nearest neighbours by character n-gram TF-IDF over all
their names (Korean and English together), and each batch is filled with whole groups, one pair per code.
"""

from __future__ import annotations

import re

import numpy as np

NEIGHBOURS = 16
WORD = re.compile(r"\w+")


def character_ngrams(text: str) -> list[str]:
    """Return the character 1–3-grams inside each word of ``text`` (lower-cased; never across a space)."""
    grams = []
    for word in WORD.findall(text.lower()):
        grams.extend(word[start : start + size] for size in (1, 2, 3) for start in range(len(word) - size + 1))
    return grams


def lexical_neighbours(names_by_code: list[list[str]], neighbours: int = NEIGHBOURS, chunk: int = 2048) -> np.ndarray:
    """Return ``[n_codes, k]`` indices of each code's most similar other codes, most similar first.

    A code's text is all its names; similarity is the cosine of character 1–3-gram TF-IDF vectors, so codes
    sharing characters in either language are neighbours whatever they mean. ``k`` is ``neighbours`` capped at
    ``n_codes - 1``. A row whose code shares no n-gram with enough others is padded with ``-1``.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    count = len(names_by_code)
    k = min(neighbours, count - 1)
    documents = [" | ".join(names) for names in names_by_code]
    vectors = TfidfVectorizer(analyzer=character_ngrams, sublinear_tf=True, dtype=np.float32)
    matrix = vectors.fit_transform(documents)
    result = np.full((count, k), -1, dtype=np.int64)
    for start in range(0, count, chunk):
        scores = (matrix[start : start + chunk] @ matrix.T).toarray()
        rows = np.arange(scores.shape[0])
        scores[rows, rows + start] = -1.0  # never one's own neighbour
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k] if k else np.empty((len(rows), 0), dtype=np.int64)
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        top[np.take_along_axis(scores, top, axis=1) <= 0] = -1
        result[start : start + len(rows)] = top
    return result


def neighbour_groups(neighbours: np.ndarray, group_size: int, rng: np.random.Generator) -> list[list[int]]:
    """Partition the codes into groups of at most ``group_size`` lexical neighbours; return the groups.

    Codes are visited in a random order; an unassigned code starts a group and takes its nearest still-unassigned
    neighbours. Every code lands in exactly one group; a different ``rng`` gives different groups (every epoch
    regroups, so a code meets different confusable codes).
    """
    assigned = np.zeros(len(neighbours), dtype=bool)
    groups: list[list[int]] = []
    for seed in rng.permutation(len(neighbours)).tolist():
        if assigned[seed]:
            continue
        group = [seed]
        assigned[seed] = True
        for other in neighbours[seed].tolist():
            if len(group) == group_size:
                break
            if other >= 0 and not assigned[other]:
                group.append(other)
                assigned[other] = True
        groups.append(group)
    return groups


class HardBatchSampler:
    """Deterministic batches of pair indices made of groups of lexically similar codes, one pair per code.

    Every epoch the codes are regrouped (:func:`neighbour_groups`); each group contributes "rounds" — one not yet
    used pair of each of its codes — until its codes' pairs run out. Rounds are shuffled and concatenated and cut
    into batches of ``batch_size`` pairs (a round can straddle two batches), so a batch holds several whole groups
    of confusable codes. The incomplete last batch is dropped. Same interface as
    :class:`pretrain.data.PairBatchSampler`: epoch ``e`` always gives the same batches for the same seed.
    """

    def __init__(
        self, labels: np.ndarray, names_by_code: list[list[str]], batch_size: int, group_size: int, seed: int = 0
    ) -> None:
        if batch_size < 1 or group_size < 2:
            raise ValueError("batch_size must be at least 1 and group_size at least 2")
        if len(labels) < batch_size:
            raise ValueError(
                f"the training data has {len(labels)} pairs, fewer than one batch ({batch_size}): lower the batch size"
            )
        self.labels = np.asarray(labels)
        self.batch_size = batch_size
        self.group_size = group_size
        self.seed = seed
        self.neighbours = lexical_neighbours(names_by_code)
        if self.labels.min() < 0 or self.labels.max() >= len(names_by_code):
            raise ValueError("every label must index names_by_code")
        by_code = np.argsort(self.labels, kind="stable")
        self.pairs_of_code = np.split(by_code, np.cumsum(np.bincount(self.labels, minlength=len(names_by_code)))[:-1])

    def __len__(self) -> int:
        return len(self.labels) // self.batch_size

    def batches(self, epoch: int) -> list[np.ndarray]:
        """Return the batches (arrays of pair indices) of ``epoch``, the same on every call and every process."""
        rng = np.random.default_rng([self.seed, epoch])
        rounds: list[np.ndarray] = []
        for group in neighbour_groups(self.neighbours, self.group_size, rng):
            shuffled = [rng.permutation(self.pairs_of_code[code]) for code in group]
            for turn in range(max(len(pairs) for pairs in shuffled)):
                chosen = [pairs[turn] for pairs in shuffled if turn < len(pairs)]
                rounds.append(np.array(chosen, dtype=np.int64))
        order = np.concatenate([rounds[i] for i in rng.permutation(len(rounds))])
        return [
            order[start : start + self.batch_size] for start in range(0, len(self) * self.batch_size, self.batch_size)
        ]
