"""The reminder ladder: which open matter is on which rung today, and one mail per responsible unit.

Rungs (policy ``[remind]``): ``before_N`` for each N of ``before_workdays`` (N working days or fewer before the
due day, to the unit), ``overdue`` (copying the 包案领导), ``severe`` (severely overdue: copying the unit's 分管领导,
with its 督办单). A matter is on the most urgent rung it has reached; it is reminded when that rung was not sent
before for the same matter, stage and due day (an approved extension moves the due day and re-arms the ladder).
Every stage counts (登记交办, 受理告知, 办理, 复查, 复核): the deadlines engine says where each matter stands.

Each run reads the ledger as it is now: a matter closed since a held run is simply not reminded. Mail goes only
in the office's hours on working days (:mod:`.clock`), unless ``force`` (``--now``); a mail is marked sent only
after the server accepted it. Everything in a mail is masked and scanned (:mod:`xfsheets.privacy`).
"""
from __future__ import annotations

import datetime as dt
import html
import tempfile
from dataclasses import dataclass, field
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from xfsheets.errors import XfsheetsError
from xfsheets.ledger import Ledger
from xfsheets.normalize import cn_date
from xfsheets.policy import Policy
from xfsheets.remind.clock import Window, cn_moment, sending_window
from xfsheets.remind.contacts import Contacts
from xfsheets.remind.sentlog import Key, SentLog

RUNG_LABELS = {"overdue": "超期", "severe": "严重超期"}
FLAG_RUNG = {"overdue": "overdue", "severely_overdue": "severe"}
PARTLY_SENT = "邮件已发给其他收件人"  # how xfsheets.mail.send_message begins a partial refusal


def rung_label(rung: str) -> str:
    if rung.startswith("before_"):
        return f"期满前{rung[7:]}个工作日"
    return RUNG_LABELS[rung]


@dataclass
class Item:
    """One matter on one rung."""

    matter: str
    case_id: str | None
    unit: str
    stage: str
    stage_label: str
    due_on: dt.date
    days_left: int | None
    working_days_left: int | None
    leader: str
    rung: str
    summary: str
    file: str
    sheet: str
    row: int

    @property
    def key(self) -> Key:
        return (self.matter, self.stage, self.due_on.isoformat(), self.rung)

    @property
    def left_text(self) -> str:
        d, w = self.days_left, self.working_days_left
        if d is None:
            return ""
        if d < 0:
            return f"已超期 {-d} 天" + (f"（{-w} 个工作日）" if w is not None else "")
        return ("今天期满" if d == 0 else f"剩余 {d} 天") + (f"（{w} 个工作日）" if w is not None and d else "")

    def to_dict(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "matter": self.matter, "stage": self.stage, "stage_label": self.stage_label,
                "due_on": self.due_on.isoformat(), "days_left": self.days_left,
                "working_days_left": self.working_days_left, "leader": self.leader or None, "rung": self.rung,
                "rung_label": rung_label(self.rung), "file": self.file, "sheet": self.sheet, "row": self.row}


@dataclass
class UnitMail:
    unit: str
    items: list[Item]
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    slip_cases: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # who could not be copied, which slip could not be made
    status: str = "planned"  # planned | held | sent | eml | failed | no_address
    error: str = ""
    attachments: list[str] = field(default_factory=list)
    message: EmailMessage | None = None

    @property
    def rungs(self) -> list[str]:
        return sorted({i.rung for i in self.items})

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "status": self.status, "to": self.to, "cc": self.cc,
                "attachments": self.attachments, "notes": self.notes, "error": self.error or None,
                "matters": [i.to_dict() for i in self.items]}


@dataclass
class RemindResult:
    at: dt.datetime
    window: Window
    forced: bool
    mails: list[UnitMail]
    unknown: int = 0  # open matters whose due day cannot be told (deadlines says why)
    problems: list[str] = field(default_factory=list)
    log: str = ""

    def count(self, status: str) -> int:
        return sum(m.status == status for m in self.mails)

    @property
    def exit_code(self) -> int:
        return 1 if any(m.status in ("failed", "no_address") for m in self.mails) or self.problems else 0

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(timespec="minutes"), "window": self.window.to_dict(), "forced": self.forced,
                "sent": self.count("sent"), "eml": self.count("eml"), "held": self.count("held"),
                "failed": self.count("failed"), "no_address": self.count("no_address"), "unknown": self.unknown,
                "problems": self.problems, "log": self.log, "mails": [m.to_dict() for m in self.mails]}


