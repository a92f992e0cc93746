"""Consolidating many units' ledgers into one, losing nothing.

map: read one file (xfsheets.reader.read_ledger), in a process pool;
reduce: concatenate, flag duplicates (never remove them), account for every file.
One bad file never stops the batch: it is listed with its reason.

The same map/reduce runs on Dask when a province outgrows one machine (see README):
``dask.bag.from_sequence(files).map(read_one)`` then the same ``reduce_results``.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field as dc_field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import pandas as pd

from xfsheets.errors import XfsheetsError, printable_path
from xfsheets.ledger import PROVENANCE, Ledger
from xfsheets.outputs import CONSOLIDATED_SHEET
from xfsheets.reader import SUFFIXES, empty_ledger, read_ledger
from xfsheets.schema import FIELD_NAMES, LABELS, Profile

# A file's status is a stable code (DESIGN.md); the Chinese word is for the 导入情况 sheet.
STATUS_OK = "read"
STATUS_EMPTY = "empty"
STATUS_FAILED = "failed"
STATUS_WORDS = {STATUS_OK: "已读取", STATUS_EMPTY: "空台账", STATUS_FAILED: "读取失败"}
PROVENANCE_LABELS = {"_file": "来源文件", "_sheet": "来源工作表", "_row": "来源行号"}
VIA_LABEL = "经由文件"  # the consolidated ledgers a row came up through, nearest first
VIA_SEPARATOR = " ← "
# Where a matter was first recorded, for a row read from a consolidated ledger (its 来源 columns);
# NaN for a row read straight from the file that records it.
ORIGIN = ["_origin_file", "_origin_sheet", "_origin_row", "_via_prior"]
EXCEL_MAX_COLUMNS = 16384


@dataclass
class FileResult:
    file: str
    sheet: str | None = None
    rows: int = 0
    status: str = STATUS_OK
    error: dict[str, Any] | None = None  # {"code", "message", "file", "sheet", "row", "column"}
    skipped: int = 0  # blank / 合计 / footer rows not read as data
    kind: str | None = None  # an xfsheets output read as a ledger: its kind (outputs.OUTPUT_KINDS)
    notes: list[str] = dc_field(default_factory=list)  # what a clerk should know about a file that was read

    @property
    def message(self) -> str | None:
        """The error in Chinese (None when the file was read)."""
        return self.error["message"] if self.error else None

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "sheet": self.sheet, "rows": self.rows, "status": self.status,
                "error": self.error, "skipped": self.skipped, "kind": self.kind, "notes": self.notes}


@dataclass
class ImportReport:
    files: list[FileResult] = dc_field(default_factory=list)
    ignored: list[tuple[str, str]] = dc_field(default_factory=list)  # (path, why): lock files, hidden
    rows_in: int = 0
    rows_out: int = 0
    duplicates: pd.DataFrame = dc_field(default_factory=pd.DataFrame)
    # A row that reached this run twice (from a unit directly and inside a township's consolidated
    # ledger, say): counted once, the other copy listed here with the row kept and the rule.
    counted_once: list[dict[str, Any]] = dc_field(default_factory=list)
    # Columns the output could not hold (Excel's 16,384), per file and sheet, with why.
    columns_dropped: list[dict[str, Any]] = dc_field(default_factory=list)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == STATUS_FAILED]

    @property
    def exit_code(self) -> int:
        """0 all read, 1 some failed (or columns could not be carried), 2 nothing could be read."""
        if not self.files or len(self.failed) == len(self.files):
            return 2
        return 1 if self.failed or self.columns_dropped else 0

    def to_dict(self) -> dict[str, Any]:
        dups = self.duplicates
        return {
            "files": [f.to_dict() for f in self.files],
            "ignored": [{"file": p, "reason": r} for p, r in self.ignored],
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "counted_once": self.counted_once,
            "columns_dropped": self.columns_dropped,
            "duplicates": [] if dups.empty else [
                {"kind": r["重复类型"], "key": r["重复键"], "group": int(r["组号"]), "file": r["来源文件"],
                 "sheet": r["来源工作表"], "row": int(r["来源行号"]), "case_id": r["信访件编号"]}
                for r in dups.to_dict("records")],
        }


# --- map ----------------------------------------------------------------------------

def discover(inputs: Iterable[str | Path], exclude: Iterable[str | Path] = ()
             ) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files to read (folders searched recursively) and paths deliberately passed over.

    Every path under an input folder is one or the other, with the reason: nothing is
    dropped without a line. A link (symlink) is followed when it stays inside the folder;
    one that points outside it, goes round in a loop or points at nothing is listed. The
    same file reached twice (named and inside a named folder, or through a link) is read
    once and the second path listed. ``exclude``: files never read as input (the
    consolidation's own output, which may sit in the folder being consolidated); earlier
    outputs of xfsheets are recognised by their document-property stamp, not by name.
    """
    found: list[tuple[Path, Path | None]] = []  # (path, the input folder it was found under)
    ignored: list[tuple[str, str]] = []
    excluded = {Path(p).resolve() for p in exclude}
    for item in inputs:
        path = Path(item)
        if path.is_symlink() and not path.exists():
            ignored.append((printable_path(path), _BROKEN_LINK))
            continue
        if not path.exists():
            raise XfsheetsError("找不到文件或文件夹", file=path, hint="请检查路径是否正确")
        if path.is_dir():  # a file reached both directly and through a link inside the folder: the direct path is read
            walked = _walk(path, ignored)
            found.extend((p, path) for p, linked in sorted(walked, key=lambda w: w[1]))
        else:
            found.append((path, None))
    files: list[Path] = []
    first: dict[Path, Path] = {}
    for p, root in found:
        why = _ignore_reason(p, root=root)
        key = p.resolve()
        if not why and key in excluded:
            why = "本次合并的输出文件，不作为输入读取"
        if not why and key in first:  # the same file named twice (a file and its folder, a link) is read once
            why = f"与「{printable_path(first[key])}」是同一个文件（经链接或重复指定到达），只读取一次"
        if why:
            ignored.append((printable_path(p), why))
        else:
            first[key] = p
            files.append(p)
    return files, ignored


