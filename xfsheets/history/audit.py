"""The log of everything that left the office: hash-chained, so an edit or a deletion shows.

Each entry holds what left (kind, file name, SHA-256 and size), to whom, when, and the snapshot it was
built from; its ``hash`` is SHA-256 over the previous entry's hash and its own fields. Changing an entry
breaks its own hash; deleting one breaks the next entry's link. ``verify`` says whether a file is byte
for byte what was sent, and when.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import sqlalchemy as sa

from xfsheets.history import store as st

KIND_LABELS = {"report": "汇总报表", "zero_report": "零报告", "slips": "交办单/督办单", "mail": "邮件",
               "consolidate": "汇总台账"}
GENESIS = "0" * 64
_FIELDS = ("at", "kind", "name", "sha256", "size", "recipients", "snapshot_id", "detail")


def _entry_hash(prev: str, entry: dict[str, Any]) -> str:
    body = json.dumps({k: entry.get(k) for k in _FIELDS}, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256((prev + body).encode("utf-8")).hexdigest()


def file_digest(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def log_outputs(s: st.Store, kind: str, paths: Iterable[str | Path], *, recipients: Iterable[str] = (),
                detail: str | None = None) -> list[int]:
    """Append one entry per file that left, chained to the last entry; returns the entry ids."""
    ids = []
    with s.writing() as conn:
        snapshot = conn.execute(sa.select(sa.func.max(st.snapshots.c.id))).scalar()
        prev = conn.execute(sa.select(st.audit.c.hash).order_by(st.audit.c.id.desc()).limit(1)).scalar() or GENESIS
        for path in paths:
            path = Path(path)
            sha, size = file_digest(path)
            entry = {"at": st.now(), "kind": kind, "name": path.name, "sha256": sha, "size": size,
                     "recipients": "; ".join(recipients) or None, "snapshot_id": snapshot, "detail": detail}
            entry["prev_hash"], entry["hash"] = prev, _entry_hash(prev, entry)
            ids.append(conn.execute(st.audit.insert().values(**entry)).inserted_primary_key[0])
            prev = entry["hash"]
    return ids


@dataclass
class LogEntry:
    id: int
    at: str
    kind: str
    name: str
    sha256: str
    size: int
    recipients: str | None
    snapshot_id: int | None
    detail: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at, "kind": self.kind, "name": self.name, "sha256": self.sha256,
                "size": self.size, "recipients": self.recipients, "snapshot": self.snapshot_id,
                "detail": self.detail}


@dataclass
class ChainCheck:
    entries: list[LogEntry]
    broken_at: int | None  # the first entry whose hash or link does not hold

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def read_log(conn: sa.Connection) -> ChainCheck:
    prev, broken = GENESIS, None
    entries = []
    for row in conn.execute(sa.select(st.audit).order_by(st.audit.c.id)).mappings():
        entry = dict(row)
        if broken is None and (entry["prev_hash"] != prev or _entry_hash(prev, entry) != entry["hash"]):
            broken = entry["id"]
        prev = entry["hash"]
        entries.append(LogEntry(**{k: entry[k] for k in ("id", "at", "kind", "name", "sha256", "size", "recipients",
                                                          "snapshot_id", "detail")}))
    return ChainCheck(entries, broken)


@dataclass
class VerifyResult:
    file: str
    sha256: str
    sent: list[LogEntry] = field(default_factory=list)  # entries whose file is byte-identical
    same_name: list[LogEntry] = field(default_factory=list)  # entries of the same name but other content
    chain_intact: bool = True
    broken_at: int | None = None

    @property
    def exit_code(self) -> int:
        return 0 if self.sent and self.chain_intact else 1

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "sha256": self.sha256, "sent": [e.to_dict() for e in self.sent],
                "same_name_other_content": [e.to_dict() for e in self.same_name],
                "log_intact": self.chain_intact, "log_broken_at": self.broken_at}

    def summary(self) -> str:
        lines = []
        if self.sent:
            for e in self.sent:
                to = f"，发给 {e.recipients}" if e.recipients else ""
                lines.append(f"这个文件与 {e.at[:10]} {e.at[11:16]} 发出的{KIND_LABELS.get(e.kind, e.kind)}"
                             f"「{e.name}」完全一致{to}（记录第 {e.id} 条）。")
        elif self.same_name:
            e = self.same_name[-1]
            lines.append(f"这个文件不是发出时的样子：同名文件「{e.name}」于 {e.at[:10]} {e.at[11:16]} 发出，"
                         "但内容不同，说明发出后被改动过（或不是同一份）。")
        else:
            lines.append("发出记录里没有这个文件：它不是本办从这个历史库发出的文件，或发出后被改动过。")
        if not self.chain_intact:
            lines.append(f"注意：发出记录从第 {self.broken_at} 条起被改动或删除过，记录本身已不可信，请报告负责同志。")
        return "\n".join(lines)


def verify(s: st.Store, path: Path) -> VerifyResult:
    sha, _ = file_digest(path)
    with s.reading() as conn:
        chain = read_log(conn)
    return VerifyResult(file=str(path), sha256=sha, sent=[e for e in chain.entries if e.sha256 == sha],
                        same_name=[e for e in chain.entries if e.name == path.name and e.sha256 != sha],
                        chain_intact=chain.intact, broken_at=chain.broken_at)
