"""The ledger vocabulary: canonical fields, their Chinese labels, value lists, profiles.

A *field* is what xfsheets understands (``received_on``); a *label* is what a
bureau writes in its header row (``来信来访日期``). Built-in synonyms come from the
ledgers seen in practice (DOMAIN.md section 2); a user profile adds its own.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field as dc_field
from pathlib import Path

from xfsheets.errors import ConfigError

@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str  # text | date | int | id_number | phone | status | channel | category
    synonyms: tuple[str, ...] = ()
    # Labels that name this field only when no other column of the sheet does (牵头单位 is the
    # 责任单位 of a 积案台账; beside a 责任单位 column it is a different unit and stays unmapped).
    fallbacks: tuple[str, ...] = ()


FIELDS: list[Field] = [
    Field("case_id", "信访件编号", "text", ("编号", "信访编号", "件号", "登记编号", "案件编号", "信访件号", "登记号", "事项编号")),
    Field("received_on", "登记日期", "date", ("来信来访日期", "信访日期", "来访日期", "来信日期", "接件时间", "登记时间", "收件日期", "受理登记日期", "信访时间")),
    Field("channel", "信访形式", "channel", ("来源", "信访方式", "信访渠道", "信访来源", "形式")),
    Field("petitioner", "信访人", "text", ("信访人姓名", "姓名", "反映人", "来访人", "来信人", "来信来访人", "信访人员", "当事人")),
    Field("id_number", "身份证号", "id_number", ("身份证号码", "公民身份号码", "证件号码", "身份证", "信访人身份证号")),
    Field("phone", "联系电话", "phone", ("电话", "联系方式", "手机号码", "手机", "电话号码", "联系电话号码")),
    Field("address", "住址", "text", ("地址", "家庭住址", "户籍地", "现住址", "通讯地址")),
    Field("headcount", "人数", "int", ("来访人数", "联名人数", "信访人数")),
    Field("place", "问题发生地", "text", ("属地", "所属乡镇", "发生地", "所属地")),
    Field("category", "问题类别", "category", ("问题分类", "类别", "内容分类", "问题性质分类")),
    Field("nature", "信访性质", "text", ("信访类型",)),
    Field("summary", "反映问题", "text", ("主要诉求", "信访事项", "诉求内容", "反映问题及诉求", "主要问题", "反映内容", "信访内容", "问题摘要", "反映的主要问题")),
    Field("assigning_unit", "交办单位", "text", ("转送单位",)),
    Field("unit", "责任单位", "text", ("承办单位", "主办单位", "办理单位", "责任科室"), ("牵头单位",)),
    Field("co_units", "协办单位", "text", ("配合单位",)),
    Field("handler", "责任人", "text", ("承办人", "经办人")),
    Field("leader", "包案领导", "text", ("包保领导", "责任领导")),
    Field("assigned_on", "交办日期", "date", ("交办时间", "转送日期", "转交日期")),
    Field("accepted_on", "受理日期", "date", ("受理时间",)),
    Field("due_on", "办理时限", "date", ("办结时限", "限办日期", "应办结日期", "办理期限", "限办时间", "要求办结时间", "要求办结日期")),
    Field("extension_days", "延期天数", "int", ("延期", "延长天数")),
    Field("status", "办理状态", "status", ("状态", "办理进度", "办理情况", "办结情况")),
    Field("closed_on", "办结日期", "date", ("实际办结日期", "办结时间")),
    Field("reply", "办理结果", "text", ("答复意见", "处理结果", "办理结果及答复", "办理答复情况")),
    # 化解 progress in a 积案/稳控台账 (已化解/未化解/稳控中; 是/否): evidence of the state, not a reply.
    Field("resolution", "化解情况", "text", ("是否息诉息访", "是否化解", "稳控情况", "化解进度", "息诉息访情况")),
    Field("satisfaction", "满意度", "text", ("群众满意度", "评价结果", "满意度评价")),
    Field("review_requested_on", "复查申请日期", "date", ("申请复查日期",)),
    Field("review_opinion_on", "复查意见日期", "date", ("复查意见出具日期",)),
    Field("recheck_requested_on", "复核申请日期", "date", ("申请复核日期",)),
    Field("recheck_opinion_on", "复核意见日期", "date", ("复核意见出具日期",)),
    Field("risk_level", "风险等级", "text", ("风险评估等级",)),
    Field("notes", "备注", "text", ()),
]

FIELD_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
FIELD_NAMES: list[str] = [f.name for f in FIELDS]
LABELS: dict[str, str] = {f.name: f.label for f in FIELDS}
DATE_FIELDS: list[str] = [f.name for f in FIELDS if f.kind == "date"]
INT_FIELDS: list[str] = [f.name for f in FIELDS if f.kind == "int"]

# 序号 is a row count, never a case id: recognised so that it is not "unmapped noise".
ROW_NUMBER_LABELS = ("序号", "序", "No", "NO", "no")

STATUSES: list[str] = [
    "待受理", "已转送", "已交办", "已受理", "办理中", "延期办理", "已办结", "已化解", "未化解",
    "息诉罢访", "签订息访协议", "不予受理", "复查中", "复核中", "终结", "稳控中",
]
STATUS_ALIASES: dict[str, str] = {
    "办结": "已办结", "已结": "已办结", "结案": "已办结", "已结案": "已办结", "已完成": "已办结",
    "化解": "已化解", "在办": "办理中", "正在办理": "办理中", "办理": "办理中", "延期": "延期办理",
    "受理": "已受理", "交办": "已交办", "转送": "已转送", "未受理": "待受理",
}

CHANNELS: list[str] = ["来信", "来访", "网上信访", "来电", "传真", "12345", "领导信箱", "上级交办", "上级转送", "领导批示"]
CHANNEL_ALIASES: dict[str, str] = {
    "书信": "来信", "信件": "来信", "走访": "来访", "上访": "来访", "网上": "网上信访", "网信": "网上信访",
    "网络": "网上信访", "网上投诉": "网上信访", "电话": "来电", "12345热线": "12345", "市长热线": "12345",
    "书记信箱": "领导信箱", "县长信箱": "领导信箱", "市长信箱": "领导信箱",
}

CATEGORIES: list[str] = [
    "政治综合", "经济综合", "宣传舆论", "纪检监察", "政法", "劳动社保", "教育", "卫生计生", "科技文体",
    "组织人事", "交通能源环保", "民政", "农村农业", "国土资源水利林业", "城乡建设", "信息产业", "商贸旅游",
    "其他", "自然资源", "卫生健康",
]

# Words a date column holds in a 稳控/积案台账 that are states, not dates (and not typos):
# "长期稳控" in 办结时限 says there is no date yet. Read as no date, never reported as bad_date.
DATE_STATES: tuple[str, ...] = ("长期稳控", "长期", "待定", "稳控中", "持续稳控", "长期跟踪", "未定期限")

VOCABULARY: dict[str, list[str]] = {"status": STATUSES, "channel": CHANNELS, "category": CATEGORIES}

_LABEL_STRIP = re.compile(r"[\s\u3000*＊:：]+")
_BRACKETS = re.compile(r"[（(【\[].*?[）)】\]]")


def normalize_label(text: object) -> str:
    """A header label as comparable text: full-width folded, spaces/line breaks/asterisks gone."""
    if text is None:
        return ""
    return _normalize_label(str(text))


@functools.lru_cache(maxsize=4096)
def _normalize_label(text: str) -> str:  # header scans meet the same few labels in every file
    return _LABEL_STRIP.sub("", unicodedata.normalize("NFKC", text))


# The columns `deadlines -o` (and the 计算时限 button) add to a copy of a ledger. They are
# xfsheets' results, not the clerk's fields: read back, they map to nothing (so a copy can be
# checked again), and none may equal a label a ledger uses for its own column (the computed
# due date is not the clerk's 应办结日期, which would be overwritten in the copy).
COMPUTED_COLUMNS = ("当前阶段", "法定期限", "应办结日期（按时限计算）", "剩余天数", "预警", "时限说明")


def _build_lookup() -> dict[str, str]:
    table: dict[str, str] = {}
    for f in FIELDS:
        for label in (f.label, *f.synonyms):
            table.setdefault(normalize_label(label), f.name)
    for label in COMPUTED_COLUMNS:
        table[normalize_label(label)] = "-"
    return table


_BUILTIN_LOOKUP = _build_lookup()
FALLBACK_LOOKUP: dict[str, str] = {normalize_label(label): f.name for f in FIELDS for label in f.fallbacks}


def suggest_field(label: object, lookup: dict[str, str] | None = None) -> tuple[str, str] | None:
    """(field, the known label it resembles) for a header no table maps, or None.

    A known label inside the header wins (信访人联系电话 holds 联系电话), the longest first;
    else the closest known label by difflib's ratio (at least 0.5)."""
    import difflib

    table = lookup if lookup is not None else _BUILTIN_LOOKUP
    key = _BRACKETS.sub("", normalize_label(label)) or normalize_label(label)
    if not key:
        return None
    known = {k: v for k, v in {**FALLBACK_LOOKUP, **table}.items() if v != "-" and len(k) >= 2}
    inside = sorted((k for k in known if k in key), key=len, reverse=True)
    if inside:
        return known[inside[0]], inside[0]
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.5)
    return (known[close[0]], close[0]) if close else None


