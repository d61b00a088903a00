"""The training terminology of the default model: KCD plus the open extra sources, as one concept table.

Sources, in priority order (the first source of a name keeps it when several give one code the same name):

1. KCD (the embedded default terminology or any KCD concept table): preferred names, inclusion synonyms and
   exclusion terms at their real codes, Korean and English; concept type ``disease``.
2. HIRA procedure (EDI, ``procedure``/``lab``) and drug (ATC, ``drug``) tables, as separate concept types
   (:mod:`corpora.hira_edi`, :mod:`corpora.hira_drugs`), when a HIRA folder is given.
3. ICD-10-CM English terms where code and name agree with KCD (:mod:`corpora.icd10cm`).
4. English clinical abbreviations linked through their usual sense (:mod:`corpora.abbreviations`; CC BY 4.0, the
   attribution is :data:`corpora.abbreviations.ATTRIBUTION`).

Names are de-duplicated per code under :func:`corpora.splits.match_key` (case, spacing and punctuation ignored).

Held-out evaluation: split KCD first (:func:`corpora.splits.split_table`), build from its training table and pass
the dev/test queries as ``held_out``: every source's row whose (code, match key) is a held-out (gold code, mention)
is removed, so an ICD-10-CM term or abbreviation cannot bring a held-out synonym back. With a concept-level split
the held-out codes are absent from the training table, so no source attaches names to them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from corpora.queries import Query
from corpora.report import ReadReport

if TYPE_CHECKING:
    import pandas as pd

HIRA_EDI_FILES = ("edi_snomed_map_ch1_basic_care.xlsx", "edi_snomed_map_ch2_lab_tests.xlsx")
HIRA_ATC_FILE = "atc_mapping_20240630.csv"
HIRA_MASTER_FILE = "drug_ingredient_master_20241014.csv"


@dataclass
class TrainingTerminology:
    """The combined concept table, the read report of each added source, and the notices its sources require."""

    table: pd.DataFrame
    reports: list[ReadReport] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def read_hira_folder(folder: str | Path) -> tuple[list[pd.DataFrame], list[ReadReport]]:
    """Return the HIRA EDI procedure/lab tables and the ATC drug table of a folder laid out as ``shared/data/hira``."""
    from corpora.errors import InputError
    from corpora.hira_drugs import read_hira_drugs
    from corpora.hira_edi import read_edi

    root = Path(folder)
    missing = [name for name in (*HIRA_EDI_FILES, HIRA_ATC_FILE) if not (root / name).exists()]
    if missing:
        raise InputError(root, f"HIRA folder lacks {', '.join(missing)}")
    tables, reports = [], []
    for name in HIRA_EDI_FILES:
        table, report, _links = read_edi(root / name)
        tables.append(table)
        reports.append(report)
    master = root / HIRA_MASTER_FILE
    table, report = read_hira_drugs(root / HIRA_ATC_FILE, master if master.exists() else None)
    return [*tables, table], [*reports, report]


def build_training_terminology(
    kcd: pd.DataFrame | None = None,
    *,
    icd10cm: bool = True,
    abbreviations: str | Path | None = None,
    hira: str | Path | None = None,
    held_out: Iterable[Query] = (),
    progress: Callable[[str], None] | None = None,
) -> TrainingTerminology:
    """Return KCD plus the chosen extra sources as one concept table, de-duplicated per code and name.

    ``kcd`` defaults to the embedded default terminology; ``abbreviations`` is a folder of abbreviation inventories
    (``shared/data/abbreviations``), ``hira`` a HIRA folder (``shared/data/hira``); None leaves a source out.
    ``held_out`` queries (dev/test) are removed from every source; ``progress`` is told the name of each step.
    """
    import pandas as pd

    from corpora.splits import match_key
    from corpora.table import conform

    step = progress or (lambda name: None)
    if kcd is None:
        from corpora.embedded import load_default_terminology

        kcd = load_default_terminology()
    parts, reports, notices = [conform(kcd)], [], []
    if hira is not None:
        step("HIRA procedures and drugs")
        tables, hira_reports = read_hira_folder(hira)
        parts += tables
        reports += hira_reports
    icd10cm_table = None
    if icd10cm:
        from corpora.icd10cm import read_icd10cm

        step("ICD-10-CM terms")
        result = read_icd10cm(kcd)
        icd10cm_table = result.table
        parts.append(icd10cm_table)
        reports.append(result.report)
    if abbreviations is not None:
        from corpora.abbreviations import ATTRIBUTION, inventory_files, read_abbreviations

        step("clinical abbreviations")
        linked = read_abbreviations(inventory_files(abbreviations), kcd, icd10cm=icd10cm_table)
        parts.append(linked.table)
        reports += linked.reports
        notices.append(ATTRIBUTION)
    step("combining")
    combined = pd.concat(parts, ignore_index=True)
    keys = combined["code"] + "\t" + combined["name"].map(match_key)
    duplicate = keys.duplicated()
    held = {f"{code}\t{match_key(query.mention)}" for query in held_out for code in query.codes}
    is_held = keys.isin(held) & ~duplicate
    summary = ReadReport("training-set", "combined")
    summary.rows_read = len(combined)
    summary.skip("same code and name as an earlier source", int(duplicate.sum()))
    summary.skip("held-out (dev/test) name", int(is_held.sum()))
    table = combined[~duplicate & ~is_held].reset_index(drop=True)
    for (source, lang), count in table.groupby(["source", "lang"]).size().items():
        summary.counts[f"names {source} {lang}"] = int(count)
    summary.counts["codes"] = table["code"].nunique()
    return TrainingTerminology(table, [*reports, summary], notices)


def register_training_set_command(corpora_app: typer.Typer) -> None:
    """Add ``sapbert corpora training-set`` to the corpora command group."""
    from corpora.cli_support import fail_on_input_error

    @corpora_app.command("training-set")
    @fail_on_input_error
    def training_set(
        out: Annotated[Path, typer.Option(help="Output concept table (.parquet, .tsv or .tsv.gz).")],
        data: Annotated[
            Path, typer.Option(help="Folder holding abbreviations/ and hira/ (the shared data folder).")
        ] = Path("../shared/data"),
        kcd: Annotated[Path | None, typer.Option(help="KCD concept table; default: the embedded terminology.")] = None,
        icd10cm: Annotated[bool, typer.Option(help="Add agreeing ICD-10-CM English terms.")] = True,
        abbreviations: Annotated[bool, typer.Option(help="Add linked clinical abbreviations.")] = True,
        hira: Annotated[bool, typer.Option(help="Add HIRA procedure and drug concepts.")] = True,
        held_out: Annotated[
            list[Path] | None, typer.Option(help="Dev/test query file(s) whose names training must not see.")
        ] = None,
    ) -> None:
        """Build the training terminology: KCD + HIRA + ICD-10-CM terms + clinical abbreviations.

        Example: sapbert corpora training-set --out training_terms.parquet --data ../shared/data

        With a held-out split: sapbert corpora training-set --kcd splits/term/train.parquet
        --held-out splits/term/dev.tsv --held-out splits/term/test.tsv --out training_terms.parquet
        """
        from tqdm import tqdm

        from corpora.queries import read_queries
        from corpora.report import report_path, save_reports
        from corpora.table import read_concepts, write_concepts

        queries = [query for path in held_out or [] for query in read_queries(path)]
        with tqdm(total=1 + hira + icd10cm + abbreviations, desc="training set", unit="step") as bar:

            def advance(name: str) -> None:
                bar.set_postfix_str(name)
                bar.update(1)

            result = build_training_terminology(
                read_concepts(kcd) if kcd else None,
                icd10cm=icd10cm,
                abbreviations=data / "abbreviations" if abbreviations else None,
                hira=data / "hira" if hira else None,
                held_out=queries,
                progress=advance,
            )
        target = write_concepts(result.table, out)
        save_reports(result.reports, target)
        for report in result.reports:
            typer.echo(report.format())
        if result.notices:
            notice = report_path(target).with_name(report_path(target).name.replace(".report.json", ".NOTICE.txt"))
            notice.write_text("\n".join(result.notices) + "\n", encoding="utf-8")
            typer.echo("\n".join(result.notices))
        typer.echo(f"wrote {len(result.table)} names of {result.table['code'].nunique()} codes to {target}")
