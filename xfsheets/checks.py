"""Checking a ledger: completeness and validity, cell by cell, in the user's own row numbers.

Problems are data (as in frictionless): each Finding has a stable ``code``, a severity, the
position the user sees (file, sheet, Excel row, column letter), the field, the value as
typed and a Chinese message saying what is wrong and how to fix it. Rules are a table
(RULES): each is vectorised over the ledger's frame and yields (field, row mask, messages);
a profile can switch a rule off or change its severity. Every finding is collected.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from xfsheets.identifiers import ID_15, JOINER, PHONE
from xfsheets.ledger import Ledger
from xfsheets.normalize import MONTH_DAY_RE, display_value, is_date_state, is_na_mark
from xfsheets.policy import Policy, resolve as resolve_policy
from xfsheets.schema import FIELD_BY_NAME, LABELS, Profile

ERROR, WARNING = "error", "warning"
FILLS = {ERROR: "FFC7CE", WARNING: "FFEB9C"}  # red / yellow, in the annotated copy and the button alike
ALWAYS_REQUIRED = ["case_id", "received_on", "petitioner", "summary", "unit", "status"]


def required_by_status(policy: Policy) -> list[tuple[list[str], list[str]]]:
    """(statuses, fields they require), from the policy: a closed status needs 办结日期 and
    办理结果; a status saying a stage was reached needs the date that starts it."""
    out = [(sorted(policy.closed_statuses), ["closed_on", "reply"])]
    for key in reversed(policy.order):
        stage = policy[key]
        if stage.statuses:
            out.append((list(stage.statuses), [stage.start]))
    return out


DATE_CHAIN = ["received_on", "assigned_on", "accepted_on", "closed_on"]
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.array(list("10X98765432"))
_PHONE_RE = re.compile(rf"^{PHONE}$")  # the shape of a phone: xfsheets.identifiers (+86, (0771), 转8001)


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    file: str
    sheet: str
    row: int | None
    column: str | None
    field: str | None
    value: str | None
    message: str

    def to_dict(self) -> dict:
        # the fields by name: dataclasses.asdict deep-copies every value of every finding
        return {"code": self.code, "severity": self.severity, "file": self.file, "sheet": self.sheet, "row": self.row,
                "column": self.column, "field": self.field, "value": self.value, "message": self.message}


@dataclass
class Report:
    findings: list[Finding]
    rows: int

    @property
    def valid(self) -> bool:
        return not any(f.severity == ERROR for f in self.findings)

    @property
    def errors(self) -> int:
        return sum(f.severity == ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == WARNING for f in self.findings)

    @property
    def clean_rows(self) -> int:
        return self.rows - len({(f.file, f.sheet, f.row) for f in self.findings if f.row is not None and f.column})

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([f.to_dict() for f in self.findings],
                            columns=["code", "severity", "file", "sheet", "row", "column", "field", "value", "message"])

    def to_dict(self) -> dict:
        return {"valid": self.valid, "rows": self.rows, "errors": self.errors, "warnings": self.warnings,
                "findings": [f.to_dict() for f in self.findings]}

    def summary_text(self) -> str:
        return f"{self.errors} 个错误，{self.warnings} 个警告，{self.clean_rows}/{self.rows} 行无问题"


@dataclass
class Context:
    ledger: Ledger
    profile: Profile
    as_of: dt.date | None = None  # dates after it are suspicious (default: today)
    policy: Policy | None = None  # stages (statuses, extension cap) and status sets

    @property
    def frame(self) -> pd.DataFrame:
        return self.ledger.frame

    @property
    def raw(self) -> pd.DataFrame:
        return self.ledger.raw


Hit = tuple[str, pd.Series, "str | pd.Series"]  # (field, row mask, message or messages per row)


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str
    check: Callable[[Context], Iterator[Hit]]
    title: str = ""  # the problem's Chinese name, where people read it (检查结果, the terminal); code stays in --json
    explain: str = ""  # what it finds, for the README's check table (generated: readme_check_table)
    per_file: bool = False  # check yields (source, row, column, field, value, message), not row masks


def _raw_blank(ctx: Context, field: str) -> pd.Series:
    """The cell was left empty (or holds only spaces): not "filled with something unreadable"."""
    missing = ctx.frame[field].isna()
    if field not in ctx.raw.columns or not missing.any():
        return missing
    # Normalised text is None exactly when the cell is blank; dates and counts are also
    # missing when unreadable, so look at what was typed in those (few) cells only.
    raw = ctx.raw.loc[missing, field].tolist()
    blank = missing.copy()
    blank[missing] = [v is None or (type(v) is str and (not v.strip() or is_na_mark(v))) for v in raw]
    return blank


def _typed_as_number(ctx: Context, field: str) -> pd.Series:
    raw = ctx.raw[field] if field in ctx.raw.columns else pd.Series(None, index=ctx.frame.index, dtype=object)
    if not set(map(type, raw)) & {int, float}:
        return pd.Series(False, index=raw.index)
    return pd.Series([type(v) in (int, float) and v == v for v in raw.tolist()], index=raw.index)


def _present_in_source(ctx: Context, field: str) -> pd.Series:
    have = {i: field in s.fields for i, s in enumerate(ctx.ledger.sources)}
    return ctx.frame["_source"].map(have).astype(bool)


def required_fields(source) -> list[str]:
    """The fields every row of a sheet must fill: a 积案/稳控台账 has no case id, 登记日期 or status
    to fill (xfsheets.ledger.ledger_kind says which kind a sheet is)."""
    from xfsheets.ledger import ledger_kind

    return list(ledger_kind(source).required or ALWAYS_REQUIRED)


def required_missing(ctx: Context) -> Iterator[Hit]:
    f = ctx.frame
    required = [set(required_fields(s)) for s in ctx.ledger.sources]
    for field in ALWAYS_REQUIRED:
        if field in ctx.raw.columns or ctx.ledger.has(field):
            wanted = ctx.frame["_source"].map({i: field in r for i, r in enumerate(required)}).astype(bool)
            yield (field, wanted & _present_in_source(ctx, field) & _raw_blank(ctx, field),
                   f"“{LABELS[field]}”未填写，这是必填项")
    for statuses, fields in required_by_status(resolve_policy(ctx.policy)):
        when = f["status"].isin(statuses)
        for field in fields:
            if not when.any():
                continue
            mask = when & _present_in_source(ctx, field) & _raw_blank(ctx, field)
            if mask.any():
                yield field, mask, "办理状态为“" + f.loc[mask, "status"].astype(str) + f"”，需填写“{LABELS[field]}”"


def _unreadable(ctx: Context, field: str) -> tuple[pd.Series, pd.Series]:
    """Cells where something was typed that could not be read as the field's kind, and what
    was typed there (an empty mask when the ledger has no such column)."""
    if field not in ctx.raw.columns:
        return pd.Series(False, index=ctx.frame.index), pd.Series(dtype=object)
    mask = ~_raw_blank(ctx, field) & ctx.frame[field].isna()
    if mask.any() and FIELD_BY_NAME[field].kind == "date":  # 长期稳控 / 待定: a state, not a bad date
        mask &= ~ctx.raw[field].map(is_date_state).astype(bool)
    return mask, ctx.raw.loc[mask, field].map(display_value)


def bad_date(ctx: Context) -> Iterator[Hit]:
    from xfsheets.schema import DATE_FIELDS

    for field in DATE_FIELDS:
        mask, typed = _unreadable(ctx, field)
        if mask.any():
            no_year = typed.str.match(MONTH_DAY_RE.pattern)
            yield field, mask, (f"“{LABELS[field]}”填写的「" + typed + "」" + no_year.map({
                True: "没有年份，无法确定是哪一年：请写成 2026-03-05 这样带年份的日期，"
                      "或在表头上方写明“填报日期：2026年3月31日”、或把工作表命名为“2026年3月”",
                False: "不是有效日期，请改成 2026-03-05 这样的日期（月、日要存在，年份写全）"}))


def date_out_of_range(ctx: Context) -> Iterator[Hit]:
    """A date before 2000 or after the as-of date is almost always a typo in the year."""
    from xfsheets.schema import DATE_FIELDS

    as_of = ctx.as_of or dt.date.today()
    low, high = pd.Timestamp(2000, 1, 1), pd.Timestamp(as_of)
    for field in DATE_FIELDS:
        if field in ("due_on",) or not ctx.ledger.has(field):
            continue  # a 办理时限 lies in the future by nature
        value = ctx.frame[field]
        early, late = value < low, value > high
        if early.any():
            yield field, early, (f"“{LABELS[field]}”为 " + value[early].dt.strftime("%Y-%m-%d")
                                 + "，早于2000年，请核对年份")
        if late.any():
            yield field, late, (f"“{LABELS[field]}”为 " + value[late].dt.strftime("%Y-%m-%d")
                                + f"，晚于今天（{as_of.isoformat()}），请核对年份")


def bad_number(ctx: Context) -> Iterator[Hit]:
    """延期天数 / 人数 typed as something that is not a number (一个月): kept as typed, reported."""
    from xfsheets.schema import INT_FIELDS

    for field in INT_FIELDS:
        if field == "headcount":
            continue  # bad_headcount: 人数 as people type it (约30人, 张三等5人)
        mask, typed = _unreadable(ctx, field)
        if mask.any():
            unit = "天数" if field == "extension_days" else "数量"
            example = "30（或“30天”）" if field == "extension_days" else "3"
            yield field, mask, (f"“{LABELS[field]}”填写的「" + typed + f"」无法识别为{unit}，请填写数字，如 {example}")


def bad_headcount(ctx: Context) -> Iterator[Hit]:
    """人数 that cannot be read as a number of people (两三个, 若干), or a blank 人数 beside a 信访人
    cell that does not say it either: never counted as 1 (:mod:`xfsheets.headcount`)."""
    from xfsheets.headcount import ledger_headcounts

    if "headcount" not in ctx.raw.columns:
        return
    counts = ledger_headcounts(ctx.frame, ctx.raw)
    unknown = counts["problem"].notna() & _present_in_source(ctx, "headcount")
    nobody = _raw_blank(ctx, "headcount") & ctx.frame["petitioner"].isna()  # required_missing says so
    yield "headcount", unknown & ~nobody, counts["problem"]


# (later, earlier): a date that can only come after another one besides the DATE_CHAIN:
# 复查 is asked for after the written reply (办结), 复核 after the 复查 opinion, and a 交办单's
# 办理时限 lies after its 交办日期.
DATE_AFTER = [("review_requested_on", "closed_on"), ("recheck_requested_on", "review_opinion_on"),
              ("due_on", "assigned_on")]


def date_order(ctx: Context) -> Iterator[Hit]:
    f = ctx.frame
    for later, earlier in DATE_AFTER:
        wrong = f[later].notna() & f[earlier].notna() & (f[later] < f[earlier])
        if wrong.any():
            yield later, wrong, (f"“{LABELS[later]}”（" + f.loc[wrong, later].dt.strftime("%Y-%m-%d")
                                 + f"）早于“{LABELS[earlier]}”（" + f.loc[wrong, earlier].dt.strftime("%Y-%m-%d")
                                 + f"），{LABELS[later]}应在{LABELS[earlier]}之后，请核对两个日期")
    latest = pd.Series(pd.NaT, index=f.index, dtype="datetime64[ns]")
    latest_name = pd.Series(None, index=f.index, dtype=object)
    for field in DATE_CHAIN:
        value = f[field]
        wrong = value.notna() & latest.notna() & (value < latest)
        if wrong.any():
            yield field, wrong, (f"“{LABELS[field]}”（" + value[wrong].dt.strftime("%Y-%m-%d") + "）早于“"
                                 + latest_name[wrong].astype(str) + "”（" + latest[wrong].dt.strftime("%Y-%m-%d")
                                 + "），请核对日期先后：登记 ≤ 交办 ≤ 受理 ≤ 办结")
        later = value.notna() & (latest.isna() | (value > latest))
        latest = latest.where(~later, value)
        latest_name = latest_name.where(~later, LABELS[field])


def id_check_digits(digits: np.ndarray) -> np.ndarray:
    """ISO 7064 MOD 11-2 check characters for a matrix of 17-digit bodies (one row each)."""
    return _ID_CHECK[(digits * _ID_WEIGHTS).sum(axis=1) % 11]


def id_checksum_ok(ids: pd.Series) -> pd.Series:
    """ISO 7064 MOD 11-2 check digit of 18-character identity numbers (vectorised)."""
    ok = pd.Series(False, index=ids.index)
    shaped = ids.str.fullmatch(r"\d{17}[\dX]").fillna(False).astype(bool)
    if shaped.any():
        text = ids[shaped].astype(str)
        digits = np.frombuffer("".join(text.str[:17]).encode("ascii"), dtype=np.uint8).reshape(-1, 17) - 48
        expected = id_check_digits(digits)
        ok[shaped] = text.str[17].to_numpy() == expected
    return ok


def _id_parts(ctx: Context) -> pd.Series:
    """Each identity number of each row, one per entry (a cell holding two people's numbers,
    joined by 、 when read, gives two), indexed by the row; numbers stored as numbers left out."""
    ids = ctx.frame["id_number"]
    present = ids.notna() & ~_typed_as_number(ctx, "id_number")
    return ids[present].astype(str).str.split(JOINER).explode()


def _per_row(ids: pd.Series, parts: pd.Series, bad: pd.Series, why: str) -> Iterator[Hit]:
    """One finding per row holding a bad part: the part(s) named, in the order typed."""
    if not bad.any():
        return
    several = parts.index.value_counts()
    named = parts[bad].groupby(level=0).agg("」「".join)
    mask = pd.Series(False, index=ids.index)
    mask[named.index] = True
    label = pd.Series("身份证号「", index=named.index).where(several[named.index] == 1, "本格中的身份证号「")
    yield "id_number", mask, label + named + "」" + why


def bad_id_number(ctx: Context) -> Iterator[Hit]:
    ids = ctx.frame["id_number"]
    text = _id_parts(ctx)
    if text.empty:
        return
    shape = text.str.fullmatch(r"\d{17}[\dX]").astype(bool)
    old = text.str.fullmatch(ID_15).astype(bool)  # first generation: id_number_15_digit says what to do
    birth = pd.to_datetime(text.str[6:14].where(shape), format="%Y%m%d", errors="coerce")
    bad_birth = shape & (birth.isna() | (birth > pd.Timestamp.today()) | (birth < pd.Timestamp("1900-01-01")))
    old_birth = pd.to_datetime("19" + text.str[6:12].where(old), format="%Y%m%d", errors="coerce")
    bad_birth |= old & old_birth.isna()
    bad_sum = shape & ~bad_birth & ~id_checksum_ok(text.where(shape))
    for bad, why in ((~shape & ~old, "应为18位（前17位数字，最后一位数字或X），请核对"),
                     (bad_birth, "中的出生日期不存在，请核对"),
                     (bad_sum, "的校验位（最后一位）不对，可能有数字录错，请与证件核对")):
        yield from _per_row(ids, text, bad, why)


def id_number_15_digit(ctx: Context) -> Iterator[Hit]:
    """A 15-digit number is a first-generation identity card's: not wrong, but out of use."""
    ids = ctx.frame["id_number"]
    text = _id_parts(ctx)
    if text.empty:
        return
    old = text.str.fullmatch(ID_15).astype(bool)
    old &= pd.to_datetime("19" + text.str[6:12].where(old), format="%Y%m%d", errors="coerce").notna()
    yield from _per_row(ids, text, old, "是15位的第一代身份证号码（第一代身份证已停止使用）。"
                                         "请向信访人核对现用的18位身份证号码，改填18位号码")