_BROKEN_LINK = "链接（快捷方式）指向的文件或文件夹不存在，已失效，未读取；请把真正的文件放进文件夹"
_OUTSIDE_LINK = "链接（快捷方式）指向本次合并的文件夹以外（「{target}」），未读取；如需合并，请把它复制进文件夹，或在命令中直接写出它的路径"
_LOOP_LINK = "链接（快捷方式）绕回它自己或它所在的上级文件夹，形成循环，未读取"


def _walk(root: Path, ignored: list[tuple[str, str]]) -> list[tuple[Path, bool]]:
    """Every file under ``root`` in name order (and whether a link led to it), following links that stay inside ``root``;
    links that cannot be followed, folders that cannot be opened and things that are not
    files (pipes, devices) go to ``ignored`` with the reason."""
    top = root.resolve()
    out: list[tuple[Path, bool]] = []

    def inside(target: Path) -> bool:
        return target == top or top in target.parents

    def visit(folder: Path, real: Path, chain: tuple[Path, ...], linked: bool) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            from xfsheets.errors import os_reason

            ignored.append((printable_path(folder), f"无法打开这个文件夹（{os_reason(exc)[0]}），其中的文件未读取"))
            return
        for entry in entries:
            path = Path(entry.path)
            try:
                if entry.is_symlink():
                    try:
                        target = path.resolve(strict=True)
                    except (OSError, RuntimeError):  # a dangling link, or a link to itself
                        ignored.append((printable_path(path), _LOOP_LINK if _is_link_loop(path) else _BROKEN_LINK))
                        continue
                    if not inside(target):
                        ignored.append((printable_path(path), _OUTSIDE_LINK.format(target=printable_path(target))))
                        continue
                    if target.is_dir():
                        if target in chain:
                            ignored.append((printable_path(path), _LOOP_LINK))
                        else:
                            visit(path, target, chain + (target,), True)
                        continue
                    out.append((path, True))
                elif entry.is_dir():
                    sub = real / entry.name
                    visit(path, sub, chain + (sub,), linked)
                elif entry.is_file():
                    out.append((path, linked))
                else:
                    ignored.append((printable_path(path), "不是普通文件（如管道、设备），未读取"))
            except OSError as exc:
                from xfsheets.errors import os_reason

                ignored.append((printable_path(path), f"无法访问（{os_reason(exc)[0]}），未读取"))

    visit(root, top, (top,), False)
    return out


