"""English clinical abbreviations (HTN, DM, COPD...) as names of the codes their usual sense links to.

Korean clinical notes write English abbreviations inside Korean sentences, so the encoder should learn that ``HTN``
is hypertension. Source: the sense inventories of the Columbia Medical Abbreviation and Acronym Meta-Inventory
(:data:`ATTRIBUTION`, CC BY 4.0: attribution required; every row's ``source`` names its inventory).

Inventories (the real files' formats): Vanderbilt clinic notes and discharge summaries (TSV with header
``abbreviation sense variation CUI frequency``; ``s_p`` stands for ``s/p``, ``variation`` lists written forms with
counts ``S/P_3|s/p_16``), Stetson (TSV ``abbreviation sense frequency``, no header), Wikipedia (CSV ``abr,long_form``)
and Columbia obstetrics (``ABBR Expansion`` lines: the abbreviation runs up to the first capitalised word).

Rules:

- **Usual sense.** Within an inventory, senses with the same :func:`~corpora.english_keys.english_key` or a shared
  UMLS CUI are one sense; across inventories also two or more content words with the same stems (first
  :data:`STEM_CHARS` letters: ``urine output`` = ``urinary output``, but ``heparin`` != ``hepatitis``). An inventory
  with frequencies names its top sense; one without names a sense only when it lists a single one. An abbreviation
  keeps its usual sense only when every inventory that names one names the same, and that sense has at least
  :data:`DOMINANCE` of the frequency in every inventory with frequencies (``DM``: diabetes mellitus 0.98 and 0.99 ->
  kept; ``CVA``: 0.62 in clinic notes -> dropped; ``PE``: physical exam in clinic notes, pulmonary embolism in
  discharge summaries -> dropped). Abbreviations of under :data:`MIN_CHARS_WITHOUT_FREQUENCIES` characters that no
  inventory with frequencies lists are dropped: a single listed sense of ``TS`` or ``SO`` is no evidence that it is
  the usual one.
- **Link.** The sense links to a code when its English key equals, in this order (the first level that matches
  wins, :data:`LINK_LEVELS`): a complete English name of the target table (a KCD preferred name or synonym as
  written, ``NOS`` ignored, British/American spelling folded); a KCD ``Unspecified X`` / ``X, unspecified`` name
  read as ``X``; an ICD-10-CM term attached to KCD (:mod:`corpora.icd10cm`); last, a partial name (a variant
  without optional parenthesised words, or an exclusion term, which lost its context: ``Diabetes mellitus(O24.-)``).
  Several codes at one level link only when one is an ancestor of all the others (the general code is taken);
  otherwise the sense is ambiguous and dropped.
- :data:`EXCLUDED` lists abbreviations whose link is wrong in Korean clinical use despite the rules, with the reason.

Everything dropped is counted by reason in the per-inventory :class:`~corpora.report.ReadReport`.
"""

from __future__ import annotations

import csv
import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from corpora.english_keys import content_words, english_key, kcd_name_forms, without_unspecified
from corpora.errors import InputError
from corpora.normalize import clean_text, name_variants
from corpora.report import ReadReport
from corpora.table import concept_frame

ATTRIBUTION = (
    "Clinical abbreviation senses: Columbia Medical Abbreviation and Acronym Meta-Inventory source inventories "
    "(Grossman Liu L. et al., github.com/lisavirginia/clinical-abbreviations, CC BY 4.0)"
)
SOURCE_PREFIX = "abbrev:"
DOMINANCE = 0.9
INVENTORY_ORDER = ("vanderbilt-discharge", "vanderbilt-clinic", "stetson", "wikipedia", "columbia-obgyn")
MIN_CHARS_WITHOUT_FREQUENCIES = 3
STEM_CHARS = 4
EXCLUDED: dict[str, str] = {
    "alc": "alcohol is a substance; the only link is Y15 (poisoning by alcohol)",
    "ar": "allergic rhinitis in Vanderbilt clinic notes, but aortic regurgitation in cardiology reports",
    "dt": "in Korean surgical notes DT is a date ('s/p LPG DT 2021-01-18' in the shared gastric-cancer notes), not "
    "delirium tremens",
    "dz": "'disease' links to J38.7 only through the KCD synonym 'Disease NOS' of diseases of larynx",
    "fap": "ICD-10-CM includes it at D13.9; KCD/WHO code familial adenomatous polyposis as D12.6",
    "hae": "KCD's exclusion reference for hereditary angio-oedema names E84.1 (cystic fibrosis), not D84.1",
    "pdd": "Wikipedia's only sense (premenstrual dysphoric disorder) is not the usual one (pervasive developmental "
    "disorder, Parkinson's disease dementia)",
}
LINK_LEVELS = ("name", "unspecified name", "ICD-10-CM term", "partial name")
VANDERBILT_HEADER = ("abbreviation", "sense", "variation", "CUI", "frequency")
_COLUMBIA_SENSE_START = re.compile(r"^[A-Z][a-z]")


