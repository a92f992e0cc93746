"""统计期间 presets: 本周, 上周, 本月, 本季度, 自定义 -> (first day, last day).

One place for what a preset means (the 汇总报表 button asks for one; the local page offers the same
presets). Weeks run Monday to Sunday; a period that is still running ends on ``today`` (a report
never counts days that have not come).
"""
from __future__ import annotations

import datetime as dt
import re

from xfsheets.errors import XfsheetsError

PRESETS = ("本周", "上周", "本月", "本季度", "自定义")
DEFAULT = "本月"
# what the clerk may type for each: the word, or its number in the list
PROMPT = "请选择统计期间（输入序号或文字）：\n" + "\n".join(f"{i} {p}" for i, p in enumerate(PRESETS, 1))
CUSTOM_PROMPT = "请输入统计期间的起止日期，例如：2026-01-01 至 2026-03-31"
_DATE = r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"


def preset_name(answer: str) -> str:
    """The preset a typed answer names ("3", " 本月 ", "本季" ...), or a Chinese error."""
    text = (answer or "").strip()
    if text.isdigit() and 1 <= int(text) <= len(PRESETS):
        return PRESETS[int(text) - 1]
    for name in PRESETS:
        if text and (text == name or text in (name[:2], name.rstrip("度"))):
            return name
    if re.search(_DATE, text):
        return "自定义"
    raise XfsheetsError(f"「{text}」不是可选的统计期间",
                        hint="请输入 1 至 5 的序号，或 本周、上周、本月、本季度、自定义 之一")


def parse_range(text: str) -> tuple[dt.date, dt.date]:
    """"2026-01-01 至 2026-03-31" (也可写 2026年1月1日-2026年3月31日、2026/1/1 2026/3/31) -> the two dates."""
    found = re.findall(_DATE, text or "")
    if len(found) != 2:
        raise XfsheetsError(f"没有从「{(text or '').strip()}」读出起止两个日期", hint=f"{CUSTOM_PROMPT}")
    try:
        first, last = (dt.date(int(y), int(m), int(d)) for y, m, d in found)
    except ValueError as exc:
        raise XfsheetsError(f"「{text.strip()}」中有不存在的日期", hint=CUSTOM_PROMPT) from exc
    if first > last:
        raise XfsheetsError(f"起始日期 {first} 晚于截止日期 {last}", hint="请先写起始日期，再写截止日期")
    return first, last


def period(name: str, today: dt.date, custom: str | None = None) -> tuple[dt.date, dt.date]:
    """(first, last) day of the preset ``name`` as of ``today``; 自定义 reads ``custom``."""
    name = preset_name(name)
    if name == "本周":
        return today - dt.timedelta(days=today.weekday()), today
    if name == "上周":
        monday = today - dt.timedelta(days=today.weekday() + 7)
        return monday, monday + dt.timedelta(days=6)
    if name == "本月":
        return today.replace(day=1), today
    if name == "本季度":
        return dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today
    return parse_range(custom if custom is not None else "")


def period_text(first: dt.date, last: dt.date) -> str:
    from xfsheets.normalize import cn_date

    return f"{cn_date(first)}至{cn_date(last)}"  # as the report's own 统计期间 reads
