"""Consolidating many units' ledgers into one, losing nothing.

map: read one file (xfsheets.reader.read_ledger), in a process pool;
reduce: concatenate, flag duplicates (never remove them), account for every file.
One bad file never stops the batch: it is listed with its reason.

The same map/reduce runs on Dask when a province outgrows one machine (see README):
``dask.bag.from_sequence(files).map(read_one)`` then the same ``reduce_results``.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field as dc_field
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd

from xfsheets.errors import XfsheetsError
from xfsheets.ledger import PROVENANCE, Ledger
from xfsheets.reader import SUFFIXES, empty_ledger, read_ledger
from xfsheets.schema import FIELD_NAMES, LABELS, Profile

# A file's status is a stable code (DESIGN.md); the Chinese word is for the 导入情况 sheet.
STATUS_OK = "read"
STATUS_EMPTY = "empty"
STATUS_FAILED = "failed"
STATUS_WORDS = {STATUS_OK: "已读取", STATUS_EMPTY: "空台账", STATUS_FAILED: "读取失败"}
PROVENANCE_LABELS = {"_file": "来源文件", "_sheet": "来源工作表", "_row": "来源行号"}


@dataclass
class FileResult:
    file: str
    sheet: str | None = None
    rows: int = 0
    status: str = STATUS_OK
    error: dict[str, Any] | None = None  # {"code", "message", "file", "sheet", "row", "column"}
    skipped: int = 0  # blank / 合计 / footer rows not read as data

    @property
    def message(self) -> str | None:
        """The error in Chinese (None when the file was read)."""
        return self.error["message"] if self.error else None

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "sheet": self.sheet, "rows": self.rows, "status": self.status,
                "error": self.error, "skipped": self.skipped}


@dataclass
class ImportReport:
    files: list[FileResult] = dc_field(default_factory=list)
    ignored: list[tuple[str, str]] = dc_field(default_factory=list)  # (path, why): lock files, hidden
    rows_in: int = 0
    rows_out: int = 0
    duplicates: pd.DataFrame = dc_field(default_factory=pd.DataFrame)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == STATUS_FAILED]

    @property
    def exit_code(self) -> int:
        """0 all read, 1 some failed, 2 nothing could be read."""
        if not self.files or len(self.failed) == len(self.files):
            return 2
        return 1 if self.failed else 0

    def to_dict(self) -> dict[str, Any]:
        dups = self.duplicates
        return {
            "files": [f.to_dict() for f in self.files],
            "ignored": [{"file": p, "reason": r} for p, r in self.ignored],
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "duplicates": [] if dups.empty else [
                {"kind": r["重复类型"], "key": r["重复键"], "group": int(r["组号"]), "file": r["来源文件"],
                 "sheet": r["来源工作表"], "row": int(r["来源行号"]), "case_id": r["信访件编号"]}
                for r in dups.to_dict("records")],
        }


# --- map ----------------------------------------------------------------------------

def discover(inputs: Iterable[str | Path], exclude: Iterable[str | Path] = ()
             ) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files to read (folders searched recursively) and files deliberately passed over.

    Every file under an input folder is one or the other, with the reason: nothing is
    dropped without a line. ``exclude``: files never read as input (the consolidation's
    own output, which may sit in the folder being consolidated); earlier outputs of
    xfsheets are recognised by their document-property stamp, not by name.
    """
    files: list[Path] = []
    ignored: list[tuple[str, str]] = []
    excluded = {Path(p).resolve() for p in exclude}
    for item in inputs:
        path = Path(item)
        if not path.exists():
            raise XfsheetsError("找不到文件或文件夹", file=path, hint="请检查路径是否正确")
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for p in candidates:
            why = _ignore_reason(p, root=path if path.is_dir() else None)
            if not why and p.resolve() in excluded:
                why = "本次合并的输出文件，不作为输入读取"
            if why:
                ignored.append((str(p), why))
            else:
                files.append(p)
    seen: set[Path] = set()
    unique = []
    for p in files:  # the same file named twice (a file and its folder) is read once
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique, ignored


_BACKUP_SUFFIXES = (".bak", ".tmp", ".old", ".wbk", ".xlk", ".asd")


def _ignore_reason(path: Path, root: Path | None) -> str | None:
    from xfsheets.outputs import is_xfsheets_output

    if path.name.startswith("~$"):
        return "Excel 临时锁定文件（~$ 开头），不是台账"
    parts = path.relative_to(root).parts if root else (path.name,)
    if any(part.startswith(".") for part in parts):
        return "隐藏文件"
    suffix = path.suffix.lower()
    if suffix in _BACKUP_SUFFIXES or path.name.lower().endswith(tuple(s + ".xlsx" for s in _BACKUP_SUFFIXES)):
        return f"备份或临时文件（{path.suffix}），不作为台账读取；如确是台账，请改成 .xlsx 后再合并"
    if suffix not in SUFFIXES:
        if root is None:
            return None  # named explicitly: the reader says what is wrong with it
        return f"不是表格文件（{path.suffix or '无扩展名'}），未读取"
    if is_xfsheets_output(path):
        return "xfsheets 以前生成的文件（如汇总台账、检查标注），不作为输入读取，以免重复计数"
    return None


