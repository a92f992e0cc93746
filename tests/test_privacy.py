"""Masking identity numbers and phones: strings, frames, workbooks, and the leak scan."""
from __future__ import annotations

import datetime as dt
import shutil
import string
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import digest
from xfsheets.errors import XfsheetsError
from xfsheets.privacy import (
    find_in_text,
    find_personal_data,
    mask_frame,
    mask_id_number,
    mask_phone,
    mask_text,
    mask_value,
    mask_workbook,
    personal_field_of,
)

REPORT = "privacy/汇总报表_含个人信息.xlsx"
CLEAN = "privacy/汇总报表_无个人信息.xlsx"

_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def _with_check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS))
    return first17 + "10X98765432"[total % 11]


@st.composite
def id_numbers(draw) -> str:
    region = draw(st.integers(110000, 659999))
    birth = draw(st.dates(dt.date(1920, 1, 1), dt.date(2025, 12, 31)))
    seq = draw(st.integers(0, 999))
    return _with_check_digit(f"{region}{birth:%Y%m%d}{seq:03d}")


mobiles = st.builds(lambda second, rest: f"1{second}{rest:09d}",
                    st.sampled_from("3456789"), st.integers(0, 999_999_999))
# Text without ASCII digits around the number (Chinese, letters, punctuation).
no_digit_text = st.text(alphabet=st.characters(blacklist_categories=("Nd", "Cs")) | st.sampled_from("，。张三电话"),
                        max_size=12)


# --- single values --------------------------------------------------------------------

def test_examples_from_the_issue():
    assert mask_id_number("450324199001011234") == "450324********1234"
    assert mask_phone("13812345678") == "138****5678"


@pytest.mark.parametrize("value, expected", [
    ("45032419900101123X", "450324********123X"),
    ("450324900101123", "450324******123"),  # old 15-digit number
    (" 450324199001011234 ", "450324********1234"),
    ("4503241990010112", "4503********0112"),  # a typo: still masked, more than half hidden
    ("无", "无"),
    ("", ""),
    (None, None),
])
def test_mask_id_number_forms(value, expected):
    assert (mask_id_number(value) or "").strip() == (expected or "")


def test_id_number_stored_as_number_is_masked_text():
    masked = mask_id_number(4.50324199001012e17)
    assert isinstance(masked, str)
    assert masked.startswith("450324********") and len(masked) == 18


@pytest.mark.parametrize("value, expected", [
    (13812345678, "138****5678"),
    ("+86 138 1234 5678", "+86 138 **** 5678"),
    ("0771-2345678", "0771-***5678"),
    ("(0771)2345678", "(0771)***5678"),
    ("010-12345678", "010-****5678"),
    ("07712345678", "0771***5678"),
    ("01012345678", "010****5678"),
    ("2345678", "***5678"),
    ("13812345678/0771-2345678", "138****5678/0771-***5678"),
    ("无", "无"),
    (None, None),
])
def test_mask_phone_forms(value, expected):
    assert mask_phone(value) == expected


def test_mask_text_leaves_case_numbers_and_dates_alone():
    text = "编号X2026-001，2026年3月5日登记，12件30人次，文号X信交〔2026〕15号，20260305"
    assert mask_text(text) == text


def test_mask_value_numbers():
    assert mask_value(13812345678) == "138****5678"
    assert mask_value(12) == 12
    assert mask_value(3.5) == 3.5
    assert mask_value(20260305) == 20260305
    assert mask_value(True) is True


def test_personal_field_of_labels():
    assert personal_field_of("身份证号码") == "id_number"
    assert personal_field_of("联系电话") == "phone"
    assert personal_field_of("phone") == "phone"
    assert personal_field_of("信访人") is None
    assert personal_field_of(None) is None


@given(id_numbers(), no_digit_text, no_digit_text)
def test_any_id_number_in_text_is_masked(number, before, after):
    masked = mask_text(before + number + after)
    assert number not in masked
    assert masked == before + number[:6] + "*" * 8 + number[14:] + after
    assert mask_id_number(number) == number[:6] + "*" * 8 + number[14:]


@given(mobiles, no_digit_text, no_digit_text)
def test_any_mobile_in_text_is_masked(number, before, after):
    masked = mask_text(before + number + after)
    assert masked == before + number[:3] + "****" + number[7:] + after
    assert mask_phone(number) == number[:3] + "****" + number[7:]
    assert mask_phone(int(number)) == number[:3] + "****" + number[7:]


