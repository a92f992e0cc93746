"""Deadlines and overdue flags by stage, on the official working-day calendar, explained.

For every matter: the stage it is in (latest first: 复核 recheck, 复查 review, 办理 handle,
受理告知 accept, 登记交办 register), the legal due date of that stage under the rule set
(the start day is not counted; a calendar-day period whose last day is a rest day ends on
the next working day; a working-day period ends on its Nth working day), the binding due
date (an explicit 办理时限 in the ledger, as a 交办单 set it), days left, a flag and a
Chinese explanation of how the date was worked out. Vectorised over day arrays.
"""
from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from xfsheets.calendar import ESTIMATE_MARK, WorkCalendar, missing_year_hint
from xfsheets.ledger import Ledger
from xfsheets.rules import Rules, load_rules
from xfsheets.schema import CLOSED_STATUSES, LABELS

FLAG_LABELS = {
    "on_track": "正常", "due_soon": "临期", "overdue": "超期", "severely_overdue": "严重超期",
    "closed_on_time": "按期办结", "closed_late": "超期办结", "unknown": "无法判断",
}
STAGE_ORDER = ("recheck", "review", "handle", "accept", "register")
BINDING_STAGES = ("accept", "handle")  # the 交办单's 办理时限 binds the assigned unit
# The columns a deadline run owns in a ledger (the -o copy and the 计算时限 button), and their colours.
DEADLINE_COLUMNS = ["当前阶段", "法定时限", "剩余天数", "预警", "时限说明"]
FLAG_FILLS = {"overdue": "FFC7CE", "severely_overdue": "FF9999", "due_soon": "FFEB9C", "on_track": "C6EFCE"}
RESULT_COLUMNS = ["stage", "stage_label", "start_field", "start_on", "limit", "legal_due_on", "due_on", "days_left",
                  "working_days_left", "flag", "flag_label", "explain", "due_beyond_legal_limit", "estimated"]


@functools.lru_cache(maxsize=4)
def default_calendar(holidays_file: str | None = None) -> WorkCalendar:
    return WorkCalendar.official(holidays_file)


def _calendar_tables(cal: WorkCalendar) -> dict[str, np.ndarray]:
    """Per-day lookups: next working day, ISO text, and the sentence for a rolled end date."""
    tables = getattr(cal, "_tables", None)
    if tables is not None:
        return tables
    n = len(cal.days)
    work_pos = np.flatnonzero(cal.is_work)
    nxt = np.searchsorted(work_pos, np.arange(n))
    nxt = np.where(nxt < len(work_pos), work_pos[np.minimum(nxt, len(work_pos) - 1)], n - 1)
    iso = np.datetime_as_string(cal.days, unit="D").astype(object)
    roll = np.full(n, "", dtype=object)
    for i in np.flatnonzero(~cal.is_work):
        j = nxt[i]
        span = [k for k in range(i, j)]
        names = [cal.names[k] for k in span if cal.names[k]]
        reason = f"{names[0]}放假" if names else "周末"
        last = iso[j - 1][5:] if j - 1 > i else ""
        rng = f"{iso[i]} 至 {last}" if last else f"{iso[i]}"
        roll[i] = f"；{rng} {reason}，顺延至 {iso[j]}"
    cal._tables = {"next_work": nxt, "iso": iso, "roll": roll,
                   "iso_arrow": pa.array(iso.tolist(), pa.string()), "roll_arrow": pa.array(roll.tolist(), pa.string())}
    return cal._tables


def _frame(ledger: Ledger | pd.DataFrame) -> pd.DataFrame:
    return ledger.frame if isinstance(ledger, Ledger) else ledger


