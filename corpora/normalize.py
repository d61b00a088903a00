"""Name normalisation: the one place that turns a terminology string into the name(s) that are encoded and matched.

Rules, applied in this order (the source string is always kept as ``original`` in the table):

1. Unicode NFKC (``Ⅲ`` -> ``III``, full-width letters -> ASCII), whitespace collapsed.
2. Code references removed: a parenthesised group holding only codes (``(K70.3)``, ``(G01*)``, ``(A50.5†, A52.7†)``,
   ``(C00-D48†)``, ``(K50.-†)``), wherever it stands; then trailing ``†``/``*``/``+`` marks.
3. The token ``NOS`` ("not otherwise specified") removed.
4. Parenthesised groups that are glosses in another script (Hanja in a Korean name, ``(猶豫加療)``; Latin inside a
   Korean name, ``(CIN)``) and groups listing alternatives (``(mellitus, nonobese, obese)``) are dropped.
5. The remaining parenthesised words are optional: the variant *without* them is always produced, the variant
   *with* them (parentheses removed) too when no group is glued to a following Hangul syllable (``난로(독립형)에``
   has only the variant ``난로에``) and no groups are nested. ``"(간) 경변증 NOS"`` -> ``"간 경변증"``, ``"경변증"``.
"""

from __future__ import annotations

import re
import unicodedata

_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_LATIN = re.compile(r"[A-Za-z]")
_HANJA = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CODE = r"[A-Z]\d{2}(?:\.[\d_]*)?-?(?:\.-)?"
_CODE_ITEM = rf"{_CODE}\s*[†*+]?(?:\s*-\s*{_CODE}\s*[†*+]?)?"
_CODE_REFERENCE = re.compile(rf"\(\s*{_CODE_ITEM}(?:\s*,\s*{_CODE_ITEM})*\s*\)")
_TRAILING_REFERENCE = re.compile(rf"\(\s*({_CODE_ITEM}(?:\s*,\s*{_CODE_ITEM})*)\s*\)\s*[†*+]?\s*$")
_SINGLE_CODE = re.compile(r"^([A-Z]\d{2}(?:\.\d{1,3})?)(?:\.-|-)?\s*[†*+]?$")
_MARKS = re.compile(r"\s*[†‡*+]+\s*$")
_NOS = re.compile(r"(?<![\w-])NOS(?![\w-])")
_GROUP = re.compile(r"\(([^()]*)\)")
_GROUP_RUN = re.compile(r"(?:\([^()]*\))+")
_MULTI_GROUP_RUN = re.compile(r"\([^()]*\)(?:\s*\([^()]*\))+")
_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:\]])")
_SPACE_AFTER_OPEN = re.compile(r"\[\s+")
_EDGE_PUNCT = re.compile(r"^[\s,;:\-]+|[\s,;:\-]+$")
_EMPTY_PARENS = re.compile(r"\(\s*\)")


