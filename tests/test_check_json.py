"""check's JSON path: findings built from whole columns keep every field of the contract (issue 17 item 1)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from conftest import DATA
from xfsheets.checks import check
from xfsheets.reader import read_ledgers
from xfsheets.sample import write_sample_ledger

CONTRACT = ["code", "severity", "file", "sheet", "row", "column", "field", "value", "message"]


def test_finding_to_dict_is_the_contract_and_equals_its_fields():
    report = check(read_ledgers([DATA / "checks" / "defects.xlsx"]))
    assert report.findings
    for f in report.findings:
        d = f.to_dict()
        assert list(d) == CONTRACT
        assert d == dataclasses.asdict(f)
    assert report.to_dict()["findings"] == [dataclasses.asdict(f) for f in report.findings]


def test_each_finding_names_the_column_letter_and_row_of_its_own_file(tmp_path: Path):
    # two files whose columns sit at different letters (b has an extra first column), read together
    import openpyxl

    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_sample_ledger(a, 120, seed=1, defects=0.2)
    write_sample_ledger(b, 120, seed=2, defects=0.2)
    wb = openpyxl.load_workbook(b)
    wb.worksheets[0].insert_cols(1)
    wb.save(b)
    ledger = read_ledgers([a, b])
    letters = {(s.file, f): s.letter(f) for s in ledger.sources for f in s.fields}
    assert all(letters[(str(a), f)] != letters[(str(b), f)] for f in ledger.sources[0].fields)
    rows = {(fi, r) for fi, r in zip(ledger.frame["_file"], ledger.frame["_row"])}
    report = check(ledger)
    cells = [f for f in report.findings if f.column]
    assert {f.file for f in cells} == {str(a), str(b)}
    for f in cells:
        assert f.column == letters[(f.file, f.field)]
        assert (f.file, f.row) in rows and type(f.row) is int


def test_json_on_stdout_is_one_document_with_one_line_per_finding():
    import json

    from click.testing import CliRunner

    from xfsheets.cli import main

    path = DATA / "checks" / "defects.xlsx"
    result = CliRunner().invoke(main, ["check", str(path), "--json"])
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    expected = check(read_ledgers([path])).to_dict()
    assert doc == json.loads(json.dumps(expected, ensure_ascii=False))
    lines = result.stdout.splitlines()
    assert sum(1 for line in lines if line.startswith('    {"code": ')) == len(expected["findings"]) > 0
    assert "\\u" not in result.stdout  # Chinese stays readable
