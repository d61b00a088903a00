"""Make character spans into exact token spans, splitting tokens where a mention ends inside one ("간경화가")."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from itertools import pairwise

from spacy.tokens import Doc


def split_at(doc: Doc, offsets: Iterable[int]) -> int:
    """Split every token that has one of ``offsets`` strictly inside it; return how many tokens were split.

    Afterwards every offset is a token boundary, so ``doc.char_span(start, end)`` finds each mention exactly.
    Sub-tokens keep the token's tag; only the last keeps its trailing whitespace.
    """
    cuts = sorted(set(offsets))
    plans = []
    for token in doc:
        start, end = token.idx, token.idx + len(token)
        inside = [offset - start for offset in cuts[bisect_right(cuts, start) : bisect_left(cuts, end)]]
        if inside:
            bounds = [0, *inside, len(token)]
            plans.append((token, [token.text[a:b] for a, b in pairwise(bounds)]))
    if plans:
        with doc.retokenize() as retokenizer:
            for token, pieces in plans:
                heads = [(token, index) for index in range(len(pieces))]
                retokenizer.split(token, pieces, heads=heads, attrs={"TAG": [token.tag_] * len(pieces)})
    return len(plans)
