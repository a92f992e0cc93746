"""人数 as people type it: a number with its precision, or a reason it cannot be read.

Forms read (DOMAIN.md section 2): ``5``, ``5人``, ``12名``, ``约30人`` / ``大约30人`` (at least 30),
``30余人`` / ``30多人`` / ``二十多人`` (at least 30 / 20), and a blank 人数 beside a 信访人 cell that
says it (``张三等5人`` -> 5; ``张三、李四`` -> 2; ``张三`` -> 1; ``张三等`` -> at least 2). Anything else
typed (``两三个``, ``若干``, ``5-6人``) is not read: the caller reports it (``bad_headcount``), and
no figure counts it as 1.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import pandas as pd

# The words that make a count a lower bound: 约30人 and 30余人 both mean "at least 30" here.
ABOUT_PREFIXES = ("大约", "约计", "约")
MORE_SUFFIXES = ("余", "多")
PERSON_UNITS = ("人", "名", "位", "个人")
_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUMBER = r"\d+|[零〇一二两三四五六七八九十百]+"
_COUNT_RE = re.compile(
    rf"^(?P<about>{'|'.join(ABOUT_PREFIXES)})?(?P<n>{_NUMBER})(?P<more>{'|'.join(MORE_SUFFIXES)})?"
    rf"(?:{'|'.join(PERSON_UNITS)})?$")
# 张三等5人 / 张三等五人 / 张三等 / 张三、李四
_GROUP_RE = re.compile(rf"^(?P<who>.+?)等(?:(?P<n>{_NUMBER})(?P<more>{'|'.join(MORE_SUFFIXES)})?"
                       rf"(?:{'|'.join(PERSON_UNITS)})?)?$")
_NAME_SPLIT = re.compile(r"[、，,；;/\s]+")
_NAME_RE = re.compile(r"^[\u3400-\u9fff]{2,4}$|^[\u3400-\u9fff]+·[\u3400-\u9fff·]+$|^[A-Za-z][A-Za-z .'-]{0,40}$")


@dataclass(frozen=True)
class Headcount:
    """``n`` people, exactly or (``at_least``) at least; ``source`` says which cell gave it."""

    n: int
    at_least: bool = False
    source: str = "人数"  # 人数 | 信访人

    @property
    def text(self) -> str:
        return f"至少{self.n}人" if self.at_least else f"{self.n}人"


def cn_number(text: str) -> int | None:
    """Digits or a Chinese numeral below 1000 (二十, 三十五, 一百二十, 两百): None for anything else."""
    if text.isdigit():
        return int(text)
    total, rest = 0, text
    for unit, size in (("百", 100), ("十", 10)):
        if unit in rest:
            head, _, rest = rest.partition(unit)
            if unit in rest:
                return None
            if head == "" and unit == "十":
                digit = 1
            else:
                digit = _DIGITS.get(head) if len(head) == 1 else None
            if digit is None:
                return None
            total += digit * size
    rest = rest.lstrip("零〇")
    if rest:
        if len(rest) != 1 or rest not in _DIGITS:
            return None
        total += _DIGITS[rest]
    return total if text else None


def _fold(value: Any) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))


def parse_headcount(value: Any) -> Headcount | None:
    """One typed 人数 -> Headcount, or None when it cannot be read (blank included)."""
    if value is None or isinstance(value, bool) or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, (int, float)):
        return Headcount(int(value)) if float(value).is_integer() and value > 0 else None
    m = _COUNT_RE.match(_fold(value))
    if not m:
        return None
    n = cn_number(m["n"])
    if not n:
        return None
    return Headcount(n, at_least=bool(m["about"] or m["more"]))


def from_petitioner(value: Any) -> Headcount | None:
    """What a 信访人 cell says about how many came: 张三等5人 -> 5, 张三、李四 -> 2, 张三 -> 1,
    张三等 -> at least 2; None when it says nothing readable."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = _fold(value)
    if not text:
        return None
    m = _GROUP_RE.match(text)
    if m:
        if m["n"] is None:
            return Headcount(2, at_least=True, source="信访人")
        n = cn_number(m["n"])
        return Headcount(n, at_least=bool(m["more"]), source="信访人") if n else None
    names = [p for p in _NAME_SPLIT.split(text) if p]
    if names and all(_NAME_RE.match(p) for p in names):
        return Headcount(len(names), source="信访人")
    return None


def headcounts(typed: pd.Series, petitioner: pd.Series) -> pd.DataFrame:
    """Per row: ``n`` (Int64: the count, or the lower bound), ``at_least`` (bool), ``source``
    (人数 / 信访人 / None) and ``problem`` (Chinese, why it cannot be read; None when read).

    ``typed`` is the 人数 column as typed (the ledger's raw cells), ``petitioner`` the 信访人
    column. A typed 人数 wins; a blank one is read from the 信访人 cell."""
    from xfsheets.normalize import display_value, is_blank, is_na_mark

    cache: dict[Any, Headcount | None] = {}
    rows = []
    for t, p in zip(typed.tolist(), petitioner.tolist()):
        blank = is_blank(t) or is_na_mark(t)
        key = (t if not blank else None, p if blank else None)
        if key not in cache:
            cache[key] = parse_headcount(t) if not blank else from_petitioner(p)
        got = cache[key]
        if got is not None:
            rows.append((got.n, got.at_least, got.source, None))
        elif not blank:
            rows.append((None, False, None, f"“人数”填写的「{display_value(t)}」无法识别为人数，请填写数字，"
                                            "如 5、5人、约30人、30余人"))
        else:
            rows.append((None, False, None, "“人数”未填写，信访人一栏也看不出人数，请填写人数"))
    out = pd.DataFrame(rows, columns=["n", "at_least", "source", "problem"], index=typed.index)
    out["n"] = out["n"].astype("Int64")
    out["at_least"] = out["at_least"].astype(bool)
    return out


def ledger_headcounts(frame: pd.DataFrame, raw: pd.DataFrame | None) -> pd.DataFrame:
    """:func:`headcounts` of a ledger's rows (``frame`` and its ``raw`` cells, same index)."""
    index = frame.index
    if raw is not None and "headcount" in raw.columns:
        typed = raw["headcount"].reindex(index)
    else:
        typed = pd.Series(None, index=index, dtype=object)
    petitioner = frame["petitioner"] if "petitioner" in frame.columns else pd.Series(None, index=index, dtype=object)
    return headcounts(typed, petitioner)


def counts_text(counts: pd.DataFrame) -> pd.Series:
    """:func:`headcounts` as people read it: ``5人``, ``至少30人``, ``无法识别``."""
    n = counts["n"]
    text = n.astype("string").fillna("无法识别")
    text = text.where(n.isna(), text + "人")
    return text.where(~counts["at_least"], "至少" + text).astype(object)
