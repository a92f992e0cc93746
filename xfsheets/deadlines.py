"""Deadlines and overdue flags by stage, on the official working-day calendar, explained.

For every matter: the stage it is in (the policy's stages, latest first: 复核 recheck, 复查
review, 办理 handle, 受理告知 accept, 登记交办 register, and any a user's policy adds), the
legal due date of that stage (the start day is not counted; a calendar-day period whose
nominal last day is a rest day ends on the next working day, the actual last day; a
working-day period ends on its Nth working day), the binding due date (the earlier of the
legal one and the ledger's 办理时限, which a 交办单 may set shorter but never longer;
an approved extension the 办理时限 does not carry is named), days left, a flag, whether the
matter is closed (the policy's one rule) and a Chinese explanation of how the date was
worked out. Vectorised over day arrays.

The ledger is judged as it stood on the as-of day (:func:`ledger_as_of`, the policy's one
point-in-time rule): later 交办/受理/办结/复查/复核 dates have not happened yet. A status that ends
the duty (the policy's ``[statuses.ended]``) gives no deadline at all (flag ``ended``). 临期 counts
working days in a stage that counts working days. The explanation is one or two sentences a
clerk reads aloud, dates written 2026年3月5日; what to do about a year without a holiday
schedule is said once per run (:meth:`DeadlineReport.notes`), not in every row.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from xfsheets.workdays import ESTIMATE_MARK, WEEKDAYS, WorkCalendar, missing_year_hint
from xfsheets.ledger import Ledger
from xfsheets.policy import Policy, resolve as resolve_policy
from xfsheets.schema import COMPUTED_COLUMNS, FIELD_BY_NAME, LABELS

FLAG_LABELS = {
    "on_track": "正常", "due_soon": "临期", "overdue": "超期", "severely_overdue": "严重超期",
    "closed_on_time": "按期办结", "closed_late": "超期办结", "unknown": "无法判断",
    "ended": "不计时限",  # a status that ends the duty (不予受理, 不再受理, 终结, 撤回, 已转送（出本单位）)
}
# The columns a deadline run owns in a ledger (the -o copy and the 计算时限 button), and their colours.
DEADLINE_COLUMNS = list(COMPUTED_COLUMNS)  # labels written once, in the schema
OVERDUE_FLAGS = ("overdue", "severely_overdue")
FLAG_FILLS = {"overdue": "FFC7CE", "severely_overdue": "FF9999", "due_soon": "FFEB9C", "on_track": "C6EFCE"}
RESULT_COLUMNS = ["stage", "stage_label", "start_field", "start_on", "limit", "legal_due_on", "due_on", "days_left",
                  "working_days_left", "flag", "flag_label", "explain", "closed", "due_source", "due_beyond_legal_limit",
                  "extension_not_in_ledger_due", "estimated", "ended", "ended_status", "missing_year",
                  "registered_later"]


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
    cn = np.array([f"{int(t[:4])}年{int(t[5:7])}月{int(t[8:])}日" for t in iso], dtype=object)
    roll = np.full(n, "", dtype=object)
    for i in np.flatnonzero(~cal.is_work):
        j = nxt[i]
        names = [cal.names[k] for k in range(i, j) if cal.names[k]]
        reason = f"{names[0]}放假" if names else "周末"
        roll[i] = f"，期满日{cn[i]}逢{reason}，顺延至{cn[j]}"
    weekday = (cal.days.astype("int64") - 4) % 7  # 0 = Monday
    mark = np.full(n, "", dtype=object)
    for i in np.flatnonzero(cal.is_work & (weekday >= 5)):
        mark[i] = f"（星期{WEEKDAYS[weekday[i]]}，调休上班）"
    cal._tables = {"next_work": nxt, "iso": iso, "roll": roll, "cn": cn,
                   "iso_arrow": pa.array(iso.tolist(), pa.string()), "roll_arrow": pa.array(roll.tolist(), pa.string()),
                   "cn_arrow": pa.array(cn.tolist(), pa.string()),
                   "mark_arrow": pa.array(mark.tolist(), pa.string())}
    return cal._tables


def _frame(ledger: Ledger | pd.DataFrame) -> pd.DataFrame:
    return ledger.frame if isinstance(ledger, Ledger) else ledger


def ledger_as_of(ledger: Ledger | pd.DataFrame, as_of: dt.date, policy: Policy | None = None) -> Ledger | pd.DataFrame:
    """The ledger as it stood on ``as_of`` (:meth:`Policy.as_it_stood`): a 交办/受理/办结/复查/复核
    date after it had not happened, so it is blank (in ``frame`` and ``raw`` alike), and a status
    implying it is set aside. Rows, order, index and provenance are kept; the same object comes
    back when nothing is later. Deadlines, the report, the zero report and the slips all judge
    this ledger (compute_deadlines applies it; a caller counting from ``frame`` applies it too)."""
    policy = resolve_policy(policy)
    f = _frame(ledger)
    g = policy.as_it_stood(f, as_of)
    if g is f or not isinstance(ledger, Ledger):
        return g if not isinstance(ledger, Ledger) else ledger
    raw = ledger.raw
    blanked = [c for c in policy.event_fields if c in f and c in raw.columns and (f[c].notna() & g[c].isna()).any()]
    if blanked:
        raw = raw.copy()
        for c in blanked:
            raw.loc[(f[c].notna() & g[c].isna()).to_numpy(), c] = None
    if "status" in raw.columns and (f["status"].notna() & g["status"].isna()).any():
        raw = raw.copy() if not blanked else raw
        raw.loc[(f["status"].notna() & g["status"].isna()).to_numpy(), "status"] = None
    return Ledger(frame=g, raw=raw, sources=ledger.sources, skipped_sheets=ledger.skipped_sheets)


def compute_deadlines(ledger: Ledger | pd.DataFrame, *, as_of: dt.date | None = None, policy: Policy | None = None,
                      rules: Policy | None = None, calendar: WorkCalendar | None = None, warn_days: int | None = None,
                      severe_days: int | None = None, assume_weekends: bool | None = None,
                      holidays: str | None = None) -> pd.DataFrame:
    """One row per ledger row (same index): stage, due dates, days left, flag, explanation.

    ``policy`` (or its old name ``rules``) gives the stages, thresholds, status sets and
    calendar; the other keywords are command-line choices that override the policy's."""
    policy = resolve_policy(policy or rules).with_options(holidays=holidays, assume_weekends=assume_weekends,
                                                          warn_days=warn_days, severe_days=severe_days)
    as_of = as_of or dt.date.today()
    ledger = ledger_as_of(ledger, as_of, policy)  # only what had happened by the as-of day counts
    f = _frame(ledger)
    assume_weekends = policy.assume_weekends
    warn_days, severe_days = policy.thresholds.warn_days, policy.thresholds.severe_days
    cal = calendar or policy.calendar()
    tables = _calendar_tables(cal)
    n = len(f)
    index = f.index
    order = policy.order
    stages = [policy[k] for k in order]
    none = len(order)

    # Stage: the latest one (highest order) the matter has reached; a stage that applies only
    # with some statuses (简易办理) is reached only while the status is one of them.
    status_values = f["status"] if "status" in f.columns else pd.Series(None, index=index, dtype=object)
    conditions = [f[s.start].notna().to_numpy() & (status_values.isin(s.statuses).to_numpy() if s.only_with_status
                                                   else True) for s in stages]
    code = np.select(conditions, list(range(none)), default=none).astype("int64") if stages else \
        np.full(n, none, dtype="int64")
    in_stage = [code == k for k in range(none)]
    dates = {k: f[k].to_numpy(dtype="datetime64[D]") for k in {s.start for s in stages} | {s.end for s in stages}}
    nat = np.datetime64("NaT", "D")
    start = np.select(in_stage, [dates[s.start] for s in stages], nat)
    end = np.select(in_stage, [dates[s.end] for s in stages], nat)
    days = np.array([s.days for s in stages] + [0], dtype="int64")[code]
    workday = np.array([s.counting == "workday" for s in stages] + [False])[code]
    max_ext = np.array([s.max_extension if s.extension_field else 0 for s in stages] + [0], dtype="int64")[code]
    ext = np.zeros(n, dtype="int64")
    ext_over = np.zeros(n, dtype=bool)
    for k, s in enumerate(stages):
        if s.extension_field:
            m = in_stage[k]
            e = f[s.extension_field].fillna(0).astype("int64").to_numpy()
            ext_over |= m & (e > s.max_extension)
            ext = np.where(m, np.clip(e, 0, s.max_extension), ext)
    total = days + ext

    # Legal due date, on the day arrays (with the extension, and without it to tell a stale 办理时限).
    start_idx = (start - cal.origin).astype("int64")
    has_start = ~np.isnat(start)
    ok = has_start & (start_idx >= 0) & (start_idx < len(cal.days) - 400)
    si = np.where(ok, start_idx, 0)
    raw_idx, due_idx = _due_index(cal, tables, si, total, workday)
    known = cal.known[si] & cal.known[raw_idx] & cal.known[due_idx]
    usable = ok & (known | assume_weekends)
    legal_due = np.where(usable, cal.origin + due_idx, np.datetime64("NaT")).astype("datetime64[D]")
    _, plain_idx = _due_index(cal, tables, si, days, workday)
    plain_due = np.where(usable & (ext > 0), cal.origin + plain_idx, np.datetime64("NaT")).astype("datetime64[D]")

    # The 交办单's 办理时限 can shorten a stage that lets it bind, never lengthen the legal limit
    # (《信访工作条例》第三十四条): the binding date is the earlier of the two. An approved extension
    # the 办理时限 does not carry (still at the old date or before) is named, and the extension binds.
    ledger_due = f["due_on"].to_numpy(dtype="datetime64[D]")
    binds = np.array([s.ledger_due_binds for s in stages] + [False])[code]
    has_ledger = binds & ~np.isnat(ledger_due)
    stale = has_ledger & (ext > 0) & ~np.isnat(plain_due) & (ledger_due <= plain_due)
    # Without a legal end (a year no schedule covers) the 办理时限 binds only if it is no later than
    # the earliest the legal end could be (start + the days, calendar days: rest days only push an
    # end later); a later 办理时限 might lengthen the statutory period, so the deadline is unknown.
    earliest = np.where(has_start, start + total.astype("timedelta64[D]"), np.datetime64("NaT")).astype("datetime64[D]")
    sure_earlier = ~np.isnat(earliest) & (ledger_due <= earliest)
    binding = has_ledger & ~stale & ((np.isnat(legal_due) & sure_earlier) | (ledger_due <= legal_due))
    beyond = has_ledger & ~stale & ~np.isnat(legal_due) & (ledger_due > legal_due)
    unbounded = has_ledger & ~stale & np.isnat(legal_due) & has_start & ~sure_earlier
    due = np.where(binding, ledger_due, legal_due)

    # Never invent a deadline: a date or 延期天数 the matter's stage needs that is missing
    # (column absent, cell blank, or typed unreadably) makes the flag unknown, with the reason.
    reasons = _cannot_tell(ledger, f, policy, code)
    if isinstance(ledger, Ledger):  # a 积案/稳控台账 starts no handling stage: no deadline is invented
        reasons.update(ledger.unsupported("deadlines", "不计算办理时限，也不判断是否超期"))
    years = cal.year_of[np.minimum(raw_idx, len(cal.days) - 1)]
    missing_year = np.where(cal.known[si], years, cal.year_of[si])  # the first year the period needs and lacks
    for pos in np.flatnonzero(unbounded):
        if pos not in reasons:
            why = (f"{missing_year[pos]}年放假安排尚未收录，算不出法定期满日" if ok[pos]
                   else "起算日期超出日历范围（2000—2040年），算不出法定期满日")
            reasons[int(pos)] = (f"{why}；台账{LABELS['due_on']}{_cn(ledger_due[pos])}可能晚于法定期满日（最早为"
                                 f"{_cn(earliest[pos])}），交办单指定的期限不能延长法定期限，不能以它为准")
    # A matter registered after the as-of day was not a matter yet on that day.
    registered_later = f["received_on"].notna().to_numpy() & (f["received_on"] > pd.Timestamp(as_of)).to_numpy() \
        if "received_on" in f else np.zeros(n, dtype=bool)
    for pos in np.flatnonzero(registered_later):
        reasons[int(pos)] = (f"登记日期为{_cn(f['received_on'].iat[pos])}，在{_cn(as_of)}之后，"
                             f"截至{_cn(as_of)}尚未登记")
    # A status that ends the duty: no deadline, no 超期, no 督办单, counted under its own heading.
    ended_word = policy.ended_status(f)
    ended = ended_word.notna().to_numpy() & ~registered_later
    for pos in np.flatnonzero(ended):
        reasons.pop(int(pos), None)
    blocked = np.zeros(n, dtype=bool)
    if reasons or ended.any():
        blocked[list(reasons)] = True
        blocked |= ended
        legal_due = np.where(blocked, np.datetime64("NaT"), legal_due).astype("datetime64[D]")
        due = np.where(blocked, np.datetime64("NaT"), due).astype("datetime64[D]")
        binding &= ~blocked
        beyond &= ~blocked
        stale &= ~blocked

    # Flags: the one open/closed rule of the policy.
    as_of64 = np.datetime64(as_of, "D")
    stage_names = np.array(list(order) + [""], dtype=object)
    closed = policy.closed_mask(f, stage_names[code]) | ended
    closed_no_date = closed & np.isnat(end) & ~ended
    has_due = ~np.isnat(due)
    days_left = np.where(has_due, (due - as_of64).astype("int64"), 0)
    ai = int((as_of64 - cal.origin).astype("int64"))
    a_i = min(max(ai, 0), len(cal.days) - 1)
    due_i = np.where(has_due, (due - cal.origin).astype("int64"), 0).clip(0, len(cal.days) - 1)
    wd_known = has_due & (cal.known[due_i] & cal.known[a_i] | assume_weekends)
    working_left = cal.cum_work[due_i] - cal.cum_work[a_i]
    # 临期 counts the days the stage counts: working days in a 工作日 stage (8 calendar days over
    # 国庆节 may be one working day), calendar days otherwise.
    left_for_warning = np.where(workday & wd_known & (days_left > 0), working_left, days_left)
    F = {name: k for k, name in enumerate(FLAG_LABELS)}
    fcode = np.full(n, F["unknown"], dtype="int64")
    open_ = ~closed & has_due
    fcode[open_] = F["on_track"]
    fcode[open_ & (left_for_warning <= warn_days)] = F["due_soon"]
    fcode[open_ & (days_left < 0)] = F["overdue"]
    fcode[open_ & (days_left < -severe_days)] = F["severely_overdue"]
    done = closed & has_due & ~np.isnat(end)
    fcode[done & (end <= due)] = F["closed_on_time"]
    fcode[done & (end > due)] = F["closed_late"]
    fcode[ended] = F["ended"]
    flag_names = np.array(list(FLAG_LABELS), dtype=object)

    # Rows that share every input of the explanation share its text: build each distinct one once.
    per_row = dict(stage=code, start=start, si=si, raw_idx=raw_idx, due_idx=due_idx, total=total, ext=ext,
                   ext_over=ext_over, max_ext=max_ext, workday=workday, ok=ok, known=known, legal_due=legal_due,
                   ledger_due=ledger_due, plain_due=plain_due, binding=binding, beyond=beyond, stale=stale, due=due,
                   end=end, closed=closed, closed_no_date=closed_no_date, flag=fcode, days_left=days_left,
                   working_left=np.where(wd_known, working_left, -10**6), earliest=earliest,
                   # the status is quoted only where it closed a matter without its date: elsewhere it
                   # must not split rows that share every other input of the explanation
                   status=np.where(closed_no_date, status_values.to_numpy(dtype=object), None))
    first, inverse = _distinct_rows(per_row)
    distinct = {k: v[first] for k, v in per_row.items()}
    distinct["stage"], distinct["flag"] = stage_names[distinct["stage"]], flag_names[distinct["flag"]]
    explain = pc.take(_explain(policy=policy, order=order, cal=cal, tables=tables, assume_weekends=assume_weekends,
                               as_of=as_of, **distinct), pa.array(inverse))
    if reasons or ended.any():
        texts = explain.to_numpy(zero_copy_only=False).astype(object)
        for pos, why in reasons.items():
            texts[pos] = "无法判断：" + why + "。"
        for pos in np.flatnonzero(ended):
            word = ended_word.iat[pos]
            texts[pos] = f"办理状态为“{word}”：{policy.ended[word].rstrip('。') or '办理责任结束，不再计算办理时限'}。"
        explain = pa.array(texts.tolist(), pa.string())
    explain = _typed_end_dates(explain, ledger, stages, code, closed_no_date)

    def by_stage(values: list) -> pd.Series:
        return pd.Series(np.array(values + [None], dtype=object)[code], index=index, dtype=object)

    limit = by_stage([s.limit_text for s in stages])
    if (ext > 0).any():
        extended = ext > 0
        limit[extended] = limit[extended] + "+延期" + pd.Series(ext[extended], index=limit.index[extended]).astype(str) + "日"
    flag = flag_names[fcode]
    flag_label = np.array(list(FLAG_LABELS.values()), dtype=object)[fcode]
    out = pd.DataFrame({
        "stage": by_stage(list(order)),
        "stage_label": by_stage([s.label for s in stages]),
        "start_field": by_stage([s.start for s in stages]),
        "start_on": start.astype("datetime64[ns]"),
        "limit": limit,
        "legal_due_on": legal_due.astype("datetime64[ns]"),
        "due_on": due.astype("datetime64[ns]"),
        "days_left": pd.arrays.IntegerArray(days_left.astype("int64"), ~(has_due & ~closed)),
        "working_days_left": pd.arrays.IntegerArray(working_left.astype("int64"), ~(wd_known & ~closed)),
        "flag": pd.Series(flag, index=index, dtype=object),
        "flag_label": pd.Series(flag_label, index=index, dtype=object),
        "explain": pd.arrays.ArrowStringArray(explain) if hasattr(pd.arrays, "ArrowStringArray") else explain.to_pandas(),
        "closed": closed,
        "due_source": pd.Series(np.where(binding, "ledger", np.where(has_due, "legal", None)), index=index, dtype=object),
        "due_beyond_legal_limit": beyond,
        "extension_not_in_ledger_due": stale,
        # 预估: a date rests on the estimate of a year no schedule covers (--assume-weekends)
        "estimated": ok & ~known & ~blocked & bool(assume_weekends),
        "ended": ended,  # the duty ended (policy [statuses.ended]): counted under its own heading
        "registered_later": registered_later,  # registered after the as-of day: not a matter on that day
        "ended_status": pd.Series(ended_word.to_numpy(dtype=object), index=index, dtype=object),
        # the year whose holiday schedule the deadline needs and lacks (said once per run, not per row)
        "missing_year": pd.arrays.IntegerArray(missing_year.astype("int64"),
                                               ~np.asarray(has_start & ok & ~known & ~bool(assume_weekends) & ~ended
                                                           & ~registered_later & (code != none), dtype=bool)),
    }, index=index)
    return out[RESULT_COLUMNS]