def read_one(path: str | Path, sheet: str | None = None, profile: Profile | None = None,
             password: str | None = None) -> tuple[FileResult, Ledger | None]:
    """The map step: one file -> (its result line, its Ledger or None)."""
    try:
        ledger = read_ledger(path, sheet=sheet, profile=profile, password=password)
    except XfsheetsError as exc:
        error = exc.to_dict()
        error["file"] = error["file"] or str(path)
        return FileResult(file=str(path), status=STATUS_FAILED, error=error), None
    except MemoryError:
        return _failed(path, "读取时内存不足（文件过大或结构异常）", "请把文件拆分成几个较小的文件，或另存为 .xlsx 后重新合并",
                       "out_of_memory"), None
    except Exception as exc:  # an unexpected reader failure must not stop the batch
        return _failed(path, f"读取时发生意外错误（{type(exc).__name__}: {exc}）", "请用 Excel/WPS 打开该文件另存为 .xlsx 后重新合并",
                       "internal_error"), None
    src = ledger.sources[0]
    status = STATUS_OK if len(ledger) else STATUS_EMPTY
    return FileResult(file=str(path), sheet=src.sheet, rows=len(ledger), status=status,
                      skipped=len(src.skipped)), ledger


def _failed(path: str | Path, what: str, fix: str, code: str = "internal_error") -> FileResult:
    return FileResult(file=str(path), status=STATUS_FAILED,
                      error={"code": code, "message": f"文件「{path}」：{what}。{fix}", "file": str(path), "sheet": None,
                             "row": None, "column": None})


def _read_one_star(args: tuple) -> tuple[FileResult, Ledger | None]:
    """read_one in a worker: whatever happens, the answer is plain data the parent can unpickle
    (a Rust panic or another BaseException raised here would break the pool)."""
    try:
        return read_one(*args)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        return _failed(args[0], f"读取时发生意外错误（{type(exc).__name__}: {str(exc)[:200]}）",
                       "请用 Excel/WPS 打开该文件另存为 .xlsx 后重新合并"), None


# --- the process pool: a worker that dies costs only its own file -----------------------------

def _worker_init(budget: int | None) -> None:
    """Give this worker an address-space limit, so one bomb cannot take the machine (POSIX).

    Its stderr goes nowhere: what a worker has to say comes back as data (FileResult), and
    a dying reader's last words (a Rust abort message, a crash dump) are not for the user.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        pass
    if not budget:
        return
    try:
        import resource

        with open("/proc/self/statm") as fh:  # what the (forked) worker already maps
            mapped = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = mapped + budget
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, OSError, ValueError):
        pass  # Windows, or no /proc: no limit


def _death(path: str, exitcode: int | None) -> FileResult:
    """The result line of a file whose reading process died."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"信号 {-exitcode}"
        why = {"SIGABRT": "读取程序异常中止，多为内存不足或文件结构异常", "SIGKILL": "读取进程被系统终止，多为内存不足",
               "SIGSEGV": "读取程序崩溃"}.get(name, f"读取进程被 {name} 终止")
    else:
        why = f"读取进程意外退出（退出码 {exitcode}）"
    return _failed(path, f"读取该文件时{why}，未能读取",
                   "请用 Excel/WPS 打开该文件确认内容，另存为 .xlsx 后重新合并；文件很大时请拆分后再合并", "reader_crashed")


def _isolated_child(conn: Any, args: tuple, budget: int | None) -> None:
    _worker_init(budget)
    result = _read_one_star(args)
    try:
        conn.send(result)
    except Exception as exc:  # a result that cannot be pickled
        conn.send((_failed(args[0], f"读取结果无法传回（{type(exc).__name__}）", "请另存为 .xlsx 后重新合并"), None))
    conn.close()


def _read_isolated(args: tuple, budget: int | None) -> tuple[FileResult, Ledger | None]:
    """One file in a process of its own: if it dies, only this file is lost."""
    ctx = multiprocessing.get_context()
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_isolated_child, args=(child, args, budget), daemon=True)
    proc.start()
    child.close()
    try:
        result = parent.recv()
    except (EOFError, OSError):
        result = None
    except Exception as exc:  # the parent cannot unpickle what came back
        result = (_failed(args[0], f"读取结果无法传回（{type(exc).__name__}）", "请另存为 .xlsx 后重新合并"), None)
    finally:
        parent.close()
        proc.join()
    return result if result is not None else (_death(args[0], proc.exitcode), None)


