"""Next year's holiday schedule read from the State Council notice itself.

The 国务院办公厅关于YYYY年部分节假日安排的通知 has a fixed shape: one numbered paragraph per
holiday, e.g. ``一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。``.
:func:`read_notice` takes the text as published (a .txt in UTF-8 or GBK, or a .docx) and
returns every rest day and make-up workday with its holiday's name, plus the year, so that
:func:`xfsheets.workdays.write_holiday_file` can write the holiday file with its 全年 row.

Forms handled (every form the notices have used since 2008): ranges within a month (``1月1日至3日``,
``4月4日—6日``) and across months (``1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）``), explicit
years (``2018年12月30日至2019年1月1日``: a notice may move late-December days of the year before),
single days (``5月1日放假。``, ``1月1日放假，与周末连休。``, ``1月1日（周三）放假1天``), ``放假调休``,
``放假公休``, ``放假，共N天``, rest days in lieu (``1月1日放假，1月2日（星期一）补休``: a rest day),
several 上班 days (``1月26日（周日）、2月8日（周六）上班``, ``1月21日（星期六）、29日（星期日）上班``),
combined holidays (``国庆节、中秋节：``), the 2008 headings ``“五一”`` and ``“十一”`` and its explanations
(``其中，1月1日（星期二）为法定节假日……12月29日（星期六）公休日调至12月31日（星期一）``, checked against
the days the paragraph sets), full-width or ASCII punctuation, ``周四`` or ``星期四``. A dated clause that
is none of these is refused with its line, never skipped; only a sentence of advice
(``鼓励……安排职工在除夕（2月9日）休息``) is left out, as the official data leaves it out. Checks, each
failing with a Chinese message naming the line: a weekday in brackets matches its date, ``共N天`` matches
the range, every statutory holiday of the year (by the 放假办法 in force that year) is a rest day, each
of the seven holidays has its paragraph, no day is both off and on.

Parsing is linear in the text: a line longer than :data:`LINE_LIMIT` (a 3 MB paragraph of dates in a
6 KB .docx) or a text longer than :data:`TEXT_LIMIT` is refused before any date is read, and no
pattern backtracks over an unbounded run.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from xfsheets.workdays import (STATUTORY_HOLIDAYS, WEEKDAYS, WORK_SUFFIX, DayOverride, statutory_days)
from xfsheets.errors import ConfigError

HOLIDAY_ORDER = tuple(h.name for h in STATUTORY_HOLIDAYS)
STATUTORY_LENGTH = {h.name: h.days for h in STATUTORY_HOLIDAYS}
# Other names the notices have given a holiday in a paragraph's heading (2008: “五一”, “十一”).
HOLIDAY_ALIASES = {"“五一”": "劳动节", '"五一"': "劳动节", "五一劳动节": "劳动节", "“五一”国际劳动节": "劳动节",
                   "“十一”": "国庆节", '"十一"': "国庆节"}
NOTICE_TITLE = "国务院办公厅关于{year}年部分节假日安排的通知"
DOCX_TEXT_LIMIT = 20 * 1024 * 1024  # uncompressed word/document.xml; a notice is a few kB
TEXT_FILE_LIMIT = 1024 * 1024  # bytes of a .txt notice; a notice is a few kB
LINE_LIMIT = 2000  # characters in one line (a .docx paragraph); a notice's longest paragraph is a few hundred
TEXT_LIMIT = 200_000  # characters in the whole text

_NAME = "|".join(re.escape(n) for n in sorted((*HOLIDAY_ORDER, *HOLIDAY_ALIASES), key=len, reverse=True))
# After NFKC folding: "：（），" are ASCII. A paragraph: optional 一、 numbering, holiday name(s), colon, body.
_SECTION = re.compile(rf"^(?:[一二三四五六七八九十]+\s*[、.]\s*)?((?:{_NAME})(?:\s*[、和]\s*(?:{_NAME}))*)\s*:\s*(.*)$")
_NAME_SPLIT = re.compile(rf"{_NAME}")
_NUMBERED = re.compile(r"^[一二三四五六七八九十]+\s*、")
_YEAR = re.compile(r"关于\s*(\d{4})\s*年\s*部分节假日|现将\s*(\d{4})\s*年")
# A date, with what its brackets say (a weekday, 农历除夕); brackets are short, so a stray "(" costs nothing.
_DATE = re.compile(r"(?:(\d{4})\s*年\s*)?(?:(\d{1,2})\s*月\s*)?(\d{1,2})\s*日(?:\s*\(([^()]{0,40})\))?")
_WEEKDAY = re.compile(r"(?:周|星期)([一二三四五六日天])")
_TOTAL = re.compile(r"共\s*(\d+)\s*天")
_DAYS = re.compile(r"放假(\d+)天")  # 1月1日（周三）放假1天 (on a skeleton: no spaces)
# What a dated clause says, by its words (on the skeleton, dates as D): rest days, rest days in lieu
# (补休), make-up workdays; explanations (2008-2013); advice sentences.
_RULE_WORDS = (("rest", ("放假",)), ("in_lieu", ("补休",)), ("work", ("上班", "补班")))
_KIND_WORDS = {"rest": "放假", "in_lieu": "补休", "work": "上班"}
_EXPLAIN = ("为法定节假日", "为公休日", "照常公休", "调至")
_ADVICE = ("鼓励",)
_RANGE_END = re.compile(r"D(?:至|到|-|—|–|~|〜)D$")
_DAY_LIST = re.compile(r"D(?:[、和]D)*")


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
        if path.is_file() and path.stat().st_size > TEXT_FILE_LIMIT:
            raise ConfigError(f"通知文件有 {path.stat().st_size // 1024} KB，不像一份节假日通知（通知只有几 KB）",
                              file=path, hint="请只把通知全文复制到记事本，存为 .txt 后再导入")
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
    raw = text.splitlines()
    for number, line in enumerate(raw, 1):
        if len(line) > LINE_LIMIT:
            raise ConfigError(f"这一行有 {len(line)} 个字，不像节假日通知的一段（通知每段不过几百字）",
                              file=file or None, row=number,
                              hint="请只粘贴国务院办公厅通知的全文，每个节日一段；这份文件不像通知，未导入")
    if len(text) > TEXT_LIMIT:
        raise ConfigError(f"文字共有 {len(text)} 个字，不像一份节假日通知（通知只有一两千字）", file=file or None,
                          hint="请只粘贴国务院办公厅通知的全文；这份文件未导入")
    lines = [unicodedata.normalize("NFKC", line).strip() for line in raw]
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
    statutory = statutory_days(found)  # by the 放假办法 in force that year (none before 2008)
    for number, line in enumerate(lines, 1):
        m = _SECTION.match(line)
        if not m:
            if _NUMBERED.match(line) and any(w in line for w in ("放假", "补休", "上班")):
                raise ConfigError(f"「{_short(line)}」看不出是哪个节日的安排", file=file or None, row=number,
                                  hint=f"每段应以节日名称和冒号开头，如“一、元旦：”；节日名称为 {'、'.join(HOLIDAY_ORDER)}")
            continue
        names = [HOLIDAY_ALIASES.get(n, n) for n in _NAME_SPLIT.findall(m.group(1))]
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


def _sentences(body: str) -> list[list[str]]:
    """A paragraph body as sentences (split at 。；) of clauses (split at ，), never inside brackets.
    One pass over the text."""
    sentences: list[list[str]] = []
    clauses: list[str] = []
    depth, cur = 0, []
    for ch in body:
        depth += ch == "("
        depth -= ch == ")" and depth > 0
        if depth == 0 and ch in "。;,":
            clauses.append("".join(cur).strip())
            cur = []
            if ch != ",":
                sentences.append([c for c in clauses if c])
                clauses = []
        else:
            cur.append(ch)
    clauses.append("".join(cur).strip())
    sentences.append([c for c in clauses if c])
    return [s for s in sentences if s]


def _skeleton(clause: str, matches: list[re.Match]) -> str:
    """The clause with each date replaced by ``D`` and spaces dropped (built in one pass)."""
    pieces, pos = [], 0
    for m in matches:
        pieces.append(clause[pos:m.start()])
        pieces.append("D")
        pos = m.end()
    pieces.append(clause[pos:])
    return re.sub(r"\s+", "", "".join(pieces))


def _section_days(body: str, year: int, names: list[str], statutory: dict[dt.date, str], number: int,
                  file: str) -> list[NoticeDay]:
    """The days one holiday paragraph sets, checked against its weekdays, 共N天 and its own explanations.

    Each clause that carries a date is one of: rest days (``放假``: a range or one day), rest days in
    lieu (``X日（星期一）补休``), make-up workdays (``上班``), an explanation of the above (the 2008
    notices' ``其中……为法定节假日``, ``照常公休``, ``公休日调至``), checked against the days set; or,
    in a sentence of advice (``鼓励……``), nothing. Any other dated clause is refused with its line."""
    def fail(what: str, hint: str = "请核对通知原文，改正后再导入") -> ConfigError:
        return ConfigError(what, file=file or None, row=number, hint=hint)

    # In a combined paragraph a day is named after the holiday it statutorily belongs to; the other
    # days and the make-up workdays after the longer holiday (国庆节 in 国庆节、中秋节).
    principal = max(names, key=lambda n: (STATUTORY_LENGTH.get(n, 0), -names.index(n)))
    out: list[NoticeDay] = []
    explanations: list[tuple[str, list[dt.date], list[dt.date]]] = []
    last_range: list[dt.date] = []
    month = None
    last_year = year
    explicit: set[int] = set()
    for sentence in _sentences(body):
        if any(word in clause for clause in sentence for word in _ADVICE):
            continue  # 鼓励……安排职工在除夕（2月9日）休息: advice, not a rule (the official data leaves it out)
        for clause in sentence:
            matches = list(_DATE.finditer(clause))
            skeleton = _skeleton(clause, matches)
            dates = []
            for m in matches:
                if m.group(2):
                    month = int(m.group(2))
                if month is None:
                    raise fail(f"「{m.group(0)}」没有写月份")
                if m.group(1):
                    y = int(m.group(1))
                    explicit.add(y)
                elif m.group(2):  # a December date in a paragraph that names the year before (2008's 元旦)
                    y = year - 1 if month == 12 and year - 1 in explicit else year
                else:
                    y = last_year
                last_year = y
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
                continue  # 共3天、与周末连休、不调休、其中
            kinds = [kind for kind, words in _RULE_WORDS if any(w in skeleton for w in words)]
            explains = any(w in skeleton for w in _EXPLAIN)
            if len(kinds) > 1 or (kinds and explains):
                raise fail(f"「{_short(clause)}」一句里同时写了{'和'.join(_KIND_WORDS[k] for k in kinds) or '调整和放假'}，"
                           "看不出哪天放假、哪天上班", "请把放假、补休和上班分成几句，用逗号或句号隔开，如通知原文")
            if explains:
                split = skeleton.find("调至")
                before = skeleton[:split].count("D") if split >= 0 else len(dates)
                explanations.append((clause, dates[:before], dates[before:]))
                continue
            if not kinds:
                raise fail(f"「{_short(clause)}」写了日期，但看不出是放假、补休还是上班",
                           "通知里带日期的句子应是“……放假”“……补休”或“……上班”；请核对原文，"
                           "或把不属于安排的话删去后再导入")
            kind = kinds[0]
            if kind == "rest":
                head = skeleton.split("放假", 1)[0]
                if _RANGE_END.search(head) and len(dates) == 2:
                    first, last = dates
                    if last < first:
                        raise fail(f"放假区间 {first.isoformat()} 至 {last.isoformat()} 的结束日早于开始日")
                    span = [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]
                elif head.endswith("D") and len(dates) == 1:
                    span = dates
                else:
                    raise fail(f"「{_short(clause)}」中的放假日期看不懂", "放假应写成“1月1日至3日放假”或“1月1日放假”的形式")
                last_range = span
                stated = total or _DAYS.search(skeleton)
                if stated and int(stated.group(1)) != len(span):
                    raise fail(f"写的是{stated.group(0)}，但 {span[0].isoformat()} 至 {span[-1].isoformat()} 是 {len(span)} 天")
            else:
                word = next(w for w in dict(_RULE_WORDS)[kind] if w in skeleton)
                head = re.sub(r"(?:调休|照常)$", "", skeleton.split(word, 1)[0])
                if not _DAY_LIST.fullmatch(head):
                    what = "补休" if kind == "in_lieu" else "上班"
                    raise fail(f"「{_short(clause)}」中的{what}日期看不懂",
                               f"{what}日应写成“1月2日（星期一）{what}”或“1月26日（周日）、2月8日（周六）{what}”的形式")
                span = dates
            work = kind == "work"
            for d in span:
                if work:
                    out.append(NoticeDay(d, True, f"{principal}{WORK_SUFFIX}", number))
                else:
                    name = statutory.get(d) if statutory.get(d) in names else principal
                    out.append(NoticeDay(d, False, name, number))
    if not any(not d.work for d in out):
        raise fail(f"“{'、'.join(names)}”一段没有找到放假日期", "应写成“1月1日至3日放假调休，共3天。”的形式")
    rest = {d.day for d in out if not d.work}
    work = {d.day for d in out if d.work}
    for clause, before, after in explanations:
        # 其中……为法定节假日 / 照常公休: days off; 公休日调至: a weekend moved to a weekday off
        for d in before:
            if d not in rest and (d.weekday() < 5 or d in work) and not after:
                raise fail(f"「{_short(clause)}」说 {d.isoformat()} 放假，但这一段没有把它列为放假日")
            if after and d.weekday() < 5:
                raise fail(f"「{_short(clause)}」说把 {d.isoformat()} 调走，但这一天是星期{WEEKDAYS[d.weekday()]}，不是公休日")
        for d in after:
            if d not in rest:
                raise fail(f"「{_short(clause)}」说调至 {d.isoformat()} 休息，但这一段没有把它列为放假日")
    return out
