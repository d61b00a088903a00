"""Each terminology reader on small fixtures, including cp949 input and malformed files."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from corpora.errors import InputError
from corpora.generic import read_sapbert_dictionary, read_table_file
from corpora.hira_drugs import korean_ingredient, read_hira_drugs
from corpora.hira_edi import read_edi
from corpora.kcd import read_kcd
from corpora.kostom import read_kostom
from corpora.table import COLUMNS
from corpora.umls import read_mrconso
from tests.corpora_support import FIXTURES, KCD_ROWS, write_edi_workbook, write_kcd_masterfile


def names_of(frame, code: str) -> set[str]:
    return set(frame.loc[frame["code"] == code, "name"])


@pytest.fixture(scope="module")
def kcd(tmp_path_factory: pytest.TempPathFactory):
    return read_kcd(write_kcd_masterfile(tmp_path_factory.mktemp("kcd") / "masterfile.xlsx"))


def test_kcd_concepts_come_from_headwords_only(kcd) -> None:
    frame, report = kcd
    assert list(frame.columns) == list(COLUMNS)
    assert sorted(frame["code"].unique()) == ["K70", "K70.3", "K74", "K74.1", "K74.6", "K74.60"]
    assert report.counts["codes"] == 6
    preferred = frame[(frame["code"] == "K74.6") & (frame["term_type"] == "preferred")]
    assert set(preferred["lang"]) == {"ko", "en"}
    assert set(frame["concept_type"]) == {"disease"}


def test_kcd_hierarchy_and_chapter(kcd) -> None:
    frame, _ = kcd
    parents = frame.drop_duplicates("code").set_index("code")["parent"].to_dict()
    assert parents == {"K70": "K70-K77", "K70.3": "K70", "K74": "K70-K77", "K74.1": "K74", "K74.6": "K74",
                       "K74.60": "K74.6"}  # fmt: skip
    assert set(frame["chapter"]) == {"K00-K93"}


def test_kcd_inclusion_rows_are_normalised_synonyms(kcd) -> None:
    frame, report = kcd
    assert {
        "간 경변증",
        "경변증",
        "Cirrhosis of liver",
        "Cirrhosis",
        "결핵성 경변증",
        "Tuberculous cirrhosis",
    } <= names_of(frame, "K74.6")
    original = frame.loc[(frame["code"] == "K74.6") & (frame["name"] == "경변증"), "original"].item()
    assert original == "(간) 경변증 NOS"
    assert report.counts["inclusion rows"] == 5


def test_kcd_exclusions_go_to_their_target_code(kcd) -> None:
    frame, report = kcd
    exclusions = frame[frame["term_type"] == "exclusion"]
    assert set(exclusions["code"]) == {"K70.3"}
    assert {"알코올성 간의 경화", "Alcoholic sclerosis of liver"} <= names_of(frame, "K70.3")
    assert "Alcoholic fibrosis of liver" not in set(frame["name"])  # K70.2 is not in the file
    assert "심장성 간경화" not in names_of(frame, "K74")
    assert report.counts["exclusion terms attached"] == 1
    assert report.skipped["exclusion referencing an unknown code"] == 2
    assert report.skipped["exclusion without a single-code reference"] == 1


def test_kcd_exclusion_that_only_qualifies_its_code_is_no_name(tmp_path: Path) -> None:
    qualifiers = [
        (None, None, "K74.6", None, "제외", "선천성(K70.3)", "Congenital(K70.3)"),  # "congenital [cirrhosis]"
        (None, None, "K74.6", None, "제외", "폐(K70.3)", "Pulmonary(K70.3)"),
        (None, None, "K74.1", None, "제외", "알코올성 간질환 NOS(K70)", "Alcoholic liver disease NOS(K70)"),
        (None, None, "K74.1", None, "제외", "알코올성 간경변증 의심(K70.3)", "Alcoholic(K70.3)"),  # Korean: a name
        (None, None, "K74.1", None, "제외", "틱(K70)", "Tic(K70)"),  # a short noun, not a qualifier
    ]
    frame, report = read_kcd(write_kcd_masterfile(tmp_path / "masterfile.xlsx", KCD_ROWS + qualifiers))
    assert not {"선천성", "Congenital", "폐", "Pulmonary"} & set(frame["name"])
    assert report.skipped["exclusion that only qualifies its code's name (Pulmonary, 선천성): no name by itself"] == 2
    assert report.counts["exclusion terms attached"] == 4  # the full names still go to K70 / K70.3
    assert report.counts["exclusions kept in Korean only (the English only qualifies)"] == 1
    assert "알코올성 간경변증 의심" in set(frame["name"]) and "Alcoholic" not in set(frame["name"])
    assert {"틱", "Tic"} <= set(frame["name"])


def test_kcd_notes_and_non_terms_are_counted_not_kept(kcd) -> None:
    frame, report = kcd
    assert report.skipped["note (주)"] == 1
    assert report.skipped["subdivision list, not a term"] == 1
    assert report.skipped["instruction, not a term"] == 1
    assert report.skipped["description, not a term"] == 1
    assert report.skipped["inclusion row under a chapter, block or unknown code"] == 1
    assert report.skipped["empty row"] == 1
    assert report.rows_read == len(KCD_ROWS)
    assert not frame["name"].str.contains("사용").any()


def test_kcd_without_expected_header_names_the_columns(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(("코드", "이름"))
    path = tmp_path / "other.xlsx"
    workbook.save(path)
    with pytest.raises(InputError, match="질병분류코드"):
        read_kcd(path)


@pytest.mark.parametrize("content", [b"", b"not a zip archive"])
def test_unreadable_workbook(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(content)
    with pytest.raises(InputError) as error:
        read_kcd(path)
    assert str(path) in str(error.value)


def test_kostom_cp949_rows_with_and_without_cui() -> None:
    path = FIXTURES / "kostom_sample.txt"
    with pytest.raises(UnicodeDecodeError):
        path.read_text(encoding="utf-8")  # the fixture really is cp949
    frame, report = read_kostom(path)
    assert names_of(frame, "C0023890") == {"Liver cirrhosis", "간경화증", "Cirrhosis of liver", "간경변증"}
    assert "A 항체:존재:검사시점:혈청/혈장:순위척도" in names_of(frame, "C0482065")
    assert report.skipped["row without UMLS CUI"] == 2
    assert report.skipped["row without English and Korean term"] == 1
    kept, kept_report = read_kostom(path, keep_without_cui=True)
    assert names_of(kept, "P00000401") == {
        "Gastroscopy",
        "위내시경",
        "Esophagogastroduodenoscopy",
        "식도위십이지장내시경",
    }
    assert set(kept.loc[kept["code"] == "P00000401", "term_type"]) == {"kostom-pair"}
    assert kept_report.counts["rows without CUI kept as pairs"] == 2


def test_kostom_utf8_and_malformed_rows(tmp_path: Path) -> None:
    path = tmp_path / "kostom.tsv"
    path.write_text("KOSTOM_ID\tID\tENG\tKOR\tCUI\nD1\tD1\tAsthma\t천식\tC0004096\nD2\tD2\tbroken\n", encoding="utf-8")
    with pytest.raises(InputError) as error:
        read_kostom(path)
    assert error.value.line == 3 and "at least 5" in str(error.value)
    path.write_text("KOSTOM_ID\tID\tENG\tKOR\tCUI\nD1\tD1\tAsthma\t천식\tnot-a-cui\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2: expected a UMLS CUI"):
        read_kostom(path)


def test_wrong_encoding_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "mixed.tsv"
    good = "KOSTOM_ID\tID\tENG\tKOR\tCUI\n" + "D1\tD1\tAsthma\t천식\tC0004096\n" * 3
    path.write_bytes(good.encode("utf-8") + "D2\tD2\tCough\t기침\tC0010200\n".encode("cp949"))
    with pytest.raises(InputError) as error:
        read_kostom(path, encoding="utf-8")
    assert error.value.line == 5


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "kostom.tsv"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_kostom(path)


def test_mrconso_filters() -> None:
    path = FIXTURES / "MRCONSO_sample.RRF"
    frame, report = read_mrconso(path)
    assert names_of(frame, "C0023890") == {"Liver Cirrhosis", "Cirrhosis of Liver", "간경화"}
    assert set(frame.loc[frame["name"] == "간경화", ["lang", "source"]].itertuples(index=False, name=None)) == {
        ("ko", "umls:MSHKOR")
    }
    assert report.skipped == {"language filtered out": 1, "suppressed atom": 1}
    english_msh, _ = read_mrconso(path, languages=["ENG"], sources=["MSH"], preferred_only=True)
    assert set(english_msh["name"]) == {"Liver Cirrhosis", "Cirrhosis of Liver", "Hypertensive disease"}
    with_suppressed, _ = read_mrconso(path, keep_suppressed=True)
    assert "Hepatic Cirrhosis" in set(with_suppressed["name"])


def test_mrconso_malformed_line(tmp_path: Path) -> None:
    path = tmp_path / "MRCONSO.RRF"
    lines = (FIXTURES / "MRCONSO_sample.RRF").read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0], "C0000001|ENG|P|broken"]) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2: expected 18"):
        read_mrconso(path)


def test_generic_csv_tsv_jsonl_with_column_mapping(tmp_path: Path) -> None:
    csv_path = tmp_path / "dict.csv"
    csv_path.write_text('id,term,language\nK74.6,"Cirrhosis, liver",en\nK74.6,간경변,ko\nI10,,en\n', encoding="utf-8")
    frame, report = read_table_file(csv_path, code_col="id", name_col="term", lang_col="language")
    assert names_of(frame, "K74.6") == {"Cirrhosis, liver", "간경변"}
    assert report.skipped["row without code or name"] == 1
    tsv_path = tmp_path / "dict.tsv"
    tsv_path.write_text("code\tname\nI10\t고혈압\n", encoding="cp949")
    assert read_table_file(tsv_path)[0]["lang"].tolist() == ["ko"]
    jsonl_path = tmp_path / "dict.jsonl"
    jsonl_path.write_text('{"code": "I10", "name": "hypertension"}\n{"code": "I10"\n', encoding="utf-8")
    with pytest.raises(InputError, match="line 2: invalid JSON"):
        read_table_file(jsonl_path)


def test_generic_missing_column_and_ragged_row(tmp_path: Path) -> None:
    path = tmp_path / "dict.csv"
    path.write_text("id,term\nA00,Cholera\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing column"):
        read_table_file(path)
    path.write_text("code,name\nA00,Cholera,extra\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2: expected 2 fields"):
        read_table_file(path)


def test_sapbert_dictionary_gives_name_to_every_code(tmp_path: Path) -> None:
    path = tmp_path / "dict.txt"
    path.write_text("K74.6|K74.1||간경화\nA00||Cholera NOS\n", encoding="utf-8")
    frame, _ = read_sapbert_dictionary(path)
    assert sorted(frame[["code", "name"]].itertuples(index=False, name=None)) == [
        ("A00", "Cholera"),
        ("K74.1", "간경화"),
        ("K74.6", "간경화"),
    ]
    path.write_text("A00 Cholera\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 1"):
        read_sapbert_dictionary(path)


def test_hira_edi_lab_workbook(tmp_path: Path) -> None:
    frame, report, links = read_edi(write_edi_workbook(tmp_path / "edi_lab.xlsx"))
    assert names_of(frame, "D2200") == {"일반혈액검사", "Complete Blood Count"}
    assert set(frame["concept_type"]) == {"lab"}
    assert frame.loc[frame["code"] == "F6112", "chapter"].iloc[0] == "3절 기능검사료"
    assert names_of(frame, "F6113") == {"근전도검사-상지"}
    assert links[["code", "sctid", "mapping_type"]].values.tolist() == [
        ["D2200", "26604007", "broad"],
        ["F6112", "42803009", "exact"],
    ]
    assert report.skipped["empty row"] == 2


def test_hira_drugs_join_ingredients_to_atc() -> None:
    frame, report = read_hira_drugs(FIXTURES / "atc_mapping_sample.csv", FIXTURES / "drug_ingredient_master_sample.csv")
    assert names_of(frame, "C10AA07") == {"rosuvastatin", "로수바스타틴칼슘", "rosuvastatin calcium"}
    assert names_of(frame, "N03AG01") == {"valproic acid", "발프로산나트륨", "sodium valproate"}
    assert set(frame["concept_type"]) == {"drug"}
    assert frame.loc[frame["code"] == "C10AA07", "parent"].iloc[0] == "C10AA"
    assert report.skipped == {
        "ATC code not at substance level (class or combination)": 1,
        "product without ATC code": 1,
    }


@pytest.mark.parametrize(
    ("product", "ingredient"),
    [
        ("리비알정(티볼론)_(2.5mg/1정)", "티볼론"),
        ("데파킨크로노정300밀리그램_(발프로산나트륨, 0.3g/1정)", "발프로산나트륨"),
        ("에이서정(아세클로페낙)(수출명: SEONAC)_(0.1g/1정)", "아세클로페낙"),
        ("보령콜린알포세레이트정_(0.4g/1정)", ""),
    ],
)
def test_korean_ingredient(product: str, ingredient: str) -> None:
    assert korean_ingredient(product) == ingredient


def test_hira_drugs_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "atc.csv"
    path.write_text("주성분코드,제품명\n1,x\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 1: missing column"):
        read_hira_drugs(path)


def test_kcd_exclusion_that_is_another_codes_own_name_is_dropped(tmp_path) -> None:
    rows = list(KCD_ROWS)
    at = rows.index(
        (1, "세", "K74.6", None, None, "간의 기타 및 상세불명의 경변증", "Other and unspecified cirrhosis of liver")
    )
    rows.insert(at, (None, None, "K70.3", None, "제외", "간경화증(K74.6)", "Hepatic sclerosis(K74.6)"))
    frame, report = read_kcd(write_kcd_masterfile(tmp_path / "kcd.xlsx", rows))
    assert "간경화증" not in names_of(frame, "K74.6")  # K74.1's own name: the exclusion would tie with it
    assert "간경화증" in names_of(frame, "K74.1")
    assert {"알코올성 간의 경화"} <= names_of(frame, "K70.3")  # an unambiguous exclusion still attaches
    assert report.skipped["exclusion name that is another code's own name"] == 2