def clean_text(text: str) -> str:
    """Return ``text`` after NFKC and whitespace collapsing: the minimal, loss-free clean-up of any string."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def detect_lang(text: str) -> str:
    """Return ``ko`` if ``text`` has any Hangul, ``en`` if its letters are Latin only, else ``other``.

    Greek letters count as Latin here: English medical names use them as symbols (``α-1-Antitrypsin deficiency``).
    """
    if _HANGUL.search(text):
        return "ko"
    letters = [char for char in text if char.isalpha()]
    if letters and all(unicodedata.name(char, "").startswith(("LATIN", "GREEK")) for char in letters):
        return "en"
    return "other"


def trailing_code_reference(text: str) -> str | None:
    """Return the single code a trailing reference names (``"간경화(K74.6)"`` -> ``"K74.6"``), else None.

    ``(A02.-)`` and ``(K83.0-)`` name the code itself (``A02``, ``K83.0``); a range (``(T00-T06)``) or a list
    (``(W24, W28-W31)``) names no single code and gives None.
    """
    match = _TRAILING_REFERENCE.search(clean_text(text))
    if not match:
        return None
    single = _SINGLE_CODE.match(match.group(1).strip())
    return single.group(1) if single else None


def _tidy(text: str) -> str:
    text = _EMPTY_PARENS.sub(" ", text)
    text = _SPACES.sub(" ", text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = _SPACE_AFTER_OPEN.sub("[", text)
    text = re.sub(r",(?=\S)", ", ", text) if ", " in text else text
    return _EDGE_PUNCT.sub("", text).strip()


def without_groups(text: str) -> str:
    """Return ``text`` with every parenthesised group removed ("Rickets(active)(E55.0)" -> "Rickets"), tidied."""
    return _tidy(_GROUP_RUN.sub(" ", clean_text(text)))


def _is_gloss(inner: str, host_is_korean: bool) -> bool:
    """A group written in another script than its host name: a translation/gloss, not an optional word."""
    if _HANJA.search(inner) and not _HANGUL.search(inner):
        return True
    return host_is_korean and bool(_LATIN.search(inner)) and not _HANGUL.search(inner)


def _strip_references(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        text = _CODE_REFERENCE.sub(" ", text)
        text = _MARKS.sub("", text)
    return text


def name_variants(text: str) -> list[str]:
    """Return the normalised names of one terminology string, most complete first, without duplicates.

    An empty list means nothing name-like is left (e.g. the string was only a code reference).
    """
    base = _strip_references(clean_text(text))
    base = _SPACES.sub(" ", _NOS.sub(" ", base)).strip()
    host_is_korean = bool(_HANGUL.search(_GROUP.sub(" ", base)))

    def drop_non_optional(match: re.Match[str]) -> str:
        inner = match.group(1)
        if _is_gloss(inner, host_is_korean) or "," in inner or not inner.strip():
            return _removed(base, match)
        return match.group(0)

    previous = None
    while previous != base:  # drop glosses and alternative lists, innermost first
        previous = base
        base = _GROUP.sub(drop_non_optional, base)
    without = base
    while _GROUP.search(without):
        without = _GROUP_RUN.sub(lambda match, text=without: _removed(text, match), without)
    variants = []
    groups = list(_GROUP.finditer(base))
    nested = bool(re.search(r"\([^()]*\(", base))
    glued = any(match.end() < len(base) and _HANGUL.match(base[match.end()]) for match in groups)
    if groups and not nested and not glued:
        variants.extend(_with_optional_words(base))
    variants.append(without)
    unique: list[str] = []
    for variant in variants:
        variant = _tidy(variant.replace("(", " ").replace(")", " "))  # stray, unbalanced parentheses
        if variant and variant not in unique:
            unique.append(variant)
    return unique


def _with_optional_words(base: str) -> list[str]:
    """The variants that keep optional words: every group unwrapped, except in a run of consecutive groups.

    A run such as ``Hypertension (arterial) (benign) (essential)`` lists alternatives, not one phrase, so it yields
    one variant per alternative (``Hypertension arterial``, ``Hypertension benign``...); a name with several such
    runs yields none, since their combinations are not names.
    """
    runs = list(_MULTI_GROUP_RUN.finditer(base))
    if not runs:
        return [_GROUP.sub(lambda match: _unwrap(base, match), base)]
    if len(runs) > 1:
        return []
    run = runs[0]
    outside = base[: run.start()] + "\0" + base[run.end() :]
    outside = _GROUP.sub(lambda match: _unwrap(outside, match), outside)
    return [outside.replace("\0", f" {match.group(1)} ") for match in _GROUP.finditer(run.group(0))]


def _removed(text: str, match: re.Match[str]) -> str:
    """What a dropped group leaves: nothing before a glued Hangul particle (``단백뇨(고정된)를`` -> ``단백뇨를``)."""
    return "" if match.end() < len(text) and _HANGUL.match(text[match.end()]) else " "


def _unwrap(text: str, match: re.Match[str]) -> str:
    """The optional words of a group; one syllable glued to a Hangul syllable is a suffix (``간(의)`` -> ``간의``)."""
    glued = len(match.group(1)) == 1 and match.start() > 0 and bool(_HANGUL.match(text[match.start() - 1]))
    return match.group(1) if glued else f" {match.group(1)} "
