"""Vocabulary extension: give frequent medical words that the tokenizer shreds into many pieces a token of their own.

A word such as "간경변증" or "cholecystitis" cut into four or five sub-pieces costs positions and forces the model
to rebuild the word every time. :func:`frequent_split_words` picks the most frequent such words of the training
names; :func:`extend_vocabulary` adds them to the tokenizer, grows the embedding matrix and starts each new row at
the mean of the word's former sub-piece vectors, so the model's view of the word changes smoothly. With frozen word
embeddings the new rows keep that starting value.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

import torch

from pretrain.encoder import Encoder

WORD = re.compile(r"\w{2,}")


def frequent_split_words(
    names: Iterable[str], tokenizer, max_words: int, min_count: int = 5, min_pieces: int = 3
) -> list[str]:
    """Return up to ``max_words`` words occurring in at least ``min_count`` names and cut into ``min_pieces``+ pieces.

    Most frequent first (ties alphabetical), so the same names always give the same words.
    """
    counts = Counter(word for name in set(names) for word in set(WORD.findall(name)))
    words = []
    for word, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        if len(words) == max_words or count < min_count:
            break
        if len(tokenizer.tokenize(word)) >= min_pieces:
            words.append(word)
    return words


def extend_vocabulary(encoder: Encoder, words: list[str]) -> int:
    """Add ``words`` as tokens, resize the embeddings, initialise each new row from its sub-pieces; return the count.

    Words the tokenizer already holds as one token are skipped.
    """
    tokenizer = encoder.tokenizer
    pieces = {word: tokenizer.convert_tokens_to_ids(tokenizer.tokenize(word)) for word in words}
    pieces = {word: ids for word, ids in pieces.items() if len(ids) > 1}
    added = tokenizer.add_tokens(list(pieces))
    if not added:
        return 0
    embeddings = encoder.model.get_input_embeddings()
    old_rows = embeddings.weight.detach().clone()
    encoder.model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    weight = encoder.model.get_input_embeddings().weight
    with torch.no_grad():
        for word, ids in pieces.items():
            weight[tokenizer.convert_tokens_to_ids(word)] = old_rows[ids].mean(dim=0)
    return added
