"""Reading what counties write (issue 21 items 11-14, 16, 18), on tests/data/county_ledgers/
(made by tests/data/make_county_ledgers.py): rows below the table, county vocabulary, dates as
documents write them, 积案/稳控台账, date order and cells the reader did not read, and the README's
check table generated from the catalogue."""
from __future__ import annotations

import datetime as dt
import importlib.util
import json
import tomllib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import DATA
from xfsheets.checks import RULES, check, readme_check_table, update_readme
from xfsheets.cli import main
from xfsheets.deadlines import compute_deadlines
from xfsheets.normalize import parse_dates
from xfsheets.reader import read_ledger
from xfsheets.schema import load_profile, match_label, suggest_field
from xfsheets.summary import compute_summary

L = DATA / "county_ledgers"
AS_OF = dt.date(2026, 4, 30)
_spec = importlib.util.spec_from_file_location("make_county_ledgers", DATA / "make_county_ledgers.py")
make = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make)


def _json(args: list[str]) -> tuple[int, dict]:
    result = CliRunner().invoke(main, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout)


# --- 11. rows below the table -------------------------------------------------------------------

@pytest.mark.parametrize("suffix", ["xlsx", "xls", "csv", "ods"])
def test_rows_below_the_table_are_not_matters_in_every_format(suffix):
    ledger = read_ledger(L / f"表下注释.{suffix}")
    assert ledger.frame["_row"].tolist() == make.NOTES_MATTER_ROWS
    # "反映合计拖欠工资3万元" names a matter: it stays one
    assert ledger.frame["summary"].tolist()[-1] == "反映合计拖欠工资3万元"
    assert dict(ledger.sources[0].skipped) == make.NOTES_BELOW_ROWS
    assert check(ledger, as_of=AS_OF).findings == []


def test_inspect_lists_the_rows_below_the_table():
    code, doc = _json(["inspect", str(L / "表下注释.csv")])
    assert code == 0
    assert {s["row"]: s["reason"] for s in doc["files"][0]["skipped"]} == make.NOTES_BELOW_ROWS
    text = CliRunner().invoke(main, ["inspect", str(L / "表下注释.xls")]).output
    assert "合计行 2 行：第 5-6 行" in text and "表尾说明 5 行：第 7-11 行" in text


def test_a_backlog_ledgers_total_text_notes_and_sign_line_are_not_matters():
    ledger = read_ledger(L / "积案化解台账.xlsx")
    assert ledger.frame["petitioner"].tolist() == ["张三", "李四", "王五"]
    assert dict(ledger.sources[0].skipped) == {7: "合计行", 8: "表尾说明", 9: "表尾说明", 10: "表尾说明"}


def test_a_table_goes_on_after_a_subtotal_and_a_note_in_the_case_id_column_is_still_a_note(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["信访件编号", "登记日期", "信访人", "反映问题", "责任单位", "办理状态"])
    ws.append(["X1", "2026-03-02", "张三", "欠薪", "县人社局", "办理中"])
    ws.append(["小计", "1件"])
    ws.append(["X2", "2026-04-02", "李四", "征地", "城关镇", "办理中"])
    ws.append([None, None, None, "物业服务", "县住建局"])  # a matter half typed: still a matter
    ws.append(["1、本表每月5日前报送，编号按年度连续编写。"])
    ws.append(["（二）已办结事项附办结报告。"])
    ws.append(["填表人：王五", None, "审核人：赵六"])
    wb.save(tmp_path / "台账.xlsx")
    ledger = read_ledger(tmp_path / "台账.xlsx")
    assert ledger.frame["_row"].tolist() == [2, 4, 5]
    assert dict(ledger.sources[0].skipped) == {3: "合计行", 6: "表尾说明", 7: "表尾说明", 8: "表尾说明"}
    assert {(f.row, f.code) for f in check(ledger, as_of=AS_OF).findings} == {(5, "required_missing")}


# --- 12. vocabulary -----------------------------------------------------------------------------

@pytest.mark.parametrize("label, field", [
    ("来信来访人", "petitioner"), ("信访人员", "petitioner"), ("姓名", "petitioner"), ("证件号码", "id_number"),
    ("承办单位", "unit"), ("限办日期", "due_on"), ("办理期限", "due_on"), ("要求办结时间", "due_on"),
    ("办理进度", "status"), ("化解情况", "resolution"), ("是否息诉息访", "resolution"), ("稳控情况", "resolution"),
])
def test_county_labels_map_to_their_fields(label, field):
    assert match_label(label) == field


