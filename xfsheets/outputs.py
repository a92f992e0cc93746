"""Where outputs may go: the one gate every output path passes.

An output never replaces an input, and never replaces a file xfsheets did not write.
xfsheets marks each workbook it writes with a custom document property (``xfsheets``,
holding the version, the time of writing and a fingerprint of every other part of the
package); a later run may replace such a file as long as nobody saved it since (the
fingerprint still matches: any program that saves a workbook rewrites its parts). A file
somebody edited after xfsheets wrote it belongs to that person and is refused too.

Paths are compared the way Windows compares them: resolved, case-insensitively, and by
identity (``samefile``) where both exist, so ``台账.XLSX`` and ``.\\台账.xlsx`` are one file.

Folder outputs (slips, zero reports) are written into a temporary folder beside the
destination and moved in only when every file is complete (:func:`staged_folder`).
"""
from __future__ import annotations

import contextlib
import copy
import datetime as dt
import os
import re
import shutil
import struct
import tempfile
import zipfile
from pathlib import Path
from typing import Iterable, Iterator

from xfsheets.errors import XfsheetsError

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


def mark_value(fingerprint: str = "-", now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.timezone.utc)
    return f"xfsheets {_version()} {now.strftime('%Y-%m-%dT%H:%M:%SZ')} {fingerprint}"


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
    """Yield an empty temporary folder beside ``dest``; when the block succeeds, move its
    files into ``dest`` (created if needed). Before anything moves, every target is checked:
    none may be an input or a file xfsheets may not replace, so a refused or failed run
    leaves ``dest`` exactly as it was."""
    inputs = [Path(p) for p in inputs if p is not None]  # read once: a generator would be spent by the check
    dest = output_folder(dest, inputs)
    parent = dest.parent if str(dest.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".~xfsheets-", dir=parent))
    except OSError as exc:
        raise XfsheetsError(f"无法在「{parent}」中创建输出文件夹：{exc.strerror or exc}",
                            hint="请检查路径是否存在、是否有写入权限、磁盘是否已满") from exc
    try:
        yield tmp
        produced = sorted(p for p in tmp.rglob("*") if p.is_file())
        for p in produced:
            check_target(dest / p.relative_to(tmp), inputs)
        try:
            if not dest.exists():
                os.replace(tmp, dest)
                return
            for p in produced:
                target = dest / p.relative_to(tmp)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(p, target)
        except OSError as exc:
            raise XfsheetsError(f"无法把结果移入「{dest}」：{exc.strerror or exc}",
                                hint="请关闭正在 Excel/WPS 中打开的同名文件，检查写入权限后重试") from exc
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


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
        stamp = mark_value(_fingerprint(zin.infolist()))
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
