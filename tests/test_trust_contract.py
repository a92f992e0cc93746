"""The trust contract: every command over every hostile input (tests/hostile/).

For each (input, command): the exit code is 0, 1 or 2; no traceback reaches the user;
every input is byte-identical afterwards; no cell of any workbook written holds a formula
(xfsheets writes none on purpose, so any formula came from user text); and nothing that
goes upward (report, zero reports, the mail) holds a planted ID number or phone in any
form. The inputs are made by tests/hostile/make_hostile.py.
"""
from __future__ import annotations

import email
import hashlib
import io
import re
import sys
import unicodedata
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from xfsheets.cli import main

HOSTILE = Path(__file__).resolve().parent / "hostile"
sys.path.insert(0, str(HOSTILE))
from make_hostile import PERSONAL  # noqa: E402

AS_OF = "2026-11-25"
LEDGERS = ["formula_text.xlsx", "personal_data.xlsx", "联系人13812345678台账.xlsx", "bad_unit_names.xlsx",
           "control_and_long_text.xlsx"]

# command name -> (argument builder, whether its output goes upward)
COMMANDS = {
    "inspect": (lambda L, o: ["inspect", L, "--json"], False),
    "check": (lambda L, o: ["check", L, "-o", o / "检查.xlsx", "--json"], False),
    "deadlines": (lambda L, o: ["deadlines", L, "-o", o / "时限.xlsx", "--json", "--as-of", AS_OF], False),
    "slips": (lambda L, o: ["slips", L, "-o", o / "交办单", "--as-of", AS_OF, "--json"], False),
    "supervise": (lambda L, o: ["slips", L, "-o", o / "督办单", "--overdue-only", "--as-of", AS_OF], False),
    "consolidate": (lambda L, o: ["consolidate", L, "-o", o / "汇总.xlsx", "--json"], False),
    "excel": (lambda L, o: ["excel", "install", L, "-o", o / "下拉.xlsx"], False),
    "excel-buttons": (lambda L, o: ["excel", "install", L, "--with-buttons", "-o", o / "按钮.xlsm"], False),
    "report": (lambda L, o: ["report", L, "-o", o / "月报.xlsx", "--as-of", AS_OF, "--from", "2026-01-01"], True),
    "zero": (lambda L, o: ["report", L, "--zero", "-o", o / "零报告", "--as-of", AS_OF, "--from", "2026-01-01",
                           "--to", AS_OF], True),
}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _digits(text: str) -> str:
    """Text with full-width forms folded and the separators people type removed."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s\-.()（）+]", "", text)


PLANTED = sorted({d for _, d in PERSONAL})


def leaks(text: str) -> list[str]:
    folded = _digits(text)
    return [d for d in PLANTED if d in folded or d.replace("X", "x") in folded]


def package_texts(data: bytes) -> dict[str, str]:
    """Every part of an OOXML package as text."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name).decode("utf-8", "replace") for name in zf.namelist()}


def formula_cells(data: bytes) -> list[str]:
    out = []
    for name, text in package_texts(data).items():
        if name.startswith("xl/worksheets/") and name.endswith(".xml"):
            out += [f"{name}: {m}" for m in re.findall(r"<(?:\w+:)?f[ >/][^<]{0,80}", text)]
    return out


def run(args: list) -> tuple[int, str, str, BaseException | None]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    exc = result.exception if not isinstance(result.exception, SystemExit) else None
    return result.exit_code, result.stdout, result.stderr, exc


@pytest.fixture(scope="module")
def inputs_before():
    return {p.name: digest(p) for p in HOSTILE.iterdir() if p.is_file() and p.suffix != ".py"}


