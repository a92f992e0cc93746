"""Chasing reports: which units have sent their 零报告 / ledger for a day or a period, which are late, and which
files in the folder cannot be read or are not the unit's.

Whose file it is is read from its content first (a form's 报告单位/填报单位, a ledger's 填报单位 line or its
责任单位 column), then from its name (a unit of the 通讯录 named in the file name); a file whose name says one unit
and whose content says another is listed, not counted. A file counts for the period when the date its content
gives (报告日期/报告期间) lies in it, else when it arrived (saved into the folder) in it. A period's reports are due
by ``[remind] report_due`` on its last day (the next working day when that is a rest day).
"""
from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, Callable

from xfsheets.errors import XfsheetsError
from xfsheets.normalize import cn_date, parse_date
from xfsheets.policy import Policy
from xfsheets.remind.clock import cn_moment, sending_window
from xfsheets.remind.contacts import Contacts, fold
from xfsheets.history.store import STORE_NAME
from xfsheets.remind.sentlog import LOG_NAME, SentLog

UNIT_LABELS = ("报告单位", "填报单位", "报送单位")
DATE_LABELS = ("报告日期", "报告期间", "填报日期")
SCAN_ROWS = 30  # a form's labels are at its top
FILE_LABELS = {"on_time": "按时收到", "late": "迟报", "unreadable": "无法读取", "foreign": "不是报送单位的文件",
               "unclear": "看不出是哪个单位的", "other_period": "不是本期的"}
UNIT_STATUS = {"on_time": "[green]已按时报送[/green]", "late": "[yellow]迟报[/yellow]", "missing": "[red]逾期未报[/red]",
               "not_yet": "尚未报送（未到截止时间）"}


@dataclass
class ArrivedFile:
    path: Path
    status: str
    unit: str = ""
    kind: str = ""  # 零报告 | 台账
    arrived: dt.datetime | None = None
    detail: str = ""

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def label(self) -> str:
        return FILE_LABELS[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {"file": str(self.path), "status": self.status, "unit": self.unit or None, "kind": self.kind or None,
                "arrived": self.arrived.isoformat(timespec="minutes") if self.arrived else None, "detail": self.detail}


@dataclass
class UnitReport:
    unit: str
    status: str  # on_time | late | missing | not_yet
    files: list[str] = field(default_factory=list)
    detail: str = ""
    reminded: str = ""  # sent | eml | held | failed | no_address | sent_before

    @property
    def label(self) -> str:
        return UNIT_STATUS[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "status": self.status, "files": self.files, "detail": self.detail or None,
                "reminded": self.reminded or None}


@dataclass
class CollectResult:
    start: dt.date
    end: dt.date
    at: dt.datetime
    due: dt.datetime
    files: list[ArrivedFile]
    units: list[UnitReport]
    remind_lines: list[str] = field(default_factory=list)

    @property
    def period_text(self) -> str:
        return cn_date(self.start) if self.start == self.end else f"{cn_date(self.start)}至{cn_date(self.end)}"

    @property
    def exit_code(self) -> int:
        return 1 if any(u.status in ("late", "missing") for u in self.units) or any(
            f.status in ("unreadable", "foreign", "unclear") for f in self.files) else 0

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "at": self.at.isoformat(timespec="minutes"),
                "due": self.due.isoformat(timespec="minutes"), "units": [u.to_dict() for u in self.units],
                "files": [f.to_dict() for f in self.files]}


def _label_value(row: list, labels: tuple[str, ...]) -> str | None:
    for j, cell in enumerate(row):
        text = str(cell).strip()
        for label in labels:
            m = re.fullmatch(rf"{label}\s*[:：]?\s*(.*)", re.sub(r"\s+", "", text))
            if m:
                if m.group(1):
                    return m.group(1)
                rest = [str(v).strip() for v in row[j + 1:] if str(v).strip()]
                return rest[0] if rest else None
    return None


