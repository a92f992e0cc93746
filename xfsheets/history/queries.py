"""What the office asks its memory: what changed since a day or the last report, one matter's history,
every matter of one person, and what was sent."""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import sqlalchemy as sa

from xfsheets.history import store as st
from xfsheets.history.events import KINDS, LABELS, PERSONAL_FIELDS, field_label
from xfsheets.history.record import identity_text
from xfsheets.normalize import cn_date

SINCE_LAST_REPORT = "上次上报"
# Events a chief reads first, in this order; the rest follow.
HEADLINE = ("new", "closed", "overdue", "gone", "extended", "changed_after_report", "changed_after_close",
            "similar", "case_id_clash", "reopened", "case_id_filled", "corrected", "cleared", "filled")


@dataclass
class ChangeEvent:
    snapshot: int
    as_of: str
    kind: str
    matter: int | None
    case_id: str
    unit: str
    field: str | None
    old: str | None
    new: str | None
    file: str | None
    sheet: str | None
    row: int | None
    detail: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"snapshot": self.snapshot, "as_of": self.as_of, "kind": self.kind, "label": LABELS[self.kind],
                "matter": self.matter, "case_id": self.case_id, "unit": self.unit, "field": self.field,
                "old": self.old, "new": self.new, "file": self.file, "sheet": self.sheet, "row": self.row,
                "detail": self.detail}


@dataclass
class ChangesResult:
    store: str
    base: dict[str, Any] | None  # the snapshot compared against (None: the first snapshot)
    head: dict[str, Any]
    events: list[ChangeEvent] = field(default_factory=list)
    base_is_report: bool = False  # the base is the snapshot the last upward report was built from

    @property
    def counts(self) -> dict[str, int]:
        c = Counter(e.kind for e in self.events)
        return {k: c[k] for k in HEADLINE if c.get(k)}

    def sentence(self, base_words: str | None = None) -> str:
        """The one sentence for the 情况报告: new, closed, newly overdue matters (counted once each)."""
        n = {k: len({e.matter for e in self.events if e.kind == k}) for k in ("new", "closed", "overdue")}
        if base_words is None:
            when = cn_date(dt.date.fromisoformat(self.base["as_of"])) if self.base else ""
            base_words = (f"较上次上报（{when}）" if self.base_is_report else f"较上次记录（{when}）") if self.base \
                else "自开始记录以来"
        return f"{base_words}新增 {n['new']} 件、办结 {n['closed']} 件、新超期 {n['overdue']} 件。"

    def span_text(self) -> str:
        head = cn_date(dt.date.fromisoformat(self.head["as_of"]))
        if not self.base:
            return f"截至{head}的记录"
        base = cn_date(dt.date.fromisoformat(self.base["as_of"]))
        return f"{'上次上报' if self.base_is_report else '上次记录'}{base}至{head}"

    def to_dict(self) -> dict[str, Any]:
        return {"store": st.shown(self.store), "base": self.base, "head": self.head, "counts": self.counts,
                "events": [e.to_dict() for e in self.events]}

    def frame(self) -> pd.DataFrame:
        rows = [{"变化": LABELS[e.kind], "信访件编号": e.case_id, "责任单位": e.unit, "栏目": field_label(e.field),
                 "原来": e.old or "", "现在": e.new or "", "说明": e.detail or "", "文件": e.file or "",
                 "工作表": e.sheet or "", "行号": e.row, "快照日期": e.as_of} for e in self.events]
        return pd.DataFrame(rows, columns=["变化", "信访件编号", "责任单位", "栏目", "原来", "现在", "说明", "文件",
                                           "工作表", "行号", "快照日期"])


def _snapshot_dict(row: Any) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"snapshot": row.id, "taken_at": row.taken_at, "as_of": row.as_of, "rows": row.rows}


def _parse_since(since: str) -> dt.date:
    try:
        return dt.date.fromisoformat(since)
    except ValueError:
        raise st.HistoryStoreError(f"“{since}”不是日期", hint=f"请写成 2026-11-01 这样的日期，或写“{SINCE_LAST_REPORT}”")


