"""Summary figures, the report workbook and zero reports, against hand-computed fixtures
(tests/data/summary, made by make_summary.py; the expected figures are worked out there)."""
from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import zipfile

import openpyxl
import pytest
from click.testing import CliRunner

from conftest import DATA
from xfsheets.cli import main
from xfsheets.reader import read_ledger
from xfsheets.report import build_report
from xfsheets.summary import compute_summary
from xfsheets.zero_report import build_zero_reports

S = DATA / "summary"
PERIOD = dict(date_from=dt.date(2026, 4, 1), date_to=dt.date(2026, 4, 30), as_of=dt.date(2026, 7, 15))


@pytest.fixture(scope="module")
def summary():
    return compute_summary(read_ledger(S / "rates.xlsx"), **PERIOD)


def test_totals_match_the_hand_count(summary):
    assert summary.totals == {"new": 6, "people": 11, "closed": 0, "open": 3, "overdue": 3, "collective": 1,
                              "closed_all": 3, "skip_level": 0, "ended": 0, "people_at_least": False,
                              "people_unknown": 0, "undated": 0}


def test_rates_with_numerator_and_denominator(summary):
    got = {r.name: (r.numerator, r.denominator) for r in summary.rates}
    # 按期办结率 counts the 办理 stage only: A5 (never routed, 登记交办 stage) is not in it
    assert got == {"及时受理率": (4, 6), "按期办结率": (2, 5), "化解率": (2, 5), "参评率": (2, 3), "满意率": (2, 2)}
    timely = summary.rates[0]
    assert timely.text == "66.7%"


def test_breakdowns(summary):
    units = summary.by_unit.set_index("责任单位")
    assert units.loc["县人社局", "受理件数"] == 3 and units.loc["县人社局", "超期件数"] == 1
    assert units.loc["城关镇", "受理件数"] == 2
    assert units["排名"].isna().all()  # every unit below the 5-matter threshold: marked, not ranked
    assert (units["备注"] == "少于5件，不排名").all()
    cats = summary.by_category.set_index("问题类别")
    assert cats.loc["城乡建设", "件数"] == 3 and cats.loc["城乡建设", "人次"] == 8
    assert cats["占比"].sum() == pytest.approx(1.0)
    assert set(summary.by_channel["信访形式"]) == {"来访", "来信", "网上信访", "来电"}


def test_overdue_repeated_and_collective_lists(summary):
    assert set(summary.overdue["信访件编号"]) == {"A3", "A5", "A7"}
    assert summary.overdue.iloc[0]["信访件编号"] == "A5"  # most overdue first
    assert summary.overdue.set_index("信访件编号").loc["A5", "超期天数"] == 70
    assert sorted(summary.repeated["信访件编号"]) == ["A1", "A7"]
    assert summary.repeated["组号"].nunique() == 1
    assert summary.collective["信访件编号"].tolist() == ["A3"]


def test_paragraph_states_the_figures(summary):
    p = summary.paragraph
    assert "2026年4月1日至2026年4月30日" in p and "6件、11人次" in p and "超期3件" in p
    assert "及时受理率66.7%（4/6）" in p


def test_no_matters_and_no_rated_matters_show_a_dash(tmp_path):
    s = compute_summary(read_ledger(S / "empty.xlsx"), as_of=dt.date(2026, 7, 15))
    assert s.totals["new"] == 0
    assert all(r.value is None and r.text == "—" for r in s.rates)
    path = build_report(read_ledger(S / "empty.xlsx"), tmp_path / "空.xlsx", as_of=dt.date(2026, 7, 15))[0]
    ws = openpyxl.load_workbook(path)["总体情况"]
    rates = {row[0]: row[1] for row in ws.iter_rows(min_row=5, values_only=True) if row[0]}
    assert rates["及时受理率"] == "—" and rates["满意率"] == "—"


def test_report_workbook_reread_from_disk(tmp_path):
    path, _ = build_report(read_ledger(S / "rates.xlsx"), tmp_path / "月报.xlsx", **PERIOD)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["情况报告", "总体情况", "按责任单位", "按问题类别", "按信访形式", "按时间", "超期清单",
                             "重复信访", "集体访", "越级访", "办理终止事项", "包案领导", "说明"]
    head = {row[0]: row[1:4] for row in wb["总体情况"].iter_rows(min_row=5, values_only=True) if row[0]}
    assert head["按期办结率"] == (pytest.approx(2 / 5), 2, 5)
    assert head["新增信访事项（件）"][0] == 6
    assert wb["总体情况"]["B5"].value is not None and not str(wb["总体情况"]["B5"].value).startswith("=")
    overdue = list(wb["超期清单"].iter_rows(min_row=3, values_only=True))
    assert {r[0] for r in overdue} == {"A3", "A5", "A7"}
    defs = [r[0] for r in wb["说明"].iter_rows(min_row=3, values_only=True)]
    assert {"及时受理率", "按期办结率", "化解率", "参评率", "满意率"} <= set(defs)


