"""Where outputs may go: the one gate every output path passes.

An output never replaces an input, and never replaces a file xfsheets did not write.
xfsheets marks each workbook it writes with a custom document property (``xfsheets``,
holding the version, the time of writing and a fingerprint of every other part of the
package); a later run may replace such a file as long as nobody saved it since (the
fingerprint still matches: any program that saves a workbook rewrites its parts). A file
somebody edited after xfsheets wrote it belongs to that person and is refused too.

Paths are compared the way Windows compares them: resolved, case-insensitively, and by
identity (``samefile``) where both exist, so ``台账.XLSX`` and ``.\\台账.xlsx`` are one file.

Folder outputs (slips, zero reports) are written into a hidden staging folder on the
destination's filesystem and put in place only when every file is complete, all or nothing
(:func:`staged_folder`); every file is written through :func:`atomic_file`, which parses every
XML part back before the file is put in place; staging files are removed on every catchable
signal (:func:`removed_on_signal`), and a full disk is one message (:class:`DiskFull`).
"""
from __future__ import annotations

import contextlib
import copy
import datetime as dt
import errno
import io
import os
import re
import shutil
import signal
import stat
import struct
import sys
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import Any, Iterable, Iterator

from xfsheets.errors import InternalError, XfsheetsError, os_reason

MARK_NAME = "xfsheets"
EML_MARK_HEADER = "X-Xfsheets-Output"
# The parts the stamp itself rewrites are left out of the fingerprint.
_STAMP_PARTS = ("[Content_Types].xml", "_rels/.rels", "docProps/custom.xml")

WORKBOOK_SUFFIXES = (".xlsx",)
MACRO_SUFFIXES = (".xlsx", ".xlsm")
_REFUSED_SUFFIX_REASONS = {
    ".xls": "xfsheets 不写旧版 .xls 格式（它存不下超过 65,536 行，也不能保证身份证号等长数字不失真）",
    ".xlsb": "xfsheets 不写二进制 .xlsb 格式",
    ".csv": "CSV 文件不能保留格式、批注和多个工作表",
    ".ods": "xfsheets 只写 Excel 的 .xlsx 格式（WPS、LibreOffice 都能打开）",
    ".et": "xfsheets 只写 Excel 的 .xlsx 格式（WPS 也能打开）",
}


class OutputRefused(XfsheetsError):
    """An output path that would replace an input or a file xfsheets did not write."""

    code = "output_refused"


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("xfsheets")
    except Exception:  # running from a source tree without metadata
        return "dev"