def id_number_as_number(ctx: Context) -> Iterator[Hit]:
    if "id_number" not in ctx.raw.columns:
        return
    numeric = _typed_as_number(ctx, "id_number")
    if not numeric.any():
        return
    shown = ctx.raw.loc[numeric, "id_number"].map(display_value)
    yield "id_number", numeric, ("身份证号被 Excel 存成了数字（显示为「" + shown + "」），超过15位的部分已经丢失，"
                                 "无法恢复。请把该列单元格格式设为“文本”，再按证件重新录入完整的18位号码")


def bad_phone(ctx: Context) -> Iterator[Hit]:
    phones = ctx.frame["phone"]
    present = phones.notna()
    if not present.any():
        return
    text = phones[present].astype(str).str.split(JOINER).explode()  # two people's phones: one by one
    bad = ~text.str.fullmatch(_PHONE_RE.pattern[1:-1]).astype(bool)
    if not bad.any():
        return
    several = text.index.value_counts()
    named = text[bad].groupby(level=0).agg("」「".join)
    mask = pd.Series(False, index=phones.index)
    mask[named.index] = True
    label = pd.Series("联系电话「", index=named.index).where(several[named.index] == 1, "本格中的联系电话「")
    yield "phone", mask, (label + named + "」不像有效号码：手机应为1开头的11位数字，"
                          "座机应写成 区号-号码（如 0773-1234567，分机写在后面，如 0773-1234567转8001）；"
                          "一格填了几个号码时，请用“、”隔开")


