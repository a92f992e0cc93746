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


DEMO_MARK = ".xfsheets-demo"


def _clear_demo_folder(out: Path) -> None:
    """Empty ``out`` only if an earlier demo made it: never a folder of the user's own files."""
    from xfsheets.outputs import OutputRefused

    if not out.exists():
        return
    if not out.is_dir():
        raise OutputRefused(f"「{out}」是一个已有的文件，不是文件夹", hint="请另写一个文件夹名，如 demo-output")
    if any(out.iterdir()) and not (out / DEMO_MARK).exists():
        raise OutputRefused(f"文件夹「{out}」已有文件，且不是 xfsheets 演示生成的，为防止删除您的文件，未运行",
                            hint="请另写一个不存在的文件夹名，如 xfsheets demo 演示结果")
    shutil.rmtree(out)


def run_demo(out: str | Path, echo: Callable[[str], None] = print) -> dict[str, list[str]]:
    """Run every step; returns {step: [files written]}."""
    out = Path(out)
    _clear_demo_folder(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / DEMO_MARK).write_text("xfsheets demo\n", encoding="utf-8")
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
    step("检查台账 check", lambda: _check(county, out))
    step("时限预警 deadlines", lambda: _deadlines(county, out))
    step("交办单与督办单 slips", lambda: _slips(county, out))
    step("合并各单位台账 consolidate", lambda: _consolidate(samples, out))
    step("本办的历史记录 history（两次记录之间的变化、发出记录）", lambda: _history(samples, out))
    step("汇总报表与零报告 report", lambda: _report(samples, out))
    step("报送邮件 mail（写成 .eml 草稿，个人信息已脱敏）", lambda: _mail(out))
    step("Excel 按钮 excel install", lambda: _excel(county, out))
    return written


def _inspect(samples: list[Path], out: Path) -> list[Path]:
    from xfsheets.inspection import inspect_ledgers

    result = inspect_ledgers(samples)
    path = out / "inspect.json"
    path.write_text(json.dumps(result.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    return [path]


def _consolidate(samples: list[Path], out: Path) -> list[Path]:
    from xfsheets.consolidation import consolidate, write_consolidated

    ledger, report = consolidate(samples, jobs=1)
    path = write_consolidated(ledger, report, out / "汇总台账.xlsx")
    (out / "consolidate.json").write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str),
                                          encoding="utf-8")
    return [path, out / "consolidate.json"]


def _check(county: Path, out: Path) -> list[Path]:
    from xfsheets.checks import annotate, check
    from xfsheets.reader import read_ledger

    ledger = read_ledger(county)
    report = check(ledger)
    path = annotate(ledger, report, out / "县信访局台账_检查标注.xlsx")
    (out / "check.json").write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    return [path, out / "check.json"]


def _deadlines(county: Path, out: Path) -> list[Path]:
    from xfsheets.deadlines import annotate, compute_deadlines
    from xfsheets.reader import read_ledger

    ledger = read_ledger(county)
    result = compute_deadlines(ledger, as_of=SAMPLES_AS_OF)
    path = annotate(ledger, result, out / "县信访局台账_时限预警.xlsx")
    counts = result["flag_label"].value_counts().to_dict()
    (out / "deadlines.json").write_text(json.dumps({"as_of": SAMPLES_AS_OF.isoformat(), "counts": counts},
                                                   ensure_ascii=False, indent=2), encoding="utf-8")
    return [path, out / "deadlines.json"]


def _slips(county: Path, out: Path) -> list[Path]:
    from xfsheets.reader import read_ledger
    from xfsheets.slips import generate_slips

    ledger = read_ledger(county)
    kw = dict(as_of=SAMPLES_AS_OF, signer="王某某", contact="张某 0773-1234567", issuing_unit="XX县信访局")
    a = generate_slips(ledger, out / "交办单", **kw)
    b = generate_slips(ledger, out / "督办单", overdue_only=True, **kw)
    return [*a.files, *b.files] + [p for p in (a.skipped_file, b.skipped_file) if p]


def _history(samples: list[Path], out: Path) -> list[Path]:
    """Two snapshots of the samples a week apart in the store beside them, and what changed between them (the
    report that follows is logged in the same store, and carries the 本期变化 sheet)."""
    from xfsheets.history import queries, record, store
    from xfsheets.writer import Table, write_tables

    target = str(out / "samples" / store.STORE_NAME)
    for day in (SAMPLES_AS_OF - dt.timedelta(days=7), SAMPLES_AS_OF):
        record.record(samples, store=target, as_of=day)
    s = store.open_store(target)
    try:
        changes = queries.changes(s)
    finally:
        s.engine.dispose()
    table = write_tables(out / "本期变化.xlsx", [Table("本期变化", changes.frame())])
    (out / "changes.json").write_text(json.dumps(changes.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    return [Path(target), table, out / "changes.json"]


def _report(samples: list[Path], out: Path) -> list[Path]:
    from xfsheets.reader import read_ledgers
    from xfsheets.report import build_report
    from xfsheets.zero_report import build_zero_reports

    from xfsheets.history.hooks import log_sent, report_changes

    ledger = read_ledgers(samples)
    path, summary = build_report(ledger, out / "信访工作月报_2026年11月.xlsx", date_from=dt.date(2026, 11, 1),
                                 date_to=SAMPLES_AS_OF, as_of=SAMPLES_AS_OF, changes=report_changes(None, samples))
    log_sent("report", [path], ledgers=samples)
    # The day of the latest collective visit in the samples: one unit reports it, the others report zero.
    from xfsheets.policy import default_policy
    from xfsheets.summary import collective_mask

    collective = ledger.frame.loc[collective_mask(ledger.frame, default_policy()), "received_on"]
    day = collective.max().date() if collective.notna().any() else SAMPLES_AS_OF
    zeros = build_zero_reports(ledger, out / "零报告", as_of=day, reporter="王某", signer="李某")
    return [path, *[z.path for z in zeros], *([zeros.blocked_path] if zeros.blocked_path else [])]


def _mail(out: Path) -> list[Path]:
    from xfsheets.mail import build_message, write_eml

    msg = build_message(out / "信访工作月报_2026年11月.xlsx", to=["shixfj@example.gov.cn"],
                        sender="xfj@example.gov.cn")
    return [write_eml(msg, out / "报送邮件.eml")]


def _excel(county: Path, out: Path) -> list[Path]:
    from xfsheets.xlsm import install

    return [install(county, out / "县信访局台账_带按钮.xlsm")]
