"""Figures for upward reporting, computed once as DataFrames (the workbook only lays them out).

Each rate has one written definition, :data:`RATE_DEFINITIONS` (numerator ÷ denominator, in the
words of DOMAIN.md section 4); the report's 总体情况 and 说明 print it, with the matters a
denominator leaves out (unreadable date, unknown year) counted and named beside the rate.
- period: matters registered (登记日期) from ``date_from`` to ``date_to`` inclusive; no
  bounds means the whole ledger. ``as_of`` (default today) is the day statuses and
  deadlines are judged on.
- 人次 and 集体访 rest on 人数 as people type it (:mod:`xfsheets.headcount`): 约30人 is at least 30;
  what cannot be read is counted apart, never as 1.
- 重复信访 (:func:`repeated_petitions`): the same person by 身份证号, else 姓名+联系电话, else
  姓名+住址, over every file and period given, about the same 问题类别.
- open / closed / overdue: the deadlines' (the policy's one open/closed rule), so the report,
  the slips, the zero report and ``deadlines`` count the same matters.
Every rate keeps its numerator and denominator; a rate over zero matters is None (shown —).
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field as dc_field
from typing import Any

import numpy as np
import pandas as pd

from xfsheets.deadlines import OVERDUE_FLAGS
from xfsheets.headcount import counts_text, ledger_headcounts
from xfsheets.ledger import Ledger
from xfsheets.normalize import cn_date
from xfsheets.policy import Policy, resolve as resolve_policy


# 排名 of the units by 按期办结率: competition ranking, the way results are published (two
# units tied first are both 1, the next is 3); units too small or with nothing due are listed,
# not ranked.
RANK_METHOD = "min"
RANK_TEXT = "按按期办结率由高到低排名；比率相同的单位名次相同（并列），其后名次顺延（如 1、1、3）；小样本单位和暂无应办结事项的单位不排名"

# One written definition per rate (DOMAIN.md section 4): rate -> (numerator, denominator). {limit},
# {article}, {resolved} and {satisfied} are filled from the policy the figures were judged by.
RATE_DEFINITIONS: dict[str, tuple[str, str]] = {
    "及时受理率": ("登记后{limit}内交办、转送、受理或作出不予受理等决定的件数",
               "登记满{limit}的件数（{article}）"),
    "按期办结率": ("办理阶段（自受理日期起算）在期满日当天或之前办结的件数",
               "办理阶段已到期或已办结的件数（受理告知、复查、复核阶段另计，不在其中）"),
    "化解率": ("办理状态为{resolved}的件数", "已交办或直接受理的件数"),
    "参评率": ("有评价结果（满意、基本满意、不满意）的办结件数",
            "办结件数（“未评价”、空白、“—”不算评价；不予受理、终结等办理终止的事项另列，不在其中）"),
    "满意率": ("评价为{satisfied}的件数", "参评件数"),
}
# The ratings a 满意度 cell can hold; anything else (未评价, blank, —) is not a rating.
RATINGS = ("满意", "基本满意", "不满意")
UNDATED_REASON = "登记日期无法识别或未填写"
UNKNOWN_YEAR_REASON = "期满日所在年份的放假安排未收录，无法计算期满日"
REPEAT_RULES = ("身份证号", "姓名+联系电话", "姓名+住址")  # in the order a match is tried
REPEAT_TEXT = ("同一人就同一问题类别两次及以上信访：先按身份证号认定同一人；没有身份证号的，按姓名+联系电话；"
               "再没有的，按姓名+住址（身份证号不同的不算同一人）。跨文件、跨期间比对，"
               "“本期件数”为统计期间内的件数，“累计件数”含以前期间；“匹配依据”写明按哪一条认定")
ENDED_SHEET = "办理终止事项"
RESOLUTION_SHEET, LEADER_SHEET = "化解进展", "包案领导"
# What a 化解情况 / 是否息诉息访 cell says, as the three states a 积案/稳控台账 reports (DOMAIN section 2).
RESOLUTION_STATES = {"已化解": "已化解", "化解": "已化解", "是": "已化解", "已息诉息访": "已化解", "息诉息访": "已化解",
                     "息诉罢访": "已化解", "稳控中": "稳控中", "稳控": "稳控中", "长期稳控": "稳控中",
                     "未化解": "未化解", "否": "未化解", "未息诉息访": "未化解"}
RESOLUTION_ORDER = ("已化解", "稳控中", "未化解", "未填写", "其他")


@dataclass
class Rate:
    name: str
    numerator: int
    denominator: int
    definition: str
    excluded: dict[str, int] = dc_field(default_factory=dict)  # why -> how many matters the denominator leaves out

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def text(self) -> str:
        return "—" if self.value is None else f"{self.value:.1%}"

    @property
    def excluded_text(self) -> str:
        """未计入：登记日期无法识别或未填写的1件 ... ('' when nothing is left out)."""
        parts = [f"{why}的{n}件" for why, n in self.excluded.items() if n]
        return ("未计入：" + "；".join(parts)) if parts else ""

    @property
    def note(self) -> str:
        """The definition, then what the denominator leaves out: the text beside the rate."""
        return self.definition + (f"。{self.excluded_text}" if self.excluded_text else "")


@dataclass
class Summary:
    date_from: dt.date | None
    date_to: dt.date | None
    as_of: dt.date
    unit: str | None
    totals: dict[str, int]
    rates: list[Rate]
    paragraph: str
    by_unit: pd.DataFrame
    by_category: pd.DataFrame
    by_channel: pd.DataFrame
    by_place: pd.DataFrame | None
    trend: pd.DataFrame
    overdue: pd.DataFrame
    repeated: pd.DataFrame
    collective: pd.DataFrame
    definitions: pd.DataFrame
    skip_level: pd.DataFrame | None = None  # 越级访
    resolution: pd.DataFrame | None = None  # 化解进展 by unit (a ledger with a 化解情况 column)
    leader_load: pd.DataFrame | None = None  # 包案领导: matters each leader carries
    ended: pd.DataFrame | None = None  # matters whose duty ended (不予受理, 终结, ...)
    policy_source: str = ""
    policy: Policy | None = None  # what the figures were judged by (thresholds, status sets)

    def to_dict(self) -> dict[str, Any]:
        """The ``report --json`` document (without the file): period, totals and every rate with
        its counts."""
        return {"as_of": self.as_of.isoformat(), "from": self.date_from.isoformat() if self.date_from else None,
                "to": self.date_to.isoformat() if self.date_to else None, "unit": self.unit,
                "policy": self.policy_source, "totals": dict(self.totals),
                "rates": [{"name": r.name, "numerator": r.numerator, "denominator": r.denominator, "value": r.value,
                           "definition": r.definition,
                           "excluded": [{"reason": why, "count": n} for why, n in r.excluded.items() if n]}
                          for r in self.rates],
                "paragraph": self.paragraph}

    @property
    def period_text(self) -> str:
        if self.date_from and self.date_to:
            return f"{cn_date(self.date_from)}至{cn_date(self.date_to)}"
        if self.date_from:
            return f"{cn_date(self.date_from)}以来"
        if self.date_to:
            return f"截至{cn_date(self.date_to)}"
        return "台账全部事项"

    @property
    def people_note(self) -> str:
        t = self.totals
        parts = []
        if t.get("people_at_least"):
            parts.append("含“约30人”“30余人”这类写法，按写明的数计，实际不少于此数")
        if t.get("people_unknown"):
            parts.append(f"{t['people_unknown']}件人数无法识别，未计入（见检查结果“人数无法识别”）")
        return "；".join(parts)

    def headline(self) -> pd.DataFrame:
        """指标 | 数值 | 分子 | 分母 | 说明: the table on 总体情况 and in the email body."""
        rows: list[dict[str, Any]] = [
            {"指标": "统计期间", "数值": self.period_text, "分子": None, "分母": None, "说明": f"统计截止 {cn_date(self.as_of)}"},
        ]
        labels = {"new": "新增信访事项（件）", "people": "涉及人次", "closed": "期间办结（件）",
                  "open": "未办结（件）", "overdue": "超期未办结（件）", "collective": "集体访（件）",
                  "skip_level": "越级访（件）", "ended": "办理终止（件）"}
        notes = {"new": (f"{UNDATED_REASON}的{self.totals['undated']}件无法判断是否属于统计期间，未计入"
                         if self.totals.get("undated") else ""),
                 "people": self.people_note, "ended": "不予受理、终结等，见“" + ENDED_SHEET + "”工作表"}
        for key, label in labels.items():
            value = self.totals[key]
            if key == "people" and self.totals.get("people_at_least"):
                value = f"至少{value}"
            rows.append({"指标": label, "数值": value, "分子": None, "分母": None, "说明": notes.get(key, "")})
        for rate in self.rates:
            rows.append({"指标": rate.name, "数值": rate.value if rate.value is not None else "—",
                         "分子": rate.numerator, "分母": rate.denominator, "说明": rate.note})
        return pd.DataFrame(rows, columns=["指标", "数值", "分子", "分母", "说明"])


def _definition_words(policy: Policy) -> dict[str, str]:
    register = _register_stage(policy)
    return {"limit": register.limit_text, "article": register.article or "本地规定",
            "resolved": "、".join(f"“{w}”" for w in sorted(policy.resolved_statuses)),
            "satisfied": "、".join(f"“{w}”" for w in sorted(policy.satisfied, reverse=True))}


def rate_definition(name: str, words: dict[str, str]) -> str:
    """The one written definition of a rate: 分子 ÷ 分母 (:data:`RATE_DEFINITIONS`)."""
    num, den = RATE_DEFINITIONS[name]
    return f"{num.format(**words)} ÷ {den.format(**words)}"


def _rate(name: str, num: pd.Series, den: pd.Series, words: dict[str, str],
          excluded: dict[str, int] | None = None) -> Rate:
    return Rate(name, int((num & den).sum()), int(den.sum()), rate_definition(name, words),
                {why: n for why, n in (excluded or {}).items() if n})


def compute_summary(ledger: Ledger, *, date_from: dt.date | None = None, date_to: dt.date | None = None,
                    as_of: dt.date | None = None, unit: str | None = None,
                    deadlines: pd.DataFrame | None = None, min_unit_matters: int | None = None,
                    policy: Policy | None = None, **deadline_options: Any) -> Summary:
    """All figures of the summary report, under ``policy`` (thresholds, status sets, the
    register limit, the calendar). ``deadlines`` (from compute_deadlines) is computed when not
    given; ``deadline_options`` (holidays, assume_weekends, warn_days, severe_days) override
    the policy's."""
    from xfsheets.deadlines import ledger_as_of

    as_of = as_of or dt.date.today()
    policy = resolve_policy(policy).with_options(**deadline_options)
    ledger = ledger_as_of(ledger, as_of, policy)  # every figure as it stood on the as-of day
    frame = ledger.frame
    if min_unit_matters is None:
        min_unit_matters = policy.thresholds.min_unit_matters
    if deadlines is None:
        from xfsheets.deadlines import compute_deadlines

        deadlines = compute_deadlines(ledger, as_of=as_of, policy=policy)
    data = frame.join(deadlines[["stage", "due_on", "days_left", "flag", "flag_label", "explain", "closed"]]
                      .rename(columns={"due_on": "stage_due_on"}))
    counts = ledger_headcounts(frame, ledger.raw)
    data = data.assign(_people=counts["n"], _people_at_least=counts["at_least"],
                       _people_text=counts_text(counts))
    everyone = data  # every unit's matters: the same person petitioning two units is still a repeat
    if unit:
        data = data[data["unit"] == unit]
    received = data["received_on"]
    bounded = bool(date_from or date_to)
    in_period = received.notna()
    if date_from:
        in_period &= received >= pd.Timestamp(date_from)
    if date_to:
        in_period &= received <= pd.Timestamp(date_to)
    if not bounded:
        in_period = pd.Series(True, index=data.index)
    in_period &= ~(received > pd.Timestamp(as_of))  # registered after the as-of day: not yet a matter
    period = data[in_period]
    # A matter whose 登记日期 cannot be read cannot be placed in a period: counted and said, not dropped silently.
    undated = int(received.isna().sum()) if bounded else 0
    ts_as_of = pd.Timestamp(as_of)

    closed = period["closed"].astype(bool)  # the policy's one open/closed rule, as deadlines applied it
    closed_in_period = closed & period["closed_on"].notna()
    if date_from:
        closed_in_period &= period["closed_on"] >= pd.Timestamp(date_from)
    if date_to:
        closed_in_period &= period["closed_on"] <= pd.Timestamp(date_to)
    overdue = period["flag"].isin(OVERDUE_FLAGS) & ~closed
    people = period["_people"]
    collective = collective_mask(period, policy, people)
    skip_level = skip_level_mask(period)
    ending = ending_statuses(policy)
    ended = pd.Series(policy.ended_mask(period), index=period.index)
    common = {UNDATED_REASON: undated} if undated else {}
    words = _definition_words(policy)

    # 及时受理率: the register stage's limit, on the same calendar as every deadline; a decision
    # that ends the matter (a timely 不予受理) counts as dealt with on its date.
    register_due = _register_due(period["received_on"], policy)
    decided_on = period["closed_on"].where(ended)
    routed_on = pd.concat([period["assigned_on"], period["accepted_on"], decided_on], axis=1).min(axis=1)
    register_passed = register_due.notna() & (register_due < ts_as_of)
    register_passed &= ledger.supports("timely_acceptance").reindex(period.index, fill_value=True)  # not 积案/稳控
    routed_in_time = routed_on.notna() & (routed_on <= register_due)
    no_due = register_due.isna()
    timely = _rate("及时受理率", routed_in_time, register_passed, words, {
        **common, "登记日期无法识别或未填写": int((no_due & period["received_on"].isna()).sum()),
        UNKNOWN_YEAR_REASON: int((no_due & period["received_on"].notna()).sum())})

    # 按期办结率: the 办理 stage only (stages counted from 受理日期); 受理告知、复查、复核 are not in it.
    handling = _handling_mask(period, policy)
    due_passed_or_closed = period["flag"].isin(("closed_on_time", "closed_late")) | overdue
    unknown = handling & (period["flag"] == "unknown")
    on_time = _rate("按期办结率", period["flag"] == "closed_on_time", handling & due_passed_or_closed, words,
                    {**common, **_why_unknown(period[unknown], ledger)})
    accepted = period["assigned_on"].notna() | period["accepted_on"].notna()
    resolved = _rate("化解率", period["status"].isin(policy.resolved_statuses), accepted, words, common)
    rating = period["satisfaction"].map(_rating_word)
    handled = closed & ~ended  # 办结: closed by handling, not ended by a decision (those have their own heading)
    rated = handled & rating.isin(RATINGS)
    rated_rate = _rate("参评率", rated, handled, words, common)
    satisfied = _rate("满意率", rating.isin(policy.satisfied), rated, words, common)
    rates = [timely, on_time, resolved, rated_rate, satisfied]

    totals = {"new": int(len(period)), "people": int(people.fillna(0).sum()), "closed": int(closed_in_period.sum()),
              "open": int((~closed).sum()), "overdue": int(overdue.sum()), "collective": int(collective.sum()),
              "skip_level": int(skip_level.sum()), "ended": int(ended.sum()),
              "closed_all": int(closed.sum()),  # closed by as_of, whenever (not shown on 总体情况)
              "people_at_least": bool(period["_people_at_least"].any()),
              "people_unknown": int(people.isna().sum()), "undated": undated}
    breakdown_people = people.fillna(0).astype("int64")
    summary = Summary(
        date_from=date_from, date_to=date_to, as_of=as_of, unit=unit, totals=totals, rates=rates, paragraph="",
        by_unit=_by_unit(period, closed, closed_in_period, overdue, accepted, due_passed_or_closed & handling,
                         min_unit_matters, policy, handling & (period["flag"] == "closed_on_time")),
        by_category=_breakdown(period, "category", "问题类别", breakdown_people),
        by_channel=_breakdown(period, "channel", "信访形式", breakdown_people),
        by_place=_breakdown(period, "place", "问题发生地", breakdown_people) if ledger.has("place") else None,
        trend=_trend(period),
        overdue=_overdue_list(period[overdue]),
        repeated=repeated_petitions(everyone[everyone["received_on"].isna()
                                             | (everyone["received_on"] <= ts_as_of)], period.index),
        collective=_collective(period[collective]),
        definitions=pd.DataFrame([{"指标": r.name, "口径": r.note} for r in rates] + [
            {"指标": "统计范围", "口径": "登记日期在统计期间内的信访事项；办结、超期按统计截止日判断"
                                   + (f"；{UNDATED_REASON}的{undated}件无法判断是否属于统计期间，未计入" if undated else "")},
            {"指标": "超期", "口径": "当前阶段法定（或交办单指定的更早）时限已过仍未办结；"
                                  f"超过{policy.thresholds.severe_days}日为严重超期"},
            {"指标": "涉及人次", "口径": "各件“人数”之和；“人数”空白的，按信访人一栏（如“张三等5人”）计；"
                                    "写“约30人”“30余人”“二十多人”的按30、30、20计，合计为“至少”；无法识别的不计入，另行列明"},
            {"指标": "重复信访", "口径": REPEAT_TEXT},
            {"指标": "集体访", "口径": f"人数 ≥ {policy.thresholds.collective_headcount} 人（“约30人”“30余人”按至少30人判断），"
                                   "或信访性质为“集体访”"},
            {"指标": "越级访", "口径": "信访性质写明“越级访”的件数，逐件列于“越级访”工作表"},
            {"指标": ENDED_SHEET, "口径": f"办理状态为{'、'.join(ending)}的事项：办理责任已终止，不计时限、不算超期、"
                                      "不发督办单，也不计入参评率，单独列于“" + ENDED_SHEET + "”工作表"},
            {"指标": "小样本", "口径": f"办理事项少于 {min_unit_matters} 件的单位只列数字、不参加排名，避免比率失真"},
            {"指标": "排名", "口径": RANK_TEXT},
        ]),
        skip_level=_collective(period[skip_level]),
        ended=_ended(period[ended], policy),
        resolution=_resolution(period, ledger.supports("resolution").reindex(period.index, fill_value=True), people)
        if ledger.has("resolution") else None,
        leader_load=_leader_load(period, ledger.supports("leader_load").reindex(period.index, fill_value=True),
                                 ledger.supports("deadlines").reindex(period.index, fill_value=True), closed, overdue,
                                 people, ledger.has("resolution")) if ledger.has("leader") else None,
    )
    extra = []
    if summary.resolution is not None:
        extra.append({"指标": RESOLUTION_SHEET, "口径": "按“化解情况”（或“是否息诉息访”）一栏：写“已化解”“是”“息诉息访”的为已化解，"
                                               "“稳控中”为稳控中，“未化解”“否”为未化解；空白为未填写"})
    if summary.leader_load is not None:
        extra.append({"指标": LEADER_SHEET, "口径": "各包案领导包案的件数；办理台账中未办结、积案和稳控台账中未化解的，"
                                           "计入“未办结或未化解”"})
    if extra:
        summary.definitions = pd.concat([summary.definitions, pd.DataFrame(extra)], ignore_index=True)
    summary.policy_source = policy.source
    summary.policy = policy
    summary.paragraph = _paragraph(summary)
    return summary


