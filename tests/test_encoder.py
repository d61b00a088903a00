"""The shared Encoder: loading tiny BERT and XLM-R folders, pooling, order, normalisation, settings."""

from __future__ import annotations

import numpy as np
import pytest
from transformers import AutoModel

from pretrain.encoder import Encoder, EncoderSettings

TERMS = ["간경화", "liver cirrhosis", "제2형 당뇨병", "T2DM", "r/o HCC", "두통"]


@pytest.mark.parametrize("fixture", ["tiny_bert", "tiny_xlmr"])
def test_encode_returns_unit_vectors_in_input_order(fixture: str, request: pytest.FixtureRequest) -> None:
    encoder = Encoder.from_pretrained(request.getfixturevalue(fixture), device="cpu")
    vectors = encoder.encode(TERMS, batch_size=2)
    assert vectors.shape == (len(TERMS), encoder.dim)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    one_by_one = np.stack([encoder.encode([term])[0] for term in TERMS])
    np.testing.assert_allclose(vectors, one_by_one, atol=1e-5)
    assert not np.allclose(vectors[0], vectors[1])


def test_nfc_and_decomposed_hangul_embed_the_same(tiny_bert) -> None:
    import unicodedata

    encoder = Encoder.from_pretrained(tiny_bert, device="cpu")
    composed, decomposed = "간경화", unicodedata.normalize("NFD", "간경화")
    vectors = encoder.encode([composed, decomposed])
    np.testing.assert_allclose(vectors[0], vectors[1], atol=1e-6)


def test_settings_roundtrip_and_override(tiny_xlmr, tmp_path) -> None:
    encoder = Encoder.from_pretrained(tiny_xlmr, device="cpu")
    assert encoder.settings == EncoderSettings(pooling="mean", max_length=32)
    encoder = Encoder.from_pretrained(tiny_xlmr, pooling="cls", prefix="query: ", device="cpu")
    saved = encoder.save_pretrained(tmp_path / "copy")
    assert EncoderSettings.load(saved) == EncoderSettings(pooling="cls", max_length=32, prefix="query: ")
    assert AutoModel.from_pretrained(saved) is not None
    assert Encoder.from_pretrained(saved, device="cpu").fingerprint() == encoder.fingerprint()


def test_fingerprint_ignores_the_random_pooler_of_a_folder_without_one(tiny_bert) -> None:
    first, second = (Encoder.from_pretrained(tiny_bert, device="cpu") for _ in range(2))
    assert not __import__("torch").equal(first.model.pooler.dense.weight, second.model.pooler.dense.weight)
    assert first.fingerprint() == second.fingerprint()


def test_fingerprint_changes_with_weights(tiny_bert) -> None:
    encoder = Encoder.from_pretrained(tiny_bert, device="cpu")
    before = encoder.fingerprint()
    with __import__("torch").no_grad():
        next(encoder.model.parameters()).add_(0.01)
    assert encoder.fingerprint() != before


def test_missing_model_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="cannot load model"):
        Encoder.from_pretrained(str(tmp_path / "nope"), device="cpu")


def test_invalid_pooling_rejected() -> None:
    with pytest.raises(ValueError, match="pooling"):
        EncoderSettings(pooling="max")
