"""MultiSimilarityLoss against a plain-loop reference; the miner against its definition."""

from __future__ import annotations

import math

import pytest
import torch

from pretrain import MultiSimilarityLoss
from pretrain.miner import mine_hard_pairs


def reference_loss(embeddings, labels, alpha, beta, base, keep=None) -> float:
    """The loss written out anchor by anchor in float64 (``keep(i, j)`` filters pairs when mining)."""
    vectors = torch.nn.functional.normalize(embeddings.detach().double(), dim=-1)
    n = len(labels)
    total = 0.0
    for i in range(n):
        positive_sum = negative_sum = 0.0
        for j in range(n):
            if i == j or (keep is not None and not keep(i, j)):
                continue
            similarity = float(vectors[i] @ vectors[j])
            if labels[i] == labels[j]:
                positive_sum += math.exp(-alpha * (similarity - base))
            else:
                negative_sum += math.exp(beta * (similarity - base))
        total += math.log1p(positive_sum) / alpha + math.log1p(negative_sum) / beta
    return total / n


def random_batch(seed: int, pairs: int = 6, dim: int = 8, codes: int = 4):
    generator = torch.Generator().manual_seed(seed)
    embeddings = torch.randn(2 * pairs, dim, generator=generator)
    pair_labels = torch.randint(0, codes, (pairs,), generator=generator)
    return embeddings, torch.cat([pair_labels, pair_labels])


@pytest.mark.parametrize("settings", [(1.0, 60.0, 0.5), (2.0, 40.0, 0.8), (1.0, 60.0, 0.5, 0.1)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_loss_equals_plain_loop_in_fp32(settings, seed) -> None:
    alpha, beta, base, *margin = settings
    embeddings, labels = random_batch(seed)
    loss = MultiSimilarityLoss(alpha, beta, base, mining_margin=margin[0] if margin else None)
    keep = None
    if margin:
        vectors = torch.nn.functional.normalize(embeddings, dim=-1)
        positive, negative = mine_hard_pairs(vectors @ vectors.T, labels, margin[0])
        keep = lambda i, j: bool(positive[i, j] or negative[i, j])  # noqa: E731
    expected = reference_loss(embeddings, labels.tolist(), alpha, beta, base, keep)
    assert loss(embeddings, labels).item() == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_loss_equals_plain_loop_in_bf16() -> None:
    embeddings, labels = random_batch(3)
    embeddings = embeddings.bfloat16()
    value = MultiSimilarityLoss()(embeddings, labels)
    assert value.dtype == torch.float32
    assert value.item() == pytest.approx(reference_loss(embeddings.float(), labels.tolist(), 1.0, 60.0, 0.5), rel=1e-4)


def test_defaults_are_sapbert_values() -> None:
    loss = MultiSimilarityLoss()
    assert (loss.alpha, loss.beta, loss.base, loss.mining_margin) == (1.0, 60.0, 0.5, None)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_gradients_are_finite_even_for_identical_vectors(dtype) -> None:
    embeddings, labels = random_batch(4)
    embeddings[1] = embeddings[0]  # a duplicate name: similarity exactly 1
    embeddings = embeddings.to(dtype).requires_grad_(True)
    MultiSimilarityLoss(mining_margin=0.1)(embeddings, labels).backward()
    assert torch.isfinite(embeddings.grad.float()).all()
    assert embeddings.grad.abs().sum() > 0


def test_batch_without_negatives_has_only_the_positive_term() -> None:
    embeddings, _ = random_batch(5)
    labels = torch.zeros(len(embeddings), dtype=torch.long)
    value = MultiSimilarityLoss()(embeddings, labels)
    assert value.item() == pytest.approx(reference_loss(embeddings, labels.tolist(), 1.0, 60.0, 0.5), rel=1e-5)
    assert value.item() > 0


def test_batch_without_positives_has_only_the_negative_term() -> None:
    embeddings, _ = random_batch(6)
    labels = torch.arange(len(embeddings))
    embeddings.requires_grad_(True)
    value = MultiSimilarityLoss()(embeddings, labels)
    assert value.item() == pytest.approx(reference_loss(embeddings, labels.tolist(), 1.0, 60.0, 0.5), rel=1e-5)
    value.backward()
    assert torch.isfinite(embeddings.grad).all()


def test_self_similarity_is_excluded() -> None:
    # two orthogonal singletons: no positives (self excluded), negative similarity 0 -> exact closed form
    embeddings = torch.eye(2)
    labels = torch.tensor([0, 1])
    expected = math.log1p(math.exp(60.0 * (0.0 - 0.5))) / 60.0
    assert MultiSimilarityLoss()(embeddings, labels).item() == pytest.approx(expected, rel=1e-6)


def test_miner_selects_exactly_the_defined_pairs() -> None:
    similarity = torch.tensor(
        [
            [1.00, 0.97, 0.40, 0.85, 0.20],
            [0.97, 1.00, 0.30, 0.10, 0.95],
            [0.40, 0.30, 1.00, 0.50, 0.45],
            [0.85, 0.10, 0.50, 1.00, 0.60],
            [0.20, 0.95, 0.45, 0.60, 1.00],
        ]
    )
    labels = torch.tensor([0, 0, 0, 1, 2])
    positive, negative = mine_hard_pairs(similarity, labels, margin=0.1)
    expected_positive = torch.zeros(5, 5, dtype=torch.bool)
    expected_negative = torch.zeros(5, 5, dtype=torch.bool)
    for i in range(5):
        same = [j for j in range(5) if j != i and labels[j] == labels[i]]
        other = [j for j in range(5) if labels[j] != labels[i]]
        if not same or not other:
            continue
        hardest_negative = max(float(similarity[i, j]) for j in other)
        easiest_positive = min(float(similarity[i, j]) for j in same)
        for j in same:
            expected_positive[i, j] = float(similarity[i, j]) < hardest_negative + 0.1
        for j in other:
            expected_negative[i, j] = float(similarity[i, j]) > easiest_positive - 0.1
    assert torch.equal(positive, expected_positive)
    assert torch.equal(negative, expected_negative)
    # spelled out for anchor 0: positives 0.97, 0.40; negatives 0.85, 0.20 -> keep positive 0.40 only
    # (< 0.85 + 0.1), keep negative 0.85 only (> 0.40 - 0.1)
    assert positive[0].nonzero().flatten().tolist() == [2]
    assert negative[0].nonzero().flatten().tolist() == [3]
    # anchors 3 and 4 have no positive: nothing is mined for them
    assert not positive[3:].any() and not negative[3:].any()