def _is_link_loop(path: Path) -> bool:
    try:
        os.stat(path)
    except OSError as exc:
        import errno

        return exc.errno == errno.ELOOP
    return False


_BACKUP_SUFFIXES = (".bak", ".tmp", ".old", ".wbk", ".xlk", ".asd")


def _ignore_reason(path: Path, root: Path | None) -> str | None:
    from xfsheets.outputs import OUTPUT_KINDS, output_kind

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
    kind = output_kind(path)
    if kind and not OUTPUT_KINDS[kind][0]:
        return f"xfsheets 生成的{OUTPUT_KINDS[kind][1]}，不作为台账读取"
    if kind == "consolidated":
        sources = _earlier_run_sources(path)
        if sources:
            return (f"xfsheets 以前对这些文件的合并结果：它合并的 {len(sources)} 个文件（{'、'.join(sources[:3])}"
                    f"{'等' if len(sources) > 3 else ''}）都在它旁边，本次已直接读取，不再从旧的合并结果中重复读取")
    return None  # a consolidated ledger or a ledger copy sent up is a ledger: read


def _earlier_run_sources(path: Path) -> list[str]:
    """The files a consolidated ledger lists as read (its 导入情况 sheet), when every one of them
    lies beside it (named relative to its folder): an earlier consolidation of the same folder,
    whose rows this run reads afresh from the files themselves. Else [] (a township's ledger sent
    up: its units' files are elsewhere, so it is read)."""
    from xfsheets.reader import open_workbook, sheet_rows

    try:  # through the reader's limits: a stamp can be forged, and a bomb must not hang the search
        workbook = open_workbook(path)
        try:
            rows = sheet_rows(workbook.get_sheet_by_name("导入情况"))
        finally:
            workbook.close()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # no such sheet, unreadable, a reader panic: read it as a ledger (the reader says why not)
        return []
    if not rows or "来源文件" not in rows[0] or "状态" not in rows[0]:
        return []
    name_at, status_at = rows[0].index("来源文件"), rows[0].index("状态")
    read = [str(r[name_at]) for r in rows[1:]
            if len(r) > status_at and r[status_at] in (STATUS_WORDS[STATUS_OK], STATUS_WORDS[STATUS_EMPTY]) and r[name_at]]
    if not read:
        return []
    for name in read:
        beside = path.parent / name.replace("\\", "/")
        if not beside.is_file() or beside.resolve() == path.resolve():
            return []
    return read


def read_one(path: str | Path, sheet: str | None = None, profile: Profile | None = None,
             password: str | None = None) -> tuple[FileResult, Ledger | None]:
    """The map step: one file -> (its result line, its Ledger or None).

    A consolidated ledger (an earlier ``consolidate`` output, e.g. a township's sent to the
    county) is read from its 汇总台账 sheet, and each row keeps where it was first recorded
    (its 来源文件/来源工作表/来源行号 and 经由文件 columns) so that it is traced, and counted,
    once however many levels it came up through.
    """
    from xfsheets.outputs import output_kind

    shown = printable_path(path)
    try:
        kind = output_kind(path) if Path(path).suffix.lower() in (".xlsx", ".xlsm") else None
        if kind == "consolidated":
            sheet = CONSOLIDATED_SHEET
        ledger = read_ledger(path, sheet=sheet, profile=profile, password=password)
    except XfsheetsError as exc:
        error = exc.to_dict()
        error["file"] = error["file"] or shown
        return FileResult(file=shown, status=STATUS_FAILED, error=error), None
    except MemoryError:
        return _failed(path, "读取时内存不足（文件过大或结构异常）", "请把文件拆分成几个较小的文件，或另存为 .xlsx 后重新合并",
                       "out_of_memory"), None
    except Exception as exc:  # an unexpected reader failure must not stop the batch
        return _failed(path, f"读取时发生意外错误（{type(exc).__name__}: {exc}）", "请用 Excel/WPS 打开该文件另存为 .xlsx 后重新合并",
                       "internal_error"), None
    notes = []
    if kind == "consolidated":
        ledger, note = _take_origin(ledger)
        notes.append(note)
    elif kind:
        notes.append("xfsheets 生成的台账副本（如检查标注副本），按台账读取")
    src = ledger.sources[0]
    status = STATUS_OK if len(ledger) else STATUS_EMPTY
    return FileResult(file=shown, sheet=src.sheet, rows=len(ledger), status=status,
                      skipped=len(src.skipped), kind=kind, notes=notes), ledger


