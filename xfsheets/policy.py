"""The bureau's policy as data, defined once: the stages of a petition matter (start and end
field, limit, 日/工作日 counting, article, order, whether the ledger's 办理时限 may bind,
whether a closed status ends it, maximum extension), the thresholds (临期, 严重超期, 集体访
headcount, units too small to rank), the status sets (closed, resolved, satisfied, and the
statuses that end the duty with what each ends) and the calendar choice (holiday file, estimate
mode). Every number is bounded (:data:`BOUNDS`): a 6,000-day stage is refused with the reason,
never turned into a date past the calendar.

The default is ``policy.toml`` shipped in the package (the 2022 regulation). A user's TOML
(``--policy F``, old name ``--rules``) overrides any part of it: a key it writes replaces the
default's, a ``[stages.X]`` table it adds is a new stage (e.g. 简易办理). Every engine that
needs one of these facts takes a :class:`Policy`; nothing else writes them down.

The one open/closed rule (:meth:`Policy.closed`): a matter is closed when the stage it is in
has its end date, or when its status is a closed one and that stage ends with a closed status
(a 复查 pending after 已办结 keeps the matter open). A status that ends the duty (不予受理, 不再受理,
终结, 撤回, 已转送（出本单位）: ``[statuses.ended]``) closes it with no deadline at all.

The one point-in-time rule (:meth:`Policy.as_it_stood`): on a day D only what had happened by D
counts; later event dates are blanked and statuses they imply are set aside.
"""
from __future__ import annotations

import copy
import datetime as dt
import re
import sys
import unicodedata
from dataclasses import dataclass, field as dc_field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xfsheets.errors import ConfigError
from xfsheets.schema import DATE_FIELDS, FIELD_BY_NAME, LABELS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

POLICY_NAME = "policy.toml"
DEFAULT_SOURCE = "内置规则（《信访工作条例》2022）"
COUNTING = {"日": "calendar", "calendar": "calendar", "自然日": "calendar",
            "工作日": "workday", "workday": "workday"}
HINT = "请按内置 policy.toml 的格式书写（xfsheets 安装目录下，README“时限预警”一节有示例）"
LOCAL_RULE = "本单位规定"  # what a stage cites when the office's own policy set its limit without an article
# Keys of a stage that change its rule: a user policy that sets one of them without its own
# article no longer follows the regulation's article, so the stage cites LOCAL_RULE.
RULE_KEYS = ("start", "end", "days", "counting", "extension_field", "max_extension")

# Every number a policy holds, with the range it must lie in and why (said when refused).
_STAGE_WHY = "信访事项各阶段时限最长为 60 日（延期不超过 30 日），本地规定也不会超过一年；更长的时限算出的日期超出日历范围"
BOUNDS: dict[str, tuple[int, int, str]] = {
    "days": (1, 365, _STAGE_WHY),
    "max_extension": (0, 365, _STAGE_WHY),
    "order": (-1000, 1000, "order 只用来排先后，写 -1000 到 1000 之间的整数即可"),
    "warn_days": (0, 60, "临期是期满前的几天，超过 60 天就不再是预警"),
    "severe_days": (0, 365, "严重超期按超期天数分档，超过一年无从区分"),
    "collective_headcount": (2, 1000, "集体访按人数认定（《信访工作条例》为 5 人以上），至少 2 人"),
    "min_unit_matters": (0, 100000, "参加排名的最少件数"),
    "feedback_workdays": (1, 60, "督办单的反馈时限按工作日计，超过 60 个工作日失去督办意义"),
    "before_workdays": (0, 60, "期满前的提醒按工作日计，早于 60 个工作日就不再是临期提醒"),
}
REMIND_RUNGS = ("overdue", "severe")  # the rungs after the limit: 超期, 严重超期 (the flags' own words)


def fold_status(value: Any) -> Any:
    """A status as compared with the policy's words: NFKC (full-width brackets), no spaces."""
    if not isinstance(value, str):
        return value
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value))


