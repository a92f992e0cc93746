"""Hostile and careless inputs for the trust contract (tests/test_trust_contract.py).

Run from the project root: ``python tests/hostile/make_hostile.py``. Writes small files
into tests/hostile/, each named for what it exercises:

- formula_text.xlsx          text that looks like a formula in every text field and unit name
- personal_data.xlsx         IDs and phones in every form people type, in free text, unit and
                             place names, and a sheet named with a phone number
- 联系人13812345678台账.xlsx  personal data in the file name
- bad_unit_names.xlsx        unit names with /\\:*?"<>|, reserved names, 300 characters,
                             names that collide after cleaning
- control_and_long_text.xlsx control characters in 反映问题 and a cell over 32,767 characters
- rules_gbk.toml, holidays_gbk.csv, profile_gbk.toml   config files saved in GBK
- profile_not_table.toml, profile_broken.toml          a profile that is not what it should be

The bombs (dimension bomb, zip bomb, panicking .xlsb) are made by make_bombs.py.
"""
from __future__ import annotations

import datetime as dt
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from xfsheets.sample import LABELS_STANDARD, sample_rows, write_sample_ledger  # noqa: E402

COL = {label: i for i, label in enumerate(LABELS_STANDARD)}

FORMULAS = ['=HYPERLINK("http://evil.example/","点我")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A2)",
            "=1+1", '=IMPORTXML("http://evil.example","//a")', "=DDE(\"cmd\";\"/C calc\";\"x\")"]

# Every form a clerk types: (planted text, the digits it stands for).
PERSONAL = [
    ("450324199001011328", "450324199001011328"),
    ("45032419900101132X", "45032419900101132X"),
    ("450324 1990 0101 1328", "450324199001011328"),
    ("450324-19900101-1328", "450324199001011328"),
    ("４５０３２４１９９００１０１１３２８", "450324199001011328"),
    ("450324.19900101.1328", "450324199001011328"),
    ("450324900101132", "450324900101132"),  # 15-digit
    ("13812345678", "13812345678"),
    ("138 1234 5678", "13812345678"),
    ("138-1234-5678", "13812345678"),
    ("138.1234.5678", "13812345678"),
    ("+86 13812345679", "13812345679"),
    ("008613812345670", "13812345670"),
    ("１３８１２３４５６７１", "13812345671"),
    ("0773-2345678", "07732345678"),
    ("（0773）2345679", "07732345679"),
]


def _ledger(path: Path, rows: list[list], **kw) -> Path:
    return write_sample_ledger(path, data=rows, unit=kw.pop("unit", "XX县信访局"), **kw)


def formula_text(folder: Path) -> Path:
    rows = sample_rows(16, seed=11, units=["县住建局", FORMULAS[0], "=县人社局"])
    for i, row in enumerate(rows):
        f = FORMULAS[i % len(FORMULAS)]
        for label in ("信访人", "住址", "问题发生地", "反映问题", "包案领导", "责任人", "备注", "办理结果"):
            row[COL[label]] = f if label != "反映问题" else f"{f} 反映工资拖欠"
        row[COL["信访件编号"]] = f"=X2026-{i:05d}" if i % 4 == 0 else row[COL["信访件编号"]]
    return _ledger(folder / "formula_text.xlsx", rows)


def personal_data(folder: Path) -> list[Path]:
    rows = sample_rows(len(PERSONAL), seed=12, units=["县住建局", "城关镇"])
    for i, (text, _) in enumerate(PERSONAL):
        row = rows[i]
        row[COL["反映问题"]] = f"信访人（身份证 {text}）反映工资被拖欠，联系电话 {PERSONAL[-1 - i][0]}"
        row[COL["备注"]] = f"家属电话{PERSONAL[(i + 3) % len(PERSONAL)][0]}"
        row[COL["办理结果"]] = f"已电话联系{text}答复" if row[COL["办结日期"]] else None
        row[COL["住址"]] = f"城关镇{text}号"
    rows[0][COL["责任单位"]] = "城关镇（联系人13812345678）"
    rows[1][COL["问题发生地"]] = "河西镇 138-1234-5678"
    first = _ledger(folder / "personal_data.xlsx", rows)
    # The sheet itself named with a phone number.
    import openpyxl

    wb = openpyxl.load_workbook(first)
    wb.worksheets[0].title = "联系13812345678"
    wb.save(first)
    second = _ledger(folder / "联系人13812345678台账.xlsx", sample_rows(6, seed=13, units=["县教育局"]))
    return [first, second]


