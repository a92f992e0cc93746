"""Every kind of output prints like an office document (issue 16).

Each output is made from the fixtures, rendered to PDF by LibreOffice (one soffice run for
all of them) and read back with pdftotext, page by page:
- a table sheet never spills a column onto a second page across: every page it prints holds
  its first and last header labels (the header row repeats on each page, so a page holding
  only right-hand columns would lack the first label);
- a form (情况报告 page, 零报告, 信访情况报告, 交办单, 督办单) is one page, its key cells on it;
- the text people must see is there (and a clerk's folders are not).
"""
from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from conftest import DATA
from xfsheets.cli import main
from xfsheets.reader import read_ledger
from xfsheets.report import build_report
from xfsheets.slips import generate_slips
from xfsheets.zero_report import build_zero_reports

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_pdf = pytest.mark.skipif(not SOFFICE or not shutil.which("pdftotext"),
                               reason="LibreOffice (soffice) and pdftotext are needed to render outputs to PDF")
PERIOD = dict(date_from=dt.date(2026, 4, 1), date_to=dt.date(2026, 4, 30), as_of=dt.date(2026, 7, 15))
SLIPS_AS_OF = dt.date(2026, 11, 25)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """{name: (xlsx path, [page text, ...])} for every kind of output."""
    out = tmp_path_factory.mktemp("print")
    made: dict[str, Path] = {}
    made["report"] = build_report(read_ledger(DATA / "summary" / "rates.xlsx"), out / "月报.xlsx", **PERIOD)[0]
    for r in build_zero_reports(read_ledger(DATA / "summary" / "zero.xlsx"), out / "zero",
                                as_of=dt.date(2026, 11, 20), reporter="王某", signer="李某"):
        made["zero" if r.is_zero else "events"] = r.path
    ledger = read_ledger(DATA / "slips" / "ledger.xlsx")
    slips = generate_slips(ledger, out / "slips", as_of=SLIPS_AS_OF, signer="王局长", contact="张某 0773-1234567",
                           issuing_unit="XX县信访局")
    made["assign"] = out / "slips" / "交办单_县人社局.xlsx"
    made["skipped"] = slips.skipped_file
    generate_slips(ledger, out / "supervise", as_of=SLIPS_AS_OF, overdue_only=True, issuing_unit="XX县信访局")
    made["supervise"] = out / "supervise" / "督办单_县人社局.xlsx"
    runner = CliRunner()
    runner.invoke(main, ["consolidate", str(DATA / "consolidate"), "-o", str(out / "汇总.xlsx")])
    made["consolidated"] = out / "汇总.xlsx"
    runner.invoke(main, ["check", str(DATA / "checks" / "defects.xlsx"), "-o", str(out / "检查.xlsx")])
    made["checked"] = out / "检查.xlsx"
    runner.invoke(main, ["deadlines", str(DATA / "slips" / "ledger.xlsx"), "--as-of", SLIPS_AS_OF.isoformat(),
                         "-o", str(out / "时限.xlsx")])
    made["deadlines"] = out / "时限.xlsx"
    pdfs = out / "pdf"
    files = {name: path for name, path in made.items() if path is not None and Path(path).exists()}
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{out}/lo", "--headless", "--convert-to", "pdf",
                    "--outdir", str(pdfs), *map(str, files.values())], check=True, capture_output=True, timeout=600)
    result = {}
    for name, path in files.items():
        pdf = pdfs / (Path(path).stem + ".pdf")
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        result[name] = (Path(path), [p for p in text.split("\f") if p.strip()])
    return result


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def label_on(page: str, label: str) -> bool:
    """A header label is on the page: whole on one line, or wrapped in its cell (its head on a
    line, the rest on one of the next two)."""
    label = compact(str(label))
    lines = [compact(line) for line in page.splitlines()]
    if any(label in line for line in lines):
        return True
    return any(label[:k] in lines[i] and any(label[k:] in nxt for nxt in lines[i + 1:i + 3])
               for k in range(1, len(label)) for i in range(len(lines)))