@dataclass(frozen=True)
class Sense:
    """One listed sense of an abbreviation in one inventory."""

    inventory: str
    abbreviation: str
    sense: str
    frequency: float | None = None
    cuis: frozenset[str] = frozenset()
    written: tuple[tuple[str, int], ...] = ()

    @property
    def key(self) -> str:
        """The abbreviation's lookup key across inventories (case-folded; Vanderbilt's ``_`` is ``/``)."""
        return self.abbreviation.replace("_", "/").casefold()


@dataclass
class AbbreviationResult:
    """Rows of linked abbreviations, one report per inventory, and the decision per abbreviation for audit."""

    table: pd.DataFrame
    reports: list[ReadReport]
    decisions: dict[str, str] = field(default_factory=dict)


def inventory_files(folder: str | Path) -> list[Path]:
    """Return the inventory files (.txt, .csv) of an abbreviation folder, sorted, so every caller reads the same."""
    return sorted(path for path in Path(folder).iterdir() if path.suffix in (".txt", ".csv"))


def inventory_name(path: Path) -> str:
    """Return the inventory a file of the meta-inventory's ``sources/`` holds, from its file name."""
    name = path.name.casefold()
    if "vanderbilt" in name:
        return "vanderbilt-discharge" if "discharge" in name else "vanderbilt-clinic"
    for inventory in ("stetson", "wikipedia"):
        if inventory in name:
            return inventory
    if "columbia" in name:
        return "columbia-obgyn"
    raise InputError(path, "unknown abbreviation inventory: expected a vanderbilt, stetson, wikipedia or columbia file")


def _lines(path: Path) -> list[str]:
    if not path.exists():
        raise InputError(path, "abbreviation inventory not found")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as error:
        raise InputError(path, f"not UTF-8 text (byte {error.start})") from error
    if not any(line.strip() for line in lines):
        raise InputError(path, "file is empty: expected abbreviation senses")
    return lines


def _frequency(path: Path, text: str, line: int) -> float:
    try:
        return float(text)
    except ValueError as error:
        raise InputError(path, f"expected a numeric frequency, found {text!r}", line=line) from error


def _written_forms(variation: str) -> tuple[tuple[str, int], ...]:
    forms = []
    for item in variation.split("|"):
        form, _, count = item.rpartition("_")
        if form.strip(".") and count.isdigit():
            forms.append((form.strip("."), int(count)))
    return tuple(forms)


def read_inventory(path: str | Path) -> list[Sense]:
    """Return the senses listed in one inventory file (format chosen by :func:`inventory_name`)."""
    source = Path(path)
    inventory = inventory_name(source)
    lines = _lines(source)
    senses: list[Sense] = []
    if inventory == "wikipedia":
        rows = list(csv.reader(lines))
        if [cell.strip() for cell in rows[0][:2]] != ["abr", "long_form"]:
            raise InputError(source, "expected the header abr,long_form", line=1)
        for number, row in enumerate(rows[1:], start=2):
            if len(row) != 2:
                raise InputError(source, f"expected 2 comma-separated fields, found {len(row)}", line=number)
            if row[0].strip() and row[1].strip():
                senses.append(Sense(inventory, row[0].strip(), row[1].strip(), written=((row[0].strip(), 1),)))
        return senses
    if inventory.startswith("vanderbilt") and tuple(lines[0].split("\t")) != VANDERBILT_HEADER:
        raise InputError(source, f"expected the header {' '.join(VANDERBILT_HEADER)} (tab-separated)", line=1)
    start = 2 if inventory.startswith("vanderbilt") else 1
    for number, line in enumerate(lines[start - 1 :], start=start):
        if not line.strip():
            continue
        if inventory == "columbia-obgyn":
            tokens = line.split()
            cut = next((i for i in range(1, len(tokens)) if _COLUMBIA_SENSE_START.match(tokens[i])), 1)
            if len(tokens) < 2:
                raise InputError(source, "expected an abbreviation and its expansion", line=number)
            abbreviation = " ".join(tokens[:cut])
            senses.append(Sense(inventory, abbreviation, " ".join(tokens[cut:]), written=((abbreviation, 1),)))
            continue
        fields = line.split("\t")
        expected = 5 if inventory.startswith("vanderbilt") else 3
        if len(fields) != expected:
            raise InputError(source, f"expected {expected} tab-separated fields, found {len(fields)}", line=number)
        frequency = _frequency(source, fields[-1], number)
        if inventory == "stetson":
            senses.append(Sense(inventory, fields[0].strip(), fields[1].strip(), frequency))
        else:
            cuis = frozenset(cui for cui in fields[3].casefold().split("|") if cui and cui != "null")
            written = _written_forms(fields[2])
            senses.append(Sense(inventory, fields[0].strip(), fields[1].strip().strip('"'), frequency, cuis, written))
    return senses