# --- the ladder ------------------------------------------------------------------------

def _rung(flag: str, wd_left: Any, before: tuple[int, ...]) -> str | None:
    if flag in FLAG_RUNG:
        return FLAG_RUNG[flag]
    if wd_left is None or pd.isna(wd_left):
        return None
    reached = [n for n in before if int(wd_left) <= n]
    return f"before_{min(reached)}" if reached else None


def ladder_items(ledger: Ledger, result: pd.DataFrame, policy: Policy) -> tuple[list[Item], int]:
    """Every open matter on a rung today, and how many open matters have no due day that can be told."""
    f = ledger.frame
    open_ = ~result["closed"].astype(bool)
    unknown = int((open_ & (result["flag"] == "unknown")).sum())
    items = []
    reach = max(policy.remind.before_workdays, default=-1)
    on_rung = result["flag"].isin(list(FLAG_RUNG)) | (result["working_days_left"].fillna(reach + 1) <= reach)
    for i in result.index[open_ & result["due_on"].notna() & on_rung]:  # rows only for the few on a rung
        r, row = result.loc[i], f.loc[i]
        rung = _rung(r["flag"], r["working_days_left"], policy.remind.before_workdays)
        if rung is None:
            continue
        case = str(row["case_id"]).strip() if "case_id" in f and pd.notna(row.get("case_id")) else None
        matter = case or f"{Path(str(row['_file'])).name}|{row['_sheet']}|{int(row['_row'])}"
        text = lambda c: str(row[c]).strip() if c in f and pd.notna(row.get(c)) else ""  # noqa: E731
        ints = lambda v: None if pd.isna(v) else int(v)  # noqa: E731
        items.append(Item(matter=matter, case_id=case, unit=text("unit"), stage=str(r["stage"]),
                          stage_label=str(r["stage_label"]), due_on=pd.Timestamp(r["due_on"]).date(),
                          days_left=ints(r["days_left"]), working_days_left=ints(r["working_days_left"]),
                          leader=text("leader"), rung=rung, summary=text("summary"), file=str(row["_file"]),
                          sheet=str(row["_sheet"]), row=int(row["_row"])))
    return items, unknown


def _unique(values: list[str], exclude: list[str] = ()) -> list[str]:
    seen = {v.lower() for v in exclude}
    out = []
    for v in values:
        if v.lower() not in seen:
            seen.add(v.lower())
            out.append(v)
    return out


def plan_reminders(ledger: Ledger, *, at: dt.datetime, policy: Policy, contacts: Contacts,
                   sent: set[Key] = frozenset(), result: pd.DataFrame | None = None) -> tuple[list[UnitMail], int]:
    """One mail per responsible unit with the matters whose current rung was not sent yet, its recipients
    (unit; 包案领导 when overdue; 分管领导 when severely overdue) and the matters whose 督办单 it carries."""
    from xfsheets.deadlines import compute_deadlines

    if result is None:
        result = compute_deadlines(ledger, as_of=at.date(), policy=policy)
    items, unknown = ladder_items(ledger, result, policy)
    due = [i for i in items if i.key not in sent]
    rules = policy.remind
    mails = []
    for unit in sorted({i.unit for i in due}):
        mine = sorted((i for i in due if i.unit == unit), key=lambda i: (i.due_on, i.matter))
        mail = UnitMail(unit=unit or "未明确责任单位", items=mine)
        contact = contacts.unit(unit) if unit else None
        if contact is None or contact.problem:
            mail.status = "no_address"
            mail.error = contact.problem if contact else (
                f"单位通讯录中没有“{unit}”，请在「{contacts.path.name}」中补上这个单位和邮箱" if unit else
                "这些事项没有填写责任单位，无法确定发给谁，请在台账中补上责任单位")
            mails.append(mail)
            continue
        mail.to = list(contact.emails)
        cc: list[str] = []
        late = [i for i in mine if i.rung in RUNG_LABELS]
        if rules.overdue_cc_leader:
            for name in dict.fromkeys(i.leader for i in late if i.leader):
                found = contacts.leader(name)
                cc += found
                if not found:
                    mail.notes.append(f"包案领导{name}在通讯录中没有邮箱，未抄送")
        if rules.severe_cc_supervisor and any(i.rung == "severe" for i in mine):
            cc += contact.supervisor
            if not contact.supervisor:
                mail.notes.append(f"通讯录中没有{unit}分管领导的邮箱，严重超期未能抄送分管领导")
        mail.cc = _unique(cc, mail.to)
        slips = [i for i in mine if i.rung in rules.slip_on]
        mail.slip_cases = [i.case_id for i in slips if i.case_id]
        if any(not i.case_id for i in slips):
            mail.notes.append("没有信访件编号的超期事项无法生成督办单，请补上编号")
        mails.append(mail)
    return mails, unknown