@dataclass(frozen=True)
class Stage:
    key: str
    label: str
    start: str
    days: int
    counting: str = "calendar"  # calendar | workday
    article: str = ""
    end: str = "closed_on"
    order: int = 0
    statuses: tuple[str, ...] = ()  # statuses saying the matter reached this stage
    only_with_status: bool = False  # the stage applies only while the status is one of ``statuses``
    ledger_due_binds: bool = False  # the 交办单's 办理时限 may shorten it
    closed_status_ends: bool = False  # a closed status ends it (without an end date)
    extension_field: str | None = None
    extension_status: str | None = None  # the status saying an extension was approved
    max_extension: int = 0

    @property
    def limit_text(self) -> str:
        return f"{self.days}{'个工作日' if self.counting == 'workday' else '日'}"

    @property
    def cites(self) -> str:
        """What the stage's limit rests on, as a clerk says it: the article, else 本单位规定."""
        return self.article or LOCAL_RULE


@dataclass(frozen=True)
class Thresholds:
    warn_days: int = 5
    severe_days: int = 30
    collective_headcount: int = 5
    min_unit_matters: int = 5
    feedback_workdays: int = 5


@dataclass(frozen=True)
class Remind:
    """The reminder ladder and the hours mail may go ([remind] in policy.toml; xfsheets.remind uses it)."""

    before_workdays: tuple[int, ...] = (5, 1)  # reminders to the unit this many working days before the due day
    overdue_cc_leader: bool = True  # overdue: copy the matter's 包案领导
    severe_cc_supervisor: bool = True  # severely overdue: copy the unit's 分管领导
    slip_on: tuple[str, ...] = ("severe",)  # the rungs whose mail carries the unit's 督办单
    office_hours: tuple[dt.time, dt.time] = (dt.time(8, 30), dt.time(17, 30))
    report_due: dt.time = dt.time(17, 30)  # collect: a period's reports are due by this time of its last day