def _typed_end_dates(explain: pa.Array, ledger: Ledger | pd.DataFrame, stages: list, code: np.ndarray,
                     closed_no_date: np.ndarray) -> pa.Array:
    """A closing date that was typed but cannot be read (2026.13.45, 长期) was filled: the text says
    what is there, never 未填写 (issue 21 item 16)."""
    from xfsheets.normalize import display_value, is_blank, is_na_mark

    if not closed_no_date.any() or not isinstance(ledger, Ledger):
        return explain
    texts = None
    for pos in np.flatnonzero(closed_no_date).tolist():
        field = stages[code[pos]].end if code[pos] < len(stages) else "closed_on"
        typed = ledger.raw[field].iat[pos] if field in ledger.raw.columns else None
        if is_blank(typed) or is_na_mark(typed):
            continue
        if texts is None:
            texts = explain.to_numpy(zero_copy_only=False).astype(object)
        texts[pos] = texts[pos].replace(f"但未填写{LABELS[field]}", f"但{LABELS[field]}填写的「{display_value(typed)}」"
                                        "不是可识别的日期（请改成 2026-03-05 这样的日期）")
    return explain if texts is None else pa.array(texts.tolist(), pa.string())


def _due_index(cal: WorkCalendar, tables: dict, si: np.ndarray, total: np.ndarray,
               workday: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(nominal last day, actual due day) as day indexes: a 日 period's nominal end rolls to the
    next working day; a 工作日 period ends on its Nth working day."""
    last = len(cal.days) - 1
    raw_idx = np.minimum(si + total, last)
    due_idx = np.where(workday, np.searchsorted(cal.cum_work, cal.cum_work[si] + total, side="left"),
                       tables["next_work"][raw_idx])
    return raw_idx, np.minimum(due_idx, last)


@dataclass
class DeadlineReport:
    """What ``deadlines`` found: the per-row result (same index as the ledger), the day it was
    judged on and the policy it followed; ``to_dict()`` is the ``deadlines --json`` document."""

    ledger: Ledger
    result: pd.DataFrame
    as_of: dt.date
    policy: Policy

    def counts(self) -> dict[str, int]:
        """Flag label -> number of matters, in FLAG_LABELS order."""
        counts = self.result["flag"].value_counts()
        return {label: int(counts[flag]) for flag, label in FLAG_LABELS.items() if flag in counts}

    def figures(self) -> dict[str, int]:
        """Open, overdue (both degrees, open matters) and closed matters: the same figures the
        summary, the slips and the zero report show."""
        closed = self.result["closed"].to_numpy(dtype=bool)
        overdue = self.result["flag"].isin(OVERDUE_FLAGS).to_numpy()
        # a matter registered after the as-of day was neither open nor closed on it (its row says so)
        later = self.result["registered_later"].to_numpy(dtype=bool) if "registered_later" in self.result else False
        return {"open": int((~closed & ~later).sum()), "overdue": int((overdue & ~closed).sum()),
                "closed": int((closed & ~later).sum())}

    def notes(self) -> list[str]:
        """What the clerk is told once per run, not in every row: for each year whose holiday
        schedule some deadline needs and lacks, how many matters it leaves undecided and the one
        way to add the year (or to estimate it)."""
        return deadline_notes(self.result, self.policy)

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "policy": self.policy.source, "figures": self.figures(),
                "notes": self.notes(), "cases": case_records(self.ledger, self.result)}


def deadline_notes(result: pd.DataFrame, policy: Policy, calendar: WorkCalendar | None = None) -> list[str]:
    """The once-per-run remedies for a deadline result (see :meth:`DeadlineReport.notes`)."""
    if "missing_year" not in result:
        return []
    cal = calendar or policy.calendar()
    counts = result["missing_year"].dropna().astype(int).value_counts().sort_index()
    return [f"有 {int(k)} 件事项的期满日落在{year}年，{cal.missing_year_reason(int(year))}，这些事项标为“无法判断”。"
            f"{missing_year_hint(int(year))}；或加 --assume-weekends 按周末、法定节假日和补假估算（结果标“{ESTIMATE_MARK}”）"
            for year, k in counts.items()]


def deadline_report(ledger: Ledger, *, as_of: dt.date | None = None, policy: Policy | None = None,
                    **options: Any) -> DeadlineReport:
    """:func:`compute_deadlines` wrapped with what it was judged on (``to_dict()`` for --json)."""
    as_of = as_of or dt.date.today()
    policy = resolve_policy(policy)
    return DeadlineReport(ledger=ledger, result=compute_deadlines(ledger, as_of=as_of, policy=policy, **options),
                          as_of=as_of, policy=policy)


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
        "stage": text(result["stage"]), "stage_label": text(result["stage_label"]),
        "start_on": iso(result["start_on"]), "limit": text(result["limit"]),
        "legal_due_on": iso(result["legal_due_on"]), "due_on": iso(result["due_on"]),
        "due_source": text(result["due_source"]), "days_left": ints(result["days_left"]),
        "working_days_left": ints(result["working_days_left"]), "flag": text(result["flag"]),
        "flag_label": text(result["flag_label"]), "closed": result["closed"].astype(bool),
        "explain": text(result["explain"]),
        "due_beyond_legal_limit": result["due_beyond_legal_limit"].fillna(False).astype(bool),
        "extension_not_in_ledger_due": result["extension_not_in_ledger_due"].fillna(False).astype(bool),
        "estimated": result["estimated"].fillna(False).astype(bool) if "estimated" in result else False,
        "ended": result["ended"].fillna(False).astype(bool) if "ended" in result else False,
        "ended_status": text(result["ended_status"]) if "ended_status" in result else None,
    }, index=result.index)
    columns = list(table.columns)  # zip of plain lists: ~10x faster than to_dict("records") at 100k rows
    return [dict(zip(columns, row)) for row in zip(*(table[c].tolist() for c in columns))]


def _cannot_tell(ledger: Ledger | pd.DataFrame, f: pd.DataFrame, policy: Policy, code: np.ndarray) -> dict[int, str]:
    """Row position -> why its deadline cannot be told (Chinese), for the rows whose stage needs a
    date or 延期天数 that the ledger lacks, left blank, or holds in a form that cannot be read."""
    from xfsheets.normalize import display_value, is_blank, is_na_mark

    raw = ledger.raw if isinstance(ledger, Ledger) else None
    out: dict[int, str] = {}
    rows = f["_row"].to_numpy() if "_row" in f.columns else None
    order = policy.order
    none = len(order)

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
    fields = [policy[k].start for k in order] + [policy[k].extension_field for k in order if policy[k].extension_field]
    if raw is not None:
        for field in dict.fromkeys(fields):
            if field not in raw.columns:
                continue
            bad = f[field].isna().to_numpy() & raw[field].notna().to_numpy()
            for pos in np.flatnonzero(bad):
                v = typed(field, pos)
                if v is None or pos in out:
                    continue
                kind = "天数" if FIELD_BY_NAME[field].kind == "int" else "日期"
                out[pos] = (f"“{LABELS[field]}”{where(field, pos)}填写的「{display_value(v)}」无法识别为{kind}，"
                            f"无法计算时限：请改成{'数字，如 30' if kind == '天数' else ' 2026年3月5日 这样的日期'}")
    if "status" not in f.columns or not order:
        return out
    # 2. The status says the matter reached a stage whose start date is missing.
    status = f["status"].to_numpy(dtype=object)
    status_stage = policy.status_stage()
    stage_of_status = f["status"].map({st: order.index(k) for st, k in status_stage.items()}).to_numpy(dtype=float)
    first = len(order) - 1  # the earliest stage (登记交办)
    later = list(dict.fromkeys(policy[k].start for k in order[:-1] if policy[k].closed_status_ends))
    ext_status = {policy[k].extension_status: k for k in order if policy[k].extension_field and policy[k].extension_status}
    ext_missing = np.zeros(len(f), dtype=bool)
    for st, k in ext_status.items():
        ext_missing |= (status == st) & (code == order.index(k)) & f[policy[k].extension_field].isna().to_numpy()
    closed_first = f["status"].isin(policy.closed_statuses).to_numpy() & (code == first) & bool(later)
    candidates = (((code > stage_of_status) & (code != none))  # NaN compares False
                  | ext_missing | closed_first)
    for pos in np.flatnonzero(candidates):
        key = status_stage.get(status[pos])
        if key is None and closed_first[pos] and pos not in out and not any(has_column(c, pos) for c in later):
            out[pos] = (f"办理状态为“{status[pos]}”，但台账没有{''.join(f'“{LABELS[c]}”' for c in later)}列，"
                        f"无法判断是否按期办结：请在台账中加上{'这两列' if len(later) == 2 else '这些列'}并填写")
            continue
        if key is None or pos in out or code[pos] == none:  # no date at all: said elsewhere
            continue
        stage = policy[key]
        need = stage.start
        if code[pos] > order.index(key):
            if not has_column(need, pos):
                out[pos] = (f"办理状态为“{status[pos]}”，但台账没有“{LABELS[need]}”列，无法确定{stage.label}阶段的时限："
                            f"请在台账中加上“{LABELS[need]}”列并填写")
            else:
                out[pos] = (f"办理状态为“{status[pos]}”，但“{LABELS[need]}”{where(need, pos)}未填写，"
                            f"无法确定{stage.label}阶段的时限：请填写“{LABELS[need]}”")
        elif ext_missing[pos]:
            ext = stage.extension_field
            out[pos] = (f"办理状态为“{status[pos]}”，但“{LABELS[ext]}”{where(ext, pos) if has_column(ext, pos) else ''}"
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


def _cn(value: Any) -> str:
    """A date as a clerk reads it aloud: 2026年3月5日 ('' for none)."""
    if value is None or (isinstance(value, (np.datetime64, float)) and pd.isna(value)) or value is pd.NaT:
        return ""
    day = pd.Timestamp(value)
    return f"{day.year}年{day.month}月{day.day}日"


def _explain(*, policy, order, cal, tables, stage, start, si, raw_idx, due_idx, total, ext, ext_over, max_ext, workday,
             ok, known, assume_weekends, legal_due, ledger_due, plain_due, binding, beyond, stale, due, end, closed,
             closed_no_date, flag, days_left, working_left, earliest, status, as_of) -> pa.Array:
    """The explanation of every row: one sentence on how the due day was worked out (stage, from
    which date, the limit and what it rests on, the due day, why it moved, which date binds) and
    one on where the matter stands on the as-of day; dates as 2026年3月5日, no commands. Assembled
    column-wise with Arrow string kernels from per-day lookup tables (a Python loop or
    object-array concatenation costs seconds on a million rows)."""
    n = len(stage)
    last = len(cal.days) - 1
    cn = tables["cn_arrow"]
    blank = pa.scalar("", pa.string())

    def when(mask: np.ndarray, *parts) -> pa.Array:
        if not mask.any():
            return pa.nulls(n, pa.string()).fill_null("")
        joined = pc.binary_join_element_wise(*[p if isinstance(p, (pa.Array, pa.ChunkedArray)) else pa.scalar(p)
                                               for p in parts], "")
        return pc.if_else(pa.array(mask), joined, blank)

    def day(idx: np.ndarray) -> pa.Array:
        return pc.take(cn, pa.array(np.clip(idx, 0, last)))

    def mark(idx: np.ndarray) -> pa.Array:  # （星期日，调休上班） on a make-up workday
        return pc.take(tables["mark_arrow"], pa.array(np.clip(idx, 0, last)))

    def num(values: np.ndarray) -> pa.Array:
        return pc.cast(pa.array(values), pa.string())

    def date_text(values: np.ndarray, mask: np.ndarray) -> pa.Array:
        # a ledger date may lie outside the calendar's span (a typo such as 2206): format it directly
        out = np.full(n, "", dtype=object)
        out[mask] = [_cn(v) for v in values[mask]]
        return pa.array(out, pa.string())

    def index_of(values: np.ndarray) -> np.ndarray:
        return np.where(np.isnat(values), 0, (values - cal.origin).astype("int64"))

    code = np.full(n, len(order), dtype="int64")
    for k, key in enumerate(order):
        code[stage == key] = k
    stages = [policy[k] for k in order]
    prefix = pa.array([f"{s.label}阶段自{LABELS[s.start]}" for s in stages] + [""])
    article = pa.array([f"起算，依{s.cites}，时限{s.limit_text}" for s in stages] + [""])
    codes = pa.array(code)
    has = stage != ""
    as_of_text = f"截至{_cn(as_of)}"
    unknown_year = has & ok & ~known
    years = cal.year_of[np.minimum(raw_idx, last)]
    missing = np.where(cal.known[np.clip(si, 0, last)], years, cal.year_of[np.clip(si, 0, last)])
    ledger_text = date_text(ledger_due, binding | beyond | stale)
    status_text = pa.array(np.where(pd.isna(status), "", status).astype(object).tolist(), pa.string())
    counted = has & ok & (known | assume_weekends)
    rolled = counted & ~workday & (raw_idx != due_idx)
    open_known = ~closed & np.isin(flag, ("on_track", "due_soon", "overdue", "severely_overdue"))
    done = np.isin(flag, ("closed_on_time", "closed_late"))
    late_by = np.where(done & ~np.isnat(end) & ~np.isnat(due), (end - due).astype("int64"), 0)
    both = open_known & workday & (days_left > 0) & (working_left >= 0) & (working_left != days_left)
    segments = [
        # 1. how the due day was worked out
        pc.take(prefix, codes),
        when(has & ok, day(si)),
        when(has & ~ok, date_text(start, has & ~ok)),  # as typed, never a fallback
        pc.take(article, codes),
        when(has & (ext > 0), "，含延期", num(ext), "日"),
        when(ext_over, "（延期超过", num(max_ext), "日上限，按", num(max_ext), "日计）"),
        when(counted & ~workday & ~rolled, "，期满日", day(raw_idx), mark(raw_idx)),
        when(rolled, pc.take(tables["roll_arrow"], pa.array(raw_idx)), mark(due_idx)),
        when(counted & workday, "，第", num(total), "个工作日是", day(due_idx), mark(due_idx)),
        # an unknown year's end is given only as an estimate that was asked for, and called one
        when(unknown_year, "（", num(missing), "年放假安排尚未公布，按周末、法定节假日和补假估算，为", ESTIMATE_MARK, "）")
        if assume_weekends else
        when(unknown_year, "，", num(missing), "年放假安排尚未收录，算不出期满日"),
        # which date binds: the legal one, or the 交办单's earlier 办理时限
        when(binding & ~np.isnat(legal_due) & (ledger_due < legal_due), "；台账办理时限", ledger_text,
             "早于法定期满日，以办理时限为准"),
        when(binding & ~np.isnat(legal_due) & (ledger_due == legal_due), "，与台账办理时限相同"),
        when(binding & np.isnat(legal_due), "；台账办理时限", ledger_text, "不晚于法定期满日（最早为",
             date_text(earliest, binding & np.isnat(legal_due)), "），以办理时限为准"),
        when(beyond, "；台账办理时限", ledger_text, "晚于法定期满日，交办单只能缩短、不能延长法定期限，"
             "以法定期满日为准，请核对办理时限"),
        when(stale, "；已批准延期", num(ext), "日，台账办理时限仍是延期前的", ledger_text,
             "，以延期后的", day(index_of(legal_due)), "为准，请更新办理时限"),
        when(has & ~ok, "，起算日期超出日历范围（2000—2040年），无法计算"),
        when(has, "。"),
        # 2. where the matter stands on the as-of day
        when(open_known & (days_left > 0), as_of_text, "剩余 ", num(days_left), " 天"),
        when(both, "，其中工作日 ", num(np.maximum(working_left, 0)), " 天"),
        when(open_known & (days_left > 0), "。"),
        when(open_known & (days_left == 0), "今日（", _cn(as_of), "）到期。"),
        when(open_known & (days_left < 0), as_of_text, "已超期 ", num(-days_left), " 天。"),
        when(done & (flag == "closed_on_time"), "已于", date_text(end, done), "按期办结。"),
        when(done & (flag == "closed_late"), "已于", date_text(end, done), "办结，超期 ", num(late_by), " 天。"),
        when(closed_no_date, "办理状态为“", status_text, "”，但未填写", pa.array(
            [LABELS[s.end] for s in stages] + ["办结日期"]).take(codes), "，无法判断是否按期。"),
    ]
    text = pc.binary_join_element_wise(*segments, "")
    return pc.if_else(pa.array(~has), pa.scalar("缺少登记日期（或日期无法识别），无法确定时限：请填写“登记日期”。"), text)


def stage_due(starts: pd.Series, stage: Any, policy: Policy | None = None,
              calendar: WorkCalendar | None = None) -> pd.Series:
    """Due dates of ``stage``'s period from each start (start not counted; a 日 period's rest-day
    end rolls on, a 工作日 period ends on its Nth working day), on the policy's calendar; NaT where
    the start is missing or the needed year is not covered (unless the policy estimates it)."""
    policy = resolve_policy(policy)
    cal = calendar or policy.calendar()
    tables = _calendar_tables(cal)
    idx = cal.indexes(starts)
    ok = idx >= 0
    si = np.where(ok, idx, 0)
    total = np.full(len(si), stage.days, dtype="int64")
    raw, due = _due_index(cal, tables, si, total, np.full(len(si), stage.counting == "workday"))
    good = ok & ((cal.known[si] & cal.known[raw] & cal.known[due]) | policy.assume_weekends)
    values = np.where(good, cal.origin + due, np.datetime64("NaT")).astype("datetime64[ns]")
    return pd.Series(values, index=starts.index)


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


# Where each of DEADLINE_COLUMNS takes its values from (a column of compute_deadlines' result);
# the 预警 column is coloured by flag (FLAG_FILLS), a date column shows as yyyy-mm-dd.
COLUMN_SOURCES = {"当前阶段": "stage_label", "法定期限": "legal_due_on", "应办结日期（按时限计算）": "due_on", "剩余天数": "days_left",
                  "预警": "flag_label", "时限说明": "explain"}
WIDE_SOURCES = {"explain": 80}


def mark_plan(ledger: Ledger, result: pd.DataFrame):
    """The marks a deadline run puts on its ledger (:class:`xfsheets.marks.MarkPlan`): the
    DEADLINE_COLUMNS at the right of every ledger sheet's header (refreshed in place if an
    earlier run added them), 预警 coloured by flag, autofilter and a frozen header. The
    annotated copy and the 计算时限 button both apply it."""
    from xfsheets.errors import XfsheetsError
    from xfsheets.marks import AddedColumn, MarkPlan, SheetMarks, excel_date
    from xfsheets.writer import excel_text

    missing = [c for c in DEADLINE_COLUMNS if COLUMN_SOURCES.get(c) not in result.columns]
    if missing:
        raise XfsheetsError(f"时限列「{'、'.join(missing)}」没有对应的计算结果", hint="这是程序的问题，请联系技术人员")
    frame = ledger.frame
    source_of_row = frame["_source"].to_numpy() if "_source" in frame else np.zeros(len(frame), dtype=int)
    excel_rows = frame["_row"].to_numpy()
    flags = result["flag"].to_numpy(dtype=object)
    sheets = []
    for k_src, src in enumerate(ledger.sources):
        positions = np.flatnonzero(source_of_row == k_src)
        rows = [int(r) for r in excel_rows[positions]]
        marks = SheetMarks(src.sheet, list(src.header_rows) or [1], last_row=max(rows, default=None),
                           filter_and_freeze=True)
        for label in DEADLINE_COLUMNS:
            name = COLUMN_SOURCES[label]
            series = result[name]
            if pd.api.types.is_datetime64_any_dtype(series.dtype):
                kind, values = "date", [excel_date(v) for v in series.to_numpy()[positions]]
            elif name == "days_left":
                kind, values = "number", [None if pd.isna(v) else int(v) for v in series.iloc[positions]]
            else:
                kind = "text"
                values = [None if v is None or v is pd.NA or v != v else
                          excel_text(str(v), f"工作表「{src.sheet}」第 {r} 行") for v, r in
                          zip(series.iloc[positions].tolist(), rows)]
            column = AddedColumn(label, dict(zip(rows, values)), kind, WIDE_SOURCES.get(name))
            if name == "flag_label":
                column.fills = {r: FLAG_FILLS[f] for r, f in zip(rows, flags[positions]) if f in FLAG_FILLS}
            marks.columns.append(column)
        sheets.append(marks)
    return MarkPlan(sheets)


def annotate(ledger: Ledger, result: pd.DataFrame, out_path, password: str | None = None) -> Any:
    """A copy of the ledger with :func:`mark_plan`'s columns, made by editing the workbook's
    package (every other part kept byte for byte, see :mod:`xfsheets.package_edit`)."""
    from xfsheets.errors import XfsheetsError
    from xfsheets.package_edit import write_marked_copy

    files = {s.file for s in ledger.sources}
    if len(files) != 1:
        raise XfsheetsError("-o 只能用于一个台账文件", hint="多个文件请分别运行，或先用 consolidate 合并")
    return write_marked_copy(ledger.sources[0].file, mark_plan(ledger, result), out_path, password=password)
