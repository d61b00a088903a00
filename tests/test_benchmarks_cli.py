"""The `sapbert bench` commands end to end: query formats, bad input, the smoke report CI runs."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from corpora.table import concept_frame, write_concepts
from sapbert_cli import app

runner = CliRunner()


def terminology(tmp_path: Path) -> Path:
    rows = [("K74.6", "간경변증"), ("K74.6", "liver cirrhosis"), ("I10", "본태성 고혈압"), ("I10", "hypertension")]
    return write_concepts(concept_frame({"code": c, "name": n} for c, n in rows), tmp_path / "terms.tsv")


def test_bench_help_lists_commands_with_examples() -> None:
    result = runner.invoke(app, ["bench", "--help"])
    assert result.exit_code == 0
    for command in ("sets", "accuracy", "all"):
        assert command in result.output
    assert "Example" in runner.invoke(app, ["bench", "accuracy", "--help"]).output


def test_accuracy_reads_both_query_formats(tmp_path: Path) -> None:
    tsv = tmp_path / "tsv.tsv"
    tsv.write_text("mention\tcode\nLiver Cirrhosis\tK74.6\n고혈압\tI10|I10.9\n", encoding="utf-8")
    xlbel = tmp_path / "xlbel.txt"
    xlbel.write_text("K74.6||liver-cirrhosis\nI10|I10.9||Hypertension\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ["bench", "accuracy", "-q", str(tsv), "-q", str(xlbel), "--terminology", str(terminology(tmp_path))]
    result = runner.invoke(app, [*args, "-s", "exact", "-s", "tfidf", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = json.loads((out / "accuracy.json").read_text(encoding="utf-8"))["rows"]
    exact = {(r["test_set"], r["convention"]): r["acc1"] for r in rows if r["system"] == "exact"}
    assert exact[("tsv", "code")] == 0.5  # "Liver Cirrhosis" matches, "고혈압" does not
    assert exact[("xlbel", "code")] == 1.0  # case and hyphen ignored
    report = (out / "accuracy.md").read_text(encoding="utf-8")
    assert "Hit convention `code`" in report and "Hit convention `category`" in report
    assert (out / "accuracy.png").stat().st_size > 0


def test_malformed_queries_give_one_error_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("mention\tcode\nonly-one-field\n", encoding="utf-8")
    result = runner.invoke(app, ["bench", "accuracy", "-q", str(bad), "--terminology", str(terminology(tmp_path))])
    assert result.exit_code == 2
    assert "bad.tsv" in result.output and "line 2" in result.output


def test_smoke_report_runs_every_section(tmp_path: Path, tiny_bert: Path) -> None:
    out = tmp_path / "results"
    systems = ["-s", "exact", "-s", "tfidf", "-s", str(tiny_bert), "-s", f"hybrid:{tiny_bert}"]
    result = runner.invoke(app, ["bench", "all", "--smoke", "--synthetic-names", "700", "--out", str(out), *systems])
    assert result.exit_code == 0, result.output
    for name in ("report.md", "results.json", "accuracy.png", "accuracy-category.png", "index.png"):
        assert (out / name).stat().st_size > 0, name
    report = (out / "report.md").read_text(encoding="utf-8")
    for heading in ("## Machine and command", "## Accuracy", "### Hybrid weights", "## Index trade-offs"):
        assert heading in report
    assert "| heldout-ko |" in report and "| everyday |" in report
    assert "Not run at smoke scale" in report  # the encoder speed benchmark loads the real base model
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    sets = {row["test_set"] for row in results["accuracy"]}
    assert len(results["accuracy"]) == len(sets) * 4 * 2  # every set x system x convention
    kinds = {(row["dictionary"].split()[0], row["kind"]) for row in results["indexes"] if not row["note"]}
    # the smoke dictionary (120 names) is too small to train IVF-PQ: its row says so instead of timing it
    assert kinds == {(d, k) for d in ("dictionary", "synthetic-700") for k in ("flat", "hnsw")} | {
        ("synthetic-700", "ivfpq")
    }
    assert any("ivfpq" in row["note"] for row in results["indexes"])
    assert results["facts"]["cpu"] and results["facts"]["faiss-cpu"]


def test_sets_reads_a_split_folder_and_can_sample_the_dictionary(tmp_path: Path) -> None:
    split = tmp_path / "split"
    split.mkdir()
    terminology(tmp_path).rename(split / "dictionary.tsv")
    (split / "test.tsv").write_text("mention\tcode\n간경화\tK74.6\nhigh blood pressure\tI10\n", encoding="utf-8")
    (split / "dev.tsv").write_text("mention\tcode\n경변증\tK74.6\n", encoding="utf-8")
    out = tmp_path / "suite"
    result = runner.invoke(app, ["bench", "sets", "--split", str(split), "--out", str(out), "--sample-codes", "0"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "suite.json").read_text(encoding="utf-8"))
    assert manifest["dev"] == str((split / "dev.tsv").resolve())
    assert {s["name"] for s in manifest["sets"]} >= {"heldout-ko", "heldout-en", "robust-typo", "everyday"}
    assert "gold codes of every set" in manifest["notes"][0]
    missing = runner.invoke(app, ["bench", "sets", "--split", str(tmp_path / "nowhere"), "--out", str(out)])
    assert missing.exit_code == 2 and "not a split folder" in missing.output