def test_personal_data_masked_unless_asked(tmp_path):
    from xfsheets.privacy import find_personal_data

    masked, _ = build_report(read_ledger(S / "rates.xlsx"), tmp_path / "m.xlsx", **PERIOD)
    assert find_personal_data(masked) == []
    rep = openpyxl.load_workbook(masked)["重复信访"]
    assert rep["C3"].value == "450324********1234"
    full, _ = build_report(read_ledger(S / "rates.xlsx"), tmp_path / "f.xlsx", include_personal_data=True, **PERIOD)
    assert openpyxl.load_workbook(full)["重复信访"]["C3"].value == "450324199001011234"


def test_charts_exist_and_point_at_the_right_ranges(tmp_path):
    path, s = build_report(read_ledger(S / "rates.xlsx"), tmp_path / "c.xlsx", **PERIOD)
    with zipfile.ZipFile(path) as z:
        charts = sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        xml = {n: z.read(n).decode() for n in charts}
    assert len(charts) == 3
    refs = " ".join(xml.values())
    n_units = len(s.by_unit)
    # series title in row 2 (the header), values and categories from row 3 down to the last data row
    refs = refs.replace("'", "")  # a sheet name is quoted by some writers, not by others
    assert f"按责任单位!$B$3:$B${2 + n_units}" in refs and f"按责任单位!$A$3:$A${2 + n_units}" in refs
    assert "按责任单位!$B$2" in refs
    assert f"按问题类别!$B$3:$B${2 + len(s.by_category)}" in refs
    assert f"按时间!$B$3:$B${2 + len(s.trend)}" in refs
    kinds = [re.search(r"<(?:c:)?(lineChart|barChart|pieChart)>", x).group(1) for x in xml.values()]
    assert sorted(kinds) == ["barChart", "barChart", "lineChart"]


def test_report_page_is_the_document_a_chief_signs(tmp_path):
    path, s = build_report(read_ledger(S / "rates.xlsx"), tmp_path / "r.xlsx", reporter="王某", **PERIOD)
    ws = openpyxl.load_workbook(path)["情况报告"]
    cells = {c.coordinate: c.value for row in ws.iter_rows() for c in row if c.value is not None}
    texts = list(cells.values())
    assert texts[0] == "关于信访工作情况的报告"
    assert any("统计期间：2026年4月1日至2026年4月30日" in str(t) for t in texts)
    assert any(str(t).strip() == s.paragraph for t in texts)
    rows = {row[0]: row[1:4] for row in ws.iter_rows(values_only=True) if row[0]}
    assert rows["按期办结率"] == (pytest.approx(2 / 5), 2, 5)  # the rate with its numerator and denominator
    assert rows["新增信访事项（件）"][0] == 6
    assert {"填报单位（盖章）：", "负责人：", "填报人：", "联系电话：", "填报日期："} <= set(texts)
    assert "王某" in texts
    assert ws.page_setup.orientation == "portrait" and ws.page_setup.paperSize == 9
    # statistics sheets: A4, one page wide, header repeated, page numbers
    units = openpyxl.load_workbook(path)["按责任单位"]
    assert units.page_setup.fitToWidth in (None, 1) and units.page_setup.fitToHeight == 0  # 1 is the default
    assert units.sheet_properties.pageSetUpPr.fitToPage
    assert units.print_title_rows == "$2:$2" and "第 &P 页 共 &N 页" in units.oddFooter.center.text


def test_report_lists_file_names_not_folders(tmp_path):
    path, s = build_report(read_ledger(S / "rates.xlsx"), tmp_path / "r.xlsx", **PERIOD)
    assert all("/" in f or "\\" in f for f in s.overdue["来源文件"])  # the summary keeps the path...
    shown = {r[10] for r in openpyxl.load_workbook(path)["超期清单"].iter_rows(min_row=3, values_only=True)}
    assert shown == {"rates.xlsx"}  # ...the report shows the name only


def test_tied_ranks_are_marked_and_small_units_not_ranked():
    import pandas as pd

    from xfsheets.report import _ranks

    units = pd.DataFrame({"责任单位": list("ABCDE"), "排名": pd.array([1, 1, 3, None, 4], dtype="Int64")})
    assert _ranks(units)["排名"].tolist() == ["并列1", "并列1", 3, None, 4]


@pytest.mark.soffice
def test_report_renders_to_pdf(tmp_path, soffice):
    path, _ = build_report(read_ledger(S / "rates.xlsx"), tmp_path / "月报.xlsx", **PERIOD)
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(path)], check=True, capture_output=True, timeout=180)
    pdf = tmp_path / "月报.pdf"
    assert pdf.exists() and pdf.stat().st_size > 5000
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "信访工作情况的报告" in text and "信访工作情况统计" in text and "按期办结率" in text


