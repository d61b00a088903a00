"""Hard batches: lexical neighbours, grouping, and a sampler whose batches hold the confusable codes together."""

from __future__ import annotations

import numpy as np
import pytest

from pretrain.hard_batches import HardBatchSampler, lexical_neighbours, neighbour_groups

# Three families of look-alike codes (liver, kidney, drugs); within a family names share characters.
NAMES_BY_CODE = [
    ["간경화증", "hepatic sclerosis"],  # 0
    ["간경화증, 대상성", "hepatic sclerosis, compensated"],  # 1
    ["간암", "liver cancer"],  # 2
    ["간세포암", "hepatocellular carcinoma of liver"],  # 3
    ["신부전", "kidney failure"],  # 4
    ["만성 신부전", "chronic kidney failure"],  # 5
    ["급성 신부전", "acute kidney failure"],  # 6
    ["신장암", "kidney cancer"],  # 7
    ["필그라스팀", "filgrastim"],  # 8
    ["페그필그라스팀", "pegfilgrastim"],  # 9
    ["레노그라스팀", "lenograstim"],  # 10
    ["리페그필그라스팀", "lipegfilgrastim"],  # 11
]
FAMILY = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])


def test_nearest_lexical_neighbours_share_characters_and_exclude_the_code_itself() -> None:
    neighbours = lexical_neighbours(NAMES_BY_CODE, neighbours=3)
    assert neighbours.shape == (12, 3)
    assert all(code not in row for code, row in enumerate(neighbours.tolist()))
    assert neighbours[0, 0] == 1  # 간경화증 -> 간경화증, 대상성
    assert set(neighbours[5, :2].tolist()) == {4, 6}  # 만성 신부전 -> 신부전, 급성 신부전
    assert neighbours[9, 0] == 11  # pegfilgrastim -> lipegfilgrastim
    same_family = FAMILY[neighbours] == FAMILY[:, None]
    assert same_family.mean() > 0.9


def test_codes_sharing_no_character_get_no_neighbour() -> None:
    neighbours = lexical_neighbours([["abc"], ["abd"], ["xyz"]], neighbours=2)
    assert neighbours[2].tolist() == [-1, -1]
    assert neighbours[0].tolist() == [1, -1]


def test_groups_partition_the_codes_into_neighbourhoods() -> None:
    neighbours = lexical_neighbours(NAMES_BY_CODE, neighbours=3)
    for seed in range(5):
        groups = neighbour_groups(neighbours, group_size=4, rng=np.random.default_rng(seed))
        assert sorted(code for group in groups for code in group) == list(range(12))
        assert all(1 <= len(group) <= 4 for group in groups)
        assert all(group[1:] == [c for c in neighbours[group[0]].tolist() if c in group[1:]] for group in groups)


def test_hard_batches_hold_confusable_codes_together_one_pair_per_code() -> None:
    labels = np.repeat(np.arange(12), 2)  # 12 codes x 2 pairs
    sampler = HardBatchSampler(labels, NAMES_BY_CODE, batch_size=4, group_size=4, seed=1)
    first = sampler.batches(0)
    assert len(first) == len(sampler) == 6
    assert sorted(np.concatenate(first).tolist()) == list(range(24))  # each pair once
    assert all(np.array_equal(a, b) for a, b in zip(first, sampler.batches(0), strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, sampler.batches(1), strict=True))
    same_family = [FAMILY[labels[a]] == FAMILY[labels[b]] for batch in first for a in batch for b in batch if a < b]
    random_rate = (4 * 8 * 8 - 24) / (24 * 23)  # a random other pair's chance of being from the same family
    assert np.mean(same_family) > 2 * random_rate
    assert all(len(set(labels[batch].tolist())) == 4 for batch in first)


def test_hard_batch_sampler_refuses_groups_of_one_and_labels_without_names() -> None:
    with pytest.raises(ValueError, match="group_size"):
        HardBatchSampler(np.repeat(np.arange(12), 2), NAMES_BY_CODE, batch_size=4, group_size=1)
    with pytest.raises(ValueError, match="names_by_code"):
        HardBatchSampler(np.arange(13), NAMES_BY_CODE, batch_size=4, group_size=2)