def mark_value(fingerprint: str = "-", now: dt.datetime | None = None, kind: str | None = None) -> str:
    """The stamp's text: ``xfsheets VERSION TIME [kind=KIND] FINGERPRINT`` (older stamps have no kind)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    kind_part = f" kind={kind}" if kind else ""
    return f"xfsheets {_version()} {now.strftime('%Y-%m-%dT%H:%M:%SZ')}{kind_part} {fingerprint}"


def _fingerprint(infos: Iterable[zipfile.ZipInfo]) -> str:
    """CRC-32 over the names and CRCs of a package's parts (the stamp's own parts left out)."""
    import zlib

    text = "\n".join(f"{i.filename}:{i.CRC:08x}" for i in sorted(infos, key=lambda i: i.filename)
                     if i.filename not in _STAMP_PARTS)
    return f"{zlib.crc32(text.encode('utf-8')):08x}"


# --- telling our files from the user's ---------------------------------------------------

def _identity(path: Path) -> str:
    return os.path.normcase(os.path.realpath(path)).casefold()


def same_file(a: str | Path, b: str | Path) -> bool:
    a, b = Path(a), Path(b)
    if _identity(a) == _identity(b):
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


_MARK_RE = re.compile(rb'name="' + MARK_NAME.encode() + rb'"[^>]*>\s*<vt:lpwstr[^>]*>([^<]*)</vt:lpwstr>')
def read_mark(path: str | Path) -> tuple[str | None, bool]:
    """(the mark's text or None, whether the file was saved by someone else since)."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".eml":
            with path.open("rb") as fh:
                head = fh.read(16384)
            m = re.search(rb"^" + EML_MARK_HEADER.encode() + rb":\s*([^\r\n]+)", head, re.M | re.I)
            return (m.group(1).decode("ascii", "replace"), False) if m else (None, False)
        if not zipfile.is_zipfile(path):
            return None, False
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "docProps/custom.xml" not in names:
                return None, False
            m = _MARK_RE.search(zf.read("docProps/custom.xml"))
            if not m:
                return None, False
            text = m.group(1).decode("utf-8", "replace")
            now = _fingerprint(zf.infolist())
    except (OSError, zipfile.BadZipFile, KeyError, ValueError):
        return None, False
    stamped = text.rsplit(" ", 1)[-1]
    return text, stamped != now


def is_xfsheets_output(path: str | Path) -> bool:
    """Whether xfsheets wrote ``path`` (whatever happened to it since)."""
    return read_mark(path)[0] is not None


# --- what kind of output a stamped file is ---------------------------------------------------
# A consolidated ledger or a ledger copy (check/deadlines -o, excel install) sent up is a ledger
# and is read again; the other outputs are not ledgers and are passed over, with why.

CONSOLIDATED_SHEET = "汇总台账"  # where a consolidated ledger keeps its rows (beside 导入情况 and 重复记录)
OUTPUT_KINDS: dict[str, tuple[bool, str]] = {  # kind -> (is a ledger, what it is, in Chinese)
    "consolidated": (True, "汇总台账（consolidate 合并的结果）"),
    "ledger_copy": (True, "台账副本（check/deadlines -o 的标注副本，或 excel install 的副本）"),
    "report": (False, "汇总报表（report 的结果），不是台账"),
    "zero_report": (False, "零报告或情况报告，不是台账"),
    "slips": (False, "交办单/督办单，不是台账"),
    "import_only": (False, "只有“导入情况”、没有汇总台账工作表的合并结果，不是台账"),
    "calendar": (False, "节假日表（calendar 的结果），不是台账"),
}
# Sheets that tell an output's kind when its stamp does not say (stamps before kinds were
# recorded): the first rule whose sheet is present decides; a workbook none matches is a copy
# of a ledger. Slips are told by their first sheet, the 清单 slips puts in front.
_KIND_BY_SHEET = ((CONSOLIDATED_SHEET, "consolidated"), ("情况报告", "report"), ("总体情况", "report"),
                  ("零报告", "zero_report"), ("信访情况报告", "zero_report"), ("无法出具零报告清单", "zero_report"),
                  ("导入情况", "import_only"),
                  ("节假日", "calendar"), ("未生成", "slips"))
_FIRST_SHEET_KIND = {"清单": "slips"}
_SHEET_NAME_RE = re.compile(rb'<sheet\b[^>]*?\bname="([^"]*)"')
_KIND_RE = re.compile(r"\bkind=([a-z_]+)\b")


def kind_from_sheets(names: list[str]) -> str:
    """An output's kind from the sheets it holds (for stamps that do not record it)."""
    if names and names[0] in _FIRST_SHEET_KIND:
        return _FIRST_SHEET_KIND[names[0]]
    present = set(names)
    for sheet, kind in _KIND_BY_SHEET:
        if sheet in present:
            return kind
    return "ledger_copy"


def _package_sheets(zf: zipfile.ZipFile) -> list[str]:
    try:
        return [_xml_text(m.decode("utf-8", "replace")) for m in _SHEET_NAME_RE.findall(zf.read("xl/workbook.xml"))]
    except KeyError:
        return []


def _xml_text(text: str) -> str:
    from xml.sax.saxutils import unescape

    return unescape(text, {"&quot;": '"', "&apos;": "'"})


def _package_kind(zf: zipfile.ZipFile) -> str | None:
    """The kind to stamp on a package being written (None for a package that is not a workbook)."""
    if "xl/workbook.xml" not in set(zf.namelist()):
        return None
    return kind_from_sheets(_package_sheets(zf))


def ledger_sheet(path: str | Path) -> str | None:
    """The one sheet to read as the ledger when ``path`` is an xfsheets output that keeps its rows on
    one sheet (a consolidated ledger: 汇总台账, never its 重复记录), else None."""
    if Path(path).suffix.lower() not in (".xlsx", ".xlsm"):
        return None
    return CONSOLIDATED_SHEET if output_kind(path) == "consolidated" else None


def output_kind(path: str | Path) -> str | None:
    """What kind of xfsheets output ``path`` is (a key of OUTPUT_KINDS), or None when xfsheets
    did not write it. The stamp says; an older stamp without a kind is decided by the sheets."""
    mark, _ = read_mark(path)
    if mark is None:
        return None
    m = _KIND_RE.search(mark)
    if m and m.group(1) in OUTPUT_KINDS:
        return m.group(1)
    try:
        with zipfile.ZipFile(path) as zf:
            return kind_from_sheets(_package_sheets(zf))
    except (OSError, zipfile.BadZipFile, ValueError):
        return "ledger_copy"  # unreadable here: the reader will say what is wrong with it


def replaceable(path: str | Path) -> bool:
    """Whether xfsheets may replace ``path``: it does not exist, or xfsheets wrote it and
    nobody saved it since."""
    path = Path(path)
    if not path.exists():
        return True
    if not path.is_file():
        return False
    mark, edited = read_mark(path)
    return mark is not None and not edited


# --- the gate -----------------------------------------------------------------------------

def _refuse_existing(path: Path, what: str) -> None:
    if path.is_dir():
        raise OutputRefused(f"{what}「{path}」是一个已有的文件夹，不能当作文件写入",
                            hint="请在 -o 后写一个文件名，如 结果.xlsx")
    mark, edited = read_mark(path)
    if mark is None:
        raise OutputRefused(f"{what}「{path}」已经存在，且不是 xfsheets 生成的文件，为防止覆盖您的文件，未写入",
                            hint="请换一个文件名，或先把原文件移走")
    if edited:
        raise OutputRefused(f"{what}「{path}」是 xfsheets 以前生成的，但之后已被人修改保存过，为防止覆盖修改，未写入",
                            hint="请换一个文件名，或先把原文件移走")


def check_target(path: str | Path, inputs: Iterable[str | Path] = (), what: str = "输出文件") -> Path:
    """Refuse ``path`` if it is one of ``inputs`` or an existing file xfsheets may not replace."""
    path = Path(path)
    for source in inputs:
        if source is not None and same_file(path, source):
            raise OutputRefused(f"{what}「{path}」就是输入文件「{source}」，不能覆盖原文件",
                                hint="请用 -o 指定另一个文件名，原台账永远不会被改动")
    if path.exists() or path.is_symlink():
        _refuse_existing(path, what)
    return path


def output_file(path: str | Path, inputs: Iterable[str | Path] = (), *,
                suffixes: tuple[str, ...] = WORKBOOK_SUFFIXES, what: str = "输出文件") -> Path:
    """The checked output path for a workbook: ``.xlsx`` added when there is no extension,
    other formats refused with the reason."""
    path = Path(path)
    if path.is_dir():
        _refuse_existing(path, what)
    suffix = path.suffix.lower()
    if not suffix or suffix not in (*suffixes, *_REFUSED_SUFFIX_REASONS) and not re.fullmatch(r"\.[a-z]{2,5}", suffix):
        path = path.with_name(path.name + suffixes[0])
    elif suffix not in suffixes:
        reason = _REFUSED_SUFFIX_REASONS.get(suffix, f"xfsheets 不写 {path.suffix} 格式")
        raise OutputRefused(f"{what}「{path}」：{reason}",
                            hint=f"请把 -o 的文件名改成以 {' 或 '.join(suffixes)} 结尾")
    return check_target(path, inputs, what)


def output_folder(path: str | Path, inputs: Iterable[str | Path] = (), what: str = "输出文件夹") -> Path:
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputRefused(f"{what}「{path}」是一个已有的文件，不是文件夹",
                            hint="请在 -o 后写一个文件夹名（不存在会自动新建）")
    for source in inputs:
        if source is not None and same_file(path, source):
            raise OutputRefused(f"{what}「{path}」就是输入「{source}」", hint="请另选一个文件夹")
    return path


@contextlib.contextmanager
def staged_folder(dest: str | Path, inputs: Iterable[str | Path] = ()) -> Iterator[Path]:
    """Yield an empty hidden staging folder on the filesystem of ``dest``; when the block
    succeeds, put its files into ``dest`` (created if needed), all or nothing.

    Before anything moves, every target is checked: none may be an input, a file xfsheets may
    not replace or a read-only file. The staging folder is inside ``dest`` when it exists (a
    mount point's root included: renames never cross devices), else beside it. Old files are
    first moved aside into the staging folder, so if any file cannot be put in place every
    new file is taken out again and every old one put back: ``dest`` is exactly as before.
    The staging folder (finished files with personal data) is removed on any failure and on
    every catchable signal (:func:`removed_on_signal`)."""
    inputs = [Path(p) for p in inputs if p is not None]  # read once: a generator would be spent by the check
    dest = output_folder(dest, inputs)
    existed = dest.is_dir()
    where = dest if existed else (dest.parent if str(dest.parent) else Path("."))
    try:
        where.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".~xfsheets-", dir=where))
    except OSError as exc:
        raise _os_failure(exc, f"无法在「{where}」中创建输出文件夹", dest) from exc
    try:
        with removed_on_signal(tmp):
            try:
                yield tmp
            except XfsheetsError as exc:
                raise _shown_as(exc, tmp, dest)
            except Exception as exc:
                if disk_full(exc):
                    raise DiskFull(dest) from exc
                raise
            produced = sorted(p for p in tmp.rglob("*") if p.is_file())
            for p in produced:
                target = dest / p.relative_to(tmp)
                check_target(target, inputs)
                _refuse_read_only(target)
            with _signals_held():  # a signal now would find old files aside: it waits until all is in place
                if not existed:
                    _move(tmp, dest)
                    os.chmod(dest, _default_mode(0o777))  # mkdtemp makes 0700; a folder gets the usual mode
                    return
                _commit(tmp, dest, produced)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _refuse_read_only(target: Path) -> None:
    """A file someone made read-only is not replaced (Windows would refuse it half-way)."""
    try:
        mode = target.stat().st_mode
    except OSError:
        return
    if stat.S_ISREG(mode) and not mode & stat.S_IWUSR:
        raise OutputRefused(f"输出文件「{target}」是只读文件，不能替换；文件夹中的文件都没有改动",
                            hint="请去掉该文件的“只读”属性，或先把它移走，再重新运行")


