"""Issue 21 items 7-10: rates with one written definition, 人数 as people type it, 重复信访 across
files and periods, and a 零报告 that attests only what the ledger shows.

Fixtures: tests/data/county_stats (make_county_stats.py), county ledgers with a title row, a 填报
line and county labels. The figures below are worked out by hand from that script's rows; the
register limit is 15日 and the handling limit 60日 (《信访工作条例》 arts. 22/23 and 34), 2026 calendar.
"""
from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import DATA
from xfsheets.checks import check
from xfsheets.cli import main
from xfsheets.headcount import from_petitioner, parse_headcount
from xfsheets.reader import read_ledger, read_ledgers
from xfsheets.report import build_report
from xfsheets.summary import RATE_DEFINITIONS, compute_summary, repeated_petitions
from xfsheets.zero_report import BEIJING_PROVINCE_WORDS, BLOCKED_NAME, UNASSIGNED, build_zero_reports, notable

C = DATA / "county_stats"
APRIL, MARCH = C / "县信访局台账_2026年4月.xlsx", C / "县信访局台账_2026年3月.xlsx"
ZERO = C / "乡镇零报告台账_2026年11月.xlsx"
PERIOD = dict(date_from=dt.date(2026, 4, 1), date_to=dt.date(2026, 4, 30), as_of=dt.date(2026, 7, 15))
DAY = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def april():
    return compute_summary(read_ledger(APRIL), **PERIOD)


def _cells(path, sheet=None) -> list[str]:
    wb = openpyxl.load_workbook(path)
    sheets = [wb[sheet]] if sheet else wb.worksheets
    return [str(c) for ws in sheets for row in ws.iter_rows(values_only=True) for c in row if c is not None]


# --- item 7: one written definition per rate, hand-computed figures -----------------------------

def test_rates_match_the_hand_count(april):
    got = {r.name: (r.numerator, r.denominator) for r in april.rates}
    # 及时受理率: C10 has no readable 登记日期, so 10 matters; only C03 (routed 04-25, due 04-20) and C05
    #   (never routed) are late; C09's 不予受理 on 05-08 (due 05-13) is a timely decision.
    # 按期办结率: the 办理 stage only: C01 C04 C06 C12 on time, C02 late, C03 C07 overdue; C05 (登记交办)
    #   and C09 (不予受理) are not in it; C08's 受理日期 2026.4.31 cannot be read: left out and said.
    # 化解率: C04 息诉罢访 + C06 已化解 (accepted directly, no 交办) over the 8 matters assigned or accepted.
    # 参评率: closed by handling C01 C02 C04 C06 C12 (C09 不予受理 has its own heading); rated C01 满意,
    #   C06 基本满意, C12 不满意; C02 未评价 and C04 — are not ratings. 满意率 = 2 of 3.
    assert got == {"及时受理率": (8, 10), "按期办结率": (4, 7), "化解率": (2, 8), "参评率": (3, 5), "满意率": (2, 3)}
    on_time = next(r for r in april.rates if r.name == "按期办结率")
    assert on_time.excluded == {"登记日期无法识别或未填写": 1, "“受理日期”无法识别": 1}
    assert on_time.excluded_text == "未计入：登记日期无法识别或未填写的1件；“受理日期”无法识别的1件"
    assert april.totals["skip_level"] == 1 and april.totals["ended"] == 1 and april.totals["undated"] == 1


def test_each_rate_has_one_definition_and_the_report_prints_it_beside_the_rate(april, tmp_path):
    assert set(RATE_DEFINITIONS) == {r.name for r in april.rates}
    by_name = {r.name: r for r in april.rates}
    # DOMAIN.md section 4, in the words printed
    assert by_name["参评率"].definition == ("有评价结果（满意、基本满意、不满意）的办结件数 ÷ 办结件数（“未评价”、空白、“—”不算评价；"
                                         "不予受理、终结等办理终止的事项另列，不在其中）")
    assert by_name["按期办结率"].definition.startswith("办理阶段（自受理日期起算）在期满日当天或之前办结的件数 ÷ 办理阶段")
    assert by_name["化解率"].definition.endswith("÷ 已交办或直接受理的件数")
    assert by_name["满意率"].definition == "评价为“满意”、“基本满意”的件数 ÷ 参评件数"

    path, _ = build_report(read_ledger(APRIL), tmp_path / "月报.xlsx", **PERIOD)
    wb = openpyxl.load_workbook(path)
    notes = {row[0]: row[1] for row in wb["说明"].iter_rows(min_row=3, values_only=True)}
    overview = {row[0]: row[1:] for row in wb["总体情况"].iter_rows(min_row=5, values_only=True) if row[0]}
    for rate in april.rates:
        assert notes[rate.name] == rate.note  # one definition, the same on 说明 ...
        value, num, den, note = overview[rate.name]
        assert (num, den, note) == (rate.numerator, rate.denominator, rate.note)  # ... and beside the figure
    assert "“受理日期”无法识别的1件" in overview["按期办结率"][3]
    assert overview["越级访（件）"][0] == 1 and overview["涉及人次"][0] == "至少90"
    page = " ".join(_cells(path, "情况报告"))
    assert "按期办结率未计入：登记日期无法识别或未填写的1件；“受理日期”无法识别的1件" in page
    assert [r[0] for r in wb["越级访"].iter_rows(min_row=3, values_only=True)] == ["C03"]
    ended = list(wb["办理终止事项"].iter_rows(min_row=2, values_only=True))
    assert ended[0][:3] == ("办理状态", "结束的是", "信访件编号")
    assert [(r[0], r[2]) for r in ended[1:]] == [("不予受理", "C09")] and "不予受理决定" in ended[1][1]


