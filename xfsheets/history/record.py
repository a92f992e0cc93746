"""``xfsheets history record``: read the ledgers, match each row to a known matter, store what changed.

A snapshot stores the files read (path and fingerprint), the policy in force, one presence row per
matter (where it stood that day, its flag), a new version of a matter only when one of its values
changed, and the events between the last snapshot and this one. Personal data is stored masked, with a
keyed hash per person for matching and for ``history --person``. A ledger that cannot be read records
nothing: the whole run stops with the reader's message, so that no matter "disappears" by accident.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from xfsheets.deadlines import compute_deadlines
from xfsheets.history import store as st
from xfsheets.history.audit import file_digest
from xfsheets.history.events import LABELS, PERSONAL_FIELDS, Event, diff
from xfsheets.history.matching import Key, match
from xfsheets.identifiers import compact_identifier, fold_name
from xfsheets.policy import Policy, resolve as resolve_policy
from xfsheets.privacy import mask_frame
from xfsheets.ledger import Ledger
from xfsheets.reader import read_ledgers
from xfsheets.schema import FIELD_NAMES



def _text(value: Any) -> str:
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.isoformat()[:10]
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value).strip()


def identity_text(value: str, kind: str) -> str:
    """The form a person's identifier is compared in, after the one folding rule of xfsheets.identifiers:
    a number's digits only (Chinese and other-script digits, format characters and separators folded away,
    X upper-case, a +86/0086 in front of a mobile dropped); a name or address without spaces."""
    if kind in ("id_number", "phone"):
        text = re.sub(r"[^0-9X]", "", (compact_identifier(value) or "").upper())
        return re.sub(r"^(?:0086|86)(?=1\d{10}$)", "", text) if kind == "phone" else text
    return (fold_name(value) or "").replace(" ", "")


_MASKED_TEXT = ("id_number", "phone", "summary", "reply", "notes")  # masked by the privacy module's pass


def _mask_name(field: str, value: str) -> str:
    if not value:
        return ""
    if field == "petitioner":
        return value[0] + "*" * min(len(value) - 1, 3)
    return value[:3] + "***"  # address: the place, not the door


def _column_texts(s: pd.Series) -> list[str]:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s.dt.strftime("%Y-%m-%d").fillna("").tolist()
    if pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):  # the common case: text or blank
        return s.astype(object).where(s.notna(), "").astype(str).str.strip().tolist()
    return [_text(v) for v in s.tolist()]


@dataclass
class Row:
    values: dict[str, str]  # masked, with "#field" keyed hashes of personal fields
    digest: str
    key: Key
    flag: str
    closed: bool
    file: str
    sheet: str
    row: int


@dataclass
class RecordResult:
    store: str
    snapshot: int
    as_of: str
    files: list[dict[str, Any]]
    rows: int
    counts: dict[str, int]
    matched: dict[str, int]
    clashes: list[str]
    events: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"store": st.shown(self.store), "snapshot": self.snapshot, "as_of": self.as_of, "files": self.files,
                "rows": self.rows, "unchanged": self.unchanged, "matched": self.matched,
                "events": self.counts, "case_id_clashes": self.clashes}

    def summary(self) -> str:
        parts = [f"{LABELS[k]} {n} 件" for k, n in self.counts.items() if n]
        said = "；".join(parts) if parts else "与上次相比没有变化"
        return f"已记录第 {self.snapshot} 次快照（{self.rows} 件事项，截至 {self.as_of}）：{said}"


def ledger_rows(store: st.Store, ledger: Ledger, paths: list[Path], *, as_of: dt.date,
                policy: Policy) -> tuple[list[Row], list[dict[str, Any]]]:
    """Every matter row of ``ledger`` (read from ``paths``), as stored (masked, hashed) with its flag on ``as_of``,
    and the files it was read from (path, SHA-256, rows)."""
    frame = ledger.frame
    per_file = frame["_file"].astype(str).value_counts().to_dict() if len(frame) else {}
    files = [{"path": str(p), "sha256": file_digest(p)[0], "rows": int(per_file.get(str(p), 0))} for p in paths]
    if not len(frame):
        return [], files
    result = compute_deadlines(ledger, as_of=as_of, policy=policy)
    flags = result["flag"].astype(str).tolist()
    closed = result["closed"].astype(bool).tolist()
    present = [f for f in FIELD_NAMES if f in frame.columns]
    plain_cols = {f: _column_texts(frame[f]) for f in present}
    masked_frame = mask_frame(frame[[f for f in _MASKED_TEXT if f in frame.columns]])
    masked_cols = {f: _column_texts(masked_frame[f]) for f in masked_frame.columns}
    for f in ("petitioner", "address"):
        if f in plain_cols:
            masked_cols[f] = [_mask_name(f, v) for v in plain_cols[f]]
    where = list(zip(frame["_file"].astype(str).tolist(), frame["_sheet"].astype(str).tolist(),
                     frame["_row"].astype(int).tolist()))
    rows: list[Row] = []
    for i in range(len(frame)):
        plain = {f: plain_cols[f][i] for f in present}
        values = {f: (masked_cols[f][i] if f in masked_cols else plain[f]) for f in present}
        hashes = {}
        for f in PERSONAL_FIELDS:
            if plain.get(f):
                hashes[f] = store.keyed(f + ":" + identity_text(plain[f], f))
                values["#" + f] = hashes[f]
        digest = store.keyed(json.dumps(plain, ensure_ascii=False, sort_keys=True))
        key = Key(case_id=plain.get("case_id", ""), received_on=plain.get("received_on", ""),
                  petitioner=hashes.get("petitioner", ""), id_number=hashes.get("id_number", ""),
                  phone=hashes.get("phone", ""), unit=plain.get("unit", ""), summary=values.get("summary", ""))
        rows.append(Row(values, digest, key, flags[i], closed[i], *where[i]))
    return rows, files


@dataclass
class Known:
    version_id: int
    version_snapshot: int
    digest: str
    values: dict[str, str]
    flag: str
    closed: bool
    present: bool  # present in the last snapshot
    where: tuple[str, str, int] | None  # file, sheet, row in the last snapshot


def known_matters(conn: sa.Connection) -> tuple[int | None, dict[int, Known]]:
    """The last snapshot's id and every live matter's latest version (with its flag then)."""
    last = conn.execute(sa.select(sa.func.max(st.snapshots.c.id))).scalar()
    if last is None:
        return None, {}
    latest = (sa.select(st.versions.c.matter_id, sa.func.max(st.versions.c.id).label("vid"))
              .group_by(st.versions.c.matter_id).subquery())
    q = (sa.select(st.versions.c.id, st.versions.c.matter_id, st.versions.c.snapshot_id, st.versions.c.digest,
                   st.versions.c.values_json)
         .join(latest, latest.c.vid == st.versions.c.id)
         .join(st.matters, st.matters.c.id == st.versions.c.matter_id)
         .where(st.matters.c.merged_into.is_(None)))
    out: dict[int, Known] = {}
    for vid, mid, vsnap, digest, values in conn.execute(q):
        out[mid] = Known(vid, vsnap, digest, json.loads(values), "unknown", False, False, None)
    files = dict(conn.execute(sa.select(st.snapshot_files.c.id, st.snapshot_files.c.path)).all())
    # the last flag and place of every matter (a matter absent last time keeps its older flag)
    seen = (sa.select(st.presence.c.matter_id, sa.func.max(st.presence.c.snapshot_id).label("sid"))
            .group_by(st.presence.c.matter_id).subquery())
    q = (sa.select(st.presence.c.matter_id, st.presence.c.snapshot_id, st.presence.c.flag, st.presence.c.closed,
                   st.presence.c.file_id, st.presence.c.sheet, st.presence.c.row)
         .join(seen, sa.and_(seen.c.matter_id == st.presence.c.matter_id, seen.c.sid == st.presence.c.snapshot_id)))
    for mid, sid, flag, closed, fid, sheet, row in conn.execute(q):
        if mid in out:
            out[mid].flag, out[mid].closed = flag, bool(closed)
            out[mid].present = sid == last
            out[mid].where = (files.get(fid, ""), sheet, row)
    return last, out


def _key_of(values: dict[str, str]) -> Key:
    return Key(case_id=values.get("case_id", ""), received_on=values.get("received_on", ""),
               petitioner=values.get("#petitioner", ""), id_number=values.get("#id_number", ""),
               phone=values.get("#phone", ""), unit=values.get("unit", ""), summary=values.get("summary", ""))


def record(paths: list[str | Path], *, store: str | None = None, as_of: dt.date | None = None,
           policy: Policy | str | Path | None = None, sheet: str | None = None, profile: Any = None,
           note: str | None = None, ledger: Ledger | None = None) -> RecordResult:
    """Store one snapshot of ``paths`` in the history (created beside the first ledger if none). ``ledger``:
    the ledgers as the calling command already read them (else they are read here; a file that cannot be read
    stops the whole record)."""
    paths = [Path(p) for p in paths]
    as_of = as_of or dt.date.today()
    policy = resolve_policy(policy)
    target = st.locate(store, paths, create=True)
    s = st.open_store(target, create=True)
    try:
        if ledger is None:
            ledger = read_ledgers(paths, sheet=sheet, profile=profile)
        rows, files = ledger_rows(s, ledger, paths, as_of=as_of, policy=policy)
        with s.writing() as conn:
            return _store_snapshot(conn, s, rows, files, as_of=as_of, policy=policy, note=note)
    finally:
        s.engine.dispose()


def _store_snapshot(conn: sa.Connection, s: st.Store, rows: list[Row], files: list[dict[str, Any]], *,
                    as_of: dt.date, policy: Policy, note: str | None) -> RecordResult:
    last, known = known_matters(conn)
    # the summary text is stored masked; similarity compares the masked texts on both sides
    keys = {mid: _key_of(k.values) for mid, k in known.items()}
    matches, clashes = match([r.key for r in rows], keys)
    reported_upto = conn.execute(sa.select(sa.func.max(st.audit.c.snapshot_id))).scalar()
    before = conn.execute(sa.select(st.snapshots.c.clashes).where(st.snapshots.c.id == last)).scalar() if last else None
    old_clashes = set(json.loads(before or "[]"))

    policy_json = json.dumps(policy.to_dict(), ensure_ascii=False, sort_keys=True, default=str)
    snap = conn.execute(st.snapshots.insert().values(
        taken_at=st.now(), as_of=as_of.isoformat(), policy_digest=hashlib.sha256(policy_json.encode()).hexdigest(),
        policy_json=policy_json, rows=len(rows), matters=len(rows), note=note,
        clashes=json.dumps(clashes, ensure_ascii=False))).inserted_primary_key[0]
    file_ids = {}
    for f in files:
        file_ids[f["path"]] = conn.execute(st.snapshot_files.insert().values(
            snapshot_id=snap, path=f["path"], sha256=f["sha256"], rows=f["rows"])).inserted_primary_key[0]

    events: list[tuple[int | None, Event, Row | None, tuple | None]] = []
    presence_rows, new_versions, keys_rows = [], [], []
    matched = Counter()
    unchanged = 0
    new_matter_rows = [i for i, m in enumerate(matches) if m.matter is None]
    new_ids: dict[int, int] = {}
    if new_matter_rows:
        for i in new_matter_rows:
            new_ids[i] = conn.execute(st.matters.insert().values(created_snapshot=snap)).inserted_primary_key[0]
    seen_now: set[int] = set()
    version_of: dict[int, int] = {}
    for i, (r, m) in enumerate(zip(rows, matches)):
        matched[m.rule] += 1
        mid = m.matter if m.matter is not None else new_ids[i]
        seen_now.add(mid)
        if m.matter is None:
            events.append((mid, Event("new"), r, None))
            new_versions.append((mid, r))
            continue
        k = known[mid]
        if m.rule == "similar":
            events.append((mid, Event("similar", detail=f"相似度 {m.score:.2f}"), r, None))
        if k.digest != r.digest:
            new_versions.append((mid, r))
        else:
            version_of[mid] = k.version_id
            unchanged += 1
        if k.digest == r.digest and k.flag == r.flag and k.closed == r.closed:
            continue  # the same values and the same standing: nothing happened to this matter
        reported = reported_upto is not None and k.version_snapshot <= reported_upto
        for e in diff(k.values, r.values, old_flag=k.flag, new_flag=r.flag, was_closed=k.closed, is_closed=r.closed,
                      reported=reported):
            events.append((mid, e, r, None))
    for mid, k in known.items():
        if k.present and mid not in seen_now:
            events.append((mid, Event("gone"), None, k.where))
    for case_id in [c for c in clashes if c not in old_clashes]:  # said once, when it first appears
        first = next(r for r in rows if r.key.case_id == case_id)
        others = [f"{Path(r.file).name} {r.sheet} 第 {r.row} 行" for r in rows if r.key.case_id == case_id]
        events.append((None, Event("case_id_clash", field="case_id", new=case_id, detail="；".join(others)), first,
                       None))

    if new_versions:
        payload = [{"matter_id": mid, "snapshot_id": snap, "digest": r.digest,
                    "values_json": json.dumps(r.values, ensure_ascii=False, sort_keys=True)} for mid, r in new_versions]
        conn.execute(st.versions.insert(), payload)
        ids = conn.execute(sa.select(st.versions.c.matter_id, st.versions.c.id)
                           .where(st.versions.c.snapshot_id == snap)).all()
        version_of.update(dict(ids))
        existing = set()
        changed = [mid for mid, _ in new_versions]
        for chunk in range(0, len(changed), 500):
            part = changed[chunk:chunk + 500]
            existing |= set(conn.execute(sa.select(st.person_keys.c.matter_id, st.person_keys.c.kind,
                                                   st.person_keys.c.digest)
                                         .where(st.person_keys.c.matter_id.in_(part))).all())
        for mid, r in new_versions:
            for f in PERSONAL_FIELDS:
                h = r.values.get("#" + f)
                if h and (mid, f, h) not in existing:
                    keys_rows.append({"matter_id": mid, "kind": f, "digest": h})
                    existing.add((mid, f, h))
        if keys_rows:
            conn.execute(st.person_keys.insert(), keys_rows)
    for r, m, i in zip(rows, matches, range(len(rows))):
        mid = m.matter if m.matter is not None else new_ids[i]
        presence_rows.append({"snapshot_id": snap, "matter_id": mid, "version_id": version_of[mid],
                              "file_id": file_ids.get(r.file, 0), "sheet": r.sheet, "row": r.row, "flag": r.flag,
                              "closed": r.closed, "rule": m.rule})
    if presence_rows:
        conn.execute(st.presence.insert(), presence_rows)
    event_rows = []
    for mid, e, r, where in events:
        file, sheet, row = (r.file, r.sheet, r.row) if r is not None else (where or ("", "", None))
        event_rows.append({"snapshot_id": snap, "matter_id": mid, "kind": e.kind, "field": e.field, "old": e.old,
                           "new": e.new, "file": file, "sheet": sheet, "row": row, "detail": e.detail})
    if event_rows:
        conn.execute(st.events.insert(), event_rows)
    counts = Counter(e.kind for _, e, _, _ in events)
    return RecordResult(store=s.target, snapshot=snap, as_of=as_of.isoformat(), files=files, rows=len(rows),
                        counts={k: counts.get(k, 0) for k in LABELS if counts.get(k)}, matched=dict(matched),
                        clashes=clashes, unchanged=unchanged)