def _commit(tmp: Path, dest: Path, produced: list[Path]) -> None:
    """Put ``produced`` (files under ``tmp``) into ``dest``, all or nothing."""
    backup = Path(tempfile.mkdtemp(prefix=".~old-", dir=tmp))
    aside: list[tuple[Path, Path]] = []  # (where the old file is now, where it was)
    placed: list[Path] = []
    try:
        for p in produced:
            target = dest / p.relative_to(tmp)
            if target.exists() or target.is_symlink():
                old = backup / p.relative_to(tmp)
                old.parent.mkdir(parents=True, exist_ok=True)
                os.replace(target, old)  # within dest: one filesystem
                aside.append((old, target))
            target.parent.mkdir(parents=True, exist_ok=True)
            _move(p, target)
            placed.append(target)
    except OSError as exc:
        for target in reversed(placed):
            with contextlib.suppress(OSError):
                target.unlink()
        lost = []
        for old, target in reversed(aside):
            try:
                os.replace(old, target)
            except OSError:
                lost.append(target.name)
        name = Path(exc.filename).name if exc.filename else ""
        what, hint = os_reason(exc)
        if lost:  # kept where the clerk can see them (the staging folder is removed on the way out)
            kept = dest / f"xfsheets未能放回的原文件_{dt.datetime.now():%Y%m%d%H%M%S}"
            with contextlib.suppress(OSError):
                os.replace(backup, kept)
            raise XfsheetsError(f"无法把结果放入「{dest}」（「{name}」{what}），且 {len(lost)} 个原有文件未能放回原处："
                                f"{'、'.join(lost)}，它们在「{kept if kept.exists() else backup}」中",
                                hint="请把它们移回原处") from exc
        if disk_full(exc):
            raise DiskFull(dest) from exc
        raise XfsheetsError(f"无法把结果放入「{dest}」：「{name}」{what}；文件夹保持原样，一个文件也没有改动",
                            hint="请关闭正在 Excel/WPS 中打开的文件，检查文件是否被锁定或只读，再重新运行") from exc


