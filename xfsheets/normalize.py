"""Normalising cell values: dates in every form people type, vocabulary words, text.

Nothing here invents a value: what cannot be understood becomes missing in the
normalised column while the ledger's ``raw`` frame keeps it as typed, so the checker
can report it (``bad_date``) with the value the user sees.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

from xfsheets.schema import CHANNEL_ALIASES, CHANNELS, STATUS_ALIASES, STATUSES

EXCEL_EPOCH = np.datetime64("1899-12-30")
# Serial numbers Excel shows as dates 1950-01-01 .. 2100-12-31 (General-formatted date cells).
_SERIAL_MIN, _SERIAL_MAX = 18264, 73415

# 2026-03-05, 2026/3/5, 2026.3.5, 2026年3月5日(号), 2026-03-05 10:30(:00), with spaces tolerated;
# "2026年6月30日前" (a deadline: by that day) is that day.
_DATE_RE = re.compile(
    r"^\s*(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?\s*(?:之前|以前|前)?"
    r"(?:[\sT]+\d{1,2}[:：]\d{1,2}(?:[:：]\d{1,2}(?:\.\d+)?)?)?\s*$"
)
# 二〇二六年三月五日 (documents write dates in Chinese numerals): turned into digits, then read as above.
_CN_NUMERAL = "〇○零一二三四五六七八九十"
_CN_DATE_RE = re.compile(rf"^\s*(?P<y>[{_CN_NUMERAL}\d]{{4}})\s*年\s*(?P<m>[{_CN_NUMERAL}]{{1,3}}|\d{{1,2}})\s*月"
                         rf"\s*(?P<d>[{_CN_NUMERAL}]{{1,3}}|\d{{1,2}})\s*(?P<rest>[日号].*)?$")
_CN_YEAR_DIGITS = str.maketrans("〇○零一二三四五六七八九", "000123456789")
_COMPACT_RE = re.compile(r"^\s*(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})\s*$")
# 3月5日 / 3月5号: a date without its year (the year comes from the sheet, else it is unreadable).
MONTH_DAY_RE = re.compile(r"^\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?\s*$")
# Marks people type for "not applicable / nothing": read as blank, never as a bad value.
_NA_RE = re.compile(r"^[\s/／\\\-－—–_~～、.。]*$|^\s*(无|暂无|不适用|未定|N/?A)\s*$", re.I)
_YEAR_RE = re.compile(r"((?:19|20)\d{2})\s*年")


def cn_numeral_date(text: str) -> str:
    """``二〇二六年三月十五日`` -> ``2026年3月15日`` (text that is not such a date is returned as is)."""
    m = _CN_DATE_RE.match(text)
    if not m or not any(c in _CN_NUMERAL for c in text):
        return text
    month, day = _cn_number(m["m"]), _cn_number(m["d"])
    if month is None or day is None:
        return text
    return f"{m['y'].translate(_CN_YEAR_DIGITS)}年{month}月{day}{m['rest'] or '日'}"


def is_date_state(value: Any) -> bool:
    """A word in a date column that is a state, not a date: 长期稳控, 长期, 待定 (schema.DATE_STATES)."""
    from xfsheets.schema import DATE_STATES

    return type(value) is str and re.sub(r"\s+", "", unicodedata.normalize("NFKC", value)) in DATE_STATES


def is_na_mark(value: Any) -> bool:
    """Text such as ``/``, ``—``, ``-``, ``无`` that means "not applicable" (blank)."""
    return type(value) is str and bool(_NA_RE.match(unicodedata.normalize("NFKC", value)))


def year_hint(*texts: Any) -> int | None:
    """The year a ledger's month-day dates belong to: the first "2026年" (or 2026-03-31 style date)
    found in ``texts`` (填报日期, sheet name, title), else None."""
    for text in texts:
        if not text:
            continue
        text = unicodedata.normalize("NFKC", str(text))
        m = _YEAR_RE.search(text) or re.search(r"\b((?:19|20)\d{2})[-/.]\d{1,2}", text)
        if m:
            return int(m.group(1))
    return None


def is_blank(value: Any) -> bool:
    """None, NaN, empty or whitespace-only text."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    return value is pd.NaT


