"""Where mentions come from: dictionary names in the text, phrases proposed from tokens, or an upstream NER.

Each source yields :class:`Mention` objects (character offsets plus the string to search the index with). Token
proposals are noun-like word sequences and uppercase abbreviations; the component keeps them only when their best
dense-retrieval score clears its threshold, so proposing generously costs encoder time, not precision.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from spacy.tokens import Doc, Token

from linker.gazetteer import Gazetteer

SOURCES = ("gazetteer", "proposals", "ents")
# Kiwi tags of nouns, roots, affixes, numbers and foreign words: the pieces of a medical noun phrase.
NOUN_TAGS = frozenset({"NNG", "NNP", "NNB", "NR", "XR", "XPN", "XSN", "SL", "SH", "SN"})
ABBREVIATION = re.compile(r"^[A-Z][A-Za-z0-9]*[A-Z0-9]$")
WORD = re.compile(r"[A-Za-z\uac00-\ud7a3]")
STOP_WORDS = frozenset(
    {"a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "into", "is", "it", "its"}
    | {"no", "not", "of", "on", "or", "s", "the", "to", "was", "were", "with"}
    # Korean nouns of time and listing: "후 출혈" (after - bleeding) is not a finding, "수술 후" not a procedure
    | {"후", "전", "중", "시", "때", "등", "및"}
)


@dataclass(frozen=True)
class Mention:
    """A candidate mention: offsets in the text, the query string for the index, its source and upstream label."""

    start: int
    end: int
    query: str
    source: str
    label: str = ""


def gazetteer_mentions(doc: Doc, gazetteer: Gazetteer) -> list[Mention]:
    """Return dictionary names found in the text; each is searched as the dictionary's own name (exact match)."""
    return [Mention(m.start, m.end, m.name, "gazetteer") for m in gazetteer.find(doc.text)]


def upstream_mentions(doc: Doc) -> list[Mention]:
    """Return the entities an upstream component put in ``doc.ents``, with their labels."""
    return [Mention(ent.start_char, ent.end_char, ent.text, "ents", ent.label_) for ent in doc.ents]


def token_proposals(doc: Doc, max_words: int = 3) -> list[Mention]:
    """Return noun-like sequences of up to ``max_words`` words, and every uppercase abbreviation, as mentions.

    A word is a run of noun-like tokens with no space between them ("제2형" = 제 + 2 + 형). With Kiwi tags the
    noun-like tokens are nouns, roots, affixes, numbers and foreign words; without tags (spaCy's rule tokenizer,
    ``spacy.blank("xx")``) they are tokens containing a letter. Stop words (English function words; Korean 후, 전,
    중, 등...) neither start nor end a phrase.
    """
    tagged = any(token.tag_ for token in doc)
    text = doc.text
    proposals: dict[tuple[int, int], Mention] = {}
    for run in _word_runs(doc, text, tagged):
        for size in range(1, max_words + 1):
            for first in range(len(run) - size + 1):
                words = run[first : first + size]
                if words[0][2] or words[-1][2]:
                    continue
                start, end = words[0][0], words[-1][1]
                phrase = text[start:end]
                if WORD.search(phrase) and len(phrase) >= 2:
                    proposals[(start, end)] = Mention(start, end, phrase, "proposals")
    for token in doc:
        if ABBREVIATION.match(token.text) and (token.idx, token.idx + len(token)) not in proposals:
            start = token.idx
            proposals[(start, start + len(token))] = Mention(start, start + len(token), token.text, "proposals")
    return sorted(proposals.values(), key=lambda mention: (mention.start, mention.end))


def _word_runs(doc: Doc, text: str, tagged: bool) -> Iterator[list[tuple[int, int, bool]]]:
    """Yield runs of adjacent words as (start, end, is_stop_word); a run breaks at any non-noun-like token."""
    run: list[tuple[int, int, bool]] = []
    word_start = word_end = -1
    for token in doc:
        if not _noun_like(token, tagged):
            if word_start >= 0:
                run.append(_word(text, word_start, word_end))
                word_start = -1
            if run:
                yield run
                run = []
            continue
        if word_start >= 0 and token.idx == word_end:
            word_end = token.idx + len(token)
            continue
        if word_start >= 0:
            run.append(_word(text, word_start, word_end))
            if "\n" in text[word_end : token.idx]:
                yield run
                run = []
        word_start, word_end = token.idx, token.idx + len(token)
    if word_start >= 0:
        run.append(_word(text, word_start, word_end))
    if run:
        yield run


def _word(text: str, start: int, end: int) -> tuple[int, int, bool]:
    return start, end, text[start:end].lower() in STOP_WORDS


def _noun_like(token: Token, tagged: bool) -> bool:
    if token.is_space or token.is_punct:
        return False
    if tagged:
        return any(tag in NOUN_TAGS for tag in token.tag_.split("+"))
    return bool(WORD.search(token.text)) or token.like_num
