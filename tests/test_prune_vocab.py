"""Vocabulary pruning: the pieces a terminology uses plus every single character stay, and nothing else changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from transformers import AutoModel

from pretrain.encoder import Encoder
from pretrain.prune_vocab import prune_vocabulary
from tests.tiny_models import build_tiny_bert, build_tiny_xlmr

WORDS = ("간경화", "cirrhosis", "당뇨병", "headache")


@pytest.fixture(scope="module")
def worded_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_xlmr(tmp_path_factory.mktemp("worded") / "model", words=WORDS)


def test_names_keep_their_pieces_and_vectors(worded_model: Path, tmp_path: Path) -> None:
    names = ["간경화", "liver cirrhosis"]
    result = prune_vocabulary(worded_model, names, tmp_path / "pruned")
    before, after = Encoder.from_pretrained(worded_model), Encoder.from_pretrained(result.folder)
    assert result.pieces_before - result.pieces_kept == 2  # ▁당뇨병 and ▁headache: no name uses them
    assert after.tokenizer.convert_ids_to_tokens(after.tokenizer("간경화")["input_ids"]) == ["<s>", "▁간경화", "</s>"]
    np.testing.assert_allclose(after.encode(names), before.encode(names), atol=1e-6)
    assert result.parameters_before - result.parameters_after == 2 * 32
    assert AutoModel.from_pretrained(result.folder).get_input_embeddings().num_embeddings == result.pieces_kept


def test_dropped_words_still_tokenize_into_characters(worded_model: Path, tmp_path: Path) -> None:
    folder = prune_vocabulary(worded_model, ["간경화"], tmp_path / "pruned").folder
    pruned = Encoder.from_pretrained(folder)
    pieces = pruned.tokenizer.convert_ids_to_tokens(pruned.tokenizer("당뇨병 headache")["input_ids"])
    assert pieces[1:4] == ["▁당", "뇨", "병"] and "<unk>" not in pieces
    assert pruned.tokenizer.pad_token_id == pruned.model.config.pad_token_id


def test_wordpiece_vocabularies_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="only Unigram"):
        prune_vocabulary(build_tiny_bert(tmp_path / "bert"), ["간경화"], tmp_path / "pruned")


def test_command_reports_what_it_kept(worded_model: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from corpora.table import concept_frame, write_concepts
    from sapbert_cli import app

    terms = write_concepts(concept_frame([{"code": "K74.6", "name": "간경화"}]), tmp_path / "terms.tsv")
    out = tmp_path / "pruned"
    result = CliRunner().invoke(app, ["prune-vocab", str(terms), "--out", str(out), "--model", str(worded_model)])
    assert result.exit_code == 0, result.output
    assert "by the 1 names" in result.output and (out / "model.safetensors").is_file()
