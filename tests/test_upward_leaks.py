"""Nothing personal goes upward: report, zero reports / 情况报告, and the mail (.eml).

A ledger carries identity numbers and phones in every form people type (spaces, dashes,
dots, full-width digits, +86/0086, 15-digit IDs, landlines with area codes) in free text
(反映问题, 办理结果, 备注), in unit and place names (so they become sheet cells, sheet
names, chart categories, the 情况综述 paragraph), and in the file names. Every output is
unzipped and every part searched with digits normalised (separators stripped, full-width
mapped to ASCII): no planted value may be found in any form.
"""
from __future__ import annotations

import datetime as dt
import email
import html
import re
import zipfile
from email import policy
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from xfsheets.cli import main
from xfsheets.sample import sample_rows, write_sample_ledger

# (label, as typed in the ledger, where it is planted)
PLANTED: list[tuple[str, str, str]] = [
    ("id18", "450324199001011234", "summary"),
    ("id18_x", "11010519491231002x", "reply"),
    ("id18_spaces", "450321 19850315 4321", "notes"),
    ("id18_dashes", "440106-19720808-5671", "summary"),
    ("id18_dots", "450305.19660606.2222", "reply"),
    ("id18_fullwidth", "４５０３０５１９８８０１０１１１１Ｘ", "summary"),
    ("id15", "450324900101123", "reply"),
    ("id15_spaces", "440106 720808 561", "summary"),
    ("mobile", "13812345678", "summary"),
    ("mobile_+86", "+86 139 1234 5670", "reply"),
    ("mobile_0086", "0086-13712345671", "notes"),
    ("mobile_dots", "150.1234.5672", "summary"),
    ("mobile_dashes", "186-1234-5673", "reply"),
    ("mobile_fullwidth", "１５８１２３４５６７４", "notes"),
    ("mobile_+86_run", "+8613612345675", "unit"),
    ("mobile_spaces", "133 1234 5676", "place"),
    ("mobile_fullwidth_dashes", "１３５－１２３４－５６７７", "unit"),
    ("landline", "0771-2345678", "place"),
    ("landline_paren", "(010)87654321", "summary"),
    ("landline_space", "0771 3456789", "notes"),
    ("landline_fullwidth", "０７７１－４５６７８９０", "summary"),
    ("id18_in_unit", "450324197705051237", "unit"),
    ("ledger_file_name", "450324198001011236", "ledger file name"),
    ("report_file_name", "13912340000", "report file name"),
]

FORMULAS = ['=HYPERLINK("http://x","点我")', "=cmd|' /C calc'!A0", "+1+1", "-1+1", "@SUM(A1)"]

_FULL = {ord(c): ord(a) for c, a in zip("０１２３４５６７８９ＸｘＸ", "0123456789XXX")}
_SEP = re.compile(r"[\s\-.．－—–()（）+]")


def norm(text: str) -> str:
    """Digits as a search sees them: full-width to ASCII, separators gone, x as X."""
    return _SEP.sub("", text.translate(_FULL)).replace("x", "X")


def needles(typed: str) -> list[str]:
    """The digit strings that would give the value away (a landline's own number too)."""
    digits = norm(typed)
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    out = [digits]
    if digits.startswith("0") and len(digits) in (11, 12):  # landline: area code + number
        area = 3 if digits[1] in "12" else 4
        out.append(digits[area:])
    return out


def _row(base: list, *, unit: str, place: str, summary: str, reply: str | None, notes: str | None,
         received: dt.date, headcount: int = 6) -> list:
    row = list(base)
    row[2] = received
    row[8] = headcount
    row[9] = place
    row[11] = "集体访"
    row[12] = summary
    row[14] = unit
    row[17] = received + dt.timedelta(days=1)
    row[18] = received + dt.timedelta(days=2)
    row[19] = received + dt.timedelta(days=3)  # due soon after: overdue on the as-of date
    row[20] = None
    row[21] = "办理中"
    row[22] = None
    row[23] = reply
    row[25] = notes
    return row


