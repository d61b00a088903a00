"""The accuracy harness: every system on every test set, scored by acc@1, acc@5 and MRR under both conventions.

Systems are built once per dictionary and share encoders, so a suite with cross-language dictionaries encodes
each distinct string once. The hybrid weight is chosen on the dev queries against the main dictionary before any
test set is ranked, and then reused unchanged for every set.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.hybrid import WeightChoice
from benchmarks.metrics import CONVENTIONS, accuracy
from benchmarks.ranking import RankingSystem
from benchmarks.systems import HYBRID_PREFIX, SystemFactory
from benchmarks.testsets import Suite, TestSet
from corpora.queries import Query, read_queries
from linker.index import Candidate

TOP_K = 10


@dataclass(frozen=True)
class AccuracyRow:
    """One system on one test set under one hit convention."""

    test_set: str
    group: str
    system: str
    convention: str
    queries: int
    acc1: float
    acc5: float
    mrr: float
    seconds: float


@dataclass
class AccuracyRun:
    """All rows of a run, the hybrid weights chosen on dev, the systems' dictionary build times, and each
    system's first answer per query of the sets named in ``keep_answers`` (for error analysis)."""

    rows: list[AccuracyRow]
    weights: dict[str, WeightChoice]
    build_seconds: dict[str, float]
    answers: dict[str, dict[str, list[Candidate | None]]] = field(default_factory=dict)


def score_system(
    system: RankingSystem, queries: Sequence[Query], test_set: TestSet
) -> tuple[list[AccuracyRow], list[Candidate | None]]:
    """Rank ``queries`` with ``system``; return one row per hit convention and each query's first answer."""
    started = time.perf_counter()
    ranked = system.rank([query.mention for query in queries], TOP_K)
    seconds = time.perf_counter() - started
    predictions = [[candidate.code for candidate in found] for found in ranked]
    golds = [query.codes for query in queries]
    rows = []
    for convention in CONVENTIONS:
        score = accuracy(predictions, golds, convention)
        rows.append(
            AccuracyRow(
                test_set.name,
                test_set.group,
                system.name,
                convention,
                score.queries,
                score.acc1,
                score.acc5,
                score.mrr,
                seconds,
            )
        )
    return rows, [found[0] if found else None for found in ranked]


def run_accuracy(
    suite: Suite,
    folder: Path,
    systems: Sequence[str],
    *,
    index_kind: str = "flat",
    batch_size: int = 256,
    encoders: dict | None = None,
    vector_cache: bool = False,
    keep_answers: Sequence[str] = ("everyday",),
) -> AccuracyRun:
    """Score every system in ``systems`` on every set of ``suite`` (a folder written by ``build_suite``).

    ``encoders`` (model -> cached encoder) may be shared with later benchmarks so strings are embedded once.
    """
    from corpora.table import read_concepts

    main_terminology = suite.resolve(folder, suite.terminology)
    dev = read_queries(suite.resolve(folder, suite.dev)) if suite.dev else []
    encoders = encoders if encoders is not None else {}
    weights: dict[str, WeightChoice] = {}
    factories: dict[Path, SystemFactory] = {}

    def factory_for(path: Path) -> SystemFactory:
        if path not in factories:
            factories[path] = SystemFactory(
                read_concepts(path),
                dev=dev,
                index_kind=index_kind,
                batch_size=batch_size,
                encoders=encoders,
                weights=weights,
                vector_cache=vector_cache,
            )
        return factories[path]

    main = factory_for(main_terminology)
    for spec in systems:
        if spec.startswith(HYBRID_PREFIX):
            main.hybrid_weight(spec.removeprefix(HYBRID_PREFIX))
    rows: list[AccuracyRow] = []
    build_seconds: dict[str, float] = {}
    answers: dict[str, dict[str, list[Candidate | None]]] = {}
    for test_set in suite.sets:
        queries = read_queries(suite.resolve(folder, test_set.queries))
        factory = factory_for(suite.resolve(folder, test_set.terminology))
        for spec in systems:
            started = time.perf_counter()
            system = factory.get(spec)
            build_seconds[spec] = build_seconds.get(spec, 0.0) + time.perf_counter() - started
            scored, first = score_system(system, queries, test_set)
            rows.extend(scored)
            if test_set.name in keep_answers:
                answers.setdefault(test_set.name, {})[spec] = first
    return AccuracyRun(rows, weights, build_seconds, answers)


def single_suite(queries: Sequence[Path], terminology: Path, dev: Path | None) -> Suite:
    """Return an in-memory suite of plain query files against one dictionary (for ``bench accuracy --queries``)."""
    sets = [
        TestSet(path.stem, "given", str(path.resolve()), str(terminology.resolve()), f"queries from {path}")
        for path in queries
    ]
    return Suite(str(terminology.resolve()), str(dev.resolve()) if dev else None, 0, sets)
