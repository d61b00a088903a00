"""Extra training terminology: ICD-10-CM terms agreeing with KCD, linked clinical abbreviations, the combined set."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from corpora.abbreviations import ATTRIBUTION, SenseLinker, read_abbreviations, read_inventory, usual_senses
from corpora.english_keys import content_words, english_key, kcd_name_forms, without_unspecified
from corpora.errors import InputError
from corpora.icd10cm import read_icd10cm
from corpora.queries import Query, write_queries
from corpora.table import concept_frame, read_concepts, write_concepts
from corpora.training_set import build_training_terminology, register_training_set_command

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "enrich" / "abbreviations"
INVENTORIES = sorted(FIXTURES.iterdir())

# (code, English names, first one preferred); every code also gets a Korean preferred name
KCD_ENGLISH = {
    "K21": ["Gastro-oesophageal reflux disease"],
    "K21.0": ["Gastro-oesophageal reflux disease with oesophagitis"],
    "K74.6": ["Other and unspecified cirrhosis of liver"],
    "I48.91": ["Atrial flutter, unspecified"],
    "E11": ["Type 2 diabetes mellitus"],
    "E14": ["Unspecified diabetes mellitus", "Diabetes"],
    "I10.9": ["Other and unspecified primary hypertension", "Hypertension"],
    "I50.0": ["Congestive heart failure"],
    "C22.0": ["Malignant neoplasm of liver cell carcinoma", "Malignant neoplasm of hepatocellular carcinoma"],
    "K74.60": ["Cirrhosis of liver, compensated"],
    "K74.3": ["Primary biliary cirrhosis", "Liver cirrhosis"],
    "I21": ["Acute myocardial infarction"],
    "I22": ["Subsequent myocardial infarction"],
    "K70.3": ["Alcoholic cirrhosis of liver", "Liver cirrhosis"],
}


def kcd_table() -> pd.DataFrame:
    rows = []
    for code, names in KCD_ENGLISH.items():
        rows.append({"code": code, "name": f"한국어 {code}", "lang": "ko", "source": "kcd", "term_type": "preferred"})
        for index, name in enumerate(names):
            term_type = "preferred" if index == 0 else "synonym"
            rows.append({"code": code, "name": name, "lang": "en", "source": "kcd", "term_type": term_type})
    table = concept_frame(rows)
    table["concept_type"] = "disease"
    table["chapter"] = table["code"].str[0]
    return table


@pytest.fixture(scope="module")
def icd10cm_result():
    return read_icd10cm(kcd_table())


def names_of(table: pd.DataFrame, code: str) -> set[str]:
    return set(table.loc[table["code"] == code, "name"])


def test_english_keys_fold_spelling_and_kcd_wording() -> None:
    assert english_key("Gastro-oesophageal reflux disease") == english_key("gastroesophageal reflux disease")
    assert english_key("Haemorrhage of fetus NOS") == english_key("hemorrhage of foetus")
    assert english_key("goitre") == english_key("Goiter") and english_key("behaviour") == english_key("behavior")
    assert english_key("lymphoedema, dyspnoea") == english_key("lymphedema, dyspnea")
    assert english_key("gastroenteritis") == "gastroenteritis" and english_key("toes") == "toes"
    assert content_words("Other infections of arteries, site unspecified") == {"infection", "artery"}
    assert "without" in content_words("Gout without tophus") and "non" in content_words("non insulin dependent")
    assert kcd_name_forms("Malignant neoplasm of hepatocellular carcinoma")[1] == "hepatocellular carcinoma"
    assert without_unspecified("Urinary tract infection, site not specified") == "Urinary tract infection"
    assert without_unspecified("Unspecified diabetes mellitus") == "diabetes mellitus"
    assert without_unspecified("Cholera") is None


def test_icd10cm_attaches_agreeing_codes_and_their_icd10cm_only_children(icd10cm_result) -> None:
    table = icd10cm_result.table
    assert set(table["source"]) == {"icd10cm"} and set(table["lang"]) == {"en"}
    assert "Gastro-esophageal reflux disease" in names_of(table, "K21")  # British/American spelling agrees
    k21_0 = table[table["code"] == "K21.0"]
    assert "Reflux esophagitis" in set(k21_0["name"])  # from K21.00, which KCD lacks, onto the KCD leaf K21.0
    assert set(k21_0.loc[k21_0["name"] == "Reflux esophagitis", "term_type"]) == {"inclusion"}
    assert {"Liver cell carcinoma", "Hepatocellular carcinoma", "Hepatoma"} <= names_of(table, "C22.0")
    assert table.loc[table["code"] == "C22.0", "chapter"].eq("C").all()  # KCD metadata carried over


def test_icd10cm_rejects_disagreeing_codes_and_ambiguous_placements(icd10cm_result) -> None:
    table, report = icd10cm_result.table, icd10cm_result.report
    rejected = {decision.code: decision for decision in icd10cm_result.rejected}
    assert "I48.91" in rejected and rejected["I48.91"].icd10cm_description == "Unspecified atrial fibrillation"
    assert names_of(table, "I48.91") == set()
    # K21.9 is not in KCD and its nearest KCD code K21 is subdivided by KCD (K21.0): the term could go anywhere
    assert "Esophageal reflux" not in set(table["name"])
    assert report.skipped["under a KCD code that KCD subdivides differently"] >= 1
    # KCD K74.60 (compensated) means something else than ICD-10-CM K74.60 (unspecified cirrhosis): not attached
    assert "K74.60" in rejected and "Unspecified cirrhosis of liver" not in set(table["name"])
    # ICD-10-CM's "diabetes NOS" is type 2 (E11), but KCD gives "Diabetes" to E14: KCD wins
    assert "diabetes" not in {name.casefold() for name in names_of(table, "E11")}
    assert report.counts["names dropped: KCD gives the name to another code"] >= 1
    # ICD-10-CM includes "coronary thrombosis" under both I21 and I22: a training name must point at one code
    assert "Acute myocardial infarction" in names_of(table, "I21")
    assert "coronary thrombosis" not in names_of(table, "I21") | names_of(table, "I22")
    assert report.counts["names dropped: ICD-10-CM gives the name to several KCD codes"] >= 2
    assert report.skipped["7th-character extension code"] > 40_000
    assert (
        report.counts["shared codes agreeing"] >= 5 and report.skipped["shared code whose name disagrees with KCD"] >= 2
    )


def test_inventories_are_read_in_their_real_formats() -> None:
    clinic = read_inventory(FIXTURES / "4-vanderbilt_vanderbilt_clinic_notes.txt")
    status_post = next(sense for sense in clinic if sense.abbreviation == "s_p")
    assert status_post.key == "s/p" and ("s/p", 16) in status_post.written and status_post.frequency == 1.0
    columbia = {sense.abbreviation: sense.sense for sense in read_inventory(FIXTURES / "7-columbia_obgyn.txt")}
    assert columbia["PEC w SF"] == "Pre-eclampsia with severe features"
    assert columbia["CxBx"] == "cervical biopsy" and columbia["17OHP"] == "17-hydroxyprogesterone"
    wikipedia = read_inventory(FIXTURES / "5-wikipedia_wikipedia_abbreviation_database.csv")
    assert ("DM", "Dermatomyositis") in {(sense.abbreviation, sense.sense) for sense in wikipedia}


def test_malformed_inventory_names_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "6-stetson_sense_distribution_448.txt"
    broken.write_text("htn\thypertension\t1\ndm\tdiabetes mellitus\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 2: expected 3 tab-separated fields"):
        read_inventory(broken)
    bad_number = tmp_path / "4-vanderbilt_x_clinic_notes.txt"
    bad_number.write_text("abbreviation\tsense\tvariation\tCUI\tfrequency\nhtn\thypertension\tHTN_1\tc1\thigh\n")
    with pytest.raises(InputError, match="line 2: expected a numeric frequency"):
        read_inventory(bad_number)
    with pytest.raises(InputError, match="unknown abbreviation inventory"):
        read_inventory(tmp_path / "notes.txt")


def test_usual_sense_needs_agreement_and_dominance_everywhere() -> None:
    senses = [sense for path in INVENTORIES for sense in read_inventory(path)]
    kept, dropped = usual_senses(senses)
    assert kept["dm"][0].sense == "diabetes mellitus"  # 0.98 and 0.99; Wikipedia's dermatomyositis has no vote
    assert {sense.inventory for sense in kept["dm"]} == {"vanderbilt-clinic", "vanderbilt-discharge", "stetson"}
    assert dropped["cva"].startswith("usual sense below")  # 0.62 in clinic notes although 0.95 in discharges
    assert dropped["pe"] == "inventories disagree on the usual sense"
    assert dropped["abd"] == "several senses, no frequencies"
    assert dropped["ts"].startswith("under 3 characters")
    assert "hcc" in kept and "s/p" in kept
    assert [sense.sense for sense in kept["uop"]] == ["urine output", "urinary output"]  # one sense, two wordings


def test_sense_linking_levels_and_ambiguity() -> None:
    kcd = kcd_table()
    icd10cm = concept_frame([{"code": "I50.0", "name": "Heart failure, congestive", "lang": "en"}])
    linker = SenseLinker(kcd, icd10cm)
    assert linker.link("hypertension") == ("I10.9", "name")
    assert linker.link("diabetes mellitus") == ("E14", "unspecified name")
    assert linker.link("hepatocellular carcinoma") == ("C22.0", "name")
    assert linker.link("heart failure, congestive") == ("I50.0", "ICD-10-CM term")
    assert linker.link("liver cirrhosis") == (None, "ambiguous name")  # K74.3 and K70.3: unrelated codes
    assert linker.link("status post") == (None, "no match")


def test_abbreviations_become_rows_of_their_linked_codes() -> None:
    result = read_abbreviations(INVENTORIES, kcd_table())
    table = result.table
    assert set(table["term_type"]) == {"abbreviation"} and table["source"].str.startswith("abbrev:").all()
    by_name = table.drop_duplicates("name").set_index("name")["code"].to_dict()
    assert by_name["HTN"] == "I10.9" and by_name["DM"] == "E14" and by_name["CHF"] == "I50.0"
    assert by_name["HCC"] == "C22.0" and by_name["GERD"] == "K21"
    assert "LC" not in by_name  # liver cirrhosis is ambiguous between K74.3 and K70.3
    assert {"CVA", "PE", "s/p"}.isdisjoint(by_name)
    sources = set(table.loc[table["name"] == "DM", "source"])
    assert sources == {"abbrev:vanderbilt-clinic", "abbrev:vanderbilt-discharge", "abbrev:stetson"}
    reports = {report.source: report for report in result.reports}
    assert reports["abbrev:vanderbilt-clinic"].skipped["usual sense not linked: no match"] == 2  # s/p, uop
    assert reports["abbrev:wikipedia"].skipped["lists several senses without frequencies"] == 1  # DM
    assert "dm" in result.decisions and "E14" in result.decisions["dm"]


def test_training_terminology_deduplicates_per_code_and_name() -> None:
    kcd = kcd_table()
    extra = concept_frame([{"code": "I10.9", "name": "HYPERTENSION", "lang": "en", "source": "kcd"}])
    result = build_training_terminology(pd.concat([kcd, extra]), icd10cm=False, abbreviations=FIXTURES)
    table = result.table
    assert len(table[(table["code"] == "I10.9") & (table["name"].str.casefold() == "hypertension")]) == 1
    dm = table[table["name"] == "DM"]
    assert len(dm) == 1 and dm["source"].iloc[0] == "abbrev:vanderbilt-discharge"  # first inventory wins
    assert not table.duplicated(["code", "name"]).any()
    summary = result.reports[-1]
    assert summary.skipped["same code and name as an earlier source"] >= 3  # HYPERTENSION, DM twice more
    assert summary.counts["names kcd en"] == len(kcd[kcd["lang"] == "en"])
    assert result.notices == [ATTRIBUTION]


def test_held_out_names_never_come_back_through_another_source() -> None:
    kcd = kcd_table()
    held_out = [Query("congestive heart failure", ("I50.0",)), Query("DM", ("E14",))]
    steps: list[str] = []
    result = build_training_terminology(
        kcd, icd10cm=False, abbreviations=FIXTURES, held_out=held_out, progress=steps.append
    )
    table = result.table
    assert "Congestive heart failure" not in names_of(table, "I50.0") and "DM" not in names_of(table, "E14")
    assert "CHF" in names_of(table, "I50.0")  # only the held-out names go
    assert result.reports[-1].skipped["held-out (dev/test) name"] == 2
    assert steps == ["clinical abbreviations", "combining"]


def test_training_set_command_writes_table_reports_and_notice(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(FIXTURES, data / "abbreviations")
    kcd = write_concepts(kcd_table(), tmp_path / "kcd.tsv")
    app = typer.Typer()
    register_training_set_command(app)
    app.callback()(lambda: None)
    out = tmp_path / "training.tsv"
    held_out = write_queries([Query("HTN", ("I10.9",))], tmp_path / "dev.tsv")
    args = ["training-set", "--out", str(out), "--data", str(data), "--kcd", str(kcd), "--no-icd10cm", "--no-hira"]
    result = CliRunner().invoke(app, [*args, "--held-out", str(held_out)])
    assert result.exit_code == 0, result.output
    table = read_concepts(out)
    assert "CHF" in set(table["name"]) and "HTN" not in set(table["name"])
    assert (tmp_path / "training.report.json").exists()
    assert "CC BY 4.0" in (tmp_path / "training.NOTICE.txt").read_text(encoding="utf-8")
    missing = CliRunner().invoke(app, ["training-set", "--out", str(out), "--data", str(tmp_path), "--kcd", str(kcd)])
    assert missing.exit_code == 2 and "HIRA folder lacks" in missing.output


def test_hira_tables_join_as_separate_concept_types(shared_data: Path) -> None:
    result = build_training_terminology(kcd_table(), icd10cm=False, hira=shared_data / "hira")
    types = result.table.groupby("concept_type")["source"].agg(set).to_dict()
    assert types["disease"] == {"kcd"}
    assert types["drug"] == {"hira-drug"} and types["lab"] == {"hira-edi"} and types["procedure"] == {"hira-edi"}
    assert {report.source for report in result.reports} >= {"hira-edi", "hira-drug", "training-set"}
