"""The proposal threshold of an index: how high a phrase proposed from tokens must score to count as a mention.

Every noun-like phrase of a note is proposed, and each one's best dense-retrieval score decides whether it is kept.
Scores are not comparable across models (an untrained encoder scores everything near 0.9; a SapBERT-trained one
spreads them out), so a fixed threshold is wrong for all but one model. Instead each index is calibrated against
phrases that name no concept: ``linker/data/non_mentions.txt`` (hand-written common words of clinical notes:
환자, 병력, 호소, admission, liver...). The threshold is the :data:`QUANTILE` of their best scores, rounded up to
0.01: a proposal is kept only when it scores higher than 95% of such words do. Phrases that are themselves
dictionary names are left out (the gazetteer, not the threshold, decides about those).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from linker.index import DictionaryIndex

NON_MENTIONS_FILE = Path(__file__).resolve().parent / "data" / "non_mentions.txt"
QUANTILE = 0.95


def non_mentions(path: str | Path = NON_MENTIONS_FILE) -> list[str]:
    """Return the calibration phrases of ``path`` (one per line; blank lines and ``#`` comments skipped)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def calibrate_threshold(index: DictionaryIndex, phrases: list[str] | None = None, quantile: float = QUANTILE) -> float:
    """Return the proposal threshold for ``index``: the ``quantile`` of the best scores of ``phrases`` that are
    not dictionary names (default: :func:`non_mentions`), rounded up to two decimals."""
    from linker.gazetteer import normalise_name

    names = {normalise_name(name) for name in index.names["name"]}
    candidates = [phrase for phrase in (phrases or non_mentions()) if normalise_name(phrase) not in names]
    if not candidates:
        raise ValueError("no calibration phrase is left once dictionary names are removed")
    scores = [found[0].score if found else -1.0 for found in index.search(candidates, 1)]
    return math.ceil(float(np.quantile(scores, quantile)) * 100 - 1e-6) / 100
