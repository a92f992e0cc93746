"""Cannot tell, and says so (issue 12 item 7): a --unit that matches no unit, and a 零报告 for
a ledger that has no column that could show what the report attests."""
from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from xfsheets.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "xfsheets" / "samples" / "县信访局台账.xlsx"


def run(*args):
    r = CliRunner().invoke(main, [str(a) for a in args])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    return r


@pytest.mark.parametrize("args", [
    lambda o: ["report", SAMPLE, "-o", o / "r.xlsx", "--unit", "住建局", "--as-of", "2026-11-25"],
    lambda o: ["report", SAMPLE, "--zero", "-o", o / "z", "--unit", "住建局", "--as-of", "2026-11-25"],
    lambda o: ["slips", SAMPLE, "-o", o / "s", "--unit", "住建局", "--as-of", "2026-11-25"],
], ids=["report", "zero", "slips"])
def test_a_unit_that_matches_nothing_is_refused_with_the_closest_names(args, tmp_path):
    r = run(*args(tmp_path), "--json")
    assert r.exit_code == 2
    error = json.loads(r.stdout)["error"]
    assert error["code"] == "unknown_unit" and "县住建局" in error["message"]
    assert not any(tmp_path.iterdir())  # nothing written: an all-zero report would read as a quiet week


def test_the_unit_as_the_ledger_spells_it_works(tmp_path):
    r = run("report", SAMPLE, "-o", tmp_path / "r.xlsx", "--unit", "县住建局", "--as-of", "2026-11-25")
    assert r.exit_code == 0, r.stderr


def _town_ledger(path: Path, extra: dict[str, str] | None = None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    header = ["信访件编号", "登记日期", "信访人", "反映问题", "责任单位", "办理状态", *(extra or {})]
    ws.append(header)
    ws.append(["A1", "2026-11-20", "张三", "拖欠工资", "城关镇", "办理中", *(extra or {}).values()])
    wb.save(path)
    return path


def test_a_zero_report_never_attests_what_the_ledger_cannot_show(tmp_path):
    ledger = _town_ledger(tmp_path / "镇台账.xlsx")
    r = run("report", ledger, "--zero", "-o", tmp_path / "z", "--as-of", "2026-11-20", "--json")
    assert r.exit_code == 1, r.stderr
    doc = json.loads(r.stdout)
    # no form with a caveat printed on it: the unit and why are on the 无法出具零报告清单 (issue 21 item 10)
    assert doc["reports"] == [] and [b["unit"] for b in doc["blocked"]] == ["城关镇"]
    assert sorted(p.name for p in (tmp_path / "z").iterdir()) == ["无法出具零报告清单_2026-11-20.xlsx"]
    text = " ".join(str(c.value) for row in openpyxl.load_workbook(doc["blocked_file"]).active.iter_rows() for c in row
                    if c.value)
    assert "“人数”" in text and "“信访性质”" in text and "无法据台账判断有无集体访、越级访、重大信访事项" in text


def test_a_ledger_with_the_columns_gets_the_full_zero_report(tmp_path):
    ledger = _town_ledger(tmp_path / "镇台账.xlsx", {"人数": "1", "信访性质": "初信初访", "风险等级": "低"})
    r = run("report", ledger, "--zero", "-o", tmp_path / "z", "--as-of", "2026-11-20", "--json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)["reports"][0]
    assert doc["cannot_attest"] == {} and doc["zero"]