def _move(src: Path, dst: Path) -> None:
    """Rename ``src`` onto ``dst``; across devices (a folder on another disk or mount), copy into
    a temporary file beside ``dst``, flush it to disk and rename that instead."""
    try:
        os.replace(src, dst)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    if src.is_dir():
        dst.mkdir()
        for p in sorted(src.rglob("*")):
            if p.is_file():
                (dst / p.relative_to(src)).parent.mkdir(parents=True, exist_ok=True)
                _move(p, dst / p.relative_to(src))
        shutil.rmtree(src, ignore_errors=True)
        return
    fd, scratch = tempfile.mkstemp(prefix=".~xfsheets-", suffix=dst.suffix, dir=dst.parent)
    with removed_on_signal(Path(scratch)):
        try:
            with os.fdopen(fd, "wb") as out, src.open("rb") as fh:
                shutil.copyfileobj(fh, out, 1 << 20)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(scratch, _default_mode())
            os.replace(scratch, dst)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(scratch)
    src.unlink()


def _shown_as(exc: XfsheetsError, tmp: Path, dest: Path) -> XfsheetsError:
    """The error as the clerk should read it: naming the output folder, not the hidden staging one."""
    if isinstance(exc, DiskFull):
        return DiskFull(dest)
    exc.message = exc.message.replace(str(tmp), str(dest))
    if exc.file:
        exc.file = exc.file.replace(str(tmp), str(dest))
    exc.args = (str(exc),)
    return exc


