"""The kinds of change a clerk is told about, and how two versions of one matter differ.

A version is a dict field -> text (dates ISO, blank ""), personal fields masked, with the keyed hash of
each personal field under ``#field`` so that a change hidden by the mask is still seen. Filling a blank
is progress (补填, 补录编号); overwriting or clearing a value is a correction (更正, 清空).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xfsheets.deadlines import OVERDUE_FLAGS
from xfsheets.schema import FIELD_BY_NAME

# kind -> (Chinese label, whether it is progress (True) or a correction/alert (False), one-line meaning)
KINDS: dict[str, tuple[str, str]] = {
    "new": ("新增", "本次台账里第一次出现的事项"),
    "gone": ("从台账中消失", "上次还在、这次所有台账里都没有的事项"),
    "closed": ("办结", "本次变为已办结"),
    "reopened": ("重新办理", "上次已办结、这次又未办结（如申请了复查）"),
    "overdue": ("新超期", "上次未超期、这次超期"),
    "extended": ("延期", "延期天数增加或办理状态变为延期办理"),
    "case_id_filled": ("补录编号", "上次没有信访件编号、这次补上了"),
    "filled": ("补填", "上次空着的栏目这次填上了（进展）"),
    "corrected": ("更正", "已填的内容被改成了别的（更正）"),
    "cleared": ("清空", "已填的内容被删掉了"),
    "changed_after_close": ("办结后改动", "已办结的事项又被改动"),
    "changed_after_report": ("上报后改动", "已经上报过的事项又被改动"),
    "similar": ("疑似同一件", "编号和信访人都对不上，按同一天登记、内容最相近认作同一件，请核对"),
    "case_id_clash": ("编号重复", "两行（或两本台账）用了同一个信访件编号，未合并，请核对"),
}
LABELS = {k: v[0] for k, v in KINDS.items()}
PERSONAL_FIELDS = ("petitioner", "id_number", "phone", "address")
# Fields whose change is bookkeeping of the summary events above, not a clerk's edit of its own.
SUMMARY_ONLY = {"status"}


@dataclass
class Event:
    kind: str
    field: str | None = None
    old: str | None = None
    new: str | None = None
    detail: str | None = None

    @property
    def label(self) -> str:
        return LABELS[self.kind]


def field_label(field: str | None) -> str:
    if not field:
        return ""
    known = FIELD_BY_NAME.get(field)
    return known.label if known else field


def _number(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def diff(old: dict[str, Any], new: dict[str, Any], *, old_flag: str, new_flag: str, was_closed: bool,
         is_closed: bool, reported: bool) -> list[Event]:
    """The events between two versions of one matter (its flag and whether it was closed, before and now:
    a matter closed before a due day the calendar cannot tell yet is closed all the same)."""
    out: list[Event] = []
    edits: list[Event] = []
    fields = [f for f in dict.fromkeys([*old, *new]) if not f.startswith("#")]
    for f in fields:
        o, n = old.get(f, "") or "", new.get(f, "") or ""
        if f in PERSONAL_FIELDS:
            same = old.get("#" + f, "") == new.get("#" + f, "")
        else:
            same = o == n
        if same:
            continue
        if not o and n:
            kind = "case_id_filled" if f == "case_id" else "filled"
        elif o and not n:
            kind = "cleared"
        else:
            kind = "corrected"
        edits.append(Event(kind, f, o, n))
    out += edits
    if is_closed and not was_closed:
        out.append(Event("closed", detail=new.get("closed_on") or None))
    elif was_closed and not is_closed:
        out.append(Event("reopened"))
    if new_flag in OVERDUE_FLAGS and old_flag not in OVERDUE_FLAGS:
        out.append(Event("overdue", detail=new_flag))
    o_ext, n_ext = _number(old.get("extension_days", "")), _number(new.get("extension_days", ""))
    if (n_ext or 0) > (o_ext or 0) or ("延期" in (new.get("status") or "") and "延期" not in (old.get("status") or "")):
        out.append(Event("extended", old=old.get("extension_days") or None, new=new.get("extension_days") or None))
    real_edits = [e for e in edits if e.field not in SUMMARY_ONLY or e.kind != "filled"]
    if real_edits and was_closed:
        out.append(Event("changed_after_close", detail="、".join(field_label(e.field) for e in real_edits)))
    if real_edits and reported:
        out.append(Event("changed_after_report", detail="、".join(field_label(e.field) for e in real_edits)))
    return out