LAYOUTS = Path(__file__).resolve().parent / "data" / "layouts"
LAYOUT_FILES = sorted(p.name for p in LAYOUTS.iterdir() if p.suffix != ".json")


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("ledger", LAYOUT_FILES)
def test_every_command_keeps_the_contract_on_every_real_layout(ledger, command, tmp_path):
    """Ledgers as counties keep them (tests/data/layouts): every command, not only the reader's."""
    before = digest(LAYOUTS / ledger)
    build, upward = COMMANDS[command]
    code, out, err, exc = run(build(LAYOUTS / ledger, tmp_path))
    assert exc is None, f"{command} on {ledger} raised {exc!r}"
    assert code in (0, 1, 2) and "Traceback" not in out + err, (code, err)
    if code == 2:
        assert err.strip().startswith("错误：") and "程序内部错误" not in err, err  # an internal error is a bug
    assert digest(LAYOUTS / ledger) == before
    for p in tmp_path.rglob("*"):
        if p.is_file() and p.suffix in (".xlsx", ".xlsm"):
            assert not formula_cells(p.read_bytes()), f"{p.name} holds formulas made of user text"
    assert not [p for p in tmp_path.rglob(".~xfsheets-*")]


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("ledger", LEDGERS)
def test_every_command_keeps_the_contract_on_every_hostile_ledger(ledger, command, tmp_path, inputs_before):
    build, upward = COMMANDS[command]
    code, out, err, exc = run(build(HOSTILE / ledger, tmp_path))
    assert exc is None, f"{command} on {ledger} raised {exc!r}"
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in out + err
    if code == 2:  # a Chinese message, not a stack; and never an internal error (that is a bug)
        assert err.strip().startswith("错误：") and "程序内部错误" not in err, err
    # every input byte-identical
    assert {p.name: digest(p) for p in HOSTILE.iterdir() if p.is_file() and p.suffix != ".py"} == inputs_before
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    for p in written:
        if p.suffix in (".xlsx", ".xlsm"):
            assert not formula_cells(p.read_bytes()), f"{p.name} holds formulas made of user text"
    assert not [p for p in tmp_path.rglob(".~xfsheets-*")], "a temporary file or folder was left behind"
    if upward:
        for p in written:
            for part, text in package_texts(p.read_bytes()).items():
                assert not leaks(text), f"{p.name} {part}: {leaks(text)}"
            assert not leaks(p.name), p.name
    if command == "consolidate" and code in (0, 1):
        import json

        doc = json.loads(out)
        assert doc["rows_in"] == doc["rows_out"] + sum(len(f.get("skipped") or []) if isinstance(f.get("skipped"), list)
                                                       else 0 for f in doc["files"]) or doc["rows_in"] == doc["rows_out"]


@pytest.mark.parametrize("ledger", ["formula_text.xlsx", "personal_data.xlsx", "联系人13812345678台账.xlsx"])
def test_the_mail_of_a_report_holds_no_formula_and_no_personal_data(ledger, tmp_path):
    report = tmp_path / "月报.xlsx"
    code, _, err, exc = run(["report", HOSTILE / ledger, "-o", report, "--as-of", AS_OF, "--from", "2026-01-01"])
    assert exc is None and code == 0, err
    eml = tmp_path / "报送.eml"
    code, _, err, exc = run(["mail", report, "--eml", eml, "--to", "a@example.gov.cn"])
    assert exc is None and code == 0, err
    msg = email.message_from_bytes(eml.read_bytes())
    texts = [str(v) for v in msg.values()]
    for part in msg.walk():
        if part.get_content_maintype() == "multipart":
            continue
        payload = part.get_payload(decode=True) or b""
        texts.append(str(part.get_filename() or ""))
        if payload[:2] == b"PK":
            assert not formula_cells(payload)
            texts += package_texts(payload).values()
        else:
            texts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    found = [leaks(t) for t in texts if leaks(t)]
    assert not found, found


# --- the output gate -------------------------------------------------------------------------

SAMPLE = Path(__file__).resolve().parents[1] / "xfsheets" / "samples" / "县信访局台账.xlsx"


@pytest.fixture
def ledger(tmp_path) -> Path:
    target = tmp_path / "台账.xlsx"
    target.write_bytes(SAMPLE.read_bytes())
    return target


@pytest.mark.parametrize("args", [
    lambda L: ["check", L, "-o", L],
    lambda L: ["deadlines", L, "-o", L, "--as-of", AS_OF],
    lambda L: ["report", L, "-o", L, "--as-of", AS_OF],
    lambda L: ["check", L, "-o", L.with_name("台账.XLSX")],  # Windows compares names without case
    lambda L: ["check", L, "-o", L.parent / "." / L.name],
    lambda L: ["consolidate", L, L.parent / "其他.xlsx", "-o", L],
    lambda L: ["consolidate", L.parent, "-o", L],
    lambda L: ["mail", L, "--eml", L],
], ids=["check", "deadlines", "report", "case", "dot", "consolidate", "consolidate-folder", "mail"])
def test_no_command_writes_over_its_input(ledger, args):
    (ledger.parent / "其他.xlsx").write_bytes(SAMPLE.read_bytes())
    before = digest(ledger)
    code, out, err, exc = run(args(ledger))
    assert exc is None and code == 2, (code, err)
    assert digest(ledger) == before
    assert "错误：" in err