@dataclass(frozen=True)
class Policy:
    stages: dict[str, Stage]
    thresholds: Thresholds
    closed_statuses: frozenset[str]
    resolved_statuses: frozenset[str]
    satisfied: frozenset[str]
    ended: dict[str, str] = dc_field(default_factory=dict)  # status ending the duty -> what it ends (Chinese)
    holidays: str | None = None
    assume_weekends: bool = False
    source: str = DEFAULT_SOURCE
    paths: tuple[str, ...] = ()  # the user's files this policy was read from (inputs of a command)
    remind: Remind = dc_field(default_factory=Remind)
    _calendar: Any = dc_field(default=None, compare=False, repr=False)

    # -- stages ----------------------------------------------------------------------
    def __getitem__(self, key: str) -> Stage:
        return self.stages[key]

    def get(self, key: str) -> Stage | None:
        return self.stages.get(key)

    @property
    def order(self) -> tuple[str, ...]:
        """Stage keys, latest first (the order in which a matter's stage is looked for)."""
        return tuple(sorted(self.stages, key=lambda k: -self.stages[k].order))

    def status_stage(self) -> dict[str, str]:
        """Status -> the stage it says the matter reached."""
        out: dict[str, str] = {}
        for key in sorted(self.stages, key=lambda k: self.stages[k].order):
            for s in self.stages[key].statuses:
                out[s] = key
        return out

    @property
    def known_statuses(self) -> list[str]:
        """Every status the policy names (they are words a ledger may use)."""
        names = [s for k in self.order for s in self.stages[k].statuses]
        return list(dict.fromkeys([*names, *sorted(self.closed_statuses), *self.ended]))

    # -- statuses that end the duty ---------------------------------------------------------
    def ended_status(self, frame: pd.DataFrame) -> pd.Series:
        """For each matter, the policy's word for the status that ended its duty (None if none):
        compared after folding full-width brackets and spaces (已转送(出本单位) is 已转送（出本单位）)."""
        if "status" not in frame or not self.ended:
            return pd.Series(None, index=frame.index, dtype=object)
        words = {fold_status(w): w for w in self.ended}
        status = frame["status"]
        seen = {v: words.get(fold_status(v)) for v in status.dropna().unique() if isinstance(v, str)}  # each word once
        return status.map(seen).astype(object).where(status.map(seen).notna(), None)

    def ended_mask(self, frame: pd.DataFrame) -> np.ndarray:
        return self.ended_status(frame).notna().to_numpy()

    # -- the one point-in-time rule ------------------------------------------------------------
    @property
    def event_fields(self) -> tuple[str, ...]:
        """The dates that record something happening to a matter after it was registered (every
        stage's start and end except the registration itself): what ``as_it_stood`` looks at."""
        fields = [f for k in self.order for f in (self.stages[k].start, self.stages[k].end)]
        return tuple(f for f in dict.fromkeys([*fields, "closed_on"]) if f != "received_on")

    def as_it_stood(self, frame: pd.DataFrame, day: dt.date) -> pd.DataFrame:
        """The ledger as it stood on ``day``: an event dated after it (交办, 受理, 办结, 复查/复核
        申请 or 意见) had not happened, so its date is blanked. The 办理状态 is what the ledger says
        now, written no earlier than the row's latest event: on a row with an event after ``day`` it
        did not yet hold on ``day`` (已办结 closed later, 复查中 asked later, 撤回 after a later
        受理), so it is set aside (None) and the stage and open/closed follow the dates. Rows and
        index are kept; the frame is copied only when something changes. Applying it twice
        changes nothing more."""
        limit = pd.Timestamp(day)
        later = {f: frame[f].notna() & (frame[f] > limit) for f in self.event_fields if f in frame}
        later = {f: m for f, m in later.items() if m.any()}
        if not later:
            return frame
        out = frame.copy()
        for f, m in later.items():
            out.loc[m, f] = pd.NaT
        if "status" in out:
            drop = np.logical_or.reduce([m.to_numpy() for m in later.values()]) & out["status"].notna().to_numpy()
            if drop.any():
                out.loc[drop, "status"] = None
        return out

    # -- the one open/closed rule --------------------------------------------------------
    def closed_mask(self, frame: pd.DataFrame, stage: np.ndarray | pd.Series) -> np.ndarray:
        """Whether each matter is closed, given the stage key it is in ('' or None: no stage)."""
        stage = np.asarray(pd.Series(stage).fillna("").astype(object), dtype=object)
        status_closed = frame["status"].isin(self.closed_statuses).to_numpy() if "status" in frame else \
            np.zeros(len(frame), dtype=bool)
        out = np.zeros(len(frame), dtype=bool)
        no_stage = ~np.isin(stage, list(self.stages))
        closed_on = frame["closed_on"].notna().to_numpy() if "closed_on" in frame else np.zeros(len(frame), bool)
        out |= no_stage & (closed_on | status_closed)
        out |= self.ended_mask(frame)  # the duty ended: nothing is pending, whatever the stage
        for key, s in self.stages.items():
            m = stage == key
            if not m.any():
                continue
            ended = frame[s.end].notna().to_numpy() if s.end in frame else np.zeros(len(frame), bool)
            out |= m & (ended | (status_closed & s.closed_status_ends))
        return out

    # -- options -------------------------------------------------------------------------
    def with_options(self, *, holidays: str | Path | None = None, assume_weekends: bool | None = None,
                     warn_days: int | None = None, severe_days: int | None = None) -> "Policy":
        """This policy with command-line choices on top (None: keep the policy's)."""
        th = self.thresholds
        if warn_days is not None:
            th = replace(th, warn_days=int(warn_days))
        if severe_days is not None:
            th = replace(th, severe_days=int(severe_days))
        return replace(self, thresholds=th, holidays=str(holidays) if holidays else self.holidays,
                       assume_weekends=self.assume_weekends if assume_weekends is None else bool(assume_weekends),
                       _calendar=None)

    def calendar(self):
        """The working-day calendar this policy chooses (official + its holiday file), cached."""
        if self._calendar is None:
            from xfsheets.deadlines import default_calendar

            object.__setattr__(self, "_calendar", default_calendar(self.holidays))
        return self._calendar

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source,
                "stages": {k: {**self.stages[k].__dict__, "statuses": list(self.stages[k].statuses)} for k in self.order},
                "thresholds": dict(self.thresholds.__dict__),
                "statuses": {"closed": sorted(self.closed_statuses), "resolved": sorted(self.resolved_statuses),
                             "satisfied": sorted(self.satisfied), "ended": dict(self.ended)},
                "calendar": {"holidays": self.holidays, "assume_weekends": self.assume_weekends}}


# --- loading -----------------------------------------------------------------------------

