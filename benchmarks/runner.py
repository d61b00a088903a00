"""What ``sapbert bench accuracy`` and ``sapbert bench all`` run and write: reports, plots and raw results.

``bench all`` regenerates one results folder: ``report.md`` (accuracy per system and test set under both hit
conventions, index trade-offs, links to the encoder and linker speed reports), ``accuracy.png``,
``accuracy-category.png``, ``index.png`` and ``results.json``. A smoke scale runs the same harness on tiny data.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.accuracy import AccuracyRun, run_accuracy
from benchmarks.index_speed import IndexResult, bench_indexes, bench_synthetic
from benchmarks.machine import machine_facts
from benchmarks.report import (
    accuracy_markdown,
    accuracy_plot,
    answers_markdown,
    index_markdown,
    index_plot,
    write_report,
)
from benchmarks.systems import BASELINES, HYBRID_PREFIX
from benchmarks.testsets import Suite, build_suite, load_suite

LINKER_SPEED_REPORT = "linker_speed.md"
ENCODER_SPEED_REPORT = "encoder_speed.md"
DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Scale:
    """How big the speed benchmarks run: synthetic dictionary size and dimension, query count, real-index cap,
    and the thread count (None: all cores; the smoke scale uses one, as tiny FAISS jobs only lose from threads)."""

    synthetic_names: int
    synthetic_dim: int
    queries: int
    real_names: int | None
    threads: int | None


FULL = Scale(synthetic_names=1_000_000, synthetic_dim=384, queries=1000, real_names=None, threads=None)
SMOKE = Scale(synthetic_names=2000, synthetic_dim=32, queries=100, real_names=None, threads=1)


def limit_threads(threads: int | None) -> None:
    """Run FAISS and torch on ``threads`` threads (None: leave their defaults, all cores)."""
    if threads is None:
        return
    import faiss
    import torch

    faiss.omp_set_num_threads(threads)
    torch.set_num_threads(threads)


def smoke_suite(folder: Path) -> tuple[Suite, Path]:
    """Build the tiny committed smoke suite (60 KCD codes, their synonyms, the everyday set) into ``folder``."""
    from corpora.queries import read_queries
    from corpora.table import read_concepts

    terminology = DATA / "smoke_terminology.tsv"
    suite = build_suite(
        read_queries(DATA / "smoke_test.tsv"),
        read_concepts(terminology),
        terminology,
        folder,
        dev=DATA / "smoke_dev.tsv",
        everyday=DATA / "everyday_ko_en.tsv",
    )
    return suite, folder


def dense_models(systems: Sequence[str]) -> list[str]:
    """Return the encoder models named by ``systems`` (``hybrid:<model>`` included), in order, once each."""
    models = [spec.removeprefix(HYBRID_PREFIX) for spec in systems if spec not in BASELINES]
    return list(dict.fromkeys(models))


def accuracy_section(run: AccuracyRun, suite: Suite, folder: Path, out: Path) -> str:
    """Write both accuracy plots and the per-query answer tables into ``out``; return the Markdown section."""
    from corpora.queries import read_queries

    accuracy_plot(run.rows, out / "accuracy.png", "code")
    accuracy_plot(run.rows, out / "accuracy-category.png", "category")
    links = []
    for test_set in suite.sets:
        if test_set.name in run.answers:
            queries = read_queries(suite.resolve(folder, test_set.queries))
            file_name = f"answers-{test_set.name}.md"
            title = f"First answer per query: {test_set.name}"
            write_report(
                out / file_name,
                title,
                machine_facts(),
                [("Answers", answers_markdown(queries, run.answers[test_set.name]))],
            )
            links.append(f"Every system's first answer per query of `{test_set.name}`: [{file_name}]({file_name}).")
    return "\n\n".join(
        [
            "![acc@1, exact-code convention](accuracy.png)",
            "![acc@1, category convention](accuracy-category.png)",
            *links,
            accuracy_markdown(run, suite),
        ]
    )


def run_accuracy_report(
    suite: Suite,
    folder: Path,
    systems: Sequence[str],
    out: Path,
    *,
    index_kind: str = "flat",
    vector_cache: bool = False,
) -> Path:
    """Score ``systems`` on ``suite`` and write ``accuracy.md``, its plots and ``accuracy.json`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    run = run_accuracy(suite, folder, systems, index_kind=index_kind, vector_cache=vector_cache)
    (out / "accuracy.json").write_text(
        json.dumps({"rows": [asdict(row) for row in run.rows]}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return write_report(
        out / "accuracy.md", "Accuracy", machine_facts(), [("Accuracy", accuracy_section(run, suite, folder, out))]
    )


def real_index_results(suite: Suite, folder: Path, encoder, model: str, scale: Scale) -> list[IndexResult]:
    """Return the index trade-offs on the suite's real dictionary embedded by ``encoder`` (queries: held-out)."""
    from benchmarks.baselines import dictionary_names
    from corpora.queries import read_queries
    from corpora.table import read_concepts

    codes, names = dictionary_names(read_concepts(suite.resolve(folder, suite.terminology)))
    if scale.real_names is not None:
        codes, names = codes[: scale.real_names], names[: scale.real_names]
    mentions = [
        query.mention
        for test_set in suite.sets
        if test_set.group in ("held-out", "everyday")
        for query in read_queries(suite.resolve(folder, test_set.queries))
    ][: scale.queries]
    vectors = encoder.encode(names, batch_size=256)
    return bench_indexes(f"dictionary ({Path(model).name})", names, codes, vectors, encoder.encode(mentions))


def speed_sections(out: Path, smoke: bool) -> list[tuple[str, str]]:
    """Run the encoder speed benchmark (``benchmarks.encoder_speed.run``, full scale only) and link both speed
    reports (encoder, and ``linker_speed.md`` from the linker stage) that sit in ``out``."""
    report = out / ENCODER_SPEED_REPORT
    if smoke:
        encoder = "Not run at smoke scale (it loads the real base model): run `sapbert bench all` without --smoke."
    else:
        try:
            from benchmarks.encoder_speed import run as run_encoder_speed
        except ImportError:
            run_encoder_speed = None
        if run_encoder_speed is None:
            encoder = "Not run: `benchmarks/encoder_speed.py` (encoders stage) is not installed."
        else:
            run_encoder_speed(output_dir=out)
            encoder = (
                f"See [{ENCODER_SPEED_REPORT}]({ENCODER_SPEED_REPORT}) (terms/second by batch size, with plot)."
                if report.is_file()
                else f"The encoder speed benchmark ran but wrote no `{ENCODER_SPEED_REPORT}`."
            )
    linker = out / LINKER_SPEED_REPORT
    link = (
        f"See [{LINKER_SPEED_REPORT}]({LINKER_SPEED_REPORT}) (linker stage)."
        if linker.is_file()
        else f"Not present: the linker stage writes `{LINKER_SPEED_REPORT}` into this folder."
    )
    return [("Encoder speed", encoder), ("Normalize and link speed", link)]


def run_all(
    out: Path,
    systems: Sequence[str],
    *,
    suite_folder: Path | None = None,
    scale: Scale = FULL,
    smoke: bool = False,
    index_model: str | None = None,
    vector_cache: bool = False,
) -> Path:
    """Run accuracy, index and speed benchmarks and write ``report.md`` with plots and ``results.json`` to ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    limit_threads(scale.threads)
    with tempfile.TemporaryDirectory(prefix="sapbert-smoke-suite-") as scratch:
        if suite_folder is None:
            if not smoke:
                raise ValueError("bench all needs --suite (a folder from `sapbert bench sets`), or --smoke")
            suite, folder = smoke_suite(Path(scratch))
        else:
            suite, folder = load_suite(suite_folder), suite_folder
        encoders: dict = {}
        run = run_accuracy(suite, folder, systems, encoders=encoders, vector_cache=vector_cache)
        sections = [("Accuracy", accuracy_section(run, suite, folder, out))]
        index_results: list[IndexResult] = []
        model = index_model or next(iter(dense_models(systems)), None)
        if model is not None:
            from benchmarks.dense import load_cached_encoder

            encoder = encoders.get(model) or load_cached_encoder(model, persistent=vector_cache)
            index_results += real_index_results(suite, folder, encoder, model, scale)
        index_results += bench_synthetic(scale.synthetic_names, scale.synthetic_dim, scale.queries)
    index_plot(index_results, out / "index.png")
    note = (
        "Recall@10 compares each index's top 10 names with exact (flat) search on the same queries. On the real "
        "dictionary the queries are held-out mentions embedded by the same model: that recall is what users get. "
        "The synthetic dictionary holds random unit vectors, for build and search timing only; its recall is a worst "
        "case (random vectors have no neighbourhood structure). q/s batch 1 times single-query searches; q/s batched "
        "times one call with all queries. Size is the saved FAISS file. "
        f"Synthetic dictionary: {scale.synthetic_names:,} names (full scale {FULL.synthetic_names:,}; "
        "`--synthetic-names` sets it)."
    )
    sections.append(
        ("Index trade-offs", f"![index trade-offs](index.png)\n\n{note}\n\n{index_markdown(index_results)}")
    )
    sections += speed_sections(out, smoke)
    facts = machine_facts()
    results = {
        "facts": facts,
        "accuracy": [asdict(row) for row in run.rows],
        "hybrid_weights": {model: asdict(choice) for model, choice in run.weights.items()},
        "indexes": [asdict(result) for result in index_results],
    }
    (out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    title = "SapBERT-KO-EN benchmarks" + (" (smoke scale: checks the harness, not the figures)" if smoke else "")
    return write_report(out / "report.md", title, facts, sections)
