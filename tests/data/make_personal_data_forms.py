"""Ledgers and workbooks holding identity numbers and phones in the forms people paste them.

Each builder is named for what it exercises; the tests call them into a temporary folder
(``python tests/data/make_personal_data_forms.py DIR`` writes them all for a look in Excel).

- :func:`build_pasted_ledger`: a county ledger whose free text (反映问题 of overdue 集体访 rows), 身份证号
  and 联系电话 columns, unit and place names and file name carry numbers pasted from the web or
  WeChat: zero-width and other format characters inside, an Alt+Enter line break or a run of
  spaces/tabs inside, digits grouped with / _ · or commas, Chinese numerals (一三九…, 幺三八〇…),
  Arabic-Indic digits, an ID written like a date chain (450324-1990-01-05-1352). The same unit
  is written twice, once with a zero-width space inside its name.
- :func:`build_two_people_ledger`: 身份证号 / 联系电话 cells as clerks fill them for two people
  (、 / ， ; and line breaks), phones with +86 / 0086, (0771), 转8001, first-generation 15-digit IDs.
- :func:`build_macro_report`: a macro-enabled summary report whose VBA module holds a phone.
"""
from __future__ import annotations

import datetime as dt
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

ZWSP, ZWNJ, ZWJ, WJ, BOM, SHY = "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"