def profile_line(label: str, field: str) -> str:
    """The one line of a profile (TOML) that maps ``label`` to ``field``."""
    import json

    return f"labels.{json.dumps(label, ensure_ascii=False)} = \"{field}\""


@dataclass
class Profile:
    """A user's adjustments: their own labels, sheet, header rows, vocabulary, rule switches."""

    labels: dict[str, str] = dc_field(default_factory=dict)
    sheet: str | None = None
    header_rows: list[int] | None = None
    vocabulary: dict[str, list[str]] = dc_field(default_factory=dict)
    checks: dict[str, str] = dc_field(default_factory=dict)
    path: Path | None = None

    def lookup(self) -> dict[str, str]:
        table = dict(_BUILTIN_LOOKUP)
        table.update({normalize_label(k): v for k, v in self.labels.items()})
        return table

    def allowed(self, field_name: str) -> list[str]:
        return [*VOCABULARY.get(field_name, []), *self.vocabulary.get(field_name, [])]


DEFAULT_PROFILE = Profile()


def match_label(label: object, lookup: dict[str, str] | None = None) -> str | None:
    """The canonical field a header label stands for, or None."""
    table = lookup if lookup is not None else _BUILTIN_LOOKUP
    key = normalize_label(label)
    if not key:
        return None
    if key in table:
        return table[key]
    bare = _BRACKETS.sub("", key)  # 登记日期（年月日） -> 登记日期
    if bare and bare != key and bare in table:
        return table[bare]
    return None


