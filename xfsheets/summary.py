"""Figures for upward reporting, computed once as DataFrames (the workbook only lays them out).

Definitions (DOMAIN.md section 4; also written into the report's 说明 sheet):
- period: matters registered (登记日期) from ``date_from`` to ``date_to`` inclusive; no
  bounds means the whole ledger. ``as_of`` (default today) is the day statuses and
  deadlines are judged on.
- 及时受理率 = matters routed or accepted within the register stage's limit (15 日) of
  registration ÷ matters of the period whose limit has passed by ``as_of``; the limit, its
  counting and the calendar are the policy's, as for every deadline.
- 按期办结率 = matters closed on or before their due date ÷ matters whose due date has passed
  or that closed, among the period's matters.
- 化解率 = matters 已化解 / 息诉罢访 / 签订息访协议 ÷ matters assigned (交办日期 present).
- 参评率 = closed matters with a 满意度 result ÷ closed matters; 满意率 = 满意 + 基本满意 ÷ rated.
- 重复信访: the same person (identity number, else name + phone) with the same category more
  than once; 集体访: 人数 >= the policy's collective headcount (5) (or 信访性质 集体访).
- open / closed / overdue: the deadlines' (the policy's one open/closed rule), so the report,
  the slips, the zero report and ``deadlines`` count the same matters.
Every rate keeps its numerator and denominator; a rate over zero matters is None (shown —).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from xfsheets.deadlines import OVERDUE_FLAGS
from xfsheets.ledger import Ledger
from xfsheets.normalize import cn_date
from xfsheets.policy import Policy, resolve as resolve_policy


# 排名 of the units by 按期办结率: competition ranking, the way results are published (two
# units tied first are both 1, the next is 3); units too small or with nothing due are listed,
# not ranked.
RANK_METHOD = "min"
RANK_TEXT = "按按期办结率由高到低排名；比率相同的单位名次相同（并列），其后名次顺延（如 1、1、3）；小样本单位和暂无应办结事项的单位不排名"


@dataclass
class Rate:
    name: str
    numerator: int
    denominator: int
    definition: str

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def text(self) -> str:
        return "—" if self.value is None else f"{self.value:.1%}"


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
    policy_source: str = ""
    policy: Policy | None = None  # what the figures were judged by (thresholds, status sets)

    def to_dict(self) -> dict[str, Any]:
        """The ``report --json`` document (without the file): period, totals and every rate with
        its counts."""
        return {"as_of": self.as_of.isoformat(), "from": self.date_from.isoformat() if self.date_from else None,
                "to": self.date_to.isoformat() if self.date_to else None, "unit": self.unit,
                "policy": self.policy_source, "totals": dict(self.totals),
                "rates": [{"name": r.name, "numerator": r.numerator, "denominator": r.denominator, "value": r.value,
                           "definition": r.definition} for r in self.rates],
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

    def headline(self) -> pd.DataFrame:
        """指标 | 数值 | 分子 | 分母 | 说明: the table on 总体情况 and in the email body."""
        rows: list[dict[str, Any]] = [
            {"指标": "统计期间", "数值": self.period_text, "分子": None, "分母": None, "说明": f"统计截止 {cn_date(self.as_of)}"},
        ]
        labels = {"new": "新增信访事项（件）", "people": "涉及人次", "closed": "期间办结（件）",
                  "open": "未办结（件）", "overdue": "超期未办结（件）", "collective": "集体访（件）"}
        for key, label in labels.items():
            rows.append({"指标": label, "数值": self.totals[key], "分子": None, "分母": None, "说明": ""})
        for rate in self.rates:
            rows.append({"指标": rate.name, "数值": rate.value if rate.value is not None else "—",
                         "分子": rate.numerator, "分母": rate.denominator, "说明": rate.definition})
        return pd.DataFrame(rows, columns=["指标", "数值", "分子", "分母", "说明"])


def _rate(name: str, num: pd.Series, den: pd.Series, definition: str) -> Rate:
    return Rate(name, int((num & den).sum()), int(den.sum()), definition)


def compute_summary(ledger: Ledger, *, date_from: dt.date | None = None, date_to: dt.date | None = None,
                    as_of: dt.date | None = None, unit: str | None = None,
                    deadlines: pd.DataFrame | None = None, min_unit_matters: int | None = None,
                    policy: Policy | None = None, **deadline_options: Any) -> Summary:
    """All figures of the summary report, under ``policy`` (thresholds, status sets, the
    register limit, the calendar). ``deadlines`` (from compute_deadlines) is computed when not
    given; ``deadline_options`` (holidays, assume_weekends, warn_days, severe_days) override
    the policy's."""
    as_of = as_of or dt.date.today()
    frame = ledger.frame
    policy = resolve_policy(policy).with_options(**deadline_options)
    if min_unit_matters is None:
        min_unit_matters = policy.thresholds.min_unit_matters
    if deadlines is None:
        from xfsheets.deadlines import compute_deadlines

        deadlines = compute_deadlines(ledger, as_of=as_of, policy=policy)
    data = frame.join(deadlines[["stage", "due_on", "days_left", "flag", "flag_label", "explain", "closed"]]
                      .rename(columns={"due_on": "stage_due_on"}))
    if unit:
        data = data[data["unit"] == unit]
    received = data["received_on"]
    in_period = received.notna()
    if date_from:
        in_period &= received >= pd.Timestamp(date_from)
    if date_to:
        in_period &= received <= pd.Timestamp(date_to)
    if not date_from and not date_to:
        in_period = pd.Series(True, index=data.index)
    period = data[in_period]
    ts_as_of = pd.Timestamp(as_of)

    closed = period["closed"].astype(bool)  # the policy's one open/closed rule, as deadlines applied it
    closed_in_period = closed & period["closed_on"].notna()
    if date_from:
        closed_in_period &= period["closed_on"] >= pd.Timestamp(date_from)
    if date_to:
        closed_in_period &= period["closed_on"] <= pd.Timestamp(date_to)
    overdue = period["flag"].isin(OVERDUE_FLAGS) & ~closed
    headcount = period["headcount"].fillna(1).astype("int64")
    collective = collective_mask(period, policy)

    # 及时受理率: the register stage's limit, on the same calendar as every deadline.
    register = _register_stage(policy)
    register_due = _register_due(period["received_on"], policy)
    routed_on = period[["assigned_on", "accepted_on"]].min(axis=1)
    register_passed = register_due.notna() & (register_due < ts_as_of)
    register_passed &= ledger.supports("timely_acceptance").reindex(period.index, fill_value=True)  # not 积案/稳控
    routed_in_time = routed_on.notna() & (routed_on <= register_due)
    timely = _rate("及时受理率", routed_in_time, register_passed,
                   f"登记后{register.limit_text}内交办/转送或受理的件数 ÷ 登记满{register.limit_text}的件数"
                   f"（{register.article or '本地规定'}）")
    due_passed_or_closed = period["flag"].isin(("closed_on_time", "closed_late")) | overdue
    on_time = _rate("按期办结率", period["flag"] == "closed_on_time", due_passed_or_closed,
                    "按期办结件数 ÷（已到期件数 + 已办结件数）")
    assigned = period["assigned_on"].notna()
    resolved = _rate("化解率", period["status"].isin(policy.resolved_statuses), assigned,
                     f"{'、'.join(sorted(policy.resolved_statuses))}件数 ÷ 已交办件数")
    rated = closed & period["satisfaction"].notna()
    rated_rate = _rate("参评率", rated, closed, "有满意度评价的办结件数 ÷ 办结件数")
    satisfied = _rate("满意率", period["satisfaction"].isin(policy.satisfied), rated,
                      "+".join(f"“{w}”" for w in sorted(policy.satisfied, reverse=True)) + "件数 ÷ 参评件数")
    rates = [timely, on_time, resolved, rated_rate, satisfied]

    totals = {"new": int(len(period)), "people": int(headcount.sum()), "closed": int(closed_in_period.sum()),
              "open": int((~closed).sum()), "overdue": int(overdue.sum()), "collective": int(collective.sum()),
              "closed_all": int(closed.sum())}  # closed by as_of, whenever (not shown on 总体情况)
    summary = Summary(
        date_from=date_from, date_to=date_to, as_of=as_of, unit=unit, totals=totals, rates=rates, paragraph="",
        by_unit=_by_unit(period, closed, closed_in_period, overdue, assigned, due_passed_or_closed, min_unit_matters,
                         policy),
        by_category=_breakdown(period, "category", "问题类别", headcount),
        by_channel=_breakdown(period, "channel", "信访形式", headcount),
        by_place=_breakdown(period, "place", "问题发生地", headcount) if ledger.has("place") else None,
        trend=_trend(period),
        overdue=_overdue_list(period[overdue]),
        repeated=_repeated(period),
        collective=_collective(period[collective]),
        definitions=pd.DataFrame([{"指标": r.name, "口径": r.definition} for r in rates] + [
            {"指标": "统计范围", "口径": "登记日期在统计期间内的信访事项；办结、超期按统计截止日判断"},
            {"指标": "超期", "口径": "当前阶段法定（或交办单指定的更早）时限已过仍未办结；"
                                  f"超过{policy.thresholds.severe_days}日为严重超期"},
            {"指标": "重复信访", "口径": "同一人（身份证号相同，或姓名+电话相同）就同一问题类别再次信访"},
            {"指标": "集体访", "口径": f"人数 ≥ {policy.thresholds.collective_headcount} 人，或信访性质为“集体访”"},
            {"指标": "小样本", "口径": f"办理事项少于 {min_unit_matters} 件的单位只列数字、不参加排名，避免比率失真"},
            {"指标": "排名", "口径": RANK_TEXT},
        ]),
    )
    summary.policy_source = policy.source
    summary.policy = policy
    summary.paragraph = _paragraph(summary)
    return summary


