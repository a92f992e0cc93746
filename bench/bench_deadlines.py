"""Deadlines for 1,000,000 matters (after reading) vs a naive per-row implementation (issue 4)."""
from __future__ import annotations

import datetime as dt

import numpy as np

from common import measure, row

AS_OF = dt.date(2026, 11, 25)


def matters(n: int, seed: int = 1):
    import pandas as pd

    from xfsheets.schema import DATE_FIELDS, FIELD_NAMES

    rng = np.random.default_rng(seed)
    received = np.datetime64("2025-01-01") + rng.integers(0, 680, n).astype("timedelta64[D]")
    assigned = received + rng.integers(0, 9, n).astype("timedelta64[D]")
    accepted = assigned + rng.integers(1, 10, n).astype("timedelta64[D]")
    stage = rng.integers(0, 3, n)  # 0 register only, 1 assigned, 2 accepted
    closed = accepted + rng.integers(5, 80, n).astype("timedelta64[D]")
    is_closed = (stage == 2) & (closed <= np.datetime64(AS_OF)) & (rng.random(n) < 0.8)
    nat = np.datetime64("NaT")
    data = {k: pd.Series([None] * n, dtype=object) for k in FIELD_NAMES if k not in DATE_FIELDS}
    for k in DATE_FIELDS:
        data[k] = pd.Series(np.full(n, nat, dtype="datetime64[ns]"))
    data["received_on"] = pd.Series(received.astype("datetime64[ns]"))
    data["assigned_on"] = pd.Series(np.where(stage >= 1, assigned, nat).astype("datetime64[ns]"))
    data["accepted_on"] = pd.Series(np.where(stage == 2, accepted, nat).astype("datetime64[ns]"))
    data["closed_on"] = pd.Series(np.where(is_closed, closed, nat).astype("datetime64[ns]"))
    data["status"] = pd.Series(np.where(is_closed, "已办结", "办理中").astype(object))
    data["extension_days"] = pd.array(np.zeros(n, dtype="int64"), dtype="Int64")
    return pd.DataFrame(data)


def naive(frame) -> list:
    """The obvious per-row loop on chinese-calendar's own functions."""
    import chinese_calendar

    out = []
    for received, assigned, accepted in zip(frame["received_on"], frame["assigned_on"], frame["accepted_on"]):
        if accepted == accepted and accepted is not None and str(accepted) != "NaT":
            start, days = accepted.date(), 60
        elif str(assigned) != "NaT":
            start, days = assigned.date(), 15
        else:
            start, days = received.date(), 15
        end = start + dt.timedelta(days=days)
        try:
            while not chinese_calendar.is_workday(end):
                end += dt.timedelta(days=1)
        except NotImplementedError:
            end = None
        out.append(end)
    return out


def run(quick: bool = False) -> list[dict]:
    from xfsheets.deadlines import compute_deadlines, default_calendar

    n = 20_000 if quick else 1_000_000
    naive_n = 1_000 if quick else 10_000
    frame = matters(n)
    small = frame.head(naive_n)
    default_calendar()  # built once per process (~0.1 s), as in any real run
    compute_deadlines(small, as_of=AS_OF)  # warm the per-day lookup tables
    out = []
    seconds, peak, _ = measure(lambda: len(compute_deadlines(frame, as_of=AS_OF)))
    out.append(row(f"deadlines {n:,}", "xfsheets compute_deadlines (vectorised, with explanations)", seconds, n, peak))
    seconds, peak, _ = measure(lambda: len(naive(small)))
    out.append(row(f"deadlines {naive_n:,}", "naive per-row loop (chinese_calendar.is_workday)", seconds, naive_n, peak,
                   f"extrapolated to {n:,}: {seconds * n / naive_n:.0f} s"))
    return out
