"""Command-line commands of the corpora stage, added to the `sapbert` application as `sapbert corpora ...`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from corpora.cli_support import fail_on_input_error

corpora_app = typer.Typer(
    name="corpora",
    help=(
        "Read terminology files (KCD, KOSTOM, UMLS, HIRA, CSV/TSV/JSONL, SapBERT dictionaries) into one concept "
        "table; draw SapBERT training pairs and held-out splits.\n\n"
        "Example: sapbert corpora build KCD-9_DB_masterfile_250701.xlsx --out concepts.parquet"
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
)

DEFAULT_MASTERFILE = Path(__file__).resolve().parents[1].parent / "shared/data/kcd/KCD-9_DB_masterfile_250701.xlsx"


def _progress_bar(description: str):
    """Return ``(callback, bar)``: a tqdm bar on stderr counting rows, and the function readers call to advance it."""
    from tqdm import tqdm

    bar = tqdm(desc=description, unit=" rows", leave=False, mininterval=0.5)
    return bar.update, bar


@corpora_app.command("build")
@fail_on_input_error
def build(
    sources: Annotated[list[Path], typer.Argument(help="Terminology files to read (type recognised from the name).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Concept table to write: .parquet, .tsv or .tsv.gz.")],
    source_type: Annotated[
        list[str] | None,
        typer.Option(
            "--type",
            help="Source type per SOURCE, in order (kcd, kostom, umls, generic, sapbert, hira-edi, hira-drugs, "
            "hira-drug-master, concepts); default: recognised from each file name.",
        ),
    ] = None,
    code_col: Annotated[str, typer.Option(help="Generic CSV/TSV/JSONL: the code column.")] = "code",
    name_col: Annotated[str, typer.Option(help="Generic CSV/TSV/JSONL: the name column.")] = "name",
    lang_col: Annotated[str | None, typer.Option(help="Generic files: a language column (else detected).")] = None,
    concept_type: Annotated[str, typer.Option(help="concept_type of KOSTOM/UMLS/generic rows.")] = "",
    encoding: Annotated[str, typer.Option(help="Text encoding: auto (UTF-8 or cp949), utf-8, cp949...")] = "auto",
    keep_without_cui: Annotated[
        bool, typer.Option(help="KOSTOM: keep rows without a UMLS CUI as pairs grouped by KOSTOM id.")
    ] = False,
    umls_lang: Annotated[list[str] | None, typer.Option(help="UMLS: LAT values to keep (default ENG, KOR).")] = None,
    umls_sab: Annotated[list[str] | None, typer.Option(help="UMLS: SAB values to keep (default all).")] = None,
    umls_keep_suppressed: Annotated[bool, typer.Option(help="UMLS: keep suppressed atoms (SUPPRESS O/E/Y).")] = False,
    umls_preferred_only: Annotated[bool, typer.Option(help="UMLS: keep only atoms with ISPREF = Y.")] = False,
    drug_master: Annotated[
        Path | None, typer.Option(help="HIRA drugs: the ingredient master CSV (English generic names).")
    ] = None,
) -> None:
    """Build one concept table from terminology files; print and save (beside it) the rows skipped by rule.

    Example: sapbert corpora build KCD-9_DB_masterfile_250701.xlsx kostom.txt --out concepts.parquet
    """
    from corpora.errors import InputError
    from corpora.report import save_reports
    from corpora.sources import SourceOptions, build_table, detect_kind
    from corpora.table import write_concepts

    kinds = list(source_type or [])
    if kinds and len(kinds) != len(sources):
        raise typer.BadParameter(f"give --type once per SOURCE ({len(sources)}), or not at all")
    pairs = [(path, kinds[index] if kinds else detect_kind(path)) for index, path in enumerate(sources)]
    options = SourceOptions(
        code_col=code_col,
        name_col=name_col,
        lang_col=lang_col,
        concept_type=concept_type,
        encoding=encoding,
        keep_without_cui=keep_without_cui,
        umls_languages=tuple(umls_lang or ("ENG", "KOR")),
        umls_sources=tuple(umls_sab or ()),
        umls_keep_suppressed=umls_keep_suppressed,
        umls_preferred_only=umls_preferred_only,
        drug_master=drug_master,
    )
    bars = []

    def progress_for(path: Path):
        callback, bar = _progress_bar(f"reading {path.name}")
        bars.append(bar)
        return callback

    try:
        result = build_table(pairs, options, progress_for)
    finally:
        for bar in bars:
            bar.close()
    if result.table.empty:
        raise InputError(sources[0], "no names were read: nothing to write")
    write_concepts(result.table, out)
    reports_file = save_reports(result.reports, out)
    for report in result.reports:
        typer.echo(report.format())
    if not result.snomed_links.empty:
        from corpora.files import atomic_file

        links_file = reports_file.with_name(reports_file.name.replace(".report.json", ".snomed.tsv"))
        with atomic_file(links_file) as handle:
            result.snomed_links.to_csv(handle, sep="\t", index=False, lineterminator="\n")
        typer.echo(f"SNOMED CT links of EDI codes: {links_file}")
    typer.echo(f"wrote {len(result.table)} names of {result.table['code'].nunique()} codes to {out}")
    typer.echo(f"build report: {reports_file}")


@corpora_app.command("stats")
@fail_on_input_error
def stats(
    table: Annotated[Path, typer.Argument(help="A concept table (.parquet, .tsv, .tsv.gz).")],
) -> None:
    """Print codes, names per language and source, synonyms per code, and the rows skipped when it was built.

    Example: sapbert corpora stats concepts.parquet
    """
    from corpora.report import load_reports
    from corpora.stats import describe
    from corpora.table import read_concepts

    typer.echo(describe(read_concepts(table), load_reports(table)))


@corpora_app.command("pairs")
@fail_on_input_error
def pairs(
    table: Annotated[Path, typer.Argument(help="A concept table (.parquet, .tsv, .tsv.gz).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Pairs file to write (TSV: sent0, sent1, label).")],
    max_pairs: Annotated[int, typer.Option(min=1, help="At most this many pairs per code (sampled).")] = 50,
    seed: Annotated[int, typer.Option(help="Seed of the per-code sampling.")] = 42,
    cross_language_only: Annotated[bool, typer.Option(help="Only Korean-English pairs.")] = False,
) -> None:
    """Write SapBERT training pairs: pairs of names of one code, at most --max-pairs per code.

    Example: sapbert corpora pairs concepts.parquet --out pairs.tsv --max-pairs 50 --seed 42
    """
    from corpora.pairs import iter_pairs, write_pairs
    from corpora.table import read_concepts

    count = write_pairs(
        iter_pairs(read_concepts(table), max_pairs=max_pairs, seed=seed, cross_language_only=cross_language_only),
        out,
    )
    typer.echo(f"wrote {count} pairs to {out}")


@corpora_app.command("split")
@fail_on_input_error
def split(
    table: Annotated[Path, typer.Argument(help="A concept table (.parquet, .tsv, .tsv.gz).")],
    out_dir: Annotated[Path, typer.Option("--out-dir", "-o", help="Folder for train/dictionary tables, dev/test.")],
    level: Annotated[str, typer.Option(help="term (hold out synonyms) or concept (hold out whole codes).")] = "term",
    dev_size: Annotated[int, typer.Option(min=0, help="Codes giving dev queries.")] = 500,
    test_size: Annotated[int, typer.Option(min=0, help="Codes giving test queries.")] = 500,
    seed: Annotated[int, typer.Option(help="Seed of the code selection.")] = 42,
    table_format: Annotated[str, typer.Option("--format", help="Table format: parquet, tsv or tsv.gz.")] = "parquet",
) -> None:
    """Split a concept table into a training table, an evaluation dictionary and dev/test query files.

    Writes train.<format>, dictionary.<format>, dev.tsv and test.tsv (mention<TAB>code) into --out-dir.
    Example: sapbert corpora split concepts.parquet --out-dir splits/term --level term --dev-size 500
    """
    import json

    from corpora.files import atomic_file
    from corpora.queries import write_queries
    from corpora.splits import LEVELS, split_table
    from corpora.table import read_concepts, write_concepts

    if level not in LEVELS:
        raise typer.BadParameter(f"--level must be one of {', '.join(LEVELS)}")
    if table_format not in ("parquet", "tsv", "tsv.gz"):
        raise typer.BadParameter("--format must be parquet, tsv or tsv.gz")
    result = split_table(read_concepts(table), level=level, dev_size=dev_size, test_size=test_size, seed=seed)
    write_concepts(result.train, out_dir / f"train.{table_format}")
    write_concepts(result.dictionary, out_dir / f"dictionary.{table_format}")
    for name, queries in (("dev", result.dev), ("test", result.test)):
        if queries:
            write_queries(queries, out_dir / f"{name}.tsv")
    with atomic_file(out_dir / "split.json") as handle:
        json.dump({"level": level, "seed": seed, **result.counts}, handle, ensure_ascii=False, indent=2)
    for name, value in result.counts.items():
        typer.echo(f"{name}: {value}")
    typer.echo(f"wrote {out_dir}")


@corpora_app.command("build-default")
@fail_on_input_error
def build_default_command(
    masterfile: Annotated[Path, typer.Argument(help="The KOSTAT KCD-9 DB masterfile (xlsx).")] = DEFAULT_MASTERFILE,
    out: Annotated[Path | None, typer.Option(help="Where to write (default: the embedded package file).")] = None,
    abbreviations: Annotated[
        Path | None,
        typer.Option(help="Folder of clinical abbreviation inventories whose linked abbreviations become names."),
    ] = None,
) -> None:
    """Rebuild the embedded default terminology (corpora/data/kcd_concepts.tsv.gz) byte-for-byte from the masterfile.

    The shipped file also holds the linked clinical abbreviations (HCC, T2DM, HTN... as names of their codes).

    Example: sapbert corpora build-default ../shared/data/kcd/KCD-9_DB_masterfile_250701.xlsx
    --abbreviations ../shared/data/abbreviations
    """
    import hashlib

    from corpora.embedded import build_default

    callback, bar = _progress_bar(f"reading {masterfile.name}")
    try:
        target, reports = build_default(masterfile, out, callback, abbreviations=abbreviations)
    finally:
        bar.close()
    for report in reports:
        typer.echo(report.format())
    typer.echo(f"wrote {target} (sha256 {hashlib.sha256(target.read_bytes()).hexdigest()})")


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the root `sapbert` application."""
    from corpora.training_set import register_training_set_command

    register_training_set_command(corpora_app)
    app.add_typer(corpora_app, name="corpora")