def _read_in_pool(args: list[tuple], jobs: int, progress: Callable[[FileResult], None] | None
                  ) -> list[tuple[FileResult, Ledger | None]]:
    """Read ``args`` with ``jobs`` worker processes, results in input order.

    Each worker has an address-space limit. When a worker dies (a Rust abort, out of
    memory, killed), the pool breaks and every file in flight fails with it: those few are
    read again one per process (so only the culprit is lost, with its reason) and a fresh
    pool takes the rest. At most ``jobs`` files are in flight, so a crash never costs more
    than ``jobs`` re-reads.
    """
    from xfsheets.limits import worker_memory

    import python_calamine  # noqa: F401  (imported once here, before the fork, not once per worker)

    budget = worker_memory(jobs)
    results: list[tuple[FileResult, Ledger | None] | None] = [None] * len(args)
    reported = 0

    def report() -> None:  # progress in input order, as soon as a prefix is complete
        nonlocal reported
        while reported < len(results) and results[reported] is not None:
            if progress:
                progress(results[reported][0])
            reported += 1

    pending = list(range(len(args)))[::-1]  # a stack: pop() gives the next file in input order
    while pending:
        suspects: list[int] = []
        pool = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init, initargs=(budget,))
        inflight: dict[Future, int] = {}
        try:
            while pending or inflight:
                while pending and len(inflight) < jobs:
                    i = pending.pop()
                    inflight[pool.submit(_read_one_star, args[i])] = i
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in done:
                    i = inflight.pop(fut)
                    try:
                        results[i] = fut.result()
                    except BrokenProcessPool:
                        suspects.append(i)
                    except Exception as exc:  # e.g. a result that could not be pickled
                        results[i] = (_failed(args[i][0], f"读取结果无法传回（{type(exc).__name__}）",
                                              "请另存为 .xlsx 后重新合并"), None)
                report()
                if suspects:
                    suspects.extend(inflight.values())
                    inflight.clear()
                    break
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        for i in sorted(suspects):
            results[i] = _read_isolated(args[i], budget)
        report()
    return results  # type: ignore[return-value]


# --- reduce ---------------------------------------------------------------------------

