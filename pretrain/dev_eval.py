"""Dev-set scoring during pretraining: link held-out names against the dictionary, report accuracy@k.

Ranking is by concept: a code's score is its best-matching dictionary name, so acc@5 means "a gold code is among
the first five distinct codes", which is what the linker returns. Exact brute force (matrix product), no index.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from pretrain.encoder import Encoder


def code_ranking(
    query_vectors: np.ndarray, name_vectors: np.ndarray, name_codes: np.ndarray, n_codes: int, k: int
) -> np.ndarray:
    """Return ``[queries, k]`` code ids ranked by each code's best name similarity (unit vectors in, exact)."""
    names = torch.from_numpy(name_vectors)
    index = torch.from_numpy(name_codes).long()
    ranked = []
    for start in range(0, len(query_vectors), 256):
        scores = torch.from_numpy(query_vectors[start : start + 256]) @ names.T
        per_code = torch.full((len(scores), n_codes), float("-inf"))
        per_code.scatter_reduce_(1, index.expand(len(scores), -1), scores, reduce="amax")
        ranked.append(per_code.topk(min(k, n_codes), dim=1).indices.numpy())
    return np.concatenate(ranked) if ranked else np.zeros((0, k), dtype=np.int64)


def link_accuracy(
    encoder: Encoder,
    mentions: Sequence[str],
    gold: Sequence[Sequence[str]],
    names: Sequence[str],
    codes: Sequence[str],
    ks: Sequence[int] = (1, 5),
    batch_size: int = 256,
) -> dict[str, float]:
    """Return ``{"acc@1": ..., "acc@5": ...}``: the share of mentions with a gold code among the top-k codes."""
    code_list = sorted(set(codes))
    code_id = {code: number for number, code in enumerate(code_list)}
    name_vectors = encoder.encode(names, batch_size=batch_size)
    query_vectors = encoder.encode(mentions, batch_size=batch_size)
    ranking = code_ranking(query_vectors, name_vectors, np.array([code_id[c] for c in codes]), len(code_list), max(ks))
    scores = {}
    for k in ks:
        hits = [any(code_list[c] in wanted for c in row[:k]) for row, wanted in zip(ranking, gold, strict=True)]
        scores[f"acc@{k}"] = float(np.mean(hits)) if hits else 0.0
    return scores
