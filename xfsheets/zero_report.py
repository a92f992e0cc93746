"""零报告: in important periods each unit reports daily (else weekly/monthly) even when
nothing happened. For each unit and period: if no 集体访, 越级访, 进京赴省访 or major matter
happened, a zero-report workbook; otherwise the list of what happened, each with how it
stands (办理情况: 已办结 / 未办结 / 超期未办结, by the policy's one open/closed rule, as in
``deadlines``, the report and the slips).

A form attests only what the ledger shows, so it is produced only when the ledger can show it:
no day after the as-of date; a matter with a blank 责任单位 goes under 未明确责任单位; a unit with
a matter whose 登记日期 or 人数 cannot be read, or a ledger without the columns a claim needs, gets
no form: the unit and the reason go on a separate 无法出具零报告清单 workbook instead (the printed
form never carries a software caveat)."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field as dc_field
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side

from xfsheets.ledger import Ledger
from xfsheets.normalize import cn_date
from xfsheets.deadlines import OVERDUE_FLAGS
from xfsheets.policy import Policy, resolve as resolve_policy
from xfsheets.headcount import counts_text, ledger_headcounts
from xfsheets.summary import collective_mask
from xfsheets.outputs import staged_folder, unique_names
from xfsheets.writer import page_setup_openpyxl, row_height, save_workbook

ZERO_TEXT = "经排查，{unit}{period}{claims}。"
# What a zero report attests, and the ledger columns that could show each: a claim no column
# could show is not attested (the report says which columns are missing), never assumed.
ZERO_CLAIMS = {"集体访": ("headcount", "nature"), "越级访": ("nature",), "进京赴省访": ("summary", "notes", "nature"),
               "重大信访事项": ("risk_level",)}
UNATTESTED_TEXT = "台账中没有{columns}列，无法据台账判断有无{claims}，请核实后另行报告。"
# 进京访 / 赴省访 as people write it (matched after NFKC, spaces removed).
BEIJING_PROVINCE_WORDS = ("进京", "赴京", "到京", "到北京", "去北京", "赴北京", "上北京", "国家信访局",
                          "赴省", "到省", "进省", "省信访局")
_BEIJING = re.compile("|".join(map(re.escape, BEIJING_PROVINCE_WORDS)))
UNASSIGNED = "未明确责任单位"  # where a matter with a blank 责任单位 is reported
BLOCKED_NAME = "无法出具零报告清单"
BLOCKED_HEADER = ["责任单位", "无法出具的原因", "怎么处理"]
BLOCKED_FIX = "请按原因核对台账、改正后重新生成；改正前如需上报，请人工核实后出具。"
FUTURE_TEXT = "报告期间截至{end}，晚于统计截止日{as_of}：零报告只能证明已经过去的日子"
_MAJOR = re.compile(r"重大|高风险|^高$|极高")
EVENTS_TEXT = "{unit}{period}发生需报告的信访事项{n}件，逐件列明如下。"
SEAL_TEXT = "报告单位（盖章）"
# The form, written once: A4 portrait, 公文 fonts (小标宋 title, 黑体 labels, 仿宋 text).
FORM_SIZE, TABLE_SIZE = 14, 12
FORM_COLUMNS = (16, 14, 13, 7, 24, 10, 10)  # about 17 cm
EVENT_COLUMNS = ["信访件编号", "登记日期", "报告事由", "人数", "反映问题", "办理状态", "办理情况"]
ONE_PAGE_EVENTS = 12
FORM_STYLES = {
    "title": ({"name": "方正小标宋简体", "size": 22}, {"horizontal": "center", "vertical": "center"}),
    "label": ({"name": "黑体", "size": FORM_SIZE}, {"horizontal": "center", "vertical": "center", "wrap_text": True}),
    "value": ({"name": "仿宋", "size": FORM_SIZE}, {"vertical": "center", "wrap_text": True}),
    "head": ({"name": "黑体", "size": TABLE_SIZE}, {"horizontal": "center", "vertical": "center", "wrap_text": True}),
    "cell": ({"name": "仿宋", "size": TABLE_SIZE}, {"vertical": "top", "wrap_text": True}),
    "seal": ({"name": "仿宋", "size": FORM_SIZE}, {"horizontal": "right", "vertical": "center", "wrap_text": True}),
}
_SIDE = Side(style="thin", color="000000")
BOX = Border(left=_SIDE, right=_SIDE, top=_SIDE, bottom=_SIDE)


def unattested(ledger: Ledger) -> dict[str, list[str]]:
    """{claim: the columns that could show it} for each claim of a zero report that the ledger
    has no column to show."""
    from xfsheets.schema import LABELS

    return {claim: [LABELS[f] for f in fields] for claim, fields in ZERO_CLAIMS.items()
            if not any(ledger.has(f) for f in fields)}


def unattested_text(missing: dict[str, list[str]]) -> str:
    """What a report cannot attest, and which columns it would need ('' when it can attest all)."""
    if not missing:
        return ""
    columns = dict.fromkeys(c for cols in missing.values() for c in cols)
    return UNATTESTED_TEXT.format(columns="、".join(f"“{c}”" for c in columns), claims="、".join(missing))


def zero_text(unit: str, period: str, missing: dict[str, list[str]]) -> str:
    attested = [c for c in ZERO_CLAIMS if c not in missing]
    text = ZERO_TEXT.format(unit=unit, period=period, claims="、".join(f"无{c}" for c in attested)) if attested else ""
    return text + unattested_text(missing)


@dataclass
class Blocked:
    """A unit that gets no form, and why (Chinese, each reason with where and what)."""

    unit: str
    reasons: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "reasons": list(self.reasons)}


class ZeroReports(list):
    """The forms produced (a list of :class:`ZeroReport`), the units that got none
    (``blocked``) and the 无法出具零报告清单 workbook that lists them (``blocked_path``)."""

    def __init__(self, reports=(), blocked: list[Blocked] | None = None, blocked_path: Path | None = None):
        super().__init__(reports)
        self.blocked = blocked or []
        self.blocked_path = blocked_path

    @property
    def exit_code(self) -> int:
        return 1 if self.blocked else 0


@dataclass
class ZeroReport:
    unit: str
    path: Path
    events: pd.DataFrame  # empty for a true zero report
    unattested: dict[str, list[str]] = dc_field(default_factory=dict)  # claims the ledger cannot show

    @property
    def is_zero(self) -> bool:
        return self.events.empty

    def to_dict(self) -> dict[str, Any]:
        ev = self.events
        return {"unit": self.unit, "file": str(self.path), "zero": self.is_zero,
                "cannot_attest": {claim: cols for claim, cols in self.unattested.items()},
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


def notable(frame: pd.DataFrame, policy: Policy | None = None, people: pd.Series | None = None) -> pd.Series:
    """Why each matter must be reported (empty string when it need not). ``people``: 人数 as read
    by :mod:`xfsheets.headcount` (default: the frame's 人数 column)."""
    policy = resolve_policy(policy)
    text = (frame["summary"].fillna("") + " " + frame["notes"].fillna("") + " " + frame["nature"].fillna(""))
    text = text.str.normalize("NFKC").str.replace(r"\s+", "", regex=True)
    reasons = pd.DataFrame({
        "集体访": collective_mask(frame, policy, people),
        "越级访": frame["nature"].fillna("").str.contains("越级"),
        "进京赴省访": text.str.contains(_BEIJING),
        "重大信访事项": frame["risk_level"].fillna("").str.contains(_MAJOR),
    })
    return reasons.apply(lambda row: "、".join(k for k, v in row.items() if v), axis=1) if len(frame) else pd.Series(dtype=object)


def build_zero_reports(ledger: Ledger, out_dir: str | Path, *, as_of: dt.date | None = None,
                       date_from: dt.date | None = None, date_to: dt.date | None = None,
                       unit: str | None = None, reporter: str = "", signer: str = "",
                       include_personal_data: bool = False, policy: Policy | None = None,
                       deadlines: pd.DataFrame | None = None) -> ZeroReports:
    """One workbook per unit (or only ``unit``) for the day ``as_of`` or ``date_from..date_to``;
    a unit whose form cannot be attested gets none and is listed, with why, on the
    无法出具零报告清单 workbook in the same folder (``ZeroReports.blocked``). A period that
    runs past ``as_of`` is refused (:class:`XfsheetsError`, nothing written).

    Unless ``include_personal_data``, identity numbers and phones are masked in what the
    reports show (unit names, so also the file names; case texts; every cell, sheet name
    and document property) and each workbook is scanned before it is written.
    """
    as_of = as_of or dt.date.today()
    start, end = (date_from or as_of), (date_to or as_of)
    if max(start, end) > as_of:  # --from alone after the as-of day is a period after it too
        from xfsheets.errors import XfsheetsError

        raise XfsheetsError(FUTURE_TEXT.format(end=cn_date(max(start, end)), as_of=cn_date(as_of)),
                            hint=f"请把期间截止日改为{cn_date(as_of)}或更早，或到期间结束后再出具")
    policy = resolve_policy(policy)
    from xfsheets.deadlines import ledger_as_of

    ledger = ledger_as_of(ledger, as_of, policy)  # a 办结 dated after the as-of day had not happened
    if deadlines is None:
        from xfsheets.deadlines import compute_deadlines

        deadlines = compute_deadlines(ledger, as_of=as_of, policy=policy)
    counts = ledger_headcounts(ledger.frame, ledger.raw)
    frame = ledger.frame.assign(办理情况=standing(deadlines["closed"], deadlines["flag"]), _people=counts["n"],
                                _people_text=counts_text(counts))
    frame["unit"] = frame["unit"].where(frame["unit"].notna(), UNASSIGNED)
    blocks = _blocking(ledger, frame, counts, start, end)
    if not include_personal_data:
        from xfsheets.privacy import mask_frame, mask_text

        shown = [c for c in ("unit", "summary", "case_id", "status") if c in frame.columns]
        frame = frame.assign(**mask_frame(frame[shown]))
        unit = mask_text(unit) if unit else unit
        reporter, signer = mask_text(reporter), mask_text(signer)
    in_period = frame["received_on"].between(pd.Timestamp(start), pd.Timestamp(end))
    units = [unit] if unit else sorted(frame["unit"].dropna().unique().tolist()) or ["本单位"]
    missing = unattested(ledger)
    if missing:  # no column to show it: no unit's form can attest it
        blocks = {name: [_missing_text(missing)] + blocks.get(name, []) for name in units}
    period = cn_date(start) if start == end else f"{cn_date(start)}至{cn_date(end)}"
    out_dir = Path(out_dir)
    stamp = start.isoformat() if start == end else f"{start.isoformat()}_{end.isoformat()}"
    planned = []
    blocked = [Blocked(name, blocks[name]) for name in units if blocks.get(name)]
    for name in units:
        if blocks.get(name):
            continue
        rows = frame[in_period & (frame["unit"] == name)] if name != "本单位" else frame[in_period]
        why = notable(rows, policy, rows["_people"])
        events = rows[why != ""].assign(报告事由=why[why != ""])
        planned.append((name, events, "零报告" if events.empty else "信访情况报告"))
    # One naming rule for every folder xfsheets writes: units that clash after cleaning get _2, _3...
    stems = [f"{stem}_{stamp}" for stem in unique_names([f"{kind}_{name}" for name, _, kind in planned])]
    reports = ZeroReports(blocked=blocked)
    with staged_folder(out_dir, frame["_file"].dropna().astype(str).unique()) as staging:
        for (name, events, _), stem in zip(planned, stems):
            _write(staging / f"{stem}.xlsx", name, period, events, reporter, signer, as_of, include_personal_data)
            reports.append(ZeroReport(unit=name, path=out_dir / f"{stem}.xlsx", events=events, unattested=missing))
        if blocked:
            name = f"{BLOCKED_NAME}_{stamp}.xlsx"
            _write_blocked(staging / name, blocked, period, as_of, include_personal_data)
            reports.blocked_path = out_dir / name
    return reports


def _missing_text(missing: dict[str, list[str]]) -> str:
    columns = dict.fromkeys(c for cols in missing.values() for c in cols)
    return (f"台账中没有{'、'.join(f'“{c}”' for c in columns)}列，无法据台账判断有无{'、'.join(missing)}：" 
            "请在台账中加上这些列并填写")


def _blocking(ledger: Ledger, frame: pd.DataFrame, counts: pd.DataFrame, start: dt.date,
              end: dt.date) -> dict[str, list[str]]:
    """{unit: reasons its form cannot be attested}: a matter whose 登记日期 cannot be read (it may
    fall in the period), or a matter of the period whose 人数 cannot be read (it may be 集体访)."""
    from xfsheets.normalize import display_value

    out: dict[str, list[str]] = {}
    raw = ledger.raw
    several_files = frame["_file"].nunique() > 1

    def where(idx) -> str:
        place = f"第{int(frame.at[idx, '_row'])}行"
        if several_files:
            place = f"{Path(str(frame.at[idx, '_file'])).name} {place}"
        return place

    undated = frame.index[frame["received_on"].isna()]
    for idx in undated:
        typed = raw.at[idx, "received_on"] if "received_on" in raw.columns else None
        shown = display_value(typed)
        what = f"登记日期「{shown}」无法识别" if shown else "登记日期未填写"
        out.setdefault(frame.at[idx, "unit"], []).append(
            f"{where(idx)}（信访件编号{frame.at[idx, 'case_id'] or '未填'}）{what}，无法判断是否在报告期间内")
    in_period = frame["received_on"].between(pd.Timestamp(start), pd.Timestamp(end))
    unread = in_period & counts["problem"].notna() & (frame["nature"] != "集体访")
    for idx in frame.index[unread]:
        typed = raw.at[idx, "headcount"] if "headcount" in raw.columns else None
        shown = display_value(typed)
        what = f"人数「{shown}」无法识别" if shown else "人数未填写、信访人一栏也看不出人数"
        out.setdefault(frame.at[idx, "unit"], []).append(
            f"{where(idx)}（信访件编号{frame.at[idx, 'case_id'] or '未填'}）{what}，无法判断是否集体访")
    return out


def _write_blocked(path: Path, blocked: list[Blocked], period: str, as_of: dt.date,
                   include_personal_data: bool) -> None:
    """无法出具零报告清单: each unit without a form, why, and what to do (for the office, not upward)."""
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = BLOCKED_NAME
    head, cell = FORM_STYLES["head"], FORM_STYLES["cell"]
    ws.append([f"{BLOCKED_NAME}（{period}，统计截止{cn_date(as_of)}）"])
    ws["A1"].font = Font(**FORM_STYLES["title"][0] | {"size": 16})
    ws.append(BLOCKED_HEADER)
    for c in range(1, len(BLOCKED_HEADER) + 1):
        ws.cell(2, c).font, ws.cell(2, c).alignment, ws.cell(2, c).border = Font(**head[0]), Alignment(**head[1]), BOX
    for b in blocked:
        ws.append([b.unit, "\n".join(b.reasons), BLOCKED_FIX])
        r = ws.max_row
        for c in range(1, len(BLOCKED_HEADER) + 1):
            ws.cell(r, c).font, ws.cell(r, c).alignment, ws.cell(r, c).border = Font(**cell[0]), Alignment(**cell[1]), BOX
        ws.row_dimensions[r].height = max(row_height(t, 60, TABLE_SIZE) for t in b.reasons) * len(b.reasons)
    for c, width in enumerate((18, 60, 30), 1):
        ws.column_dimensions[get_column_letter(c)].width = width
    page_setup_openpyxl(ws, "document", 2)
    if not include_personal_data:
        from xfsheets.privacy import check_workbook, mask_book

        mask_book(wb)
        check_workbook(wb, what=BLOCKED_NAME, file=path.name)
    save_workbook(wb, path)


def _write(path: Path, unit: str, period: str, events: pd.DataFrame, reporter: str, signer: str,
           as_of: dt.date, include_personal_data: bool = False) -> None:
    """The form offices file: bordered, 公文 fonts, labels beside what they label, the events
    (if any) in the form, 负责人/填报人/联系电话/报告日期 and the place for the unit's seal."""
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "零报告" if events.empty else "信访情况报告"
    ws.sheet_view.showGridLines = False
    style = {name: (Font(**font), Alignment(**align)) for name, (font, align) in FORM_STYLES.items()}
    last = len(FORM_COLUMNS)
    span = sum(FORM_COLUMNS)
    for c, width in enumerate(FORM_COLUMNS, 1):
        ws.column_dimensions[get_column_letter(c)].width = width

    def put(row: int, col: int, value: Any, kind: str, to_col: int | None = None, border: bool = True) -> None:
        cell = ws.cell(row, col, value)
        cell.font, cell.alignment = style[kind]
        if border:
            for c in range(col, (to_col or col) + 1):
                ws.cell(row, c).border = BOX
        if to_col and to_col > col:
            ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=to_col)

    put(1, 1, "信访工作零报告" if events.empty else "信访情况报告", "title", last, border=False)
    ws.row_dimensions[1].height = 48
    r = 3
    for label, value in (("报告单位", unit), ("报告期间", period)):
        put(r, 1, label, "label")
        put(r, 2, value, "value", last)
        ws.row_dimensions[r].height = row_height(value, span - FORM_COLUMNS[0], FORM_SIZE)
        r += 1
    content = (zero_text(unit, period, {}) if events.empty
               else EVENTS_TEXT.format(unit=unit, period=period, n=len(events)))
    put(r, 1, "报告内容", "label")
    put(r, 2, content, "value", last)
    ws.row_dimensions[r].height = max(row_height(content, span - FORM_COLUMNS[0], FORM_SIZE), 60 if events.empty else 0)
    r += 1
    header_row = None
    if not events.empty:
        header_row = r
        for c, h in enumerate(EVENT_COLUMNS, 1):
            put(r, c, h, "head")
        ws.row_dimensions[r].height = 24
        for _, e in events.iterrows():
            r += 1
            values = [e["case_id"], cn_date(e["received_on"]) if pd.notna(e["received_on"]) else "", e["报告事由"],
                      e["_people_text"], e["summary"], e["status"], e["办理情况"]]
            for c, v in enumerate(values, 1):
                put(r, c, v, "cell")
            ws.row_dimensions[r].height = max(row_height(v, FORM_COLUMNS[c - 1], TABLE_SIZE)
                                              for c, v in enumerate(values, 1))
        r += 1
    # 负责人 / 填报人, 联系电话 / 报告日期: label, value, label, value
    for (l1, v1), (l2, v2) in ((("负责人（签字）", signer), ("填报人", reporter)),
                               (("联系电话", ""), ("报告日期", cn_date(as_of)))):
        put(r, 1, l1, "label")
        put(r, 2, v1 or "", "value", 3)
        put(r, 4, l2, "label", 5)
        put(r, 6, v2 or "", "value", last)
        ws.row_dimensions[r].height = 34
        r += 1
    r += 1
    put(r, 1, SEAL_TEXT, "seal", last, border=False)
    ws.row_dimensions[r].height = 96  # room for the seal over the unit's line
    ws.print_area = f"A1:{get_column_letter(last)}{r}"
    # A list that runs past one page keeps its header on every page; a zero report is one page.
    page_setup_openpyxl(ws, "form" if len(events) <= ONE_PAGE_EVENTS else "document", header_row)
    if header_row and len(events) > ONE_PAGE_EVENTS:
        ws.print_title_rows = f"{header_row}:{header_row}"
    if not include_personal_data:
        from xfsheets.privacy import check_workbook, mask_book

        mask_book(wb)
        check_workbook(wb, what="零报告" if events.empty else "信访情况报告", file=path.name)
    save_workbook(wb, path)
