"""What the other commands ask of the history: record as they run (``--record``), and log what left.

Logging never makes a store: a report, 零报告, slip batch or mail is logged in the store the command was
given (``--store``) or the one already beside its ledgers or in the current folder. A failure to log is
said, never hidden, and never undoes the output that was already written.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Iterable

from xfsheets.history import audit, record as recorder, store as st


def configured_store(store: str | None) -> str | None:
    """The store named on the command line, else the one the clerk's xfsheets.toml names ([history] store)."""
    if store:
        return store
    from xfsheets.settings import load_config

    return load_config().history_store


def existing_store(store: str | None, ledgers: Iterable[str | Path] = ()) -> str | None:
    """The store named (option or settings), else the one beside the ledgers or in the current folder, else None."""
    store = configured_store(store)
    if store:
        return store
    try:
        return st.locate(None, [Path(p) for p in ledgers])
    except st.HistoryStoreError:
        return None


def record_run(ledgers: list[Path], *, store: str | None, as_of: dt.date | None, policy: Any,
               ledger: Any) -> recorder.RecordResult:
    """A snapshot of the ledgers a command has just read (``ledger``: as it read them, not read again)."""
    return recorder.record(ledgers, store=configured_store(store), as_of=as_of, policy=policy, note="随命令记录",
                           ledger=ledger)


def log_sent(kind: str, paths: Iterable[str | Path], *, ledgers: Iterable[str | Path] = (), store: str | None = None,
             recipients: Iterable[str] = (), detail: str | None = None) -> str | None:
    """Log the files that left in the history's audit chain; returns a sentence for the clerk, or None when
    there is no store to log to."""
    target = existing_store(store, ledgers)
    paths = [Path(p) for p in paths if Path(p).is_file()]
    if target is None or not paths:
        return None
    s = st.open_store(target)
    try:
        ids = audit.log_outputs(s, kind, paths, recipients=list(recipients), detail=detail)
    finally:
        s.engine.dispose()
    return f"已记入发出记录（第 {ids[0]}–{ids[-1]} 条）" if len(ids) > 1 else f"已记入发出记录（第 {ids[0]} 条）"


def report_changes(store: str | None, ledgers: Iterable[str | Path] = ()) -> Any:
    """What changed since the last upward report (or, before the first, since the last record), for the
    report's 本期变化 sheet and sentence; None when there is no store or nothing recorded to compare."""
    from xfsheets.history import queries

    target = existing_store(store, ledgers)
    if target is None:
        return None
    s = st.open_store(target)
    try:
        try:
            return queries.changes(s, queries.SINCE_LAST_REPORT)
        except st.HistoryStoreError:
            try:
                return queries.changes(s)
            except st.HistoryStoreError:
                return None
    finally:
        s.engine.dispose()
