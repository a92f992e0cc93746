"""A button press on a ledger, against xlwings' remote engine (no Excel here).

The payload is what an xlwings client sends (every sheet's values); the entry runs; the
actions the engine would send back to Excel are counted. What this measures is the
Python side of a press (read -> core -> the writes it asks Excel to make) and how many
separate writes Excel would have to make; Excel's own time to apply them is not measured.
XLWINGS_LICENSE_KEY=noncommercial is set for this process only (PolyForm Noncommercial:
testing and evaluation are permitted uses).

    python bench/bench_buttons.py [--quick]
"""
from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _payload(path: Path) -> dict:
    import xlwings as xw
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    sheets = []
    for name in wb.sheet_names:
        rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
        values = [[v.isoformat()[:10] if isinstance(v, (dt.date, dt.datetime)) else (None if v == "" else v)
                   for v in row] for row in rows]
        sheets.append({"name": name, "values": values or [[]], "pictures": [], "tables": [], "notes": []})
    return {"client": "Office.js", "version": xw.__version__,
            "book": {"name": path.name, "active_sheet_index": 0, "selection": "A1"}, "names": [], "sheets": sheets}


def run(quick: bool = False) -> list[dict]:
    os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    import xlwings as xw

    import xfsheets.excel as x
    from xfsheets.sample import write_sample_ledger

    rows_list = [500] if quick else [2000, 20000]
    out = []
    cwd, caller = os.getcwd(), xw.Book.__dict__.get("caller")
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # a remote book has no folder: the buttons' outputs go to the working folder
        try:
            out = _press(x, xw, write_sample_ledger, Path(tmp), rows_list)
        finally:
            os.chdir(cwd)
            if caller is not None:
                xw.Book.caller = caller
    return out


def _press(x, xw, write_sample_ledger, tmp: Path, rows_list: list[int]) -> list[dict]:
    out = []
    for rows in rows_list:
        ledger = write_sample_ledger(tmp / f"ledger_{rows}.xlsx", rows=rows, seed=7, defects=0.01)
        payload = _payload(ledger)
        for name, entry in (("检查台账 check_ledger", x.check_ledger), ("计算时限 compute_deadlines", x.compute_deadlines)):
            book = xw.Book(json=payload)
            xw.Book.caller = classmethod(lambda cls, b=book: b)
            started = time.perf_counter()
            entry()
            seconds = time.perf_counter() - started
            actions = book.json()["actions"]
            kinds = Counter(a["func"] for a in actions)
            out.append({"benchmark": f"button press {rows:,} rows", "case": name, "seconds": seconds,
                        "rows_per_s": rows / seconds,
                        "note": f"{len(actions)} actions for Excel: " + ", ".join(
                            f"{k} {v}" for k, v in kinds.most_common(4))})
    return out


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(f"| {row['benchmark']} | {row['case']} | {row['seconds']:.2f} | {row['rows_per_s']:,.0f} | {row['note']} |")
