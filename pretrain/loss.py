"""The Multi-Similarity loss of SapBERT, over every pair of a batch (not only the two halves of a pair batch)."""

from __future__ import annotations

import torch
from torch import nn

from pretrain.miner import candidate_pairs, mine_hard_pairs


def _soft_sum(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Return ``log(1 + sum_{j in mask_i} exp(logits_ij))`` per row, stably; an empty row gives 0."""
    masked = logits.masked_fill(~mask, float("-inf"))
    zeros = torch.zeros_like(masked[:, :1])
    return torch.logsumexp(torch.cat([zeros, masked], dim=1), dim=1)


class MultiSimilarityLoss(nn.Module):
    """Multi-Similarity loss (Wang et al., 2019) as used by SapBERT, computed over every pair of the batch.

    Every row of the batch is an anchor; all other rows with its label are its positives P_i, all rows with
    another label its negatives N_i (self-similarity is excluded). With cosine similarities S, the loss is the
    mean over all n anchors of

        1/alpha * log(1 + sum_{p in P_i} exp(-alpha (S_ip - base)))
      + 1/beta  * log(1 + sum_{n in N_i} exp( beta (S_in - base)))

    where an empty sum counts 0 (an anchor without positives or without negatives contributes the other term
    only). Unlike the published SapBERT-KO-EN recipe, both names of every pair are compared with all others, not
    just the two halves of the pair batch.

    Args:
        alpha: scale_pos, the weight of positives (SapBERT: 1).
        beta: scale_neg, the weight of negatives (SapBERT: 60).
        base: threshold, the cosine similarity both terms pivot on (SapBERT: 0.5).
        mining_margin: None for all pairs; a margin turns on the Multi-Similarity miner
            (:func:`pretrain.miner.mine_hard_pairs`) and only the hard pairs it keeps enter the sums.

    References:
        Wang et al., Multi-Similarity Loss with General Pair Weighting for Deep Metric Learning, CVPR 2019.
        Liu et al., Self-Alignment Pretraining for Biomedical Entity Representations (SapBERT), NAACL 2021.

    Requirements:
        Several rows per label in a batch (a pair batch gives two; ``pairs_per_code`` gives more) and at least
        two labels, otherwise one of the terms is empty.

    Inputs:
        ``embeddings`` [n, d], any float dtype, not necessarily normalised (they are L2-normalised here);
        ``labels`` [n] integer concept ids. For B pairs pass both names of each pair (n = 2B), each label twice.

    Returns:
        A float32 scalar: similarities are computed in float32 even for bf16 embeddings.

    When to use:
        To pull all names of one concept together and push other concepts' names away (synonym
        self-alignment), when each batch holds several names per concept.

    Example:
        >>> loss = MultiSimilarityLoss(alpha=1.0, beta=60.0, base=0.5)
        >>> value = loss(torch.randn(8, 16), torch.tensor([0, 1, 2, 3, 0, 1, 2, 3]))
        >>> value.shape
        torch.Size([])
    """

    def __init__(
        self, alpha: float = 1.0, beta: float = 60.0, base: float = 0.5, mining_margin: float | None = None
    ) -> None:
        super().__init__()
        if alpha <= 0 or beta <= 0:
            raise ValueError(f"alpha and beta must be positive, got alpha={alpha}, beta={beta}")
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.base = float(base)
        self.mining_margin = mining_margin

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Return the mean Multi-Similarity loss of all rows of ``embeddings`` as anchors (see the class doc)."""
        if embeddings.ndim != 2 or labels.ndim != 1 or len(embeddings) != len(labels):
            raise ValueError(
                f"expected embeddings [n, d] and labels [n], got {tuple(embeddings.shape)} and {tuple(labels.shape)}"
            )
        vectors = nn.functional.normalize(embeddings.float(), dim=-1)
        similarity = vectors @ vectors.T
        if self.mining_margin is None:
            positives, negatives = candidate_pairs(labels)
        else:
            positives, negatives = mine_hard_pairs(similarity, labels, self.mining_margin)
        positive_term = _soft_sum(-self.alpha * (similarity - self.base), positives) / self.alpha
        negative_term = _soft_sum(self.beta * (similarity - self.base), negatives) / self.beta
        return (positive_term + negative_term).mean()

    def extra_repr(self) -> str:
        """Show the settings when the module is printed."""
        return f"alpha={self.alpha}, beta={self.beta}, base={self.base}, mining_margin={self.mining_margin}"
