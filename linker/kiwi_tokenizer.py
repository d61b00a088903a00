"""A spaCy tokenizer for Korean-English text built on Kiwi (kiwipiepy, pip-only): ``sapbert.KiwiTokenizer.v1``.

spaCy's own Korean tokenizer needs MeCab and splits medical words badly ("간경화" -> 간경+화, "T2DM" -> T/2/DM).
Kiwi separates particles and endings (간경화 + 가), and runs of Latin letters and digits are handed to it as
fixed tokens so English words and codes stay whole. Token texts are slices of the input (Kiwi's morpheme forms
are not surface text), so ``doc.text == text`` and every token has exact character offsets; each token's Kiwi tag
(NNG, SL, JKS...) is its ``tag_``. Use it with::

    nlp = spacy.blank("ko", config={"nlp": {"tokenizer": {"@tokenizers": "sapbert.KiwiTokenizer.v1"}}})
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path

import srsly
from spacy.tokens import Doc
from spacy.util import minibatch, registry
from spacy.vocab import Vocab

LATIN_RUN = re.compile(r"[A-Za-z0-9]+")
CHUNK_SIZE = 10_000  # Kiwi's time grows faster than text length; long notes are cut at line breaks below this
WHITESPACE_TAG = "_SP"
OTHER_TAG = "SW"


@lru_cache(maxsize=1)
def shared_kiwi():
    """Return the process's Kiwi analyser (its model loads in seconds, so once), using every core for batches."""
    from kiwipiepy import Kiwi

    return Kiwi(num_workers=-1)


def split_points(text: str, chunk_size: int) -> list[tuple[int, int]]:
    """Return (start, end) pieces covering ``text``, each at most ``chunk_size`` long, cut at line breaks or spaces."""
    pieces = []
    start = 0
    while len(text) - start > chunk_size:
        window = text[start + chunk_size // 2 : start + chunk_size]
        cut = window.rfind("\n")
        if cut < 0:
            cut = max(window.rfind(" "), window.rfind("\t"))
        end = start + chunk_size // 2 + cut + 1 if cut >= 0 else start + chunk_size
        pieces.append((start, end))
        start = end
    pieces.append((start, len(text)))
    return pieces


def latin_runs(text: str) -> list[tuple[int, int, str]]:
    """Return the runs of Latin letters and digits, which Kiwi must keep whole (SL words, SN numbers)."""
    return [(m.start(), m.end(), "SN" if m.group().isdigit() else "SL") for m in LATIN_RUN.finditer(text)]


def kiwi_tokens_many(texts: list[str], chunk_size: int = CHUNK_SIZE) -> list[list[tuple[int, int, str]]]:
    """Return each text's (start, end, tag) morphemes, overlapping ones merged (함 = 하 + ㅁ).

    All texts' pieces go to Kiwi in one call, which spreads them over its worker threads.
    """
    pieces = [
        (number, start, end) for number, text in enumerate(texts) for start, end in split_points(text, chunk_size)
    ]
    analysed = shared_kiwi().tokenize((texts[n][a:b] for n, a, b in pieces), pretokenized=latin_runs)
    merged: list[list[list]] = [[] for _ in texts]
    for (number, piece_start, _), tokens in zip(pieces, analysed, strict=True):
        out = merged[number]
        for token in tokens:
            start = piece_start + token.start
            end = start + token.len
            if out and start < out[-1][1]:
                out[-1][1] = max(out[-1][1], end)
                out[-1][2] += "+" + token.tag
            elif end > start:
                out.append([start, end, token.tag])
    return [[(start, end, tag) for start, end, tag in out] for out in merged]


class KiwiTokenizer:
    """spaCy tokenizer: text -> Doc of Kiwi morphemes with exact offsets; whitespace kept as spaCy does."""

    def __init__(self, vocab: Vocab, chunk_size: int = CHUNK_SIZE) -> None:
        self.vocab = vocab
        self.chunk_size = chunk_size

    def __call__(self, text: str) -> Doc:
        """Return the Doc of ``text``: one token per morpheme (particles apart), ``doc.text == text``."""
        return self._doc(text, kiwi_tokens_many([text], self.chunk_size)[0])

    def pipe(self, texts: Iterable[str], batch_size: int = 64) -> Iterator[Doc]:
        """Tokenize a stream of texts, ``batch_size`` at a time through Kiwi's worker threads (``nlp.pipe``)."""
        for batch in minibatch(texts, size=batch_size):
            for text, tokens in zip(batch, kiwi_tokens_many(batch, self.chunk_size), strict=True):
                yield self._doc(text, tokens)

    def _doc(self, text: str, tokens: list[tuple[int, int, str]]) -> Doc:
        """Build the Doc from morpheme offsets; text between morphemes becomes whitespace or its own token."""
        words: list[str] = []
        spaces: list[bool] = []
        tags: list[str] = []
        position = 0
        for start, end, tag in [*tokens, (len(text), len(text), "")]:
            gap = text[position:start]
            if gap.startswith(" ") and words and not spaces[-1] and not words[-1].isspace():
                spaces[-1] = True
                gap = gap[1:]
            if gap:
                words.append(gap)
                spaces.append(False)
                tags.append(WHITESPACE_TAG if gap.isspace() else OTHER_TAG)
            if end > start:
                words.append(text[start:end])
                spaces.append(False)
                tags.append(tag)
            position = end
        return Doc(self.vocab, words=words, spaces=spaces, tags=tags)

    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        """Serialise the tokenizer's settings (spaCy stores them with the pipeline)."""
        return srsly.json_dumps({"chunk_size": self.chunk_size}).encode("utf-8")

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = ()) -> KiwiTokenizer:
        """Restore the settings written by :meth:`to_bytes`."""
        self.chunk_size = int(srsly.json_loads(data)["chunk_size"])
        return self

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        """Write the settings to ``path`` (a file inside the saved pipeline)."""
        Path(path).write_bytes(self.to_bytes(exclude=exclude))

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> KiwiTokenizer:
        """Read the settings written by :meth:`to_disk`."""
        return self.from_bytes(Path(path).read_bytes(), exclude=exclude)


@registry.tokenizers("sapbert.KiwiTokenizer.v1")
def create_kiwi_tokenizer(chunk_size: int = CHUNK_SIZE) -> Callable:
    """Return the factory spaCy calls with the pipeline to make a :class:`KiwiTokenizer` (config entry point)."""

    def make(nlp) -> KiwiTokenizer:
        return KiwiTokenizer(nlp.vocab, chunk_size=chunk_size)

    return make
