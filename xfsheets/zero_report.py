"""零报告: in important periods each unit reports daily (else weekly/monthly) even when
nothing happened. For each unit and period: if no 集体访, 越级访, 进京赴省访 or major matter
happened, a zero-report workbook; otherwise the list of what happened, each with how it
stands (办理情况: 已办结 / 未办结 / 超期未办结, by the policy's one open/closed rule, as in
``deadlines``, the report and the slips)."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side

from xfsheets.ledger import Ledger
from xfsheets.normalize import cn_date
from xfsheets.deadlines import OVERDUE_FLAGS
from xfsheets.policy import Policy, resolve as resolve_policy
from xfsheets.summary import collective_mask
from xfsheets.outputs import staged_folder, unique_names
from xfsheets.writer import save_workbook

ZERO_TEXT = "经排查，{unit}{period}无集体访、无越级访、无进京赴省访、无重大信访事项。"
_BEIJING = re.compile(r"进京|赴京|到京|赴省|到省|进省")
_MAJOR = re.compile(r"重大|高风险|^高$|极高")
FONT = "仿宋"


@dataclass
class ZeroReport:
    unit: str
    path: Path
    events: pd.DataFrame  # empty for a true zero report

    @property
    def is_zero(self) -> bool:
        return self.events.empty

    def to_dict(self) -> dict[str, Any]:
        ev = self.events
        return {"unit": self.unit, "file": str(self.path), "zero": self.is_zero,
                "events": ev["case_id"].tolist() if len(ev) else [],
                "figures": {"open": int((ev["办理情况"] != "已办结").sum()) if len(ev) else 0,
                            "overdue": int((ev["办理情况"] == "超期未办结").sum()) if len(ev) else 0,
                            "closed": int((ev["办理情况"] == "已办结").sum()) if len(ev) else 0}}


def standing(closed: pd.Series, flag: pd.Series) -> pd.Series:
    """办理情况 of each matter: 已办结, 超期未办结 or 未办结."""
    out = pd.Series("未办结", index=closed.index, dtype=object)
    out[flag.isin(OVERDUE_FLAGS) & ~closed] = "超期未办结"
    out[closed.astype(bool)] = "已办结"
    return out


def notable(frame: pd.DataFrame, policy: Policy | None = None) -> pd.Series:
    """Why each matter must be reported (empty string when it need not)."""
    policy = resolve_policy(policy)
    text = (frame["summary"].fillna("") + " " + frame["notes"].fillna("") + " " + frame["nature"].fillna(""))
    reasons = pd.DataFrame({
        "集体访": collective_mask(frame, policy),
        "越级访": frame["nature"].fillna("").str.contains("越级"),
        "进京赴省访": text.str.contains(_BEIJING),
        "重大信访事项": frame["risk_level"].fillna("").str.contains(_MAJOR),
    })
    return reasons.apply(lambda row: "、".join(k for k, v in row.items() if v), axis=1) if len(frame) else pd.Series(dtype=object)


def build_zero_reports(ledger: Ledger, out_dir: str | Path, *, as_of: dt.date | None = None,
                       date_from: dt.date | None = None, date_to: dt.date | None = None,
                       unit: str | None = None, reporter: str = "", signer: str = "",
                       include_personal_data: bool = False, policy: Policy | None = None,
                       deadlines: pd.DataFrame | None = None) -> list[ZeroReport]:
    """One workbook per unit (or only ``unit``) for the day ``as_of`` or ``date_from..date_to``.

    Unless ``include_personal_data``, identity numbers and phones are masked in what the
    reports show (unit names, so also the file names; case texts; every cell, sheet name
    and document property) and each workbook is scanned before it is written.
    """
    as_of = as_of or dt.date.today()
    start, end = (date_from or as_of), (date_to or as_of)
    policy = resolve_policy(policy)
    if deadlines is None:
        from xfsheets.deadlines import compute_deadlines

        deadlines = compute_deadlines(ledger, as_of=as_of, policy=policy)
    frame = ledger.frame.assign(办理情况=standing(deadlines["closed"], deadlines["flag"]))
    if not include_personal_data:
        from xfsheets.privacy import mask_frame, mask_text

        shown = [c for c in ("unit", "summary", "case_id", "status") if c in frame.columns]
        frame = frame.assign(**mask_frame(frame[shown]))
        unit = mask_text(unit) if unit else unit
        reporter, signer = mask_text(reporter), mask_text(signer)
    in_period = frame["received_on"].between(pd.Timestamp(start), pd.Timestamp(end))
    units = [unit] if unit else sorted(frame["unit"].dropna().unique().tolist()) or ["本单位"]
    period = cn_date(start) if start == end else f"{cn_date(start)}至{cn_date(end)}"
    out_dir = Path(out_dir)
    stamp = start.isoformat() if start == end else f"{start.isoformat()}_{end.isoformat()}"
    planned = []
    for name in units:
        rows = frame[in_period & (frame["unit"] == name)] if name != "本单位" else frame[in_period]
        why = notable(rows, policy)
        events = rows[why != ""].assign(报告事由=why[why != ""])
        planned.append((name, events, "零报告" if events.empty else "信访情况报告"))
    # One naming rule for every folder xfsheets writes: units that clash after cleaning get _2, _3...
    stems = [f"{stem}_{stamp}" for stem in unique_names([f"{kind}_{name}" for name, _, kind in planned])]
    reports = []
    with staged_folder(out_dir, frame["_file"].dropna().astype(str).unique()) as staging:
        for (name, events, _), stem in zip(planned, stems):
            _write(staging / f"{stem}.xlsx", name, period, events, reporter, signer, as_of, include_personal_data)
            reports.append(ZeroReport(unit=name, path=out_dir / f"{stem}.xlsx", events=events))
    return reports


def _write(path: Path, unit: str, period: str, events: pd.DataFrame, reporter: str, signer: str,
           as_of: dt.date, include_personal_data: bool = False) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "零报告" if events.empty else "信访情况报告"
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws["A1"] = "信访工作零报告" if events.empty else "信访情况报告"
    ws["A1"].font = Font(name=FONT, size=18, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells("A1:G1")
    rows = [("报告单位", unit), ("报告期间", period)]
    for r, (k, v) in enumerate(rows, 3):
        ws.cell(r, 1, k).font = Font(name=FONT, bold=True)
        ws.cell(r, 2, v).font = Font(name=FONT)
        ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=7)
    r = 6
    if events.empty:
        ws.cell(r, 1, "报告内容").font = Font(name=FONT, bold=True)
        ws.cell(r, 2, ZERO_TEXT.format(unit=unit, period=period)).alignment = Alignment(wrap_text=True, vertical="top")
        ws.cell(r, 2).font = Font(name=FONT, size=12)
        ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=7)
        ws.row_dimensions[r].height = 48
        r += 2
    else:
        header = ["信访件编号", "登记日期", "报告事由", "人数", "反映问题", "办理状态", "办理情况"]
        for c, h in enumerate(header, 1):
            cell = ws.cell(r, c, h)
            cell.font, cell.border = Font(name=FONT, bold=True), box
        for _, e in events.iterrows():
            r += 1
            values = [e["case_id"], cn_date(e["received_on"]) if pd.notna(e["received_on"]) else "", e["报告事由"],
                      None if pd.isna(e["headcount"]) else int(e["headcount"]), e["summary"], e["status"], e["办理情况"]]
            for c, v in enumerate(values, 1):
                cell = ws.cell(r, c, v)
                cell.border, cell.font = box, Font(name=FONT)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        r += 2
    for label, value in (("填报人", reporter), ("审核签发", signer), ("报告日期", cn_date(as_of))):
        ws.cell(r, 1, label).font = Font(name=FONT, bold=True)
        ws.cell(r, 2, value or "").font = Font(name=FONT)
        r += 1
    for col, width in zip("ABCDEFG", (14, 14, 18, 8, 40, 12, 12)):
        ws.column_dimensions[col].width = width
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    if not include_personal_data:
        from xfsheets.privacy import check_workbook, mask_book

        mask_book(wb)
        check_workbook(wb, what="零报告" if events.empty else "信访情况报告", file=path.name)
    save_workbook(wb, path)