def _default_data() -> dict[str, Any]:
    text = (resources.files("xfsheets") / POLICY_NAME).read_text(encoding="utf-8")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # the shipped file: a packaging fault, said plainly
        raise ConfigError(f"内置规则文件 policy.toml 格式有误：{exc}", file=DEFAULT_SOURCE) from exc


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _user_data(path: Path) -> dict[str, Any]:
    from xfsheets.textfiles import load_toml

    if not path.exists():
        raise ConfigError("找不到时限规则文件", file=path, hint="请检查 --policy（--rules）的路径")
    data = load_toml(path, "时限规则文件", hint=HINT)
    # The older rules.toml form: a list of [[stage]] tables each with its key.
    if isinstance(data.get("stage"), list):
        stages = data.setdefault("stages", {})
        if not isinstance(stages, dict):
            raise ConfigError("时限规则文件中 stages 应写成 [stages.阶段名] 表", file=path, hint=HINT)
        for k, item in enumerate(data.pop("stage"), 1):
            if not isinstance(item, dict) or "key" not in item:
                raise ConfigError(f"时限规则文件第 {k} 个 [[stage]] 缺少 key", file=path, hint=HINT)
            item = dict(item)
            stages[str(item.pop("key"))] = item
    for table in ("stages", "thresholds", "statuses", "calendar", "remind"):
        if table in data and not isinstance(data[table], dict):
            raise ConfigError(f"时限规则文件中 {table} 应写成 [{table}] 一节", file=path, hint=HINT)
    for key, item in data.get("stages", {}).items():
        if not isinstance(item, dict):
            raise ConfigError(f"时限规则文件中阶段 {key} 应写成 [stages.{key}] 表", file=path, hint=HINT)
    unknown = sorted(set(data) - {"stages", "thresholds", "statuses", "calendar", "remind"})
    if unknown:
        raise ConfigError(f"时限规则文件中有不认识的项：{'、'.join(unknown)}", file=path,
                          hint="可写的节：[stages.阶段名]、[thresholds]、[statuses]、[calendar]、[remind]")
    calendar = data.get("calendar", {})
    if isinstance(calendar.get("holidays"), str) and calendar["holidays"].strip():
        p = Path(calendar["holidays"])
        calendar["holidays"] = str(p if p.is_absolute() else path.parent / p)
    return data


def _int(item: dict, key: str, where: str, source: str, default: int | None = None) -> int:
    """An integer within :data:`BOUNDS`; refused in Chinese naming the file, the key, the range and why."""
    value = item.get(key, default)
    low, high, why = BOUNDS[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where} 的 {key} 应为 {low} 到 {high} 之间的整数，现为「{value}」", file=source,
                          hint=f"例如 {key} = {default if default is not None else 30}")
    if not low <= value <= high:
        shown = value if abs(value) < 10**9 else f"{str(value)[:6]}……（{len(str(abs(value)))} 位数）"
        raise ConfigError(f"{where} 的 {key} = {shown} 超出允许范围 {low} 到 {high}：{why}", file=source,
                          hint=f"请把 {where} 的 {key} 改为 {low} 到 {high} 之间的整数")
    return value


def _words(value: Any, where: str, source: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where} 应为文字列表，现为「{value}」", file=source, hint='例如 ["已办结", "已化解"]')
    return tuple(v.strip() for v in value)


def _flag(item: dict, key: str, where: str, source: str) -> bool:
    value = item.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{where} 的 {key} 应为 true 或 false，现为「{value}」", file=source)
    return value


