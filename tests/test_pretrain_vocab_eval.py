"""Vocabulary extension and the dev-set accuracy used while training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from pretrain.dev_eval import code_ranking, link_accuracy
from pretrain.encoder import Encoder
from pretrain.train import TrainConfig, Trainer
from tests.test_pretrain_train import one_thread, small_config  # noqa: F401

NAMES = ["간경변증", "알코올성 간경변증", "간경변증 NOS", "cirrhosis", "liver cirrhosis", "간암", "두통"]


def test_frequent_split_words_are_the_frequent_multi_piece_words(tiny_bert) -> None:
    from pretrain.vocab import frequent_split_words

    tokenizer = Encoder.from_pretrained(tiny_bert, device="cpu").tokenizer
    assert frequent_split_words(NAMES, tokenizer, max_words=5, min_count=3) == ["간경변증"]
    assert frequent_split_words(NAMES, tokenizer, max_words=5, min_count=2) == ["간경변증", "cirrhosis"]
    assert frequent_split_words(NAMES, tokenizer, max_words=5, min_count=1, min_pieces=9) == ["cirrhosis"]
    words = frequent_split_words(NAMES, tokenizer, max_words=3, min_count=1)
    assert words == ["간경변증", "cirrhosis", "NOS"]  # by count, then alphabetical


def test_extended_words_become_one_token_initialised_from_their_pieces(tiny_bert, tmp_path) -> None:
    from pretrain.vocab import extend_vocabulary

    encoder = Encoder.from_pretrained(tiny_bert, device="cpu")
    before = encoder.model.get_input_embeddings().weight.detach().clone()
    pieces = encoder.tokenizer.convert_tokens_to_ids(encoder.tokenizer.tokenize("간경변증"))
    assert extend_vocabulary(encoder, ["간경변증", "a"]) == 1  # "a" is one token already
    token = encoder.tokenizer.convert_tokens_to_ids("간경변증")
    assert encoder.tokenizer.tokenize("알코올성 간경변증") == ["알", "##코", "##올", "##성", "간경변증"]
    weight = encoder.model.get_input_embeddings().weight
    assert weight.shape[0] == len(encoder.tokenizer) == before.shape[0] + 1
    torch.testing.assert_close(weight[token], before[pieces].mean(dim=0))
    torch.testing.assert_close(weight[: before.shape[0]], before)
    saved = encoder.save_pretrained(tmp_path / "extended")
    assert AutoModel.from_pretrained(saved).get_input_embeddings().weight.shape[0] == len(encoder.tokenizer)
    assert AutoTokenizer.from_pretrained(saved).tokenize("간경변증") == ["간경변증"]


def test_trainer_extends_the_vocabulary_on_request(tiny_bert, tmp_path) -> None:
    config = small_config(tiny_bert, tmp_path, extend_vocab=3, vocab_min_count=2)
    trainer = Trainer(config)
    assert trainer.vocab_added == 1  # of the words in two names, only 고혈압 has 3+ pieces (2형, 폐렴 have 2)
    assert trainer.encoder.tokenizer.tokenize("본태성 고혈압")[-1] == "고혈압"
    assert len(trainer.encoder.tokenizer) == trainer.encoder.model.get_input_embeddings().num_embeddings


def test_code_ranking_uses_each_codes_best_name() -> None:
    names = np.array([[1.0, 0.0], [0.8, 0.6], [0.6, 0.8], [0.0, 1.0]], dtype=np.float32)
    name_codes = np.array([0, 1, 1, 2])
    queries = np.array([[0.0, 1.0], [0.96, 0.28]], dtype=np.float32)
    ranking = code_ranking(queries, names, name_codes, n_codes=3, k=3)
    assert ranking.tolist() == [[2, 1, 0], [0, 1, 2]]


def test_link_accuracy_counts_any_gold_code(tiny_bert) -> None:
    encoder = Encoder.from_pretrained(tiny_bert, device="cpu")
    names, codes = ["간경화", "간암", "두통"], ["K74.6", "C22.0", "R51"]
    scores = link_accuracy(encoder, ["간경화", "두통"], [("X", "K74.6"), ("C22.0",)], names, codes, ks=(1, 3))
    assert scores == pytest.approx({"acc@1": 0.5, "acc@3": 1.0})


def test_dev_queries_outside_the_dictionary_are_counted(tiny_bert, tmp_path) -> None:
    config = small_config(tiny_bert, tmp_path)
    with open(config.dev, "a", encoding="utf-8") as handle:
        handle.write("무슨병\tZ99\n")
    trainer = Trainer(TrainConfig(**config.__dict__))
    assert trainer.dev_unlinkable == 1 and len(trainer.dev[0]) == 7