@given(st.text(max_size=60))
def test_mask_text_is_idempotent_and_keeps_digitless_text(text):
    once = mask_text(text)
    assert mask_text(once) == once
    if not any(ch in string.digits for ch in text):
        assert once == text


@given(st.lists(st.one_of(id_numbers(), mobiles, st.text(alphabet="0123456789-", max_size=20)), max_size=5))
def test_mask_phone_and_id_never_keep_a_long_digit_run(parts):
    value = "，".join(parts)
    for masked in (mask_phone(value), mask_id_number(value)):
        runs = [r for r in "".join(c if c.isdigit() else " " for c in masked).split()]
        assert all(len(r) < 7 for r in runs), masked


# --- frames ------------------------------------------------------------------------

def test_mask_frame_by_column_and_by_pattern():
    df = pd.DataFrame({
        "case_id": ["X1", "X2", "X3"],
        "id_number": pd.Series(["450324199001011234", "4503241990", None], dtype=object),
        "联系电话": [13812345678, None, 13912345678],
        "summary": ["回访电话13700001111", "无", None],
        "headcount": pd.array([1, 5, None], dtype="Int64"),
        "raw_number": [13600002222.0, 3.0, 4.0],
    })
    before = df.copy()
    out = mask_frame(df)
    pd.testing.assert_frame_equal(df, before)  # input untouched
    assert list(out.columns) == list(df.columns) and out.index.equals(df.index)
    assert out.loc[0, "id_number"] == "450324********1234"
    assert "1990" not in out.loc[1, "id_number"]  # a too-short number is still hidden
    assert out.loc[2, "id_number"] is None
    assert out.loc[0, "联系电话"] == "138****5678"
    assert out.loc[2, "联系电话"] == "139****5678"
    assert out.loc[0, "summary"] == "回访电话137****1111"
    assert out.loc[1, "summary"] == "无"
    assert out.loc[0, "raw_number"] == "136****2222" and out.loc[1, "raw_number"] == 3.0
    pd.testing.assert_series_equal(out["headcount"], df["headcount"])
    pd.testing.assert_series_equal(out["case_id"], df["case_id"])


def test_mask_frame_extra_columns_and_string_dtype():
    df = pd.DataFrame({"备用号码": pd.array(["2345678", None], dtype="str"),
                       "text": pd.array(["手机 138 1234 5678", None], dtype="str")})
    out = mask_frame(df, columns={"备用号码": "phone"})
    assert out.loc[0, "备用号码"] == "***5678"
    assert out.loc[0, "text"] == "手机 138 **** 5678"
    assert pd.isna(out.loc[1, "text"])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.one_of(id_numbers(), mobiles, no_digit_text), min_size=1, max_size=8))
def test_mask_frame_leaves_nothing_findable(values):
    df = pd.DataFrame({"free": values, "id_number": values, "phone": values})
    out = mask_frame(df)
    secrets = [x for x in values if x and x[0] in "0123456789"]  # IDs and mobiles; "²".isdigit() is True too
    for col in out.columns:
        for v in out[col]:
            assert mask_text(v) == v  # nothing left that looks like an ID or a phone
            assert not any(secret in v for secret in secrets)


# --- workbooks ----------------------------------------------------------------------

def test_fixture_really_holds_personal_data(data_dir):
    hits = find_personal_data(data_dir / REPORT)
    kinds = {h.kind for h in hits}
    assert {"id_number", "id_number_as_number", "mobile", "landline"} <= kinds
    cells = {(h.sheet, h.cell) for h in hits}
    assert ("重复信访", "C2") in cells and ("重复信访", "D3") in cells
    assert any(h.part.startswith("xl/comments") for h in hits)