def _stage(key: str, item: dict, source: str) -> Stage:
    where = f"阶段 [stages.{key}]"
    allowed = {"label", "start", "end", "days", "counting", "article", "order", "statuses", "only_with_status",
               "ledger_due_binds", "closed_status_ends", "extension_field", "extension_status", "max_extension",
               "enabled"}
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise ConfigError(f"{where} 中有不认识的项：{'、'.join(unknown)}", file=source, hint=f"可写：{'、'.join(sorted(allowed))}")
    for need in ("start", "days"):
        if need not in item:
            raise ConfigError(f"{where} 缺少 {need}", file=source, hint="每个阶段至少要写 start（起算字段）和 days（时限）")
    counting = COUNTING.get(str(item.get("counting", "日")).strip())
    if counting is None:
        raise ConfigError(f"{where} 的 counting「{item.get('counting')}」无效", file=source,
                          hint="写 \"日\"（期满日遇休息日顺延）或 \"工作日\"")
    for f in ("start", "end"):
        value = item.get(f, "closed_on")
        if value not in DATE_FIELDS:
            labels = "、".join(f"{d}（{LABELS[d]}）" for d in DATE_FIELDS)
            raise ConfigError(f"{where} 的日期字段 {f} =「{value}」不存在", file=source, hint=f"可用：{labels}")
    ext_field = item.get("extension_field") or None
    if ext_field and ext_field not in FIELD_BY_NAME:
        raise ConfigError(f"{where} 的 extension_field「{ext_field}」不存在", file=source, hint="一般写 extension_days（延期天数）")
    stage = Stage(
        key=key, label=str(item.get("label", key)), start=item["start"], end=item.get("end", "closed_on"),
        days=_int(item, "days", where, source), counting=counting, article=str(item.get("article", "")),
        order=_int(item, "order", where, source, default=0),
        statuses=_words(item.get("statuses", []), f"{where} 的 statuses", source),
        only_with_status=_flag(item, "only_with_status", where, source),
        ledger_due_binds=_flag(item, "ledger_due_binds", where, source),
        closed_status_ends=_flag(item, "closed_status_ends", where, source),
        extension_field=ext_field, extension_status=item.get("extension_status") or None,
        max_extension=_int(item, "max_extension", where, source, default=0),
    )
    if stage.days + stage.max_extension > BOUNDS["days"][1]:
        raise ConfigError(f"{where} 的 days + max_extension = {stage.days + stage.max_extension} 超出允许范围 "
                          f"1 到 {BOUNDS['days'][1]}：{_STAGE_WHY}", file=source,
                          hint=f"请减小 {where} 的 days 或 max_extension")
    if stage.only_with_status and not stage.statuses:
        raise ConfigError(f"{where} 写了 only_with_status = true，但没有写 statuses", file=source,
                          hint='例如 statuses = ["简易办理中"]')
    return stage


def _clock(value: Any, where: str, source: str) -> dt.time:
    """A time of day written "08:30"; refused in Chinese otherwise."""
    m = re.fullmatch(r"\s*(\d{1,2})[:：](\d{2})\s*", value) if isinstance(value, str) else None
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ConfigError(f"{where} 应写成“时:分”（00:00 到 23:59），现为「{value}」", file=source, hint='例如 "08:30"')
    return dt.time(int(m.group(1)), int(m.group(2)))


def _remind(item: Any, source: str) -> Remind:
    """The [remind] table: the ladder (each number bounded) and the office hours."""
    if not isinstance(item, dict):
        raise ConfigError("[remind] 应写成一节设置", file=source, hint="写成 [remind] 开头的一节")
    allowed = set(Remind.__dataclass_fields__)
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise ConfigError(f"[remind] 中有不认识的项：{'、'.join(unknown)}", file=source, hint=f"可写：{'、'.join(sorted(allowed))}")
    before = item.get("before_workdays", list(Remind.before_workdays))
    if not isinstance(before, list) or len(before) > 5:
        raise ConfigError(f"[remind] before_workdays 应为至多 5 个整数的列表，现为「{before}」", file=source,
                          hint="例如 before_workdays = [5, 1]（期满前 5 个、1 个工作日各提醒一次）")
    days = tuple(sorted({_int({"before_workdays": d}, "before_workdays", "[remind]", source) for d in before},
                        reverse=True))
    slip_on = item.get("slip_on", list(Remind.slip_on))
    slip_on = _words(slip_on, "[remind] slip_on", source) if slip_on != [] else ()
    bad = sorted(set(slip_on) - set(REMIND_RUNGS))
    if bad:
        raise ConfigError(f"[remind] slip_on 只能写 overdue（超期）或 severe（严重超期），现有「{'、'.join(bad)}」",
                          file=source, hint='例如 slip_on = ["severe"]；不附督办单写 slip_on = []')
    hours = item.get("office_hours", "08:30-17:30")
    parts = hours.replace("—", "-").replace("～", "-").replace("~", "-").split("-") if isinstance(hours, str) else []
    if len(parts) != 2:
        raise ConfigError(f"[remind] office_hours 应写成“开始-结束”，现为「{hours}」", file=source, hint='例如 "08:30-17:30"')
    start, end = (_clock(p, "[remind] office_hours", source) for p in parts)
    if not start < end:
        raise ConfigError(f"[remind] office_hours 的开始 {parts[0]} 不早于结束 {parts[1]}：提醒只在同一天的办公时间内发出",
                          file=source, hint='例如 "08:30-17:30"')
    flags = {k: _flag({k: item.get(k, True)}, k, "[remind]", source) for k in ("overdue_cc_leader", "severe_cc_supervisor")}
    return Remind(before_workdays=days, **flags,
                  slip_on=slip_on, office_hours=(start, end),
                  report_due=_clock(item.get("report_due", "17:30"), "[remind] report_due", source))