def test_no_command_replaces_a_file_it_did_not_write(ledger, tmp_path):
    mine = tmp_path / "我的表.xlsx"
    mine.write_bytes(SAMPLE.read_bytes())
    before = digest(mine)
    for args in (["check", ledger, "-o", mine], ["report", ledger, "-o", mine, "--as-of", AS_OF],
                 ["consolidate", ledger, "-o", mine]):
        code, _, err, exc = run(args)
        assert exc is None and code == 2 and "不是 xfsheets 生成的" in err, err
    assert digest(mine) == before


def test_slips_never_replace_a_ledger_named_like_a_slip(ledger, tmp_path):
    folder = tmp_path / "交办单"
    first = run(["slips", ledger, "-o", folder, "--as-of", AS_OF])
    assert first[0] in (0, 1), first[2]
    victim = sorted(folder.glob("交办单_*.xlsx"))[0]
    victim.write_bytes(SAMPLE.read_bytes())  # a clerk's own ledger that happens to carry that name
    listing = {p.name: digest(p) for p in folder.iterdir()}
    code, _, err, exc = run(["slips", ledger, "-o", folder, "--as-of", AS_OF])
    assert exc is None and code == 2 and victim.name in err
    assert {p.name: digest(p) for p in folder.iterdir()} == listing  # nothing moved in at all


def test_a_rerun_replaces_its_own_output_but_not_one_edited_since(ledger, tmp_path):
    out = tmp_path / "标注.xlsx"
    assert run(["check", ledger, "-o", out])[0] in (0, 1)
    assert run(["check", ledger, "-o", out])[0] in (0, 1)  # our own, untouched: replaced
    import openpyxl

    wb = openpyxl.load_workbook(out)  # the clerk opens it, adds a note, saves
    wb.active["A1"] = "我加的备注"
    import datetime as dt

    wb.properties.modified = dt.datetime.now() + dt.timedelta(hours=1)
    wb.save(out)
    before = digest(out)
    code, _, err, _ = run(["check", ledger, "-o", out])
    assert code == 2 and "修改" in err
    assert digest(out) == before


def test_output_names_get_xlsx_and_old_formats_are_refused(ledger, tmp_path):
    code, _, err, _ = run(["report", ledger, "-o", tmp_path / "月报", "--as-of", AS_OF])
    assert code == 0 and (tmp_path / "月报.xlsx").exists(), err
    code, _, err, _ = run(["report", ledger, "-o", tmp_path / "月报.xls", "--as-of", AS_OF])
    assert code == 2 and ".xls" in err and not (tmp_path / "月报.xls").exists()
    code, _, err, _ = run(["report", ledger, "-o", tmp_path, "--as-of", AS_OF])
    assert code == 2 and "文件夹" in err


def test_consolidate_knows_its_earlier_output_by_its_stamp_not_its_name(tmp_path):
    folder = tmp_path / "报送"
    folder.mkdir()
    (folder / "县信访局台账.xlsx").write_bytes(SAMPLE.read_bytes())
    first = folder / "随便起的名字.xlsx"
    assert run(["consolidate", folder, "-o", first])[0] in (0, 1)
    code, out, err, _ = run(["consolidate", folder, "-o", tmp_path / "二次.xlsx", "--json"])
    import json

    doc = json.loads(out)
    assert [f["file"] for f in doc["files"]] == [str(folder / "县信访局台账.xlsx")]
    assert any("随便起的名字" in i["file"] and "xfsheets" in i["reason"] for i in doc["ignored"]), doc["ignored"]


def test_a_failed_slips_run_leaves_no_partial_folder(ledger, tmp_path, monkeypatch):
    from xfsheets import slips

    calls = {"n": 0}
    real = slips._write_unit

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(slips, "_write_unit", flaky)
    folder = tmp_path / "交办单"
    code, _, err, exc = run(["slips", ledger, "-o", folder, "--as-of", AS_OF])
    assert exc is None and code == 2 and "磁盘空间已满" in err, err
    assert not folder.exists()
    assert not list(tmp_path.glob(".~xfsheets-*"))


