"""The embedded default index: the default encoder over the KCD concept table shipped with the project.

Nothing is downloaded: the first command that needs the default encodes the shipped terminology into
``user_cache_dir()/indexes/<fingerprint>`` (with a progress bar; minutes on a small CPU) and every later command
loads it. The folder name hashes the model's fingerprint with the terminology's, so a new model or a new table
gets its own index and a stale one is never used.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from linker.index import META_FILE, DictionaryIndex, load_encoder, terminology_hash

if TYPE_CHECKING:
    from pretrain.encoder import Encoder


def default_sources() -> tuple[str, Path]:
    """Return the default model name and the path of the shipped default terminology (the KCD concept table)."""
    from corpora.embedded import default_terminology_path
    from pretrain.encoder import DEFAULT_MODEL

    return DEFAULT_MODEL, Path(default_terminology_path())


def cached_index_folder(encoder: Encoder, terminology_digest: str) -> Path:
    """Return the cache folder of the index of this model over this terminology (built or not)."""
    from corpora.files import user_cache_dir

    key = hashlib.sha256(f"{encoder.fingerprint()}:{terminology_digest}".encode()).hexdigest()[:16]
    return user_cache_dir() / "indexes" / key


def cached_index(model: str, terminology: str | Path, *, kind: str = "flat", batch_size: int = 256) -> DictionaryIndex:
    """Return the index of ``model`` over ``terminology``, from the user cache, building it there the first time."""
    from corpora.table import read_concepts

    encoder = load_encoder(model)
    concepts = read_concepts(terminology)
    folder = cached_index_folder(encoder, terminology_hash(concepts))
    if (folder / META_FILE).is_file():
        return DictionaryIndex.load(folder, encoder)
    print(
        f"building the dictionary index of {model} over {Path(terminology).name} ({len(concepts):,} names) into"
        f" {folder} (once; later runs reuse it)",
        file=sys.stderr,
    )
    index = DictionaryIndex.build(
        encoder,
        concepts,
        kind=kind,
        batch_size=batch_size,
        show_progress=True,
        model_name=model,
        terminology=str(terminology),
    )
    index.save(folder)
    return index


def default_index(model: str | None = None) -> DictionaryIndex:
    """Return the embedded default index (``model`` over the shipped terminology; the default model if None)."""
    default_model, terminology = default_sources()
    return cached_index(model or default_model, terminology)


def resolve_index(model: str | None = None, index: str | Path | None = None) -> DictionaryIndex:
    """Return the index a command or component asked for: ``index`` (checked against ``model`` if given), or else
    the default terminology encoded with ``model`` (the embedded default when both are None)."""
    if index is not None:
        return DictionaryIndex.load(index, load_encoder(model) if model else None)
    return default_index(model)