# --- the message -------------------------------------------------------------------------

def _lines(mail: UnitMail) -> list[list[str]]:
    return [[i.case_id or f"第 {i.row} 行", i.stage_label, cn_date(i.due_on), i.left_text, i.leader, rung_label(i.rung),
             i.summary[:60]] for i in mail.items]


COLUMNS = ["信访件编号", "阶段", "期满日", "剩余时间", "包案领导", "提醒", "反映问题"]


def build_reminder(mail: UnitMail, *, at: dt.datetime, sender: str | None, person: str = "",
                   slip: Path | None = None) -> EmailMessage:
    """The unit's reminder: a plain and an HTML table of its matters; masked and scanned before it is made."""
    from xfsheets.mail import _addresses, _attach
    from xfsheets.privacy import PersonalDataError, check_bytes, check_texts, mask_text, mask_workbook

    rows = [[mask_text(c) for c in r] for r in _lines(mail)]
    n_late = sum(i.rung in RUNG_LABELS for i in mail.items)
    subject = f"信访事项办理时限提醒：{mail.unit}（临期 {len(mail.items) - n_late} 件、超期 {n_late} 件）"
    hello = f"{mail.unit}{('（' + person + '）') if person else ''}："
    intro = "以下信访事项临近或已过办理期限，请抓紧办理，并在期限内报送办理结果："
    slip_note = "附件为超期事项的督办单（身份证号、联系电话已脱敏），请按督办要求反馈。" if slip else ""
    footer = f"本提醒由 xfsheets 于 {cn_moment(at)} 发出；每件事项的每一档提醒只发一次。"
    plain_rows = [f"{k}. " + "｜".join(f"{h} {v}" for h, v in zip(COLUMNS, r) if v) for k, r in enumerate(rows, 1)]
    plain = "\n".join([hello, "", intro, "", *plain_rows, "", *([slip_note, ""] if slip_note else []), footer, ""])
    table = ("<table border=\"1\" cellpadding=\"4\" cellspacing=\"0\" style=\"border-collapse:collapse\">"
             + "<tr>" + "".join(f"<th>{h}</th>" for h in COLUMNS) + "</tr>"
             + "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows) + "</table>")
    body = (f"<html><body><p>{html.escape(hello)}</p><p>{html.escape(intro)}</p>{table}"
            + (f"<p>{html.escape(slip_note)}</p>" if slip_note else "")
            + f"<p style=\"color:#888\">{html.escape(footer)}</p></body></html>")
    check_texts({"邮件主题": subject, "邮件正文（纯文本）": plain, "邮件正文（HTML）": body}, what="提醒邮件")
    msg = EmailMessage(policy=email_policy.SMTP)
    msg["Subject"] = subject
    if sender:
        msg["From"] = _addresses([sender], "发件人")[0]
    msg["To"] = ", ".join(mail.to)
    if mail.cc:
        msg["Cc"] = ", ".join(mail.cc)
    msg["Date"] = formatdate(at.timestamp(), localtime=True)
    msg["Message-ID"] = make_msgid(domain=(sender or "x@xfsheets.local").rsplit("@", 1)[-1].rstrip(">"))
    msg.set_content(plain, subtype="plain", charset="utf-8", cte="base64")
    msg.add_alternative(body, subtype="html", charset="utf-8", cte="base64")
    if slip is not None:
        with tempfile.TemporaryDirectory(prefix="xfsheets-remind-") as tmp:
            masked = Path(tmp) / "slip.xlsx"
            try:
                mask_workbook(slip, masked)
            except PersonalDataError as exc:
                raise PersonalDataError(f"督办单{exc.message}", hint=exc.hint) from exc
            data = masked.read_bytes()
        check_bytes(data, what="提醒邮件的附件")
        name = mask_text(f"督办单_{mail.unit}.xlsx")
        _attach(msg, data, name)
        mail.attachments.append(name)
    return msg


def _slip(ledger: Ledger, mail: UnitMail, folder: Path, *, at: dt.datetime, policy: Policy,
          result: pd.DataFrame, slip_options: dict) -> Path | None:
    from xfsheets.slips import generate_slips

    if not mail.slip_cases:
        return None
    out = folder / f"slips-{len(list(folder.iterdir()))}"
    got = generate_slips(ledger, out, as_of=at.date(), unit=mail.items[0].unit, overdue_only=True,
                         cases=mail.slip_cases, policy=policy, deadlines=result, **slip_options)
    for s in got.skipped:
        mail.notes.append(f"{s.case_id or ''}未生成督办单：{s.reason}")
    return got.files[0] if got.files else None


# --- the run ---------------------------------------------------------------------------

def run_remind(ledger: Ledger, *, at: dt.datetime, policy: Policy, contacts: Contacts, log: SentLog,
               deliver: Callable[[EmailMessage, UnitMail], str] | None, force: bool = False,
               sender: str | None = None, slip_options: dict | None = None) -> RemindResult:
    """Plan the reminders, and send them when the window is open (or ``force``): ``deliver(message, mail)``
    sends one and returns its channel (``smtp`` or ``eml``) or raises; each accepted mail is marked at once.
    ``deliver=None`` only plans (nothing is marked)."""
    from xfsheets.deadlines import compute_deadlines

    window = sending_window(at, policy)
    result = compute_deadlines(ledger, as_of=at.date(), policy=policy)
    mails, unknown = plan_reminders(ledger, at=at, policy=policy, contacts=contacts, sent=log.sent(), result=result)
    out = RemindResult(at=at, window=window, forced=force and not window.open, mails=mails, unknown=unknown,
                       problems=list(contacts.problems), log=log.shown)
    ready = [m for m in mails if m.status == "planned"]
    if not ready:
        return out
    if deliver is None or not (window.open or force):
        for m in ready:
            m.status = "held" if deliver is not None else "planned"
        return out
    with log.sending(), tempfile.TemporaryDirectory(prefix="xfsheets-slips-") as tmp:
        sent_now = log.sent()  # another run may have sent some while this one read the ledger
        for mail in ready:
            mail.items = [i for i in mail.items if i.key not in sent_now]
            if not mail.items:
                mail.status = "sent_before"
                continue
            contact = contacts.unit(mail.items[0].unit)
            try:
                slip = _slip(ledger, mail, Path(tmp), at=at, policy=policy, result=result,
                             slip_options=slip_options or {})
                mail.message = build_reminder(mail, at=at, sender=sender, person=contact.person if contact else "",
                                              slip=slip)
                channel = deliver(mail.message, mail)
            except XfsheetsError as exc:
                if not str(exc.message).startswith(PARTLY_SENT):
                    mail.status, mail.error = "failed", str(exc)
                    continue
                channel = "smtp"  # the server took it for the others: sending again would repeat it to them
                mail.notes.append(f"{exc}（其余收件人已收到，本档不再重发）")
            log.mark([i.key for i in mail.items], unit=mail.unit, at=at, recipients=[*mail.to, *mail.cc],
                     channel=channel)
            mail.status = "sent" if channel == "smtp" else "eml"
    return out
