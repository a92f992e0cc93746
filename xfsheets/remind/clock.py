"""When a reminder may go: on a working day of the official calendar (a 调休 Saturday is one; a holiday is
not), within the office's hours (policy ``[remind] office_hours``). Outside them mail is held and the next
moment it may go is said. A year the calendar does not know is said, not guessed. The clock is passed in."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from xfsheets.errors import ConfigError
from xfsheets.normalize import cn_date
from xfsheets.policy import Policy
from xfsheets.workdays import WEEKDAYS

LOOK_AHEAD_DAYS = 40  # the longest run of rest days (春节 with its weekends) is under two weeks


@dataclass
class Window:
    open: bool
    reason: str = ""  # why mail is held now (Chinese), "" when open
    next_at: dt.datetime | None = None  # the first moment it may go, when known

    def to_dict(self) -> dict:
        return {"open": self.open, "reason": self.reason or None,
                "next_at": self.next_at.isoformat(timespec="minutes") if self.next_at else None}


def cn_moment(at: dt.datetime) -> str:
    return f"{cn_date(at.date())}（星期{WEEKDAYS[at.weekday()]}）{at:%H:%M}"


def parse_at(text: str) -> dt.datetime:
    """``--at "2026-06-01 09:00"`` (also 2026-06-01T09:00, 2026/6/1 9:00); a date alone means 09:00."""
    m = re.fullmatch(r"\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]+(\d{1,2})[:：](\d{2}))?\s*", text or "")
    try:
        if not m:
            raise ValueError
        hour, minute = (int(m.group(4)), int(m.group(5))) if m.group(4) else (9, 0)
        return dt.datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), hour, minute)
    except ValueError:
        raise ConfigError(f"时间「{text}」无法识别", hint="请写成 \"2026-06-01 09:00\"（日期和时分，中间一个空格）") from None


def _is_work(cal, day: dt.date) -> bool:
    return bool(cal.is_work[cal.index(day)])


def sending_window(at: dt.datetime, policy: Policy, calendar=None) -> Window:
    """Whether mail may go at ``at``, and if not, why and when it may."""
    cal = calendar or policy.calendar()
    start, end = policy.remind.office_hours
    hours = f"工作日 {start:%H:%M}-{end:%H:%M}"

    def unknown(year: int) -> str:
        return f"{cal.missing_year_text(year)}，无法判断哪天是工作日"

    if not cal.year_known(at.year) and not policy.assume_weekends:
        return Window(False, f"{unknown(at.year)}，提醒暂不发送")
    day = at.date()
    work = _is_work(cal, day)
    if work and start <= at.time() < end:
        return Window(True)
    if work:
        why = "还没到上班时间" if at.time() < start else "已过下班时间"
    else:
        why = cal.describe_day(day)
        why = why if why.endswith("放假") else f"{why}休息日"
    reason = f"现在是{cn_moment(at)}，{why}，不在发送时间（{hours}）"
    if work and at.time() < start:
        return Window(False, reason, dt.datetime.combine(day, start))
    for k in range(1, LOOK_AHEAD_DAYS + 1):
        nxt = day + dt.timedelta(days=k)
        if not cal.year_known(nxt.year) and not policy.assume_weekends:
            return Window(False, f"{reason}；{unknown(nxt.year)}，下一次可发送的时间说不准")
        if _is_work(cal, nxt):
            return Window(False, reason, dt.datetime.combine(nxt, start))
    return Window(False, reason)
