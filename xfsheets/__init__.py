"""xfsheets: Python behind petition-office (信访) Excel ledgers.

The public API (imported lazily, so that ``xfsheets --help`` starts fast)::

    import xfsheets
    ledger = xfsheets.read_ledger("台账.xlsx")      # -> Ledger (frame, raw, sources)
    report = xfsheets.check(ledger)                 # -> Report (.valid, .findings)
    result = xfsheets.compute_deadlines(ledger)     # -> DataFrame (stage, due_on, flag, explain)
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    "read_ledger": "xfsheets.reader",
    "read_ledgers": "xfsheets.reader",
    "ledger_from_rows": "xfsheets.reader",
    "Ledger": "xfsheets.ledger",
    "Source": "xfsheets.ledger",
    "Profile": "xfsheets.schema",
    "load_profile": "xfsheets.schema",
    "XfsheetsError": "xfsheets.errors",
    "inspect_ledgers": "xfsheets.inspection",
    "check": "xfsheets.checks",
    "Report": "xfsheets.checks",
    "Finding": "xfsheets.checks",
    "compute_deadlines": "xfsheets.deadlines",
    "WorkCalendar": "xfsheets.workdays",
    "load_policy": "xfsheets.policy",
    "Policy": "xfsheets.policy",
    "deadline_report": "xfsheets.deadlines",
    "generate_slips": "xfsheets.slips",
    "consolidate": "xfsheets.consolidation",
    "write_consolidated": "xfsheets.consolidation",
    "ImportReport": "xfsheets.consolidation",
    "Table": "xfsheets.writer",
    "write_tables": "xfsheets.writer",
    "Summary": "xfsheets.summary",
    "compute_summary": "xfsheets.summary",
    "build_report": "xfsheets.report",
    "write_report": "xfsheets.report",
    "build_zero_reports": "xfsheets.zero_report",
    "build_message": "xfsheets.mail",
    "send_message": "xfsheets.mail",
    "write_eml": "xfsheets.mail",
    "mask_frame": "xfsheets.privacy",
    "mask_workbook": "xfsheets.privacy",
    "install": "xfsheets.xlsm",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'xfsheets' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