class SenseLinker:
    """Links a sense (an English expansion) to one code of a target table, by the levels of the module rules."""

    def __init__(self, targets: pd.DataFrame, icd10cm: pd.DataFrame | None = None) -> None:
        levels: dict[str, dict[str, set[str]]] = {level: {} for level in LINK_LEVELS}
        english = targets[targets["lang"] == "en"]
        for row in english[["code", "name", "original", "term_type"]].itertuples(index=False):
            complete = row.term_type != "exclusion" and name_variants(row.original)[:1] == [row.name]
            for form in kcd_name_forms(row.name):
                levels["name" if complete else "partial name"].setdefault(english_key(form), set()).add(row.code)
            plain = without_unspecified(row.name) if complete else None
            if plain:
                levels["unspecified name"].setdefault(english_key(plain), set()).add(row.code)
        if icd10cm is not None:
            for code, name in zip(icd10cm["code"], icd10cm["name"], strict=True):
                levels["ICD-10-CM term"].setdefault(english_key(name), set()).add(code)
        self.levels = levels

    def link(self, sense: str) -> tuple[str | None, str]:
        """Return ``(code, level)``; code None when no level matches (``no match``) or it is ambiguous."""
        key = english_key(sense)
        for level, names in self.levels.items():
            codes = names.get(key)
            if codes:
                general = min(codes, key=lambda code: (len(code), code))
                stem = general.replace(".", "")
                if all(code.replace(".", "").startswith(stem) for code in codes):
                    return general, level
                return None, f"ambiguous {level}"
        return None, "no match"


def _merged(senses: list[Sense]) -> list[tuple[list[Sense], float]]:
    """Senses of one abbreviation in one inventory, same senses merged, with frequency shares, top first."""
    groups: list[tuple[list[Sense], float]] = []
    for sense in senses:
        weight = sense.frequency if sense.frequency is not None else 1.0
        for index, (members, total) in enumerate(groups):
            if any(_same(sense, other) for other in members):
                groups[index] = ([*members, sense], total + weight)
                break
        else:
            groups.append(([sense], weight))
    grand = sum(total for _, total in groups) or 1.0
    ranked = sorted(groups, key=lambda group: -group[1])
    return [(members, total / grand) for members, total in ranked]


def _same(a: Sense, b: Sense) -> bool:
    """One sense in other words: the same key or a shared UMLS CUI."""
    return english_key(a.sense) == english_key(b.sense) or bool(a.cuis & b.cuis)


def _alike(a: Sense, b: Sense) -> bool:
    """One sense as two inventories word it: :func:`_same`, or the same stems of two or more content words."""
    stems_a, stems_b = _stems(a.sense), _stems(b.sense)
    return _same(a, b) or (len(stems_a) >= 2 and stems_a == stems_b)


def _stems(text: str) -> frozenset[str]:
    return frozenset(word[:STEM_CHARS] for word in content_words(text))


def usual_senses(senses: Iterable[Sense]) -> tuple[dict[str, list[Sense]], dict[str, str]]:
    """Return the abbreviations whose usual sense is clear (see module rules) and why the others were dropped.

    First value: key -> the usual sense as listed by each inventory that names it (wordings differ: ``deep vein
    thrombosis``, ``deep venous thrombosis``), in :data:`INVENTORY_ORDER`; second: key -> reason for dropped keys.
    """
    by_key: dict[str, dict[str, list[Sense]]] = {}
    for sense in senses:
        by_key.setdefault(sense.key, {}).setdefault(sense.inventory, []).append(sense)
    kept: dict[str, list[Sense]] = {}
    dropped: dict[str, str] = {}
    for key, inventories in by_key.items():
        named: list[list[Sense]] = []
        weak = False
        for listed in inventories.values():
            ranked = _merged(listed)
            if listed[0].frequency is not None:
                named.append(ranked[0][0])
                weak = weak or ranked[0][1] < DOMINANCE
            elif len(ranked) == 1:
                named.append(ranked[0][0])
        with_frequencies = any(listed[0].frequency is not None for listed in inventories.values())
        if not named:
            dropped[key] = "several senses, no frequencies"
        elif not with_frequencies and len(key) < MIN_CHARS_WITHOUT_FREQUENCIES:
            dropped[key] = f"under {MIN_CHARS_WITHOUT_FREQUENCIES} characters and no frequencies"
        elif any(not any(_alike(a, b) for a in named[0] for b in other) for other in named[1:]):
            dropped[key] = "inventories disagree on the usual sense"
        elif weak:
            dropped[key] = f"usual sense below {DOMINANCE:.0%} of uses"
        else:
            listed = [sense for members in named for sense in members]
            kept[key] = sorted(listed, key=lambda sense: INVENTORY_ORDER.index(sense.inventory))
    return kept, dropped