def table_headers(path: Path) -> dict[str, list[str]]:
    """Sheet -> its header labels, for the sheets xfsheets prints as tables (header row repeated)."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        rows = ws.print_title_rows
        if not rows:
            continue
        r = int(re.match(r"\$?(\d+)", rows).group(1))
        out[ws.title] = [c.value for c in ws[r] if c.value is not None]
    return out


def assert_no_spill(name: str, rendered) -> None:
    path, pages = rendered[name]
    headers = table_headers(path)
    assert headers, f"{name}: no sheet repeats its header row"
    for page in pages:
        holders = [s for s, labels in headers.items() if label_on(page, labels[0]) and label_on(page, labels[-1])]
        forms = ("填报单位（盖章）" in page)  # the report's 情况报告 page is a form, not a table
        assert holders or forms, f"{name}: a page without a whole header row (a column spilled across?):\n{page[:400]}"
    for sheet, labels in headers.items():
        assert any(all(label_on(p, x) for x in labels) for p in pages), f"{name}/{sheet}: header not on one page"


@pytest.mark.soffice
@needs_pdf
def test_every_output_was_made_and_rendered(rendered):
    assert {"report", "zero", "events", "assign", "supervise", "skipped", "consolidated"} <= set(rendered)
    assert all(pages for _, pages in rendered.values())


@pytest.mark.soffice
@needs_pdf
def test_report_first_page_is_the_signed_report(rendered):
    _, pages = rendered["report"]
    first = pages[0]
    for text in ("关于信访工作情况的报告", "2026年4月1日至2026年4月30日", "按期办结率", "40.0%", "填报单位（盖章）",
                 "负责人", "填报人", "联系电话", "填报日期", "第 1 页"):
        assert text in first, text
    assert "及时受理率66.7%（4/6）" in compact(first)  # the paragraph, whole, on the page


@pytest.mark.soffice
@needs_pdf
def test_report_tables_do_not_spill_and_show_file_names(rendered):
    assert_no_spill("report", rendered)
    _, pages = rendered["report"]
    every = "\n".join(pages)
    assert "rates.xlsx" in every and str(DATA) not in every and "/tests/data" not in every
    assert "并列" in every or "不排名" in every  # 按责任单位: ranks explained, not a bare column of 1s
    overdue = next(p for p in pages if "超期未办结事项" in p)
    assert "登记交办阶段" in overdue  # the 时限说明 wraps in its cell instead of running off


@pytest.mark.soffice
@needs_pdf
@pytest.mark.parametrize("name, title, texts", [
    ("zero", "信访工作零报告", ["报告单位", "县人社局", "无集体访、无越级访、无进京赴省访", "负责人（签字）", "李某",
                         "填报人", "王某", "联系电话", "报告日期", "报告单位（盖章）"]),
    ("events", "信访情况报告", ["城关镇", "Z1", "集体访", "负责人（签字）", "报告单位（盖章）"]),
])
def test_zero_report_and_events_report_are_one_page_forms(rendered, name, title, texts):
    _, pages = rendered[name]
    assert len(pages) == 1
    assert title in pages[0] and all(t in pages[0] for t in texts)


@pytest.mark.soffice
@needs_pdf
def test_slips_print_one_page_each_with_the_seal_place(rendered):
    path, pages = rendered["assign"]
    slips = [p for p in pages if "信访事项交办单" in p]
    assert len(slips) == len(openpyxl.load_workbook(path).sheetnames) - 1  # one page per matter, after 清单
    for page in slips:
        assert "XX县信访局" in page and "（盖章）" in page and "签发：王局长" in page
        assert re.search(r"交办单位\s+\S", page)  # filled
    _, pages = rendered["supervise"]
    slips = [p for p in pages if "信访事项督办单" in p]
    assert slips and all("（盖章）" in p and "督办要求" in p and "超期未办结" in p for p in slips)


def test_slip_template_uses_one_size_for_labels_and_values():
    ws = openpyxl.load_workbook(DATA.parent.parent / "xlsx_templates" / "交办单.xlsx").worksheets[0]
    sizes = {ws[ref].font.sz for ref in ("A3", "B3", "C3", "D3", "B9", "A14", "A15")}
    assert sizes == {14}
    assert ws["B3"].value == "{{assigning_unit}}" and ws["D15"].value == "（盖章）"


@pytest.mark.soffice
@needs_pdf
def test_tables_of_slips_and_consolidation_do_not_spill(rendered):
    for name in ("skipped", "consolidated"):
        assert_no_spill(name, rendered)
    _, pages = rendered["skipped"]
    assert "ledger.xlsx" in pages[0] and str(DATA) not in "".join(pages)
    _, pages = rendered["consolidated"]
    assert len(pages) <= 12  # 84 rows and the import sheets: landscape, not 24 portrait pages of 4 columns


@pytest.mark.soffice
@needs_pdf
def test_added_result_sheets_of_the_annotated_copies_print(rendered, tmp_path):
    """The 检查结果 sheet added to a user's ledger copy gets the page rule (A4, one page wide,
    header repeated); the user's own sheets keep their own settings, so the added sheet is
    rendered alone (the clerk's sheets hidden) and judged page by page."""
    path, _ = rendered["checked"]
    wb = openpyxl.load_workbook(path)
    added = wb["检查结果"]
    assert added.print_title_rows and added.page_setup.paperSize in (9, "9")
    assert added.sheet_properties.pageSetUpPr.fitToPage and added.page_setup.fitToWidth in (1, "1", None)
    for ws in wb.worksheets:
        ws.sheet_state = "visible" if ws is added else "hidden"
    wb.active = wb.worksheets.index(added)
    alone = tmp_path / "检查结果_单独.xlsx"
    wb.save(alone)
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(alone)], check=True, capture_output=True, timeout=300)
    text = subprocess.run(["pdftotext", "-layout", str(alone.with_suffix(".pdf")), "-"], capture_output=True,
                          text=True, check=True).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    labels = [c.value for c in added[1] if c.value is not None]
    assert pages and all(label_on(p, labels[0]) and label_on(p, labels[-1]) for p in pages), pages[0][:400]
    assert "bad_date" not in text and "日期" in text  # people read the problem's Chinese name