def bad_unit_names(folder: Path) -> Path:
    names = ["县住建局/城建", "县住建局:城建", "县住建局*城建?", 'A"<>|B', "CON", "aux", "县" + "很长的单位名称" * 43,
             "  ", "县人社局.", "县人社局", "县人社局 ", ".hidden单位"]
    rows = sample_rows(len(names) * 2, seed=14, units=["县住建局"])
    for i, row in enumerate(rows):
        row[COL["责任单位"]] = names[i % len(names)]
        row[COL["办理状态"]] = "办理中"
        row[COL["办结日期"]] = None
        row[COL["受理日期"]] = dt.date(2026, 9, 1)
        row[COL["交办日期"]] = dt.date(2026, 8, 28)
        row[COL["人数"]] = 6 if i % 5 == 0 else 1
    return _ledger(folder / "bad_unit_names.xlsx", rows)


def control_and_long_text(folder: Path) -> Path:
    rows = sample_rows(5, seed=15, units=["县住建局"])
    rows[0][COL["反映问题"]] = "工资\x01拖欠\x07问题\x1b[31m"
    rows[1][COL["信访人"]] = "张\x00三"
    rows[2][COL["备注"]] = "长" * 40000
    path = folder / "control_and_long_text.xlsx"
    # openpyxl writes a cell over Excel's limit as it is (Excel itself would refuse it) and
    # control characters as the _xHHHH_ escapes Excel uses, which readers turn back into them.
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "信访台账"
    ws.append(LABELS_STANDARD)
    for row in rows:
        ws.append([_escape_controls(v) if isinstance(v, str) else v for v in row])
    wb.save(path)
    return path


def _escape_controls(text: str) -> str:
    return "".join(f"_x{ord(ch):04X}_" if ord(ch) < 32 and ch not in "\t\n\r" else ch for ch in text)


def config_files(folder: Path) -> list[Path]:
    out = []
    rules = ('# 本县时限规则（GBK 编码保存）\n[stages.handle]\nlabel = "办理"\nstart = "accepted_on"\n'
             'days = 60\ncounting = "日"\narticle = "第三十四条"\n')
    (folder / "rules_gbk.toml").write_bytes(rules.encode("gbk"))
    out.append(folder / "rules_gbk.toml")
    (folder / "holidays_gbk.csv").write_bytes("日期,类型,名称\n2027-01-01,休,元旦\n2027-01-04,班,元旦调休\n".encode("gbk"))
    out.append(folder / "holidays_gbk.csv")
    (folder / "profile_gbk.toml").write_bytes('[labels]\n"来件时间" = "received_on"\n'.encode("gbk"))
    out.append(folder / "profile_gbk.toml")
    (folder / "profile_not_table.toml").write_text('labels = "信访人"\nvocabulary = 3\nchecks = ["off"]\n',
                                                    encoding="utf-8")
    out.append(folder / "profile_not_table.toml")
    (folder / "profile_broken.toml").write_text('[labels\n"信访人 = petitioner\n', encoding="utf-8")
    out.append(folder / "profile_broken.toml")
    return out


def main() -> None:
    made = [formula_text(HERE), *personal_data(HERE), bad_unit_names(HERE), control_and_long_text(HERE),
            *config_files(HERE)]
    for p in made:
        ok = zipfile.is_zipfile(p) if p.suffix == ".xlsx" else True
        print(f"{p.name}: {p.stat().st_size} bytes{'' if ok else ' (NOT A ZIP)'}")


if __name__ == "__main__":
    main()
