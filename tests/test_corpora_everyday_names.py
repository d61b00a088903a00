"""Everyday names derived from KCD's formal cancer names: the rules, what they refuse, and the rows they add."""

from __future__ import annotations

import pandas as pd
import pytest

from corpora.everyday_names import everyday_name, everyday_name_rows
from corpora.table import conform


@pytest.mark.parametrize(
    ("name", "lang", "expected"),
    [
        ("간의 악성 신생물", "ko", "간암"),
        ("상세불명의 유방의 악성 신생물", "ko", "유방암"),
        ("자궁경부의 악성 신생물", "ko", "자궁경부암"),
        ("Malignant neoplasm of stomach", "en", "stomach cancer"),
        ("Malignant neoplasm of the frontal sinus", "en", "frontal sinus cancer"),
        ("간세포암종의 악성 신생물", "ko", None),  # the "site" is a tumour word: 간세포암종암 is no name
        ("흑색종의 악성 신생물", "ko", None),
        ("Malignant neoplasm of cholangiocarcinoma", "en", None),
        ("기관지 또는 폐의 악성 신생물", "ko", None),  # a site of several words: no safe short form
        ("Malignant neoplasm of liver, unspecified", "en", "liver cancer"),
        ("분문의 악성 신생물, 상세불명", "ko", "분문암"),
        ("Malignant neoplasm of breast, upper-outer quadrant", "en", None),
        ("간의 양성 신생물", "ko", None),
        ("간의 악성 신생물", "en", None),  # rules are per language
    ],
)
def test_everyday_form_of_formal_cancer_names(name: str, lang: str, expected: str | None) -> None:
    assert everyday_name(name, lang) == expected


def table(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return conform(pd.DataFrame(rows, columns=["code", "name", "lang", "term_type"]).assign(source="kcd"))


def test_derived_rows_keep_their_origin_and_add_no_ambiguity() -> None:
    kcd = table(
        [
            ("C16", "위의 악성 신생물", "ko", "preferred"),
            ("C16.9", "상세불명의 위의 악성 신생물", "ko", "preferred"),
            ("C16.9", "위암", "ko", "synonym"),  # KCD already names it: nothing to add
            ("C22.9", "상세불명의 간의 악성 신생물", "ko", "preferred"),
            ("C22.9", "간의 악성 신생물", "ko", "synonym"),  # the same everyday form twice for one code
            ("C22.9", "Malignant neoplasm of liver", "en", "synonym"),
            ("C25", "췌장의 악성 신생물", "ko", "exclusion"),  # an exclusion names a neighbour: never rewritten
        ]
    )
    rows, report = everyday_name_rows(kcd)
    assert list(zip(rows["code"], rows["name"], rows["original"], strict=True)) == [
        ("C22.9", "간암", "상세불명의 간의 악성 신생물"),
        ("C22.9", "liver cancer", "Malignant neoplasm of liver"),
    ]
    assert set(rows["term_type"]) == {"derived"} and set(rows["source"]) == {"kcd"}
    assert report.counts == {"derived names (ko)": 1, "derived names (en)": 1}
    assert report.skipped == {
        "everyday form already a name in the table": 2,
        "same code and everyday form as an earlier name": 1,
    }
    assert report.rows_read == 6
