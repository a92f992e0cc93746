"""The Chinese working-day calendar: official holidays and make-up workdays (调休).

Official data comes from the ``chinese-calendar`` package; the user's holiday file
(``--holidays F``: an .xlsx sheet or CSV with 日期, 类型 休/班, 名称) adds or overrides days,
so a new year's schedule can be entered the day the State Council publishes it
(``xfsheets calendar import 通知.txt`` writes that file from the notice itself, see
:mod:`xfsheets.holiday_notice`). A holiday file makes a year *known* only when it says it
lists the whole year: a row whose 日期 cell reads ``2027年全年`` (:data:`WHOLE_YEAR_RE`).
A year that no data covers is *unknown*: a deadline that depends on it must say so, not
guess, unless an estimate is explicitly accepted (``--assume-weekends``). The estimate of
an unknown year rests on weekends plus the fixed statutory holidays of the
全国年节及纪念日放假办法 (:data:`STATUTORY_HOLIDAYS`, art. 2; lunar dates from ``lunardate``,
清明 from chinese-calendar's solar terms) and their 补假 (art. 6: a statutory day on a weekend is
made up on the following workday), both certain by law; the notice's 调休 cannot be estimated
and is said not to be (:data:`ESTIMATE_CAVEAT`). Every result that uses it is marked 预估.

Everything is precomputed as day arrays so that deadlines are vectorised:
``is_work[i]`` for day ``origin + i`` and ``cum_work`` its running count.
"""
from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass, field as dc_field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xfsheets.errors import ConfigError

HOLIDAY_NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节", "National Day": "国庆节", "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}
WEEKDAYS = "一二三四五六日"
REST_WORDS = {"休", "休息", "假", "放假", "节假日", "holiday", "rest"}
WORK_WORDS = {"班", "上班", "调休上班", "补班", "工作日", "workday", "work"}
WORK_SUFFIX = "调休上班"  # a make-up workday's name: the holiday's name + this


@dataclass(frozen=True)
class StatutoryHoliday:
    """One holiday of the 全国年节及纪念日放假办法 (art. 2): where its first day falls and how many days."""

    name: str
    kind: str  # "solar" (month/day), "lunar" (lunar month/day, ``offset`` days from it) or "solar_term"
    month: int = 0
    day: int = 0
    days: int = 1
    offset: int = 0
    term: str = ""


# 全国年节及纪念日放假办法, as revised 2024-11-10 (in force 2025-01-01), art. 2: the days all citizens
# have off. 春节 runs from 除夕 (the day before lunar 1/1) to lunar 1/3.
STATUTORY_HOLIDAYS = (
    StatutoryHoliday("元旦", "solar", 1, 1, 1),
    StatutoryHoliday("春节", "lunar", 1, 1, 4, offset=-1),
    StatutoryHoliday("清明节", "solar_term", term="清明"),
    StatutoryHoliday("劳动节", "solar", 5, 1, 2),
    StatutoryHoliday("端午节", "lunar", 5, 5, 1),
    StatutoryHoliday("中秋节", "lunar", 8, 15, 1),
    StatutoryHoliday("国庆节", "solar", 10, 1, 3),
)
# The earlier texts, used to check an old notice (every statutory day must be one of its rest days):
# the 2007 revision (in force 2008-01-01) gave 春节 除夕 to 初二 and 劳动节 one day; the 2013 revision
# (in force 2014-01-01) moved 春节 to 初一..初三.
STATUTORY_RULES = (
    (2008, (StatutoryHoliday("元旦", "solar", 1, 1, 1), StatutoryHoliday("春节", "lunar", 1, 1, 3, offset=-1),
            StatutoryHoliday("清明节", "solar_term", term="清明"), StatutoryHoliday("劳动节", "solar", 5, 1, 1),
            *STATUTORY_HOLIDAYS[4:])),
    (2014, (StatutoryHoliday("元旦", "solar", 1, 1, 1), StatutoryHoliday("春节", "lunar", 1, 1, 3),
            StatutoryHoliday("清明节", "solar_term", term="清明"), StatutoryHoliday("劳动节", "solar", 5, 1, 1),
            *STATUTORY_HOLIDAYS[4:])),
    (2025, STATUTORY_HOLIDAYS),
)
STATUTORY_SINCE = 2025  # the first year the 2024 revision governs; earlier years are not estimated
STATUTORY_SOURCE = "《全国年节及纪念日放假办法》"
ESTIMATE_MARK = "预估"
MAKEUP_SUFFIX = "补假"  # art. 6: a statutory day on a Saturday or Sunday is made up on the following workday
# What an estimate rests on, and what it cannot know, said wherever an estimate is shown.
ESTIMATE_BASIS = {"statutory": "第二条 法定节假日", "makeup": "第六条 节日逢周末补假"}
ESTIMATE_CAVEAT = (f"预估只含依法确定的放假日：{STATUTORY_SOURCE}第二条的法定节假日，和第六条的补假"
                   "（节日逢周六、周日，在其后的工作日补假）。"
                   "通知通常还会调休（把假期连成整段，另定周末上班），这些只是可能，无法预估，未计入；"
                   "按预估算出的日期都标“预估”，以通知公布后的安排为准")