def test_mask_workbook_masks_every_sheet_and_keeps_the_rest(data_dir, tmp_path):
    src = tmp_path / "汇总报表.xlsx"
    shutil.copy(data_dir / REPORT, src)
    before = digest(src)
    out = tmp_path / "out" / "脱敏.xlsx"
    result = mask_workbook(src, out)

    assert digest(src) == before  # the source is never modified
    assert result["cells"] >= 10
    assert find_personal_data(out) == []

    orig = openpyxl.load_workbook(src)
    masked = openpyxl.load_workbook(out)
    assert masked.sheetnames == orig.sheetnames
    # the headline sheet has nothing personal: every value, style and the chart unchanged
    for row_o, row_m in zip(orig["总体情况"].iter_rows(), masked["总体情况"].iter_rows()):
        for a, b in zip(row_o, row_m):
            assert a.value == b.value
            assert a.font.b == b.font.b and a.fill.fgColor.rgb == b.fill.fgColor.rgb
    assert masked["总体情况"].column_dimensions["B"].width == 30
    assert len(masked["总体情况"]._charts) == 1

    people = masked["重复信访"]
    assert people["C2"].value == "450324********1234"
    assert people["C3"].value.startswith("450324********")  # was a float
    assert people["D3"].value == "139****5678"  # was a number
    assert people["D4"].value == "0773-***4567"
    assert people["C5"].value != "45032419900101123" and "*" in people["C5"].value  # the typo
    assert people["E2"].value == "拖欠工资，联系人手机139****4321"
    assert people["E4"].value == "身份证另附：450324********1231"
    assert people["E3"].comment.text == "回访电话 137****1111"
    assert people["F2"].value == '=CONCATENATE("回访：","136****2222")'
    assert people["D6"].value == "无" and people["A2"].value == "X2026-001"
    assert people["B2"].value == "张三"


def test_mask_workbook_without_personal_data_changes_nothing(data_dir, tmp_path):
    out = tmp_path / "m.xlsx"
    assert mask_workbook(data_dir / CLEAN, out) == {"cells": 0}
    a = openpyxl.load_workbook(data_dir / CLEAN)["总体情况"]
    b = openpyxl.load_workbook(out)["总体情况"]
    assert [r for r in a.iter_rows(values_only=True)] == [r for r in b.iter_rows(values_only=True)]


def test_mask_workbook_refuses_xls_and_missing_files(tmp_path):
    xls = tmp_path / "旧.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(XfsheetsError, match="xlsx"):
        mask_workbook(xls, tmp_path / "o.xlsx")
    with pytest.raises(XfsheetsError, match="不存在"):
        mask_workbook(tmp_path / "无.xlsx", tmp_path / "o.xlsx")
    broken = tmp_path / "坏.xlsx"
    broken.write_text("not a workbook")
    with pytest.raises(XfsheetsError, match="无法打开"):
        mask_workbook(broken, tmp_path / "o.xlsx")
    assert not (tmp_path / "o.xlsx").exists()


def test_find_personal_data_in_text_files(tmp_path):
    eml = tmp_path / "m.eml"
    eml.write_text("电话 13812345678\n比率 0.0771234567\n身份证 450324********1234\n", encoding="utf-8")
    hits = find_personal_data(eml)
    assert [(h.kind, h.text) for h in hits] == [("mobile", "13812345678")]


# --- real ledgers through the reader ------------------------------------------------

SAMPLE = Path(__file__).resolve().parents[1] / "xfsheets" / "samples" / "县信访局台账.xlsx"


def test_mask_frame_on_a_ledger_read_from_disk(data_dir):
    from xfsheets.reader import read_ledger

    ledger = read_ledger(data_dir / "reader" / "label_variants.xlsx")
    out = mask_frame(ledger.frame)
    assert list(out["phone"]) == ["138****5678", "139****5678", "0773-***4567"]
    for col in ["_file", "_sheet", "_row", "received_on", "status", "summary"]:
        pd.testing.assert_series_equal(out[col], ledger.frame[col])


@pytest.mark.skipif(not SAMPLE.exists(), reason="the bundled sample ledger is not present")
def test_mask_workbook_on_a_full_ledger_then_read_back(tmp_path):
    from xfsheets.reader import read_ledger

    assert find_personal_data(SAMPLE)
    out = tmp_path / "脱敏台账.xlsx"
    mask_workbook(SAMPLE, out)
    assert find_personal_data(out) == []
    before, after = read_ledger(SAMPLE), read_ledger(out)
    assert len(after) == len(before)
    ids = before.frame["id_number"].dropna()
    assert len(ids) > 0
    expected = ids.map(mask_id_number)
    pd.testing.assert_series_equal(after.frame.loc[ids.index, "id_number"], expected, check_dtype=False)
    assert (after.frame["petitioner"].fillna("") == before.frame["petitioner"].fillna("")).all()
    assert (after.frame["received_on"].isna() == before.frame["received_on"].isna()).all()


