"""The checker on fixture ledgers with planted defects (tests/data/checks, made by make_checks.py)."""
from __future__ import annotations

import datetime as dt
import importlib.util
import json
import shutil

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from conftest import DATA, digest
from xfsheets.checks import check, id_checksum_ok
from xfsheets.cli import main
from xfsheets.errors import ConfigError
from xfsheets.normalize import parse_date
from xfsheets.reader import read_ledger
from xfsheets.schema import Profile

C = DATA / "checks"
_spec = importlib.util.spec_from_file_location("make_checks", DATA / "make_checks.py")
make_checks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_checks)


@pytest.fixture(scope="module")
def report():
    return check(read_ledger(C / "defects.xlsx"))


def test_every_planted_defect_found_at_its_cell_and_nothing_else(report):
    got = {(f.row, f.column, f.code) for f in report.findings}
    assert got == make_checks.EXPECTED


def test_findings_carry_position_value_and_a_chinese_message(report):
    by = {(f.row, f.code): f for f in report.findings}
    f = by[(10, "id_number_as_number")]
    assert f.value == "4.50324E+17" and "文本" in f.message and "丢失" in f.message
    assert f.file.endswith("defects.xlsx") and f.sheet == "台账" and f.field == "id_number"
    assert by[(5, "bad_date")].value == "2026.13.05" and "2026-03-05" in by[(5, "bad_date")].message
    assert "第13行、第14行" in by[(13, "duplicate_case_id")].message
    assert "受理日期" in by[(8, "date_order")].message
    assert by[(12, "unknown_value")].severity == "warning" and by[(11, "bad_phone")].severity == "warning"
    assert not report.valid and report.errors == 14 and report.warnings == 2


def test_missing_column_reported_once_per_file():
    r = check(read_ledger(C / "missing_unit_column.xlsx"))
    missing = [f for f in r.findings if f.code == "required_missing"]
    assert len(missing) == 1 and missing[0].column is None and missing[0].row == 1
    assert "没有“责任单位”列" in missing[0].message


def test_profile_switches_off_changes_severity_and_extends_vocabulary(report):
    profile = Profile(checks={"bad_phone": "off", "duplicate_case_id": "warning"}, vocabulary={"status": ["挂账"]})
    r = check(read_ledger(C / "defects.xlsx"), profile)
    codes = {(f.code, f.severity) for f in r.findings}
    assert ("bad_phone", "warning") not in codes and ("duplicate_case_id", "warning") in codes
    assert not any(f.code == "unknown_value" for f in r.findings)
    with pytest.raises(ConfigError, match="no_such_rule"):
        check(read_ledger(C / "defects.xlsx"), Profile(checks={"no_such_rule": "off"}))


def test_clean_sample_ledger_is_valid():
    r = check(read_ledger(DATA.parent.parent / "xfsheets" / "samples" / "县人社局台账.xlsx"))
    assert r.valid and r.findings == [] and r.clean_rows == 60


def test_report_frame_and_dict(report):
    frame = report.to_frame()
    assert list(frame.columns) == ["code", "severity", "file", "sheet", "row", "column", "field", "value", "message"]
    assert len(frame) == len(report.findings)
    doc = report.to_dict()
    assert doc["valid"] is False and len(doc["findings"]) == 16


def test_annotated_copy(tmp_path):
    src = tmp_path / "台账.xlsx"
    shutil.copy(C / "defects.xlsx", src)
    before = digest(src)
    out = tmp_path / "标注.xlsx"
    result = CliRunner().invoke(main, ["check", str(src), "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert digest(src) == before
    wb = openpyxl.load_workbook(out)
    ws = wb["台账"]
    assert ws["E10"].fill.fgColor.rgb.endswith("FFC7CE") and "文本" in ws["E10"].comment.text
    assert ws["F11"].fill.fgColor.rgb.endswith("FFEB9C") and "【警告】" in ws["F11"].comment.text
    assert ws["A2"].fill.fill_type is None and ws["A2"].comment is None  # clean cells untouched
    assert ws["N16"].comment and ws["O16"].comment
    orig = openpyxl.load_workbook(C / "defects.xlsx")["台账"]
    for ra, rb in zip(orig.iter_rows(), ws.iter_rows()):
        for a, b in zip(ra, rb):
            assert (a.value, a.number_format) == (b.value, b.number_format)
    results = wb["检查结果"]
    rows = list(results.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 16
    link = results["A2"].hyperlink
    assert link.location == f"'台账'!{results['A2'].value}"


def test_cli_json_and_exit_codes():
    r = CliRunner().invoke(main, ["check", str(C / "defects.xlsx"), "--json"])
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert doc["valid"] is False
    assert set(doc["findings"][0]) == {"code", "severity", "file", "sheet", "row", "column", "field", "value", "message"}
    ok = CliRunner().invoke(main, ["check", str(DATA.parent.parent / "xfsheets" / "samples" / "县人社局台账.xlsx")])
    assert ok.exit_code == 0 and "检查通过" in ok.output


# --- properties ---------------------------------------------------------------------------

def reference_check_digit(body: str) -> str:
    weights = [2 ** (17 - i) % 11 for i in range(17)]  # ISO 7064 MOD 11-2 weights, derived
    return "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789", min_size=17, max_size=17), st.integers(0, 16), st.integers(1, 9))
def test_id_checksum_property(body, position, delta):
    good = body + reference_check_digit(body)
    changed = body[:position] + str((int(body[position]) + delta) % 10) + body[position + 1:] + good[17]
    ok = id_checksum_ok(pd.Series([good, changed]))
    assert ok.tolist() == [True, False]  # a single wrong digit always breaks MOD 11-2


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_parse_date_every_form_round_trips(day):
    forms = [day.isoformat(), f"{day.year}.{day.month}.{day.day}", f"{day.year}/{day.month:02d}/{day.day:02d}",
             f"{day.year}年{day.month}月{day.day}日", day.strftime("%Y%m%d"), int(day.strftime("%Y%m%d")),
             (day - dt.date(1899, 12, 30)).days, dt.datetime(day.year, day.month, day.day),
             f"{day.year}年{day.month}月{day.day}日".translate(str.maketrans("0123456789", "０１２３４５６７８９"))]
    for form in forms:
        assert parse_date(form) == day, form


@settings(max_examples=200, deadline=None)
@given(st.integers(1950, 2099), st.integers(13, 99), st.integers(1, 28))
def test_parse_date_rejects_impossible_months(year, month, day):
    for form in (f"{year}-{month}-{day}", f"{year}.{month}.{day}", f"{year}年{month}月{day}日"):
        assert parse_date(form) is None


def test_annotated_copy_of_an_xlsm_keeps_macros_only_in_an_xlsm(tmp_path):
    import zipfile

    from xfsheets.xlsm import install

    src = tmp_path / "台账.xlsx"
    shutil.copy(C / "defects.xlsx", src)
    xlsm = install(src, interpreter="")
    ledger = read_ledger(xlsm)
    report = check(ledger)
    from xfsheets.checks import annotate

    as_xlsx = annotate(ledger, report, tmp_path / "标注.xlsx")
    as_xlsm = annotate(ledger, report, tmp_path / "标注.xlsm")
    assert "xl/vbaProject.bin" not in zipfile.ZipFile(as_xlsx).namelist()
    assert "xl/vbaProject.bin" in zipfile.ZipFile(as_xlsm).namelist()