def collective_mask(frame: pd.DataFrame, policy: Policy, people: pd.Series | None = None) -> pd.Series:
    """集体访: 人数 (``people``: the count read by :mod:`xfsheets.headcount`, a lower bound for
    约30人) at or above the policy's headcount, or 信访性质 集体访. An unreadable 人数 is not 集体访
    by its count (the checker reports it)."""
    if people is None:
        people = frame["headcount"]
    return (people.fillna(0) >= policy.thresholds.collective_headcount).astype(bool) | (frame["nature"] == "集体访")


def skip_level_mask(frame: pd.DataFrame) -> pd.Series:
    """越级访: 信访性质 says so."""
    return frame["nature"].fillna("").astype(str).str.contains("越级")


def ending_statuses(policy: Policy | None) -> list[str]:
    """The statuses that end the duty (the policy's [statuses.ended]: 不予受理, 不再受理, 终结, 撤回,
    已转送（出本单位）): counted under their own heading, not as 办结."""
    return list(resolve_policy(policy).ended)


def _rating_word(value: Any) -> Any:
    if not isinstance(value, str):
        return None
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value)) or None


def _handling_mask(period: pd.DataFrame, policy: Policy) -> pd.Series:
    """Matters in the 办理 stage: a stage counted from 受理日期, or (when the stage could not be
    judged) a status that says handling."""
    keys = [k for k in policy.order if policy[k].start == "accepted_on"]
    statuses = {st for k in keys for st in policy[k].statuses}
    return period["stage"].isin(keys) | ((period["flag"] == "unknown") & period["status"].isin(statuses))