def _content(path: Path) -> tuple[str, set[str], list[dt.date]]:
    """(kind, units the content names, dates it gives) of one file; raises XfsheetsError when it cannot be read."""
    from xfsheets.reader import open_workbook, read_ledger, sheet_rows

    book = open_workbook(path)
    units: set[str] = set()
    dates: list[dt.date] = []
    kind = ""
    try:
        for name in book.sheet_names:
            rows = sheet_rows(book.get_sheet_by_name(name), SCAN_ROWS)
            for row in rows:
                if any("零报告" in str(v) or "信访情况报告" in str(v) for v in row[:3]):
                    kind = "零报告"
                unit = _label_value(row, UNIT_LABELS)
                if unit:
                    units.add(unit)
                when = _label_value(row, DATE_LABELS)
                if when:
                    dates += [d for d in (parse_date(p) for p in re.split(r"至|到|—|-{2,}|～|~", when)) if d]
    finally:
        book.close()
    if units:
        return kind or "零报告", units, dates
    ledger = read_ledger(path)
    for source in ledger.sources:
        if source.meta.get("填报单位"):
            units.add(source.meta["填报单位"])
    if not units and "unit" in ledger.frame:
        units = {str(u).strip() for u in ledger.frame["unit"].dropna() if str(u).strip()}
    return "台账", units, dates


def _due(end: dt.date, policy: Policy) -> dt.datetime:
    cal = policy.calendar()
    day = end
    for _ in range(40):
        if not cal.year_known(day.year) or cal.is_work[cal.index(day)]:
            break
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, policy.remind.report_due)


def collect_reports(folder: str | Path, contacts: Contacts, *, start: dt.date, end: dt.date, at: dt.datetime,
                    policy: Policy) -> CollectResult:
    folder = Path(folder)
    if not folder.is_dir():
        raise XfsheetsError("找不到报送文件夹", file=folder, hint="请写各单位报送文件所在的文件夹")
    due = _due(end, policy)
    known = {fold(u): u for u in contacts.unit_names}
    files: list[ArrivedFile] = []
    own = {STORE_NAME, LOG_NAME, f"{STORE_NAME}.lock", f"{LOG_NAME}.lock"}  # xfsheets' own logs are not reports
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(("~$", "."))
                       and p.name not in own):
        arrived = dt.datetime.fromtimestamp(path.stat().st_mtime).replace(microsecond=0)
        stem = fold(path.stem)
        named = max((u for k, u in known.items() if k in stem), key=len, default="")
        item = ArrivedFile(path=path, status="on_time", arrived=arrived, unit=named)
        files.append(item)
        try:
            item.kind, units, dates = _content(path)
        except XfsheetsError as exc:
            item.status, item.detail = "unreadable", exc.message + (f"；{exc.hint}" if exc.hint else "")
            continue
        inside = {known[fold(u)] for u in units if fold(u) in known}
        outside = sorted(u for u in units if fold(u) not in known)
        if named and units and named not in inside:
            item.status, item.unit = "foreign", ""
            item.detail = f"文件名写的是{named}，内容是{'、'.join(sorted(units))}的"
        elif not units and not named:
            item.status, item.detail = "unclear", "文件中没有写明单位，文件名中也没有通讯录里的单位"
        elif not named and outside and not inside:
            item.status, item.detail = "foreign", f"内容是{'、'.join(outside)}的，不在单位通讯录的报送单位中"
        elif not named and len(inside) != 1:
            item.status, item.detail = "unclear", f"内容涉及{'、'.join(sorted(units))}，看不出是哪个单位报的"
        else:
            item.unit = named or next(iter(inside))
        if item.status != "on_time":
            continue
        if dates and not any(start <= d <= end for d in dates):
            item.status = "other_period"
            item.detail = f"文件中的日期是{'、'.join(cn_date(d) for d in dates)}"
        elif not dates and arrived.date() < start:
            item.status, item.detail = "other_period", f"{cn_moment(arrived)}收到，在本期之前"
        elif arrived > due:
            item.status, item.detail = "late", f"{cn_moment(arrived)}收到"
        else:
            item.detail = f"{cn_moment(arrived)}收到"
    units = []
    for unit in contacts.unit_names:
        mine = [f for f in files if f.unit == unit and f.status in ("on_time", "late")]
        if any(f.status == "on_time" for f in mine):
            report = UnitReport(unit, "on_time", detail=next(f.detail for f in mine if f.status == "on_time"))
        elif mine:
            report = UnitReport(unit, "late", detail=mine[0].detail)
        else:
            report = UnitReport(unit, "missing" if at > due else "not_yet")
            odd = [f for f in files if f.status in ("unreadable", "other_period") and f.unit == unit] + \
                  [f for f in files if f.status == "foreign" and unit in f.detail]
            if odd:
                report.detail = "；".join(f"收到的「{f.name}」{f.label}" for f in odd)
        report.files = [f.name for f in mine]
        units.append(report)
    return CollectResult(start=start, end=end, at=at, due=due, files=files, units=units)


