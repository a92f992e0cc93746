"""交办单 / 督办单 generated from the templates, re-opened from disk."""
from __future__ import annotations

import datetime as dt
import json
import subprocess

import openpyxl
import pytest
from click.testing import CliRunner

from conftest import DATA
from xfsheets.cli import main
from xfsheets.errors import ConfigError
from xfsheets.reader import read_ledger
from xfsheets.slips import generate_slips
from xfsheets.writer import safe_filename

LEDGER = DATA / "slips" / "ledger.xlsx"
AS_OF = dt.date(2026, 11, 25)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    out = tmp_path_factory.mktemp("slips")
    return out, generate_slips(read_ledger(LEDGER), out, as_of=AS_OF, signer="王局长", contact="张某 0773-1234567",
                               issuing_unit="XX县信访局")


def test_one_workbook_per_unit_even_when_names_clash(made):
    out, result = made
    names = sorted(p.name for p in result.files)
    assert names == ["交办单_县人社局.xlsx", "交办单_城关镇_河西片区.xlsx", "交办单_城关镇_河西片区_2.xlsx"]
    assert result.slips == 4


def test_sheets_placeholders_and_listing(made):
    out, result = made
    wb = openpyxl.load_workbook(out / "交办单_县人社局.xlsx")
    assert wb.sheetnames == ["清单", "S-002", "S-001"]  # in slip-number order (S-002 was assigned first)
    for ws in wb.worksheets[1:]:
        text = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
        assert not any("{{" in t for t in text), ws.title
        assert "信访事项交办单" in text and "县人社局" in text and "王局长" in " ".join(text)
    s1 = wb["S-001"]
    assert s1["B5"].value == "S-001" and s1["D5"].value == "2026年10月2日"
    assert s1["D4"].value == "2026年12月8日"  # 10-09 + 60日
    listing = list(wb["清单"].iter_rows(min_row=3, values_only=True))
    assert [(r[1], r[2]) for r in listing] == [("X信交〔2026〕1号", "S-002"), ("X信交〔2026〕3号", "S-001")]
    link = wb["清单"]["J3"].hyperlink
    assert (link.location or link.target).endswith("'S-002'!A1")


def test_page_setup_merges_and_borders_survive(made):
    out, _ = made
    tpl = openpyxl.load_workbook(DATA.parent.parent / "xlsx_templates" / "交办单.xlsx").worksheets[0]
    ws = openpyxl.load_workbook(out / "交办单_县人社局.xlsx")["S-002"]
    assert ws.page_setup.paperSize == tpl.page_setup.paperSize == 9 and ws.page_setup.orientation == "portrait"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 1
    assert ws.print_area.split("!")[1] == tpl.print_area.split("!")[1] and ws.print_area.startswith("'S-002'!")
    assert {str(r) for r in ws.merged_cells.ranges} == {str(r) for r in tpl.merged_cells.ranges}
    assert ws["A3"].border.left.style == "thin"
    assert ws.page_margins.left == tpl.page_margins.left


def test_long_text_wraps_with_a_taller_row(made):
    out, _ = made
    ws = openpyxl.load_workbook(out / "交办单_县人社局.xlsx")["S-002"]
    tpl = openpyxl.load_workbook(DATA.parent.parent / "xlsx_templates" / "交办单.xlsx").worksheets[0]
    assert ws["B9"].alignment.wrap_text
    assert ws.row_dimensions[9].height > tpl.row_dimensions[9].height


def test_matters_that_cannot_get_a_slip_are_listed(made):
    out, result = made
    reasons = {s.case_id: s.reason for s in result.skipped}
    assert set(reasons) == {"S-005", "S-006", "S-008"}
    assert "缺少责任单位" in reasons["S-005"] and "缺少反映问题" in reasons["S-006"]
    assert "2027年放假安排尚未收录" in reasons["S-008"]  # the remedy is said once per run, not per matter
    rows = list(openpyxl.load_workbook(result.skipped_file).active.iter_rows(min_row=2, values_only=True))
    assert {r[0] for r in rows} == {"S-005", "S-006", "S-008"}


def test_numbers_are_stable_and_sequential(tmp_path):
    a = generate_slips(read_ledger(LEDGER), tmp_path / "a", as_of=AS_OF)
    b = generate_slips(read_ledger(LEDGER), tmp_path / "b", as_of=AS_OF)

    def numbers(result):
        return sorted(r[1] for f in result.files
                      for r in openpyxl.load_workbook(f)["清单"].iter_rows(min_row=3, values_only=True))

    assert numbers(a) == numbers(b)
    # 2026 matters ordered by 交办日期: S-002 (08-04) S-007 (09-02) S-001 (10-03) S-003 (10-21) S-004 (10-23) ...
    assert numbers(a) == sorted(["X信交〔2026〕1号", "X信交〔2026〕3号", "X信交〔2026〕4号", "X信交〔2026〕5号"])


