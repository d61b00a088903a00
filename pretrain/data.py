"""Training data for self-alignment pretraining: synonym pairs from a pair file or a concept table, and batches.

A pair file is the TSV that corpora writes (header ``sent0<TAB>sent1<TAB>label``, label = the code; ``.tsv`` or
``.tsv.gz``). A concept table (``code``, ``name``... as :mod:`corpora.table` defines) is turned into pairs here: every
two different names of one code, at most ``max_pairs_per_code`` per code. The dictionary that dev queries are
linked against during training is every distinct (name, code) of the training data.
"""

from __future__ import annotations

import gzip
import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpora.errors import InputError

PAIR_COLUMNS = ("sent0", "sent1", "label")


@dataclass(frozen=True)
class PairSet:
    """Synonym pairs: ``left[i]`` and ``right[i]`` name the concept ``codes[labels[i]]``."""

    left: list[str]
    right: list[str]
    labels: np.ndarray
    codes: list[str]
    skipped_codes: int = 0

    def __len__(self) -> int:
        return len(self.left)

    def dictionary(self) -> tuple[list[str], list[str]]:
        """Return ``(names, codes)``: every distinct name of the training data with its code, in first-seen order."""
        seen: dict[tuple[str, str], None] = {}
        for left, right, label in zip(self.left, self.right, self.labels.tolist(), strict=True):
            seen.setdefault((left, self.codes[label]), None)
            seen.setdefault((right, self.codes[label]), None)
        return [name for name, _ in seen], [code for _, code in seen]


def _build(path: Path, rows: list[tuple[str, str, str]], skipped_codes: int = 0) -> PairSet:
    codes = sorted({code for _, _, code in rows})
    if len(codes) < 2:
        raise InputError(
            path,
            f"all pairs have one label ({codes[0] if codes else 'none'}): training needs two or "
            "more codes, since the loss learns by contrasting concepts",
        )
    index = {code: number for number, code in enumerate(codes)}
    labels = np.array([index[code] for _, _, code in rows], dtype=np.int64)
    return PairSet([row[0] for row in rows], [row[1] for row in rows], labels, codes, skipped_codes)


def read_pair_file(path: str | Path) -> PairSet:
    """Read a ``sent0<TAB>sent1<TAB>label`` pair file; raise InputError (with line) on anything malformed."""
    source = Path(path)
    if not source.is_file():
        raise InputError(source, "pair file not found")
    opener = gzip.open if source.name.endswith(".gz") else open
    rows: list[tuple[str, str, str]] = []
    try:
        with opener(source, "rt", encoding="utf-8-sig") as handle:
            header = handle.readline().rstrip("\r\n").split("\t")
            missing = [column for column in PAIR_COLUMNS if column not in header]
            if missing:
                raise InputError(
                    source,
                    f"missing column(s) {', '.join(missing)}: expected the header sent0<TAB>sent1<TAB>label",
                    line=1,
                )
            positions = [header.index(column) for column in PAIR_COLUMNS]
            for number, line in enumerate(handle, start=2):
                line = line.rstrip("\r\n")
                if not line.strip():
                    continue
                fields = line.split("\t")
                if len(fields) != len(header):
                    raise InputError(
                        source, f"expected {len(header)} tab-separated fields, found {len(fields)}", line=number
                    )
                left, right, code = (fields[position].strip() for position in positions)
                if not left or not right or not code:
                    raise InputError(
                        source, "empty name or label: every pair needs sent0, sent1 and label", line=number
                    )
                rows.append((left, right, code))
    except UnicodeDecodeError as error:
        raise InputError(source, "not UTF-8 text: expected a UTF-8 pair file") from error
    if not rows:
        raise InputError(source, "pair file has a header but no pairs")
    return _build(source, rows)