@pytest.mark.soffice
def test_masked_report_opens_in_libreoffice(data_dir, tmp_path, soffice):
    import subprocess

    out = tmp_path / "masked.xlsx"
    mask_workbook(data_dir / REPORT, out)
    profile = (tmp_path / "lo-profile").as_uri()
    # UTF-8 (76), every sheet to its own file (-1): LibreOffice >= 7.2
    csv_filter = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", csv_filter,
                    "--outdir", str(tmp_path / "csv"), str(out)], check=True, capture_output=True, timeout=120)
    files = {p.stem: p.read_text(encoding="utf-8") for p in (tmp_path / "csv").glob("*.csv")}
    assert "信访工作汇总报表" in files["masked-总体情况"]
    people = files["masked-重复信访"]
    assert "450324********1234" in people and "139****5678" in people
    assert "450324199001011234" not in people and "13912345678" not in people


# --- the forms people type (issue 11) -----------------------------------------------

@pytest.mark.parametrize("typed, masked", [
    ("450324199001011234", "450324********1234"),
    ("11010519491231002x", "110105********002x"),
    ("450321 19850315 4321", "450321 ******** 4321"),
    ("440106-19720808-5671", "440106-********-5671"),
    ("450305.19660606.2222", "450305.********.2222"),
    ("４５０３０５１９８８０１０１１１１Ｘ", "４５０３０５********１１１Ｘ"),
    ("450324900101123", "450324******123"),
    ("440106 720808 561", "440106 ****** 561"),
    ("+86 139 1234 5670", "+86 139 **** 5670"),
    ("0086-13712345671", "0086-137****5671"),
    ("+8613612345675", "+86136****5675"),
    ("150.1234.5672", "150.****.5672"),
    ("186-1234-5673", "186-****-5673"),
    ("１５８１２３４５６７４", "１５８****５６７４"),
    ("１３５－１２３４－５６７７", "１３５－****－５６７７"),
    ("0771-2345678", "0771-***5678"),
    ("(010)87654321", "(010)****4321"),
    ("0771 3456789", "0771 ***6789"),
    ("０７７１－４５６７８９０", "０７７１－***７８９０"),
    ("tel:+8613812345678", "tel:+86138****5678"),
])
def test_every_typed_form_is_masked_and_found(typed, masked):
    text = f"信访人联系方式：{typed}。"
    assert mask_text(text) == f"信访人联系方式：{masked}。"
    assert find_in_text(text, "t") and not find_in_text(mask_text(text), "t")
    assert mask_text(mask_text(text)) == mask_text(text)


@pytest.mark.parametrize("text", [
    "2026-03-05", "2026.03.05", "2026/03/05", "2026年3月5日", "2026-03-01—2026-03-31", "2026-03-05 10:30",
    "XF2026000123", "X2026-00123", "编号XF2026000123，登记日期2026-03-05",
    "金额1,234,567.89元", "12345678.90元", "拖欠工资35000元", "共1234行", "第 12 行至第 3456 行", "12件30人次",
    "比率 0.0771234567", "0.13812345678", "文号X信交〔2026〕15号", "20260305",
    "xfsheets 0.14.2 2026-11-25T14:37:26Z", "版本 0.13.0 2026-11-25",  # a version next to a date
])
def test_dates_case_ids_amounts_and_counts_are_not_personal(text):
    assert mask_text(text) == text
    assert find_in_text(text, "t") == []


