"""Find dictionary names in running text, on characters, so mentions inside Korean words are found exactly.

Korean attaches particles to nouns ("간경화가" = 간경화 + 가) and tokenizers split words differently alone than in
context, so names are matched on the characters of the text, not on tokens: an Aho-Corasick automaton over
normalised names (lower case, single spaces; Korean names also without spaces), leftmost-longest, with word
boundaries enforced for Latin letters and digits ("HCC" never matches inside "HCCs", "2형 당뇨병" never inside
"제2형 당뇨병"). Offsets refer to the original text.

Variants a name is also found by (:func:`name_keys`): Korean type numbers with 제 ("2형 당뇨병" also as
"제2형 당뇨병", the usual written form) and two-word English "X of Y" names as "Y X" ("Cirrhosis of liver" also as
"liver cirrhosis"). Abbreviations written with two or more capitals in one word (HCC, T2DM, WAS) match only as
written, so the English word "was" is never Wiskott-Aldrich syndrome.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

MIN_LENGTH = 2  # one-character names ("위", "간") match inside too many words
SHORT_HANGUL = 3  # Hangul names shorter than this must start a word
TYPE_NUMBER = re.compile(r"(?<![제0-9])([0-9]+형)")
TWO_WORDS_OF = re.compile(r"^([a-z][a-z-]+) of ([a-z][a-z-]+)$")


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
    """Return the keys a name is matched by: its normalised form, for Korean names also without spaces, and the
    variants of the module docstring (제 before a type number, "X of Y" as "Y X")."""
    key = normalise_name(name)
    if len(key) < MIN_LENGTH or not any(char.isalpha() for char in key):
        return []
    forms = [key]
    if any(is_hangul(char) for char in key):
        if TYPE_NUMBER.search(key):
            forms.append(TYPE_NUMBER.sub(r"제\1", key))
        forms += [form.replace(" ", "") for form in forms if " " in form]
    elif match := TWO_WORDS_OF.match(key):
        forms.append(f"{match.group(2)} {match.group(1)}")
    return forms


def is_case_exact(name: str) -> bool:
    """Return True for abbreviation-like names (one word, two or more capitals: HCC, T2DM) that match only as
    written."""
    return " " not in name.strip() and sum(char.isupper() for char in name) >= 2


class Gazetteer:
    """An Aho-Corasick automaton over dictionary names; :meth:`find` returns leftmost-longest matches."""

    def __init__(self, names: Iterable[str]) -> None:
        import ahocorasick

        self._automaton = ahocorasick.Automaton()
        for name in names:
            exact = is_case_exact(name)
            for key in name_keys(name):
                if key not in self._automaton or (self._automaton.get(key)[2] and not exact):
                    self._automaton.add_word(key, (len(key), name, exact))
        self.size = len(self._automaton)
        if self.size:
            self._automaton.make_automaton()

    def find(self, text: str) -> list[NameMatch]:
        """Return the non-overlapping dictionary names in ``text``, leftmost-longest, in text order."""
        if not self.size or not text:
            return []
        normal, origin = normalise_text(text)
        hits = []
        for last, (length, name, exact) in self._automaton.iter(normal):
            start = origin[last - length + 1]
            end = origin[last] + 1
            if exact and text[start:end] != name:
                continue
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