def test_qiantou_unit_is_the_unit_only_where_no_other_column_is():
    backlog = read_ledger(L / "积案化解台账.xlsx")
    assert {c.label: c.field for c in backlog.sources[0].columns}["牵头单位"] == "unit"
    assert backlog.frame["unit"].tolist() == ["县自然资源局", "县人社局", "城关镇"]
    assert backlog.frame["resolution"].tolist() == ["已化解", "未化解", "稳控中"]
    stability = read_ledger(L / "重点人员稳控台账.xlsx")
    fields = {c.label: c.field for c in stability.sources[0].columns}
    assert fields["牵头单位"] is None and fields["责任单位"] == "unit" and fields["是否息诉息访"] == "resolution"
    assert stability.frame["unit"].tolist() == ["城关镇", "东山乡", "西岭镇"]
    assert stability.frame["resolution"].tolist() == ["否", "是", "否"]


def test_system_export_labels_are_all_understood():
    ledger = read_ledger(L / "系统导出.xls")
    assert ledger.sources[0].unmapped == []
    assert ledger.frame["petitioner"].tolist() == ["张三", "李四", "王五"]
    assert ledger.frame["received_on"].tolist() == [pd.Timestamp(2026, 3, 2), pd.Timestamp(2026, 3, 3),
                                                    pd.Timestamp(2026, 3, 9)]


def test_inspect_suggests_a_field_and_the_profile_line_that_maps_it(tmp_path):
    code, doc = _json(["inspect", str(L / "WPS表格.et")])
    assert code == 0
    assert doc["files"][0]["suggestions"] == [{
        "column": "I", "label": "包案领导姓名", "field": "leader", "field_label": "包案领导", "like": "包案领导",
        "profile_line": 'labels."包案领导姓名" = "leader"'}]
    text = CliRunner().invoke(main, ["inspect", str(L / "WPS表格.et")]).output
    assert 'labels."包案领导姓名" = "leader"' in text and "序号" not in text.split("未识别，")[0][-20:]
    # the printed line is a profile as it stands: given to --profile, it maps the column
    profile = tmp_path / "本县配置.toml"
    profile.write_text(doc["files"][0]["suggestions"][0]["profile_line"] + "\n", encoding="utf-8")
    assert tomllib.loads(profile.read_text(encoding="utf-8")) == {"labels": {"包案领导姓名": "leader"}}
    ledger = read_ledger(L / "WPS表格.et", profile=load_profile(profile))
    assert ledger.frame["leader"].tolist() == ["王副镇长", "李副镇长"]


@pytest.mark.parametrize("label, field, like", [
    ("化解进展", "resolution", "化解进度"),  # no known label inside it: the closest one (difflib)
    ("信访人联系电话", "phone", "联系电话"),  # a known label inside it, the longest
    ("包案领导姓名", "leader", "包案领导"),
])
def test_the_suggestion_is_the_closest_known_label(label, field, like):
    assert suggest_field(label) == (field, like)
    assert suggest_field("群众来电记录表") is None  # nothing close: no guess


# --- 13. dates as documents write them ----------------------------------------------------------

def test_dates_as_documents_write_them():
    typed = pd.Series(["二〇二六年三月五日", "2026．3．5", "２０２６．３．５", "2026年6月30日前", "二〇二六年十二月三十一日",
                       "二〇二六年二月三十日", "长期稳控", "长期", "待定"], dtype=object)
    got = parse_dates(typed).tolist()
    want = [pd.Timestamp(2026, 3, 5)] * 3 + [pd.Timestamp(2026, 6, 30), pd.Timestamp(2026, 12, 31)]
    assert got[:5] == want
    assert all(pd.isna(v) for v in got[5:])  # 2月30日 does not exist; the states are no dates


def test_states_in_date_columns_are_not_bad_dates_and_bad_dates_still_are():
    stability = read_ledger(L / "重点人员稳控台账.xlsx")
    assert stability.frame["due_on"].tolist()[2] == pd.Timestamp(2026, 6, 30)
    assert stability.raw["due_on"].tolist()[:2] == ["长期稳控", "待定"]
    assert check(stability, as_of=AS_OF).findings == []
    wps = read_ledger(L / "WPS表格.et")
    assert wps.frame["received_on"].tolist() == [pd.Timestamp(2026, 3, 5), pd.Timestamp(2026, 3, 9)]
    assert [f.code for f in check(wps, as_of=AS_OF).findings] == ["cell_not_read"]


def test_a_filled_but_unreadable_closing_date_is_bad_date_never_not_filled(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["信访件编号", "登记日期", "信访人", "反映问题", "责任单位", "办理状态", "受理日期", "办结日期", "办理结果"])
    ws.append(["X1", "2026-03-02", "张三", "欠薪", "县人社局", "已办结", "2026-03-05", "2026.13.45", "已答复"])
    ws.append(["X2", "2026-03-02", "李四", "征地", "城关镇", "已办结", "2026-03-05", "长期", "已答复"])
    ws.append(["X3", "2026-03-02", "王五", "物业", "县住建局", "已办结", "2026-03-05", None, "已答复"])
    wb.save(tmp_path / "台账.xlsx")
    findings = check(read_ledger(tmp_path / "台账.xlsx"), as_of=AS_OF).findings
    assert [(f.row, f.column, f.code) for f in findings] == [(2, "H", "bad_date"), (4, "H", "required_missing")]
    assert "未填写" not in findings[0].message and "2026.13.45" in findings[0].message
    # and deadlines says what is there: 「2026.13.45」, 「长期」; 未填写 only where nothing was typed
    explain = compute_deadlines(read_ledger(tmp_path / "台账.xlsx"), as_of=AS_OF)["explain"].tolist()
    assert "但办结日期填写的「2026.13.45」不是可识别的日期" in explain[0] and "未填写" not in explain[0]
    assert "但办结日期填写的「长期」不是可识别的日期" in explain[1] and "未填写" not in explain[1]
    assert "但未填写办结日期" in explain[2]


