"""English ICD-10-CM terms attached to the KCD codes whose meaning ICD-10-CM shares: extra English training names.

KCD and ICD-10-CM both extend WHO ICD-10, but not the same way: the same code can mean different things (KCD
subdivides ``S32.0`` by open/closed fracture, ICD-10-CM by vertebra). So a term is attached only where the
code *and* the name agree. The rules (source data: the ``simple-icd-10-cm`` package, offline):

1. **Shared code**: an ICD-10-CM category or subcategory (``E11.9``) whose code, without its dot and upper-cased,
   is a KCD code (``E119`` and ``E11.9`` are one code). The code *agrees* when some English KCD name of it (its
   preferred name or a synonym) has content words (:func:`corpora.english_keys.content_words`: British/American
   spelling, plurals, ``other``/``unspecified`` and function words ignored; KCD's ``Malignant neoplasm of
   hepatocellular carcinoma`` also read as ``hepatocellular carcinoma``) that are all among the content words
   of the ICD-10-CM description or of one of its inclusion terms. Every KCD word must be there: a missing word is
   usually the difference (``proliferative`` vs ``nonproliferative``, ``posterior`` vs ``anterior``), while extra
   ICD-10-CM words only narrow the concept (``Encounter for``, laterality).
   An agreeing code gets its description (term type ``synonym``) and its inclusion terms and "includes" notes
   (``inclusion``) attached.
2. **ICD-10-CM-only code** (``K74.60``, not in KCD): its description and inclusion terms are narrower terms of its
   nearest KCD ancestor (``K74.6``), attached as ``inclusion`` when that ancestor agrees (rule 1) and is a KCD leaf;
   when KCD subdivides the ancestor differently, the term could belong to any of its KCD children: skipped.
3. A name that KCD gives to another code (ICD-10-CM's ``Diabetes NOS`` is type 2, E11; KCD's ``Diabetes`` is
   E14) is dropped: KCD is the target classification. A name these rules attach to several KCD codes stays only
   at the one that is an ancestor of the others (``I12`` over ``I12.9``); at unrelated codes (``coronary
   thrombosis`` at I21 and I22) it is dropped: a training name must point at one code.
4. Codes with a 7th-character extension (``S72.001A``: encounter type) add no meaning for KCD: skipped. "Includes"
   notes that are instructions (naming codes, "any condition classifiable to ...") are not terms: skipped.

Everything skipped is counted by reason in the returned :class:`~corpora.report.ReadReport`; rejected shared codes
are listed with both names so the rule can be audited.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from corpora.collect import ConceptCollector
from corpora.english_keys import content_words, english_key, kcd_name_forms
from corpora.report import ReadReport

SOURCE = "icd10cm"
INSTRUCTION = re.compile(r"\b[A-Z]\d{2}(?:\.|-)|(?i:^(?:any|the listed|conditions?)\b|\bclassifiable\b|\bcoded\b)")


@dataclass(frozen=True)
class CodeDecision:
    """The agreement test of one shared code: both names and whether ICD-10-CM terms may attach to it."""

    code: str
    icd10cm_description: str
    kcd_name: str
    agrees: bool


@dataclass
class Icd10cmResult:
    """The concept-table rows of accepted terms, the report of counts, and every shared code's decision."""

    table: pd.DataFrame
    report: ReadReport
    decisions: list[CodeDecision]

    @property
    def rejected(self) -> list[CodeDecision]:
        """Shared codes whose ICD-10-CM name does not agree with KCD (their terms were not attached)."""
        return [decision for decision in self.decisions if not decision.agrees]


def code_key(code: str) -> str:
    """Return the format-free form of an ICD/KCD code (``e11.9`` and ``E119`` -> ``E119``)."""
    return code.replace(".", "").strip().upper()


def _icd10cm_codes() -> Iterator[str]:
    """Categories and subcategories of the installed ICD-10-CM release, in tabular order (no chapters/blocks)."""
    import simple_icd_10_cm as cm

    for code in cm.get_all_codes(with_dots=True):
        if cm.is_category_or_subcategory(code):
            yield code


def _terms(code: str) -> list[tuple[str, str]]:
    """(text, term type) of one ICD-10-CM code: description, inclusion terms, "includes" notes."""
    import simple_icd_10_cm as cm

    terms = [(cm.get_description(code), "synonym")]
    terms += [(text, "inclusion") for text in cm.get_inclusion_term(code)]
    terms += [(text, "inclusion") for text in cm.get_includes(code)]
    return terms