def _why_unknown(rows: pd.DataFrame, ledger: Ledger) -> dict[str, int]:
    """Why each matter's deadline could not be judged, counted: the first date typed but
    unreadable, else the 受理日期 left blank, else a year without the holiday notice."""
    from xfsheets.normalize import is_blank, is_na_mark
    from xfsheets.schema import LABELS

    out: dict[str, int] = {}
    raw = ledger.raw
    for idx in rows.index:
        why = None
        for field in ("accepted_on", "closed_on", "assigned_on", "received_on"):
            if field in raw.columns and pd.isna(rows.at[idx, field]):
                typed = raw.at[idx, field] if idx in raw.index else None
                if not is_blank(typed) and not is_na_mark(typed):
                    why = f"“{LABELS[field]}”无法识别"
                    break
        if why is None:
            why = "“受理日期”未填写" if pd.isna(rows.at[idx, "accepted_on"]) else UNKNOWN_YEAR_REASON
        out[why] = out.get(why, 0) + 1
    return out


def _register_stage(policy: Policy):
    """The stage that starts at registration (登记交办): the earliest one starting at 登记日期."""
    stages = [policy[k] for k in reversed(policy.order) if policy[k].start == "received_on"]
    if not stages:
        from xfsheets.errors import ConfigError

        raise ConfigError("时限规则中没有从登记日期起算的阶段，无法计算及时受理率", file=policy.source,
                          hint="请保留 [stages.register]（start = \"received_on\"）")
    return stages[0]


