"""Small corpora inputs built in tests: a KCD masterfile and a HIRA EDI workbook with the real files' layouts."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "corpora"

KCD_HEADER = (
    "표제어",
    "분류\n기준",
    "질병분류\n코드",
    "검별",
    "주석",
    "한글명칭",
    "영문명칭",
    "최하위\n코드",
    "국내\n세분화\n코드",
    "한의\n병명",
    "국내추가\n진단명",
)

# (표제어, 분류기준, 코드, 검별, 주석, 한글명칭, 영문명칭) as in the real masterfile
KCD_ROWS = [
    (1, "대", "K00-K93", None, None, "XI.소화계통의 질환(K00-K93)", "Diseases of the digestive system(K00-K93)"),
    (1, "중", "K70-K77", None, None, "간의 질환(K70-K77)", "Diseases of liver(K70-K77)"),
    (None, None, "K70-K77", None, "포함", "간 질환", "liver disease"),
    (1, "소", "K70", None, None, "알코올성 간질환", "Alcoholic liver disease"),
    (1, "세", "K70.3", None, None, "알코올성 간경변증", "Alcoholic cirrhosis of liver"),
    (None, None, "K70.3", None, None, "알코올성 경변증 NOS", "Alcoholic cirrhosis NOS"),
    (1, "소", "K74", None, None, "간의 섬유증 및 경변증", "Fibrosis and cirrhosis of liver"),
    (None, None, "K74", None, "제외", "알코올성 간섬유증(K70.2)", "Alcoholic fibrosis of liver(K70.2)"),
    (None, None, "K74", None, "제외", "알코올성 간의 경화(K70.3)", "Alcoholic sclerosis of liver(K70.3)"),
    (None, None, "K74", None, "제외", "심장성 간경화(K76.1)", "Cardiac sclerosis of liver(K76.1)"),
    (None, None, "K74", None, "제외", "간의 선천성 질환(Q44-Q45)", "Congenital disorders of liver(Q44-Q45)"),
    (None, None, "K74", None, "주", "다음 5단위 세분류는 대상성 여부를 표기하기 위해 K74.1 - K74.6에 사용한다.", None),
    (None, None, "K74", None, None, " 0 대상성", "0 compensated"),
    (1, "세", "K74.1", None, None, "간경화증", "Hepatic sclerosis"),
    (1, "세", "K74.6", None, None, "간의 기타 및 상세불명의 경변증", "Other and unspecified cirrhosis of liver"),
    (None, None, "K74.6", None, "", "(간) 경변증 NOS", "Cirrhosis (of liver) NOS"),
    (None, None, "K74.6", None, "포함", "잠복성 (간) 경변증", "Cryptogenic cirrhosis (of liver)"),
    (None, None, "K74.6", "+", None, "결핵성 경변증(A18.8†)", "Tuberculous cirrhosis(A18.8†)"),
    (
        None,
        None,
        "K74.6",
        None,
        None,
        "감염체 분류를 원한다면 부가분류코드(B95-B98)를 사용할 것.",
        "Use additional code.",
    ),
    (
        None,
        None,
        "K74.6",
        None,
        None,
        "간세포가 파괴되고 섬유화되는 병태. 여러 원인이 있다.",
        "A condition of the liver.",
    ),
    (2, "세세", "K74.60", None, None, "대상성 간경변증", "Compensated cirrhosis of liver"),
    (None, None, "K74.60", None, None, "대상성 (간) 경변증", "Compensated cirrhosis (of liver)"),
    (None, None, None, None, None, None, None),
]


def write_kcd_masterfile(path: Path, rows: list[tuple] = KCD_ROWS) -> Path:
    """Write a small KCD DB masterfile with the real file's sheets, title rows and header (row 3)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    guide = workbook.active
    guide.title = "DB 이용안내"
    guide.append(("<< DB 이용안내 >>", None, None))
    guide.append(("구  분", "설  명", "비  고"))
    sheet = workbook.create_sheet("KCD-8 DB Masterfile")
    sheet.append((None, "KCD-9 DB Masterfile"))
    sheet.append((None, None, None, None, None, None, None, "25.07.01. 현재"))
    sheet.append(KCD_HEADER)
    for row in rows:
        sheet.append((*row, 1, 0, 0, 0))
    morphology = workbook.create_sheet("4편 신생물의 형태분류")
    morphology.append(("형태분류코드", "한글명칭", "영문명칭"))
    workbook.save(path)
    return path


EDI_HEADER = ("NO", "수가 코드", "수가분류번호", "관리진료과", "절", "세분류", "한글명", "영문명", "cardinality",
              "Mapping type", "SCTID", "SNOMED CT FSN", "Hierarchy", "비고")  # fmt: skip


def write_edi_workbook(path: Path) -> Path:
    """Write a small HIRA EDI-SNOMED lab mapping workbook (two header rows, empty rows as in the real file)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "2장 검사료"
    sheet.append(("Source Term (심평원 EDI)", None, None, None, None, None, None, None, "Target Term (SNOMED CT)"))
    sheet.append(EDI_HEADER)
    sheet.append(
        (
            1,
            "D2200",
            "누220",
            "진단검사의학과",
            "1절 검체검사료",
            "",
            "일반혈액검사(CBC)",
            "Complete Blood Count",
            1,
            "broad",
            "26604007",
            "Complete blood count",
            "procedure",
            None,
        )
    )
    sheet.append((None,) * 14)
    sheet.append(
        (
            2,
            "F6112",
            "나611나",
            "신경과",
            "3절 기능검사료",
            "",
            "근전도검사-하지[편측]",
            "Electromyography(Lower Extremity)",
            1,
            "exact",
            "42803009",
            "Electromyography",
            "procedure",
            None,
        )
    )
    sheet.append((3, "", "", "", "", "", "", "", None, None, None, None, None, None))
    sheet.append((4, "F6113", "", "", "3절 기능검사료", "", "근전도검사-상지", "", None, None, None, None, None, None))
    workbook.save(path)
    return path
