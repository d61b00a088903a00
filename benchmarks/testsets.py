"""Test-set builders: from the corpora split's held-out queries to a suite of named query sets with dictionaries.

A suite is a folder with ``suite.json`` (the manifest) and its query files:

- ``heldout-ko`` / ``heldout-en``: the held-out test synonyms, Korean and English queries separately, against the
  training dictionary (which does not contain them);
- ``cross-ko2en`` / ``cross-en2ko``: Korean queries against the English-only dictionary, and the reverse (queries
  whose gold codes have no name in the other language are dropped and counted);
- ``robust-<perturbation>``: each deterministic perturbation of the held-out queries (:mod:`benchmarks.perturb`);
- ``everyday``: colloquial Korean names and English abbreviations (``benchmarks/data/everyday_ko_en.tsv``), never
  used for training or tuning; ``everyday-unseen``: those of them no dictionary or training name contains (when the
  training terminology is given).

The dev queries are recorded too: the hybrid weight is chosen on them, never on a test set.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.perturb import PERTURBATIONS, perturb
from corpora.errors import InputError
from corpora.normalize import detect_lang
from corpora.queries import Query, read_queries, write_queries
from corpora.splits import match_key

if TYPE_CHECKING:
    import pandas as pd

MANIFEST = "suite.json"
EVERYDAY_FILE = "everyday_ko_en.tsv"


def everyday_queries_path() -> Path:
    """Return the committed everyday-language query file (colloquial Korean, English abbreviations)."""
    return Path(str(resources.files("benchmarks") / "data" / EVERYDAY_FILE))


def split_files(folder: Path) -> dict[str, Path]:
    """Return the test, dev and dictionary files of a ``sapbert corpora split`` folder (those that exist).

    The dictionary is the split's evaluation dictionary (``dictionary.*``): for a term-level split it is the
    training table, which lacks every held-out name.
    """
    if not folder.is_dir():
        raise InputError(folder, "not a split folder: expected test.tsv, dev.tsv and dictionary.(parquet|tsv|tsv.gz)")
    found = {name: folder / f"{name}.tsv" for name in ("test", "dev") if (folder / f"{name}.tsv").is_file()}
    for suffix in ("parquet", "tsv.gz", "tsv"):
        if (folder / f"dictionary.{suffix}").is_file():
            found["terminology"] = folder / f"dictionary.{suffix}"
            break
    if "test" not in found or "terminology" not in found:
        raise InputError(folder, "not a split folder: test.tsv or dictionary.(parquet|tsv|tsv.gz) is missing")
    return found


def query_language(mention: str) -> str:
    """Return ``ko`` for a mention with Hangul, else ``en`` (the two query languages the benchmarks separate)."""
    return "ko" if detect_lang(mention) == "ko" else "en"


def split_by_language(queries: Sequence[Query]) -> dict[str, list[Query]]:
    """Return the queries grouped into ``ko`` (any Hangul) and ``en`` (the rest), order kept."""
    groups: dict[str, list[Query]] = {"ko": [], "en": []}
    for query in queries:
        groups[query_language(query.mention)].append(query)
    return groups


def restrict_to_dictionary(queries: Sequence[Query], concepts: pd.DataFrame) -> tuple[list[Query], int]:
    """Return the queries with their gold codes cut to codes the dictionary has, and how many had none left."""
    known = set(concepts["code"].astype(str))
    kept, dropped = [], 0
    for query in queries:
        codes = tuple(code for code in query.codes if code in known)
        if codes:
            kept.append(Query(query.mention, codes))
        else:
            dropped += 1
    return kept, dropped


def named_in_language(queries: Sequence[Query], concepts: pd.DataFrame, lang: str) -> int:
    """Return how many queries have a gold code with a dictionary name in ``lang`` (else the task is cross-lingual)."""
    named = set(concepts.loc[concepts["lang"] == lang, "code"])
    return sum(any(code in named for code in query.codes) for query in queries)


def sample_dictionary(
    concepts: pd.DataFrame, query_sets: Sequence[Sequence[Query]], distractors: int, seed: int
) -> pd.DataFrame:
    """Return the dictionary cut to every gold code of ``query_sets`` plus ``distractors`` random other codes.

    For machines too slow to embed a full terminology: every system is scored on the same reduced dictionary,
    so systems stay comparable, but with fewer wrong candidates the task is easier than the full one.
    """
    import random

    gold = {code for queries in query_sets for query in queries for code in query.codes}
    others = sorted(set(concepts["code"]) - gold)
    chosen = gold | set(random.Random(seed).sample(others, min(distractors, len(others))))
    return concepts[concepts["code"].isin(chosen)].reset_index(drop=True)


def leaked(queries: Sequence[Query], concepts: pd.DataFrame) -> int:
    """Return how many queries are, after exact-match normalisation, a name of one of their gold codes.

    A term-level held-out split should give 0 against its training dictionary; the count is reported, not fixed.
    """
    names = {(code, match_key(name)) for code, name in zip(concepts["code"], concepts["name"], strict=True)}
    return sum(any((code, match_key(query.mention)) in names for code in query.codes) for query in queries)


@dataclass
class TestSet:
    """A named query set, the dictionary it is linked against and what it measures."""

    name: str
    group: str
    queries: str
    terminology: str
    description: str
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class Suite:
    """The manifest of a test-set folder: the sets, the dev queries for tuning, the seed and the command."""

    terminology: str
    dev: str | None
    seed: int
    sets: list[TestSet]
    command: str = ""
    empty: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def resolve(self, folder: Path, path: str) -> Path:
        """Return a manifest path as an absolute path (relative ones are relative to the suite folder)."""
        candidate = Path(path)
        return candidate if candidate.is_absolute() else folder / candidate


def _write_set(folder: Path, name: str, queries: list[Query]) -> str:
    file_name = f"{name}.tsv"
    write_queries(queries, folder / file_name)
    return file_name


def build_suite(
    test: Sequence[Query],
    concepts: pd.DataFrame,
    terminology: Path,
    folder: Path,
    *,
    dev: Path | None = None,
    everyday: Path | None = None,
    seed: int = 13,
    sample_codes: int | None = None,
    training_terms: pd.DataFrame | None = None,
) -> Suite:
    """Write every test set of the suite into ``folder`` and return its manifest (also written as suite.json).

    With ``sample_codes``, the dictionary is reduced by :func:`sample_dictionary` (gold codes of the test, dev and
    everyday queries plus that many random codes) and written into the suite as ``terminology-sample.tsv.gz``.
    With ``training_terms`` (a model's training terminology) the suite also gets ``everyday-unseen``: the everyday
    queries that are neither a dictionary name nor a training name (same string after NFKC, case folding, spaces and
    punctuation removed), i.e. what a model must generalise to.
    """
    from corpora.table import write_concepts

    folder.mkdir(parents=True, exist_ok=True)
    terminology = terminology.resolve()
    if sample_codes is not None:
        query_sets = [test, read_queries(dev) if dev else [], read_queries(everyday) if everyday else []]
        concepts = sample_dictionary(concepts, query_sets, sample_codes, seed)
        terminology = write_concepts(concepts, folder / "terminology-sample.tsv.gz").resolve()
    sets: list[TestSet] = []
    empty: dict[str, str] = {}
    by_language = split_by_language(test)
    for lang, label in (("ko", "Korean"), ("en", "English")):
        queries = by_language[lang]
        if not queries:
            empty[f"heldout-{lang}"] = f"no {label} test query"
        else:
            sets.append(
                TestSet(
                    f"heldout-{lang}",
                    "held-out",
                    _write_set(folder, f"heldout-{lang}", queries),
                    str(terminology),
                    f"held-out KCD synonyms, {label} queries, the training dictionary"
                    + (f" reduced to gold codes + {sample_codes} random codes" if sample_codes is not None else ""),
                    {
                        "queries": len(queries),
                        "leaked": leaked(queries, concepts),
                        "gold_named_in_query_language": named_in_language(queries, concepts, lang),
                    },
                )
            )
    for source, target in (("ko", "en"), ("en", "ko")):
        dictionary = concepts[concepts["lang"] == target]
        queries, dropped = restrict_to_dictionary(by_language[source], dictionary)
        if not queries:
            empty[f"cross-{source}2{target}"] = f"no {source} query with a gold code named in {target}"
            continue
        dictionary_file = f"terminology-{target}.tsv.gz"
        write_concepts(dictionary, folder / dictionary_file)
        name = f"cross-{source}2{target}"
        sets.append(
            TestSet(
                name,
                "cross-language",
                _write_set(folder, name, queries),
                dictionary_file,
                f"held-out {source} queries against the {target}-only dictionary",
                {"queries": len(queries), "dropped_no_name_in_dictionary_language": dropped},
            )
        )
    for kind in PERTURBATIONS:
        result = perturb(test, kind, seed)
        if not result.queries:
            empty[f"robust-{kind}"] = f"the perturbation applies to none of the {len(test)} test queries"
        else:
            name = f"robust-{kind}"
            sets.append(
                TestSet(
                    name,
                    "robustness",
                    _write_set(folder, name, result.queries),
                    str(terminology),
                    f"held-out queries, perturbation '{kind}' (seed {seed})",
                    {"queries": len(result.queries), "not_applicable": result.not_applicable},
                )
            )
    if everyday is not None:
        queries, unreachable = restrict_to_dictionary(read_queries(everyday), concepts)
        sets.append(
            TestSet(
                "everyday",
                "everyday",
                _write_set(folder, "everyday", queries),
                str(terminology),
                "colloquial Korean disease names and English clinical abbreviations (never tuned on)",
                {"queries": len(queries), "dropped_gold_not_in_dictionary": unreachable},
            )
        )
        if training_terms is not None:
            known = {match_key(name) for table in (concepts, training_terms) for name in table["name"]}
            unseen = [query for query in queries if match_key(query.mention) not in known]
            sets.append(
                TestSet(
                    "everyday-unseen",
                    "everyday",
                    _write_set(folder, "everyday-unseen", unseen),
                    str(terminology),
                    "the everyday queries that are neither a dictionary name nor a name of the training terminology",
                    {"queries": len(unseen), "dropped_seen": len(queries) - len(unseen)},
                )
            )
    notes = []
    if sample_codes is not None:
        notes.append(
            f"The dictionary is reduced to the gold codes of every set (test, dev, everyday) + {sample_codes} random"
            f" codes (seed {seed}): {concepts['code'].nunique():,} codes, {len(concepts):,} names. With fewer wrong"
            " candidates the task is easier than against the full dictionary; all systems see the same dictionary."
        )
    suite = Suite(str(terminology), str(dev.resolve()) if dev else None, seed, sets, shlex.join(sys.argv), empty, notes)
    (folder / MANIFEST).write_text(json.dumps(asdict(suite), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return suite


def load_suite(folder: Path) -> Suite:
    """Read a suite folder's manifest (``suite.json``) written by :func:`build_suite`."""
    path = folder / MANIFEST
    if not path.is_file():
        raise InputError(folder, f"not a test-set suite: {MANIFEST} is missing (build one with `sapbert bench sets`)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        sets = [TestSet(**entry) for entry in data.pop("sets")]
        return Suite(sets=sets, **data)
    except (ValueError, TypeError, KeyError) as error:
        raise InputError(path, f"malformed suite manifest: {error}") from error