def _register_due(received: pd.Series, policy: Policy) -> pd.Series:
    """Due date of the register stage (its limit and counting, the policy's calendar)."""
    from xfsheets.deadlines import stage_due

    return stage_due(received, _register_stage(policy), policy)


def _by_unit(period, closed, closed_in_period, overdue, assigned, due_base, min_matters, policy,
             on_time=None) -> pd.DataFrame:
    if on_time is None:
        on_time = period["flag"] == "closed_on_time"
    unit = period["unit"].fillna("（未填责任单位）")
    g = pd.DataFrame({
        "责任单位": unit,
        "受理件数": 1,
        "办结件数": closed_in_period.astype(int),
        "未办结件数": (~closed).astype(int),
        "超期件数": overdue.astype(int),
        "按期办结": on_time.astype(int),
        "应办结": due_base.astype(int),
        "化解": (period["status"].isin(policy.resolved_statuses) & assigned).astype(int),
        "已交办": assigned.astype(int),
    }).groupby("责任单位", sort=False).sum()
    g["按期办结率"] = np.where(g["应办结"] > 0, g["按期办结"] / g["应办结"].where(g["应办结"] > 0, 1), np.nan)
    g["化解率"] = np.where(g["已交办"] > 0, g["化解"] / g["已交办"].where(g["已交办"] > 0, 1), np.nan)
    small = g["受理件数"] < min_matters
    no_rate = ~small & g["按期办结率"].isna()  # nothing due yet: no rate to rank on
    g["备注"] = np.where(small, f"少于{min_matters}件，不排名", np.where(no_rate, "暂无应办结事项，不排名", ""))
    ranked = g.loc[~small & ~no_rate, "按期办结率"].rank(ascending=False, method=RANK_METHOD)
    g["排名"] = ranked.reindex(g.index).astype("Int64")
    g = g.reset_index().sort_values(["超期件数", "受理件数"], ascending=[False, False], kind="stable")
    return g[["责任单位", "受理件数", "办结件数", "未办结件数", "超期件数", "按期办结", "应办结", "按期办结率",
              "化解", "已交办", "化解率", "排名", "备注"]].reset_index(drop=True)