def _take_origin(ledger: Ledger) -> tuple[Ledger, str]:
    """A consolidated ledger's rows with their origin moved from its 来源/经由 columns into
    ORIGIN (so they are not taken for the unit's own extra columns). A row whose 来源 cells
    are blank (edited by hand) has this file as its origin."""
    frame, raw = ledger.frame.copy(), ledger.raw
    labels = {**{label: col for col, label in PROVENANCE_LABELS.items()}, VIA_LABEL: "_via"}
    taken = {c: labels[c] for c in frame.columns if c in labels}

    def text(column: str) -> pd.Series:
        values = frame[column].astype("string").str.strip() if column in frame else pd.Series(pd.NA, index=frame.index,
                                                                                              dtype="string")
        return values.where(values != "", pd.NA)

    origin_file, origin_sheet = text("来源文件"), text("来源工作表")
    origin_row = pd.to_numeric(text("来源行号"), errors="coerce").astype("Int64")
    known = origin_file.notna() & origin_row.notna()
    frame["_origin_file"] = origin_file.where(known)
    frame["_origin_sheet"] = origin_sheet.where(known)
    frame["_origin_row"] = origin_row.where(known)
    frame["_via_prior"] = text(VIA_LABEL).where(known)
    frame = frame.drop(columns=list(taken))
    raw = raw.drop(columns=[c for c in taken if c in raw.columns])
    out = Ledger(frame=frame, raw=raw, sources=ledger.sources, skipped_sheets=ledger.skipped_sheets)
    note = f"xfsheets 汇总台账，按台账读取：{int(known.sum())} 行保留了原始来源（来源文件、工作表、行号）"
    if not known.all():
        note += f"，{int((~known).sum())} 行的来源列为空，以本文件为来源"
    return out, note