def unknown_value(ctx: Context) -> Iterator[Hit]:
    for field, label in (("status", "办理状态"), ("channel", "信访形式"), ("category", "问题类别")):
        if not ctx.ledger.has(field):
            continue
        allowed = ctx.profile.allowed(field)
        if field == "status":  # the statuses the policy names (e.g. a local 简易办理中) are words of the ledger too
            allowed = list(dict.fromkeys([*allowed, *resolve_policy(ctx.policy).known_statuses]))
        values = ctx.frame[field]
        mask = values.notna() & ~values.isin(allowed)
        if not mask.any():
            continue
        sample = "、".join(allowed[:8]) + ("等" if len(allowed) > 8 else "")
        yield field, mask, (f"“{label}”的「" + values[mask].astype(str) + f"」不在常用词表中（如 {sample}）；"
                            "如确属本地用语，可在配置文件 [vocabulary] 中加入")


def duplicate_case_id(ctx: Context) -> Iterator[Hit]:
    ids = ctx.frame["case_id"]
    dup = ids.notna() & ids.duplicated(keep=False)
    if not dup.any():
        return
    where = ctx.frame.loc[dup, "_row"].astype(str)
    if ctx.frame["_file"].nunique() > 1:
        where = ctx.frame.loc[dup, "_file"].map(lambda p: Path(p).name) + " 第" + where + "行"
    else:
        where = "第" + where + "行"
    rows_of = where.groupby(ids[dup]).agg("、".join)
    yield "case_id", dup, ("信访件编号「" + ids[dup].astype(str) + "」重复出现在 " + ids[dup].map(rows_of)
                           + "，每件信访事项的编号应唯一，请核对是否重复登记")


