"""Accuracy metrics of a ranked code list against gold codes: acc@1, acc@5 and MRR, under two hit conventions.

``code``      a prediction hits when it equals one of the gold codes (several gold codes are all acceptable);
``category``  a prediction hits when its 3-character category (``K74.6`` -> ``K74``) equals a gold code's category.

SapBERT, BioSyn and scispaCy report acc@k against a dictionary the same way; the category convention shows how
many misses are near misses (a sibling code of the same disease group).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

CONVENTIONS: dict[str, str] = {
    "code": "exact code: a prediction counts when it equals one of the gold codes",
    "category": "same 3-character category: a prediction counts when its first 3 characters equal a gold code's",
}
MRR_DEPTH = 10


def category(code: str) -> str:
    """Return the 3-character category of a KCD/ICD-10 code (``K74.6`` -> ``K74``), the coarse hit unit."""
    return code.strip()[:3]


def hit_rank(predicted: Sequence[str], gold: Iterable[str], convention: str = "code") -> int | None:
    """Return the 1-based rank of the first prediction that hits a gold code under ``convention``, else None."""
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown hit convention {convention!r}: expected one of {', '.join(CONVENTIONS)}")
    if convention == "code":
        targets = {code.strip() for code in gold}
        keys = [code.strip() for code in predicted]
    else:
        targets = {category(code) for code in gold}
        keys = [category(code) for code in predicted]
    return next((rank for rank, key in enumerate(keys, start=1) if key in targets), None)


@dataclass(frozen=True)
class Accuracy:
    """acc@1, acc@5 and MRR (reciprocal rank of the first hit within the top ``MRR_DEPTH``) over ``queries``."""

    queries: int
    acc1: float
    acc5: float
    mrr: float


def accuracy(
    predictions: Sequence[Sequence[str]], golds: Sequence[Iterable[str]], convention: str = "code"
) -> Accuracy:
    """Return acc@1, acc@5 and MRR@10 of ranked code lists against their gold codes (one pair per query)."""
    if len(predictions) != len(golds):
        raise ValueError(f"{len(predictions)} prediction lists for {len(golds)} queries")
    if not predictions:
        raise ValueError("no queries to score")
    ranks = [
        hit_rank(list(ranked)[:MRR_DEPTH], gold, convention) for ranked, gold in zip(predictions, golds, strict=True)
    ]
    count = len(ranks)
    return Accuracy(
        queries=count,
        acc1=sum(rank == 1 for rank in ranks) / count,
        acc5=sum(rank is not None and rank <= 5 for rank in ranks) / count,
        mrr=sum(1.0 / rank for rank in ranks if rank is not None) / count,
    )
