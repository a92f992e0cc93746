"""What was sent: one row per matter, stage, due day and rung (``reminders`` in the history store's schema).

The history store is used when there is one (``--store``, the clerk's settings, or beside the ledgers); else a
small SQLite file beside the first ledger holds the same table. A row is written only after the mail server
accepted the message (or the .eml file was written), each in its own transaction; one run at a time (the
store's writer lock), so two runs at once never send the same reminder twice.
"""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

import sqlalchemy as sa

from xfsheets.history import store as st

LOG_NAME = "信访提醒发送记录_请勿删除.sqlite"  # the name tells a clerk what it is and not to delete it
Key = tuple[str, str, str, str]  # matter, stage, due day (ISO), rung


class SentLog:
    def __init__(self, target: str, *, history: bool) -> None:
        self.target = target
        self.history = history
        self._store: st.Store | None = None

    @classmethod
    def locate(cls, store: str | None, beside: Iterable[str | Path]) -> "SentLog":
        from xfsheets.history.hooks import existing_store

        beside = [Path(p) for p in beside]
        found = existing_store(store, beside)
        if found:
            return cls(found, history=True)
        folder = beside[0].resolve().parent if beside else Path.cwd()
        return cls(str(folder / LOG_NAME), history=False)

    @property
    def shown(self) -> str:
        return st.shown(self.target)

    def _open(self, create: bool) -> st.Store | None:
        if self._store is not None:
            return self._store
        if self.history:
            self._store = st.open_store(self.target)
        else:
            path = Path(self.target)
            if not path.exists() and not create:
                return None
            engine = sa.create_engine(sa.URL.create("sqlite", database=str(path)), connect_args={"timeout": 5})
            self._store = st.Store(engine=engine, target=str(path), key=b"", is_sqlite=True)
        try:
            st.reminders.create(self._store.engine, checkfirst=True)
        except sa.exc.DatabaseError as exc:
            raise st._operational(exc, self.target) from exc
        return self._store

    def sent(self) -> set[Key]:
        store = self._open(create=False)
        if store is None:
            return set()
        t = st.reminders
        with store.reading() as conn:
            return {tuple(r) for r in conn.execute(sa.select(t.c.matter, t.c.stage, t.c.due_on, t.c.rung))}

    @contextmanager
    def sending(self) -> Iterator["SentLog"]:
        """One run sends at a time (the store's writer lock on a file; PostgreSQL relies on the unique key)."""
        store = self._open(create=True)
        with store._writer_lock():
            yield self

    def mark(self, keys: Iterable[Key], *, unit: str, at: dt.datetime, recipients: list[str], channel: str) -> None:
        store = self._open(create=True)
        rows = [{"matter": m, "stage": s, "due_on": d, "rung": r, "unit": unit, "sent_at": at.isoformat(timespec="minutes"),
                 "recipients": "、".join(recipients), "channel": channel} for m, s, d, r in keys]
        if not rows:
            return
        try:
            with store.engine.begin() as conn:
                conn.execute(st.reminders.insert(), rows)
        except sa.exc.DatabaseError as exc:
            raise st._operational(exc, self.target) from exc

    def close(self) -> None:
        if self._store is not None:
            self._store.engine.dispose()
            self._store = None