def extension_too_long(ctx: Context) -> Iterator[Hit]:
    policy = resolve_policy(ctx.policy)
    for key in policy.order:
        stage = policy[key]
        if not stage.extension_field or stage.extension_field not in ctx.frame.columns:
            continue
        ext = ctx.frame[stage.extension_field]
        mask = (ext.notna() & (ext > stage.max_extension)).fillna(False).astype(bool)
        if mask.any():
            yield stage.extension_field, mask, ("延期 " + ext[mask].astype(str) + f" 天，超过{stage.article or '规定'}"
                                                f"允许的最长 {stage.max_extension} 日，请核对")


def cell_not_read(ctx: Context) -> Iterator[tuple]:
    """What the reader left out that is not a blank, 合计, note or repeated header row: a stray
    cell far from the table (the limits skip it rather than read a million empty rows) is
    named, never passed over in silence. No column letter: a mark there would rebuild the bomb."""
    from xfsheets.reader import BELOW_TABLE_REASONS

    for s in ctx.ledger.sources:
        for row, why in s.skipped:
            if why not in BELOW_TABLE_REASONS:
                yield (s, row, None, None, None,
                       f"第 {row} 行有内容没有读取（{why}）：它离台账的表格很远，检查和统计都没有包括它。"
                       "请打开台账找到这个单元格：是误输入就删除；是台账内容就移到表格内，再检查一次")