def _breakdown(period: pd.DataFrame, field: str, label: str, headcount: pd.Series) -> pd.DataFrame:
    key = period[field].fillna("（未填）")
    g = pd.DataFrame({label: key, "件数": 1, "人次": headcount}).groupby(label, sort=False).sum()
    g = g.sort_values("件数", ascending=False, kind="stable").reset_index()
    total = g["件数"].sum()
    g["占比"] = g["件数"] / total if total else np.nan
    return g


def _trend(period: pd.DataFrame) -> pd.DataFrame:
    received = period["received_on"].dropna()
    if received.empty:
        return pd.DataFrame({"期间": [], "件数": []})
    span = (received.max() - received.min()).days
    if span <= 62:
        start = received - pd.to_timedelta(received.dt.day_of_week, unit="D")
        label = start.dt.strftime("%m月%d日当周")
        order = start
    else:
        label = received.dt.strftime("%Y年%m月")
        order = received.dt.to_period("M").dt.start_time
    g = pd.DataFrame({"期间": label, "order": order, "件数": 1}).groupby(["order", "期间"]).sum().reset_index()
    return g[["期间", "件数"]]


def _overdue_list(rows: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({
        "信访件编号": rows["case_id"], "信访人": rows["petitioner"], "责任单位": rows["unit"],
        "包案领导": rows["leader"], "登记日期": rows["received_on"], "当前阶段时限": rows["stage_due_on"],
        "超期天数": (-rows["days_left"]).astype("Int64"), "预警": rows["flag_label"],
        "反映问题": rows["summary"], "时限说明": rows["explain"],
        "来源文件": rows["_file"], "来源行号": rows["_row"],
    })
    return out.sort_values("超期天数", ascending=False, kind="stable").reset_index(drop=True)


REPEATED_COLUMNS = ["组号", "信访人", "身份证号", "联系电话", "问题类别", "匹配依据", "本期件数", "累计件数", "信访件编号",
                    "登记日期", "责任单位", "办理状态", "来源文件", "来源行号"]
_EXTENSION = re.compile(r"(?:转|分机|ext\.?|EXT\.?)\d{1,6}$")


def _name_key(value: Any) -> Any:
    """A name or address as one key: the identifier rule's folding (NFKC, format characters out), no spaces."""
    from xfsheets.identifiers import fold_name

    if not isinstance(value, str):
        return None
    return re.sub(r"\s+", "", fold_name(value) or "") or None


def _id_keys(value: Any) -> list[str]:
    """Each identity number in a 身份证号 cell (two people's numbers in one cell give two)."""
    from xfsheets.identifiers import identifier_parts

    return identifier_parts(value) if isinstance(value, str) else []


def _phone_keys(value: Any) -> list[str]:
    """Each number in a 联系电话 cell (:func:`xfsheets.identifiers.identifier_parts`) as digits only,
    +86 / 0086 and an extension dropped: 138 1234 5678 = +86 13812345678."""
    from xfsheets.identifiers import identifier_parts

    if not isinstance(value, str):
        return []
    out = []
    for part in identifier_parts(value):
        digits = re.sub(r"\D", "", _EXTENSION.sub("", part))
        if digits.startswith("0086"):
            digits = digits[4:]
        elif digits.startswith("86") and len(digits) == 13:
            digits = digits[2:]
        if len(digits) >= 7:
            out.append(digits)
    return out


def repeated_petitions(rows: pd.DataFrame, period_index: pd.Index) -> pd.DataFrame:
    """重复信访 over ``rows`` (every file and period given), listed for the people with a matter in
    ``period_index``: the same person (身份证号; else 姓名+联系电话; else 姓名+住址; two different
    身份证号 are never one person) about the same 问题类别, two or more times. Each group says which
    rule matched (匹配依据), how many of its matters fall in the period and how many in all."""
    n = len(rows)
    if n < 2:
        return pd.DataFrame(columns=REPEATED_COLUMNS)
    ids = [_id_keys(v) for v in rows["id_number"].tolist()]
    names = [_name_key(v) for v in rows["petitioner"].tolist()]
    phones = [_phone_keys(v) for v in rows["phone"].tolist()]
    addresses = [_name_key(v) for v in rows["address"].tolist()] if "address" in rows.columns else [None] * n
    keys: list[list[tuple[str, str]]] = []  # per row: (rule, key) it can be matched on
    for i in range(n):
        k = [("身份证号", v) for v in ids[i]]
        if names[i]:
            k += [("姓名+联系电话", f"{names[i]}｜{p}") for p in phones[i]]
            if addresses[i]:
                k.append(("姓名+住址", f"{names[i]}｜{addresses[i]}"))
        keys.append(k)
    parent = list(range(n))
    person_id = [set(v) for v in ids]  # the identity numbers each group holds

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for rule in REPEAT_RULES:  # strongest evidence first, so an identity number settles who is who
        first: dict[str, int] = {}
        for i in range(n):
            for r, key in keys[i]:
                if r != rule:
                    continue
                if key not in first:
                    first[key] = i
                    continue
                a, b = root(first[key]), root(i)
                if a == b or (person_id[a] and person_id[b] and not person_id[a] & person_id[b]):
                    continue  # two different identity numbers: two people, whatever else they share
                parent[b] = a
                person_id[a] |= person_id[b]
    category = rows["category"].fillna("（未填）").astype(str).tolist()
    group_of = [(root(i), category[i]) for i in range(n)]
    members: dict[tuple[int, str], list[int]] = {}
    for i, g in enumerate(group_of):
        members.setdefault(g, []).append(i)
    in_period = rows.index.isin(period_index)
    out_rows = []
    number = 0
    groups = [m for m in members.values() if len(m) > 1 and in_period[m].any()]
    groups.sort(key=lambda m: min(rows["received_on"].iloc[m].dropna(), default=pd.Timestamp.max))
    for m in groups:
        number += 1
        shared = [rule for rule in REPEAT_RULES
                  if _shared([k for i in m for k in {key for r, key in keys[i] if r == rule}])]
        basis = "、".join(shared) or "、".join(REPEAT_RULES)
        here = int(in_period[m].sum())
        for i in sorted(m, key=lambda i: (rows["received_on"].iloc[i] if pd.notna(rows["received_on"].iloc[i])
                                           else pd.Timestamp.max)):
            r = rows.iloc[i]
            out_rows.append([number, r["petitioner"], r["id_number"], r["phone"], r["category"], basis, here, len(m),
                             r["case_id"], r["received_on"], r["unit"], r["status"], r["_file"], r["_row"]])
    return pd.DataFrame(out_rows, columns=REPEATED_COLUMNS)


def _shared(keys: list[str]) -> bool:
    return len(keys) != len(set(keys))


def _ended(rows: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """办理终止事项: matters whose status ended the duty, by status in the policy's order, with
    what the status ends (the policy's words)."""
    order = {s: i for i, s in enumerate(policy.ended)}
    word = policy.ended_status(rows)
    out = pd.DataFrame({
        "办理状态": word, "结束的是": word.map(policy.ended), "信访件编号": rows["case_id"], "登记日期": rows["received_on"],
        "信访人": rows["petitioner"], "责任单位": rows["unit"], "终止日期": rows["closed_on"],
        "反映问题": rows["summary"], "来源文件": rows["_file"], "来源行号": rows["_row"],
    })
    return out.assign(_o=out["办理状态"].map(order)).sort_values(["_o", "登记日期"], kind="stable") \
        .drop(columns="_o").reset_index(drop=True)


def resolution_state(value: Any) -> str:
    """已化解 / 稳控中 / 未化解 from what a 化解情况 cell says; 未填写 for a blank, 其他 for other words."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return "未填写"
    text = re.sub(r"\s+", "", str(value))
    if not text:
        return "未填写"
    return RESOLUTION_STATES.get(text, "其他")


def _resolution(period: pd.DataFrame, supported: pd.Series, people: pd.Series) -> pd.DataFrame:
    """化解进展: per 责任单位, how many matters are 已化解, 稳控中, 未化解 (what the 化解情况 column says)."""
    rows = period[supported]
    state = rows["resolution"].map(resolution_state)
    unit = rows["unit"].fillna("（未填责任单位）").astype(str)
    table = pd.crosstab(unit, state).reindex(columns=[c for c in RESOLUTION_ORDER if c in set(state)], fill_value=0)
    table.columns.name = None
    table.insert(0, "件数", table.sum(axis=1))
    table["涉及人次"] = people[supported].fillna(0).groupby(unit).sum().reindex(table.index).astype("int64")
    table = table.sort_values("件数", ascending=False, kind="stable")
    return table.rename_axis("责任单位").reset_index()


def _leader_load(period: pd.DataFrame, supported: pd.Series, tracked: pd.Series, closed: pd.Series,
                 overdue: pd.Series, people: pd.Series, has_resolution: bool) -> pd.DataFrame:
    """包案领导: per leader, the matters carried, how many are not yet done (a 办理台账's matter not closed;
    a 积案/稳控台账's matter not 已化解), how many overdue, and (with a 化解情况 column) how many resolved."""
    rows = period[supported & period["leader"].notna()]
    leader = rows["leader"].astype(str).str.strip()
    rows, leader = rows[leader != ""], leader[leader != ""]
    resolved = rows["resolution"].map(resolution_state) == "已化解" if has_resolution else \
        pd.Series(False, index=rows.index)
    handled = tracked.reindex(rows.index, fill_value=True)
    not_done = (handled & ~closed.reindex(rows.index, fill_value=False)) | (~handled & ~resolved)
    out = pd.DataFrame({"包案领导": leader, "_open": not_done,
                        "_overdue": overdue.reindex(rows.index, fill_value=False),
                        "_people": people.reindex(rows.index).fillna(0), "_resolved": resolved})
    grouped = out.groupby("包案领导", sort=False)
    table = pd.DataFrame({"包案件数": grouped.size(), "未办结或未化解": grouped["_open"].sum(),
                          "其中超期": grouped["_overdue"].sum(), "涉及人次": grouped["_people"].sum()})
    if has_resolution:
        table["已化解"] = grouped["_resolved"].sum()
    table = table.astype("int64").sort_values(["包案件数", "未办结或未化解"], ascending=False, kind="stable")
    return table.reset_index()


def _collective(rows: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({
        "信访件编号": rows["case_id"], "登记日期": rows["received_on"], "人数": rows["_people_text"],
        "带头人": rows["petitioner"], "联系电话": rows["phone"], "问题类别": rows["category"],
        "反映问题": rows["summary"], "责任单位": rows["unit"], "办理状态": rows["status"],
    })
    return out.sort_values("登记日期", kind="stable").reset_index(drop=True)


def _paragraph(s: Summary) -> str:
    t = s.totals
    who = s.unit or "全县"
    people = f"{'至少' if t.get('people_at_least') else ''}{t['people']}人次"
    if t.get("people_unknown"):
        people += f"（另有{t['people_unknown']}件人数无法识别）"
    text = (f"{s.period_text}，{who}共登记信访事项{t['new']}件、{people}，"
            f"期间办结{t['closed']}件，目前未办结{t['open']}件，其中超期{t['overdue']}件。")
    parts = [f"{r.name}{r.text}（{r.numerator}/{r.denominator}）" for r in s.rates]
    text += "；".join(parts) + "。"
    if t["collective"]:
        text += f"发生集体访{t['collective']}件。"
    if t.get("skip_level"):
        text += f"发生越级访{t['skip_level']}件。"
    if t.get("ended"):
        text += f"不予受理、终结等办理终止的{t['ended']}件另列。"
    if t.get("undated"):
        text += f"另有{t['undated']}件{UNDATED_REASON}，未计入统计期间。"
    if not s.by_category.empty and t["new"]:
        top = s.by_category.iloc[0]
        text += f"反映问题最多的类别是“{top.iloc[0]}”，{int(top['件数'])}件，占{top['占比']:.1%}。"
    if not s.by_unit.empty and s.by_unit["超期件数"].iloc[0] > 0:
        u = s.by_unit.iloc[0]
        text += f"超期件最多的是{u['责任单位']}（{int(u['超期件数'])}件）。"
    return text