def collective_mask(frame: pd.DataFrame, policy: Policy) -> pd.Series:
    """集体访: 人数 at or above the policy's headcount, or 信访性质 集体访."""
    return (frame["headcount"].fillna(0) >= policy.thresholds.collective_headcount) | (frame["nature"] == "集体访")


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


def _by_unit(period, closed, closed_in_period, overdue, assigned, due_base, min_matters, policy) -> pd.DataFrame:
    unit = period["unit"].fillna("（未填责任单位）")
    g = pd.DataFrame({
        "责任单位": unit,
        "受理件数": 1,
        "办结件数": closed_in_period.astype(int),
        "未办结件数": (~closed).astype(int),
        "超期件数": overdue.astype(int),
        "按期办结": (period["flag"] == "closed_on_time").astype(int),
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


def _repeated(period: pd.DataFrame) -> pd.DataFrame:
    person = period["id_number"].where(period["id_number"].notna(),
                                       period["petitioner"] + "｜" + period["phone"])
    key = person + "｜" + period["category"].fillna("（未填）")
    ok = person.notna()
    counts = key[ok].value_counts()
    repeated_keys = counts[counts > 1].index
    rows = period[ok & key.isin(repeated_keys)]
    if rows.empty:
        return pd.DataFrame(columns=["组号", "信访人", "身份证号", "联系电话", "问题类别", "次数", "信访件编号",
                                     "登记日期", "责任单位", "办理状态"])
    k = key[rows.index]
    groups = {v: i + 1 for i, v in enumerate(pd.unique(k.sort_values()))}
    out = pd.DataFrame({
        "组号": k.map(groups), "信访人": rows["petitioner"], "身份证号": rows["id_number"], "联系电话": rows["phone"],
        "问题类别": rows["category"], "次数": k.map(counts), "信访件编号": rows["case_id"],
        "登记日期": rows["received_on"], "责任单位": rows["unit"], "办理状态": rows["status"],
    })
    return out.sort_values(["组号", "登记日期"], kind="stable").reset_index(drop=True)


def _collective(rows: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({
        "信访件编号": rows["case_id"], "登记日期": rows["received_on"], "人数": rows["headcount"],
        "带头人": rows["petitioner"], "联系电话": rows["phone"], "问题类别": rows["category"],
        "反映问题": rows["summary"], "责任单位": rows["unit"], "办理状态": rows["status"],
    })
    return out.sort_values("登记日期", kind="stable").reset_index(drop=True)


def _paragraph(s: Summary) -> str:
    t = s.totals
    who = s.unit or "全县"
    text = (f"{s.period_text}，{who}共登记信访事项{t['new']}件、{t['people']}人次，"
            f"期间办结{t['closed']}件，目前未办结{t['open']}件，其中超期{t['overdue']}件。")
    parts = [f"{r.name}{r.text}（{r.numerator}/{r.denominator}）" for r in s.rates]
    text += "；".join(parts) + "。"
    if t["collective"]:
        text += f"发生集体访{t['collective']}件。"
    if not s.by_category.empty and t["new"]:
        top = s.by_category.iloc[0]
        text += f"反映问题最多的类别是“{top.iloc[0]}”，{int(top['件数'])}件，占{top['占比']:.1%}。"
    if not s.by_unit.empty and s.by_unit["超期件数"].iloc[0] > 0:
        u = s.by_unit.iloc[0]
        text += f"超期件最多的是{u['责任单位']}（{int(u['超期件数'])}件）。"
    return text