RULES: list[Rule] = [  # code, severity, the check, the Chinese name people read, what it finds (README)
    Rule("required_missing", ERROR, required_missing, "必填项未填",
         "必填项未填：信访件编号、登记日期、信访人、反映问题、责任单位、办理状态；已办结的还要办结日期和办理结果，"
         "已受理/办理中/延期办理的要受理日期，已交办/已转送的要交办日期；整列缺失时每个文件只报一次；"
         "填了但无法识别的日期不算未填（报 `bad_date`）"),
    Rule("bad_date", ERROR, bad_date, "日期无法识别",
         "日期无法识别或不存在（如 2026.13.05、2月30日）；二〇二六年三月五日、2026．3．5、2026年6月30日前 都能识别，"
         "长期稳控、长期、待定 是状态而不是日期，不报"),
    Rule("date_order", ERROR, date_order, "日期先后顺序不对",
         "登记 ≤ 交办 ≤ 受理 ≤ 办结 的先后不对；复查申请日期早于办结日期、复核申请日期早于复查意见日期、"
         "办理时限早于交办日期"),
    Rule("bad_id_number", ERROR, bad_id_number, "身份证号有误",
         "身份证号不是18位、出生日期不存在或校验位不对"),
    Rule("id_number_as_number", ERROR, id_number_as_number, "身份证号存成了数字",
         "身份证号被 Excel 存成了数字（显示为 4.50324E+17，后几位已丢失）"),
    Rule("id_number_15_digit", WARNING, id_number_15_digit, "15位旧身份证号",
         "身份证号是15位的第一代号码：请向信访人核对后改填18位号码（一格填了几个人的号码时逐个检查）"),
    Rule("bad_phone", WARNING, bad_phone, "联系电话有误",
         "不是有效的手机号（1开头11位）或座机（区号-号码）；+86、(0771)1234567、转8001 都是有效写法，"
         "一格填了几个号码时逐个检查"),
    Rule("unknown_value", WARNING, unknown_value, "填写内容不在词表中",
         "办理状态、信访形式、问题类别不在常用词表中"),
    Rule("duplicate_case_id", ERROR, duplicate_case_id, "信访件编号重复",
         "信访件编号重复（列出重复的各行）"),
    Rule("extension_too_long", ERROR, extension_too_long, "延期超过上限",
         "延期超过30日（《信访工作条例》第三十四条）"),
    Rule("bad_number", ERROR, bad_number, "数字无法识别",
         "延期天数填的不是数字（如“一个月”）"),
    Rule("bad_headcount", ERROR, bad_headcount, "人数无法识别",
         "人数无法识别（如“两三个”）；“约30人”“30余人”“二十多人”、人数空白而信访人写“张三等5人”都能识别"),
    Rule("date_out_of_range", WARNING, date_out_of_range, "日期超出合理范围",
         "日期早于2000年或晚于今天（`--as-of`），多半是年份录错；办理时限不查"),
    Rule("cell_not_read", WARNING, cell_not_read, "有内容未读取",
         "离表格很远的孤立单元格等没有读取的内容（说明在第几行、哪个单元格），不会悄悄漏掉", per_file=True),
]
RULE_BY_CODE = {r.code: r for r in RULES}


