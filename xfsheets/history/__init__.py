"""The office's memory: snapshots of the ledgers, the events between them, and a log of what left.

- ``store``: where the history lives (one SQLite file beside the ledgers, or a PostgreSQL server), its
  schema and migrations, and one writer at a time.
- ``matching``: which row of today's ledgers is which matter already known (never by Excel row number).
- ``events``: the kinds of change a clerk is told about, and how two versions of a matter differ.
- ``record``: read ledgers -> match -> store new versions and events (``xfsheets history record``).
- ``queries``: what changed since a date or the last report, one matter's history, one person's matters.
- ``audit``: the hash-chained log of every report, 零报告, slip batch and mail that left the office.
"""