def compute_deadlines(ledger: Ledger | pd.DataFrame, *, as_of: dt.date | None = None, rules: Rules | None = None,
                      calendar: WorkCalendar | None = None, warn_days: int = 5, severe_days: int = 30,
                      assume_weekends: bool = False, holidays: str | None = None) -> pd.DataFrame:
    """One row per ledger row (same index): stage, due dates, days left, flag, explanation."""
    f = _frame(ledger)
    rules = rules or load_rules()
    cal = calendar or default_calendar(str(holidays) if holidays else None)
    tables = _calendar_tables(cal)
    as_of = as_of or dt.date.today()
    n = len(f)
    index = f.index

    # Stage: the latest one the matter has reached.
    # Integer codes (position in STAGE_ORDER, len(STAGE_ORDER) = none) keep the arrays numeric.
    conditions = [f[rules[k].start].notna().to_numpy() for k in STAGE_ORDER]
    code = np.select(conditions, list(range(len(STAGE_ORDER))), default=len(STAGE_ORDER)).astype("int64")
    in_stage = [code == k for k in range(len(STAGE_ORDER))]
    dates = {k: f[k].to_numpy(dtype="datetime64[D]") for k in {rules[s].start for s in STAGE_ORDER}
             | {rules[s].end for s in STAGE_ORDER}}
    nat = np.datetime64("NaT", "D")
    start = np.select(in_stage, [dates[rules[k].start] for k in STAGE_ORDER], nat)
    end = np.select(in_stage, [dates[rules[k].end] for k in STAGE_ORDER], nat)
    days = np.array([rules[k].days for k in STAGE_ORDER] + [0], dtype="int64")[code]
    workday = np.array([rules[k].counting == "workday" for k in STAGE_ORDER] + [False])[code]
    ext = np.zeros(n, dtype="int64")
    ext_over = np.zeros(n, dtype=bool)
    for k, key in enumerate(STAGE_ORDER):
        s = rules[key]
        if s.extension_field:
            m = in_stage[k]
            e = f[s.extension_field].fillna(0).astype("int64").to_numpy()
            ext_over |= m & (e > s.max_extension)
            ext = np.where(m, np.clip(e, 0, s.max_extension), ext)
    total = days + ext

    # Legal due date, on the day arrays.
    start_idx = (start - cal.origin).astype("int64")
    has_start = ~np.isnat(start)
    ok = has_start & (start_idx >= 0) & (start_idx < len(cal.days) - 400)
    si = np.where(ok, start_idx, 0)
    raw_idx = si + total  # calendar-day end before rolling
    due_idx = np.where(workday,
                       np.searchsorted(cal.cum_work, cal.cum_work[si] + total, side="left"),
                       tables["next_work"][np.minimum(raw_idx, len(cal.days) - 1)])
    due_idx = np.minimum(due_idx, len(cal.days) - 1)
    known = cal.known[si] & cal.known[np.minimum(raw_idx, len(cal.days) - 1)] & cal.known[due_idx]
    usable = ok & (known | assume_weekends)
    legal_due = np.where(usable, cal.origin + due_idx, np.datetime64("NaT")).astype("datetime64[D]")

    # The 交办单's 办理时限 binds while the matter is with the assigned unit.
    ledger_due = f["due_on"].to_numpy(dtype="datetime64[D]")
    binding = np.isin(code, [STAGE_ORDER.index(k) for k in BINDING_STAGES]) & ~np.isnat(ledger_due)
    due = np.where(binding, ledger_due, legal_due)
    beyond = binding & ~np.isnat(legal_due) & (ledger_due > legal_due)

    # Never invent a deadline: a date or 延期天数 the matter's stage needs that is missing
    # (column absent, cell blank, or typed unreadably) makes the flag unknown, with the reason.
    reasons = _cannot_tell(ledger, f, rules, code)
    blocked = np.zeros(n, dtype=bool)
    if reasons:
        blocked[list(reasons)] = True
        legal_due = np.where(blocked, np.datetime64("NaT"), legal_due).astype("datetime64[D]")
        due = np.where(blocked, np.datetime64("NaT"), due).astype("datetime64[D]")
        binding &= ~blocked
        beyond &= ~blocked

    # Flags.
    as_of64 = np.datetime64(as_of, "D")
    status_closed = f["status"].isin(CLOSED_STATUSES).to_numpy()
    closed = ~np.isnat(end) | (status_closed & np.isin(code, [STAGE_ORDER.index(k) for k in ("handle", "accept",
                                                                                                "register")]))
    closed_no_date = closed & np.isnat(end)
    has_due = ~np.isnat(due)
    days_left = np.where(has_due, (due - as_of64).astype("int64"), 0)
    F = {name: k for k, name in enumerate(FLAG_LABELS)}
    fcode = np.full(n, F["unknown"], dtype="int64")
    open_ = ~closed & has_due
    fcode[open_] = F["on_track"]
    fcode[open_ & (days_left <= warn_days)] = F["due_soon"]
    fcode[open_ & (days_left < 0)] = F["overdue"]
    fcode[open_ & (days_left < -severe_days)] = F["severely_overdue"]
    done = closed & has_due & ~np.isnat(end)
    fcode[done & (end <= due)] = F["closed_on_time"]
    fcode[done & (end > due)] = F["closed_late"]
    flag_names = np.array(list(FLAG_LABELS), dtype=object)
    stage_names = np.array(list(STAGE_ORDER) + [""], dtype=object)

    ai = int((as_of64 - cal.origin).astype("int64"))
    due_i = np.where(has_due, (due - cal.origin).astype("int64"), 0).clip(0, len(cal.days) - 1)
    wd_known = has_due & (cal.known[due_i] & cal.known[min(max(ai, 0), len(cal.days) - 1)] | assume_weekends)
    working_left = cal.cum_work[due_i] - cal.cum_work[min(max(ai, 0), len(cal.days) - 1)]

    # Rows that share every input of the explanation share its text: build each distinct one once.
    per_row = dict(stage=code, start=start, si=si, raw_idx=raw_idx, due_idx=due_idx, total=total, ext=ext,
                   ext_over=ext_over, workday=workday, ok=ok, known=known, legal_due=legal_due, ledger_due=ledger_due,
                   binding=binding, beyond=beyond, end=end, closed=closed, closed_no_date=closed_no_date, flag=fcode,
                   days_left=days_left)
    first, inverse = _distinct_rows(per_row)
    distinct = {k: v[first] for k, v in per_row.items()}
    distinct["stage"], distinct["flag"] = stage_names[distinct["stage"]], flag_names[distinct["flag"]]
    explain = pc.take(_explain(rules=rules, cal=cal, tables=tables, assume_weekends=assume_weekends, as_of=as_of,
                               **distinct), pa.array(inverse))
    if reasons:
        texts = explain.to_numpy(zero_copy_only=False).astype(object)
        for pos, why in reasons.items():
            texts[pos] = "无法判断：" + why
        explain = pa.array(texts.tolist(), pa.string())

    keys = list(STAGE_ORDER)

    def by_stage(values: list) -> pd.Series:
        return pd.Series(np.array(values + [None], dtype=object)[code], index=index, dtype=object)

    limit = by_stage([rules[k].limit_text for k in keys])
    if (ext > 0).any():
        extended = ext > 0
        limit[extended] = limit[extended] + "+延期" + pd.Series(ext[extended], index=limit.index[extended]).astype(str) + "日"
    flag = flag_names[fcode]
    flag_label = np.array(list(FLAG_LABELS.values()), dtype=object)[fcode]
    out = pd.DataFrame({
        "stage": by_stage(keys),
        "stage_label": by_stage([rules[k].label for k in keys]),
        "start_field": by_stage([rules[k].start for k in keys]),
        "start_on": start.astype("datetime64[ns]"),
        "limit": limit,
        "legal_due_on": legal_due.astype("datetime64[ns]"),
        "due_on": due.astype("datetime64[ns]"),
        "days_left": pd.arrays.IntegerArray(days_left.astype("int64"), ~(has_due & ~closed)),
        "working_days_left": pd.arrays.IntegerArray(working_left.astype("int64"), ~(wd_known & ~closed)),
        "flag": pd.Series(flag, index=index, dtype=object),
        "flag_label": pd.Series(flag_label, index=index, dtype=object),
        "explain": pd.arrays.ArrowStringArray(explain) if hasattr(pd.arrays, "ArrowStringArray") else explain.to_pandas(),
        "due_beyond_legal_limit": beyond,
        # 预估: a date rests on the estimate of a year no schedule covers (--assume-weekends)
        "estimated": ok & ~known & ~blocked & bool(assume_weekends),
    }, index=index)
    return out[RESULT_COLUMNS]


