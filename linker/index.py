"""The dictionary index: every name of a concept table encoded once, searched by inner product with FAISS.

An index folder holds ``index.faiss`` (the vectors), ``names.parquet`` (one row per encoded name: code, name,
concept type, source, lang) and ``index.json`` (the metadata: which model built it, its pooling and dimension, a
hash of the terminology, the build command, the calibrated proposal threshold). Loading checks the model's
fingerprint, so an index is never searched with vectors from another model. Searches return distinct codes, each
with its best-matching name and score.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import shlex
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from corpora.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from pretrain.encoder import Encoder

FORMAT_VERSION = 1
META_FILE = "index.json"
VECTORS_FILE = "index.faiss"
NAMES_FILE = "names.parquet"
KINDS = ("flat", "hnsw", "ivfpq")
NAME_COLUMNS = ("code", "name", "concept_type", "source", "lang")
SMALL_BATCH = 256  # below this many queries, one FAISS thread is faster than several (measured on 2 cores)
HNSW_NEIGHBOURS = 32
HNSW_EF_SEARCH = 128
IVF_PROBES = 16


@dataclass(frozen=True)
class Candidate:
    """One concept proposed for a mention: its code, the dictionary name that matched best, and the cosine."""

    code: str
    name: str
    score: float


class IndexModelMismatch(InputError):
    """The index was built with another model than the one offered to search it (its vectors would be garbage)."""


def terminology_hash(concepts: pd.DataFrame) -> str:
    """Return a short hash of a concept table's (code, name) rows, independent of file format and row order."""
    rows = sorted(set(zip(concepts["code"].astype(str), concepts["name"].astype(str), strict=True)))
    digest = hashlib.sha256()
    for code, name in rows:
        digest.update(f"{code}\t{name}\n".encode())
    return digest.hexdigest()[:16]


def _faiss():
    """Import FAISS and use BLAS for every batch size (FAISS 1.15 defaults to a slow loop below 128,000 queries)."""
    import faiss

    faiss.cvar.distance_compute_blas_threshold = 20
    return faiss


