"""System specifications of the command line (``exact``, ``tfidf``, ``hybrid:<model>``, a model) -> systems.

One :class:`SystemFactory` serves one dictionary: it builds each system once, shares one encoder (and its vector
cache) between ``<model>`` and ``hybrid:<model>``, and keeps the hybrid weight it chose on the dev queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from benchmarks.baselines import ExactMatchSystem, TfidfSystem
from benchmarks.hybrid import HybridSystem, WeightChoice, choose_weight
from benchmarks.ranking import RankingSystem
from corpora.queries import Query

if TYPE_CHECKING:
    import pandas as pd

    from benchmarks.dense import CachedEncoder

HYBRID_PREFIX = "hybrid:"
BASELINES = ("exact", "tfidf")


class SystemFactory:
    """Builds the systems named by specs over one concept table, reusing encoders, indexes and hybrid weights.

    With ``vector_cache``, encoders keep their vectors in the user cache across runs
    (:func:`benchmarks.dense.vector_store`).
    """

    def __init__(
        self,
        concepts: pd.DataFrame,
        *,
        dev: Sequence[Query] = (),
        index_kind: str = "flat",
        batch_size: int = 256,
        encoders: dict[str, CachedEncoder] | None = None,
        weights: dict[str, WeightChoice] | None = None,
        vector_cache: bool = False,
    ) -> None:
        self.concepts = concepts
        self.dev = list(dev)
        self.index_kind = index_kind
        self.batch_size = batch_size
        self.encoders = encoders if encoders is not None else {}
        self.weights = weights if weights is not None else {}
        self.vector_cache = vector_cache
        self._systems: dict[str, RankingSystem] = {}

    def get(self, spec: str) -> RankingSystem:
        """Return the system for ``spec``: ``exact``, ``tfidf``, ``hybrid:<model>``, or a model folder/name."""
        if spec not in self._systems:
            self._systems[spec] = self._build(spec)
        return self._systems[spec]

    def encoder(self, model: str) -> CachedEncoder:
        """Return the cached encoder of ``model``, loading it on first use (shared by every factory given it)."""
        from benchmarks.dense import load_cached_encoder

        if model not in self.encoders:
            self.encoders[model] = load_cached_encoder(model, persistent=self.vector_cache)
        return self.encoders[model]

    def hybrid_weight(self, model: str) -> WeightChoice:
        """Return the dense weight of ``hybrid:<model>``, chosen once on this factory's dev queries."""
        if model not in self.weights:
            if not self.dev:
                raise ValueError(f"'{HYBRID_PREFIX}{model}' needs dev queries to choose its weight (pass --dev)")
            self.weights[model] = choose_weight(self.get(model), self.get("tfidf"), self.dev)
        return self.weights[model]

    def _build(self, spec: str) -> RankingSystem:
        from benchmarks.dense import DenseSystem

        if spec == "exact":
            return ExactMatchSystem(self.concepts)
        if spec == "tfidf":
            return TfidfSystem(self.concepts)
        if spec.startswith(HYBRID_PREFIX):
            model = spec.removeprefix(HYBRID_PREFIX)
            if not model:
                raise ValueError(f"'{spec}': name the model after '{HYBRID_PREFIX}' (e.g. hybrid:e5-small-offline)")
            weight = self.hybrid_weight(model).weight
            return HybridSystem(spec, self.get(model), self.get("tfidf"), weight)
        return DenseSystem(spec, self.encoder(spec), self.concepts, kind=self.index_kind, batch_size=self.batch_size)
