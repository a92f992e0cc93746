"""A clerk's word on matching: ``history link`` (these two are one matter) and ``history unlink`` (the
疑似同一件 match was wrong). Both are kept in ``decisions``; both rewrite only whose versions are whose."""
from __future__ import annotations

import sqlalchemy as sa

from xfsheets.history import store as st

_MOVED = (st.versions, st.presence, st.events)


def _exists(conn: sa.Connection, matter: int) -> bool:
    return conn.execute(sa.select(st.matters.c.id).where(st.matters.c.id == matter,
                                                          st.matters.c.merged_into.is_(None))).first() is not None


def link(s: st.Store, keep: int, other: int) -> str:
    """Fold matter ``other`` into ``keep``: its versions, places and events become ``keep``'s."""
    if keep == other:
        raise st.HistoryStoreError("两个事项号相同")
    with s.writing() as conn:
        for m in (keep, other):
            if not _exists(conn, m):
                raise st.HistoryStoreError(f"历史库里没有事项号 {m}", hint="事项号见 changes 或 history 的输出")
        both = conn.execute(sa.select(st.presence.c.snapshot_id).where(st.presence.c.matter_id == keep)
                            .intersect(sa.select(st.presence.c.snapshot_id)
                                       .where(st.presence.c.matter_id == other))).first()
        if both is not None:
            raise st.HistoryStoreError(f"事项 {keep} 和 {other} 在同一次记录里同时出现（第 {both[0]} 次），"
                                       "是台账里的两行，不能认作同一件",
                                       hint="如果其实是重复登记，请在台账里删去一行后再记录")
        for table in _MOVED:
            conn.execute(table.update().where(table.c.matter_id == other).values(matter_id=keep))
        have = set(conn.execute(sa.select(st.person_keys.c.kind, st.person_keys.c.digest)
                                .where(st.person_keys.c.matter_id == keep)).all())
        for kind, digest in conn.execute(sa.select(st.person_keys.c.kind, st.person_keys.c.digest)
                                         .where(st.person_keys.c.matter_id == other)).all():
            if (kind, digest) not in have:
                conn.execute(st.person_keys.insert().values(matter_id=keep, kind=kind, digest=digest))
        conn.execute(st.person_keys.delete().where(st.person_keys.c.matter_id == other))
        conn.execute(st.matters.update().where(st.matters.c.id == other).values(merged_into=keep))
        conn.execute(st.decisions.insert().values(matter_a=keep, matter_b=other, decision="same", at=st.now()))
    return f"已把事项 {other} 并入事项 {keep}。"


def unlink(s: st.Store, matter: int) -> str:
    """Undo the last 疑似同一件 match of ``matter``: from that snapshot on, its rows are a new matter."""
    with s.writing() as conn:
        if not _exists(conn, matter):
            raise st.HistoryStoreError(f"历史库里没有事项号 {matter}", hint="事项号见 changes 或 history 的输出")
        since = conn.execute(sa.select(sa.func.max(st.events.c.snapshot_id))
                             .where(st.events.c.matter_id == matter, st.events.c.kind == "similar")).scalar()
        if since is None:
            raise st.HistoryStoreError(f"事项 {matter} 没有“疑似同一件”的认定，无需撤销")
        new = conn.execute(st.matters.insert().values(created_snapshot=since)).inserted_primary_key[0]
        for table in _MOVED:
            conn.execute(table.update().where(table.c.matter_id == matter, table.c.snapshot_id >= since)
                         .values(matter_id=new))
        conn.execute(st.events.delete().where(st.events.c.matter_id == new, st.events.c.kind == "similar"))
        # the split leaves: the old matter gone from that snapshot on (if it was there before), a new one
        before = conn.execute(sa.select(st.presence.c.file_id, st.presence.c.sheet, st.presence.c.row)
                              .where(st.presence.c.matter_id == matter, st.presence.c.snapshot_id < since)
                              .order_by(st.presence.c.snapshot_id.desc()).limit(1)).first()
        files = dict(conn.execute(sa.select(st.snapshot_files.c.id, st.snapshot_files.c.path)).all())
        conn.execute(st.events.delete().where(st.events.c.matter_id == new, st.events.c.snapshot_id == since))
        now_at = conn.execute(sa.select(st.presence.c.file_id, st.presence.c.sheet, st.presence.c.row)
                              .where(st.presence.c.matter_id == new, st.presence.c.snapshot_id == since)).first()
        conn.execute(st.events.insert(), [
            {"snapshot_id": since, "matter_id": new, "kind": "new", "file": files.get(now_at[0]) if now_at else None,
             "sheet": now_at[1] if now_at else None, "row": now_at[2] if now_at else None, "detail": "撤销疑似同一件后分出"},
            *([{"snapshot_id": since, "matter_id": matter, "kind": "gone", "file": files.get(before[0]),
                "sheet": before[1], "row": before[2], "detail": "撤销疑似同一件后"}] if before else [])])
        digests = conn.execute(sa.select(st.person_keys.c.kind, st.person_keys.c.digest)
                               .where(st.person_keys.c.matter_id == matter)).all()
        for kind, digest in digests:
            conn.execute(st.person_keys.insert().values(matter_id=new, kind=kind, digest=digest))
        conn.execute(st.decisions.insert().values(matter_a=matter, matter_b=new, decision="different", at=st.now()))
    return f"已撤销：从第 {since} 次记录起的那一行另立为事项 {new}，事项 {matter} 保留之前的记录。"