@contextlib.contextmanager
def _threads_for(batch: int) -> Iterator[None]:
    """Run small searches on one FAISS thread: thread start-up costs more than it saves below ``SMALL_BATCH``."""
    faiss = _faiss()
    if batch >= SMALL_BATCH:
        yield
        return
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _new_faiss_index(kind: str, vectors: np.ndarray):
    """Return an empty, trained FAISS index of ``kind`` for unit vectors compared by inner product."""
    faiss = _faiss()
    count, dim = vectors.shape
    if kind == "flat":
        return faiss.IndexFlatIP(dim)
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = HNSW_EF_SEARCH
        return index
    if kind == "ivfpq":
        bits = min(8, int(math.log2(max(count // 39, 1))))
        if bits < 4:
            raise ValueError(f"an ivfpq index needs at least 624 names to train, got {count}: use kind 'flat'")
        lists = max(1, min(int(4 * math.sqrt(count)), count // 39))
        parts = max((m for m in range(1, min(64, dim // 4) + 1) if dim % m == 0), default=1)
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFPQ(quantizer, dim, lists, parts, bits, faiss.METRIC_INNER_PRODUCT)
        index.train(vectors)
        index.nprobe = min(IVF_PROBES, lists)
        return index
    raise ValueError(f"unknown index kind {kind!r}: expected one of {', '.join(KINDS)}")


def _on_gpu(index):
    """Return ``(index on the GPU, its GPU resources)`` when FAISS has GPU support and sees a GPU, else ``(index,
    None)``; the resources must live as long as the GPU index. HNSW has no GPU version and stays on the CPU."""
    faiss = _faiss()
    if not hasattr(faiss, "StandardGpuResources") or faiss.get_num_gpus() < 1 or isinstance(index, faiss.IndexHNSW):
        return index, None
    resources = faiss.StandardGpuResources()
    return faiss.index_cpu_to_gpu(resources, 0, index), resources


class DictionaryIndex:
    """Encoded dictionary names plus the table mapping each vector back to its code; searchable by mention."""

    def __init__(self, faiss_index, names: pd.DataFrame, meta: dict, encoder: Encoder | None = None) -> None:
        self.faiss_index = faiss_index
        self.names = names.reset_index(drop=True)
        self.meta = meta
        self.encoder = encoder
        self._codes = self.names["code"].to_numpy()
        self._strings = self.names["name"].to_numpy()
        self._search_index, self._gpu_resources = _on_gpu(faiss_index)

    @classmethod
    def build(
        cls,
        encoder: Encoder,
        concepts: pd.DataFrame,
        *,
        kind: str = "flat",
        batch_size: int = 256,
        show_progress: bool | None = None,
        model_name: str | None = None,
        terminology: str | None = None,
        calibrate: bool = True,
    ) -> DictionaryIndex:
        """Encode every distinct (code, name) of ``concepts`` and return the searchable index.

        ``model_name`` and ``terminology`` are recorded in the metadata so the index can reload its own model.
        ``calibrate`` stores the proposal threshold (:attr:`proposal_threshold`) now rather than on first use.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown index kind {kind!r}: expected one of {', '.join(KINDS)}")
        names = _name_table(concepts)
        if names.empty:
            raise ValueError("the concept table has no names to index")
        if show_progress is None:
            show_progress = len(names) >= 10_000
        vectors = encoder.encode(names["name"].tolist(), batch_size=batch_size, show_progress=show_progress)
        index = _new_faiss_index(kind, vectors)
        index.add(vectors)
        meta = {
            "format_version": FORMAT_VERSION,
            "kind": kind,
            "model": _model_reference(model_name or getattr(encoder.model, "name_or_path", "")),
            "model_fingerprint": encoder.fingerprint(),
            "pooling": encoder.settings.pooling,
            "max_length": encoder.settings.max_length,
            "prefix": encoder.settings.prefix,
            "dim": encoder.dim,
            "terminology": terminology or "",
            "terminology_hash": terminology_hash(concepts),
            "names": len(names),
            "codes": int(names["code"].nunique()),
            "build_command": shlex.join(sys.argv),
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        built = cls(index, names, meta, encoder)
        if calibrate:
            built.meta["proposal_threshold"] = built.proposal_threshold
        return built

    @property
    def proposal_threshold(self) -> float:
        """The score a phrase proposed from tokens must reach to be kept as a mention, calibrated for this model and
        dictionary (:mod:`linker.calibration`); stored at build time, computed on first use for older indexes."""
        if "proposal_threshold" not in self.meta:
            from linker.calibration import calibrate_threshold

            self.meta["proposal_threshold"] = calibrate_threshold(self)
        return float(self.meta["proposal_threshold"])

    @property
    def dim(self) -> int:
        """The vector dimension the index was built with."""
        return int(self.meta["dim"])

    def __len__(self) -> int:
        return len(self.names)

    def search_vectors(self, vectors: np.ndarray, top_k: int) -> list[list[Candidate]]:
        """Return, per query vector, up to ``top_k`` distinct codes, each with its best name's score, best first."""
        queries = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        results: list[list[Candidate] | None] = [None] * len(queries)
        pending = np.arange(len(queries))
        depth = min(len(self), max(top_k * 8, 32))
        while len(pending):
            with _threads_for(len(pending)):
                scores, rows = self._search_index.search(queries[pending], depth)
            retry = []
            for query, row_scores, row_ids in zip(pending, scores, rows, strict=True):
                found = self._distinct_codes(row_scores, row_ids, top_k)
                if len(found) < top_k and depth < len(self):
                    retry.append(query)
                else:
                    results[query] = found
            pending = np.asarray(retry, dtype=np.int64)
            depth = min(len(self), depth * 4)
        return [found or [] for found in results]

    def _distinct_codes(self, scores: np.ndarray, rows: np.ndarray, top_k: int) -> list[Candidate]:
        """Collapse name hits to codes, keeping each code's first (best) name, until ``top_k`` codes are found."""
        seen: set[str] = set()
        found: list[Candidate] = []
        for score, row in zip(scores, rows, strict=True):
            if row < 0:
                continue
            code = str(self._codes[row])
            if code in seen:
                continue
            seen.add(code)
            found.append(Candidate(code, str(self._strings[row]), float(score)))
            if len(found) == top_k:
                break
        return found

    def search(self, mentions: Sequence[str], top_k: int, batch_size: int = 256) -> list[list[Candidate]]:
        """Encode ``mentions`` with the index's own encoder and return their top-``top_k`` codes, in input order."""
        if self.encoder is None:
            raise ValueError("this index has no encoder: load it with DictionaryIndex.load(folder, encoder)")
        if not len(mentions):
            return []
        return self.search_vectors(self.encoder.encode(list(mentions), batch_size=batch_size), top_k)

    def concept_labels(self) -> dict[str, str]:
        """Return each code's entity label: its concept type, else its source, else ``CONCEPT``."""
        labels = self.names["concept_type"].where(self.names["concept_type"] != "", self.names["source"])
        labels = labels.where(labels != "", "CONCEPT")
        return dict(zip(self.names["code"], labels, strict=True))

    def save(self, folder: str | Path) -> Path:
        """Write the index folder (vectors, names, metadata) atomically and return its path."""
        from corpora.files import atomic_dir

        faiss = _faiss()
        target = Path(folder)
        with atomic_dir(target) as tmp:
            faiss.write_index(self.faiss_index, str(tmp / VECTORS_FILE))
            self.names.to_parquet(tmp / NAMES_FILE, index=False)
            (tmp / META_FILE).write_text(json.dumps(self.meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return target

    @classmethod
    def load(cls, folder: str | Path, encoder: Encoder | None = None) -> DictionaryIndex:
        """Read an index folder; with ``encoder``, refuse it unless it is the model the index was built with.

        Without an encoder, the index loads the model its metadata names (``meta["model"]``).
        """
        import pandas as pd

        source = Path(folder)
        meta_path = source / META_FILE
        if not meta_path.is_file():
            raise InputError(
                source, f"not a dictionary index: {META_FILE} is missing (build one with `sapbert index build`)"
            )
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format_version") != FORMAT_VERSION:
            raise InputError(
                source, f"index format {meta.get('format_version')} is not supported (expected {FORMAT_VERSION})"
            )
        if encoder is None:
            encoder = load_encoder(meta["model"])
        check_model(meta, encoder, source)
        faiss = _faiss()
        index = faiss.read_index(str(source / VECTORS_FILE))
        names = pd.read_parquet(source / NAMES_FILE)
        return cls(index, names, meta, encoder)


def check_model(meta: dict, encoder: Encoder, where: str | Path) -> None:
    """Raise :class:`IndexModelMismatch` unless ``encoder`` is the model (weights and settings) that built the index."""
    fingerprint = encoder.fingerprint()
    if fingerprint != meta["model_fingerprint"] or encoder.dim != meta["dim"]:
        raise IndexModelMismatch(
            where,
            f"the index was built with model {meta.get('model')!r} (fingerprint {meta['model_fingerprint']},"
            f" {meta.get('pooling')} pooling, dim {meta['dim']}), but the model given has fingerprint {fingerprint}"
            f" ({encoder.settings.pooling} pooling, dim {encoder.dim}); rebuild the index with"
            " `sapbert index build --model ...` or load it with its own model",
        )


_ENCODERS: dict[str, Encoder] = {}


def load_encoder(model: str | Path) -> Encoder:
    """Return the encoder for ``model`` (folder, hub name or short name), loaded once per process and reused."""
    from pretrain.encoder import Encoder

    key = str(model)
    if key not in _ENCODERS:
        _ENCODERS[key] = Encoder.from_pretrained(key)
    return _ENCODERS[key]


def _model_reference(model: str | Path) -> str:
    """Return an existing model folder as an absolute path (so the index finds it from anywhere), else the name."""
    path = Path(model)
    return str(path.resolve()) if path.is_dir() else str(model)


def _name_table(concepts: pd.DataFrame) -> pd.DataFrame:
    """Return the distinct (code, name) rows to encode, with the columns the linker reports, in table order."""
    table = concepts.copy()
    for column in NAME_COLUMNS:
        if column not in table.columns:
            table[column] = ""
    table = table[list(NAME_COLUMNS)].fillna("").astype(str)
    table = table[(table["code"] != "") & (table["name"].str.strip() != "")]
    return table.drop_duplicates(subset=["code", "name"]).reset_index(drop=True)