def find_duplicates(ledger: Ledger) -> pd.DataFrame:
    """Rows that stand for the same matter in several files (flagged, never removed):
    the same case id, or the same identity number + category + received date
    (a matter transferred between units)."""
    frame = ledger.frame
    columns = ["重复类型", "重复键", "组号", "信访件编号", "信访人", "责任单位", "登记日期", "来源文件", "来源工作表", "来源行号"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    parts = []
    keyed = [
        ("同一信访件编号出现在多个文件", frame["case_id"].astype("string")),
        ("同一身份证号、问题类别、登记日期出现在多个文件（疑为转办件）",
         frame["id_number"].astype("string") + "｜" + frame["category"].astype("string") + "｜"
         + frame["received_on"].dt.strftime("%Y-%m-%d").astype("string")),
    ]
    for kind, key in keyed:
        ok = key.notna()
        if not ok.any():
            continue
        files_per_key = frame.loc[ok, "_file"].groupby(key[ok]).nunique()
        dup_keys = files_per_key[files_per_key > 1].index
        rows = ok & key.isin(dup_keys)
        if not rows.any():
            continue
        sub = frame[rows]
        parts.append(pd.DataFrame({
            "重复类型": kind,
            "重复键": key[rows].to_numpy(),
            "信访件编号": sub["case_id"].to_numpy(),
            "信访人": sub["petitioner"].to_numpy(),
            "责任单位": sub["unit"].to_numpy(),
            "登记日期": sub["received_on"].to_numpy(),
            "来源文件": sub["_file"].to_numpy(),
            "来源工作表": sub["_sheet"].to_numpy(),
            "来源行号": sub["_row"].to_numpy(),
        }))
    if not parts:
        return pd.DataFrame(columns=columns)
    dups = pd.concat(parts, ignore_index=True).sort_values(["重复类型", "重复键", "来源文件", "来源行号"], kind="stable")
    dups["组号"] = dups.groupby(["重复类型", "重复键"], sort=False).ngroup() + 1
    return dups[columns].reset_index(drop=True)


def reduce_results(results: list[tuple[FileResult, Ledger | None]], ignored: list[tuple[str, str]]
                   ) -> tuple[Ledger, ImportReport]:
    """Concatenate in input order, account for every row, flag duplicates."""
    ledgers = [ledger for _, ledger in results if ledger is not None]
    ledger = Ledger.concat(ledgers) if ledgers else empty_ledger()
    report = ImportReport(files=[r for r, _ in results], ignored=ignored)
    report.rows_in = sum(r.rows for r in report.files)
    report.rows_out = len(ledger)
    report.duplicates = find_duplicates(ledger)
    if report.rows_in != report.rows_out:  # cannot happen; guard the promise "nothing dropped"
        raise AssertionError(f"rows_in {report.rows_in} != rows_out {report.rows_out}")
    return ledger, report


def consolidate(paths: Iterable[str | Path], *, jobs: int | None = None, sheet: str | None = None,
                profile: Profile | None = None, password: str | None = None,
                progress: Callable[[FileResult], None] | None = None,
                started: Callable[[int], None] | None = None,
                exclude: Iterable[str | Path] = ()) -> tuple[Ledger, ImportReport]:
    """Read every ledger under ``paths`` (files or folders) into one Ledger.

    ``jobs`` processes read files in parallel (default: CPU count; 1 reads in this
    process). ``started`` is called once with the number of files found, ``progress``
    once per file as it finishes (in input order). ``exclude``: files never read (the
    output, when it is written into an input folder).
    """
    files, ignored = discover(paths, exclude)
    if started:
        started(len(files))
    jobs = max(1, jobs or os.cpu_count() or 1)
    args = [(str(p), sheet, profile, password) for p in files]
    results: list[tuple[FileResult, Ledger | None]] = []
    if jobs == 1 or len(files) <= 1:
        for a in args:
            results.append(read_one(*a))
            if progress:
                progress(results[-1][0])
    else:  # results in input order, so the output does not depend on which worker was first
        results = _read_in_pool(args, min(jobs, len(files)), progress)
    return reduce_results(results, ignored)


# --- output ---------------------------------------------------------------------------

def consolidated_frame(ledger: Ledger) -> pd.DataFrame:
    """汇总台账: canonical columns (Chinese labels), every unmapped column, provenance.

    A cell that could not be understood (a date that is not a date) is written as it
    was typed, so nothing is lost on the way.
    """
    frame, raw = ledger.frame, ledger.raw
    present = ledger.fields_present
    out: dict[str, pd.Series] = {}
    for field in present:
        values = frame[field]
        if field in raw.columns:
            lost = values.isna() & raw[field].notna()
            if lost.any():  # few cells: look at them one by one (a cell of spaces is blank, not lost)
                lost[lost] = [not (isinstance(v, str) and not v.strip()) for v in raw.loc[lost, field]]
            if lost.any():
                values = values.astype(object).where(~lost, raw[field].astype(object))
        out[LABELS[field]] = values
    taken = set(LABELS.values()) | set(PROVENANCE_LABELS.values())
    for col in ledger.extra_columns:  # a unit's own column never hides ours, nor ours it
        name = col if str(col) not in taken else f"{col}（原表）"
        out[name] = frame[col]
    for col, label in PROVENANCE_LABELS.items():
        out[label] = frame[col]
    out[PROVENANCE_LABELS["_file"]] = frame["_file"].map(shown_paths(frame["_file"].dropna().unique()))
    return pd.DataFrame(out, index=frame.index)


def shown_paths(paths: Iterable[str]) -> dict[str, str]:
    """How a workbook people read names each source file: relative to the folder all of them
    share (so 乡镇/城关镇.xlsx and 部门/城关镇.xlsx stay apart), never the clerk's full local path.
    --json keeps the full paths for programs."""
    import os

    paths = [str(p) for p in paths]
    if not paths:
        return {}
    try:
        base = os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in paths])
    except ValueError:  # different drives on Windows
        return {p: Path(p).name for p in paths}
    return {p: os.path.relpath(os.path.abspath(p), base) for p in paths}


def import_frame(report: ImportReport) -> pd.DataFrame:
    shown = shown_paths([f.file for f in report.files] + [p for p, _ in report.ignored])
    rows = [{"来源文件": shown.get(f.file, f.file), "工作表": f.sheet, "读取行数": f.rows, "跳过的空行/合计行": f.skipped,
             "状态": STATUS_WORDS.get(f.status, f.status), "原因": f.message} for f in report.files]
    rows += [{"来源文件": shown.get(p, p), "工作表": None, "读取行数": 0, "跳过的空行/合计行": 0, "状态": "已忽略", "原因": why}
             for p, why in report.ignored]
    return pd.DataFrame(rows, columns=["来源文件", "工作表", "读取行数", "跳过的空行/合计行", "状态", "原因"])


def write_consolidated(ledger: Ledger, report: ImportReport, path: str | Path) -> Path:
    from xfsheets.writer import Table, write_tables

    return write_tables(path, [
        Table("汇总台账", consolidated_frame(ledger), widths={"反映问题": 40}),
        Table("导入情况", import_frame(report), widths={"原因": 60}),
        Table("重复记录", report.duplicates),
    ])