def changes(s: st.Store, since: str | None = None) -> ChangesResult:
    """The events after a base snapshot up to the latest: with no ``since``, the last two snapshots; with a
    date, since the last snapshot taken for a day on or before it; with 上次上报, since the snapshot the
    last report or mail was built from."""
    with s.reading() as conn:
        snaps = conn.execute(sa.select(st.snapshots).order_by(st.snapshots.c.id)).all()
        if not snaps:
            raise st.HistoryStoreError("历史库里还没有任何记录", file=st.shown(s.target),
                                       hint="先用“xfsheets history record 台账.xlsx”记录一次")
        head = snaps[-1]
        if since is None:
            base = snaps[-2] if len(snaps) > 1 else None
        elif since == SINCE_LAST_REPORT:
            sid = conn.execute(sa.select(st.audit.c.snapshot_id).where(st.audit.c.snapshot_id.is_not(None))
                               .order_by(st.audit.c.id.desc()).limit(1)).scalar()
            if sid is None:
                raise st.HistoryStoreError("还没有上报记录，无法与“上次上报”比较",
                                           hint="用 --since 日期 指定从哪天起比较")
            base = next(x for x in snaps if x.id == sid)
        else:
            day = _parse_since(since).isoformat()
            earlier = [x for x in snaps if x.as_of <= day]
            base = earlier[-1] if earlier else None
        lower = base.id if base is not None else 0
        # the latest case id and unit of each matter, to name it
        latest = (sa.select(st.versions.c.matter_id, sa.func.max(st.versions.c.id).label("vid"))
                  .group_by(st.versions.c.matter_id).subquery())
        q = (sa.select(st.events, st.snapshots.c.as_of, st.versions.c.values_json)
             .join(st.snapshots, st.snapshots.c.id == st.events.c.snapshot_id)
             .outerjoin(latest, latest.c.matter_id == st.events.c.matter_id)
             .outerjoin(st.versions, st.versions.c.id == latest.c.vid)
             .where(st.events.c.snapshot_id > lower).order_by(st.events.c.id))
        out = []
        for r in conn.execute(q).mappings():
            values = json.loads(r["values_json"]) if r["values_json"] else {}
            out.append(ChangeEvent(snapshot=r["snapshot_id"], as_of=r["as_of"], kind=r["kind"], matter=r["matter_id"],
                                   case_id=values.get("case_id", "") or (r["new"] if r["kind"] == "case_id_clash" else ""),
                                   unit=values.get("unit", ""), field=r["field"], old=r["old"], new=r["new"],
                                   file=r["file"], sheet=r["sheet"], row=r["row"], detail=r["detail"]))
    order = {k: i for i, k in enumerate(HEADLINE)}
    out.sort(key=lambda e: (order.get(e.kind, 99), e.snapshot))
    return ChangesResult(store=s.target, base=_snapshot_dict(base), head=_snapshot_dict(head), events=out,
                         base_is_report=since == SINCE_LAST_REPORT)


@dataclass
class MatterHistory:
    matter: int
    versions: list[dict[str, Any]]
    events: list[dict[str, Any]]
    seen: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"matter": self.matter, "versions": self.versions, "events": self.events, "seen": self.seen}


@dataclass
class HistoryAnswer:
    asked: str
    matters: list[MatterHistory]

    def to_dict(self) -> dict[str, Any]:
        return {"asked": self.asked, "matters": [m.to_dict() for m in self.matters]}


def _public(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if not k.startswith("#")}


def _histories(conn: sa.Connection, ids: list[int]) -> list[MatterHistory]:
    files = dict(conn.execute(sa.select(st.snapshot_files.c.id, st.snapshot_files.c.path)).all())
    out = []
    for mid in ids:
        vs = conn.execute(sa.select(st.versions.c.snapshot_id, st.snapshots.c.as_of, st.versions.c.values_json)
                          .join(st.snapshots, st.snapshots.c.id == st.versions.c.snapshot_id)
                          .where(st.versions.c.matter_id == mid).order_by(st.versions.c.id)).all()
        ev = conn.execute(sa.select(st.events, st.snapshots.c.as_of)
                          .join(st.snapshots, st.snapshots.c.id == st.events.c.snapshot_id)
                          .where(st.events.c.matter_id == mid).order_by(st.events.c.id)).mappings().all()
        seen = conn.execute(sa.select(st.presence.c.snapshot_id, st.snapshots.c.as_of, st.presence.c.file_id,
                                      st.presence.c.sheet, st.presence.c.row, st.presence.c.flag)
                            .join(st.snapshots, st.snapshots.c.id == st.presence.c.snapshot_id)
                            .where(st.presence.c.matter_id == mid).order_by(st.presence.c.snapshot_id)).all()
        out.append(MatterHistory(
            matter=mid,
            versions=[{"snapshot": v[0], "as_of": v[1], "values": _public(json.loads(v[2]))} for v in vs],
            events=[{"as_of": e["as_of"], "kind": e["kind"], "label": LABELS[e["kind"]], "field": e["field"],
                     "old": e["old"], "new": e["new"], "file": e["file"], "sheet": e["sheet"], "row": e["row"],
                     "detail": e["detail"]} for e in ev],
            seen=[{"snapshot": x[0], "as_of": x[1], "file": files.get(x[2], ""), "sheet": x[3], "row": x[4],
                   "flag": x[5]} for x in seen]))
    return out


def case_history(s: st.Store, case_id: str) -> HistoryAnswer:
    """Every matter that carried ``case_id`` in any version, with its versions, events and places."""
    case_id = case_id.strip()
    with s.reading() as conn:
        ids = sorted({mid for mid, values in conn.execute(sa.select(st.versions.c.matter_id,
                                                                    st.versions.c.values_json))
                      if json.loads(values).get("case_id") == case_id})
        return HistoryAnswer(case_id, _histories(conn, ids))


def person_history(s: st.Store, who: str) -> HistoryAnswer:
    """Every matter of one person, found by 身份证号, 电话 or 姓名 through the keyed hash (the store never
    holds them in clear)."""
    digests = [s.keyed(f + ":" + identity_text(who, f)) for f in PERSONAL_FIELDS]
    with s.reading() as conn:
        ids = sorted({m for (m,) in conn.execute(sa.select(st.person_keys.c.matter_id)
                                                  .where(st.person_keys.c.digest.in_(digests)))})
        return HistoryAnswer(who[:1] + "*" * max(len(who) - 1, 0), _histories(conn, ids))


def event_kinds_table() -> list[tuple[str, str, str]]:
    """(code, label, meaning) of every event kind: the README's table is generated from this."""
    return [(k, label, meaning) for k, (label, meaning) in KINDS.items()]
