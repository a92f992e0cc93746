"""A command whose output is piped into a reader that stops early (`xfsheets deadlines --json | head`) stops
quietly: no traceback, no Chinese "internal error" on a clerk's screen."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "xfsheets" / "samples" / "县信访局台账.xlsx"


def test_a_reader_that_stops_early_gets_no_traceback():
    proc = subprocess.Popen([sys.executable, "-m", "xfsheets", "deadlines", str(SAMPLE), "--json",
                             "--as-of", "2026-11-25"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read().decode("utf-8", "replace")
    code = proc.wait(timeout=120)
    assert first.strip() == b"{"
    assert "Traceback" not in err and "程序内部错误" not in err and "Broken pipe" not in err, err
    assert code in (0, 1)


def test_json_is_utf8_whatever_the_console_code_page(tmp_path):
    import json
    import os

    import openpyxl

    wb = openpyxl.load_workbook(SAMPLE)
    ws = wb.worksheets[0]
    header = next(r for r in range(1, 6) if any(c.value == "身份证号" for c in ws[r]))
    col = next(c.column for c in ws[header] if c.value == "身份证号")
    ws.cell(row=header + 1, column=col).value = "䶮𠀀"  # not in GBK: a finding quotes it in the JSON
    ledger = tmp_path / "台账.xlsx"
    wb.save(ledger)
    done = subprocess.run([sys.executable, "-m", "xfsheets", "check", str(ledger), "--json"], capture_output=True,
                          env={**os.environ, "PYTHONIOENCODING": "gbk"})
    doc = json.loads(done.stdout.decode("utf-8"))
    assert any(f["value"] == "䶮𠀀" for f in doc["findings"]), doc["findings"][:3]


def test_every_command_help_shows_an_example():
    import click

    from xfsheets.cli import main

    def walk(cmd, path):
        yield path, cmd
        if isinstance(cmd, click.Group):
            for name, sub in sorted(cmd.commands.items()):
                yield from walk(sub, path + [name])

    missing = [" ".join(p) or "xfsheets" for p, cmd in walk(main, []) if "例：xfsheets" not in (cmd.help or "")]
    assert missing == []


def test_results_go_to_stdout_and_json_keeps_stdout_for_the_document():
    import json

    plain = subprocess.run([sys.executable, "-m", "xfsheets", "check", str(SAMPLE)], capture_output=True)
    text = plain.stdout.decode("utf-8")
    assert "检查未通过" in text or "检查通过" in text  # `> 结果.txt` keeps the answer
    as_json = subprocess.run([sys.executable, "-m", "xfsheets", "check", str(SAMPLE), "--json"], capture_output=True)
    doc = json.loads(as_json.stdout.decode("utf-8"))  # nothing but the document
    assert "findings" in doc and "检查" in as_json.stderr.decode("utf-8")