# --- item 8: 人数 as people type it --------------------------------------------------------------

@pytest.mark.parametrize("typed, n, at_least", [
    ("5人", 5, False), (12, 12, False), ("12", 12, False), ("约30人", 30, True), ("30余人", 30, True),
    ("二十多人", 20, True), ("大约30人", 30, True), ("十二名", 12, False), ("１２人", 12, False),
    ("两三个", None, None), ("若干", None, None), ("5-6人", None, None), ("0", None, None), (5.5, None, None),
])
def test_headcount_as_people_type_it(typed, n, at_least):
    got = parse_headcount(typed)
    assert (got.n, got.at_least) == (n, at_least) if n is not None else got is None


def test_headcount_from_the_petitioner_cell():
    assert (from_petitioner("张三等5人").n, from_petitioner("张三等5人").at_least) == (5, False)
    assert from_petitioner("张三、李四").n == 2 and from_petitioner("张三等").at_least
    assert from_petitioner("某某村部分村民") is None


def test_collective_visits_are_judged_on_the_headcount_and_what_cannot_be_read_is_a_finding(april):
    # C02 约30人, C03 30余人, C04 二十多人, C05 人数 blank beside 钱七等5人; C06 两三个 is not 1, not 集体访.
    people = dict(zip(april.collective["信访件编号"], april.collective["人数"]))
    assert people == {"C02": "至少30人", "C03": "至少30人", "C04": "至少20人", "C05": "5人"}
    assert april.totals["people"] == 1 + 30 + 30 + 20 + 5 + 1 + 1 + 1 + 1  # C06 left out, not counted as 1
    assert april.totals["people_at_least"] and april.totals["people_unknown"] == 1
    findings = check(read_ledger(APRIL), as_of=PERIOD["as_of"]).findings
    on_headcount = [(f.code, f.row, f.column, f.value) for f in findings if f.field == "headcount"]
    assert on_headcount == [("bad_headcount", 9, "I", "两三个")]
    assert "无法识别为人数" in next(f.message for f in findings if f.code == "bad_headcount")


# --- item 9: 重复信访 across files and periods ----------------------------------------------------

def test_repeated_petitions_match_across_files_and_periods_and_say_which_rule():
    s = compute_summary(read_ledgers([APRIL, MARCH]), **PERIOD)
    groups = {name: (g["匹配依据"].iloc[0], g["本期件数"].iloc[0], g["累计件数"].iloc[0], sorted(g["信访件编号"]))
              for name, g in s.repeated.groupby("信访人")}
    assert groups == {
        "张三": ("姓名+联系电话", 2, 2, ["C01", "C07"]),  # C07 has no 证件号码; 138 1234 5678 is the same phone
        "李四": ("姓名+联系电话", 1, 2, ["C02", "M03"]),  # March, in the other file
        "周九": ("姓名+住址", 1, 2, ["C08", "M01"]),  # 城关镇东街３号 (full-width) is the same address
        "吴十": ("身份证号", 1, 2, ["C12", "M02"]),  # different phones, one identity number
    }
    assert set(s.repeated["来源行号"]) >= {4, 10, 6}


def test_two_identity_numbers_are_never_one_person():
    rows = pd.DataFrame({
        "petitioner": ["张三", "张三", "张三"], "id_number": ["450324199001011230", "11010519491231002X", None],
        "phone": ["13812345678"] * 3, "address": [None] * 3, "category": ["劳动社保"] * 3,
        "case_id": ["X1", "X2", "X3"], "received_on": pd.to_datetime(["2026-04-01", "2026-04-02", "2026-04-03"]),
        "unit": ["县人社局"] * 3, "status": ["办理中"] * 3, "_file": ["a.xlsx"] * 3, "_row": [2, 3, 4]})
    out = repeated_petitions(rows, rows.index)
    for _, g in out.groupby("组号"):
        assert g["身份证号"].dropna().nunique() <= 1
    assert len(out) == 2  # X3 joins one of them by name + phone, never both


