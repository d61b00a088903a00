"""The linker's commands: `sapbert index build`, `sapbert normalize`, `sapbert link` (schemas, order, errors)."""

# ruff: noqa: F811  (pytest fixtures imported from tests.linker_support are parameters here)

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sapbert_cli import app
from tests.linker_support import (  # noqa: F401  (pytest fixtures)
    NOTE,
    NOTE_LINKS,
    THRESHOLD,
    index_dir,
    linker_model,
    other_model,
    terminology,
)

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(arg) for arg in args], catch_exceptions=False)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_index_build_writes_a_loadable_index(linker_model: Path, terminology: Path, tmp_path: Path) -> None:
    result = run("index", "build", "--model", linker_model, "--terminology", terminology, "--out", tmp_path / "idx")
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "idx" / "index.json").read_text(encoding="utf-8"))
    assert meta["kind"] == "flat" and meta["terminology"] == str(terminology.resolve())
    result = run("normalize", "--index", tmp_path / "idx", "--top-k", "1", "간경화")
    assert json.loads(result.stdout) == {
        "mention": "간경화",
        "candidates": [{"code": "K74.6", "name": "간경화", "score": pytest.approx(1.0, abs=1e-3)}],
    }


def test_index_build_reports_a_bad_terminology(linker_model: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("label\tvalue\nx\ty\n", encoding="utf-8")
    result = run("index", "build", "--model", linker_model, "--terminology", bad, "--out", tmp_path / "idx")
    assert result.exit_code == 2
    assert "bad.tsv" in result.stderr and "missing column" in result.stderr
    assert not (tmp_path / "idx").exists()


def test_normalize_file_keeps_input_order_and_schema(index_dir: Path, tmp_path: Path) -> None:
    mentions = tmp_path / "mentions.txt"
    mentions.write_text("HCC\n두통\n\nT2DM\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run("normalize", "--index", index_dir, "--input", mentions, "--output", out, "--top-k", "3")
    assert result.exit_code == 0, result.output
    records = read_jsonl(out)
    assert [r["mention"] for r in records] == ["HCC", "두통", "", "T2DM"]
    assert [r["candidates"][0]["code"] for r in records if r["mention"]] == ["C22.0", "R51", "E11"]
    assert all(set(c) == {"code", "name", "score"} for r in records for c in r["candidates"])
    assert [len(r["candidates"]) for r in records] == [3, 3, 0, 3]
    assert "line 3" in result.stderr


def test_link_jsonl_reports_bad_lines_and_links_the_rest(index_dir: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.jsonl"
    lines = [
        json.dumps({"id": "a", "body": NOTE}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": "b", "body": "두통 호소"}, ensure_ascii=False),
        json.dumps({"id": "c", "text": "no body field"}),
        json.dumps({"body": ""}),
    ]
    notes.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "linked.jsonl"
    result = run(
        "link", "--index", index_dir, "--threshold", THRESHOLD, "--input", notes, "--text-field", "body",
        "--output", out, "--batch-size", "2",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "line 2" in result.stderr and "line 4" in result.stderr
    records = read_jsonl(out)
    assert [r["id"] for r in records] == ["a", "b", 5]
    first = records[0]["entities"]
    assert [(e["text"], e["code"]) for e in first] == NOTE_LINKS
    for entity in first:
        assert NOTE[entity["start"] : entity["end"]] == entity["text"]
        assert set(entity) == {"start", "end", "text", "label", "code", "name", "score", "candidates"}
        assert entity["candidates"][0] == {"code": entity["code"], "name": entity["name"], "score": entity["score"]}
    assert records[2]["entities"] == []


def test_link_plain_text_and_folders(index_dir: Path, tmp_path: Path) -> None:
    text_file = tmp_path / "notes.txt"
    text_file.write_text(f"{NOTE}\n두통\n", encoding="utf-8")
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "b.txt").write_text("r/o HCC", encoding="utf-8")
    (folder / "a.txt").write_text(NOTE, encoding="utf-8")
    for source, ids in ((text_file, [1, 2]), (folder, ["a.txt", "b.txt"])):
        out = tmp_path / f"{source.name}.jsonl"
        result = run("link", "--index", index_dir, "--threshold", THRESHOLD, "--input", source, "--output", out)
        assert result.exit_code == 0, result.output
        assert [r["id"] for r in read_jsonl(out)] == ids


def test_link_text_prints_a_table_or_json(index_dir: Path) -> None:
    result = run("link", "--index", index_dir, "--threshold", THRESHOLD, "--text", NOTE)
    assert result.exit_code == 0, result.output
    assert NOTE in result.stdout
    for mention, code in NOTE_LINKS:
        assert any(mention in line and code in line for line in result.stdout.splitlines())
    result = run("link", "--index", index_dir, "--threshold", THRESHOLD, "--text", NOTE, "--json")
    record = json.loads(result.stdout)
    assert record["text"] == NOTE and [e["code"] for e in record["entities"]] == [code for _, code in NOTE_LINKS]


def test_errors_are_one_line_with_exit_code_2(index_dir: Path, other_model: Path, tmp_path: Path) -> None:
    result = run("normalize", "--index", tmp_path / "nowhere", "두통")
    assert result.exit_code == 2 and "not a dictionary index" in result.stderr
    result = run("normalize", "--index", index_dir, "--model", other_model, "두통")
    assert result.exit_code == 2 and "built with model" in result.stderr
    result = run("link", "--index", index_dir, "--input", tmp_path / "missing.jsonl")
    assert result.exit_code == 2 and "missing.jsonl" in result.stderr


def test_link_writes_nothing_when_it_fails_half_way(
    index_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import linker.notes

    records = linker.notes.entity_records
    seen = []

    def fail_on_second(doc):
        seen.append(doc)
        if len(seen) == 2:
            raise RuntimeError("interrupted")
        return records(doc)

    monkeypatch.setattr(linker.notes, "entity_records", fail_on_second)
    notes = tmp_path / "notes.txt"
    notes.write_text("두통\nHCC\n", encoding="utf-8")
    out = tmp_path / "linked.jsonl"
    result = runner.invoke(app, ["link", "--index", str(index_dir), "--input", str(notes), "--output", str(out)])
    assert isinstance(result.exception, RuntimeError)
    assert not out.exists() and not list(tmp_path.glob(".linked.jsonl*"))