def load_profile(path: str | Path) -> Profile:
    """Read a TOML profile. Every mistake is reported with the file and the key."""
    from xfsheets.textfiles import load_toml, require_table

    path = Path(path)
    if not path.exists():
        raise ConfigError("找不到配置文件", file=path, hint="请检查 --profile 的路径")
    data = load_toml(path, "台账配置文件")
    known = {"labels", "sheet", "header_rows", "header_row", "vocabulary", "checks"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"配置文件中有不认识的项：{'、'.join(unknown)}", file=path,
                          hint=f"可用的项：{'、'.join(sorted(known))}")
    labels = require_table(data, "labels", path, '"来件时间" = "received_on"')
    bad = {k: v for k, v in labels.items() if v not in FIELD_BY_NAME and v != "-"}
    if bad:
        k, v = next(iter(bad.items()))
        raise ConfigError(f"[labels] 中「{k}」对应的字段「{v}」不存在", file=path,
                          hint=f"可用的字段名：{', '.join(FIELD_NAMES)}；写 \"-\" 表示该列不作为任何字段")
    header_rows = data.get("header_rows", data.get("header_row"))
    if isinstance(header_rows, int):
        header_rows = [header_rows]
    if header_rows is not None and (not isinstance(header_rows, list) or not all(
            isinstance(r, int) and r >= 1 for r in header_rows) or not 1 <= len(header_rows) <= 2):
        raise ConfigError("header_rows 应为一个或两个行号（从 1 开始），例如 header_rows = [3, 4]", file=path)
    vocabulary = require_table(data, "vocabulary", path, 'status = ["挂牌督办"]')
    for key, values in vocabulary.items():
        if key not in VOCABULARY or not isinstance(values, list):
            raise ConfigError(f"[vocabulary] 中「{key}」不可用", file=path,
                              hint="可扩展的词表：status、channel、category，值写成列表")
    checks = require_table(data, "checks", path, 'bad_phone = "warning"')
    for code, setting in checks.items():
        if setting not in ("off", "error", "warning"):
            raise ConfigError(f"[checks] 中「{code}」的设置「{setting}」无效", file=path,
                              hint="只能是 \"off\"、\"error\" 或 \"warning\"")
    if data.get("sheet") is not None and not isinstance(data.get("sheet"), str):
        raise ConfigError("sheet 应写工作表的名称，如 sheet = \"信访台账\"", file=path)
    return Profile(labels=dict(labels), sheet=data.get("sheet"), header_rows=header_rows,
                   vocabulary={k: list(map(str, v)) for k, v in vocabulary.items()},
                   checks=dict(checks), path=path)