def rule_title(code: str) -> str:
    """The Chinese name of a finding's rule (the code itself for one no rule defines)."""
    rule = RULE_BY_CODE.get(code)
    return rule.title if rule is not None and rule.title else code


def check(ledger: Ledger, profile: Profile | None = None, as_of: dt.date | None = None,
          policy: Policy | None = None) -> Report:
    """Run every rule (as the profile configures them) over the ledger; collect all findings."""
    profile = profile or Profile()
    unknown = sorted(set(profile.checks) - set(RULE_BY_CODE))
    if unknown:
        from xfsheets.errors import ConfigError

        raise ConfigError(f"配置文件 [checks] 中有不认识的检查项：{'、'.join(unknown)}", file=profile.path,
                          hint=f"可用：{'、'.join(RULE_BY_CODE)}")
    ctx = Context(ledger, profile, as_of, resolve_policy(policy))
    frame = ledger.frame
    findings: list[Finding] = []
    findings += _missing_columns(ledger, profile)
    for rule in RULES:
        setting = profile.checks.get(rule.code, rule.severity)
        if setting == "off":
            continue
        if rule.per_file:
            for s, row, letter, field, value, text in rule.check(ctx):
                findings.append(Finding(rule.code, setting, s.file, s.sheet, row, letter, field, value, text))
            continue
        for field, mask, message in rule.check(ctx):
            mask = mask.fillna(False).astype(bool)
            if not mask.any():
                continue
            hit = mask.to_numpy()
            idx = frame.index[hit]
            # whole columns, taken once per rule: no per-row frame lookups (100k findings stay fast)
            per_source = {i: s.letter(field) for i, s in enumerate(ledger.sources)}
            letters = [per_source.get(k) for k in frame["_source"].to_numpy()[hit].tolist()]
            values = (ledger.raw[field] if field in ledger.raw.columns else frame[field])[idx].map(display_value)
            messages = message[idx].tolist() if isinstance(message, pd.Series) else [message] * len(idx)
            files = frame["_file"].to_numpy()[hit].tolist()
            sheets = frame["_sheet"].to_numpy()[hit].tolist()
            rows = frame["_row"].to_numpy()[hit].astype("int64").tolist()
            for file, sheet, row, letter, value, text in zip(files, sheets, rows, letters, values.tolist(), messages):
                findings.append(Finding(rule.code, setting, file, sheet, row, letter, field, value or None, text))
    findings.sort(key=lambda f: (f.file, f.sheet, f.row or 0, f.column or "", f.code))
    return Report(findings=findings, rows=len(ledger))


