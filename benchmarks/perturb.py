"""Robustness test sets: deterministic perturbations of held-out names, each keeping its gold codes.

Clinical notes rarely spell a term as the dictionary does: Korean spacing varies, particles stick to nouns
(``간경변이``), Hanja glosses come and go, English case and hyphenation change, fingers slip. Each perturbation
applies where it can (a Korean particle only to a Korean name); the rest are counted as not applicable. The random
choices depend only on the seed, the perturbation and the mention, so a query set perturbs identically on any
machine and in any order.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from corpora.queries import Query

_HANGUL_BASE, _HANGUL_LAST = 0xAC00, 0xD7A3
_VOWELS, _FINALS = 21, 28
_HANJA = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
_PARTICLES = {True: ("이", "은", "을", "과"), False: ("가", "는", "를", "와")}  # by: ends in a final consonant
_NEUTRAL_PARTICLES = ("의", "에", "도")


def _is_syllable(char: str) -> bool:
    return _HANGUL_BASE <= ord(char) <= _HANGUL_LAST


def remove_spaces(text: str, rng: random.Random) -> str | None:
    """Return ``text`` with every space removed (``급성 심근경색`` -> ``급성심근경색``), None without spaces."""
    return "".join(text.split()) if " " in text.strip() else None


def add_space(text: str, rng: random.Random) -> str | None:
    """Return ``text`` with one space inserted between two letters inside a word, None for one-letter words."""
    places = [i for i in range(1, len(text)) if text[i - 1].isalpha() and text[i].isalpha()]
    if not places:
        return None
    place = rng.choice(places)
    return text[:place] + " " + text[place:]


def attach_particle(text: str, rng: random.Random) -> str | None:
    """Return a Korean name with a case particle glued on, chosen by its final consonant, else None."""
    last = text.rstrip()[-1:] if text.strip() else ""
    if not last or not _is_syllable(last):
        return None
    has_final = (ord(last) - _HANGUL_BASE) % _FINALS != 0
    return text.rstrip() + rng.choice(_PARTICLES[has_final] + _NEUTRAL_PARTICLES)


def remove_hanja(text: str, rng: random.Random) -> str | None:
    """Return ``text`` without its Hanja (and the parentheses they leave empty), None when it has none."""
    if not _HANJA.search(text):
        return None
    stripped = re.sub(r"\(\s*\)|\[\s*\]", "", _HANJA.sub("", text))
    stripped = " ".join(stripped.split())
    return stripped or None


def change_case(text: str, rng: random.Random) -> str | None:
    """Return an English name in another letter case (upper, lower or title), None without Latin letters."""
    if not _LATIN.search(text):
        return None
    options = [variant for variant in (text.upper(), text.lower(), text.title()) if variant != text]
    return rng.choice(options) if options else None


def change_hyphenation(text: str, rng: random.Random) -> str | None:
    """Return an English name with one hyphen made a space, or one space between words made a hyphen."""
    if not _LATIN.search(text):
        return None
    places = [i for i, char in enumerate(text) if char in " -" and 0 < i < len(text) - 1]
    if not places:
        return None
    place = rng.choice(places)
    return text[:place] + ("-" if text[place] == " " else " ") + text[place + 1 :]


def _substitute(char: str, rng: random.Random) -> str:
    if _is_syllable(char):
        offset = ord(char) - _HANGUL_BASE
        initial, vowel, final = offset // (_VOWELS * _FINALS), (offset // _FINALS) % _VOWELS, offset % _FINALS
        vowel = rng.choice([v for v in range(_VOWELS) if v != vowel])
        return chr(_HANGUL_BASE + (initial * _VOWELS + vowel) * _FINALS + final)
    letters = string.ascii_uppercase if char.isupper() else string.ascii_lowercase
    return rng.choice([letter for letter in letters if letter != char])


def one_typo(text: str, rng: random.Random) -> str | None:
    """Return ``text`` with one slip: a letter dropped, doubled, swapped with the next, or mistyped (Hangul: vowel)."""
    letters = [i for i, char in enumerate(text) if _is_syllable(char) or char in string.ascii_letters]
    if len(letters) < 3:
        return None
    place = rng.choice(letters)
    kind = rng.choice(("drop", "double", "swap", "substitute"))
    if kind == "drop":
        return text[:place] + text[place + 1 :]
    if kind == "double":
        return text[:place] + text[place] + text[place:]
    if kind == "swap" and place + 1 < len(text) and text[place + 1] != text[place]:
        return text[:place] + text[place + 1] + text[place] + text[place + 2 :]
    return text[:place] + _substitute(text[place], rng) + text[place + 1 :]


PERTURBATIONS: dict[str, Callable[[str, random.Random], str | None]] = {
    "spaces-removed": remove_spaces,
    "space-added": add_space,
    "particle": attach_particle,
    "hanja-removed": remove_hanja,
    "case": change_case,
    "hyphenation": change_hyphenation,
    "typo": one_typo,
}


@dataclass(frozen=True)
class PerturbedSet:
    """One perturbation's queries (gold codes unchanged) and how many source queries it could not apply to."""

    kind: str
    queries: list[Query]
    not_applicable: int


def perturb(queries: Sequence[Query], kind: str, seed: int = 13) -> PerturbedSet:
    """Return ``kind``'s perturbed copy of every query it applies to (same gold codes), deterministic by ``seed``."""
    if kind not in PERTURBATIONS:
        raise ValueError(f"unknown perturbation {kind!r}: expected one of {', '.join(PERTURBATIONS)}")
    change = PERTURBATIONS[kind]
    perturbed, skipped = [], 0
    for query in queries:
        text = change(query.mention, random.Random(f"{seed}|{kind}|{query.mention}"))
        if text is None or not text.strip() or text == query.mention:
            skipped += 1
        else:
            perturbed.append(Query(text, query.codes))
    return PerturbedSet(kind, perturbed, skipped)
