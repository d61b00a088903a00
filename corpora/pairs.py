"""SapBERT training pairs: pairs of names of the same code, written as ``sent0<TAB>sent1<TAB>label``.

All unordered pairs of a code's distinct names are candidates; a code with more than ``max_pairs`` candidates
gets a random sample of ``max_pairs`` of them. Each code's sample is drawn from its own generator seeded with
``"<seed>:<code>"``, so the pairs of one code do not change when other codes are added or removed.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from corpora.files import atomic_file

HEADER = ("sent0", "sent1", "label")
DEFAULT_MAX_PAIRS = 50
DEFAULT_SEED = 42
PAIRED_LANGS = frozenset({"ko", "en"})


def code_pairs(
    names: list[tuple[str, str]], code: str, *, max_pairs: int, seed: int, cross_language_only: bool
) -> list[tuple[str, str]]:
    """Return the sampled name pairs of one code from its ``(name, lang)`` list (distinct names, input order).

    ``cross_language_only`` keeps pairs of a Korean and an English name only.
    """
    candidates = [
        (first, second)
        for (first, first_lang), (second, second_lang) in itertools.combinations(names, 2)
        if not cross_language_only or {first_lang, second_lang} == PAIRED_LANGS
    ]
    if len(candidates) <= max_pairs:
        return candidates
    chosen = sorted(random.Random(f"{seed}:{code}").sample(range(len(candidates)), max_pairs))
    return [candidates[index] for index in chosen]


def iter_pairs(
    table: pd.DataFrame,
    *,
    max_pairs: int = DEFAULT_MAX_PAIRS,
    seed: int = DEFAULT_SEED,
    cross_language_only: bool = False,
) -> Iterator[tuple[str, str, str]]:
    """Yield ``(sent0, sent1, code)`` training pairs of a concept table, codes in first-appearance order."""
    if max_pairs < 1:
        raise ValueError("max_pairs must be at least 1")
    distinct = table.drop_duplicates(subset=["code", "name"])
    for code, group in distinct.groupby("code", sort=False):
        names = list(zip(group["name"], group["lang"], strict=True))
        for first, second in code_pairs(
            names, str(code), max_pairs=max_pairs, seed=seed, cross_language_only=cross_language_only
        ):
            yield first, second, str(code)


def write_pairs(pairs: Iterator[tuple[str, str, str]], path: str | Path) -> int:
    """Write pairs as the tab-separated ``sent0, sent1, label`` file with header (atomically); return the count."""
    count = 0
    with atomic_file(path) as handle:
        handle.write("\t".join(HEADER) + "\n")
        for pair in pairs:
            handle.write("\t".join(" ".join(field.split()) for field in pair) + "\n")
            count += 1
    return count