SEVERITY_TEXT = {ERROR: "错误", WARNING: "警告"}
README_TABLE_START, README_TABLE_END = "<!-- check-table:start -->", "<!-- check-table:end -->"


def readme_check_table() -> str:
    """The README's check table, from RULES: every finding code check can emit."""
    lines = ["| 代码 | 含义 | 级别 |", "|---|---|---|"]
    lines += [f"| `{r.code}` | {r.explain or r.title} | {SEVERITY_TEXT[r.severity]} |" for r in RULES]
    return "\n".join(lines)


def update_readme(path: str | Path = Path(__file__).resolve().parent.parent / "README.md") -> bool:
    """Regenerate the table between the README's check-table markers; True when it changed.
    Run after changing RULES: python -c "from xfsheets.checks import update_readme; update_readme()" """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition(README_TABLE_START)
    _, _, tail = rest.partition(README_TABLE_END)
    new = f"{head}{README_TABLE_START}\n{readme_check_table()}\n{README_TABLE_END}{tail}"
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def _missing_columns(ledger: Ledger, profile: Profile) -> list[Finding]:
    """A required column that a file does not have at all: once per file, not once per row."""
    setting = profile.checks.get("required_missing", ERROR)
    if setting == "off":
        return []
    out = []
    for s in ledger.sources:
        for field in required_fields(s):
            if field not in s.fields:
                out.append(Finding("required_missing", setting, s.file, s.sheet, s.header_rows[-1] if s.header_rows else None,
                                   None, field, None, f"台账中没有“{LABELS[field]}”列：请在表头加上这一列"
                                                      f"（列名写“{LABELS[field]}”），或在配置文件 [labels] 中说明哪一列是它"))
    return out


