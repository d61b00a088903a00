"""Comparison keys for English medical names from different sources (KCD, ICD-10-CM, abbreviation inventories).

KCD writes British English (``Gastro-oesophageal``, ``haemorrhage``, ``behaviour``, ``goitre``), ICD-10-CM and the
abbreviation inventories American English; names also differ in hyphens, apostrophes and plurals. Two keys:

- :func:`english_key`: the whole name as one string, for "is this the same name" (exact match after spelling
  normalisation; spaces, hyphens and punctuation ignored, ``NOS`` dropped).
- :func:`content_words`: the set of meaningful words, for "do these two names say the same thing" (function words
  and generic qualifiers such as ``other``/``unspecified``/``site`` ignored, plurals folded). Contrastive words
  (``without``, ``not``, ``non...``) are content words on purpose.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[a-z0-9]+")
_POSSESSIVE = re.compile(r"['’]s\b")
# British "oe" only where it is one (oesophagus, lymphoedema, foetus, diarrhoea, apnoea, amoeba, coeliac):
# American "gastroesophageal" and "gastroenteritis" keep their o
_BRITISH_OE = re.compile(
    r"^oe|oe(?=dem)|(?<=a)oe(?=soph)|(?<=^f)oe(?=t)|(?<=rrh)oe|(?<=pn)oe|(?<=m)oe(?=b)|(?<=c)oe(?=li)"
)
IGNORED_WORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "or",
        "of",
        "the",
        "in",
        "on",
        "to",
        "by",
        "for",
        "due",
        "as",
        "at",
        "from",
        "with",
        "nos",
        "nec",
        "other",
        "unspecified",
        "specified",
        "classified",
        "elsewhere",
        "chapter",
        "site",
        "part",
        "region",
        "unknown",
    }
)


def _spelling(word: str) -> str:
    """American spelling of a (lower-case) word: ``oesophagus`` -> ``esophagus``, ``behaviour`` -> ``behavior``."""
    word = _BRITISH_OE.sub("e", word).replace("ae", "e").replace("ll", "l")
    if word.endswith("our") and len(word) > 4:
        word = word[:-3] + "or"
    if word.endswith("tre") and len(word) > 4:
        word = word[:-3] + "ter"
    return word


def english_words(text: str) -> list[str]:
    """Return the words of ``text`` in order: NFKC, case-folded, possessive ``'s`` dropped, American spelling."""
    text = _POSSESSIVE.sub("", unicodedata.normalize("NFKC", text).casefold())
    return [_spelling(word) for word in _WORD.findall(text)]


def english_key(text: str) -> str:
    """Return the key under which two English names are the same name (spacing, hyphens, ``NOS`` ignored)."""
    return "".join(word for word in english_words(text) if word != "nos")


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and len(word) > 3 and not word.endswith(("ss", "is", "us")):
        return word[:-1]
    return word


def content_words(text: str) -> frozenset[str]:
    """Return the meaningful words of ``text`` (singular, American spelling), ignoring :data:`IGNORED_WORDS`."""
    words = (_singular(word) for word in english_words(text))
    return frozenset(word for word in words if word not in IGNORED_WORDS)


_MORPHOLOGY_AFTER_PREFIX = re.compile(
    r"^malignant neoplasm of (.*(?:carcinoma|sarcoma|blastoma|hepatoma|mesothelioma))$", re.IGNORECASE
)
_UNSPECIFIED = re.compile(
    r"^unspecified (.+)$|^(.+?),? (?:(?:site|part|organism|type) )?(?:unspecified|not specified)$", re.IGNORECASE
)


def kcd_name_forms(name: str) -> list[str]:
    """Return a KCD English name and the plain form KCD's wording hides, if any.

    KCD writes some malignant morphologies as ``Malignant neoplasm of hepatocellular carcinoma``; the plain name
    (``hepatocellular carcinoma``) is what other sources (ICD-10-CM, abbreviation senses) say.
    """
    match = _MORPHOLOGY_AFTER_PREFIX.match(name.strip())
    return [name, match.group(1)] if match else [name]


def without_unspecified(name: str) -> str | None:
    """Return ``X`` for ``Unspecified X`` / ``X, unspecified`` (the KCD code for an unqualified X), else None."""
    match = _UNSPECIFIED.match(name.strip())
    return (match.group(1) or match.group(2)).strip() if match else None