def build_ledger(folder: Path) -> Path:
    """A small ledger with every planted value and every formula-looking text in it."""
    rows = sample_rows(40, seed=11, start=dt.date(2026, 10, 1), end=dt.date(2026, 11, 10),
                       as_of=dt.date(2026, 11, 25))
    units = [f"县住建局{PLANTED[14][1]}", f"县教育局（经办{PLANTED[16][1]}）", f"县人社局{PLANTED[21][1]}"]
    places = [f"城关镇{PLANTED[15][1]}", f"河西镇{PLANTED[17][1]}", FORMULAS[0]]
    values = {k: [t for _, t, p in PLANTED if p == k] for k in ("summary", "reply", "notes")}
    n = max(len(v) for v in values.values())
    planted = []
    for i in range(n):
        pick = lambda k: values[k][i] if i < len(values[k]) else None  # noqa: E731
        summary = f"反映拖欠工资问题，联系电话{pick('summary')}，要求进京上访" if pick("summary") else "反映进京问题"
        reply = f"已电话回复{pick('reply')}" if pick("reply") else None
        notes = f"备注：身份证{pick('notes')}" if pick("notes") else None
        planted.append(_row(rows[i], unit=units[i % len(units)], place=places[i % len(places)], summary=summary,
                            reply=reply, notes=notes, received=dt.date(2026, 11, 20 + i % 3)))
    for j, formula in enumerate(FORMULAS):
        planted.append(_row(rows[n + j], unit=units[j % len(units)] if j else formula, place=places[j % 2],
                            summary=formula, reply=formula, notes=formula,
                            received=dt.date(2026, 11, 21)))
    data = planted + rows[n + len(FORMULAS):]
    path = folder / f"台账_{PLANTED[22][1]}.xlsx"
    write_sample_ledger(path, data=data)
    import openpyxl

    wb = openpyxl.load_workbook(path)  # the 风险等级 column a 零报告 needs to attest anything (issue 21 item 10)
    ws = wb.active
    last = ws.max_column + 1
    ws.cell(3, last, "风险等级")
    for r in range(4, 4 + len(data)):
        ws.cell(r, last, "低")
    wb.save(path)
    return path


def xlsx_texts(path: Path, label: str) -> dict[str, str]:
    """Every part of a package as text, keyed ``label!part`` (the label is not searched)."""
    with zipfile.ZipFile(path) as zf:
        return {f"{label}!{n}": html.unescape(zf.read(n).decode("utf-8", errors="replace"))
                for n in zf.namelist()}


def eml_texts(path: Path, folder: Path) -> dict[str, str]:
    msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    out = {f"eml header {k}": str(v) for k, v in msg.items()}
    for part in msg.walk():
        if part.is_multipart():
            continue
        name = part.get_filename()
        if name:
            out["eml attachment filename"] = name
            saved = folder / "attachment.xlsx"
            saved.write_bytes(part.get_content())
            out.update(xlsx_texts(saved, "eml attachment"))
        else:
            out[f"eml body {part.get_content_type()}"] = part.get_content()
    return out


def leaks(texts: dict[str, str]) -> dict[str, list[str]]:
    """Planted label -> the places where one of its forms was found."""
    found: dict[str, list[str]] = {}
    normalised = {k: norm(v) for k, v in texts.items()}
    for label, typed, _ in PLANTED:
        for needle in needles(typed):
            for where, text in normalised.items():
                if needle in text:
                    found.setdefault(label, []).append(where)
    return found