def id_number(body17: str) -> str:
    """An 18-character identity number with its ISO 7064 MOD 11-2 check character."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body17 + "10X98765432"[sum(int(d) * w for d, w in zip(body17, weights)) % 11]


# (label, as pasted into the ledger, where it is planted)
PLANTED: list[tuple[str, str, str]] = [
    ("id_zero_width", f"450324{ZWSP}19900101{ZWNJ}1234", "summary"),
    ("id_soft_hyphen", f"4503241985{SHY}03154321", "summary"),
    ("id_bom", f"{BOM}440106197208085671", "summary"),
    ("id_word_joiner", f"450305{WJ}19660606222X", "summary"),
    ("id_line_break", "450321198811\n111234", "summary"),
    ("id_space_run", "450322    19790909    5678", "summary"),
    ("id_tabs", "450323\t\t19800808\t\t8765", "summary"),
    ("id_date_chain", "450324-1990-01-05-1352", "summary"),
    ("mobile_zero_width", f"139{ZWSP}1234{ZWJ}5601", "summary"),
    ("mobile_slash", "138/1234/5602", "summary"),
    ("mobile_underscore", "137_1234_5603", "summary"),
    ("mobile_middle_dot", "136·1234·5604", "summary"),
    ("mobile_commas", "135,1234,5605", "summary"),
    ("mobile_chinese", "一三九一二三四五六〇六", "summary"),
    ("mobile_yao", "幺三八〇一二三四六〇七", "summary"),
    ("mobile_arabic_indic", "١٣٧١٢٣٤٥٦٠٨", "summary"),
    ("mobile_fullwidth_line_break", "１５０１２３４\n５６０９", "summary"),
    ("id_column", f"450324{ZWSP}199203031230", "id"),
    ("phone_column", "幺五八 一二三四 五六一〇", "phone"),
    ("mobile_in_unit", f"县水利局139{ZWSP}8765{ZWSP}4321", "unit"),
    ("mobile_in_place", "城关镇幺三六八七六五四三二一", "place"),
    ("ledger_file_name", f"一三三一二三四五六一一", "ledger file name"),
    ("report_file_name", f"139{ZWSP}1234{ZWSP}5612", "report file name"),
]

UNIT = "县住建局"
UNIT_INVISIBLE = f"县住{ZWSP}建局"  # the same unit, pasted from a web page


def build_pasted_ledger(folder: Path) -> Path:
    """A ledger with every :data:`PLANTED` value; rows of 县住建局 are split between the two spellings."""
    from xfsheets.sample import sample_rows, write_sample_ledger

    rows = sample_rows(30, seed=20, units=[UNIT, "县教育局"], start=dt.date(2026, 10, 1),
                       end=dt.date(2026, 11, 10), as_of=dt.date(2026, 11, 25))
    free_text = [t for _, t, p in PLANTED if p in ("summary", "reply", "notes")]
    for i, row in enumerate(rows):
        received = dt.date(2026, 11, 20 + i % 3)
        row[2] = received
        if row[14] == UNIT and i % 2:
            row[14] = UNIT_INVISIBLE
        if i < len(free_text):  # overdue 集体访 (so each row is listed upward, with its text and phone)
            row[8], row[11] = 6, "集体访"
            row[12] = f"反映拖欠工资问题，联系电话{free_text[i]}，要求尽快解决"
            row[17], row[18] = received + dt.timedelta(days=1), received + dt.timedelta(days=2)
            row[19], row[20], row[21], row[22] = received + dt.timedelta(days=3), None, "办理中", None
    planted = {p: t for _, t, p in PLANTED}
    rows[1][4], rows[1][10] = rows[0][4], rows[0][10]  # the same person twice: listed under 重复信访
    rows[0][5] = rows[1][5] = planted["id"]
    rows[1][6] = planted["phone"]
    rows[2][14] = planted["unit"]
    rows[3][9] = planted["place"]
    path = folder / f"台账_{planted['ledger file name']}.xlsx"
    write_sample_ledger(path, data=rows)
    return path


# --- two people in one cell ----------------------------------------------------------------

ID_A = id_number("45032419900101123")
ID_B = id_number("45032519850315432")
ID_GOOD_C = id_number("45032619850101432")
ID_BAD = ID_GOOD_C[:17] + ("0" if ID_GOOD_C[17] != "0" else "1")  # one digit mistyped: the check character is wrong
ID_15 = "450324900101123"  # first generation: 1990-01-01

# (row label, 身份证号, 联系电话): the findings each row must get are in the test
TWO_PEOPLE: list[tuple[str, str | None, str | None]] = [
    ("two_ids_dun", f"{ID_A}、{ID_B}", None),
    ("two_ids_line_break", f"{ID_A}\n{ID_B}", None),
    ("two_ids_one_bad", f"{ID_A}；{ID_BAD}", None),
    ("id_15_digit", ID_15, None),
    ("id_15_and_18", f"{ID_15}，{ID_A}", None),
    ("id_zero_width", f"450324{ZWSP}{ID_A[6:]}", None),
    ("two_phones_slash", None, "13812345678/0771-2345678"),
    ("two_phones_comma", None, "13812345678，13912345678"),
    ("two_phones_semicolon_one_bad", None, "13812345678;1391234567"),
    ("two_phones_line_break", None, "13812345678\n0771-2345678"),
    ("phone_plus86", None, "+86 139 1234 5678"),
    ("phone_0086", None, "0086-13712345678"),
    ("phone_area_brackets", None, "(0771)1234567"),
    ("phone_area_fullwidth_brackets", None, "（0771）1234567"),
    ("phone_extension", None, "0771-1234567转8001"),
    ("phone_chinese", None, "幺三九一二三四五六七八"),
    ("phone_grouped_slash", None, "138/1234/5678"),
]


def build_two_people_ledger(path: Path) -> Path:
    """A plain ledger table, one row per :data:`TWO_PEOPLE` case (Excel rows 2, 3, ...)."""
    from fixture_tools import table_workbook

    header = ["信访件编号", "登记日期", "信访人", "身份证号", "联系电话", "反映问题", "责任单位", "办理状态"]
    rows = [[f"X2026-{i:03d}", dt.datetime(2026, 3, 2), f"信访人{i}", ids, phones, f"情形：{label}", "县人社局", "办理中"]
            for i, (label, ids, phones) in enumerate(TWO_PEOPLE, 1)]
    wb, ws = table_workbook(header, rows)
    for cells in ws.iter_rows(min_row=2, min_col=4, max_col=5):
        for cell in cells:
            cell.number_format = "@"
    wb.save(path)
    return path


# --- a macro-enabled report -------------------------------------------------------------

def build_macro_report(path: Path, module_source: str, module: str = "Contacts") -> Path:
    """A macro-enabled workbook (xlwings' standalone .xlsm as the base) with a 总体情况 sheet and a
    VBA module ``module`` holding ``module_source`` (written by pyopenvba, read back by olevba)."""
    import openpyxl
    import pyopenvba
    import xlwings

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "report.xlsm"
        shutil.copyfile(Path(xlwings.__file__).parent / "quickstart_standalone.xlsm", work)
        with pyopenvba.ExcelFile(work) as book:
            book.vba_project().add_module(module, module_source)
            book.save()
        wb = openpyxl.load_workbook(work, keep_vba=True)
        ws = wb.create_sheet("总体情况", 0)
        for row in (["指标", "数值"], ["信访总量（件）", 12], ["及时受理率", "91.7%"]):
            ws.append(row)
        wb.save(work)
        with zipfile.ZipFile(work) as z:  # the project really is in the package
            assert "xl/vbaProject.bin" in z.namelist()
        shutil.copyfile(work, path)
    return path


PHONE_IN_MACRO = "13812345678"
MACRO_WITH_PHONE = f"' 联系人：张三 {PHONE_IN_MACRO}\nSub Notify()\n    MsgBox \"请联系 {PHONE_IN_MACRO}\"\nEnd Sub\n"
MACRO_CLEAN = "Sub Notify()\n    MsgBox \"报表已生成\"\nEnd Sub\n"


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    out.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(Path(__file__).parent))
    print(build_pasted_ledger(out))
    print(build_two_people_ledger(out / "两人同格_号码写法.xlsx"))
    print(build_macro_report(out / "宏_含电话.xlsm", MACRO_WITH_PHONE))