# A holiday file row that says the file lists every rest day and make-up workday of a year:
# 日期 column "2027年全年" (类型 blank or 全年). `xfsheets calendar import` writes it.
WHOLE_YEAR_RE = re.compile(r"^\s*(\d{4})\s*年?\s*全年\s*$")
WHOLE_YEAR_KIND = "全年"


def whole_year_text(year: int) -> str:
    return f"{year}年全年"


def statutory_days(year: int) -> dict[dt.date, str]:
    """The statutory holidays of ``year`` (day -> name), by the text of the 放假办法 in force that year
    (empty before 2008)."""
    from chinese_calendar import get_solar_terms
    from lunardate import LunarDate

    rules = [holidays for since, holidays in STATUTORY_RULES if since <= year]
    if not rules:
        return {}
    out: dict[dt.date, str] = {}
    for h in rules[-1]:
        if h.kind == "solar":
            first = dt.date(year, h.month, h.day)
        elif h.kind == "lunar":
            first = LunarDate(year, h.month, h.day).to_solar_date() + dt.timedelta(days=h.offset)
        else:
            terms = get_solar_terms(dt.date(year, 1, 1), dt.date(year, 12, 31))
            first = next(d for d, name in terms if name == h.term)
        for k in range(h.days):
            out[first + dt.timedelta(days=k)] = h.name
    return out


def makeup_days(year: int) -> dict[dt.date, str]:
    """Art. 6 补假: each statutory day of ``year`` on a Saturday or Sunday gives the first following
    Monday-to-Friday that is neither a statutory day nor already a 补假 (day -> holiday name)."""
    statutory = statutory_days(year)
    out: dict[dt.date, str] = {}
    for day, name in sorted(statutory.items()):
        if day.weekday() < 5:
            continue
        d = day + dt.timedelta(days=1)
        while d.weekday() >= 5 or d in statutory or d in out:
            d += dt.timedelta(days=1)
        out[d] = name
    return out


def estimated_rest_days(year: int) -> dict[dt.date, tuple[str, str]]:
    """The rest days the law fixes for ``year`` before any notice: day -> (name, basis key of
    :data:`ESTIMATE_BASIS`). The notice's 调休 (moved weekends) cannot be known and is not here."""
    out = {d: (n, "statutory") for d, n in statutory_days(year).items()}
    out.update({d: (f"{n}{MAKEUP_SUFFIX}", "makeup") for d, n in makeup_days(year).items()})
    return out


def missing_year_hint(year: int) -> str:
    """The one way to add a year's schedule, said wherever a year is missing."""
    return (f"国务院办公厅公布 {year} 年放假安排后，把通知全文存为 通知.txt，运行 xfsheets calendar import 通知.txt "
            f"-o {year}节假日.xlsx，再用 --holidays {year}节假日.xlsx")


@dataclass
class DayOverride:
    day: dt.date
    work: bool
    name: str
    source: str  # "官方（chinese-calendar）" or the user's file


@dataclass
class HolidaySchedule:
    """A holiday file's days, and the years it says it lists in full (its 全年 rows)."""

    days: list[DayOverride]
    whole_years: set[int]


