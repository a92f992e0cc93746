"""Personal data in every written form (issue 20 items 8 and 9, issue 21 item 15).

Numbers pasted from the web or WeChat (zero-width and other format characters, line breaks,
runs of spaces/tabs, / _ · , grouping, Chinese numerals, Arabic-Indic digits, an ID written
like a date chain) must be masked in everything that goes upward; the same folding decides
what the checker reads and how units are grouped. A workbook whose macros hold a phone is not
mailed. Two people's numbers in one cell are checked one by one. The search below folds the
outputs by its own means (unicodedata), not with the code under test.
"""
from __future__ import annotations

import email
import html
import importlib.util
import sys
import unicodedata
import zipfile
from email import policy
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from conftest import DATA
from xfsheets.checks import check
from xfsheets.cli import main
from xfsheets.privacy import find_personal_data, mask_text, mask_value
from xfsheets.reader import read_ledger

sys.path.insert(0, str(DATA))
_spec = importlib.util.spec_from_file_location("make_personal_data_forms", DATA / "make_personal_data_forms.py")
forms = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(forms)

_CN = {"〇": "0", "零": "0", "幺": "1", "一": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5",
       "六": "6", "七": "7", "八": "8", "九": "9"}
_GROUPING = set(" \t\r\n\u00a0\u3000-.()/_·,，－．（）+")


def digits_of(text: str) -> str:
    """What a reader sees of the numbers in ``text``: every digit of any script as 0-9, Chinese
    numerals too, format characters and grouping separators gone, x as X."""
    out = []
    for ch in unicodedata.normalize("NFKC", text):
        if unicodedata.category(ch) == "Cf" or ch in _GROUPING:
            continue
        if ch in _CN:
            ch = _CN[ch]
        elif ch.isdecimal():
            ch = str(unicodedata.decimal(ch))
        out.append("X" if ch == "x" else ch)
    return "".join(out)


def _invoke(args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _package_texts(path: Path, label: str) -> dict[str, str]:
    with zipfile.ZipFile(path) as zf:
        return {f"{label}!{n}": html.unescape(zf.read(n).decode("utf-8", errors="replace")) for n in zf.namelist()}


def _eml_texts(path: Path, folder: Path) -> dict[str, str]:
    msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    out = {f"eml header {k}": str(v) for k, v in msg.items()}
    for part in msg.walk():
        if part.is_multipart():
            continue
        if part.get_filename():
            out["eml attachment filename"] = part.get_filename()
            saved = folder / "attachment.xlsx"
            saved.write_bytes(part.get_content())
            out.update(_package_texts(saved, "eml attachment"))
        else:
            out[f"eml body {part.get_content_type()}"] = part.get_content()
    return out


@pytest.fixture(scope="module")
def upward(tmp_path_factory):
    """report and mail --eml over the pasted ledger; every written part (and name) as text."""
    folder = tmp_path_factory.mktemp("pasted")
    ledger = forms.build_pasted_ledger(folder)
    planted = {p: t for _, t, p in forms.PLANTED}
    report = folder / f"报表_{planted['report file name']}.xlsx"
    common = ["--from", "2026-10-01", "--to", "2026-11-25", "--as-of", "2026-11-25"]
    results = {"report": _invoke(["report", ledger, "-o", report, *common])}
    eml = folder / "报送.eml"
    by_label = {label: t for label, t, _ in forms.PLANTED}
    subject = f"报送 联系人{by_label['mobile_zero_width']}、{by_label['mobile_yao']}"
    results["mail"] = _invoke(["mail", report, "--eml", eml, "--subject", subject])
    texts: dict[str, str] = {}
    if report.exists():
        texts.update(_package_texts(report, "report"))
    if eml.exists():
        texts.update(_eml_texts(eml, folder))
    return {"ledger": ledger, "results": results, "texts": texts, "report": report, "eml": eml}


def test_the_pasted_ledger_really_holds_each_form(upward):
    wb = openpyxl.load_workbook(upward["ledger"])
    cells = "\n".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value)
    for label, typed, where in forms.PLANTED:
        if "file name" not in where:
            assert typed in cells, label
    assert forms.UNIT_INVISIBLE in cells and forms.UNIT in cells


def test_report_and_mail_are_written(upward):
    for name, result in upward["results"].items():
        assert result.exit_code in (0, 1), (name, result.output)
        assert "Traceback" not in result.output
    assert upward["report"].exists() and upward["eml"].exists()


@pytest.mark.parametrize("label,typed,where", forms.PLANTED, ids=[p[0] for p in forms.PLANTED])
def test_no_pasted_form_reaches_an_upward_part(upward, label, typed, where):
    needle = digits_of(typed)
    needle = needle[-11:] if where in ("unit", "place") else needle  # the number, not the name around it
    assert len(needle) >= 11
    found = [k for k, text in upward["texts"].items() if needle in digits_of(text)]
    assert found == [], f"{label} ({typed!r}) unmasked in {found}"