# --- one file, atomically, parsed back before it is put in place ---------------------------------

class DiskFull(XfsheetsError):
    """The disk filled up while an output was written: nothing was put in place."""

    code = "disk_full"

    def __init__(self, where: str | Path) -> None:
        _quiet_disk_full_noise()
        super().__init__(f"磁盘空间不足：写入「{where}」时磁盘空间已满，没有写出任何文件",
                         hint="请清理磁盘（或换一个空间足够的磁盘、U 盘）后重新运行；原有文件没有被改动")


def disk_full(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it: a writer library wraps the OS error) is a full disk."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in _FULL:
            return True
        if any(isinstance(a, OSError) and a.errno in _FULL for a in getattr(exc, "args", ())) or \
                any(text in str(exc) for text in ("No space left on device", "Disk quota exceeded", "[Errno 28]")):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _quiet_disk_full_noise() -> None:
    """A writer library's zip left open when the disk filled up fails again when it is collected
    ("Exception ignored in ZipFile.__del__"): that second report says nothing new, keep it quiet."""
    if getattr(sys.unraisablehook, "_xfsheets", False):
        return
    previous = sys.unraisablehook

    def hook(unraisable) -> None:
        if not disk_full(unraisable.exc_value):
            previous(unraisable)

    hook._xfsheets = True  # type: ignore[attr-defined]
    sys.unraisablehook = hook