def pairs_from_concepts(path: str | Path, max_pairs_per_code: int = 50, seed: int = 0) -> PairSet:
    """Read a concept table and return all pairs of two different names per code (sampled down to a cap).

    Codes with a single distinct name give no pair; they are counted in ``skipped_codes`` for the run report.
    """
    from corpora.table import read_concepts

    source = Path(path)
    frame = read_concepts(source)
    rng = np.random.default_rng(seed)
    rows: list[tuple[str, str, str]] = []
    skipped = 0
    for code, names in frame.groupby("code", sort=True)["name"]:
        distinct = list(dict.fromkeys(names))
        combinations = list(itertools.combinations(distinct, 2))
        if not combinations:
            skipped += 1
            continue
        if len(combinations) > max_pairs_per_code:
            chosen = rng.choice(len(combinations), size=max_pairs_per_code, replace=False)
            combinations = [combinations[i] for i in sorted(chosen)]
        rows.extend((left, right, str(code)) for left, right in combinations)
    if not rows:
        raise InputError(source, "no code has two different names: nothing to pair for training")
    return _build(source, rows, skipped)


def load_training_pairs(path: str | Path, max_pairs_per_code: int = 50, seed: int = 0) -> PairSet:
    """Return the pairs of a pair file (header ``sent0 sent1 label``) or of a concept table, recognised by content."""
    source = Path(path)
    if not source.is_file():
        raise InputError(source, "training data not found: expected a pair file or a concept table")
    if source.suffix == ".parquet":
        return pairs_from_concepts(source, max_pairs_per_code, seed)
    opener = gzip.open if source.name.endswith(".gz") else open
    try:
        with opener(source, "rt", encoding="utf-8-sig") as handle:
            header = handle.readline().rstrip("\r\n").split("\t")
    except (UnicodeDecodeError, OSError) as error:
        raise InputError(source, f"cannot read the header ({error.__class__.__name__})") from error
    if "code" in header and "name" in header and "sent0" not in header:
        return pairs_from_concepts(source, max_pairs_per_code, seed)
    return read_pair_file(source)


class PairBatchSampler:
    """Deterministic batches of pair indices, re-shuffled every epoch, keeping ``pairs_per_code`` pairs together.

    Pairs of one code are shuffled and cut into groups of ``pairs_per_code``; the groups are shuffled and cut into
    batches of ``batch_size`` pairs, so a batch usually holds that many pairs (2x names) of each of its codes
    (a group can straddle two batches). ``pairs_per_code=1`` is a plain shuffle. The incomplete last batch is
    dropped. Epoch ``e`` always gives the same batches for the same seed, which is what makes resuming exact.
    """

    def __init__(self, labels: np.ndarray, batch_size: int, pairs_per_code: int = 1, seed: int = 0) -> None:
        if batch_size < 1 or pairs_per_code < 1:
            raise ValueError("batch_size and pairs_per_code must be at least 1")
        if len(labels) < batch_size:
            raise ValueError(
                f"the training data has {len(labels)} pairs, fewer than one batch ({batch_size}): lower the batch size"
            )
        self.labels = np.asarray(labels)
        self.batch_size = batch_size
        self.pairs_per_code = pairs_per_code
        self.seed = seed

    def __len__(self) -> int:
        return len(self.labels) // self.batch_size

    def batches(self, epoch: int) -> list[np.ndarray]:
        """Return the batches (arrays of pair indices) of ``epoch``, the same on every call and every process."""
        rng = np.random.default_rng([self.seed, epoch])
        if self.pairs_per_code == 1:
            order = rng.permutation(len(self.labels))
        else:
            by_code = np.argsort(self.labels, kind="stable")
            bounds = np.flatnonzero(np.diff(self.labels[by_code])) + 1
            groups = []
            for members in np.split(by_code, bounds):
                members = rng.permutation(members)
                groups.extend(np.split(members, range(self.pairs_per_code, len(members), self.pairs_per_code)))
            order = np.concatenate([groups[i] for i in rng.permutation(len(groups))])
        return [
            order[start : start + self.batch_size] for start in range(0, len(self) * self.batch_size, self.batch_size)
        ]