def _failed(path: str | Path, what: str, fix: str, code: str = "internal_error") -> FileResult:
    shown = printable_path(path)
    return FileResult(file=shown, status=STATUS_FAILED,
                      error={"code": code, "message": f"文件「{shown}」：{what}。{fix}", "file": shown, "sheet": None,
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

class RunInterrupted(XfsheetsError):
    """The run was ended by a signal (SIGTERM, SIGHUP): workers stopped, nothing written."""

    code = "interrupted"


@contextlib.contextmanager
def signals_end_the_run() -> Iterator[None]:
    """While reading and writing, SIGTERM and SIGHUP end the run the way Ctrl+C does: as an
    exception, so the worker pool is shut down and every temporary file is removed on the
    way out (the default action would kill this process and leave both behind). Main thread
    only; the old handlers come back afterwards."""
    import threading

    wanted = [getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: Any) -> None:
        for sig in wanted:  # one ending is enough: a second signal must not interrupt the cleanup
            signal.signal(sig, signal.SIG_IGN)
        err = RunInterrupted(f"收到终止信号（{signal.Signals(signum).name}），合并已停止，没有生成输出文件",
                             hint="原台账没有被改动；需要时请重新运行")
        err.exit_code = 128 + signum
        raise err

    old = {sig: signal.signal(sig, stop) for sig in wanted}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def _die_with_parent() -> None:
    """Linux: this worker gets SIGKILL when the process that started it ends, however it ends
    (a SIGKILL to the parent included), so no worker outlives a run."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        parent = os.getppid()
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before the call: nobody is waiting for us
            os._exit(1)
    except (OSError, AttributeError):
        pass


def _worker_init(budget: int | None) -> None:
    """Give this worker an address-space limit, so one bomb cannot take the machine (POSIX),
    and tie its life to the parent's.

    Its stderr goes nowhere: what a worker has to say comes back as data (FileResult), and
    a dying reader's last words (a Rust abort message, a crash dump) are not for the user.
    A signal that ends the run is the parent's to handle: the worker leaves SIGTERM/SIGHUP at
    their defaults and ignores Ctrl+C (the parent shuts the pool down).
    """
    _die_with_parent()
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
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
    except BaseException:  # the run is ending (a signal, Ctrl+C): the reader goes with it
        proc.kill()
        raise
    finally:
        parent.close()
        proc.join()
    return result if result is not None else (_death(args[0], proc.exitcode), None)


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            proc.kill()
        except (OSError, ValueError, AttributeError):
            pass


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
        except BaseException:  # the run is ending (a signal, Ctrl+C): do not wait for files in flight
            _kill_workers(pool)
            raise
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
    """Concatenate in input order, count each matter once, account for every row, flag duplicates."""
    ledgers = [ledger for _, ledger in results if ledger is not None]
    ledger = Ledger.concat(ledgers) if ledgers else empty_ledger()
    report = ImportReport(files=[r for r, _ in results], ignored=ignored)
    report.rows_in = sum(r.rows for r in report.files)
    ledger, report.counted_once = count_once(ledger)
    ledger, report.columns_dropped = _fit_columns(ledger, report.files)
    report.rows_out = len(ledger)
    report.duplicates = find_duplicates(ledger)
    if report.rows_in != report.rows_out + len(report.counted_once):  # guard the promise "nothing dropped"
        raise AssertionError(f"rows_in {report.rows_in} != rows_out {report.rows_out} + {len(report.counted_once)}")
    return ledger, report


def _origin(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(file, sheet, row) where each row's matter was first recorded."""
    def get(col: str, fallback: str) -> pd.Series:
        if col not in frame:
            return frame[fallback]
        return frame[col].astype(object).where(frame[col].notna(), frame[fallback].astype(object))

    return get("_origin_file", "_file"), get("_origin_sheet", "_sheet"), get("_origin_row", "_row")


def count_once(ledger: Ledger) -> tuple[Ledger, list[dict[str, Any]]]:
    """The same matter reached twice (from a unit directly and inside a township's consolidated
    ledger, or inside two consolidated ledgers) is counted once.

    The rule (provenance match): the same original file name, sheet and Excel row, AND the same
    信访件编号 (or, without one, the same 信访人, 登记日期 and 反映问题). The copy read straight from
    the unit's own file is kept (else the first in input order); every other copy is listed with
    the row kept and the rule, never dropped silently.
    """
    frame = ledger.frame
    if frame.empty or not any(c in frame for c in ORIGIN):
        return ledger, []
    ofile, osheet, orow = _origin(frame)
    name = ofile.map(lambda f: Path(str(f).replace("\\", "/")).name.casefold())
    by_id = frame["case_id"].astype("string")
    content = (frame["petitioner"].astype("string") + "｜" + frame["received_on"].dt.strftime("%Y-%m-%d").astype("string")
               + "｜" + frame["summary"].astype("string"))
    ident = ("编号｜" + by_id).fillna("内容｜" + content)
    row_text = pd.to_numeric(orow, errors="coerce").astype("Int64").astype("string")  # 4, never "4.0"
    key = name + "｜" + osheet.astype("string") + "｜" + row_text + "｜" + ident
    usable = key.notna()
    if not usable.any():
        return ledger, []
    direct = frame["_origin_file"].isna() if "_origin_file" in frame else pd.Series(True, index=frame.index)
    order = pd.DataFrame({"key": key[usable], "indirect": ~direct[usable]}).sort_values(["key", "indirect"], kind="stable")
    kept_of = order.groupby("key", sort=False).head(1).reset_index().set_index("key")["index"]
    extra = order.index[order.duplicated("key", keep="first")]
    if not len(extra):
        return ledger, []
    listed = []
    for i in sorted(extra):
        k = kept_of[key[i]]
        same = "信访件编号相同（" + str(by_id[i]) + "）" if pd.notna(by_id[i]) else "信访人、登记日期、反映问题相同"
        rule = (f"原始来源相同（「{ofile[i]}」工作表「{osheet[i]}」第 {orow[i]} 行）且{same}：与「{Path(frame.at[k, '_file']).name}」"
                f"工作表「{frame.at[k, '_sheet']}」第 {frame.at[k, '_row']} 行是同一事项，只计一次")
        listed.append({"file": frame.at[i, "_file"], "sheet": frame.at[i, "_sheet"], "row": int(frame.at[i, "_row"]),
                       "case_id": None if pd.isna(by_id[i]) else str(by_id[i]),
                       "origin": {"file": str(ofile[i]), "sheet": str(osheet[i]), "row": int(orow[i])},
                       "kept": {"file": frame.at[k, "_file"], "sheet": frame.at[k, "_sheet"], "row": int(frame.at[k, "_row"])},
                       "rule": rule})
    keep = ~frame.index.isin(extra)
    out = Ledger(frame=frame[keep].reset_index(drop=True), raw=ledger.raw[keep].reset_index(drop=True),
                 sources=ledger.sources, skipped_sheets=ledger.skipped_sheets)
    return out, listed


def _out_columns(ledger: Ledger) -> list[str]:
    """The unit's own columns the consolidated ledger carries (beside ours)."""
    return [c for c in ledger.extra_columns if c not in ORIGIN]


def _fit_columns(ledger: Ledger, files: list[FileResult]) -> tuple[Ledger, list[dict[str, Any]]]:
    """Keep the 汇总台账 within Excel's 16,384 columns: the canonical and provenance columns always
    fit; the units' own columns past the limit are left out and reported per file and sheet
    (which columns, how many cells had content). The rows themselves are all kept."""
    extras = _out_columns(ledger)
    room = EXCEL_MAX_COLUMNS - len(ledger.fields_present) - len(PROVENANCE_LABELS) - 1  # 1: 经由文件
    if len(extras) <= room:
        return ledger, []
    # The widest file gives up its last columns first: a narrow file's columns are never cut for it.
    width = {}
    for src in ledger.sources:
        for c in src.columns:
            if c.field is None:
                name = c.name or c.label
                width[name] = max(width.get(name, 0), len(src.columns))
    position = {c: k for k, c in enumerate(extras)}
    ranked = sorted(extras, key=lambda c: (width.get(c, 0), position[c]))
    cut = set(ranked[max(room, 0):])
    frame = ledger.frame
    dropped = []
    by_file = {f.file: f for f in files}
    for i, src in enumerate(ledger.sources):
        cols = [c for c in src.columns if c.field is None and (c.name or c.label) in cut]
        if not cols:
            continue
        rows = frame["_source"] == i
        cells = int(sum(frame.loc[rows, c.name or c.label].notna().sum() for c in cols))
        letters = [c.letter for c in cols]
        shown_letters = "、".join(letters) if len(letters) <= 5 else f"{letters[0]}…{letters[-1]}"
        message = (f"工作表「{src.sheet}」的 {len(cols)} 列（{shown_letters}，其中 {cells} 个单元格有内容）超出了"
                   f"汇总台账一个工作表能容纳的 {EXCEL_MAX_COLUMNS:,} 列，未写入汇总台账；各行本身都已合并。"
                   "如这些列有用，请让报送单位删去多余的空列或把它们另放一个文件")
        dropped.append({"file": src.file, "sheet": src.sheet, "columns": len(cols), "first": letters[0],
                        "last": letters[-1], "cells": cells, "message": message})
        if src.file in by_file:
            by_file[src.file].notes.append(message)
    frame = frame.drop(columns=sorted(cut))
    raw = ledger.raw.drop(columns=[c for c in cut if c in ledger.raw.columns])
    return Ledger(frame=frame, raw=raw, sources=ledger.sources, skipped_sheets=ledger.skipped_sheets), dropped


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
    with signals_end_the_run():
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
    taken = set(LABELS.values()) | set(PROVENANCE_LABELS.values()) | {VIA_LABEL}
    for col in _out_columns(ledger):  # a unit's own column never hides ours, nor ours it
        name = col if str(col) not in taken else f"{col}（原表）"
        out[name] = frame[col]
    # 来源: where the matter was first recorded (a row that came up through a township's
    # consolidated ledger keeps the unit's file, sheet and row); 经由文件: the consolidated
    # ledgers it came through, nearest first, each with the row it had there.
    shown = frame["_file"].map(shown_paths(frame["_file"].dropna().unique()))
    through = frame["_origin_file"].notna() if "_origin_file" in frame else pd.Series(False, index=frame.index)
    out[PROVENANCE_LABELS["_file"]] = shown.where(~through, frame.get("_origin_file"))
    out[PROVENANCE_LABELS["_sheet"]] = frame["_sheet"].where(~through, frame.get("_origin_sheet"))
    rows = frame["_row"].astype("Int64")
    if through.any():
        rows = rows.where(~through, pd.to_numeric(frame["_origin_row"], errors="coerce").astype("Int64"))
    out[PROVENANCE_LABELS["_row"]] = rows
    if through.any():  # the column is there only when some row came up through a consolidated ledger
        via = pd.Series(None, index=frame.index, dtype=object)
        here = shown[through] + " 第" + frame.loc[through, "_row"].astype(str) + "行"
        prior = frame.loc[through, "_via_prior"].astype(object)
        via[through] = [h if pd.isna(p) else f"{h}{VIA_SEPARATOR}{p}" for h, p in zip(here, prior)]
        out[VIA_LABEL] = via
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
             "状态": STATUS_WORDS.get(f.status, f.status), "原因": f.message or "；".join(f.notes) or None}
            for f in report.files]
    rows += [{"来源文件": shown.get(p, p), "工作表": None, "读取行数": 0, "跳过的空行/合计行": 0, "状态": "已忽略", "原因": why}
             for p, why in report.ignored]
    return pd.DataFrame(rows, columns=["来源文件", "工作表", "读取行数", "跳过的空行/合计行", "状态", "原因"])


