"""Command-line commands of the benchmarks stage: ``sapbert bench sets|accuracy|all``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from corpora.cli_support import fail_on_input_error

DEFAULT_SYSTEMS = ["exact", "tfidf"]
SYSTEM_HELP = (
    "System to score, repeatable: 'exact', 'tfidf', a model folder or short name (e.g. e5-small-offline), "
    "or 'hybrid:<model>' (dense + TF-IDF, weight chosen on --dev)."
)

bench = typer.Typer(
    help="Benchmarks: accuracy against baselines, index trade-offs, reports.\n\nExample: sapbert bench all --smoke",
    no_args_is_help=True,
)


@bench.command("sets")
@fail_on_input_error
def sets_command(
    out: Annotated[Path, typer.Option(help="Folder to write the suite into (suite.json + one query file per set).")],
    split: Annotated[
        Path | None, typer.Option(help="A `sapbert corpora split` folder: its test.tsv, dev.tsv and dictionary.*.")
    ] = None,
    test: Annotated[
        Path | None, typer.Option(help="Held-out test queries (mention<TAB>code or CODE||mention); overrides --split.")
    ] = None,
    terminology: Annotated[
        Path | None, typer.Option(help="Dictionary the queries are linked against (concept table); overrides --split.")
    ] = None,
    dev: Annotated[
        Path | None, typer.Option(help="Dev queries (the hybrid weight is tuned on them only); overrides --split.")
    ] = None,
    everyday: Annotated[
        bool, typer.Option(help="Add the committed everyday-language set (colloquial Korean, abbreviations).")
    ] = True,
    seed: Annotated[int, typer.Option(help="Seed of the robustness perturbations and the code sample.")] = 13,
    sample_codes: Annotated[
        int | None,
        typer.Option(help="Reduce the dictionary to the gold codes plus this many random codes (slow machines)."),
    ] = None,
    training_terms: Annotated[
        Path | None,
        typer.Option(help="A model's training terminology: adds everyday-unseen (everyday names it never saw)."),
    ] = None,
) -> None:
    """Build the test-set suite: held-out (ko, en), cross-language, robustness perturbations, everyday.

    Example: sapbert bench sets --split splits/term --out suite
    """
    from benchmarks.testsets import build_suite, everyday_queries_path, split_files
    from corpora.queries import read_queries
    from corpora.table import read_concepts

    found = split_files(split) if split is not None else {}
    test = test or found.get("test")
    terminology = terminology or found.get("terminology")
    dev = dev or found.get("dev")
    if test is None or terminology is None:
        raise typer.BadParameter("give --split, or --test with --terminology")
    suite = build_suite(
        read_queries(test),
        read_concepts(terminology),
        terminology,
        out,
        dev=dev,
        everyday=everyday_queries_path() if everyday else None,
        seed=seed,
        sample_codes=sample_codes,
        training_terms=read_concepts(training_terms) if training_terms else None,
    )
    for test_set in suite.sets:
        counts = ", ".join(f"{key} {value}" for key, value in test_set.counts.items())
        typer.echo(f"{test_set.name:24} {counts}")
    for name, reason in suite.empty.items():
        typer.echo(f"{name:24} not written: {reason}")
    for note in suite.notes:
        typer.echo(note)
    typer.echo(f"wrote {out / 'suite.json'}")


@bench.command("accuracy")
@fail_on_input_error
def accuracy_command(
    system: Annotated[list[str], typer.Option("--system", "-s", help=SYSTEM_HELP)] = DEFAULT_SYSTEMS,
    queries: Annotated[
        list[Path] | None, typer.Option("--queries", "-q", help="Query file(s) to score (with --terminology).")
    ] = None,
    terminology: Annotated[Path | None, typer.Option(help="Dictionary the --queries are linked against.")] = None,
    suite: Annotated[
        Path | None, typer.Option(help="A suite folder from `sapbert bench sets` instead of --queries.")
    ] = None,
    dev: Annotated[Path | None, typer.Option(help="Dev queries for the hybrid weight (with --queries).")] = None,
    out: Annotated[Path, typer.Option(help="Folder for accuracy.md, plots and accuracy.json.")] = Path("bench-results"),
    index_kind: Annotated[str, typer.Option(help="Index of dense systems: flat (exact), hnsw or ivfpq.")] = "flat",
    vector_cache: Annotated[
        bool, typer.Option(help="Keep encoder vectors in the user cache across runs (same model = same vectors).")
    ] = True,
) -> None:
    """Score systems by acc@1, acc@5 and MRR (exact code and same 3-character category) and write a report.

    Example: sapbert bench accuracy -q test.tsv --terminology train.tsv.gz --dev dev.tsv -s exact -s tfidf
    -s e5-small-offline -s hybrid:e5-small-offline
    """
    from benchmarks.accuracy import single_suite
    from benchmarks.runner import run_accuracy_report
    from benchmarks.testsets import load_suite

    if suite is not None:
        loaded, folder = load_suite(suite), suite
    elif queries and terminology is not None:
        loaded, folder = single_suite(queries, terminology, dev), Path.cwd()
    else:
        raise typer.BadParameter("give --suite, or --queries with --terminology")
    report = run_accuracy_report(loaded, folder, system, out, index_kind=index_kind, vector_cache=vector_cache)
    typer.echo(report.read_text(encoding="utf-8"))
    typer.echo(f"wrote {report}")


@bench.command("all")
@fail_on_input_error
def all_command(
    system: Annotated[list[str], typer.Option("--system", "-s", help=SYSTEM_HELP)] = DEFAULT_SYSTEMS,
    suite: Annotated[
        Path | None, typer.Option(help="A suite folder from `sapbert bench sets` (not needed with --smoke).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Results folder to regenerate.")] = Path("benchmarks/results"),
    smoke: Annotated[
        bool, typer.Option(help="Tiny data and tiny indexes: checks the harness, not the figures.")
    ] = False,
    synthetic_names: Annotated[
        int | None, typer.Option(help="Names in the synthetic index dictionary (default 1M).")
    ] = None,
    index_model: Annotated[
        str | None, typer.Option(help="Model embedding the real dictionary for the index benchmark.")
    ] = None,
    vector_cache: Annotated[
        bool, typer.Option(help="Keep encoder vectors in the user cache across runs (same model = same vectors).")
    ] = True,
) -> None:
    """Regenerate the results folder: accuracy, index trade-offs, encoder and linker speed, with plots.

    Example: sapbert bench all --suite suite -s exact -s tfidf -s e5-small-offline -s hybrid:e5-small-offline
    """
    from dataclasses import replace

    from benchmarks.runner import FULL, SMOKE, run_all

    scale = SMOKE if smoke else FULL
    if synthetic_names is not None:
        scale = replace(scale, synthetic_names=synthetic_names)
    report = run_all(
        out, system, suite_folder=suite, scale=scale, smoke=smoke, index_model=index_model, vector_cache=vector_cache
    )
    typer.echo(f"wrote {report}")


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the root `sapbert` application."""
    app.add_typer(bench, name="bench")