@dataclass
class WorkCalendar:
    """Official calendar plus user overrides, as vectorised day arrays.

    ``known[i]``: day ``i`` lies in a year whose schedule some data lists in full (chinese-calendar,
    or a holiday file's 全年 row). ``estimated[i]``: it does not, and ``is_work[i]`` is the estimate
    (weekends and, from 2025, the statutory holidays, marked 预估 in ``names``), with any day the
    user's file names on top.
    """

    overrides: dict[dt.date, DayOverride] = dc_field(default_factory=dict)
    first_year: int = 2004
    last_year: int = 2026
    user_years: set[int] = dc_field(default_factory=set)  # years a holiday file lists in full
    span_years: tuple[int, int] = (2000, 2040)
    user_files: list[str] = dc_field(default_factory=list)

    def __post_init__(self) -> None:
        lo, hi = self.span_years
        self.origin = np.datetime64(f"{lo}-01-01", "D")
        end = np.datetime64(f"{hi + 1}-01-01", "D")
        days = np.arange(self.origin, end)
        weekday = (days.astype("int64") - 4) % 7  # 1970-01-01 was a Thursday: 0 = Monday
        self.is_work = weekday < 5
        self.names = np.full(len(days), "", dtype=object)
        self.estimate_days: dict[dt.date, str] = {}
        self.estimate_basis: dict[dt.date, str] = {}  # day -> key of ESTIMATE_BASIS
        for year in range(max(lo, STATUTORY_SINCE), hi + 1):
            if not self.year_known(year):
                for day, (name, basis) in estimated_rest_days(year).items():
                    self.estimate_days[day] = name
                    self.estimate_basis[day] = basis
        for day, name in self.estimate_days.items():
            i = int((np.datetime64(day, "D") - self.origin).astype(int))
            self.is_work[i] = False
            self.names[i] = f"{name}（{ESTIMATE_MARK}）"
        for o in self.overrides.values():
            i = int((np.datetime64(o.day, "D") - self.origin).astype(int))
            if 0 <= i < len(days):
                self.is_work[i] = o.work
                self.names[i] = o.name
        years = days.astype("datetime64[Y]").astype(int) + 1970
        self.year_of = years
        self.known = ((years >= self.first_year) & (years <= self.last_year)) | np.isin(years, list(self.user_years))
        self.estimated = ~self.known
        self.cum_work = np.cumsum(self.is_work)
        self.days = days

    # -- construction ------------------------------------------------------------
    @classmethod
    def official(cls, holidays_file: str | Path | None = None, span_years: tuple[int, int] = (2000, 2040)) -> "WorkCalendar":
        from chinese_calendar import constants

        overrides: dict[dt.date, DayOverride] = {}
        for day, name in constants.holidays.items():
            overrides[day] = DayOverride(day, False, HOLIDAY_NAMES.get(name, name), "官方（chinese-calendar）")
        for day, name in constants.workdays.items():
            overrides[day] = DayOverride(day, True, f"{HOLIDAY_NAMES.get(name, name)}{WORK_SUFFIX}", "官方（chinese-calendar）")
        years = [d.year for d in constants.holidays]
        first, last = min(years), max(years)
        user_years: set[int] = set()
        files: list[str] = []
        if holidays_file:
            schedule = read_holiday_schedule(holidays_file)
            for o in schedule.days:
                overrides[o.day] = o
            user_years = schedule.whole_years
            files.append(Path(holidays_file).name)
        return cls(overrides=overrides, first_year=first, last_year=last, user_years=user_years, span_years=span_years,
                   user_files=files)

    # -- lookups -------------------------------------------------------------------
    def index(self, day: Any) -> int:
        i = int((np.datetime64(day, "D") - self.origin).astype(int))
        if not 0 <= i < len(self.days):
            first, last = self.span_years
            raise ConfigError(f"日期 {np.datetime64(day, 'D')} 超出了可计算的范围（{first}–{last} 年）",
                              hint="请检查 --as-of 或台账中的日期是否写错")
        return i

    def indexes(self, days: pd.Series) -> np.ndarray:
        """Day indexes of a datetime64 series (NaT -> -1); out-of-span dates -> -1."""
        values = days.to_numpy(dtype="datetime64[D]")
        idx = (values - self.origin).astype("int64")
        bad = np.isnat(values) | (idx < 0) | (idx >= len(self.days))
        idx[bad] = -1
        return idx

    def year_known(self, year: int) -> bool:
        return self.first_year <= year <= self.last_year or year in self.user_years

    def describe_day(self, day: dt.date) -> str:
        i = self.index(day)
        name = self.names[i]
        if name:
            return name + ("" if self.is_work[i] else "放假")
        return f"星期{WEEKDAYS[day.weekday()]}"

    def year_table(self, year: int) -> pd.DataFrame:
        """Rest days on weekdays, make-up workdays and holidays of ``year``, with where they came from."""
        rows = [o for d, o in sorted(self.overrides.items()) if d.year == year]
        return pd.DataFrame([{"日期": o.day.isoformat(), "星期": f"星期{WEEKDAYS[o.day.weekday()]}",
                              "类型": "班" if o.work else "休", "名称": o.name, "来源": o.source} for o in rows],
                            columns=["日期", "星期", "类型", "名称", "来源"])

    def estimate_table(self, year: int) -> pd.DataFrame:
        """The rest days an estimate of ``year`` rests on, each with its article (empty for a known year):
        the statutory holidays (art. 2) and their 补假 (art. 6), both certain by law; the notice's 调休
        is not in it (:data:`ESTIMATE_CAVEAT`)."""
        rows = [(d, n) for d, n in sorted(self.estimate_days.items()) if d.year == year and d not in self.overrides]
        return pd.DataFrame([{"日期": d.isoformat(), "星期": f"星期{WEEKDAYS[d.weekday()]}", "类型": "休",
                              "名称": n, "依据": ESTIMATE_BASIS[self.estimate_basis[d]],
                              "来源": f"{ESTIMATE_MARK}（依法确定）"} for d, n in rows],
                            columns=["日期", "星期", "类型", "名称", "依据", "来源"])

    def missing_year_reason(self, year: int) -> str:
        """Why ``year`` is not known (Chinese): not published/collected yet, or a holiday file lists only part of it."""
        partial = self.user_files and year > self.last_year and any(
            d.year == year and o.source.startswith("用户文件") for d, o in self.overrides.items())
        if partial:
            return (f"{year}年的节假日安排尚未收录完整（节假日文件只列了 {year} 年的部分日子，"
                    f"没有“{whole_year_text(year)}”一行）")
        return f"{year}年的节假日安排尚未收录（官方数据覆盖 {self.first_year}-{self.last_year} 年）"

    def missing_year_text(self, year: int) -> str:
        """Why ``year`` is unknown and the one command that adds it (Chinese)."""
        return f"{self.missing_year_reason(year)}。{missing_year_hint(year)}"