def write_consolidated(ledger: Ledger, report: ImportReport, path: str | Path) -> Path:
    from xfsheets.writer import Table, write_tables

    tables = [
        Table(CONSOLIDATED_SHEET, consolidated_frame(ledger), widths={"反映问题": 40, VIA_LABEL: 40}),
        Table("导入情况", import_frame(report), widths={"原因": 60}),
        Table("重复记录", report.duplicates),
    ]
    if report.counted_once:  # only when a matter reached this run twice
        tables.append(Table(COUNTED_ONCE_SHEET, counted_once_frame(report), widths={"说明": 80}))
    with signals_end_the_run():
        return write_tables(path, tables)


COUNTED_ONCE_SHEET = "重复上报只计一次"


def counted_once_frame(report: ImportReport) -> pd.DataFrame:
    """The copies of a matter that reached this run twice and were counted once, each with the row kept."""
    files = [c["file"] for c in report.counted_once] + [c["kept"]["file"] for c in report.counted_once]
    shown = shown_paths(files)
    rows = [{"未计入的文件": shown.get(c["file"], c["file"]), "工作表": c["sheet"], "行号": c["row"],
             "信访件编号": c["case_id"], "原始来源": f"{c['origin']['file']} / {c['origin']['sheet']} / 第{c['origin']['row']}行",
             "计入的文件": shown.get(c["kept"]["file"], c["kept"]["file"]), "计入的工作表": c["kept"]["sheet"],
             "计入的行号": c["kept"]["row"], "说明": c["rule"]} for c in report.counted_once]
    return pd.DataFrame(rows, columns=["未计入的文件", "工作表", "行号", "信访件编号", "原始来源", "计入的文件", "计入的工作表",
                                       "计入的行号", "说明"])