def test_overdue_only_makes_supervision_slips(tmp_path):
    result = generate_slips(read_ledger(LEDGER), tmp_path, as_of=AS_OF, overdue_only=True)
    assert result.kind == "督办单" and result.slips >= 1
    wb = openpyxl.load_workbook(tmp_path / "督办单_县人社局.xlsx")
    ws = wb["S-002"]
    text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    assert "信访事项督办单" in text and "X信督〔2026〕1号" in text and "X信交〔2026〕1号" in text
    assert "超期未办结" in text and "{{" not in text


def test_unknown_placeholder_in_a_users_template_is_named(tmp_path):
    tpl = tmp_path / "我的模板.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "{{case_id}} {{no_such_thing}}"
    wb.save(tpl)
    with pytest.raises(ConfigError, match=r"\{\{no_such_thing\}\}"):
        generate_slips(read_ledger(LEDGER), tmp_path / "o", as_of=AS_OF, template=tpl)


def test_safe_filename():
    assert safe_filename('a/b\\c:d*e?f"g<h>i|j') == "a_b_c_d_e_f_g_h_i_j"
    assert safe_filename("..隐藏") == "隐藏" and safe_filename("...") == "未命名单位"


def test_cli_exit_1_when_some_matters_got_no_slip(tmp_path):
    r = CliRunner().invoke(main, ["slips", str(LEDGER), "-o", str(tmp_path), "--as-of", "2026-11-25", "--json"])
    assert r.exit_code == 1, r.output
    doc = json.loads(r.stdout)
    assert doc["slips"] == 4 and len(doc["skipped"]) == 3 and "未生成" in r.stderr


@pytest.mark.soffice
def test_slip_workbook_prints_one_page_per_matter(made, tmp_path, soffice):
    out, _ = made
    src = out / "交办单_县人社局.xlsx"
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(src)], check=True, capture_output=True, timeout=180)
    pdf = tmp_path / "交办单_县人社局.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert pages == 3  # 清单 + one page per matter
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "信访事项交办单" in text and "拖欠工资" in text


def test_this_weeks_or_one_matters_slips_dated_by_their_assignment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("XFSHEETS_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    (tmp_path / "cfg" / "xfsheets").mkdir(parents=True)  # the clerk's own settings file
    (tmp_path / "cfg" / "xfsheets" / "xfsheets.toml").write_text('[slips]\nissuing_unit = "某县信访局"\nsigner = "李局长"\n', encoding="utf-8")
    ledger = read_ledger(LEDGER)
    frame = ledger.frame
    assigned = frame.dropna(subset=["assigned_on"])
    first = assigned.sort_values("assigned_on").iloc[0]
    day = first["assigned_on"].date()
    r = CliRunner().invoke(main, ["slips", str(LEDGER), "-o", str(tmp_path / "周"), "--as-of", AS_OF.isoformat(),
                                  "--from", day.isoformat(), "--to", day.isoformat(), "--json"])
    doc = json.loads(r.stdout)
    expected = {c for c, d in zip(frame["case_id"], frame["assigned_on"]) if d == first["assigned_on"]}
    made = {row[2] for f in doc["files"] for row in openpyxl.load_workbook(f)["清单"].iter_rows(min_row=3, values_only=True)}
    assert made and made <= expected and doc["slips"] == len(made)
    ws = openpyxl.load_workbook(doc["files"][0]).worksheets[1]
    text = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert f"{day.year}年{day.month}月{day.day}日" in text  # dated by its 交办日期, not --as-of
    assert "某县信访局" in text and "签发：李局长" in text  # from the settings file

    r = CliRunner().invoke(main, ["slips", str(LEDGER), "-o", str(tmp_path / "一件"), "--as-of", AS_OF.isoformat(),
                                  "--case", "S-001", "--case", "没有这件", "--issuing-unit", "另一县信访局", "--json"])
    doc = json.loads(r.stdout)
    assert doc["slips"] == 1 and r.exit_code == 1
    skipped = {s["case_id"]: s for s in doc["skipped"]}
    assert skipped["没有这件"]["code"] == "case_not_found" and skipped["没有这件"]["row"] is None
    ws = openpyxl.load_workbook(doc["files"][0]).worksheets[1]
    assert "另一县信访局" in [c.value for row in ws.iter_rows() for c in row]


def test_skipped_matters_are_data(made):
    _, result = made
    s5 = next(s for s in result.to_dict()["skipped"] if s["case_id"] == "S-005")
    assert s5["code"] == "missing_unit" and s5["message"].startswith("缺少责任单位")
    assert s5["file"] and s5["sheet"] and isinstance(s5["row"], int)