HOLIDAY_COLUMNS = ["日期", "类型", "名称"]


def read_holiday_file(path: str | Path) -> list[DayOverride]:
    """The days of the user's holiday file (see :func:`read_holiday_schedule`)."""
    return read_holiday_schedule(path).days


def read_holiday_schedule(path: str | Path) -> HolidaySchedule:
    """The user's holiday file: columns 日期, 类型 (休/班), 名称 (optional). .xlsx or .csv.
    A row whose 日期 reads ``2027年全年`` says the file lists all of 2027 (makes the year known)."""
    from xfsheets.normalize import parse_date

    path = Path(path)
    if not path.exists():
        raise ConfigError("找不到节假日文件", file=path, hint="请检查 --holidays 的路径")
    if path.suffix.lower() == ".csv":
        import io

        from xfsheets.textfiles import read_text

        rows = [list(r) for r in csv.reader(io.StringIO(read_text(path, "节假日文件"), newline=""))]
        sheet = None
    else:
        from xfsheets.reader import open_workbook

        wb = open_workbook(path)
        sheet = wb.sheet_names[0]
        rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    if not rows:
        raise ConfigError("节假日文件是空的", file=path, hint="第一行写 日期、类型、名称，下面每行一天")
    header = [str(c).strip() for c in rows[0]]
    try:
        c_day, c_kind = header.index("日期"), header.index("类型")
    except ValueError:
        raise ConfigError("节假日文件第一行应有“日期”和“类型”两列（可再加“名称”）", file=path, sheet=sheet, row=1,
                          hint="例如：日期 | 类型 | 名称，下面写 2027-01-01 | 休 | 元旦") from None
    c_name = header.index("名称") if "名称" in header else None
    out = []
    whole: set[int] = set()
    for r, row in enumerate(rows[1:], 2):
        if not any(str(v).strip() for v in row):
            continue
        cell = row[c_day] if c_day < len(row) else None
        kind = str(row[c_kind]).strip() if c_kind < len(row) and row[c_kind] is not None else ""
        marker = WHOLE_YEAR_RE.match(str(cell)) if isinstance(cell, str) else None
        if marker:
            if kind not in ("", WHOLE_YEAR_KIND):
                raise ConfigError(f"“{cell}”一行的类型应空着或写“{WHOLE_YEAR_KIND}”，不能是「{kind}」", file=path,
                                  sheet=sheet, row=r, column=chr(ord("A") + c_kind),
                                  hint="这一行只说明本文件列全了该年的放假和调休上班日")
            whole.add(int(marker.group(1)))
            continue
        day = parse_date(cell)
        col_day = chr(ord("A") + c_day)
        if day is None:
            raise ConfigError(f"日期「{cell if cell is not None else ''}」无法识别", file=path, sheet=sheet, row=r,
                              column=col_day, hint="请写成 2027-01-01 的形式（说明列全一年的那行写 2027年全年）")
        if kind not in REST_WORDS | WORK_WORDS:
            raise ConfigError(f"类型「{kind}」无法识别", file=path, sheet=sheet, row=r, column=chr(ord("A") + c_kind),
                              hint="放假写“休”，调休上班写“班”")
        name = str(row[c_name]).strip() if c_name is not None and c_name < len(row) and row[c_name] is not None else ""
        out.append(DayOverride(day, kind in WORK_WORDS, name or (WORK_SUFFIX if kind in WORK_WORDS else "放假"),
                               f"用户文件 {path.name}"))
    return HolidaySchedule(out, whole)