def test_a_read_only_folder_is_a_message_not_a_traceback(ledger, tmp_path):
    import os

    if os.geteuid() == 0:
        folder = Path("/sys")  # root writes anywhere else; sysfs refuses new files even to root
        code, _, err, exc = run(["report", ledger, "-o", folder / "月报.xlsx", "--as-of", AS_OF])
    else:
        folder = tmp_path / "只读"
        folder.mkdir()
        folder.chmod(0o500)
        try:
            code, _, err, exc = run(["report", ledger, "-o", folder / "月报.xlsx", "--as-of", AS_OF])
        finally:
            folder.chmod(0o700)
    assert exc is None and code == 2 and "权限" in err, err


def test_an_os_refusal_while_writing_is_a_message(ledger, tmp_path, monkeypatch):
    import tempfile

    def refuse(*a, **k):
        raise PermissionError(13, "Permission denied", str(tmp_path))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    code, _, err, exc = run(["report", ledger, "-o", tmp_path / "月报.xlsx", "--as-of", AS_OF])
    assert exc is None and code == 2 and "权限" in err, err


# --- no traceback, Chinese words ----------------------------------------------------------------

@pytest.mark.parametrize("args, words", [
    (lambda L: ["deadlines", L, "--rules", HOSTILE / "rules_gbk.toml"], "时限规则"),
    (lambda L: ["deadlines", L, "--holidays", HOSTILE / "holidays_gbk.csv", "--as-of", AS_OF], None),
    (lambda L: ["check", L, "--profile", HOSTILE / "profile_gbk.toml"], None),
    (lambda L: ["check", L, "--profile", HOSTILE / "profile_not_table.toml"], "应是一个表"),
    (lambda L: ["check", L, "--profile", HOSTILE / "profile_broken.toml"], "格式有误"),
    (lambda L: ["slips", L, "-o", L.parent / "s", "--as-of", "2099-01-01"], "超出了可计算的范围"),
    (lambda L: ["check", L, SAMPLE], None),
    (lambda L: ["check", L, SAMPLE, "-o", L.parent / "c.xlsx"], "只能用于一个台账文件"),
    (lambda L: ["check", L, "--nope"], "没有选项"),
    (lambda L: ["check"], "缺少参数"),
], ids=["rules-gbk", "holidays-gbk", "profile-gbk", "profile-not-table", "profile-broken", "as-of-2099",
        "two-files", "two-files-o", "no-such-option", "missing-argument"])
def test_bad_options_and_config_get_a_chinese_message(ledger, args, words):
    code, out, err, exc = run(args(ledger))
    assert exc is None and code in (0, 1, 2)
    assert "Traceback" not in err and "Usage:" not in err and "Error:" not in err
    if words:
        assert words in out + err, err  # a note (stdout) or an error (stderr)


def test_help_is_chinese():
    code, out, _, _ = run(["check", "--help"])
    assert code == 0 and "用法：" in out and "显示本说明并退出" in out and "Show this message" not in out


def test_json_failure_prints_one_error_document(tmp_path):
    import json

    code, out, err, _ = run(["check", tmp_path / "没有这个文件.xlsx", "--json"])
    assert code == 2
    doc = json.loads(out)
    assert doc["error"]["code"] == "ledger_unreadable" and doc["error"]["file"].endswith("没有这个文件.xlsx")
    code, out, _, _ = run(["check", "--json", "--nope"])
    assert code == 2 and json.loads(out)["error"]["code"] == "usage_error"


def test_an_unexpected_error_is_a_message_and_verbose_shows_the_traceback(ledger, monkeypatch):
    from xfsheets import checks

    def boom(*a, **k):
        raise RuntimeError("模拟的程序错误")

    monkeypatch.setattr(checks, "check", boom)
    code, _, err, exc = run(["check", ledger])
    assert exc is None and code == 2 and "程序内部错误" in err and "Traceback" not in err
    result = CliRunner().invoke(main, ["-v", "check", str(ledger)])
    assert isinstance(result.exception, RuntimeError)


def test_a_reader_panic_is_a_message(ledger, monkeypatch):
    """calamine's Rust panics are BaseException, not Exception."""
    import xfsheets.checks as checks

    class PanicException(BaseException):
        pass

    def panic(*a, **k):
        raise PanicException("called `Option::unwrap()` on a `None` value")

    monkeypatch.setattr(checks, "check", panic)
    code, _, err, exc = run(["check", ledger])
    assert exc is None and code == 2 and "错误：" in err