# --- the annotated copy -------------------------------------------------------------------

RESULTS_SHEET = "检查结果"
RESULTS_HEADER = ["单元格", "行", "列", "字段", "级别", "问题", "填写内容", "说明"]  # codes stay in --json
RESULTS_WIDTHS = [9, 6, 5, 12, 6, 16, 22, 70]


def mark_plan(ledger: Ledger, report: Report):
    """The marks a check puts on its ledger (:class:`xfsheets.marks.MarkPlan`): every bad cell
    filled (red errors, yellow warnings; a cell inside a merged range is marked on its top-left
    cell) with a note holding its message(s), and a 检查结果 sheet linking to each cell. The
    annotated copy and the 检查台账 button both apply it."""
    from xfsheets.marks import MarkPlan, ResultsTable, SheetMarks, column_index
    from xfsheets.writer import excel_text

    sheets: dict[tuple[str, str], tuple] = {}
    for s in ledger.sources:
        sheets.setdefault((s.file, s.sheet), (s, SheetMarks(s.sheet, list(s.header_rows))))
    by_cell: dict[tuple[str, str, int, int], list[Finding]] = {}
    where: dict[int, tuple[str, str]] = {}
    for k, f in enumerate(report.findings):
        if f.column and f.row and (f.file, f.sheet) in sheets:
            src = sheets[(f.file, f.sheet)][0]
            r, letter = src.top_left(f.row, f.column)
            by_cell.setdefault((f.file, f.sheet, r, column_index(letter)), []).append(f)
            where[k] = (f.sheet, f"{letter}{r}")
    for (file, sheet, r, c), items in by_cell.items():
        marks = sheets[(file, sheet)][1]
        worst = ERROR if any(i.severity == ERROR for i in items) else WARNING
        marks.fills[(r, c)] = FILLS[worst]
        text = "\n".join(f"【{'错误' if i.severity == ERROR else '警告'}】{i.message}" for i in items)
        marks.notes[(r, c)] = excel_text(text, f"工作表「{sheet}」第 {r} 行的批注")
    rows = []
    for k, f in enumerate(report.findings):
        at = f"{RESULTS_SHEET}第 {k + 2} 行"
        rows.append([f"{f.column or ''}{f.row or ''}", f.row, f.column, LABELS.get(f.field, f.field),
                     "错误" if f.severity == ERROR else "警告", rule_title(f.code), excel_text(f.value, at),
                     excel_text(f.message, at)])
    results = ResultsTable(RESULTS_SHEET, list(RESULTS_HEADER), rows,
                           [where.get(k) for k in range(len(report.findings))], list(RESULTS_WIDTHS))
    return MarkPlan([m for _, m in sheets.values()], results)


def annotate(ledger: Ledger, report: Report, out_path: str | Path, password: str | None = None) -> Path:
    """A copy of the ledger with :func:`mark_plan`'s marks, made by editing the workbook's package
    (every other part kept byte for byte, see :mod:`xfsheets.package_edit`)."""
    from xfsheets.errors import XfsheetsError
    from xfsheets.package_edit import write_marked_copy

    if len({s.file for s in ledger.sources}) != 1:
        raise XfsheetsError("-o 只能用于一个台账文件", hint="多个文件请分别检查，或先用 consolidate 合并后再检查")
    return write_marked_copy(ledger.sources[0].file, mark_plan(ledger, report), out_path, password=password)
