"""Pair files, concept tables as training data, and the batch sampler."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from corpora.errors import InputError
from corpora.table import concept_frame, write_concepts
from pretrain.data import PairBatchSampler, load_training_pairs, pairs_from_concepts, read_pair_file


def write_lines(path, lines: list[str]):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_pair_file_is_read_with_labels_and_dictionary(tmp_path) -> None:
    path = write_lines(
        tmp_path / "pairs.tsv",
        ["sent0\tsent1\tlabel", "간경화\tliver cirrhosis\tK74.6", "간암\tHCC\tC22.0", "간경화\t간경변증\tK74.6"],
    )
    pairs = read_pair_file(path)
    assert len(pairs) == 3
    assert pairs.codes == ["C22.0", "K74.6"]
    assert pairs.labels.tolist() == [1, 0, 1]
    names, codes = pairs.dictionary()
    assert names == ["간경화", "liver cirrhosis", "간암", "HCC", "간경변증"]
    assert codes == ["K74.6", "K74.6", "C22.0", "C22.0", "K74.6"]


def test_gzipped_pair_file_with_extra_column(tmp_path) -> None:
    path = tmp_path / "pairs.tsv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("label\tsource\tsent0\tsent1\nK74.6\tkcd\t간경화\tcirrhosis\nC22.0\tkcd\t간암\tHCC\n")
    pairs = load_training_pairs(path)
    assert pairs.left == ["간경화", "간암"] and pairs.right == ["cirrhosis", "HCC"]


@pytest.mark.parametrize(
    ("lines", "message", "line"),
    [
        (["sent0\tlabel", "a\tK1"], "missing column.*sent1", 1),
        (["sent0\tsent1\tlabel", "a\tb\tK1", "a\t\tK2"], "empty name", 3),
        (["sent0\tsent1\tlabel", "a\tb\tK1", "a\tb"], "expected 3", 3),
        (["sent0\tsent1\tlabel", "a\tb\tK1", "c\td\tK1"], "one label", None),
        (["sent0\tsent1\tlabel"], "no pairs", None),
    ],
)
def test_bad_pair_files_name_file_line_and_expectation(tmp_path, lines, message, line) -> None:
    path = write_lines(tmp_path / "bad.tsv", lines)
    with pytest.raises(InputError, match=message) as caught:
        load_training_pairs(path)
    assert caught.value.path == str(path)
    assert caught.value.line == line


def test_missing_training_file_is_an_input_error(tmp_path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_training_pairs(tmp_path / "nope.tsv")


def test_concept_table_gives_all_name_pairs_per_code_with_a_cap(tmp_path) -> None:
    rows = [{"code": "A", "name": name} for name in ["a1", "a2", "a3", "a4"]]
    rows += [{"code": "B", "name": "b1"}, {"code": "B", "name": "b2"}, {"code": "B", "name": "b2"}]
    rows += [{"code": "C", "name": "c1"}]
    path = write_concepts(concept_frame(rows), tmp_path / "concepts.tsv")
    pairs = load_training_pairs(path)
    assert pairs.skipped_codes == 1  # C has one name only
    by_code = {code: sum(pairs.codes[label] == code for label in pairs.labels) for code in pairs.codes}
    assert by_code == {"A": 6, "B": 1}  # 4 names -> 6 pairs; the duplicate b2 is one name
    capped = pairs_from_concepts(path, max_pairs_per_code=2)
    assert sum(capped.codes[label] == "A" for label in capped.labels) == 2
    assert all(left != right for left, right in zip(capped.left, capped.right, strict=True))


def test_sampler_is_deterministic_per_epoch_and_drops_the_partial_batch() -> None:
    labels = np.repeat(np.arange(10), 3)  # 30 pairs
    sampler = PairBatchSampler(labels, batch_size=8, seed=3)
    first = sampler.batches(0)
    assert len(first) == len(sampler) == 3
    assert all(len(batch) == 8 for batch in first)
    assert len(set(np.concatenate(first).tolist())) == 24
    assert all(np.array_equal(a, b) for a, b in zip(first, sampler.batches(0), strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, sampler.batches(1), strict=True))


def test_sampler_keeps_pairs_of_one_code_together() -> None:
    labels = np.repeat(np.arange(12), 4)  # 12 codes x 4 pairs
    sampler = PairBatchSampler(labels, batch_size=8, pairs_per_code=4, seed=0)
    for batch in sampler.batches(0):
        counts = np.bincount(labels[batch], minlength=12)
        assert set(counts[counts > 0].tolist()) == {4}  # two whole codes per batch


def test_sampler_refuses_data_smaller_than_a_batch() -> None:
    with pytest.raises(ValueError, match="fewer than one batch"):
        PairBatchSampler(np.arange(3), batch_size=4)