def build_policy(data: dict[str, Any], source: str = DEFAULT_SOURCE, paths: tuple[str, ...] = ()) -> Policy:
    stages: dict[str, Stage] = {}
    for key, item in data.get("stages", {}).items():
        if item.get("enabled", True) is False:
            continue
        stages[str(key)] = _stage(str(key), item, source)
    if not stages:
        raise ConfigError("时限规则中没有任何阶段", file=source, hint="至少保留 [stages.handle]")
    th = data.get("thresholds", {})
    unknown = sorted(set(th) - set(Thresholds.__dataclass_fields__))
    if unknown:
        raise ConfigError(f"[thresholds] 中有不认识的项：{'、'.join(unknown)}", file=source,
                          hint=f"可写：{'、'.join(Thresholds.__dataclass_fields__)}")
    thresholds = Thresholds(**{k: _int(th, k, "[thresholds]", source, default=getattr(Thresholds, k))
                               for k in Thresholds.__dataclass_fields__})
    st = data.get("statuses", {})
    unknown = sorted(set(st) - {"closed", "resolved", "satisfied", "ended"})
    if unknown:
        raise ConfigError(f"[statuses] 中有不认识的项：{'、'.join(unknown)}", file=source,
                          hint="可写：closed、resolved、satisfied、[statuses.ended]")
    ended = st.get("ended", {})
    if not isinstance(ended, dict) or not all(isinstance(k, str) and k.strip() and isinstance(v, str)
                                              for k, v in ended.items()):
        raise ConfigError("[statuses.ended] 应为“状态 = 它结束什么”的一组文字", file=source,
                          hint='例如 "撤回" = "信访人已撤回信访事项，办理责任结束"')
    cal = data.get("calendar", {})
    holidays = cal.get("holidays") or None
    if holidays is not None and not isinstance(holidays, str):
        raise ConfigError("[calendar] holidays 应为一个文件路径", file=source, hint='例如 holidays = "2027节假日.xlsx"')
    assume = cal.get("assume_weekends", False)
    if not isinstance(assume, bool):
        raise ConfigError("[calendar] assume_weekends 应为 true 或 false", file=source)
    return Policy(stages=stages, thresholds=thresholds,
                  closed_statuses=frozenset(_words(st.get("closed", []), "[statuses] closed", source)),
                  resolved_statuses=frozenset(_words(st.get("resolved", []), "[statuses] resolved", source)),
                  satisfied=frozenset(_words(st.get("satisfied", []), "[statuses] satisfied", source)),
                  ended={k.strip(): v.strip() for k, v in ended.items()}, holidays=holidays, assume_weekends=assume, source=source, paths=paths,
                  remind=_remind(data.get("remind", {}), source))


_DEFAULT: Policy | None = None


def load_policy(path: str | Path | None = None) -> Policy:
    """The default policy, with the user's TOML file (if any) on top; every mistake is named
    with the file and how to fix it."""
    global _DEFAULT
    if path is None:
        if _DEFAULT is None:
            _DEFAULT = build_policy(_default_data())
        return _DEFAULT
    path = Path(path)
    user = _user_data(path)
    data = _merge(_default_data(), user)
    # A stage whose rule the office's file changes without giving its own article follows 本单位规定,
    # not the regulation's article the default cites.
    for key, item in user.get("stages", {}).items():
        if any(k in item for k in RULE_KEYS) and "article" not in item and isinstance(data["stages"].get(key), dict):
            data["stages"][key]["article"] = ""
    return build_policy(data, source=str(path), paths=(str(path),))


def default_policy() -> Policy:
    return load_policy(None)


def resolve(policy: Policy | str | Path | None) -> Policy:
    """A Policy from a Policy, a path or None (the default)."""
    return policy if isinstance(policy, Policy) else load_policy(policy)
