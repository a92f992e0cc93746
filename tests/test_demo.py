"""`xfsheets demo` runs every capability on the bundled samples (what `make demo` runs)."""
from __future__ import annotations

import openpyxl
from click.testing import CliRunner

from xfsheets.cli import main


def test_demo_writes_every_output(tmp_path):
    out = tmp_path / "demo-output"
    result = CliRunner().invoke(main, ["demo", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("inspect.json", "check.json", "deadlines.json", "汇总台账.xlsx", "信访工作月报_2026年11月.xlsx",
                 "报送邮件.eml", "县信访局台账_检查标注.xlsx", "县信访局台账_时限预警.xlsx", "县信访局台账_带按钮.xlsm"):
        assert (out / name).exists(), name
    assert list((out / "交办单").glob("交办单_*.xlsx")) and list((out / "督办单").glob("督办单_*.xlsx"))
    zeros = sorted(p.name for p in (out / "零报告").iterdir())
    # the samples have no 风险等级 column, so no form can attest 无重大信访事项: none is printed, and every
    # unit is listed with why on the 无法出具零报告清单 (issue 21 item 10)
    assert len(zeros) == 1 and zeros[0].startswith("无法出具零报告清单_")
    assert openpyxl.load_workbook(out / "汇总台账.xlsx")["汇总台账"].max_row == 1 + 240 + 60 * 3
    # the bundled samples themselves are never written
    assert "演示完成" in result.output
    # the office's memory: two snapshots, what changed between them, the report logged and carrying 本期变化
    import json

    changes = json.loads((out / "changes.json").read_text(encoding="utf-8"))
    assert (changes["base"]["as_of"], changes["head"]["as_of"]) == ("2026-11-18", "2026-11-25")
    assert changes["counts"].get("closed", 0) > 0 and (out / "本期变化.xlsx").exists()
    assert "本期变化" in openpyxl.load_workbook(out / "信访工作月报_2026年11月.xlsx", read_only=True).sheetnames
    store = out / "samples" / "信访台账历史库_请勿删除.sqlite"
    import sqlite3

    with sqlite3.connect(store) as db:
        assert db.execute("select kind, name from audit").fetchall() == [("report", "信访工作月报_2026年11月.xlsx")]
