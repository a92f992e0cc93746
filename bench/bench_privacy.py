"""Masking personal data (issue 7): a ledger frame, a ledger workbook, building the email."""
from __future__ import annotations

from pathlib import Path

from common import OUT, ledger_file, measure, row

REPORT = Path(__file__).resolve().parents[1] / "tests" / "data" / "privacy" / "汇总报表_含个人信息.xlsx"


def _frame(rows: int):
    from xfsheets.reader import read_ledger

    return read_ledger(ledger_file(rows)).frame


def _mask_frame(frame):
    from xfsheets.privacy import mask_frame

    return int(mask_frame(frame)["phone"].str.contains(r"\*", regex=True).sum())


def _per_cell_loop(frame):
    """Baseline: the obvious per-cell Python loop over every text cell."""
    from xfsheets.privacy import mask_value, personal_field_of

    out = frame.copy()
    for col in out.columns:
        field = personal_field_of(col)
        out[col] = [mask_value(v, field) for v in out[col].astype(object)]
    return len(out)


def _mask_workbook(path, out):
    from xfsheets.privacy import mask_workbook

    return mask_workbook(path, out)["cells"]


def _openpyxl_round_trip(path, out):
    """Baseline: openpyxl load + save with no masking (the floor for mask_workbook)."""
    import openpyxl

    openpyxl.load_workbook(path).save(out)
    return 0


def _find(path):
    from xfsheets.privacy import find_personal_data

    return len(find_personal_data(path))


def _build_message(path):
    from xfsheets.mail import build_message

    return len(build_message(path, to=["a@example.gov.cn"]).as_bytes())


def run(quick: bool = False) -> list[dict]:
    frame_rows = 2_000 if quick else 100_000
    book_rows = 1_000 if quick else 20_000
    label = "quick" if quick else "full"
    out: list[dict] = []

    frame = _frame(frame_rows)
    seconds, peak, n = measure(lambda: _mask_frame(frame))
    out.append(row("mask_frame", f"{frame_rows:,} rows x {frame.shape[1]} cols", seconds, frame_rows, peak,
                   f"{n:,} phones masked; columns by name + one regex pass per text column"))
    seconds, peak, _ = measure(lambda: _per_cell_loop(frame))
    out.append(row("mask_frame", f"baseline per-cell loop, {frame_rows:,} rows", seconds, frame_rows, peak,
                   "mask_value on every cell"))

    src = ledger_file(book_rows)
    OUT.mkdir(exist_ok=True)
    dst = OUT / f"masked_{label}.xlsx"
    seconds, peak, cells = measure(lambda: _mask_workbook(src, dst))
    out.append(row("mask_workbook", f"ledger {book_rows:,} rows", seconds, book_rows, peak,
                   f"{cells:,} cells masked, openpyxl round trip"))
    seconds, peak, _ = measure(lambda: _openpyxl_round_trip(src, OUT / f"roundtrip_{label}.xlsx"))
    out.append(row("mask_workbook", f"baseline openpyxl load+save {book_rows:,} rows", seconds, book_rows, peak,
                   "no masking"))
    seconds, peak, hits = measure(lambda: _find(dst))
    out.append(row("find_personal_data", f"masked ledger {book_rows:,} rows", seconds, book_rows, peak,
                   f"{hits} hits (0 expected)"))
    if REPORT.exists():
        seconds, peak, size = measure(lambda: _build_message(REPORT))
        out.append(row("build_message", "fixture report (masked copy + body)", seconds, None, peak,
                       f"{size:,} bytes"))
    return out