# --- 14. ledgers that are not 办理台账 -------------------------------------------------------------

def test_ledger_kind_is_read_from_the_columns():
    assert read_ledger(L / "积案化解台账.xlsx").kind.label == "积案台账"
    assert read_ledger(L / "重点人员稳控台账.xlsx").kind.label == "稳控台账"
    assert read_ledger(L / "系统导出.xls").kind.label == "办理台账"
    backlog = read_ledger(L / "积案化解台账.xlsx").kind
    assert not backlog.supports("deadlines") and not backlog.supports("timely_acceptance")
    assert backlog.supports("resolution") and backlog.supports("leader_load") and backlog.supports("collective")


@pytest.mark.parametrize("name, label", [("积案化解台账.xlsx", "积案台账"), ("重点人员稳控台账.xlsx", "稳控台账")])
def test_backlog_and_stability_ledgers_get_no_invented_deadline_or_rate(name, label):
    ledger = read_ledger(L / name)
    result = compute_deadlines(ledger, as_of=AS_OF)
    assert result["flag"].tolist() == ["unknown"] * 3
    assert all(e.startswith(f"无法判断：这是{label}") and "不判断是否超期" in e for e in result["explain"])
    summary = compute_summary(ledger, as_of=AS_OF)
    assert summary.totals["overdue"] == 0
    timely = next(r for r in summary.rates if r.name == "及时受理率")
    assert (timely.numerator, timely.denominator) == (0, 0)  # "—", never 0%
    assert "（未填责任单位）" not in summary.by_unit["责任单位"].tolist()
    assert summary.by_unit["排名"].isna().all()
    # what it can support: 集体访 (李四 and 11 others in the 积案台账)
    assert summary.totals["collective"] == (1 if label == "积案台账" else 0)
    # and check asks a 积案/稳控台账 for no 信访件编号 or 办理状态
    assert check(ledger, as_of=AS_OF).findings == []


# --- 16. date order, and what was not read -------------------------------------------------------

def test_review_before_closing_and_limit_before_assignment_are_date_order():
    findings = check(read_ledger(L / "系统导出.xls"), as_of=AS_OF).findings
    assert [(f.row, f.column, f.code, f.severity) for f in findings] == [
        (3, "P", "date_order", "error"), (4, "L", "date_order", "error")]
    assert findings[0].message == ("“复查申请日期”（2026-04-01）早于“办结日期”（2026-04-15），"
                                   "复查申请日期应在办结日期之后，请核对两个日期")
    assert findings[1].message == ("“办理时限”（2026-03-10）早于“交办日期”（2026-03-12），"
                                   "办理时限应在交办日期之后，请核对两个日期")


def test_a_stray_far_cell_the_reader_skipped_is_a_warning_not_silence():
    code, doc = _json(["check", str(L / "WPS表格.et"), "--as-of", AS_OF.isoformat()])
    assert code == 0 and doc["valid"] is True
    [finding] = doc["findings"]
    assert (finding["code"], finding["severity"], finding["row"], finding["column"]) == (
        "cell_not_read", "warning", 65536, None)
    assert "IV65536" in finding["message"] and "没有读取" in finding["message"]


# --- 18. the README's check table is the catalogue ----------------------------------------------

def test_readme_check_table_is_generated_from_the_catalogue(tmp_path):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme_check_table()
    assert f"<!-- check-table:start -->\n{table}\n<!-- check-table:end -->" in readme, \
        'README 的检查项表与 checks.RULES 不一致：运行 python -c "from xfsheets.checks import update_readme; update_readme()"'
    for rule in RULES:
        assert f"| `{rule.code}` |" in table
    copy = tmp_path / "README.md"
    copy.write_text(readme.replace("| `bad_date` |", "| `old_code` |"), encoding="utf-8")
    assert update_readme(copy) is True and copy.read_text(encoding="utf-8") == readme
    assert update_readme(copy) is False


def test_every_code_check_emits_on_these_ledgers_is_in_the_catalogue():
    codes = {r.code for r in RULES}
    for path in sorted(L.iterdir()):
        for finding in check(read_ledger(path), as_of=AS_OF).findings:
            assert finding.code in codes