# --- zero report ------------------------------------------------------------------------

def test_zero_report_for_a_quiet_unit_and_a_list_for_a_busy_one(tmp_path):
    reports = build_zero_reports(read_ledger(S / "zero.xlsx"), tmp_path, as_of=dt.date(2026, 11, 20),
                                 reporter="王某", signer="李某")
    by_unit = {r.unit: r for r in reports}
    quiet, busy = by_unit["县人社局"], by_unit["城关镇"]
    assert quiet.is_zero and quiet.path.name == "零报告_县人社局_2026-11-20.xlsx"
    text = [c for row in openpyxl.load_workbook(quiet.path).active.iter_rows(values_only=True) for c in row if c]
    assert "经排查，县人社局2026年11月20日无集体访、无越级访、无进京赴省访、无重大信访事项。" in text
    assert "王某" in text and "李某" in text and "2026年11月20日" in text
    assert not busy.is_zero and busy.events["case_id"].tolist() == ["Z1"]
    reasons = busy.events["报告事由"].iloc[0]
    assert "集体访" in reasons and "进京赴省访" in reasons


def test_zero_report_is_the_form_offices_file(tmp_path):
    reports = build_zero_reports(read_ledger(S / "zero.xlsx"), tmp_path, as_of=dt.date(2026, 11, 20),
                                 reporter="王某", signer="李某")
    for r in reports:
        ws = openpyxl.load_workbook(r.path).active
        rows = [[c for c in row if c is not None] for row in ws.iter_rows(values_only=True)]
        by_label = {row[0]: row[1:] for row in rows if row}
        assert by_label["报告单位"] == [r.unit]  # the label on the row it labels
        assert by_label["报告内容"][0].startswith("经排查" if r.is_zero else r.unit)
        assert by_label["负责人（签字）"] == ["李某", "填报人", "王某"]
        assert by_label["联系电话"] == ["报告日期", "2026年11月20日"]
        assert ["报告单位（盖章）"] in rows
        assert ws["A3"].border.left.style == "thin" and ws["B3"].font.size >= 14 and ws["A1"].font.size >= 20
        assert ws.page_setup.orientation == "portrait" and ws.page_setup.fitToHeight == 1


def test_cli_report_and_zero(tmp_path):
    out = tmp_path / "月报.xlsx"
    r = CliRunner().invoke(main, ["report", str(S / "rates.xlsx"), "-o", str(out), "--from", "2026-04-01",
                                  "--to", "2026-04-30", "--as-of", "2026-07-15", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["totals"]["new"] == 6 and out.exists()
    assert {x["name"]: (x["numerator"], x["denominator"]) for x in doc["rates"]}["化解率"] == (2, 5)
    z = CliRunner().invoke(main, ["report", str(S / "zero.xlsx"), "--zero", "-o", str(tmp_path / "zero"),
                                  "--as-of", "2026-11-20"])
    assert z.exit_code == 0 and "城关镇 有 1 件需报告的事项" in z.output
    assert sorted(p.name for p in (tmp_path / "zero").iterdir()) == ["信访情况报告_城关镇_2026-11-20.xlsx",
                                                                     "零报告_县人社局_2026-11-20.xlsx"]


def test_cli_report_bad_period_is_exit_2(tmp_path):
    r = CliRunner().invoke(main, ["report", str(S / "rates.xlsx"), "-o", str(tmp_path / "x.xlsx"),
                                  "--from", "2026-05-01", "--to", "2026-04-01"])
    assert r.exit_code == 2 and "晚于" in r.stderr


def test_units_rank_by_competition_ranking_and_unrankable_units_say_why():
    import pandas as pd

    from xfsheets.policy import resolve
    from xfsheets.summary import _by_unit

    # five units: A and B tie at 50 %, C below them, D has nothing due yet, E is small
    rows = []
    for unit, due, on_time, n in (("A", 4, 2, 6), ("B", 4, 2, 6), ("C", 4, 1, 6), ("D", 0, 0, 6), ("E", 2, 2, 2)):
        for i in range(n):
            rows.append({"unit": unit, "flag": "closed_on_time" if i < on_time else "overdue" if i < due else "on_track",
                         "status": "办理中", "due": i < due})
    period = pd.DataFrame(rows)
    closed = period["flag"] == "closed_on_time"
    g = _by_unit(period, closed, closed, period["flag"] == "overdue", pd.Series(True, index=period.index),
                 period["due"], 5, resolve(None)).set_index("责任单位")
    assert g.loc[["A", "B", "C"], "排名"].tolist() == [1, 1, 3]
    assert pd.isna(g.loc["D", "排名"]) and g.loc["D", "备注"] == "暂无应办结事项，不排名"
    assert pd.isna(g.loc["E", "排名"]) and g.loc["E", "备注"] == "少于5件，不排名"
