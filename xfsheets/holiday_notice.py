"""Next year's holiday schedule read from the State Council notice itself.

The 国务院办公厅关于YYYY年部分节假日安排的通知 has a fixed shape: one numbered paragraph per
holiday, e.g. ``一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。``.
:func:`read_notice` takes the text as published (a .txt in UTF-8 or GBK, or a .docx) and
returns every rest day and make-up workday with its holiday's name, plus the year, so that
:func:`xfsheets.workdays.write_holiday_file` can write the holiday file with its 全年 row.

Forms handled: ranges within a month (``1月1日至3日``) and across months (``1月28日（农历除夕、
周二）至2月4日（农历正月初七、周二）``), explicit years (``2018年12月30日至2019年1月1日``: a
notice may move late-December days of the year before), single days (``5月1日放假。``,
``1月1日放假，与周末连休。``), several 上班 days (``1月26日（周日）、2月8日（周六）上班。``),
combined holidays (``国庆节、中秋节：``), full-width or ASCII punctuation, ``周四`` or
``星期四``. Checks, each failing with a Chinese message naming the line: a weekday in
brackets matches its date, ``共N天`` matches the range, every statutory holiday of the
year is a rest day, each of the seven holidays has its paragraph, no day is both off and on.
Sentences that are not rules (``鼓励……安排职工在除夕（2月9日）休息``) are left out, as the
official data leaves them out.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from xfsheets.workdays import (STATUTORY_HOLIDAYS, STATUTORY_SINCE, WEEKDAYS, WORK_SUFFIX, DayOverride, statutory_days)
from xfsheets.errors import ConfigError

HOLIDAY_ORDER = tuple(h.name for h in STATUTORY_HOLIDAYS)
STATUTORY_LENGTH = {h.name: h.days for h in STATUTORY_HOLIDAYS}
NOTICE_TITLE = "国务院办公厅关于{year}年部分节假日安排的通知"
DOCX_TEXT_LIMIT = 20 * 1024 * 1024  # uncompressed word/document.xml; a notice is a few kB

_NAME = "|".join(HOLIDAY_ORDER)
# After NFKC folding: "：（），" are ASCII. A paragraph: optional 一、 numbering, holiday name(s), colon, body.
_SECTION = re.compile(rf"^(?:[一二三四五六七八九十]+\s*[、.]\s*)?((?:{_NAME})(?:\s*[、和]\s*(?:{_NAME}))*)\s*:\s*(.*)$")
_NUMBERED = re.compile(r"^[一二三四五六七八九十]+\s*、")
_YEAR = re.compile(r"关于\s*(\d{4})\s*年\s*部分节假日|现将\s*(\d{4})\s*年")
_DATE = re.compile(r"(?:(\d{4})\s*年\s*)?(?:(\d{1,2})\s*月\s*)?(\d{1,2})\s*日(?:\s*\(([^)]*)\))?")
_WEEKDAY = re.compile(r"(?:周|星期)([一二三四五六日天])")
_TOTAL = re.compile(r"共\s*(\d+)\s*天")


@dataclass
class NoticeDay:
    day: dt.date
    work: bool
    name: str
    line: int


@dataclass
class NoticeSchedule:
    """What a notice says: its year, and each rest day and make-up workday (with the line it is on)."""

    year: int
    days: list[NoticeDay]
    file: str = ""

    @property
    def title(self) -> str:
        return NOTICE_TITLE.format(year=self.year)

    def overrides(self) -> list[DayOverride]:
        return [DayOverride(d.day, d.work, d.name, f"用户文件 {Path(self.file).name}" if self.file else "通知")
                for d in self.days]


def notice_text(path: str | Path) -> str:
    """The text of a notice file: .docx paragraphs, else a text file (UTF-8, GBK, BOM) via read_text."""
    from xfsheets.textfiles import read_text

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".doc" or suffix == ".wps":
        raise ConfigError(f"{path.suffix} 格式无法读取", file=path,
                          hint="请用 Word/WPS 另存为 .docx，或把通知全文复制到记事本存为 .txt")
    if suffix != ".docx":
        return read_text(path, "通知文件")
    if not path.exists():
        raise ConfigError("找不到通知文件", file=path, hint="请检查路径是否正确")
    try:
        with zipfile.ZipFile(path) as z:
            info = z.getinfo("word/document.xml")
            if info.file_size > DOCX_TEXT_LIMIT:
                raise ConfigError("通知文件的正文过大，不像一份节假日通知", file=path,
                                  hint="请把通知全文复制到记事本，存为 .txt 后再导入")
            xml = z.read(info)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ConfigError("无法读取这个 .docx 文件（文件损坏或不是 Word 文档）", file=path,
                          hint="请用 Word/WPS 打开后重新另存为 .docx，或把通知全文复制到记事本存为 .txt") from exc
    return _docx_paragraphs(xml, path)


def _docx_paragraphs(xml: bytes, path: Path) -> str:
    import xml.etree.ElementTree as ET

    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise ConfigError("无法读取这个 .docx 文件的正文", file=path,
                          hint="请用 Word/WPS 打开后重新另存为 .docx，或把通知全文复制到记事本存为 .txt") from exc
    lines = []
    for p in root.iter(f"{w}p"):
        parts = []
        for el in p.iter():
            if el.tag == f"{w}t" and el.text:
                parts.append(el.text)
            elif el.tag == f"{w}tab":
                parts.append("\t")
            elif el.tag in (f"{w}br", f"{w}cr"):
                parts.append("\n")
        lines.append("".join(parts))
    return "\n".join(lines)


def read_notice(path: str | Path, year: int | None = None) -> NoticeSchedule:
    """Read a notice file (.txt/.docx) into its schedule."""
    return parse_notice(notice_text(path), year=year, file=str(path))


def parse_notice(text: str, year: int | None = None, file: str = "") -> NoticeSchedule:
    """The schedule a notice's text sets out; ``year`` when the text lacks its title line."""
    lines = [unicodedata.normalize("NFKC", line).strip() for line in text.splitlines()]
    found = year
    for line in lines:
        m = _YEAR.search(line)
        if m:
            found = int(m.group(1) or m.group(2))
            if year is not None and found != year:
                raise ConfigError(f"通知写的是 {found} 年，与 --year {year} 不符", file=file or None,
                                  row=lines.index(line) + 1, hint="请去掉 --year，或核对通知是否是要导入的那一年")
            break
    if found is None:
        raise ConfigError("没有找到通知的年份（如“关于2027年部分节假日安排的通知”或“现将2027年元旦……”）",
                          file=file or None, hint="请粘贴通知全文（含标题），或用 --year 2027 指明年份")
    days: dict[dt.date, NoticeDay] = {}
    seen: dict[str, int] = {}
    statutory = statutory_days(found) if found >= STATUTORY_SINCE else {}
    for number, line in enumerate(lines, 1):
        m = _SECTION.match(line)
        if not m:
            if _NUMBERED.match(line) and ("放假" in line or "上班" in line):
                raise ConfigError(f"「{_short(line)}」看不出是哪个节日的安排", file=file or None, row=number,
                                  hint=f"每段应以节日名称和冒号开头，如“一、元旦：”；节日名称为 {'、'.join(HOLIDAY_ORDER)}")
            continue
        names = [n for n in re.split(r"\s*[、和]\s*", m.group(1)) if n]
        for n in names:
            if n in seen:
                raise ConfigError(f"又出现了“{n}”的安排（第 {seen[n]} 行已有）", file=file or None,
                                  row=number, hint="请检查是否把通知粘贴了两遍")
            seen[n] = number
        for d in _section_days(m.group(2), found, names, statutory, number, file):
            other = days.get(d.day)
            if other is not None and other.work != d.work:
                raise ConfigError(f"{d.day.isoformat()} 既是放假日又是上班日（另见第 {other.line} 行）",
                                  file=file or None, row=number, hint="请核对通知原文")
            days.setdefault(d.day, d)
    missing = [n for n in HOLIDAY_ORDER if n not in seen]
    if len(missing) == len(HOLIDAY_ORDER):
        raise ConfigError("没有找到任何节日的安排（如“一、元旦：1月1日至3日放假调休，共3天。”）", file=file or None,
                          hint="请粘贴国务院办公厅通知的全文，每个节日一段")
    if missing:
        raise ConfigError(f"通知中没有找到 {'、'.join(missing)} 的安排", file=file or None,
                          hint="请检查是否完整粘贴了通知全文（元旦、春节、清明节、劳动节、端午节、中秋节、国庆节各一段）")
    rest = {d.day for d in days.values() if not d.work}
    for day, name in sorted(statutory.items()):
        if day not in rest:
            raise ConfigError(f"{day.isoformat()}（{name}）是法定节假日，但通知里没有把它列为放假日",
                              file=file or None, row=seen.get(name),
                              hint="请核对这一段的日期和通知的年份是否抄写正确")
    return NoticeSchedule(found, sorted(days.values(), key=lambda d: d.day), file)


