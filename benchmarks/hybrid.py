"""Hybrid of a dense and a character n-gram system (BioSyn combines both: they tend to miss different queries).

A code's hybrid score is ``weight * dense + (1 - weight) * sparse`` over the union of both systems' top
``POOL`` codes; a code one system did not return gets that system's lowest returned score (its true score is at
most that). The weight is chosen on dev queries only (:func:`choose_weight`), never on a test set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.metrics import hit_rank
from benchmarks.ranking import RankingSystem
from corpora.queries import Query
from linker.index import Candidate

POOL = 20
WEIGHT_GRID = tuple(step / 10 for step in range(11))


def combine(dense: list[Candidate], sparse: list[Candidate], weight: float, top_k: int) -> list[Candidate]:
    """Return the ``top_k`` codes of two candidate lists by the weighted sum of their scores, best first."""
    dense_scores = {candidate.code: candidate.score for candidate in dense}
    sparse_scores = {candidate.code: candidate.score for candidate in sparse}
    dense_floor = min(dense_scores.values(), default=0.0)
    sparse_floor = min(sparse_scores.values(), default=0.0)
    names = {candidate.code: candidate.name for candidate in [*sparse, *dense]}
    scored = [
        Candidate(
            code,
            names[code],
            weight * dense_scores.get(code, dense_floor) + (1 - weight) * sparse_scores.get(code, sparse_floor),
        )
        for code in names
    ]
    scored.sort(key=lambda candidate: -candidate.score)
    return scored[:top_k]


@dataclass(frozen=True)
class WeightChoice:
    """The chosen dense weight and the dev acc@1 (exact-code convention) of every weight tried."""

    weight: float
    dev_acc1: dict[float, float]
    dev_queries: int


def choose_weight(
    dense: RankingSystem, sparse: RankingSystem, dev: Sequence[Query], grid: Sequence[float] = WEIGHT_GRID
) -> WeightChoice:
    """Return the weight in ``grid`` with the best dev acc@1 (ties: the larger dense weight), from dev queries only."""
    if not dev:
        raise ValueError("choosing the hybrid weight needs dev queries")
    mentions = [query.mention for query in dev]
    dense_ranked, sparse_ranked = dense.rank(mentions, POOL), sparse.rank(mentions, POOL)
    dev_acc1 = {}
    for weight in grid:
        hits = sum(
            hit_rank([candidate.code for candidate in combine(d, s, weight, 1)], query.codes) == 1
            for d, s, query in zip(dense_ranked, sparse_ranked, dev, strict=True)
        )
        dev_acc1[float(weight)] = hits / len(dev)
    best = max(dev_acc1, key=lambda weight: (dev_acc1[weight], weight))
    return WeightChoice(best, dev_acc1, len(dev))


class HybridSystem:
    """Dense and sparse scores summed with a weight fixed beforehand (see :func:`choose_weight`)."""

    def __init__(self, name: str, dense: RankingSystem, sparse: RankingSystem, weight: float) -> None:
        self.name = name
        self.dense = dense
        self.sparse = sparse
        self.weight = weight

    def rank(self, mentions: Sequence[str], top_k: int) -> list[list[Candidate]]:
        """Return per mention the ``top_k`` codes by the weighted dense + sparse score."""
        pool = max(POOL, top_k)
        dense_ranked, sparse_ranked = self.dense.rank(mentions, pool), self.sparse.rank(mentions, pool)
        return [combine(d, s, self.weight, top_k) for d, s in zip(dense_ranked, sparse_ranked, strict=True)]
