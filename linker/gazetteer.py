"""Find dictionary names in running text, on characters, so mentions inside Korean words are found exactly.

Korean attaches particles to nouns ("간경화가" = 간경화 + 가) and tokenizers split words differently alone than in
context, so names are matched on the characters of the text, not on tokens: an Aho-Corasick automaton over
normalised names (lower case, single spaces; Korean names also without spaces), leftmost-longest, with word
boundaries enforced for Latin letters and digits ("HCC" never matches inside "HCCs", "2형 당뇨병" never inside
"제2형 당뇨병"). Offsets refer to the original text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

MIN_LENGTH = 2  # one-character names ("위", "간") match inside too many words
SHORT_HANGUL = 3  # Hangul names shorter than this must start a word


@dataclass(frozen=True)
class NameMatch:
    """A dictionary name found in a text: character offsets into the original text and the name that matched."""

    start: int
    end: int
    name: str


def is_hangul(char: str) -> bool:
    """Return True for Hangul syllables and jamo."""
    return "\uac00" <= char <= "\ud7a3" or "\u1100" <= char <= "\u11ff" or "\u3130" <= char <= "\u318f"


def is_latin_or_digit(char: str) -> bool:
    """Return True for ASCII letters and digits, the characters whose runs form English words and codes."""
    return char.isascii() and char.isalnum()


def normalise_name(name: str) -> str:
    """Return the matching form of a name: NFC, lower case, whitespace collapsed to single spaces, stripped."""
    return " ".join(unicodedata.normalize("NFC", name).lower().split())


def normalise_text(text: str) -> tuple[str, list[int]]:
    """Return the matching form of ``text`` and, per character of it, the offset of its source character.

    Each character is lower-cased on its own (kept when lower-casing would change its length) and each run of
    whitespace becomes one space, so every normalised character maps back to exactly one original offset.
    """
    chars: list[str] = []
    origin: list[int] = []
    previous_space = False
    for offset, char in enumerate(text):
        if char.isspace():
            if previous_space:
                continue
            previous_space = True
            chars.append(" ")
        else:
            previous_space = False
            lower = char.lower()
            chars.append(lower if len(lower) == 1 else char)
        origin.append(offset)
    return "".join(chars), origin


def name_keys(name: str) -> list[str]:
    """Return the keys a name is matched by: its normalised form, and for Korean names also without spaces."""
    key = normalise_name(name)
    if len(key) < MIN_LENGTH or not any(char.isalpha() for char in key):
        return []
    keys = [key]
    if " " in key and any(is_hangul(char) for char in key):
        keys.append(key.replace(" ", ""))
    return keys


class Gazetteer:
    """An Aho-Corasick automaton over dictionary names; :meth:`find` returns leftmost-longest matches."""

    def __init__(self, names: Iterable[str]) -> None:
        import ahocorasick

        self._automaton = ahocorasick.Automaton()
        for name in names:
            for key in name_keys(name):
                if key not in self._automaton:
                    self._automaton.add_word(key, (len(key), name))
        self.size = len(self._automaton)
        if self.size:
            self._automaton.make_automaton()

    def find(self, text: str) -> list[NameMatch]:
        """Return the non-overlapping dictionary names in ``text``, leftmost-longest, in text order."""
        if not self.size or not text:
            return []
        normal, origin = normalise_text(text)
        hits = []
        for last, (length, name) in self._automaton.iter(normal):
            start = origin[last - length + 1]
            end = origin[last] + 1
            if _at_boundaries(text, start, end, length):
                hits.append((start, -end, name))
        hits.sort()
        matches: list[NameMatch] = []
        for start, negative_end, name in hits:
            if matches and start < matches[-1].end:
                continue
            matches.append(NameMatch(start, -negative_end, name))
        return matches


def _at_boundaries(text: str, start: int, end: int, length: int) -> bool:
    """Return True when a match does not cut a Latin/digit word, start a word with a digit or Latin letter glued to
    a preceding word ("2형" inside "제2형"), nor start inside a Korean word when short."""
    first, last = text[start], text[end - 1]
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    if is_latin_or_digit(first) and before.isalnum():
        return False
    if is_latin_or_digit(last) and is_latin_or_digit(after):
        return False
    return not (is_hangul(first) and is_hangul(before) and length < SHORT_HANGUL)
