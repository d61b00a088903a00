"""Name normalisation rules and language detection."""

from __future__ import annotations

import pytest

from corpora.normalize import clean_text, detect_lang, name_variants, trailing_code_reference


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(간) 경변증 NOS", ["간 경변증", "경변증"]),
        ("Cirrhosis (of liver) NOS", ["Cirrhosis of liver", "Cirrhosis"]),
        ("살모넬라 골수염(M90.2*)", ["살모넬라 골수염"]),
        ("Tuberculous enteritis(A18.31†)", ["Tuberculous enteritis"]),
        ("Herpesviral [herpes simplex] hepatitis (B00.8+)", ["Herpesviral [herpes simplex] hepatitis"]),
        ("Salmonella arthritis (A50.5†, A52.7†)", ["Salmonella arthritis"]),
        ("Lymphoma (C00-D48†)", ["Lymphoma"]),
        ("간(의) 질환", ["간의 질환", "간 질환"]),
        ("난로(독립형)에 사용", ["난로에 사용"]),
        ("단백뇨(고정된)(지속적)를 동반한 당뇨병", ["단백뇨를 동반한 당뇨병"]),
        ("Maturity-onset diabetes (mellitus, nonobese, obese), with coma", ["Maturity-onset diabetes, with coma"]),
        ("유예가료(猶豫加療)", ["유예가료"]),
        ("각화극세포종(keratoacanthoma)", ["각화극세포종"]),
        ("미세혈관이상(출혈(반점)(둥근))을 동반한 당뇨병", ["미세혈관이상을 동반한 당뇨병"]),
        ("Vaginal neoplasia, grade Ⅲ", ["Vaginal neoplasia, grade III"]),
        ("  Mental   disorder NOS ", ["Mental disorder"]),
        ("Foo (bar", ["Foo bar"]),
        ("(K70.3)", []),
        (
            "Hypertension (arterial) (benign) (essential)",
            ["Hypertension arterial", "Hypertension benign", "Hypertension essential", "Hypertension"],
        ),
        (
            "(Acute) gastritis (erosive) (haemorrhagic) NOS",
            ["Acute gastritis erosive", "Acute gastritis haemorrhagic", "gastritis"],
        ),
        ("Fever (a) (b) with (c) (d)", ["Fever with"]),
    ],
)
def test_name_variants(text: str, expected: list[str]) -> None:
    assert name_variants(text) == expected


def test_nos_inside_a_word_is_kept() -> None:
    assert name_variants("NOSTRIL injury") == ["NOSTRIL injury"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("결핵성 장염(A18.31†)", "A18.31"),
        ("Listeriosis(A32.-)", "A32"),
        ("Cholangitis without liver abscess(K83.0-)", "K83.0"),
        ("Salmonella meningitis(G01*)", "G01"),
        ("Frostbite(T33-T35)", None),
        ("Falling object(W24, W28-W31)", None),
        ("달리 분류된 식중독", None),
    ],
)
def test_trailing_code_reference(text: str, code: str | None) -> None:
    assert trailing_code_reference(text) == code


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("간경화", "ko"),
        ("HIV 감염", "ko"),
        ("Cholera", "en"),
        ("α-1-Antitrypsin deficiency", "en"),
        ("Ménière disease", "en"),
        ("猶豫加療", "other"),
        ("123", "other"),
    ],
)
def test_detect_lang(text: str, lang: str) -> None:
    assert detect_lang(text) == lang


def test_clean_text_applies_nfkc_and_whitespace() -> None:
    assert clean_text(" Ｃｈｏｌｅｒａ\t A ") == "Cholera A"