def _invoke(args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Run report, report --zero and mail --eml once; every output's parts as text, by kind."""
    folder = tmp_path_factory.mktemp("upward")
    ledger = build_ledger(folder)
    common = ["--from", "2026-10-01", "--to", "2026-11-25", "--as-of", "2026-11-25"]
    report = folder / f"报表_{PLANTED[23][1]}.xlsx"
    r1 = _invoke(["report", ledger, "-o", report, *common])
    zero_dir = folder / "零报告"
    r2 = _invoke(["report", ledger, "-o", zero_dir, "--zero", *common])
    eml = folder / "报送.eml"
    r3 = _invoke(["mail", report, "--eml", eml]) if report.exists() else None
    kinds: dict[str, dict[str, str]] = {"report": {}, "zero": {}, "mail": {}}
    if report.exists():  # its file name is the one the clerk chose with -o: not searched
        kinds["report"] = xlsx_texts(report, "report")
    for i, path in enumerate(sorted(zero_dir.glob("*.xlsx")) if zero_dir.exists() else []):
        kinds["zero"].update(xlsx_texts(path, f"zero report {i}"))
        kinds["zero"][f"zero report {i} file name"] = path.name  # names xfsheets chose
    if eml.exists():
        kinds["mail"] = eml_texts(eml, folder)
    return {"ledger": ledger, "report": report, "zero_dir": zero_dir, "eml": eml, "kinds": kinds,
            "results": (r1, r2, r3)}


def test_the_ledger_really_holds_every_planted_value(outputs):
    ledger = outputs["ledger"]
    texts = xlsx_texts(ledger, "ledger")
    texts["file name"] = ledger.name
    assert set(leaks(texts)) == {label for label, _, _ in PLANTED if label != "report_file_name"}


def test_every_command_ran(outputs):
    for result in outputs["results"]:
        assert result is not None and result.exit_code == 0, result and result.output
    assert outputs["report"].exists() and outputs["eml"].exists()
    names = [p.name for p in outputs["zero_dir"].glob("*.xlsx")]
    assert any(n.startswith("信访情况报告") for n in names), names  # the planted rows are events


@pytest.mark.parametrize("kind", ["report", "zero", "mail"])
def test_no_planted_value_reaches_an_upward_output(outputs, kind):
    texts = outputs["kinds"][kind]
    assert texts, f"no {kind} output"
    found = leaks(texts)
    print(f"\nLEAKS {kind}: {len(found)} of {len(PLANTED)} planted: {sorted(found)}")
    assert found == {}


def test_masked_outputs_still_say_what_matters(outputs):
    """Masking hides digits, not the content: units, places and case texts are still there."""
    report = outputs["kinds"]["report"]
    every = "".join(report.values())
    assert "县住建局" in every and "城关镇" in every and "拖欠工资" in every
    assert "138****5678" in every  # the masked form, region/last digits kept
    zero = "".join(outputs["kinds"]["zero"].values())
    assert "拖欠工资" in zero and "450324********1234" in zero


@pytest.mark.parametrize("kind", ["report", "zero", "mail"])
def test_formula_looking_text_never_becomes_a_formula(outputs, kind):
    texts = outputs["kinds"][kind]
    sheets = {k: v for k, v in texts.items() if "xl/worksheets/sheet" in k}
    assert sheets
    for where, xml in sheets.items():
        assert not re.search(r"<(?:\w+:)?f[ >]", xml), where
    every = "".join(sheets.values()) + "".join(v for k, v in texts.items() if k.endswith("sharedStrings.xml"))
    assert "cmd|' /C calc'!A0" in every  # kept as text, not dropped


def _formula_cells(path: Path) -> list[str]:
    wb = openpyxl.load_workbook(path)
    return [f"{ws.title}!{c.coordinate}" for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if c.data_type == "f"]


def test_no_formula_cells_when_read_back(outputs):
    assert _formula_cells(outputs["report"]) == []
    for path in outputs["zero_dir"].glob("*.xlsx"):
        assert _formula_cells(path) == []


def test_the_scan_refuses_what_masking_missed(outputs, tmp_path, monkeypatch):
    """A gap in the masking (simulated: the masking functions do nothing) is caught by the scan:
    exit 1, the place named (part, sheet, cell), no file written, no mail made."""
    monkeypatch.setattr("xfsheets.privacy.mask_book", lambda wb, **kw: 0)
    monkeypatch.setattr("xfsheets.privacy.mask_frame", lambda frame, **kw: frame)
    monkeypatch.setattr("xfsheets.privacy.mask_text", lambda value: value)
    report = tmp_path / "报表.xlsx"
    result = _invoke(["report", outputs["ledger"], "-o", report, "--from", "2026-10-01", "--to", "2026-11-25",
                      "--as-of", "2026-11-25"])
    assert result.exit_code == 1, result.output
    assert "未脱敏的个人信息" in result.output and "--include-personal-data" in result.output
    assert re.search(r"「xl/(worksheets/sheet\d+|sharedStrings)\.xml」，工作表「[^」]+」 [A-Z]+\d+ 单元格", result.output)
    assert "Traceback" not in result.output
    assert not report.exists() and list(tmp_path.iterdir()) == []

    eml = tmp_path / "报送.eml"
    unmasked = tmp_path / "原样.xlsx"
    assert _invoke(["report", outputs["ledger"], "-o", unmasked, "--from", "2026-10-01", "--to", "2026-11-25",
                    "--as-of", "2026-11-25", "--include-personal-data"]).exit_code == 0
    result = _invoke(["mail", unmasked, "--eml", eml])
    assert result.exit_code == 1, result.output
    assert "附件" in result.output and "单元格" in result.output and not eml.exists()
    assert _invoke(["mail", unmasked, "--eml", eml, "--include-personal-data"]).exit_code == 0  # the only way out