def test_masked_forms_keep_what_tells_records_apart():
    assert mask_text("电话138/1234/5678。") == "电话138/****/5678。"
    assert mask_text("幺三九〇一二三四五六七") == "幺三九****四五六七"
    assert mask_text("450324-1990-01-05-1352") == "450324-****-**-**-1352"
    assert mask_text(f"139{forms.ZWSP}1234{forms.ZWJ}5601") == f"139{forms.ZWSP}****{forms.ZWJ}5601"
    # a name ending in a numeral (张三, 李四) is no digit of the number after it
    assert mask_text("张三13812345678") == "张三138****5678"
    assert mask_text("李四一三九一二三四五六七八") == "李四一三九****五六七八"
    assert mask_text(f"张三139{forms.ZWSP}1234{forms.ZWSP}5678") == f"张三139{forms.ZWSP}****{forms.ZWSP}5678"
    # an ID or phone column shows what is left of the number in plain digits
    assert mask_value("幺五八 一二三四 五六一〇", "phone") == "158 **** 5610"
    assert mask_value(f"450324{forms.ZWSP}199203031230", "id_number") == "450324********1230"
    # amounts, dates and counts are left alone
    for text in ("共计1,234,567元", "2026/03/05", "2026-03-05至2026-04-05", "十三五规划", "第一二三四五六七条"):
        assert mask_text(text) == text


def test_the_leak_scan_sees_pasted_forms(tmp_path):
    for _, typed, where in forms.PLANTED:
        if "file name" in where:
            continue
        path = tmp_path / "正文.txt"
        path.write_text(f"联系人：{typed}。", encoding="utf-8")
        assert find_personal_data(path), typed


def test_invisible_characters_never_make_a_second_unit(upward, tmp_path):
    ledger = read_ledger(upward["ledger"])
    units = set(ledger.frame["unit"].dropna())
    assert forms.UNIT in units and forms.UNIT_INVISIBLE not in units
    result = _invoke(["slips", upward["ledger"], "-o", tmp_path / "交办单", "--as-of", "2026-11-25"])
    assert result.exit_code in (0, 1), result.output
    names = [p.name for p in (tmp_path / "交办单").rglob("*") if p.is_file()]
    shown = [unicodedata.normalize("NFKC", "".join(c for c in n if unicodedata.category(c) != "Cf")) for n in names]
    assert len(shown) == len(set(shown)), names
    assert not any(forms.ZWSP in n for n in names)


# --- macros -------------------------------------------------------------------------------

def test_a_phone_in_a_macro_is_not_mailed(tmp_path):
    report = forms.build_macro_report(tmp_path / "汇总报表_已脱敏.xlsm", forms.MACRO_WITH_PHONE)
    eml = tmp_path / "报送.eml"
    result = _invoke(["mail", report, "--eml", eml])
    assert result.exit_code == 1, result.output
    assert "宏（VBA）模块「Contacts」" in result.output and "另存为" in result.output
    assert forms.PHONE_IN_MACRO not in result.output and "Traceback" not in result.output
    assert not eml.exists()


def test_clean_macros_do_not_stop_the_mail(tmp_path):
    report = forms.build_macro_report(tmp_path / "汇总报表.xlsm", forms.MACRO_CLEAN)
    eml = tmp_path / "报送.eml"
    result = _invoke(["mail", report, "--eml", eml])
    assert result.exit_code == 0, result.output
    assert eml.exists()


# --- two people in one cell ------------------------------------------------------------------

@pytest.fixture(scope="module")
def two_people(tmp_path_factory):
    path = forms.build_two_people_ledger(tmp_path_factory.mktemp("two") / "两人同格_号码写法.xlsx")
    report = check(read_ledger(path))
    by_row: dict[int, list] = {}
    for f in report.findings:
        if f.field in ("id_number", "phone"):
            by_row.setdefault(f.row, []).append(f)
    return path, by_row


def _row(label: str) -> int:
    return 2 + [c[0] for c in forms.TWO_PEOPLE].index(label)


def test_each_number_of_a_cell_is_checked_on_its_own(two_people):
    _, by_row = two_people
    expected = {_row("two_ids_one_bad"): [("bad_id_number", "error")],
                _row("id_15_digit"): [("id_number_15_digit", "warning")],
                _row("id_15_and_18"): [("id_number_15_digit", "warning")],
                _row("two_phones_semicolon_one_bad"): [("bad_phone", "warning")]}
    got = {row: [(f.code, f.severity) for f in fs] for row, fs in by_row.items()}
    assert got == expected
    bad = by_row[_row("two_ids_one_bad")][0]
    assert f"「{forms.ID_BAD}」" in bad.message and forms.ID_A not in bad.message and "校验位" in bad.message
    phone = by_row[_row("two_phones_semicolon_one_bad")][0]
    assert "「1391234567」" in phone.message and "13812345678" not in phone.message


def test_a_15_digit_id_is_named_as_first_generation(two_people):
    _, by_row = two_people
    f = by_row[_row("id_15_digit")][0]
    assert f.column == "D" and "15位的第一代身份证" in f.message and "改填18位" in f.message


def test_two_numbers_in_one_cell_are_masked_one_by_one():
    masked = mask_value(f"{forms.ID_A}、{forms.ID_B}", "id_number")
    assert masked == f"{forms.ID_A[:6]}********{forms.ID_A[-4:]}、{forms.ID_B[:6]}********{forms.ID_B[-4:]}"
    assert mask_value("13812345678/0771-2345678", "phone") == "138****5678/0771-***5678"
    assert mask_value("13812345678\n0771-2345678", "phone") == "138****5678\n0771-***5678"


def test_a_sheet_name_with_a_pasted_phone_is_masked(tmp_path):
    source = tmp_path / "联系人.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = f"张三139{forms.ZWSP}1234{forms.ZWSP}5678"
    wb.active["A1"] = "见工作表名"
    wb.save(source)
    assert find_personal_data(source)  # the scan sees it in workbook.xml
    from xfsheets.privacy import mask_workbook

    out = tmp_path / "脱敏.xlsx"
    mask_workbook(source, out)
    title = openpyxl.load_workbook(out).sheetnames[0]
    assert "5678" in title and "1234" not in digits_of(title) and find_personal_data(out) == []