class _Kcd:
    """What the agreement test needs of the KCD table: codes by key, English content words, leaves, metadata."""

    def __init__(self, kcd: pd.DataFrame) -> None:
        english = kcd[kcd["lang"] == "en"]
        self.code_of: dict[str, str] = {code_key(code): code for code in kcd["code"].unique()}
        self.words: dict[str, list[frozenset[str]]] = {}
        self.preferred: dict[str, str] = {}
        self.codes_named: dict[str, set[str]] = {}
        for code, name, term_type in zip(english["code"], english["name"], english["term_type"], strict=True):
            for form in kcd_name_forms(name):
                self.words.setdefault(code, []).append(content_words(form))
                self.codes_named.setdefault(english_key(form), set()).add(code)
            if term_type == "preferred":
                self.preferred.setdefault(code, name)
        keys = set(self.code_of)
        self.inner = {key[:length] for key in keys for length in range(3, len(key)) if key[:length] in keys}
        first = kcd.drop_duplicates("code").set_index("code")
        self.metadata = first[["concept_type", "parent", "chapter"]].to_dict("index")

    def agrees(self, code: str, icd10cm_names: list[str]) -> bool:
        """Some English KCD name's content words are all in the description or one inclusion term."""
        candidates = [content_words(name) for name in icd10cm_names]
        return any(words and any(words <= other for other in candidates) for words in self.words.get(code, []))

    def nearest(self, key: str) -> str | None:
        """The key of the longest KCD code that ``key`` extends (not itself), or None."""
        for length in range(len(key) - 1, 2, -1):
            if key[:length] in self.code_of:
                return key[:length]
        return None


def _owners(codes: pd.Series, keys: pd.Series) -> dict[str, str | None]:
    """For names at several codes: the one code that is an ancestor of all the others, else None (ambiguous)."""
    codes_of: dict[str, set[str]] = {}
    for code, key in zip(codes, keys, strict=True):
        codes_of.setdefault(key, set()).add(code)
    owners: dict[str, str | None] = {}
    for key, named in codes_of.items():
        if len(named) > 1:
            general = min(named, key=lambda code: (len(code_key(code)), code))
            related = all(code_key(code).startswith(code_key(general)) for code in named)
            owners[key] = general if related else None
    return owners


def read_icd10cm(kcd: pd.DataFrame) -> Icd10cmResult:
    """Return the ICD-10-CM English terms that attach to ``kcd`` codes (see the module rules), with audit data.

    ``kcd`` is a KCD concept table (e.g. :func:`corpora.embedded.load_default_terminology`); rows come out in its
    code format, with its concept type, parent and chapter.
    """
    from importlib.metadata import version

    started = time.perf_counter()
    report = ReadReport(SOURCE, f"simple-icd-10-cm {version('simple-icd-10-cm')}")
    collector = ConceptCollector(SOURCE, report)
    known = _Kcd(kcd)
    decisions: dict[str, CodeDecision] = {}
    for code in _icd10cm_codes():
        report.rows_read += 1
        key = code_key(code)
        terms = _terms(code)
        if len(key) >= 7:
            report.skip("7th-character extension code")
            continue
        if key in known.code_of:
            kcd_code = known.code_of[key]
            names = [text for text, _ in terms if not INSTRUCTION.search(text)]
            agrees = known.agrees(kcd_code, names)
            decisions[key] = CodeDecision(kcd_code, terms[0][0], known.preferred.get(kcd_code, ""), agrees)
            if not agrees:
                report.skip("shared code whose name disagrees with KCD")
                report.counts["terms rejected: name disagrees"] += len(terms)
                continue
            report.counts["shared codes agreeing"] += 1
        else:
            ancestor = known.nearest(key)
            decision = decisions.get(ancestor) if ancestor else None
            if decision is None:
                report.skip("not under any shared KCD code")
                continue
            if not decision.agrees:
                report.skip("under a KCD code whose name disagrees")
                report.counts["terms rejected: ancestor disagrees"] += len(terms)
                continue
            if ancestor in known.inner:
                report.skip("under a KCD code that KCD subdivides differently")
                report.counts["terms rejected: KCD subdivides the ancestor"] += len(terms)
                continue
            kcd_code = decision.code
            terms = [(text, "inclusion") for text, _ in terms]
            report.counts["ICD-10-CM-only codes attached to a KCD leaf"] += 1
        metadata = known.metadata[kcd_code]
        for text, term_type in terms:
            if INSTRUCTION.search(text):
                report.counts["terms rejected: instruction, not a term"] += 1
                continue
            report.counts["terms accepted"] += 1
            collector.add(kcd_code, text, term_type=term_type, lang="en", **metadata)
    table = collector.frame()
    keys = table["name"].map(english_key)
    elsewhere = [
        bool(known.codes_named.get(key, set()) - {code}) for code, key in zip(table["code"], keys, strict=True)
    ]
    report.counts["names dropped: KCD gives the name to another code"] = sum(elsewhere)
    owner = _owners(table["code"], keys)
    several = [owner.get(key, code) != code for code, key in zip(table["code"], keys, strict=True)]
    report.counts["names dropped: ICD-10-CM gives the name to several KCD codes"] = sum(several)
    table = table[[not (a or b) for a, b in zip(elsewhere, several, strict=True)]].reset_index(drop=True)
    report.counts["codes with ICD-10-CM terms"] = table["code"].nunique()
    report.seconds = time.perf_counter() - started
    return Icd10cmResult(table, report, list(decisions.values()))
