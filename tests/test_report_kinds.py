"""Issue 21 item 14: a 积案台账 or 稳控台账 gets what it can support in the report: 化解进展 (from the
化解情况 / 是否息诉息访 column) and the 包案领导's load, counted by hand on the county fixtures."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

L = Path(__file__).resolve().parent / "data" / "county_ledgers"
SAMPLES = Path(__file__).resolve().parents[1] / "xfsheets" / "samples"


def _sheet(path: Path, name: str) -> list[tuple]:
    ws = openpyxl.load_workbook(path, read_only=True)[name]
    return [tuple(r) for r in ws.iter_rows(min_row=2, values_only=True)]


def _report(ledger: Path, out: Path) -> Path:
    done = subprocess.run([sys.executable, "-m", "xfsheets", "report", str(ledger), "-o", str(out),
                           "--as-of", "2026-11-20"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.parametrize("name, resolution, leaders", [
    ("积案化解台账.xlsx",
     [("责任单位", "件数", "已化解", "稳控中", "未化解", "涉及人次"), ("县人社局", 1, 0, 0, 1, 12),
      ("县自然资源局", 1, 1, 0, 0, 1), ("城关镇", 1, 0, 1, 0, 2)],
     [("包案领导", "包案件数", "未办结或未化解", "其中超期", "涉及人次", "已化解"), ("王副县长", 2, 1, 0, 3, 1),
      ("李副县长", 1, 1, 0, 12, 0)]),
    ("重点人员稳控台账.xlsx",  # 是否息诉息访: 是 = resolved, 否 = not
     [("责任单位", "件数", "已化解", "未化解", "涉及人次"), ("东山乡", 1, 1, 0, 1), ("城关镇", 1, 0, 1, 1),
      ("西岭镇", 1, 0, 1, 1)],
     [("包案领导", "包案件数", "未办结或未化解", "其中超期", "涉及人次", "已化解"), ("周副县长", 2, 1, 0, 2, 1),
      ("孙副县长", 1, 1, 0, 1, 0)]),
])
def test_backlog_ledgers_report_resolution_progress_and_leader_load(tmp_path, name, resolution, leaders):
    out = _report(L / name, tmp_path / "报表.xlsx")
    assert _sheet(out, "化解进展") == resolution
    assert _sheet(out, "包案领导") == leaders


def test_a_handling_ledger_without_a_resolution_column_gets_no_resolution_sheet(tmp_path):
    out = _report(SAMPLES / "县人社局台账.xlsx", tmp_path / "报表.xlsx")
    names = openpyxl.load_workbook(out, read_only=True).sheetnames
    assert "化解进展" not in names and "包案领导" in names
    header = _sheet(out, "包案领导")[0]
    assert header == ("包案领导", "包案件数", "未办结或未化解", "其中超期", "涉及人次")