def case_records(ledger: Ledger, result: pd.DataFrame) -> list[dict[str, Any]]:
    """The ``cases`` of ``deadlines --json``, built from whole columns (no per-row indexing):
    file, sheet, Excel row, case id, stage, ISO dates, day counts, flag and explanation."""
    frame = ledger.frame.loc[result.index] if len(result) else ledger.frame.iloc[0:0]

    def iso(col: pd.Series) -> pd.Series:
        out = col.dt.strftime("%Y-%m-%d")
        return out.astype(object).where(col.notna(), None)

    def ints(col: pd.Series) -> pd.Series:
        return col.astype("Int64").astype(object).where(col.notna(), None)

    def text(col: pd.Series) -> pd.Series:
        return col.astype(object).where(col.notna(), None)

    table = pd.DataFrame({
        "file": text(frame["_file"]), "sheet": text(frame["_sheet"]), "row": ints(frame["_row"]),
        "case_id": text(frame["case_id"]) if "case_id" in frame else None,
        "stage": text(result["stage"]), "start_on": iso(result["start_on"]), "limit": text(result["limit"]),
        "due_on": iso(result["due_on"]), "days_left": ints(result["days_left"]),
        "working_days_left": ints(result["working_days_left"]), "flag": text(result["flag"]),
        "explain": text(result["explain"]),
        "due_beyond_legal_limit": result["due_beyond_legal_limit"].fillna(False).astype(bool),
        "estimated": result["estimated"].fillna(False).astype(bool) if "estimated" in result else False,
    }, index=result.index)
    return table.to_dict("records")