def test_check_terminal_output_fits_80_columns():
    from rich.cells import cell_len

    r = CliRunner().invoke(main, ["check", str(DATA / "checks" / "defects.xlsx")], terminal_width=80)
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert len(lines) > 10 and max(cell_len(line) for line in lines) <= 80
    assert "defects.xlsx" in lines[0] and sum("defects.xlsx" in line for line in lines) == 1  # grouped by file
    assert "身份证号有误" in r.output and "bad_id_number" not in r.output  # Chinese names, codes stay in --json


@pytest.mark.parametrize("kind, width", [("table", 150), ("table", 60), ("form", 90), ("document", 90)])
def test_one_page_rule_written_alike_by_every_writer(tmp_path, kind, width):
    """writer.PAGE_SETUP reaches the sheet the same way through openpyxl, xlsxwriter,
    rustpy-xlsxwriter and the XML the package editor writes."""
    import zipfile
    import xml.etree.ElementTree as ET

    import pandas as pd
    import xlsxwriter

    from xfsheets.writer import (page_layout, page_setup_openpyxl, page_setup_rustpy, page_setup_xlsxwriter,
                                 page_setup_xml)

    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}

    def setup_of(xml: str) -> dict[str, str]:
        root = ET.fromstring(xml)
        page = root.find(".//m:pageSetup", ns) if root.tag.endswith("worksheet") else root
        footer = root.find(".//m:oddFooter", ns) if root.tag.endswith("worksheet") else None
        return {"orientation": page.get("orientation", "portrait"), "paperSize": page.get("paperSize"),
                "fitToWidth": page.get("fitToWidth", "1"), "fitToHeight": page.get("fitToHeight", "1"),
                "footer": footer.text if footer is not None else None}

    rule = page_layout(kind, width)
    wanted = {"orientation": "landscape" if rule["landscape"] else "portrait", "paperSize": "9",
              "fitToWidth": "1", "fitToHeight": str(rule["fit_height"]), "footer": rule["footer"] or None}
    assert setup_of(page_setup_xml(kind, width)["pageSetup"])["orientation"] == wanted["orientation"]

    wb = openpyxl.Workbook()
    ws = wb.active
    for i in range(int(width // 10)):
        ws.column_dimensions[openpyxl.utils.get_column_letter(i + 1)].width = 10
    ws["A1"] = "x"
    page_setup_openpyxl(ws, kind)
    wb.save(tmp_path / "o.xlsx")
    xw = xlsxwriter.Workbook(str(tmp_path / "x.xlsx"))
    sheet = xw.add_worksheet()
    sheet.write_string(0, 0, "x")
    page_setup_xlsxwriter(sheet, kind, 0, width)
    xw.close()
    import rustpy_xlsxwriter as rx

    rx.write_worksheets([("表", pd.DataFrame({"a": ["x"]}))], str(tmp_path / "r.xlsx"),
                        page_setup={"表": page_setup_rustpy(kind, 0, width)})
    for name in ("o.xlsx", "x.xlsx", "r.xlsx"):
        with zipfile.ZipFile(tmp_path / name) as z:
            got = setup_of(z.read("xl/worksheets/sheet1.xml").decode())
        assert got == wanted, name
