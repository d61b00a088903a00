"""Hard-pair mining for the Multi-Similarity loss: keep only the informative positives and negatives of a batch.

The Multi-Similarity miner (Wang et al., 2019) compares, per anchor, each pair with the anchor's hardest pair of
the other kind. A negative is kept when it is more similar than the anchor's *least* similar positive minus a
margin; a positive is kept when it is less similar than the anchor's *most* similar negative plus a margin. An
anchor without positives keeps no negatives, and one without negatives keeps no positives (there is nothing to
compare with), so mining never adds pairs that the plain loss would not see.
"""

from __future__ import annotations

import torch


def candidate_pairs(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return boolean ``[n, n]`` masks of positive pairs (same label, not self) and negative pairs (other label)."""
    same = labels.unsqueeze(0) == labels.unsqueeze(1)
    itself = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    return same & ~itself, ~same


@torch.no_grad()
def mine_hard_pairs(
    similarity: torch.Tensor, labels: torch.Tensor, margin: float = 0.1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the ``(positive, negative)`` masks the Multi-Similarity miner keeps for a similarity matrix.

    ``similarity`` is ``[n, n]`` (cosine), ``labels`` ``[n]``. Positive (i, p) is kept iff
    ``S[i, p] < max_n S[i, n] + margin``; negative (i, n) is kept iff ``S[i, n] > min_p S[i, p] - margin``.
    """
    positives, negatives = candidate_pairs(labels)
    similarity = similarity.float()
    hardest_negative = similarity.masked_fill(~negatives, float("-inf")).amax(dim=1, keepdim=True)
    easiest_positive = similarity.masked_fill(~positives, float("inf")).amin(dim=1, keepdim=True)
    keep_positive = positives & (similarity < hardest_negative + margin)
    keep_negative = negatives & (similarity > easiest_positive - margin)
    return keep_positive, keep_negative
