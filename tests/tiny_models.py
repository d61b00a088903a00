"""Tiny random-weight encoders built on the spot, so tests never download a model.

Both tokenizers cover ASCII and every Hangul syllable character by character, so any Korean-English test string
tokenises without unknown pieces; identical strings get identical vectors, different strings different ones.
"""

from __future__ import annotations

import string
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import BertConfig, BertModel, PreTrainedTokenizerFast, XLMRobertaConfig, XLMRobertaModel

from pretrain.encoder import EncoderSettings

HANGUL = [chr(code) for code in range(0xAC00, 0xD7A4)]
ASCII = [c for c in string.printable if not c.isspace()]


def build_tiny_bert(folder: Path, *, pooling: str = "cls", max_length: int = 32, seed: int = 0) -> Path:
    """Write a 2-layer, 32-wide BERT with a character WordPiece vocabulary into ``folder``; return it."""
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    pieces = specials + ASCII + HANGUL + ["##" + c for c in ASCII + HANGUL]
    vocab = {piece: index for index, piece in enumerate(pieces)}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    tok.decoder = decoders.WordPiece()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )
    config = BertConfig(
        vocab_size=len(pieces),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        pad_token_id=0,
    )
    torch.manual_seed(seed)
    model = BertModel(config, add_pooling_layer=False)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    EncoderSettings(pooling=pooling, max_length=max_length).save(folder)
    return folder


def build_tiny_xlmr(
    folder: Path,
    *,
    pooling: str = "mean",
    max_length: int = 32,
    seed: int = 0,
    words: tuple[str, ...] = (),
) -> Path:
    """Write a 2-layer, 32-wide XLM-R with a character Unigram (SentencePiece-style) vocabulary; return it.

    ``words`` become whole-word pieces ("▁" + word) that the tokenizer prefers over their characters.
    """
    specials = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    chars = ASCII + HANGUL
    pieces = specials + [("▁", -2.0)] + [("▁" + c, -3.0) for c in chars] + [(c, -4.0) for c in chars]
    pieces += [("▁" + word, -1.0) for word in words]
    pieces.append(("<mask>", 0.0))
    tok = Tokenizer(models.Unigram(pieces, unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        cls_token="<s>",
        sep_token="</s>",
        mask_token="<mask>",
    )
    config = XLMRobertaConfig(
        vocab_size=len(pieces),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=130,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    )
    torch.manual_seed(seed)
    model = XLMRobertaModel(config, add_pooling_layer=False)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    EncoderSettings(pooling=pooling, max_length=max_length).save(folder)
    return folder
