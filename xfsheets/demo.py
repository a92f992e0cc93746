"""`xfsheets demo`: every capability, run on the bundled sample ledgers.

The samples (xfsheets/samples/, made by ``python -m xfsheets.sample``) are a county
ledger with typical clerk mistakes and three units' ledgers in their own layouts. The
as-of date is pinned to the samples' date so that the outputs are the same every run.
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Callable

SAMPLES_AS_OF = dt.date(2026, 11, 25)
COUNTY = "县信访局台账.xlsx"


def sample_paths(folder: Path) -> list[Path]:
    """Copy the bundled samples into ``folder`` (the originals stay untouched)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for item in sorted(resources.files("xfsheets").joinpath("samples").iterdir(), key=lambda p: p.name):
        if item.name.endswith(".xlsx"):
            target = folder / item.name
            target.write_bytes(item.read_bytes())
            out.append(target)
    return out


def run_demo(out: str | Path, echo: Callable[[str], None] = print) -> dict[str, list[str]]:
    """Run every step; returns {step: [files written]}."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    samples = sample_paths(out / "samples")
    county = out / "samples" / COUNTY
    written: dict[str, list[str]] = {}

    def step(name: str, fn: Callable[[], list[Path]]) -> None:
        echo(f"▶ {name}")
        files = [str(p) for p in fn()]
        written[name] = files
        for f in files:
            echo(f"    {f}")

    step("识别台账 inspect", lambda: _inspect(samples, out))
    step("合并各单位台账 consolidate", lambda: _consolidate(samples, out))
    return written


def _inspect(samples: list[Path], out: Path) -> list[Path]:
    from xfsheets.inspect import inspect_ledgers

    result = inspect_ledgers(samples)
    path = out / "inspect.json"
    path.write_text(json.dumps(result.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    return [path]


def _consolidate(samples: list[Path], out: Path) -> list[Path]:
    from xfsheets.consolidate import consolidate, write_consolidated

    ledger, report = consolidate(samples, jobs=1)
    path = write_consolidated(ledger, report, out / "汇总台账.xlsx")
    (out / "consolidate.json").write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str),
                                          encoding="utf-8")
    return [path, out / "consolidate.json"]
