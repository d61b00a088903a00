"""Atomic writes and the user cache folder: an interrupted write leaves the old result, never half of one."""

from __future__ import annotations

import os
import stat

import pytest

from corpora.files import atomic_dir, atomic_file, user_cache_dir


def test_atomic_file_replaces_only_on_success(tmp_path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_file(target) as handle:
        handle.write("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    with atomic_file(target) as handle:
        handle.write("new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_file_gets_ordinary_permissions(tmp_path) -> None:
    umask = os.umask(0o022)
    try:
        with atomic_file(tmp_path / "table.tsv") as handle:
            handle.write("x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "table.tsv").stat().st_mode) == 0o644


def test_atomic_dir_keeps_previous_folder_on_failure(tmp_path) -> None:
    target = tmp_path / "model"
    with atomic_dir(target) as folder:
        (folder / "weights").write_text("v1")
    with pytest.raises(KeyboardInterrupt), atomic_dir(target) as folder:
        (folder / "weights").write_text("v2-partial")
        raise KeyboardInterrupt
    assert (target / "weights").read_text() == "v1"
    with atomic_dir(target) as folder:
        (folder / "weights").write_text("v2")
    assert (target / "weights").read_text() == "v2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_cache_dir_follows_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SAPBERT_CACHE", str(tmp_path / "c"))
    assert user_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("SAPBERT_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache_dir() == tmp_path / "xdg" / "sapbert-ko-en"
