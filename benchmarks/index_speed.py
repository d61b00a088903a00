"""Index trade-offs: build time, size and query throughput of the linker's exact, HNSW and IVF-PQ indexes, with
recall@10 of the approximate ones against exact search.

Two kinds of dictionary are measured through :class:`linker.index.DictionaryIndex` itself (the code path users
run): the real KCD names embedded by an encoder (recall there is what users get), and a synthetic dictionary of
random unit vectors (1M names by default) for build and search timing only: random vectors have no neighbourhood
structure, so their recall says nothing about real names.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from linker.index import KINDS
from pretrain.encoder import EncoderSettings

TOP_K = 10
SINGLE_QUERIES = 200


class PrecomputedEncoder:
    """Stands in for an encoder when the vectors already exist: returns each known name's row of ``vectors``."""

    def __init__(self, names: Sequence[str], vectors: np.ndarray, label: str = "precomputed") -> None:
        self._rows = {name: row for row, name in enumerate(names)}
        self._vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.settings = EncoderSettings()
        self.label = label

    @property
    def dim(self) -> int:
        """The vector dimension."""
        return int(self._vectors.shape[1])

    def encode(self, texts: Sequence[str], batch_size: int = 64, show_progress: bool | None = None) -> np.ndarray:
        """Return the stored vectors of ``texts`` (each must be one of the names given)."""
        return self._vectors[[self._rows[text] for text in texts]]

    def fingerprint(self) -> str:
        """Return a label naming the vectors' origin and shape (indexes record it)."""
        return f"{self.label}-{self._vectors.shape[0]}x{self.dim}"


@dataclass(frozen=True)
class IndexResult:
    """One index kind on one dictionary: build seconds, file size, queries/second and recall@10 vs exact."""

    dictionary: str
    kind: str
    names: int
    dim: int
    build_seconds: float
    size_mb: float
    qps_single: float
    qps_batch: float
    recall_at_10: float
    peak_rss_mb: float
    note: str = ""


def random_unit_vectors(count: int, dim: int, seed: int) -> np.ndarray:
    """Return ``count`` random unit vectors (float32, deterministic by ``seed``), built in chunks to save memory."""
    rng = np.random.default_rng(seed)
    out = np.empty((count, dim), dtype=np.float32)
    for start in range(0, count, 100_000):
        chunk = rng.standard_normal((min(100_000, count - start), dim), dtype=np.float32)
        out[start : start + len(chunk)] = chunk / np.linalg.norm(chunk, axis=1, keepdims=True)
    return out


def _index_size_mb(faiss_index) -> float:
    import faiss

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "index.faiss")
        faiss.write_index(faiss_index, path)
        return os.path.getsize(path) / 2**20


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _neighbours(faiss_index, queries: np.ndarray) -> np.ndarray:
    return faiss_index.search(queries, TOP_K)[1]


def bench_indexes(
    dictionary: str,
    names: Sequence[str],
    codes: Sequence[str],
    vectors: np.ndarray,
    queries: np.ndarray,
    kinds: Sequence[str] = KINDS,
) -> list[IndexResult]:
    """Build each index kind over (``codes``, ``names``, ``vectors``) and time/score it with query ``vectors``."""
    import pandas as pd

    from linker.index import DictionaryIndex

    encoder = PrecomputedEncoder(names, vectors, dictionary)
    concepts = pd.DataFrame({"code": list(codes), "name": list(names)})
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    exact = None
    results = []
    for kind in kinds:
        started = time.perf_counter()
        try:
            index = DictionaryIndex.build(
                encoder, concepts, kind=kind, model_name=dictionary, show_progress=False, calibrate=False
            )
        except ValueError as error:  # e.g. too few names to train IVF-PQ: say so in the table
            nan = float("nan")
            results.append(
                IndexResult(dictionary, kind, len(names), encoder.dim, nan, nan, nan, nan, nan, nan, str(error))
            )
            continue
        build_seconds = time.perf_counter() - started
        single = queries[:SINGLE_QUERIES]
        started = time.perf_counter()
        for row in single:
            index.search_vectors(row[None, :], TOP_K)
        qps_single = len(single) / (time.perf_counter() - started)
        started = time.perf_counter()
        index.search_vectors(queries, TOP_K)
        qps_batch = len(queries) / (time.perf_counter() - started)
        found = _neighbours(index.faiss_index, queries)
        if kind == "flat":
            exact = found
        recall = float("nan") if exact is None else _recall(found, exact)
        results.append(
            IndexResult(
                dictionary,
                kind,
                len(index),
                index.dim,
                build_seconds,
                _index_size_mb(index.faiss_index),
                qps_single,
                qps_batch,
                recall,
                _peak_rss_mb(),
            )
        )
        del index
    return results


def _recall(found: np.ndarray, exact: np.ndarray) -> float:
    """Return the mean share of the exact top-10 neighbours that the approximate search also returned."""
    hits = [len(set(row[row >= 0]) & set(truth[truth >= 0])) / TOP_K for row, truth in zip(found, exact, strict=True)]
    return float(np.mean(hits))


def bench_synthetic(count: int, dim: int = 384, queries: int = 1000, seed: int = 7) -> list[IndexResult]:
    """Return the index trade-offs on ``count`` random unit vectors (timing only; recall is not meaningful)."""
    vectors = random_unit_vectors(count, dim, seed)
    names = [f"synthetic name {row}" for row in range(count)]
    codes = [f"S{row:07d}" for row in range(count)]
    query_vectors = random_unit_vectors(queries, dim, seed + 1)
    return bench_indexes(f"synthetic-{count}", names, codes, vectors, query_vectors)