def _valid(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def parse_date(value: Any) -> dt.date | None:
    """One value to a date, or None when it is blank or not a real date."""
    if is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        if not number.is_integer() and not (_SERIAL_MIN <= number <= _SERIAL_MAX):
            return None
        if _SERIAL_MIN <= number <= _SERIAL_MAX:
            return (dt.date(1899, 12, 30) + dt.timedelta(days=int(number)))
        if 19000101 <= number <= 21001231:
            n = int(number)
            return _valid(n // 10000, n // 100 % 100, n % 100)
        return None
    text = cn_numeral_date(unicodedata.normalize("NFKC", str(value)))
    match = _DATE_RE.match(text) or _COMPACT_RE.match(text)
    if not match:
        return None
    return _valid(int(match["y"]), int(match["m"]), int(match["d"]))


def parse_dates(values: pd.Series, year: int | None = None) -> pd.Series:
    """Vectorised :func:`parse_date` over a column of raw cell values -> ``datetime64[ns]``.

    Real Excel dates, serial numbers in General cells, ``20260305`` typed as a number,
    and text in the forms of :data:`_DATE_RE` (full-width digits folded first).
    Anything else, and impossible dates such as ``2026.13.05``, become NaT. ``3月5日`` takes
    ``year`` (the ledger's year) when given, else it is NaT (unreadable, not guessed).
    """
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    if values.empty:
        return out
    obj = values.astype(object)
    types = set(map(type, obj))
    if types <= {dt.datetime, type(None)}:  # real Excel dates only: the common case
        return pd.to_datetime(obj, errors="coerce").astype("datetime64[ns]").dt.normalize()
    kind = np.array([_KIND.get(t, "") for t in map(type, obj)], dtype=object)
    # Real dates (calamine gives datetime/date objects).
    mask = kind == "d"
    if mask.any():
        out[mask] = pd.to_datetime(obj[mask], errors="coerce").astype("datetime64[ns]").dt.normalize()
    # Numbers: Excel serials, or yyyymmdd.
    mask = kind == "n"
    if mask.any():
        num = pd.to_numeric(obj[mask], errors="coerce").astype(float)
        serial = num.between(_SERIAL_MIN, _SERIAL_MAX)
        if serial.any():
            days = np.floor(num[serial].to_numpy()).astype("int64")
            out[serial[serial].index] = (EXCEL_EPOCH + days.astype("timedelta64[D]")).astype("datetime64[ns]")
        compact = num.between(19000101, 21001231) & (num % 1 == 0)
        if compact.any():
            n = num[compact].astype("int64")
            out[compact[compact].index] = _from_parts(n // 10000, n // 100 % 100, n % 100)
    # Text.
    mask = kind == "s"
    if mask.any():
        text = obj[mask].astype(str).str.normalize("NFKC")
        chinese = text.str.contains(f"[{_CN_NUMERAL}]", regex=True)
        if chinese.any():
            text[chinese] = text[chinese].map(cn_numeral_date)
        parts = text.str.extract(_DATE_RE)
        compact = text.str.extract(_COMPACT_RE)
        parts = parts.fillna(compact)
        if year is not None and parts["y"].isna().any():
            md = text[parts["y"].isna()].str.extract(MONTH_DAY_RE)
            md = md[md["m"].notna()]
            if len(md):
                parts.loc[md.index, ["m", "d"]] = md[["m", "d"]].to_numpy()
                parts.loc[md.index, "y"] = str(year)
        ok = parts["y"].notna()
        if ok.any():
            p = parts[ok].astype("int64")
            out[p.index] = _from_parts(p["y"], p["m"], p["d"])
    return out


_KIND = {dt.datetime: "d", dt.date: "d", pd.Timestamp: "d", int: "n", float: "n",
         np.int64: "n", np.float64: "n", str: "s"}


def _from_parts(y: pd.Series, m: pd.Series, d: pd.Series) -> pd.Series:
    frame = pd.DataFrame({"year": y.to_numpy(), "month": m.to_numpy(), "day": d.to_numpy()})
    parsed = pd.to_datetime(frame, errors="coerce")
    parsed.index = y.index
    return parsed.astype("datetime64[ns]")


# --- text and vocabulary ----------------------------------------------------------

def _text(value: Any) -> Any:
    """One non-str raw value as text (None for blank)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float):
        if value != value:
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def clean_text(values: pd.Series) -> pd.Series:
    """Raw cell values -> stripped text (object dtype), None for blank.

    Integral floats read from General cells become ``"12"`` rather than ``"12.0"``;
    huge floats (an identity number Excel stored as a number) are written out in full
    so that the checker can still say what it sees. (A list comprehension: pandas'
    object-dtype string methods are slower per cell.)
    """
    out = [(v.strip() or None) if type(v) is str else (None if v is None else _text(v)) for v in values.tolist()]
    return pd.Series(out, index=values.index, dtype=object)


def _vocabulary_normalizer(words: list[str], aliases: dict[str, str]):
    table = {unicodedata.normalize("NFKC", w): w for w in words}
    table.update({unicodedata.normalize("NFKC", k): v for k, v in aliases.items()})

    def word(text: Any) -> Any:
        if text is None:
            return None
        key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
        return table.get(key, text)

    def normalize(values: pd.Series) -> pd.Series:
        text = clean_text(values)
        # Ledgers repeat a handful of words: normalise each distinct value once.
        lookup = {v: word(v) for v in set(text.tolist())}
        return pd.Series([lookup[v] for v in text.tolist()], index=values.index, dtype=object)

    return normalize


normalize_status = _vocabulary_normalizer(STATUSES, STATUS_ALIASES)
normalize_channel = _vocabulary_normalizer(CHANNELS, CHANNEL_ALIASES)


def normalize_id_text(values: pd.Series) -> pd.Series:
    """Identity numbers / phones as text, by the one rule of :func:`xfsheets.identifiers.identifier_text`:
    folded (format characters gone, any digits as 0-9), spaces inside a number removed, ``x`` -> ``X``,
    two people's numbers in one cell joined by ``、``."""
    from xfsheets.identifiers import identifier_text

    text = clean_text(values).tolist()
    lookup = {v: identifier_text(v) for v in set(text)}
    return pd.Series([lookup[v] for v in text], index=values.index, dtype=object)


def parse_ints(values: pd.Series) -> pd.Series:
    """Counts such as 人数 / 延期天数: ``5``, ``5.0``, ``"5"``, ``"5人"``, ``"30天"`` -> Int64."""
    if set(map(type, values)) <= {int, float, type(None)}:  # numbers only: the common case
        number = pd.to_numeric(values, errors="coerce").astype(float)
        whole = number.where((number % 1 == 0) & (number >= 0))
        return whole.astype("Int64")
    text = clean_text(values)
    digits = text.astype("string").str.normalize("NFKC").str.extract(r"^\s*(\d+)\s*(?:人|天|日|个工作日)?\s*$")[0]
    return pd.to_numeric(digits, errors="coerce").astype("Int64")


_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
# 30 / 30天 / 30日 / 三十 / 三十日 / 延期30天 / 30（已批准）/ 延长十五日
_EXT_RE = re.compile(r"^(?:延期|延长|申请延期|批准延期)?\s*(?P<n>\d+|[零〇一二两三四五六七八九十]+)\s*(?:天|日|个自然日|自然日)?"
                     r"\s*(?:[(（\[【][^)）\]】]*[)）\]】])?\s*$")


def _cn_number(text: str) -> int | None:
    """Chinese numerals below 100: 十五, 三十, 二十五, 两 (None for anything else)."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        t = _CN_DIGITS.get(tens, None) if tens else 1
        o = _CN_DIGITS.get(ones, None) if ones else 0
        if t is None or o is None or "十" in ones:
            return None
        return t * 10 + o
    if len(text) == 1:
        return _CN_DIGITS.get(text)
    return None


def parse_day_count(value: Any) -> int | None:
    """One 延期天数 as typed -> days, or None (blank, or not a number of days, e.g. 一个月)."""
    if is_blank(value) or isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        return int(number) if number.is_integer() and number >= 0 else None
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))
    m = _EXT_RE.match(text)
    return _cn_number(m["n"]) if m else None


def parse_day_counts(values: pd.Series) -> pd.Series:
    """Vectorised :func:`parse_day_count` (each distinct value parsed once) -> Int64."""
    if set(map(type, values)) <= {int, float, type(None)}:  # numbers only: the common case
        return parse_ints(values)
    items = values.tolist()
    lookup = {v: parse_day_count(v) for v in set(items) if v is not None and not (isinstance(v, float) and v != v)}
    return pd.array([lookup.get(v) if v is not None and not (isinstance(v, float) and v != v) else None
                     for v in items], dtype="Int64")


def cn_date(value: Any) -> str:
    """A date as people read it: ``2026年3月5日`` ("" for blank)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return ""
    return f"{value.year}年{value.month}月{value.day}日"


def display_value(value: Any) -> str:
    """A raw cell value as the user sees it in Excel (for messages)."""
    if is_blank(value):
        return ""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e11:
            return str(int(value))
        if abs(value) >= 1e11:
            mantissa, exponent = f"{value:.5E}".split("E")
            mantissa = mantissa.rstrip("0").rstrip(".")
            return f"{mantissa}E+{int(exponent):02d}"
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
