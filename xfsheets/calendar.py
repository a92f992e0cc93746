"""The Chinese working-day calendar: official holidays and make-up workdays (调休).

Official data comes from the ``chinese-calendar`` package; the user's holiday file
(``--holidays F``: an .xlsx sheet or CSV with 日期, 类型 休/班, 名称) adds or overrides days,
so a new year's schedule can be entered the day the State Council publishes it. A year
that no data covers is *unknown*: a deadline that depends on it must say so, not guess
(unless weekends-only counting is explicitly accepted).

Everything is precomputed as day arrays so that deadlines are vectorised:
``is_work[i]`` for day ``origin + i`` and ``cum_work`` its running count.
"""
from __future__ import annotations

import csv
import datetime as dt
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


@dataclass
class DayOverride:
    day: dt.date
    work: bool
    name: str
    source: str  # "官方（chinese-calendar）" or the user's file


@dataclass
class WorkCalendar:
    """Official calendar plus user overrides, as vectorised day arrays."""

    overrides: dict[dt.date, DayOverride] = dc_field(default_factory=dict)
    first_year: int = 2004
    last_year: int = 2026
    user_years: set[int] = dc_field(default_factory=set)
    span_years: tuple[int, int] = (2000, 2040)

    def __post_init__(self) -> None:
        lo, hi = self.span_years
        self.origin = np.datetime64(f"{lo}-01-01", "D")
        end = np.datetime64(f"{hi + 1}-01-01", "D")
        days = np.arange(self.origin, end)
        weekday = (days.astype("int64") - 4) % 7  # 1970-01-01 was a Thursday: 0 = Monday
        self.is_work = weekday < 5
        self.names = np.full(len(days), "", dtype=object)
        for o in self.overrides.values():
            i = int((np.datetime64(o.day, "D") - self.origin).astype(int))
            if 0 <= i < len(days):
                self.is_work[i] = o.work
                self.names[i] = o.name
        years = days.astype("datetime64[Y]").astype(int) + 1970
        self.year_of = years
        self.known = ((years >= self.first_year) & (years <= self.last_year)) | np.isin(years, list(self.user_years))
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
            overrides[day] = DayOverride(day, True, f"{HOLIDAY_NAMES.get(name, name)}调休上班", "官方（chinese-calendar）")
        years = [d.year for d in constants.holidays]
        first, last = min(years), max(years)
        user_years: set[int] = set()
        if holidays_file:
            for o in read_holiday_file(holidays_file):
                overrides[o.day] = o
                user_years.add(o.day.year)
        return cls(overrides=overrides, first_year=first, last_year=last, user_years=user_years, span_years=span_years)

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


def read_holiday_file(path: str | Path) -> list[DayOverride]:
    """The user's holiday file: columns 日期, 类型 (休/班), 名称 (optional). .xlsx or .csv."""
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
    for r, row in enumerate(rows[1:], 2):
        if not any(str(v).strip() for v in row):
            continue
        day = parse_date(row[c_day] if c_day < len(row) else None)
        col_day = chr(ord("A") + c_day)
        if day is None:
            raise ConfigError(f"日期「{row[c_day] if c_day < len(row) else ''}」无法识别", file=path, sheet=sheet, row=r,
                              column=col_day, hint="请写成 2027-01-01 的形式")
        kind = str(row[c_kind]).strip() if c_kind < len(row) else ""
        if kind not in REST_WORDS | WORK_WORDS:
            raise ConfigError(f"类型「{kind}」无法识别", file=path, sheet=sheet, row=r, column=chr(ord("A") + c_kind),
                              hint="放假写“休”，调休上班写“班”")
        name = str(row[c_name]).strip() if c_name is not None and c_name < len(row) and row[c_name] is not None else ""
        out.append(DayOverride(day, kind in WORK_WORDS, name or ("调休上班" if kind in WORK_WORDS else "放假"),
                               f"用户文件 {path.name}"))
    return out