def _os_failure(exc: OSError, what: str, where: str | Path) -> XfsheetsError:
    if disk_full(exc):
        return DiskFull(where)
    reason, hint = os_reason(exc)
    return XfsheetsError(f"{what}：{reason}", hint=hint)


def _default_mode(full: int = 0o666) -> int:
    umask = os.umask(0)
    os.umask(umask)
    return full & ~umask


@contextlib.contextmanager
def atomic_file(path: str | Path, inputs: Iterable[str | Path] = (), *, guard: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block succeeds, parse the written file
    back (:func:`verify_package`) and only then rename it onto ``path``.

    With ``guard`` ``path`` first passes the output gate (:func:`check_target`). On any
    failure, and on every catchable signal, the temporary file (and the stamp's scratch copy)
    is removed and ``path`` is left as it was. The one way every output file is written
    (:func:`xfsheets.writer.atomic_path` is this)."""
    path = Path(path)
    if guard:
        check_target(path, inputs)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".~xfsheets-", suffix=path.suffix, dir=folder)
    except OSError as exc:
        raise _os_failure(exc, f"无法在文件夹「{folder}」中写入", path) from exc
    os.close(fd)
    tmp = Path(name)
    scratch = tmp.with_name(tmp.name + ".mark")  # mark_package's copy
    try:
        with removed_on_signal(tmp), removed_on_signal(scratch):
            try:
                yield tmp
            except XfsheetsError:
                raise
            except Exception as exc:
                if disk_full(exc):
                    raise DiskFull(path) from exc
                if isinstance(exc, OSError):
                    what, hint = os_reason(exc)
                    raise XfsheetsError(f"写入「{path}」失败：{what}", hint=f"{hint}；原有文件没有被改动") from exc
                raise
            verify_package(tmp, path)
            try:
                os.chmod(tmp, _default_mode())  # mkstemp makes 0600; outputs get the usual mode
                os.replace(tmp, path)
            except PermissionError as exc:
                raise XfsheetsError(f"无法写入「{path}」：文件可能正在 Excel/WPS 中打开",
                                    hint="请关闭该文件后重试") from exc
            except OSError as exc:
                raise _os_failure(exc, f"无法写入「{path}」", path) from exc
    finally:
        for p in (tmp, scratch):
            with contextlib.suppress(OSError):
                p.unlink()


_XML_SUFFIXES = (".xml", ".rels", ".vml")


def verify_package(path: str | Path, shown: str | Path | None = None) -> None:
    """Parse back every XML part of the package at ``path``. A part that does not parse is an
    internal error: the output is not put in place. Files that are not packages (an .eml) are
    left alone.

    Parts are streamed through expat with namespace processing (well-formedness and every
    prefix bound, the checks Excel makes before it offers to "repair" a file) and no tree is
    built: a 100,000-row x 26-column sheet takes about a quarter of the time lxml's iterparse
    needs, and lxml without a tree does not report an unbound prefix (the fault this gate
    first caught, issue 20 item 11)."""
    from xml.parsers import expat

    path = Path(path)
    shown = shown or path
    if not zipfile.is_zipfile(path):
        return
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            name = info.filename
            if not name.lower().endswith(_XML_SUFFIXES):
                continue
            parser = expat.ParserCreate(namespace_separator=" ")
            try:
                with zf.open(info) as fh:
                    if name.lower().endswith(".vml"):  # Excel's own VML writes <br> unclosed
                        parser.Parse(fh.read().replace(b"<br>", b"<br/>"), True)
                        continue
                    while chunk := fh.read(1 << 20):
                        parser.Parse(chunk, False)
                    parser.Parse(b"", True)
            except (expat.ExpatError, zipfile.BadZipFile, EOFError, ValueError) as exc:
                raise InternalError(
                    f"程序内部错误：写出的文件「{shown}」中的部件 {name} 不是合法的 XML（{str(exc)[:160]}），"
                    f"为防止生成 Excel 打不开的文件，没有写出",
                    hint="原台账没有被改动。请把这条信息和台账文件发给技术支持") from exc


# --- every catchable signal removes temporary files ------------------------------------------
# One registry for every staged output (a folder being filled, a file being written, its
# stamp's scratch copy): while anything is registered, SIGTERM, SIGINT, SIGHUP (and SIGQUIT,
# SIGBREAK where they exist) first remove it, then end the run as that signal asks. Handlers
# are installed with the first path and the previous ones put back with the last.

_PENDING: dict[Path, int] = {}  # path -> the process that made it (a forked worker removes nothing)
_SAVED: dict[int, Any] = {}
CATCHABLE = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGBREAK")
                  if hasattr(signal, n))


@contextlib.contextmanager
def removed_on_signal(path: str | Path) -> Iterator[Path]:
    """Remove ``path`` (a file or a folder) if a catchable signal arrives inside the block."""
    path = Path(path).absolute()
    first = not _PENDING
    _PENDING[path] = os.getpid()
    if first:
        _install()
    try:
        yield path
    finally:
        _PENDING.pop(path, None)
        if not _PENDING:
            _restore()


def remove_pending() -> None:
    """Remove every registered temporary file and folder of this process."""
    for path, pid in list(_PENDING.items()):
        if pid != os.getpid():
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.unlink()


_HELD: list[int] = []  # while files are being put in place: the signals that arrived meanwhile
_HOLDING = {"depth": 0}


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """A signal arriving inside the block is acted on when the block ends (the handler only
    notes it): moving finished files into place is never cut in half."""
    _HOLDING["depth"] += 1
    try:
        yield
    finally:
        _HOLDING["depth"] -= 1
        if not _HOLDING["depth"] and _HELD:
            signum = _HELD.pop(0)
            _HELD.clear()
            _on_signal(signum, None)


def _install() -> None:
    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may set handlers; the main thread's handlers cover the process
    for sig in CATCHABLE:
        try:
            previous = signal.getsignal(sig)
            if previous is signal.SIG_IGN:
                continue  # started under nohup and the like: the signal stays ignored
            signal.signal(sig, _on_signal)
            _SAVED[sig] = previous
        except (ValueError, OSError):
            continue


def _restore() -> None:
    for sig, previous in list(_SAVED.items()):
        with contextlib.suppress(ValueError, OSError, TypeError):
            signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
    _SAVED.clear()


def _on_signal(signum: int, frame: Any) -> None:
    if _HOLDING["depth"]:
        _HELD.append(signum)
        return
    remove_pending()
    previous = _SAVED.get(signum)
    if callable(previous) and previous is not signal.default_int_handler:
        previous(signum, frame)  # another part's own handler (e.g. one that stops workers) runs too
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write("已中断（收到结束信号）：没有写出任何文件，临时文件已删除，原台账没有被改动。\n")
        sys.stderr.flush()
    raise SystemExit(128 + signum)


def unique_names(names: Iterable[str], *, limit: int = 48) -> list[str]:
    """Windows-safe file stems for ``names``, distinct case-insensitively: a name that
    collides with an earlier one after cleaning gets ``_2``, ``_3``... The one rule for every
    folder of files xfsheets writes (slips, zero reports). Stems are cut at ``limit``
    characters: Windows paths stop at 260 characters and a county folder is already deep."""
    from xfsheets.writer import safe_filename

    seen: set[str] = set()
    out = []
    for name in names:
        base = safe_filename(name)[:limit].rstrip(". ") or "未命名"
        if base.split(".")[0].upper() in _RESERVED:
            base = "_" + base
        stem, k = base, 1
        while stem.casefold() in seen:
            k += 1
            stem = f"{base}_{k}"
        seen.add(stem.casefold())
        out.append(stem)
    return out


_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


# --- marking --------------------------------------------------------------------------------

_CUSTOM_TYPE = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
_CUSTOM_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
_VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
_FILE_HEADER = struct.Struct("<4s2B4HL2L2H")


def _custom_xml(existing: bytes | None, value: str) -> bytes:
    from xml.sax.saxutils import escape

    def prop(pid: int) -> str:
        return (f'<property fmtid="{_FMTID}" pid="{pid}" name="{MARK_NAME}"><vt:lpwstr>{escape(value)}'
                f"</vt:lpwstr></property>")

    if existing:
        text = existing.decode("utf-8")
        text = re.sub(r'<property\b[^>]*name="' + MARK_NAME + r'".*?</property>', "", text, flags=re.S)
        pids = [int(p) for p in re.findall(r'pid="(\d+)"', text)]
        if "</Properties>" in text:
            root = re.search(r"<Properties\b[^>]*>", text)
            if root and "xmlns:vt=" not in root.group(0):  # openpyxl declares vt on each value instead
                text = text.replace(root.group(0), root.group(0)[:-1].rstrip("/") + f' xmlns:vt="{_VT_NS}">', 1)
            return text.replace("</Properties>", prop(max(pids, default=1) + 1) + "</Properties>").encode()
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
            'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
            + prop(2) + "</Properties>").encode()


def mark_package(path: str | Path) -> None:
    """Stamp a finished .xlsx package in place, whatever wrote it: add (or update)
    ``docProps/custom.xml`` and its content type and relationship, copying every other
    part's compressed bytes as they are (no re-compression, so a large workbook costs a
    file copy, not a second write). Every workbook xfsheets writes passes here last."""
    path = Path(path)
    tmp = path.with_name(path.name + ".mark")
    with zipfile.ZipFile(path) as zin, path.open("rb") as raw, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        names = set(zin.namelist())
        types = zin.read("[Content_Types].xml").decode("utf-8")
        rels = zin.read("_rels/.rels").decode("utf-8")
        custom = zin.read("docProps/custom.xml") if "docProps/custom.xml" in names else None
        if "/docProps/custom.xml" not in types:
            types = types.replace("</Types>", f'<Override PartName="/docProps/custom.xml" ContentType="{_CUSTOM_TYPE}"/></Types>')
        if _CUSTOM_REL not in rels:
            ids = {int(i) for i in re.findall(r'Id="rId(\d+)"', rels)}
            rid = max(ids, default=0) + 1
            rels = rels.replace("</Relationships>", f'<Relationship Id="rId{rid}" Type="{_CUSTOM_REL}" '
                                                    f'Target="docProps/custom.xml"/></Relationships>')
        stamp = mark_value(_fingerprint(zin.infolist()), kind=_package_kind(zin))
        replaced = {"[Content_Types].xml": types.encode("utf-8"), "_rels/.rels": rels.encode("utf-8"),
                    "docProps/custom.xml": _custom_xml(custom, stamp)}
        for info in zin.infolist():
            if info.filename in replaced:
                zout.writestr(info.filename, replaced.pop(info.filename))
            else:
                _copy_member(raw, info, zout)
        for name, data in replaced.items():
            zout.writestr(name, data)
    os.replace(tmp, path)


def _copy_member(raw, info: zipfile.ZipInfo, zout: zipfile.ZipFile) -> None:
    """Copy one member's compressed bytes into ``zout`` unchanged (sizes and CRC kept)."""
    raw.seek(info.header_offset)
    fields = _FILE_HEADER.unpack(raw.read(_FILE_HEADER.size))
    name_len, extra_len = fields[-2], fields[-1]
    raw.seek(info.header_offset + _FILE_HEADER.size + name_len + extra_len)
    data = raw.read(info.compress_size)
    new = copy.copy(info)
    new.flag_bits &= ~0x08  # sizes and CRC go in the local header: no data descriptor
    new.extra = b""
    new.header_offset = zout.fp.tell()
    zout.fp.write(new.FileHeader())
    zout.fp.write(data)
    zout.filelist.append(new)
    zout.NameToInfo[new.filename] = new
    zout.start_dir = zout.fp.tell()
    zout._didModify = True