def holiday_rows(days: list[DayOverride], whole_years: set[int] | tuple[int, ...] = (), source: str = "") -> pd.DataFrame:
    """The rows of a holiday file: the 全年 rows first, then one row per day (ISO dates as text)."""
    rows = [{"日期": whole_year_text(y), "类型": WHOLE_YEAR_KIND, "名称": source} for y in sorted(whole_years)]
    rows += [{"日期": o.day.isoformat(), "类型": "班" if o.work else "休", "名称": o.name}
             for o in sorted(days, key=lambda o: o.day)]
    return pd.DataFrame(rows, columns=HOLIDAY_COLUMNS)


TEMPLATE_HELP = (
    "第一行是列名，不要改动。每行写一天：日期写成 2027-01-01；类型写“休”（放假，含落在周末的假日）或“班”"
    "（周末调休上班）；名称写节日，如 春节、春节调休上班。",
    "按国务院办公厅通知把 {year} 年的放假日和调休上班日全部填好后，再加一行：日期写“{year}年全年”，类型写“全年”。"
    "有了这一行，程序才认为 {year} 年已经收录；只列了部分日子而没有这一行时，该年仍按“尚未收录”处理。",
    "更省事的办法：把通知全文存为 通知.txt（或 .docx），运行 xfsheets calendar import 通知.txt -o {year}节假日.xlsx，"
    "程序会自动写出这个文件（含“{year}年全年”一行）。",
    "使用：xfsheets deadlines 台账.xlsx --holidays {year}节假日.xlsx",
)


def write_holiday_file(path: str | Path, frame: pd.DataFrame, inputs: list[str | Path] | tuple = (),
                       help_year: int | None = None) -> Path:
    """Write a holiday file (.xlsx or .csv) through the output gate; with ``help_year`` an .xlsx gets
    a second sheet 填写说明."""
    from xfsheets.outputs import output_file
    from xfsheets.writer import Table, atomic_path, write_tables

    path = output_file(path, inputs, suffixes=(".xlsx", ".csv"), what="节假日文件")
    if path.suffix.lower() == ".csv":
        text = frame.to_csv(index=False, lineterminator="\r\n")
        with atomic_path(path, inputs) as tmp:
            tmp.write_text(text, encoding="utf-8-sig", newline="")  # Excel opens a UTF-8 CSV with a BOM
        return path
    tables = [Table("节假日", frame.astype(object), widths={"日期": 14, "类型": 8, "名称": 44})]
    if help_year is not None:
        tables.append(Table("填写说明", pd.DataFrame({"说明": [t.format(year=help_year) for t in TEMPLATE_HELP]}),
                            widths={"说明": 110}))
    return write_tables(path, tables, inputs=inputs)
