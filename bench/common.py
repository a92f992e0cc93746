"""Shared benchmark helpers: cached generated inputs and measuring."""
from __future__ import annotations

import time
import multiprocessing
from pathlib import Path
from typing import Any, Callable

OUT = Path(__file__).resolve().parent / "out"


def ledger_file(rows: int = 100_000, *, seed: int = 7, header_variant: int = 0) -> Path:
    """A generated ledger of ``rows`` x 26 columns, cached in bench/out/ (gitignored)."""
    from xfsheets.sample import write_sample_ledger

    OUT.mkdir(exist_ok=True)
    path = OUT / f"ledger_{rows}_{seed}_{header_variant}.xlsx"
    if not path.exists():
        write_sample_ledger(path, rows, seed=seed, header_variant=header_variant, defects=0.01)
    return path


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _child(fn: Callable[[], Any], conn: Any) -> None:
    import resource

    base = _rss_mb()
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base
    conn.send((seconds, peak, result))
    conn.close()


def measure(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(seconds, peak MiB of resident memory added by the call, result) of one call.

    The call runs in a forked child so that its peak memory is its own and one case
    does not warm caches for the next; ``result`` must be picklable (keep it small).
    """
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(fn, child))
    proc.start()
    child.close()
    seconds, peak, result = parent.recv()
    proc.join()
    return seconds, max(peak, 0.0), result


def row(benchmark: str, case: str, seconds: float, rows: int | None = None, peak_mb: float | None = None,
        note: str = "") -> dict[str, Any]:
    return {"benchmark": benchmark, "case": case, "seconds": seconds,
            "rows_per_s": (rows / seconds) if rows and seconds else None, "peak_mb": peak_mb, "note": note}