def _written_form(key: str, senses: list[Sense]) -> str:
    counts: Counter[str] = Counter()
    for sense in senses:
        for form, count in sense.written:
            counts[form] += count
    return min(counts, key=lambda form: (-counts[form], form)) if counts else key


def read_abbreviations(
    paths: Iterable[str | Path], targets: pd.DataFrame, *, icd10cm: pd.DataFrame | None = None
) -> AbbreviationResult:
    """Return concept-table rows for the abbreviations of ``paths`` whose usual sense links to a ``targets`` code.

    ``targets`` is the concept table to link to (KCD, optionally with further sources); ``icd10cm`` the accepted
    ICD-10-CM terms (:func:`corpora.icd10cm.read_icd10cm`) as a further way to link. One row per abbreviation and
    inventory that names its usual sense: name = its usual written form, ``source`` = ``abbrev:<inventory>``.
    """
    started = time.perf_counter()
    senses: list[Sense] = []
    reports: dict[str, ReadReport] = {}
    for path in paths:
        listed = read_inventory(path)
        inventory = inventory_name(Path(path))
        report = reports.setdefault(inventory, ReadReport(SOURCE_PREFIX + inventory, str(path)))
        report.rows_read += len(listed)
        report.counts["abbreviations listed"] += len({sense.key for sense in listed})
        senses += listed
    kept, dropped = usual_senses(senses)
    linker = SenseLinker(targets, icd10cm)
    metadata = targets.drop_duplicates("code").set_index("code")[["concept_type", "parent", "chapter"]]
    by_key: dict[str, list[Sense]] = {}
    for sense in senses:
        by_key.setdefault(sense.key, []).append(sense)
    decisions = dict(dropped)
    rows: dict[str, list[dict[str, str]]] = {inventory: [] for inventory in reports}
    for key in sorted(by_key):
        inventories = sorted({sense.inventory for sense in by_key[key]})
        if key in dropped:
            for inventory in inventories:
                reports[inventory].skip(dropped[key])
            continue
        usual = kept[key]
        naming = {sense.inventory for sense in usual}
        code, how = None, "no match"
        for sense in usual:
            code, how = linker.link(sense.sense)
            if code or how.startswith("ambiguous"):
                break
        if key in EXCLUDED:
            code, how = None, f"excluded: {EXCLUDED[key]}"
        decisions[key] = f"{usual[0].sense} -> {code} ({how})" if code else f"{usual[0].sense}: {how}"
        for inventory in inventories:
            if inventory not in naming:
                reports[inventory].skip("lists several senses without frequencies")
            elif code is None:
                reports[inventory].skip(f"usual sense not linked: {how.split(':')[0]}")
            else:
                reports[inventory].counts[f"linked by {how}"] += 1
                listed = next(sense.abbreviation for sense in by_key[key] if sense.inventory == inventory)
                rows[inventory].append(
                    {
                        "code": code,
                        "name": clean_text(_written_form(key, by_key[key])),
                        "original": f"{listed} = {usual[0].sense}",
                        "lang": "en",
                        "source": SOURCE_PREFIX + inventory,
                        "term_type": "abbreviation",
                        **metadata.loc[code].to_dict(),
                    }
                )
    ordered = sorted(reports, key=INVENTORY_ORDER.index)
    for inventory in ordered:
        reports[inventory].counts["abbreviations linked"] = len(rows[inventory])
        reports[inventory].seconds = time.perf_counter() - started
    table = concept_frame(row for inventory in ordered for row in rows[inventory])
    table = table.drop_duplicates(["code", "name", "source"], ignore_index=True)
    return AbbreviationResult(table, [reports[name] for name in ordered], decisions)