# What a status says about the stage a matter has reached (so the date that starts it is needed).
STATUS_STAGE = {"已交办": "accept", "已转送": "accept", "已受理": "handle", "办理中": "handle", "延期办理": "handle",
                "复查中": "review", "复核中": "recheck"}


def _cannot_tell(ledger: Ledger | pd.DataFrame, f: pd.DataFrame, rules: Rules, code: np.ndarray) -> dict[int, str]:
    """Row position -> why its deadline cannot be told (Chinese), for the rows whose stage needs a
    date or 延期天数 that the ledger lacks, left blank, or holds in a form that cannot be read."""
    from xfsheets.normalize import display_value, is_blank, is_na_mark

    raw = ledger.raw if isinstance(ledger, Ledger) else None
    out: dict[int, str] = {}
    rows = f["_row"].to_numpy() if "_row" in f.columns else None

    def where(field: str, pos: int) -> str:
        if not isinstance(ledger, Ledger) or rows is None:
            return ""
        letter = ledger.sources[int(f["_source"].iat[pos])].letter(field) if "_source" in f.columns else None
        return f"（{letter}{rows[pos]}）" if letter else f"（第 {rows[pos]} 行）"

    def has_column(field: str, pos: int) -> bool:
        if not isinstance(ledger, Ledger):
            return field in f.columns
        return field in ledger.sources[int(f["_source"].iat[pos])].fields

    def typed(field: str, pos: int):
        if raw is None or field not in raw.columns:
            return None
        v = raw[field].iat[pos]
        return None if is_blank(v) or is_na_mark(v) else v

    # 1. A date typed but unreadable, for the stage the row would otherwise be in or a later one.
    fields = [rules[k].start for k in STAGE_ORDER] + [s.extension_field for k in STAGE_ORDER
                                                      for s in [rules[k]] if s.extension_field]
    if raw is not None:
        for field in dict.fromkeys(fields):
            if field not in raw.columns:
                continue
            bad = f[field].isna().to_numpy() & raw[field].notna().to_numpy()
            for pos in np.flatnonzero(bad):
                v = typed(field, pos)
                if v is None or pos in out:
                    continue
                kind = "天数" if field == "extension_days" else "日期"
                out[pos] = (f"“{LABELS[field]}”{where(field, pos)}填写的「{display_value(v)}」无法识别为{kind}，"
                            f"无法计算时限：请改成{'数字，如 30' if kind == '天数' else ' 2026-03-05 这样的日期'}")
    # 2. The status says the matter reached a stage whose start date is missing.
    status = f["status"].to_numpy(dtype=object)
    later = [rules[k].start for k in ("accept", "handle")]
    register = STAGE_ORDER.index("register")
    stage_of_status = f["status"].map({st: STAGE_ORDER.index(k) for st, k in STATUS_STAGE.items()}).to_numpy(dtype=float)
    handle = STAGE_ORDER.index("handle")
    ext_field = rules["handle"].extension_field
    candidates = (((code > stage_of_status) & (code != len(STAGE_ORDER)))  # NaN compares False
                  | ((status == "延期办理") & (code == handle)
                     & (f[ext_field].isna().to_numpy() if ext_field else False))
                  | (f["status"].isin(CLOSED_STATUSES).to_numpy() & (code == register)))
    for pos in np.flatnonzero(candidates):
        key = STATUS_STAGE.get(status[pos])
        if key is None and status[pos] in CLOSED_STATUSES and code[pos] == register and pos not in out \
                and not any(has_column(c, pos) for c in later):
            out[pos] = (f"办理状态为“{status[pos]}”，但台账没有“{LABELS[later[0]]}”“{LABELS[later[1]]}”列，"
                        "无法判断是否按期办结：请在台账中加上这两列并填写")
            continue
        if key is None or pos in out or code[pos] == len(STAGE_ORDER):  # no date at all: said elsewhere
            continue
        need = rules[key].start
        if code[pos] > STAGE_ORDER.index(key):
            if not has_column(need, pos):
                out[pos] = (f"办理状态为“{status[pos]}”，但台账没有“{LABELS[need]}”列，无法确定{rules[key].label}阶段的时限："
                            f"请在台账中加上“{LABELS[need]}”列并填写")
            else:
                out[pos] = (f"办理状态为“{status[pos]}”，但“{LABELS[need]}”{where(need, pos)}未填写，"
                            f"无法确定{rules[key].label}阶段的时限：请填写“{LABELS[need]}”")
        elif status[pos] == "延期办理" and code[pos] == STAGE_ORDER.index(key) and rules[key].extension_field:
            ext = rules[key].extension_field
            if pd.isna(f[ext].iat[pos]):
                out[pos] = (f"办理状态为“延期办理”，但“{LABELS[ext]}”{where(ext, pos) if has_column(ext, pos) else ''}"
                            f"{'未填写' if has_column(ext, pos) else '列不存在'}，无法确定延期后的时限：请填写批准的延期天数")
    return out