def _message(unit: str, to: list[str], result: CollectResult, at: dt.datetime, sender: str | None) -> EmailMessage:
    from xfsheets.mail import _addresses
    from xfsheets.privacy import check_texts

    subject = f"催报：{unit}{result.period_text}的信访报送材料尚未收到"
    plain = (f"{unit}：\n\n截至{cn_moment(at)}，尚未收到贵单位{result.period_text}的零报告（或信访台账），"
             f"应于{cn_moment(result.due)}前报送，请尽快报送。已报送的请忽略本邮件，并告知我们。\n\n"
             f"本邮件由 xfsheets 发出。\n")
    check_texts({"邮件主题": subject, "邮件正文": plain}, what="催报邮件")
    msg = EmailMessage(policy=email_policy.SMTP)
    msg["Subject"] = subject
    if sender:
        msg["From"] = _addresses([sender], "发件人")[0]
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(at.timestamp(), localtime=True)
    msg["Message-ID"] = make_msgid(domain="xfsheets.local")
    msg.set_content(plain, subtype="plain", charset="utf-8", cte="base64")
    msg.add_alternative(f"<html><body><pre>{html.escape(plain)}</pre></body></html>", subtype="html", charset="utf-8",
                        cte="base64")
    return msg


def remind_missing(result: CollectResult, contacts: Contacts, *, at: dt.datetime, policy: Policy, log: SentLog,
                   deliver: Callable[[EmailMessage, Any], str], force: bool = False, sender: str | None = None) -> None:
    """Mail each unit whose report is overdue (once per period), in office hours unless ``force``."""
    window = sending_window(at, policy)
    missing = [u for u in result.units if u.status == "missing"]
    if not missing:
        return
    if not (window.open or force):
        when = f"将在 {cn_moment(window.next_at)} 以后运行时发出" if window.next_at else ""
        result.remind_lines.append(f"{len(missing)} 封催报暂不发送：{window.reason}；{when}")
        for u in missing:
            u.reminded = "held"
        return
    if force and not window.open:
        result.remind_lines.append(f"注意：{window.reason}，因为加了 --now，仍然现在发送。")
    with log.sending():
        done = log.sent()
        for u in missing:
            key = (f"报送|{u.unit}", "collect", result.end.isoformat(), "missing")
            if key in done:
                u.reminded = "sent_before"
                continue
            contact = contacts.unit(u.unit)
            if contact is None or contact.problem:
                u.reminded = "no_address"
                result.remind_lines.append(f"{u.unit}：无法催报，{contact.problem if contact else '通讯录中没有这个单位'}")
                continue
            try:
                channel = deliver(_message(u.unit, contact.emails, result, at, sender), u)
            except XfsheetsError as exc:
                u.reminded = "failed"
                result.remind_lines.append(f"{u.unit}：催报邮件发送失败：{exc}")
                continue
            log.mark([key], unit=u.unit, at=at, recipients=contact.emails, channel=channel)
            u.reminded = channel if channel == "eml" else "sent"
            result.remind_lines.append(f"{u.unit}：已催报 → {'、'.join(contact.emails)}")