def _planted_workbook(path: Path) -> None:
    """A workbook with an ID or phone in every part of the package."""
    from openpyxl.chart import BarChart, Reference
    from openpyxl.comments import Comment
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.packaging.custom import StringProperty

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账13812345678"
    ws.append(["单位", "件数"])
    ws.append(["县住建局 186-1234-5673", 3])
    ws.append(["县教育局", 13912345678])  # a phone stored as a number
    ws["C1"] = "备注"
    ws["C2"] = "身份证 440106-19720808-5671"
    ws["C2"].comment = Comment("回电 0771-2345678", "经办人 13712345671")
    ws["D2"] = "拨打"
    ws["D2"].hyperlink = "tel:+8613612345675"
    ws["E2"] = '=HYPERLINK("http://x","点我")'
    ws["E2"].data_type = "s"  # text that looks like a formula, stored as text
    ws["E3"] = "=cmd|' /C calc'!A0"
    ws["E3"].data_type = "s"
    ws.oddHeader.center.text = "联系 13612340000"
    chart = BarChart()
    chart.title = "各单位（联系 150.1234.5672）"
    chart.add_data(Reference(ws, min_col=2, min_row=1, max_row=3), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=3))
    ws.add_chart(chart, "G2")
    wb.defined_names["联系人"] = DefinedName("联系人", attr_text='"13812345678"')
    wb.properties.title = "报表 450324199001011234"
    wb.properties.creator = "经办 13812345678"
    wb.custom_doc_props.append(StringProperty(name="联系人电话", value="0086-13712345671"))
    wb.save(path)


def test_the_scan_reads_every_part_and_mask_workbook_cleans_every_part(tmp_path):
    src = tmp_path / "含个人信息.xlsx"
    _planted_workbook(src)
    hits = find_personal_data(src)
    parts = {h.part for h in hits}
    for part in ("xl/workbook.xml", "docProps/core.xml", "docProps/custom.xml", "xl/worksheets/sheet1.xml",
                 "xl/worksheets/_rels/sheet1.xml.rels", "xl/charts/chart1.xml"):
        assert part in parts, (part, sorted(parts))
    assert any(p.startswith("xl/comments") for p in parts)
    text = [h for h in hits if "186" in h.text]
    assert text and text[0].sheet == "台账13812345678" and text[0].cell == "A2"  # named by its cell
    number = [h for h in hits if h.part == "xl/worksheets/sheet1.xml" and h.cell == "B3"]
    assert number and number[0].kind == "mobile"

    out = tmp_path / "脱敏.xlsx"
    mask_workbook(src, out)
    assert find_personal_data(out) == []
    wb = openpyxl.load_workbook(out)
    ws = wb.worksheets[0]
    assert ws.title == "台账138＊＊＊＊5678"  # "*" may not stand in a sheet name
    assert ws["A2"].value == "县住建局 186-****-5673" and ws["B3"].value == "139****5678"
    assert ws["C2"].comment.text == "回电 0771-***5678"
    assert ws["D2"].hyperlink.target == "tel:+86136****5675"
    assert wb.properties.title == "报表 450324********1234"
    for ref in ("E2", "E3"):  # text that looks like a formula is still text
        assert ws[ref].data_type == "s" and ws[ref].value.startswith("=")
    with zipfile.ZipFile(out) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet


def test_check_file_refuses_and_names_the_place(tmp_path):
    from xfsheets.privacy import PersonalDataError, check_file

    import xlsxwriter

    src = tmp_path / "含个人信息.xlsx"
    book = xlsxwriter.Workbook(str(src))  # xlsxwriter keeps text in xl/sharedStrings.xml
    sheet = book.add_worksheet("汇总")
    sheet.write_string("A1", "正常文字 2026-03-05")
    sheet.write_string("C7", "信访人 450324 19900101 1234")
    book.close()
    with pytest.raises(PersonalDataError) as info:
        check_file(src)
    message = str(info.value)
    assert info.value.exit_code == 1
    assert "xl/sharedStrings.xml" in message and "汇总" in message and "C7" in message
    assert "19900101" not in message and "450324 ******** 1234" in message  # the place, never the value
    assert "--include-personal-data" in message


def test_mask_workbook_keeps_text_as_text_when_masking_it(tmp_path):
    src = tmp_path / "a.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    for ref, value in (("A1", '="13812345678"&"x"'), ("A2", "+1+1"), ("A3", "-1+1"), ("A4", "@SUM(A1)"),
                       ("A5", "=1+1 电话 13912345678")):
        ws[ref] = value
        ws[ref].data_type = "s"
    wb.save(src)
    out = tmp_path / "b.xlsx"
    mask_workbook(src, out)
    got = openpyxl.load_workbook(out).active
    assert [got[f"A{i}"].data_type for i in range(1, 6)] == ["s"] * 5
    assert got["A1"].value == '="138****5678"&"x"' and got["A5"].value == "=1+1 电话 139****5678"
    with zipfile.ZipFile(out) as zf:
        assert "<f>" not in zf.read("xl/worksheets/sheet1.xml").decode()