def test_identifiers_are_matched_after_the_one_folding_rule():
    rows = pd.DataFrame({
        "petitioner": ["李 四", "李四", "王五"], "id_number": [None, None, None],
        "phone": ["+86 138-1234-5678", "１３８１２３４５６７８", "13812345678转801"],
        "address": [None] * 3, "category": ["城乡建设"] * 3, "case_id": ["Y1", "Y2", "Y3"],
        "received_on": pd.to_datetime(["2026-04-01", "2026-04-02", "2026-04-03"]), "unit": ["城关镇"] * 3,
        "status": ["办理中"] * 3, "_file": ["a.xlsx"] * 3, "_row": [2, 3, 4]})
    out = repeated_petitions(rows, rows.index)
    assert sorted(out["信访件编号"]) == ["Y1", "Y2"] and set(out["匹配依据"]) == {"姓名+联系电话"}  # 王五 is another name


# --- item 10: the 零报告 attests only what it can ---------------------------------------------------

def test_zero_reports_list_what_happened_and_block_what_cannot_be_attested(tmp_path):
    reports = build_zero_reports(read_ledger(ZERO), tmp_path / "z", as_of=DAY)
    by_unit = {r.unit: r for r in reports}
    assert set(by_unit) == {"城关镇", "大山乡", UNASSIGNED, "县人社局", "县教育局"}
    assert by_unit["城关镇"].events["case_id"].tolist() == ["Z1"]  # 到北京国家信访局
    assert by_unit["大山乡"].events["报告事由"].tolist() == ["进京赴省访"]  # 到省信访局
    assert by_unit[UNASSIGNED].events["case_id"].tolist() == ["Z2"]  # blank 承办单位: reported, not dropped
    assert by_unit["县人社局"].is_zero and by_unit["县教育局"].is_zero
    # 县住建局's Z4 has 登记日期 2026.11.31: it may be today's, so no form says 县住建局 had nothing.
    assert [(b.unit, b.reasons) for b in reports.blocked] == [
        ("县住建局", ["第7行（信访件编号Z4）登记日期「2026.11.31」无法识别，无法判断是否在报告期间内"])]
    assert reports.exit_code == 1
    assert sorted(p.name for p in (tmp_path / "z").iterdir()) == sorted(
        [r.path.name for r in reports] + [f"{BLOCKED_NAME}_2026-11-20.xlsx"])
    assert not any("县住建局" in r.path.name for r in reports)
    listed = _cells(reports.blocked_path)
    assert "县住建局" in listed and any("2026.11.31" in c for c in listed)
    for r in reports:  # the printed form carries no software caveat
        text = " ".join(_cells(r.path))
        assert "无法" not in text and "台账中没有" not in text and "核实" not in text


@pytest.mark.parametrize("period", [["--from", "2026-11-20", "--to", "2026-11-21"], ["--from", "2026-11-22"]])
def test_a_period_after_the_as_of_date_is_refused_and_nothing_is_written(tmp_path, period):
    out = tmp_path / "z"
    r = CliRunner().invoke(main, ["report", str(ZERO), "--zero", "-o", str(out), "--as-of", "2026-11-20", *period])
    assert r.exit_code == 2 and "晚于统计截止日" in r.stderr and "Traceback" not in r.output
    assert not out.exists()


def test_cli_zero_exits_1_naming_the_unit_and_the_list(tmp_path):
    r = CliRunner().invoke(main, ["report", str(ZERO), "--zero", "-o", str(tmp_path / "z"), "--as-of", "2026-11-20",
                                  "--json"])
    assert r.exit_code == 1, r.output
    doc = json.loads(r.stdout)
    assert [b["unit"] for b in doc["blocked"]] == ["县住建局"]
    assert doc["blocked_file"].endswith(f"{BLOCKED_NAME}_2026-11-20.xlsx")
    assert "县住建局 无法出具零报告" in r.stderr


def test_an_unreadable_headcount_blocks_its_units_zero_report(tmp_path):
    # 2026-04-22: C06 (县教育局) 人数 两三个 may be a 集体访.
    reports = build_zero_reports(read_ledger(APRIL), tmp_path / "z", as_of=dt.date(2026, 4, 22))
    blocked = {b.unit: b.reasons for b in reports.blocked}
    assert "县教育局" in blocked and "人数「两三个」无法识别" in blocked["县教育局"][-1]


@pytest.mark.parametrize("words", BEIJING_PROVINCE_WORDS)
def test_every_way_of_writing_beijing_or_the_province_is_recognised(words):
    frame = pd.DataFrame({"summary": [f"反映征地补偿问题，曾{words}上访"], "notes": [None], "nature": ["初信初访"],
                          "headcount": [1], "risk_level": ["低"]})
    assert notable(frame).tolist() == ["进京赴省访"]
