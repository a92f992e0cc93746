"""Consolidating the fixture folder tests/data/consolidate (made by make_consolidate.py)."""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from conftest import DATA
from xfsheets.cli import main
from xfsheets.consolidation import consolidate, write_consolidated
from xfsheets.reader import read_ledger

FOLDER = DATA / "consolidate"
GOOD = ["县人社局.xlsx", "县住建局.xlsx", "县教育局.xls", "城关镇.xlsx", "河西镇/河西镇台账.xlsx"]


def _values(path):
    wb = openpyxl.load_workbook(path)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb}


def test_every_good_row_is_present_with_its_provenance():
    ledger, report = consolidate([FOLDER], jobs=1)
    expected = []
    for name in GOOD:
        one = read_ledger(FOLDER / name)
        expected += [(str(FOLDER / name), cid, row) for cid, row in zip(one.frame["case_id"], one.frame["_row"])]
    got = list(zip(ledger.frame["_file"], ledger.frame["case_id"], ledger.frame["_row"]))
    assert sorted(got) == sorted(expected)
    assert report.rows_in == report.rows_out == len(ledger) == 23


def test_failures_are_listed_with_reasons_and_junk_is_ignored():
    _, report = consolidate([FOLDER], jobs=1)
    status = {f.file.split("/")[-1]: (f.status, f.message) for f in report.files}
    assert status["县卫健局_损坏.xlsx"][0] == "failed" and "损坏" in status["县卫健局_损坏.xlsx"][1]
    assert status["县公安局_加密.xlsx"][0] == "failed" and "--password" in status["县公安局_加密.xlsx"][1]
    assert status["青山乡_空台账.xlsx"] == ("empty", None)
    encrypted = next(f.error for f in report.files if f.file.endswith("县公安局_加密.xlsx"))
    assert encrypted["code"] == "workbook_encrypted" and encrypted["file"].endswith("县公安局_加密.xlsx")
    ignored = {p.split("/")[-1]: why for p, why in report.ignored}
    assert set(ignored) == {"~$县人社局.xlsx", ".隐藏副本.xlsx"}
    assert report.exit_code == 1


def test_password_opens_the_encrypted_unit():
    ledger, report = consolidate([FOLDER], jobs=1, password="xf2026")
    assert [f.status for f in report.files if "加密" in f.file] == ["read"]
    assert report.rows_out == 25


def test_duplicates_are_flagged_not_removed():
    ledger, report = consolidate([FOLDER], jobs=1)
    dups = report.duplicates
    by_case = dups[dups["重复类型"].str.startswith("同一信访件编号")]
    assert sorted(by_case["来源文件"].str.split("/").str[-1]) == ["县人社局.xlsx", "城关镇.xlsx"]
    assert set(by_case["信访件编号"]) == {"X2026-00003"}
    moved = dups[dups["重复类型"].str.startswith("同一身份证号")]
    assert sorted(moved["来源文件"].str.split("/").str[-1]) == ["县住建局.xlsx", "河西镇台账.xlsx"]
    assert moved["组号"].nunique() == 1
    assert (ledger.frame["case_id"] == "X2026-00003").sum() == 2  # both rows kept


