"""Shared fixtures: tiny models built once per test session, an isolated user cache, the shared data folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.tiny_models import build_tiny_bert, build_tiny_xlmr

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach a model hub

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny BERT-style model folder (cls pooling) with random weights."""
    return build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def tiny_xlmr(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny XLM-R-style model folder (mean pooling, SentencePiece-like tokenizer) with random weights."""
    return build_tiny_xlmr(tmp_path_factory.mktemp("tiny-xlmr"))


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the user cache at a fresh folder, so no test reads or writes the real one."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("SAPBERT_CACHE", str(cache))
    return cache


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real data folder (``../shared/data``); tests that need it skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present on this machine")
    return SHARED_DATA