def test_zero_reports_never_overwrite_each_other(tmp_path):
    """Units whose names collide after cleaning each get their own file."""
    import json

    import openpyxl

    wb = openpyxl.load_workbook(HOSTILE / "bad_unit_names.xlsx")  # with the 风险等级 column a 零报告 needs
    ws = wb.active
    ws.cell(3, ws.max_column + 1, "风险等级")
    for r in range(4, ws.max_row + 1):
        ws.cell(r, ws.max_column, "低")
    wb.save(tmp_path / "bad_unit_names.xlsx")
    code, out, err, _ = run(["report", tmp_path / "bad_unit_names.xlsx", "--zero", "-o", tmp_path / "零报告",
                             "--as-of", AS_OF, "--from", "2026-01-01", "--to", AS_OF, "--json"])
    assert code == 0 and json.loads(out)["reports"], err
    doc = json.loads(out)
    files = [r["file"] for r in doc["reports"]]
    assert len(files) == len(set(f.casefold() for f in files)) == len(doc["reports"])
    assert sorted(p.name for p in (tmp_path / "零报告").iterdir()) == sorted(Path(f).name for f in files)


def test_text_excel_cannot_store_is_written_safely(tmp_path):
    import openpyxl

    out = tmp_path / "检查.xlsx"
    code, _, err, exc = run(["check", HOSTILE / "control_and_long_text.xlsx", "-o", out])
    assert exc is None and code in (0, 1), err
    assert openpyxl.load_workbook(out).sheetnames  # a file every reader opens
    from xfsheets.writer import EXCEL_CELL_LIMIT, excel_text, recorded_changes

    with recorded_changes() as changes:
        cut = excel_text("长" * 40000, "测试")
        clean = excel_text("工资\x01拖欠")
    assert len(cut) <= EXCEL_CELL_LIMIT and "40,000" in cut and clean == "工资\ufffd拖欠"
    assert len(changes) == 2


def test_masking_a_users_workbook_keeps_their_formulas_and_our_text_as_text(tmp_path):
    import openpyxl

    from xfsheets.privacy import mask_workbook

    src = tmp_path / "自己的表.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["A2"], ws["A3"] = 1, 2, "=SUM(A1:A2)"  # the user's own formula
    ws["B1"] = '=HYPERLINK("http://evil.example","点我")'
    ws["B1"].data_type = "s"  # typed as text by the clerk
    ws["C1"] = "电话 13812345678"
    wb.save(src)
    out = tmp_path / "脱敏.xlsx"
    mask_workbook(src, out)
    cells = formula_cells(out.read_bytes())
    assert len(cells) == 1 and "SUM(A1:A2)" in cells[0], cells
    back = openpyxl.load_workbook(out).active
    assert back["B1"].data_type == "s" and "13812345678" not in str(back["C1"].value)


def test_a_deadlines_copy_never_overwrites_the_clerks_own_due_column_and_reads_back(tmp_path):
    """A ledger whose 办理时限 column is labelled 应办结日期 keeps it in the -o copy, and the copy
    is itself a ledger that deadlines can read again with the same results."""
    import json

    import openpyxl

    src = tmp_path / "台账.xlsx"
    wb = openpyxl.load_workbook(SAMPLE)
    ws = wb.worksheets[0]
    header_row = next(r for r in range(1, 8) if any(c.value == "办理时限" for c in ws[r]))
    col = next(c.column for c in ws[header_row] if c.value == "办理时限")
    ws.cell(header_row, col, "应办结日期")
    wb.save(src)
    before = [ws.cell(r, col).value for r in range(header_row + 1, ws.max_row + 1)]
    out = tmp_path / "时限.xlsx"
    code, first, err, _ = run(["deadlines", src, "-o", out, "--as-of", AS_OF, "--json"])
    assert code in (0, 1), err
    copy = openpyxl.load_workbook(out).worksheets[0]
    assert [copy.cell(r, col).value for r in range(header_row + 1, ws.max_row + 1)] == before
    code, again, err, _ = run(["deadlines", out, "--as-of", AS_OF, "--json"])
    assert code in (0, 1), err
    flags = lambda doc: [c["flag"] for c in json.loads(doc)["cases"]]  # noqa: E731
    assert flags(again) == flags(first)