def test_output_reread_from_disk(tmp_path):
    ledger, report = consolidate([FOLDER], jobs=1)
    out = write_consolidated(ledger, report, tmp_path / "汇总.xlsx")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["汇总台账", "导入情况", "重复记录"]
    ws = wb["汇总台账"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["信访件编号", "登记日期", "信访形式"]
    assert header[-3:] == ["来源文件", "来源工作表", "来源行号"]
    assert "是否重点件" in header and "化解措施" in header  # unmapped columns kept
    assert ws.max_row == 1 + 23
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    date_col = header.index("登记日期") + 1
    assert isinstance(ws.cell(2, date_col).value, dt.datetime)
    assert ws.cell(2, date_col).number_format == "yyyy-mm-dd"
    assert ws["A1"].font.b
    imports = list(wb["导入情况"].iter_rows(min_row=2, values_only=True))
    assert len(imports) == 8 + 2  # every file, read or failed, plus the ignored ones


def test_text_that_is_not_a_date_survives_consolidation(tmp_path):
    src = tmp_path / "单位.xlsx"
    shutil.copy(DATA / "reader" / "date_forms.xlsx", src)
    ledger, report = consolidate([src], jobs=1)
    out = write_consolidated(ledger, report, tmp_path / "out.xlsx")
    values = [r[1] for r in _values(out)["汇总台账"][1:]]
    assert "2026.13.05" in values and "待定" in values


def test_jobs_1_and_jobs_4_give_the_same_workbook(tmp_path):
    a = write_consolidated(*consolidate([FOLDER], jobs=1), tmp_path / "a.xlsx")
    b = write_consolidated(*consolidate([FOLDER], jobs=4), tmp_path / "b.xlsx")
    assert _values(a) == _values(b)


# --- CLI -------------------------------------------------------------------------------

def test_cli_json_and_exit_code_1_when_a_file_failed(tmp_path):
    out = tmp_path / "汇总.xlsx"
    result = CliRunner().invoke(main, ["consolidate", str(FOLDER), "-o", str(out), "--json", "--jobs", "2"])
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert doc["rows_in"] == doc["rows_out"] == 23
    assert {f["status"] for f in doc["files"]} == {"read", "failed", "empty"}  # stable codes; words on 导入情况
    assert any(d["case_id"] == "X2026-00003" for d in doc["duplicates"])
    assert out.exists()
    assert "读取失败" in result.stderr
    sheet = openpyxl.load_workbook(out)["导入情况"]
    words = {row[4] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert {"已读取", "读取失败", "空台账"} <= words  # the Chinese words stay on the sheet a clerk reads


def test_cli_exit_0_when_all_read(tmp_path):
    result = CliRunner().invoke(main, ["consolidate", str(FOLDER / "县人社局.xlsx"), str(FOLDER / "城关镇.xlsx"),
                                       "-o", str(tmp_path / "o.xlsx")])
    assert result.exit_code == 0, result.output


def test_cli_exit_2_when_nothing_could_be_read(tmp_path):
    out = tmp_path / "o.xlsx"
    result = CliRunner().invoke(main, ["consolidate", str(FOLDER / "县卫健局_损坏.xlsx"), "-o", str(out)])
    assert result.exit_code == 2 and not out.exists()
    assert "没有可读取的台账" in result.stderr


def test_cli_missing_input_is_exit_2(tmp_path):
    result = CliRunner().invoke(main, ["consolidate", str(tmp_path / "nope"), "-o", str(tmp_path / "o.xlsx")])
    assert result.exit_code == 2 and "找不到文件或文件夹" in result.stderr


def test_progress_hooks_see_every_file():
    seen, totals = [], []
    _, report = consolidate([FOLDER], jobs=2, progress=seen.append, started=totals.append)
    assert totals == [len(report.files)] == [8]
    assert [r.file for r in seen] == [r.file for r in report.files]


def test_cli_output_inside_an_input_folder_is_not_read_back(tmp_path):
    folder = tmp_path / "报送"
    folder.mkdir()
    for name in ("县人社局.xlsx", "城关镇.xlsx"):
        shutil.copy(FOLDER / name, folder / name)
    out = folder / "汇总.xlsx"
    for _ in range(2):  # the second run finds the first run's output in the folder
        result = CliRunner().invoke(main, ["consolidate", str(folder), "-o", str(out), "--json", "--jobs", "1"])
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout)
        assert doc["rows_out"] == 11
    assert [i["file"] for i in doc["ignored"]] == [str(out)]
    assert len(_values(out)["汇总台账"]) == 1 + 11


def test_cli_json_lists_why_when_nothing_could_be_read(tmp_path):
    result = CliRunner().invoke(main, ["consolidate", str(FOLDER / "县卫健局_损坏.xlsx"), str(FOLDER / "县公安局_加密.xlsx"),
                                       "-o", str(tmp_path / "o.xlsx"), "--json"])
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert [f["status"] for f in doc["files"]] == ["failed", "failed"]
    assert all(f["error"]["code"] and f["error"]["message"] for f in doc["files"]) and doc["rows_out"] == 0


def test_a_units_own_column_named_like_ours_is_kept_beside_it(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["信访件编号", "登记日期", "信访人", "责任单位", "来源文件"])
    ws.append(["Q2026-00001", dt.date(2026, 3, 5), "张三", "青山乡", "县信访局转来"])
    wb.save(tmp_path / "青山乡.xlsx")
    ledger, report = consolidate([tmp_path / "青山乡.xlsx"], jobs=1)
    out = write_consolidated(ledger, report, tmp_path / "out.xlsx")
    rows = _values(out)["汇总台账"]
    record = dict(zip(rows[0], rows[1]))
    assert record["来源文件（原表）"] == "县信访局转来"
    assert record["来源文件"] == "青山乡.xlsx"  # the file people look for, not the clerk's local path
    assert record["来源行号"] == 2


def test_package_level_call_works_whatever_was_imported_first():
    import xfsheets
    import xfsheets.consolidation  # noqa: F401  (a submodule import must not hide the function)

    ledger, report = xfsheets.consolidate([FOLDER / "城关镇.xlsx"], jobs=1)
    assert report.rows_out == len(ledger) == 5


def test_source_files_are_shown_relative_to_the_folder_they_share(tmp_path):
    from xfsheets.consolidation import shown_paths

    a, b = tmp_path / "乡镇" / "城关镇.xlsx", tmp_path / "部门" / "城关镇.xlsx"
    assert shown_paths([str(a), str(b)]) == {str(a): str(Path("乡镇") / "城关镇.xlsx"),
                                             str(b): str(Path("部门") / "城关镇.xlsx")}