def _distinct_rows(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(first row of each distinct combination of the arrays' values, each row's combination number)."""
    keys = {}
    for k, a in arrays.items():
        if a.dtype.kind == "M":
            keys[k] = a.view("int64")  # NaT is a plain (smallest) integer here
        elif a.dtype == object:
            keys[k] = pd.factorize(a, use_na_sentinel=False)[0]
        else:
            keys[k] = a
    inverse = pd.DataFrame(keys, copy=False).groupby(list(keys), sort=False).ngroup().to_numpy()
    _, first = np.unique(inverse, return_index=True)
    return first, inverse


def _explain(*, rules, cal, tables, stage, start, si, raw_idx, due_idx, total, ext, ext_over, workday, ok, known,
             assume_weekends, legal_due, ledger_due, binding, beyond, end, closed, closed_no_date, flag, days_left,
             as_of) -> pa.Array:
    """The Chinese explanation of every row, assembled column-wise with Arrow string kernels
    from per-day lookup tables (a Python loop or object-array concatenation costs seconds
    on a million rows)."""
    n = len(stage)
    last = len(cal.days) - 1
    iso = tables["iso_arrow"]
    blank = pa.scalar("", pa.string())

    def when(mask: np.ndarray, *parts) -> pa.Array:
        if not mask.any():
            return pa.array(np.full(n, "", dtype=object), pa.string()) if False else pa.nulls(n, pa.string()).fill_null("")
        joined = pc.binary_join_element_wise(*[p if isinstance(p, (pa.Array, pa.ChunkedArray)) else pa.scalar(p)
                                               for p in parts], "")
        return pc.if_else(pa.array(mask), joined, blank)

    def day(idx: np.ndarray) -> pa.Array:
        return pc.take(iso, pa.array(np.clip(idx, 0, last)))

    def num(values: np.ndarray) -> pa.Array:
        return pc.cast(pa.array(values), pa.string())

    code = np.full(n, len(STAGE_ORDER), dtype="int64")
    for k, key in enumerate(STAGE_ORDER):
        code[stage == key] = k
    prefix = pa.array([f"{rules[k].label}阶段：自{LABELS[rules[k].start]} " for k in STAGE_ORDER] + [""])
    article = pa.array([f" 起算（当日不计），依{rules[k].article}，时限{rules[k].limit_text}" for k in STAGE_ORDER] + [""])
    codes = pa.array(code)
    has = stage != ""
    as_of_text = f"；截至 {as_of.isoformat()} "
    unknown_year = has & ok & ~known
    years = cal.year_of[np.minimum(raw_idx, last)]
    missing = np.where(cal.known[np.clip(si, 0, last)], years, cal.year_of[np.clip(si, 0, last)])
    # the ledger's own 办理时限 may lie outside the calendar's span (a typo such as 2206): format it directly
    ledger_text = np.full(n, "", dtype=object)
    ledger_text[binding] = np.datetime_as_string(ledger_due[binding], unit="D")
    ledger_text = pa.array(ledger_text, pa.string())
    legal_idx = np.where(np.isnat(legal_due), 0, (legal_due - cal.origin).astype("int64"))
    end_idx = np.where(np.isnat(end), 0, (end - cal.origin).astype("int64"))
    open_known = ~closed & np.isin(flag, ("on_track", "due_soon", "overdue", "severely_overdue"))
    done = np.isin(flag, ("closed_on_time", "closed_late"))
    segments = [
        pc.take(prefix, codes),
        when(has & ok, day(si)),
        when(has & ~ok, pa.array(np.datetime_as_string(start, unit="D").astype(object), pa.string())),  # as typed, never a fallback
        pc.take(article, codes),
        when(has & (ext > 0), "，延期", num(ext), "日"),
        when(ext_over, "（延期超过30日上限，按30日计）"),
        # an unknown year's end date is given only as an estimate that was asked for
        when(has & ok & ~workday, "，期满日 ", day(raw_idx)),
        when(has & ok & ~workday & (known | assume_weekends), pc.take(tables["roll_arrow"], pa.array(np.clip(raw_idx, 0, last)))),
        when(has & ok & workday & (known | assume_weekends), "，第", num(total), "个工作日为 ", day(due_idx)),
        when(unknown_year, "（", num(missing), "年放假安排未收录，按周末和法定节假日估算，结果为", ESTIMATE_MARK, "）")
        if assume_weekends else
        when(unknown_year, "；但", _by_year(cal, missing, cal.missing_year_reason), "，无法确定期满日：",
             _by_year(cal, missing, missing_year_hint), "；或加 --assume-weekends 按周末和法定节假日估算（", ESTIMATE_MARK, "）"),
        when(binding, "；台账“办理时限”为 ", ledger_text, "，以此为准"),
        when(beyond, "（晚于法定期满日 ", day(legal_idx), "）"),
        when(open_known & (days_left >= 0), as_of_text, "剩余 ", num(days_left), " 天"),
        when(open_known & (days_left < 0), as_of_text, "已超期 ", num(-days_left), " 天"),
        when(done & (flag == "closed_on_time"), "；已于 ", day(end_idx), " 按期办结"),
        when(done & (flag == "closed_late"), "；已于 ", day(end_idx), " 办结，已超期"),
        when(closed_no_date, "；状态为已办结，但未填写办结日期，无法判断是否按期"),
        when(has & ~ok, "；起算日期超出日历范围（2000-2040年），无法计算"),
    ]
    text = pc.binary_join_element_wise(*segments, "")
    return pc.if_else(pa.array(~has), pa.scalar("缺少登记日期（或日期无法识别），无法确定时限：请填写“登记日期”"), text)


def _by_year(cal: WorkCalendar, years: np.ndarray, text) -> pa.Array:
    """``text(year)`` for each of ``years`` (each distinct year's text made once)."""
    lo, hi = cal.span_years
    table = pa.array([text(y) for y in range(lo, hi + 1)], pa.string())
    return pc.take(table, pa.array(np.clip(years, lo, hi) - lo))


def calendar_due(starts: pd.Series, days: int, calendar: WorkCalendar | None = None) -> pd.Series:
    """Due dates of a ``days``-日 period from each start (start not counted, rest-day end rolls on);
    NaT where the start is missing or the needed year is not covered."""
    cal = calendar or default_calendar()
    tables = _calendar_tables(cal)
    idx = cal.indexes(starts)
    ok = idx >= 0
    raw = np.minimum(np.where(ok, idx, 0) + days, len(cal.days) - 1)
    due = tables["next_work"][raw]
    good = ok & cal.known[raw] & cal.known[due]
    values = np.where(good, cal.origin + due, np.datetime64("NaT")).astype("datetime64[ns]")
    return pd.Series(values, index=starts.index)


def workday_due(start: dt.date, n: int, calendar: WorkCalendar | None = None) -> dt.date:
    """The ``n``-th working day after ``start`` (estimated where the year is not covered: weekends and statutory holidays)."""
    cal = calendar or default_calendar()
    i = cal.index(start)
    j = int(np.searchsorted(cal.cum_work, cal.cum_work[i] + n, side="left"))
    return (cal.origin + np.timedelta64(j, "D")).astype(object)


def deadline_columns(header: list, last_used: int | None = None) -> dict[str, int]:
    """Where the deadline columns go (1-based): where an earlier run put them, else right
    of the last used column (``last_used``, counting merged header cells and every header
    row; by default the last non-empty cell of ``header``), so that a rerun refreshes them
    instead of adding more, and never writes into a column the ledger uses."""
    labels = ["" if v is None else str(v).strip() for v in header]
    last = max((i + 1 for i, v in enumerate(labels) if v), default=0)
    if last_used is not None:
        last = max(last, last_used)
    cols = {}
    for name in DEADLINE_COLUMNS:
        if name in labels:
            cols[name] = labels.index(name) + 1
        else:
            last += 1
            cols[name] = last
    return cols


def _last_used_column(ws, header_rows: list[int]) -> int:
    """The rightmost column the header uses, merged cells included, ignoring our own columns."""
    last = 0
    for r in header_rows:
        for cell in ws[r]:
            if cell.value not in (None, "") and str(cell.value).strip() not in DEADLINE_COLUMNS:
                last = max(last, cell.column)
    for rng in ws.merged_cells.ranges:
        if rng.min_row <= max(header_rows) and rng.max_row >= min(header_rows):
            anchor = ws.cell(rng.min_row, rng.min_col).value
            if anchor not in (None, "") and str(anchor).strip() not in DEADLINE_COLUMNS:
                last = max(last, rng.max_col)
    return last


def annotate(ledger: Ledger, result: pd.DataFrame, out_path) -> Any:
    """A copy of the ledger (formatting kept) with the deadline columns at the right of the header
    of every ledger sheet (refreshed in place if an earlier run added them), 预警 coloured,
    autofilter and frozen header."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    from xfsheets.errors import XfsheetsError
    from xfsheets.writer import excel_text, load_copy, merged_anchor, save_workbook

    files = {s.file for s in ledger.sources}
    if len(files) != 1:
        raise XfsheetsError("-o 只能用于一个台账文件", hint="多个文件请分别运行，或先用 consolidate 合并")
    src_file = ledger.sources[0].file
    wb = load_copy(src_file, out_path=out_path)
    head_font = Font(bold=True)
    frame = ledger.frame
    source_of_row = frame["_source"].to_numpy() if "_source" in frame else np.zeros(len(frame), dtype=int)
    for k_src, src in enumerate(ledger.sources):
        ws = wb[src.sheet]
        header_rows = list(src.header_rows) or [1]
        header_row = header_rows[-1]
        last_used = _last_used_column(ws, header_rows)
        cols = deadline_columns([c.value for c in ws[header_row]], last_used)
        for name, c in cols.items():
            cell = merged_anchor(ws, f"{get_column_letter(c)}{header_row}")
            cell.value = name
            cell.font = head_font
        positions = np.flatnonzero(source_of_row == k_src)
        rows = frame["_row"].to_numpy()[positions]
        for k, r in zip(positions, rows):
            r = int(r)
            i = result.index[k]

            def put(name: str, value, r=r):
                target = merged_anchor(ws, f"{get_column_letter(cols[name])}{r}")
                target.value = excel_text(value, f"工作表「{src.sheet}」第 {r} 行")
                return target

            put("当前阶段", result.at[i, "stage_label"])
            d = result.at[i, "due_on"]
            put("法定时限", None if pd.isna(d) else d.to_pydatetime()).number_format = "yyyy-mm-dd"
            left = result.at[i, "days_left"]
            put("剩余天数", None if pd.isna(left) else int(left))
            colour = FLAG_FILLS.get(result.at[i, "flag"])
            put("预警", result.at[i, "flag_label"]).fill = (PatternFill("solid", fgColor=colour) if colour
                                                          else PatternFill(fill_type=None))
            put("时限说明", result.at[i, "explain"])
        ws.column_dimensions[get_column_letter(cols["时限说明"])].width = 80
        ws.column_dimensions[get_column_letter(cols["法定时限"])].width = 12
        last_col = max(last_used, max(cols.values()))
        last_row = int(rows.max()) if len(rows) else header_row
        ws.auto_filter.ref = f"A{header_row}:{get_column_letter(last_col)}{last_row}"
        if ws.freeze_panes is None:  # the clerk's own frozen pane is kept
            ws.freeze_panes = ws.cell(header_row + 1, 1)
    return save_workbook(wb, out_path, inputs=[src_file])
