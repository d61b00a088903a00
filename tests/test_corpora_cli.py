"""`sapbert corpora ...` end to end through the root application, and the embedded default terminology."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corpora.embedded import default_terminology_path, load_default_terminology
from corpora.queries import read_queries
from corpora.table import read_concepts
from sapbert_cli import app
from tests.corpora_support import FIXTURES, write_edi_workbook, write_kcd_masterfile

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, ["corpora", *args])


@pytest.fixture
def masterfile(tmp_path: Path) -> Path:
    return write_kcd_masterfile(tmp_path / "KCD_masterfile.xlsx")


def test_every_command_has_help_with_an_example() -> None:
    for command in ("build", "stats", "pairs", "split", "build-default"):
        result = invoke(command, "--help")
        assert result.exit_code == 0
        assert "Example: sapbert corpora" in result.output


def test_build_several_sources_then_stats(tmp_path: Path, masterfile: Path) -> None:
    out = tmp_path / "concepts.parquet"
    edi = write_edi_workbook(tmp_path / "edi_snomed_lab.xlsx")
    result = invoke(
        "build",
        str(masterfile),
        str(FIXTURES / "kostom_sample.txt"),
        str(FIXTURES / "atc_mapping_sample.csv"),
        str(FIXTURES / "drug_ingredient_master_sample.csv"),
        str(edi),
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert "note (주): 1" in result.output and "row without UMLS CUI: 2" in result.output
    table = read_concepts(out)
    assert set(table["source"]) == {"kcd", "kostom", "hira-drug", "hira-edi"}
    assert {"K74.6", "C0023890", "C10AA07", "D2200"} <= set(table["code"])
    reports = json.loads((tmp_path / "concepts.report.json").read_text(encoding="utf-8"))
    assert [report["source"] for report in reports] == ["kcd", "kostom", "hira-drug", "hira-edi", "merge"]
    assert (tmp_path / "concepts.snomed.tsv").read_text(encoding="utf-8").startswith("code\tsctid")
    stats = invoke("stats", str(out))
    assert stats.exit_code == 0
    assert f"codes: {table['code'].nunique()}" in stats.output
    assert "dropped rows" in stats.output and "row without UMLS CUI: 2" in stats.output


def test_build_generic_with_type_and_columns(tmp_path: Path) -> None:
    source = tmp_path / "terms.data"
    source.write_text("id\tterm\nI10\t고혈압\nI10\tHypertension\n", encoding="utf-8")
    out = tmp_path / "terms.tsv.gz"
    result = invoke("build", str(source), "--type", "generic", "--out", str(out))
    assert result.exit_code == 2  # a .data file is no known table format
    source = source.rename(tmp_path / "terms.tsv")
    result = invoke("build", str(source), "--code-col", "id", "--name-col", "term", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert read_concepts(out)["lang"].tolist() == ["ko", "en"]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("kostom_bad.txt", "KOSTOM_ID\tID\tENG\tKOR\tCUI\nD1\tD1\tonly three\n", "line 2"),
        ("dict.csv", "", "empty"),
        ("dict.csv", "id,term\nA00,Cholera\n", "missing column"),
        ("MRCONSO.RRF", "C1|ENG|broken\n", "line 1"),
        ("unknown.bin", "x", "--type"),
    ],
)
def test_bad_input_exits_2_with_file_and_place(tmp_path: Path, name: str, content: str, expected: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = invoke("build", str(path), "--out", str(tmp_path / "out.parquet"))
    assert result.exit_code == 2
    assert str(path) in result.output and expected in result.output
    assert not (tmp_path / "out.parquet").exists()


def test_missing_table_exits_2(tmp_path: Path) -> None:
    result = invoke("stats", str(tmp_path / "nothing.parquet"))
    assert result.exit_code == 2 and "not found" in result.output


def test_pairs_and_split_commands(tmp_path: Path, masterfile: Path) -> None:
    table = tmp_path / "kcd.tsv"
    assert invoke("build", str(masterfile), "--out", str(table)).exit_code == 0
    pairs = tmp_path / "pairs.tsv"
    result = invoke("pairs", str(table), "--out", str(pairs), "--max-pairs", "3", "--seed", "1")
    assert result.exit_code == 0, result.output
    lines = pairs.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "sent0\tsent1\tlabel"
    labels = [line.split("\t")[2] for line in lines[1:]]
    assert max(labels.count(label) for label in set(labels)) == 3
    out_dir = tmp_path / "split"
    result = invoke(
        "split", str(table), "--out-dir", str(out_dir), "--dev-size", "1", "--test-size", "1", "--format", "tsv"
    )
    assert result.exit_code == 0, result.output
    dev, test = read_queries(out_dir / "dev.tsv"), read_queries(out_dir / "test.tsv")
    assert len(dev) == len(test) == 1
    train = read_concepts(out_dir / "train.tsv")
    assert not {(query.codes[0], query.mention) for query in dev + test} & set(
        zip(train["code"], train["name"], strict=True)
    )
    assert json.loads((out_dir / "split.json").read_text(encoding="utf-8"))["level"] == "term"


def test_build_default_is_byte_reproducible(tmp_path: Path, masterfile: Path) -> None:
    first, second = tmp_path / "a" / "kcd.tsv.gz", tmp_path / "b" / "kcd.tsv.gz"
    for out in (first, second):
        assert invoke("build-default", str(masterfile), "--out", str(out)).exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    assert read_concepts(first)["code"].is_monotonic_increasing


def test_embedded_default_terminology() -> None:
    path = default_terminology_path()
    assert path.name == "kcd_concepts.tsv.gz" and path.stat().st_size < 5_000_000
    table = load_default_terminology()
    assert table["code"].nunique() >= 21_000
    assert {"간경화증", "Hepatic sclerosis"} <= set(table.loc[table["code"] == "K74.1", "name"])


@pytest.mark.slow
def test_embedded_default_rebuilds_identically_from_the_real_masterfile(shared_data: Path, tmp_path: Path) -> None:
    """Reads the real masterfile and abbreviation inventories once (about 30 s) and checks the issue's counts."""
    out = tmp_path / "kcd_concepts.tsv.gz"
    masterfile = str(shared_data / "kcd" / "KCD-9_DB_masterfile_250701.xlsx")
    abbreviations = str(shared_data / "abbreviations")
    result = invoke("build-default", masterfile, "--out", str(out), "--abbreviations", abbreviations)
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == default_terminology_path().read_bytes()
    reports = json.loads((tmp_path / "kcd_concepts.report.json").read_text(encoding="utf-8"))
    assert {item["source"] for item in reports[1:]} >= {"abbrev:vanderbilt-clinic", "abbrev:stetson"}
    report = reports[0]
    assert report["counts"]["codes"] >= 21_000
    assert report["counts"]["inclusion rows"] >= 26_000
    assert report["counts"]["exclusion terms attached"] > 0
    table = read_concepts(out)
    abbreviations = table[table["term_type"] == "abbreviation"]
    assert not abbreviations.duplicated(["code", "name"]).any()
    assert {("HCC", "C22.0"), ("T2DM", "E11"), ("HTN", "I10.9")} <= set(
        zip(abbreviations["name"], abbreviations["code"], strict=True)
    )
    derived = table[table["term_type"] == "derived"]
    assert {("간암", "C22.9"), ("갑상선암", "C73"), ("stomach cancer", "C16")} <= set(
        zip(derived["name"], derived["code"], strict=True)
    )
    assert not set(derived["name"]) & set(table.loc[table["term_type"] != "derived", "name"])
    langs = table.groupby("code")["lang"].agg(set)
    assert langs.map(lambda found: {"ko", "en"} <= found).mean() > 0.99