def _short(line: str, limit: int = 40) -> str:
    return line if len(line) <= limit else line[:limit] + "……"


def _clauses(body: str) -> list[str]:
    """Split a paragraph body at 。，；, but not inside brackets."""
    out, depth, cur = [], 0, []
    for ch in body:
        depth += ch == "("
        depth -= ch == ")" and depth > 0
        if depth == 0 and ch in "。,;":
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return [c.strip() for c in out if c.strip()]


def _section_days(body: str, year: int, names: list[str], statutory: dict[dt.date, str], number: int,
                  file: str) -> list[NoticeDay]:
    """The days one holiday paragraph sets, checked against its weekdays and 共N天."""
    def fail(what: str, hint: str = "请核对通知原文，改正后再导入") -> ConfigError:
        return ConfigError(what, file=file or None, row=number, hint=hint)

    # In a combined paragraph a day is named after the holiday it statutorily belongs to; the other
    # days and the make-up workdays after the longer holiday (国庆节 in 国庆节、中秋节).
    principal = max(names, key=lambda n: (STATUTORY_LENGTH.get(n, 0), -names.index(n)))
    out: list[NoticeDay] = []
    last_range: list[dt.date] = []
    month = None
    for clause in _clauses(body):
        matches = list(_DATE.finditer(clause))
        skeleton = clause
        for m in reversed(matches):
            skeleton = skeleton[:m.start()] + "D" + skeleton[m.end():]
        skeleton = re.sub(r"\s+", "", skeleton)
        dates = []
        for m in matches:
            y = int(m.group(1)) if m.group(1) else None
            if m.group(2):
                month = int(m.group(2))
            if month is None:
                raise fail(f"「{m.group(0)}」没有写月份")
            if y is None:
                y = dates[-1].year if dates and m.group(2) is None else year
            try:
                day = dt.date(y, month, int(m.group(3)))
            except ValueError:
                raise fail(f"「{m.group(0)}」不是一个有效的日期") from None
            wd = _WEEKDAY.search(m.group(4) or "")
            if wd and WEEKDAYS[day.weekday()] != wd.group(1).replace("天", "日"):
                raise fail(f"「{m.group(0)}」写的是{wd.group(0)}，但 {day.isoformat()} 是星期{WEEKDAYS[day.weekday()]}",
                           "请核对通知的年份和这一天的日期")
            dates.append(day)
        total = _TOTAL.search(clause)
        if total and last_range and int(total.group(1)) != len(last_range) and not dates:
            raise fail(f"写的是共{total.group(1)}天，但 {last_range[0].isoformat()} 至 {last_range[-1].isoformat()} "
                       f"是 {len(last_range)} 天")
        if not dates:
            continue
        if "放假" in skeleton and "上班" not in skeleton:
            head = skeleton.split("放假", 1)[0]
            if head.endswith(("D至D", "D到D", "D-D")) and len(dates) == 2:
                first, last = dates
                if last < first:
                    raise fail(f"放假区间 {first.isoformat()} 至 {last.isoformat()} 的结束日早于开始日")
                span = [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]
            elif head.endswith("D") and len(dates) == 1:
                span = dates
            else:
                raise fail(f"「{_short(clause)}」中的放假日期看不懂", "放假应写成“1月1日至3日放假”或“1月1日放假”的形式")
            last_range = span
            if total and int(total.group(1)) != len(span):
                raise fail(f"写的是共{total.group(1)}天，但 {span[0].isoformat()} 至 {span[-1].isoformat()} 是 {len(span)} 天")
            for d in span:
                name = statutory.get(d) if statutory.get(d) in names else principal
                out.append(NoticeDay(d, False, name, number))
        elif "上班" in skeleton and "放假" not in skeleton:
            head = skeleton.split("上班", 1)[0]
            if not re.fullmatch(r"D(?:[、和]D)*", head):
                raise fail(f"「{_short(clause)}」中的上班日期看不懂", "上班日应写成“1月26日（周日）、2月8日（周六）上班”的形式")
            out.extend(NoticeDay(d, True, f"{principal}{WORK_SUFFIX}", number) for d in dates)
        elif "放假" in skeleton or "上班" in skeleton:
            raise fail(f"「{_short(clause)}」同时写了放假和上班，看不出哪天放假、哪天上班",
                       "请把放假和上班分成两句，用句号隔开，如通知原文")
        # any other sentence with a date (鼓励……在除夕（2月9日）休息) is advice, not a rule
    if not any(not d.work for d in out):
        raise fail(f"“{'、'.join(names)}”一段没有找到放假日期", "应写成“1月1日至3日放假调休，共3天。”的形式")
    return out
