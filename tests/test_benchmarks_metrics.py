"""Accuracy metrics recomputed by hand on tiny cases, under both hit conventions."""

from __future__ import annotations

import pytest

from benchmarks.metrics import MRR_DEPTH, accuracy, category, hit_rank


def test_hit_rank_accepts_any_gold_code_and_is_one_based() -> None:
    assert hit_rank(["C22.0", "K74.6"], ["K74.1", "K74.6"]) == 2
    assert hit_rank(["K74.6"], ["K74.6"]) == 1
    assert hit_rank(["C22.0"], ["K74.6"]) is None


def test_category_convention_counts_a_sibling_code() -> None:
    assert category("K74.69") == "K74"
    assert hit_rank(["K74.1", "K74.6"], ["K74.6"], "code") == 2
    assert hit_rank(["K74.1", "K74.6"], ["K74.6"], "category") == 1
    assert hit_rank(["C22.0"], ["K74.6"], "category") is None


def test_accuracy_matches_a_hand_computation() -> None:
    predictions = [
        ["K74.6", "C22.0"],  # code rank 1
        ["K74.1", "K74.6", "I10"],  # code rank 2, category rank 1
        ["A00", "A01", "A02", "A03", "A04", "E11.9"],  # code rank 6 (outside acc@5)
        ["I10"],  # miss under both conventions
    ]
    golds = [("K74.6",), ("K74.6", "K74.63"), ("E11.9",), ("E14.9",)]
    code = accuracy(predictions, golds, "code")
    assert code.queries == 4
    assert code.acc1 == pytest.approx(1 / 4)
    assert code.acc5 == pytest.approx(2 / 4)
    assert code.mrr == pytest.approx((1 + 1 / 2 + 1 / 6 + 0) / 4)
    by_category = accuracy(predictions, golds, "category")
    assert by_category.acc1 == pytest.approx(2 / 4)
    assert by_category.acc5 == pytest.approx(2 / 4)
    assert by_category.mrr == pytest.approx((1 + 1 + 1 / 6 + 0) / 4)


def test_mrr_ignores_hits_below_its_depth() -> None:
    ranked = [f"X{i:02d}" for i in range(MRR_DEPTH)] + ["K74.6"]
    assert accuracy([ranked], [("K74.6",)]).mrr == 0.0


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="convention"):
        hit_rank(["A"], ["A"], "prefix")
    with pytest.raises(ValueError, match="queries"):
        accuracy([["A"]], [])
