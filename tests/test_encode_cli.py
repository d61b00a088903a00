"""`sapbert similarity` and `sapbert encode` on the tiny fixture models, through the root application."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from pretrain.encoder import Encoder
from sapbert_cli import app

TERMS = ["간경화", "liver cirrhosis", "제2형 당뇨병", "T2DM", "r/o HCC"]


def invoke(*args: str):
    return CliRunner().invoke(app, [str(arg) for arg in args])


@pytest.mark.parametrize("fixture", ["tiny_bert", "tiny_xlmr"])
def test_similarity_json_gives_each_target_its_cosine(fixture: str, request: pytest.FixtureRequest) -> None:
    model = request.getfixturevalue(fixture)
    result = invoke("similarity", "간경화", "간경화", "liver cirrhosis", "T2DM", "--model", model, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [row["target"] for row in payload["results"]] == ["간경화", "liver cirrhosis", "T2DM"]
    vectors = Encoder.from_pretrained(model, device="cpu").encode(["간경화", "liver cirrhosis", "T2DM"])
    expected = vectors @ vectors[0]
    np.testing.assert_allclose([row["cosine"] for row in payload["results"]], expected, atol=1e-4)


def test_similarity_prints_one_line_per_target(tiny_bert: Path) -> None:
    result = invoke("similarity", "간경화", "liver cirrhosis", "간경화", "--model", tiny_bert)
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert [line.split("  ", 1)[1] for line in lines] == ["liver cirrhosis", "간경화"]
    assert float(lines[1].split()[0]) == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("fixture", ["tiny_bert", "tiny_xlmr"])
def test_encode_writes_rows_in_line_order(fixture: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    model = request.getfixturevalue(fixture)
    source = tmp_path / "terms.txt"
    source.write_text("\n".join(TERMS) + "\n", encoding="utf-8")
    output = tmp_path / "terms.npy"
    result = invoke("encode", "--input", source, "--output", output, "--model", model, "--batch-size", "2")
    assert result.exit_code == 0, result.output
    vectors = np.load(output)
    expected = Encoder.from_pretrained(model, device="cpu").encode(TERMS)
    assert vectors.dtype == np.float32 and vectors.shape == expected.shape
    np.testing.assert_allclose(vectors, expected, atol=1e-5)


@pytest.mark.parametrize(
    ("content", "place"),
    [(b"liver\n\ncirrhosis\n", "line 2"), (b"ok\n\xff\xfe bad\n", "line 2"), (b"", "empty")],
)
def test_encode_rejects_bad_input_with_file_and_line(content: bytes, place: str, tiny_bert: Path, tmp_path: Path):
    source = tmp_path / "terms.txt"
    source.write_bytes(content)
    output = tmp_path / "out.npy"
    result = invoke("encode", "--input", source, "--output", output, "--model", tiny_bert)
    assert result.exit_code == 2
    assert str(source) in result.stderr and place in result.stderr
    assert not output.exists()


def test_missing_input_and_missing_model_exit_2(tiny_bert: Path, tmp_path: Path) -> None:
    result = invoke("encode", "--input", tmp_path / "nope.txt", "--output", tmp_path / "o.npy", "--model", tiny_bert)
    assert result.exit_code == 2 and "nope.txt" in result.stderr
    result = invoke("similarity", "a", "b", "--model", tmp_path / "no-model")
    assert result.exit_code == 2 and "cannot load model" in result.stderr


@pytest.mark.parametrize("command", ["similarity", "encode"])
def test_help_has_an_example(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert f"Example: sapbert {command}" in result.stdout


def test_encode_cpu_bf16_stays_close_to_float32(tiny_xlmr: Path, tmp_path: Path) -> None:
    source = tmp_path / "terms.txt"
    source.write_text("\n".join(TERMS), encoding="utf-8")
    output = tmp_path / "bf16.npy"
    result = invoke("encode", "-i", source, "-o", output, "--model", tiny_xlmr, "--device", "cpu", "--cpu-bf16")
    assert result.exit_code == 0, result.output
    expected = Encoder.from_pretrained(tiny_xlmr, device="cpu").encode(TERMS)
    assert (np.load(output) * expected).sum(axis=1).min() >= 0.99
