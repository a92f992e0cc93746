"""What the reader refuses before reading (and how a crash of the Rust reader is reported):
hostile or broken workbooks cost only themselves.

calamine (Rust) turns a sheet into one dense block from its first to its last cell, so
a 2.5 KB workbook with cells at A1 and XFD1048576 asks for 550 GB and the process
aborts; a zip of a few MB can hold gigabytes of XML. Before calamine sees a file we
look at it cheaply, in bounded memory:

- the container (.xlsx/.xlsm/.xltx/.xlsb/.ods): member count from the zip's end record,
  declared sizes and compression ratios from the central directory, then the real
  decompressed size of every member, streamed and stopped at the limit;
- each worksheet's real extent: the cell references (``r="..."``) of the cells that
  hold something, from a streaming, vectorised scan of the sheet XML (or a walk of the
  records of a .xlsb or .xls, or the repeated rows and columns of an .ods), so the dense
  block calamine will build is known in advance.

A sheet whose dense block is far larger than its data because of a few far-away
isolated cells (one stray value at XFD1048576) is read without them: the cells are
removed from an in-memory copy and listed as skipped. A genuinely huge sheet is
refused with a Chinese message saying what, where and how to fix it.

The numbers live in :data:`LIMITS` (one place); everything here returns data or raises
LedgerReadError, never touches the user's file.
"""
from __future__ import annotations

import io
import os
import re
import struct
import sys
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from xfsheets.errors import LedgerReadError

MiB = 1 << 20
GiB = 1 << 30


@dataclass(frozen=True)
class Limits:
    """The numbers, and why (measured on the 100 000-row x 26-column sample ledger):

    - an ordinary sheet's XML compresses 8-15 times (the sample: 9.4); deflate can reach
      about 1 000; 300 is far from both;
    - calamine keeps 32 bytes per cell of the dense block (plus 8 in the Python rows) and
      our reader about 240 bytes per filled cell (634 MB for the sample's 2.6 million
      cells): 20 million cells is a workbook of some 5 GB of memory, the most a worker's
      share of a 16-24 GB office PC can take; a ledger 8 times the sample still fits;
    - Excel's grid is 1 048 576 rows x 16 384 columns: nothing beyond it comes from Excel;
    - a far-away cell is one beyond 1 000 empty rows or 50 empty columns; more than 1 000
      of them is not a slip of the hand, so it is refused rather than guessed at.
    """

    # container (zip) limits, checked before anything is decompressed
    max_members: int = 10_000              # parts in the package (a real workbook has tens)
    max_uncompressed: int = 2 * GiB        # all parts together, declared and real
    max_ratio: float = 300.0               # uncompressed / compressed size of one part ...
    ratio_from: int = 16 * MiB             # ... for parts at least this big (small parts may be tiny repeats)
    # sheet extent limits (Excel's own grid; anything beyond it is not from Excel)
    max_rows: int = 1_048_576
    max_cols: int = 16_384
    max_cells: int = 20_000_000            # cells with a value, and the dense block calamine builds
    # a sparse sheet: look for far-away isolated cells when the dense block is bigger than
    # max(sparse_min, sparse_factor x the cells that hold something)
    sparse_min: int = 1_000_000
    sparse_factor: int = 10
    stray_row_gap: int = 1_000             # empty rows between the data and a "far-away" cell
    stray_col_gap: int = 50                # empty columns between the data and a "far-away" cell
    max_stray: int = 1_000                 # more far-away cells than this: refuse, do not guess
    # worker processes of a batch (consolidate): address-space limit per worker
    worker_memory_fraction: float = 0.5    # of physical memory, shared by the workers
    worker_memory_min: int = 2 * GiB


LIMITS = Limits()

_CHUNK = 4 * MiB
_FIX = "请用 Excel/WPS 打开该文件，删除多余内容（Ctrl+End 可定位到最后一个单元格）后另存为 .xlsx 再试"


@dataclass
class SheetExtent:
    """What a sheet really holds: cells with a value and the box around them (1-based)."""

    name: str
    cells: int = 0
    max_row: int = 0
    max_col: int = 0
    beyond: int = 0                           # cells outside Excel's grid
    unreferenced: int = 0                     # cells placed by their order along the row (no r)
    # occupied rows (columns) inside the grid and how many cells each holds, ascending
    row_ids: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    row_counts: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    col_ids: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    col_counts: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))

    @property
    def dense(self) -> int:
        """Cells of the block from A1 to the last cell (what the reader allocates)."""
        return self.max_row * self.max_col

    @classmethod
    def from_counts(cls, name: str, rows: np.ndarray, cols: np.ndarray, **kw: Any) -> "SheetExtent":
        """From dense per-row / per-column counts (index = number) to the sparse form kept."""
        ri, ci = np.flatnonzero(rows), np.flatnonzero(cols)
        return cls(name=name, row_ids=ri, row_counts=rows[ri], col_ids=ci, col_counts=cols[ci], **kw)


@dataclass
class Plan:
    """The outcome of the checks: what to give calamine, and what was left out."""

    source: Any                                  # a path or an in-memory copy (BytesIO)
    skipped: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # sheet -> (Excel row, why)
    extents: dict[str, SheetExtent] = field(default_factory=dict)


# --- entry point ------------------------------------------------------------------------

def check_workbook(path: Path, source: Any, limits: Limits = LIMITS) -> Plan:
    """Check ``source`` (the path, or a decrypted BytesIO) before calamine opens it.

    A zip package (.xlsx .xlsm .xltx .xlsb .ods) or an OLE file (.xls) is checked; anything
    else is left to calamine. Returns a Plan whose ``source`` may be an in-memory copy
    without far-away isolated cells. Raises LedgerReadError for a file beyond the limits.
    """
    fh = _open_bytes(source)
    try:
        head = fh.read(8)
    finally:
        if not isinstance(source, io.BytesIO):
            fh.close()
    kind = "zip" if head[:4] == b"PK\x03\x04" else "ole" if head == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" else ""
    plan = _check_zip(path, source, limits) if kind == "zip" else _check_xls(path, source, limits) \
        if kind == "ole" else Plan(source)
    for stream in (source, plan.source):  # calamine reads an in-memory file from where it stands
        if isinstance(stream, io.BytesIO):
            stream.seek(0)
    return plan


def decide(path: Path, ext: SheetExtent, limits: Limits = LIMITS) -> tuple[int, int] | None:
    """None when the sheet can be read as it is; else the (rows, columns) core to keep.

    Raises LedgerReadError when the sheet is too large even without far-away cells.
    """
    if ext.cells > limits.max_cells:
        raise LedgerReadError(
            f"工作表数据量过大（超过 {limits.max_cells:,} 个有内容的单元格）", file=path, sheet=ext.name,
            hint="请把台账按年度或单位拆分成几个文件后再读取")
    if _fine(ext, limits):
        return None
    core_rows = _core(ext.row_ids, limits.stray_row_gap)
    core_cols = _core(ext.col_ids, limits.stray_col_gap)
    stray = (int(ext.row_counts[ext.row_ids > core_rows].sum() + ext.col_counts[ext.col_ids > core_cols].sum())
             + ext.beyond)
    if stray == 0:
        if ext.dense <= limits.max_cells:
            return None  # sparse but no far-away cells: within the limit, read as it is
        raise LedgerReadError(
            f"工作表的数据区域过大（{_ref(ext.max_row, ext.max_col)} 以内共 {ext.dense:,} 个单元格，"
            f"上限 {limits.max_cells:,}）", file=path, sheet=ext.name, hint="请把台账拆分成几个文件，或删除多余的行列后另存")
    if stray > limits.max_stray or core_rows * core_cols > limits.max_cells or ext.unreferenced:
        # (cells without a reference cannot be told apart reliably: refuse rather than guess)
        raise LedgerReadError(
            f"工作表的数据区域过大：除 A1:{_ref(core_rows, core_cols)} 外，远处还有 {stray:,} 个单元格"
            f"（最远到 {_ref(ext.max_row, ext.max_col)}），按整块读取需要分配 {ext.dense:,} 个单元格",
            file=path, sheet=ext.name, hint=_FIX)
    return core_rows, core_cols


def _check_total(path: Path, extents: list[SheetExtent], cores: list[tuple[int, int] | None], limits: Limits) -> None:
    """The sheets of one workbook are read together: their cells and blocks count together."""
    cells = sum(e.cells for e in extents)
    dense = sum(core[0] * core[1] if core else e.dense for e, core in zip(extents, cores))
    if len(extents) > 1 and max(cells, dense) > limits.max_cells:
        raise LedgerReadError(
            f"工作簿数据量过大：{len(extents)} 个工作表共有 {cells:,} 个有内容的单元格、{dense:,} 个单元格的数据区域"
            f"（上限 {limits.max_cells:,}）", file=path, hint="请把工作表分别另存为几个文件后再读取")


def _core(occupied: np.ndarray, gap: int) -> int:
    """The last row (column) of the data before the first run of more than ``gap`` empty ones."""
    if occupied.size == 0:
        return 0
    jumps = np.flatnonzero(np.diff(occupied) > gap + 1)
    return int(occupied[jumps[0]]) if jumps.size else int(occupied[-1])


def _ref(row: int, col: int) -> str:
    if row <= 0 or col <= 0:
        return "A1"
    if col > 18_278:
        return f"第 {col} 列第 {row} 行"
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row}"


# --- zip containers (.xlsx .xlsm .xltx .xlsb) -------------------------------------------------

def _open_bytes(source: Any) -> BinaryIO:
    if isinstance(source, io.BytesIO):
        source.seek(0)
        return source
    return open(source, "rb")


def _member_count(fh: BinaryIO) -> int | None:
    """Number of parts from the zip's end-of-central-directory record (nothing decompressed)."""
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    tail_len = min(size, 65_557)
    fh.seek(size - tail_len)
    tail = fh.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None
    count = struct.unpack_from("<H", tail, at + 10)[0]
    return None if count == 0xFFFF else count  # zip64: zipfile reads the real count


def _check_zip(path: Path, source: Any, limits: Limits) -> Plan:
    broken = LedgerReadError("文件已损坏或不完整（压缩包结构无法识别），无法读取", file=path,
                             hint="请用 Excel/WPS 打开确认能否正常显示，必要时让报送单位重新发送")
    fh = _open_bytes(source)
    try:
        count = _member_count(fh)
        if count is not None and count > limits.max_members:
            raise _bomb(path, f"压缩包内有 {count:,} 个部件（上限 {limits.max_members:,}）")
        try:
            zf = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise broken from exc
        infos = zf.infolist()
        if len(infos) > limits.max_members:
            raise _bomb(path, f"压缩包内有 {len(infos):,} 个部件（上限 {limits.max_members:,}）")
        declared = sum(i.file_size for i in infos)
        if declared > limits.max_uncompressed:
            raise _bomb(path, f"解压后共 {declared / GiB:.1f} GB（上限 {limits.max_uncompressed / GiB:.0f} GB）")
        for info in infos:
            if info.file_size >= limits.ratio_from and info.file_size > limits.max_ratio * max(info.compress_size, 1):
                raise _bomb(path, f"部件「{info.filename}」压缩比异常（{info.file_size / max(info.compress_size, 1):,.0f} 倍，"
                                  f"解压后 {info.file_size / MiB:,.0f} MB）")
        names = _sheet_names(zf, limits)
        binary = _xlsb_sheets(zf)  # .xlsb: worksheet part -> sheet name
        extents: dict[str, SheetExtent] = {}
        ods: list[SheetExtent] = []
        total = 0
        for info in infos:
            if info.is_dir():
                continue
            try:
                ext, size = _scan_member(path, zf, info, names.get(info.filename, info.filename), limits,
                                         budget=limits.max_uncompressed - total)
                if info.filename in binary:
                    ext = _scan_xlsb_sheet(path, zf, info, binary[info.filename], limits).extent()
                elif info.filename == "content.xml" and _is_ods(zf):
                    ods = _ods_extents(path, zf, info, limits)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as exc:
                raise broken from exc
            total += size
            if ext is not None:
                extents[info.filename] = ext
        plan = Plan(source, extents={e.name: e for e in extents.values()})
        for ext in ods:  # an .ods is not rewritten here: read it whole, or refuse it
            plan.extents[ext.name] = ext
            if max(ext.cells, ext.dense) > limits.max_cells:
                raise LedgerReadError(
                    f"工作表的数据区域过大（到 {_ref(ext.max_row, ext.max_col)}，按整块读取需要分配 {ext.dense:,} 个单元格，"
                    f"上限 {limits.max_cells:,}）", file=path, sheet=ext.name, hint=_FIX)
        cores = {member: core for member, ext in extents.items() if (core := decide(path, ext, limits))}
        _check_total(path, [*extents.values(), *ods], [*(cores.get(m) for m in extents), *(None for _ in ods)],
                     limits)
        if cores:
            plan.source = _without_strays(zf, cores, extents, plan.skipped)
        return plan
    finally:
        if not isinstance(source, io.BytesIO):
            fh.close()


def _bomb(path: Path, what: str) -> LedgerReadError:
    return LedgerReadError(f"文件结构异常，疑似“压缩炸弹”：{what}，为保护本机未读取", file=path,
                           hint="正常台账不会这样；请让报送单位用 Excel/WPS 重新另存为 .xlsx 后发送")


_SHEET_TAG = re.compile(rb'<(?:\w+:)?sheet\b[^>]*>')
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')


def _sheet_names(zf: zipfile.ZipFile, limits: Limits) -> dict[str, str]:
    """Worksheet part -> sheet name (for messages and notes); best effort, bounded."""
    try:
        book = _read_small(zf, "xl/workbook.xml")
        rels = _read_small(zf, "xl/_rels/workbook.xml.rels")
    except KeyError:
        return {}
    if book is None or rels is None:
        return {}
    targets = {}
    for tag in re.findall(rb"<Relationship\b[^>]*>", rels):
        attrs = dict(_ATTR.findall(tag))
        target = attrs.get(b"Target", b"").decode("utf-8", "replace")
        target = target.lstrip("/") if target.startswith("/") else "xl/" + target
        targets[attrs.get(b"Id", b"")] = os.path.normpath(target).replace(os.sep, "/")
    out = {}
    for tag in _SHEET_TAG.findall(book):
        attrs = dict(_ATTR.findall(tag))
        rid = next((v for k, v in attrs.items() if k.endswith(b":id")), None)
        name = attrs.get(b"name")
        if rid in targets and name is not None:
            out[targets[rid]] = _unescape(name.decode("utf-8", "replace"))
    return out


def _read_small(zf: zipfile.ZipFile, name: str, cap: int = 16 * MiB) -> bytes | None:
    with zf.open(name) as fh:
        data = fh.read(cap + 1)
    return None if len(data) > cap else data


def _unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))


_SHEET_DATA = re.compile(rb"<(?:\w+:)?sheetData\b")


def _scan_member(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, limits: Limits,
                 budget: int) -> tuple[SheetExtent | None, int]:
    """Stream one part: its real size (stopped at the budget) and, for a worksheet (a part
    with ``<sheetData``), its extent: the quick bound, or the exact scan when the bound is
    not conclusive or not clearly fine."""
    quick: _QuickScan | None = None
    size = 0
    carry = b""
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(_CHUNK)
            size += len(chunk)
            if size > budget:
                raise _bomb(path, f"部件「{info.filename}」解压后超过 {limits.max_uncompressed / GiB:.0f} GB")
            if quick is None and _SHEET_DATA.search(carry[-64:] + chunk):
                quick = _QuickScan()
            if quick is not None:
                carry = _feed_rows(quick, carry, chunk)
                if quick.content > limits.max_cells:  # already too many: no need to read on
                    return SheetExtent(name=name, cells=quick.content), size
            else:
                carry = chunk[-64:]
            if not chunk:
                break
    if quick is None:
        return None, size
    ext = SheetExtent(name=name, cells=quick.content, max_row=quick.max_row, max_col=quick.max_col)
    if quick.conclusive and _fine(ext, limits):
        return ext, size
    exact = _SheetScanner(name, limits)
    exact.refs_only = quick.conclusive
    with zf.open(info) as fh:
        carry = b""
        while True:
            chunk = fh.read(_CHUNK)
            carry = _feed_rows(exact, carry, chunk)
            if not chunk or exact.cells > limits.max_cells:
                break
    return exact.extent(), size


def _cut(buf: bytes) -> int:
    """Where to cut a chunk of sheet XML so that no cell is split: before its last ``<row``;
    in a row longer than _CARRY_MAX, before its last cell; 0: keep reading."""
    cut = buf.rfind(b"<row")
    if cut <= 0 and len(buf) > _CARRY_MAX:  # a row without end (hostile): memory stays bounded
        cut = max(buf.rfind(b"<c "), buf.rfind(b"<c>"), 0) or buf.rfind(b"<")
    return max(cut, 0)


_CARRY_MAX = 16 * MiB


def _feed_rows(scanner: Any, carry: bytes, chunk: bytes) -> bytes:
    """Feed ``carry + chunk`` cut where no cell is split; returns the rest."""
    buf = carry + chunk
    if chunk:
        cut = _cut(buf)
        if cut <= 0:
            return buf
        buf, carry = buf[:cut], buf[cut:]
    else:
        carry = b""
    scanner.feed(buf)
    return carry


def _fine(ext: SheetExtent, limits: Limits) -> bool:
    """The sheet can be read as it is: no cell outside the grid, dense block near the data."""
    return (not ext.beyond and ext.max_row <= limits.max_rows and ext.max_col <= limits.max_cols
            and ext.cells <= limits.max_cells
            and ext.dense <= max(limits.sparse_min, limits.sparse_factor * ext.cells))


# --- the vectorised scan of a sheet's XML -------------------------------------------------------

_LT, _GT, _SLASH, _QUOTE = ord("<"), ord(">"), ord("/"), ord('"')
_R_ATTR = np.frombuffer(b' r="', dtype=np.uint8)


# An r attribute written other than ` r="` (XML allows white space around "=", single quotes,
# a tab or new line before the name). Excel never does; a crafted file might, to slip a
# far-away cell past the scan. Such chunks are rewritten ` r="...` before they are looked at.
_ANY_R = re.compile(rb"""\sr\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_EQ, _R, _WS = ord("="), ord("r"), np.array([9, 10, 13, 32], dtype=np.uint8)


def _odd_r(a: np.ndarray) -> bool:
    """Whether an r attribute may be written some other way than ` r="` (vectorised; text
    with an "=" in it may say yes too: the chunk is then only looked at more closely)."""
    eq = np.flatnonzero(a[2:-1] == _EQ) + 2
    if eq.size == 0:
        return False
    before, before2, after = a[eq - 1], a[eq - 2], a[eq + 1]
    return bool(((before == _R) & ((after != _QUOTE) | np.isin(before2, _WS[:3]))).any()
                or np.isin(before, _WS).any())


def _normal_r(buf: bytes) -> bytes:
    if len(buf) < 4 or not _odd_r(np.frombuffer(buf, dtype=np.uint8)):
        return buf
    return _ANY_R.sub(lambda m: b' r="' + (m.group(1) if m.group(1) is not None else m.group(2)) + b'"', buf)


_CELL_OPEN = np.frombuffer(b"<c", dtype=np.uint8)


def _cell_tags(a: np.ndarray) -> int:
    """How many ``<c`` start tags (followed by white space, ``>`` or ``/``) ``a`` holds."""
    at = _find(a, _CELL_OPEN) + 2
    nxt = a[np.minimum(at, a.size - 1)]
    return int(((nxt == 32) | (nxt == 62) | (nxt == 47) | (nxt == 9) | (nxt == 10) | (nxt == 13)).sum())


def _find(a: np.ndarray, pattern: np.ndarray) -> np.ndarray:
    """Start positions of ``pattern`` in ``a`` (vectorised)."""
    n = a.size - pattern.size + 1
    if n <= 0:
        return np.empty(0, dtype=np.int64)
    hit = a[:n] == pattern[0]
    for k in range(1, pattern.size):
        hit &= a[k:n + k] == pattern[k]
    return np.flatnonzero(hit)


_HUGE = 1 << 40  # a row or column number beyond any grid


def _run(a: np.ndarray, start: np.ndarray, width: int, lo: int, hi: int, base: int) -> tuple[np.ndarray, np.ndarray]:
    """(value, length) of the run of bytes in [lo, hi] at each ``start``, read in ``base``
    (letters count from 1: A=1 ... Z=26); a run as long as ``width`` is too long: _HUGE."""
    if start.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    idx = np.minimum(start[:, None] + np.arange(width), a.size - 1)
    d = a[idx] - np.uint8(lo - (1 if base == 26 else 0))  # wraps below lo: out of range
    low = 1 if base == 26 else 0
    inside = (d >= low) & (d <= hi - lo + low)
    length = np.argmin(inside, axis=1)
    full = inside[:, -1] & inside[:, 0] & (length == 0)
    d = np.where(np.arange(width) < length[:, None], d, 0).astype(np.int64)
    powers = base ** np.arange(width - 1, -1, -1, dtype=np.int64)
    value = (d @ powers) // powers[np.maximum(length - 1, 0)] * (length > 0)
    length[full] = width
    value[full] = _HUGE
    return value, length


def _digits(a: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _run(a, start, 8, 48, 57, 10)      # Excel rows have at most 7 digits


def _letters(a: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _run(a, start, 4, 65, 90, 26)      # Excel columns have at most 3 letters


class _QuickScan:
    """A cheap first look at a worksheet's XML: an upper bound of its extent.

    Conclusive only when every cell tag has a well-formed ``r`` (Excel, WPS, openpyxl and
    xlsxwriter always write one); then the rows and columns are read from the references
    alone, every cell counted (even an empty one), so the bound is never too small.
    Anything unusual hands the sheet to the exact scan (_SheetScanner).
    """

    def __init__(self) -> None:
        self.conclusive = True
        self.content = self.max_row = self.max_col = 0

    def feed(self, buf: bytes) -> None:
        if not buf or not self.conclusive:
            return
        a = np.frombuffer(buf, dtype=np.uint8)
        end = a.size - 1
        rpos = _find(a, _R_ATTR)
        first = a[np.minimum(rpos + 4, end)]
        refs = rpos[(first >= 65) & (first <= 90)] + 4
        if _cell_tags(a) != refs.size or (a.size > 3 and _odd_r(a)) or not _one_ref_per_cell_tag(a, refs - 4):
            self.conclusive = False  # cells without r, r written some other way, r-like text: look closely
            return
        self.content += buf.count(b"</c>")
        if refs.size == 0:
            return

        def at(k: np.ndarray | int, where: np.ndarray) -> np.ndarray:
            return a[np.minimum(where + k, end)]

        ncol = np.ones(refs.size, dtype=np.int64)
        run = np.ones(refs.size, dtype=bool)
        for k in (1, 2, 3):
            x = at(k, refs)
            run &= (x >= 65) & (x <= 90)
            ncol += run
        digits = refs + ncol
        nrow = np.zeros(refs.size, dtype=np.int64)
        run[:] = True
        for k in range(8):
            x = at(k, digits)
            run &= (x >= 48) & (x <= 57)
            nrow += run
        if ncol.max() > 3 or nrow.max() > 7 or nrow.min() == 0 or (at(nrow, digits) != _QUOTE).any():
            self.conclusive = False  # a reference Excel never writes: look closely
            return
        self.max_col = max(self.max_col, _largest(a, refs, ncol, 26, 64))
        self.max_row = max(self.max_row, _largest(a, digits, nrow, 10, 48))


def _one_ref_per_cell_tag(a: np.ndarray, rpos: np.ndarray) -> bool:
    """Whether each ` r="` sits inside its own ``<c`` start tag (not in text, not twice in one
    tag): then the counts agreeing means every cell tag has exactly one reference."""
    if rpos.size == 0:
        return True
    lt = np.flatnonzero(a == _LT)
    gt = np.flatnonzero(a == _GT)
    k = np.searchsorted(lt, rpos) - 1
    if k.size == 0 or k[0] < 0:
        return False
    owner = lt[k]
    nxt, sep = a[np.minimum(owner + 1, a.size - 1)], a[np.minimum(owner + 2, a.size - 1)]
    in_tag = np.searchsorted(gt, owner) == np.searchsorted(gt, rpos)  # no ">" in between
    return bool((nxt == ord("c")).all() and np.isin(sep, _WS).all() and in_tag.all()
                and (owner.size < 2 or (np.diff(owner) > 0).all()))


def _largest(a: np.ndarray, start: np.ndarray, length: np.ndarray, base: int, zero: int) -> int:
    """The largest number written at ``start`` with ``length`` digits (the longest ones win)."""
    n = int(length.max())
    sel = start[length == n]
    value = np.zeros(sel.size, dtype=np.int64)
    for k in range(n):
        value = value * base + (a[sel + k].astype(np.int64) - zero)
    return int(value.max())


class _SheetScanner:
    """Feeds on chunks of a worksheet's XML cut before a ``<row`` tag; bounded memory.

    A cell counts when its ``<c ...>`` tag is not self-closing (an empty ``<c r="B2"
    s="1"/>`` holds only formatting; calamine ignores it too). Its position is its
    ``r`` attribute, else the next one along its row (as calamine does). Text that merely
    looks like ``r="..."`` inside a cell can only make the extent look bigger, never smaller.
    """

    def __init__(self, name: str, limits: Limits) -> None:
        self.name = name
        self.limits = limits
        self.rows = np.zeros(limits.max_rows + 1, dtype=np.int64)
        self.cols = np.zeros(limits.max_cols + 1, dtype=np.int64)
        self.cells = self.beyond = self.max_row = self.max_col = self.unreferenced = 0
        self.last_row = 0

    refs_only = False  # every cell tag has a well-formed r (the quick scan said so): read refs alone

    def feed(self, buf: bytes) -> None:
        if buf and self.refs_only:
            self._feed_refs(np.frombuffer(buf, dtype=np.uint8))
        elif buf:
            self._feed_tags(np.frombuffer(_normal_r(buf), dtype=np.uint8))

    def _feed_refs(self, a: np.ndarray) -> None:
        end = a.size - 1
        rpos = _find(a, _R_ATTR)
        first = a[np.minimum(rpos + 4, end)]
        refs = rpos[(first >= 65) & (first <= 90)] + 4
        gt = np.flatnonzero(a == _GT)
        if refs.size == 0 or gt.size == 0:
            return
        col, ncol = _letters(a, refs)
        row, _ = _digits(a, refs + ncol)
        close = gt[np.minimum(np.searchsorted(gt, refs), gt.size - 1)]
        content = a[close - 1] != _SLASH
        self._add(row[content], col[content])

    def _feed_tags(self, a: np.ndarray) -> None:
        lt = np.flatnonzero(a == _LT)
        gt = np.flatnonzero(a == _GT)
        if lt.size == 0 or gt.size == 0:
            return
        end = a.size - 1
        b1, b2, b3, b4 = (a[np.minimum(lt + k, end)] for k in (1, 2, 3, 4))

        def sep(x: np.ndarray) -> np.ndarray:
            return (x == 32) | (x == 62) | (x == 47) | (x == 9) | (x == 10) | (x == 13)

        is_cell = (b1 == ord("c")) & sep(b2)
        is_row = (b1 == ord("r")) & (b2 == ord("o")) & (b3 == ord("w")) & sep(b4)
        keep = is_cell | is_row
        tags, kinds = lt[keep], is_cell[keep]
        if tags.size == 0:
            return
        ends = gt[np.minimum(np.searchsorted(gt, tags), gt.size - 1)]
        # r="..." attributes inside these tags
        rpos = _find(a, _R_ATTR)
        owner = np.searchsorted(tags, rpos, side="right") - 1
        ok = owner >= 0
        ok[ok] &= rpos[ok] < ends[owner[ok]]
        self._orphans(a, rpos[~ok])
        rpos, owner = rpos[ok], owner[ok]
        col, ncol = _letters(a, rpos + 4)
        row, nrow = _digits(a, rpos + 4 + ncol)
        good = (nrow > 0) & (a[np.minimum(rpos + 4 + ncol + nrow, a.size - 1)] == _QUOTE)
        bad_cell = ~good & (ncol > 0) & kinds[owner]  # a cell reference Excel never writes
        row, col = np.where(bad_cell, _HUGE, row), np.where(bad_cell, _HUGE, col)
        valid = good | bad_cell
        has_r = np.zeros(tags.size, dtype=bool)
        tag_row = np.zeros(tags.size, dtype=np.int64)
        tag_col = np.zeros(tags.size, dtype=np.int64)
        has_r[owner[valid]] = True
        tag_row[owner[valid]] = row[valid]
        tag_col[owner[valid]] = col[valid]
        # row numbers of row tags: their r, else the previous row + 1
        row_idx = np.flatnonzero(~kinds)
        row_numbers = tag_row[row_idx].copy()
        before = self.last_row
        if row_idx.size and not has_r[row_idx].all():  # a row without r follows the one before it
            has = has_r[row_idx]
            k = np.arange(row_idx.size)
            last = np.maximum.accumulate(np.where(has, k, -1))
            row_numbers = np.where(last >= 0, row_numbers[np.maximum(last, 0)] + (k - last), before + k + 1)
        if row_idx.size:
            self.last_row = int(row_numbers[-1])
        # cells: those that hold something (tag not self-closing)
        cell_idx = np.flatnonzero(kinds)
        if cell_idx.size == 0:
            return
        which_row = np.searchsorted(row_idx, cell_idx) - 1
        enclosing = (row_numbers[np.maximum(which_row, 0)] if row_idx.size else np.zeros(cell_idx.size, np.int64))
        enclosing = np.where(which_row >= 0, enclosing, before)
        with_ref = has_r[cell_idx] & (tag_col[cell_idx] > 0)
        rows = np.where(has_r[cell_idx], tag_row[cell_idx], enclosing)
        cols = tag_col[cell_idx]
        if not with_ref.all():  # columns by place along the row, for cells without r
            first = np.searchsorted(which_row, which_row, side="left")
            cols = np.where(with_ref, cols, np.arange(cell_idx.size) - first + 1)
        content = a[ends[cell_idx] - 1] != _SLASH
        self.unreferenced += int((content & ~with_ref).sum())
        self._add(rows[content], cols[content])

    def _orphans(self, a: np.ndarray, rpos: np.ndarray) -> None:
        """References outside a plain ``<c>`` tag (``<x:c r=...>``, or text): counted as cells,
        so that they can only make the extent bigger."""
        refs = rpos + 4
        first = a[np.minimum(refs, a.size - 1)]
        refs = refs[(first >= 65) & (first <= 90)]
        if refs.size:
            col, ncol = _letters(a, refs)
            row, _ = _digits(a, refs + ncol)
            self._add(np.where(row > 0, row, _HUGE), col)

    def _add(self, rows: np.ndarray, cols: np.ndarray) -> None:
        if rows.size == 0:
            return
        lim = self.limits
        inside = (rows >= 1) & (rows <= lim.max_rows) & (cols >= 1) & (cols <= lim.max_cols)
        self.beyond += int((~inside).sum())
        self.cells += int(rows.size)
        self.max_row = max(self.max_row, int(rows.max()))
        self.max_col = max(self.max_col, int(cols.max()))
        self.rows += np.bincount(rows[inside], minlength=self.rows.size)
        self.cols += np.bincount(cols[inside], minlength=self.cols.size)

    def extent(self) -> SheetExtent:
        return SheetExtent.from_counts(self.name, self.rows, self.cols, cells=self.cells, beyond=self.beyond,
                                       max_row=self.max_row, max_col=self.max_col, unreferenced=self.unreferenced)


# --- an in-memory copy without far-away cells ------------------------------------------------------

def _without_strays(zf: zipfile.ZipFile, cores: dict[str, tuple[int, int]], extents: dict[str, SheetExtent],
                    skipped: dict[str, list[tuple[int, str]]]) -> io.BytesIO:
    """An in-memory copy of the package whose sheets in ``cores`` lose their far-away cells.
    Parts are stored uncompressed up to _STORE_UP_TO (compressing costs more time than the
    memory it saves: calamine inflates them right away), deflated (fast) beyond."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", allowZip64=True) as dst:
        for info in zf.infolist():
            with zf.open(info) as src, dst.open(_fresh(info), "w", force_zip64=True) as target:
                if info.filename in cores and info.filename.endswith(".bin"):
                    notes = skipped.setdefault(extents[info.filename].name, [])
                    target.write(_xlsb_without_far(src.read(), *cores[info.filename], notes))
                elif info.filename in cores:
                    notes = skipped.setdefault(extents[info.filename].name, [])
                    _copy_sheet(src, target, *cores[info.filename], notes)
                else:
                    while chunk := src.read(_CHUNK):
                        target.write(chunk)
    out.seek(0)
    return out


_STORE_UP_TO = 256 * MiB


def _fresh(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    new = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    if info.file_size <= _STORE_UP_TO:
        new.compress_type = zipfile.ZIP_STORED
    else:
        new.compress_type, new._compresslevel = zipfile.ZIP_DEFLATED, 1
    return new


_CELL = re.compile(rb'<((?:\w+:)?c)\s[^>]*?\br="([^"]*)"[^>]*?(?:/>|>.*?</\1>)', re.S)


def _copy_sheet(src: BinaryIO, target: BinaryIO, max_row: int, max_col: int, notes: list[tuple[int, str]]) -> None:
    """Copy a worksheet's XML leaving out the cells beyond (max_row, max_col); each one is noted."""
    tail = b""
    while True:
        chunk = src.read(_CHUNK)
        buf = tail + chunk
        if chunk:
            cut = _cut(buf)
            if cut <= 0:
                tail = buf
                continue
            buf, tail = buf[:cut], buf[cut:]
        else:
            tail = b""
        target.write(_drop_far(buf, max_row, max_col, notes))
        if not chunk:
            break


def _drop_far(buf: bytes, max_row: int, max_col: int, notes: list[tuple[int, str]]) -> bytes:
    buf = _normal_r(buf)
    a = np.frombuffer(buf, dtype=np.uint8)
    rpos = _find(a, _R_ATTR)
    if rpos.size == 0:
        return buf
    first = a[np.minimum(rpos + 4, a.size - 1)]
    rpos = rpos[(first >= 65) & (first <= 90)]  # cell references (row tags start with a digit)
    col, ncol = _letters(a, rpos + 4)
    row, nrow = _digits(a, rpos + 4 + ncol)
    good = (nrow > 0) & (a[np.minimum(rpos + 4 + ncol + nrow, a.size - 1)] == _QUOTE)
    far = ~good | (row > max_row) | (col > max_col)
    if not far.any():
        return buf
    pieces, at = [], 0
    for p in rpos[far].tolist():
        start = buf.rfind(b"<", 0, p)  # attributes hold no "<": this is the cell's own tag
        m = _CELL.match(buf, start) if start >= at else None
        if m is None or m.end() <= p:
            continue
        pieces.append(buf[at:m.start()])
        at = m.end()
        ref = m.group(2).decode("ascii", "replace")[:20]
        if not m.group(0).endswith(b"/>"):
            digits = re.search(r"[0-9]+", ref)
            notes.append((int(digits.group()) if digits else 0, f"远离数据区的孤立单元格 {ref}（已跳过，未读取）"))
    pieces.append(buf[at:])
    return b"".join(pieces)


# --- .xlsb (BIFF12 records in a zip) ------------------------------------------------------------------

_XLSB_CELL_FIRST, _XLSB_CELL_LAST = 0x0002, 0x000A  # BrtCellRk .. BrtFmlaBool: the cells calamine reads
_XLSB_ROW, _XLSB_END_DATA = 0x0000, 0x0092          # BrtRowHdr, BrtEndSheetData
_XLSB_ROW_MAX = 0x0010_0000                         # calamine stops at a row beyond this


def _xlsb_sheets(zf: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part -> sheet name of a .xlsb (from workbook.bin and its relationships)."""
    try:
        rels = _read_small(zf, "xl/_rels/workbook.bin.rels")
        book = _read_small(zf, "xl/workbook.bin")
    except KeyError:
        return {}
    if rels is None or book is None:
        return {}
    targets = {}
    for tag in re.findall(rb"<Relationship\b[^>]*>", rels):
        attrs = dict(_ATTR.findall(tag))
        if attrs.get(b"Type", b"").endswith(b"/worksheet"):
            target = attrs.get(b"Target", b"").decode("utf-8", "replace")
            target = target.lstrip("/") if target.startswith("/") else "xl/" + target
            targets[attrs.get(b"Id", b"").decode("utf-8", "replace")] = os.path.normpath(target).replace(os.sep, "/")
    out = {part: part for part in targets.values()}
    for typ, body in _records(book):
        if typ == 0x009C and len(body) >= 12:  # BrtBundleSh: state, tab id, relationship id, name
            try:
                n = struct.unpack_from("<I", body, 8)[0]
                rid = body[12:12 + 2 * n].decode("utf-16-le")
                m = struct.unpack_from("<I", body, 12 + 2 * n)[0]
                name = body[16 + 2 * n:16 + 2 * n + 2 * m].decode("utf-16-le")
            except (struct.error, UnicodeDecodeError):
                continue
            if rid in targets:
                out[targets[rid]] = name
    return out


def _records(data: bytes):
    """(type, body) of each BIFF12 record of a small part (workbook.bin)."""
    i, n = 0, len(data)
    while i < n:
        typ = data[i]
        i += 1
        if typ & 0x80:
            if i >= n:
                return
            typ = (typ & 0x7F) | ((data[i] & 0x7F) << 7)
            i += 1
        size = shift = 0
        for _ in range(4):
            if i >= n:
                return
            b = data[i]
            i += 1
            size |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        yield typ, data[i:i + size]
        i += size


class _XlsbWalk:
    """The cells of a .xlsb sheet as calamine reads them: a walk over its records, chunk by
    chunk; keeps each cell's row, column, offset and length (for the copy without strays)."""

    def __init__(self, name: str, limits: Limits):
        self.name, self.limits = name, limits
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.offsets: list[int] = []
        self.lengths: list[int] = []
        self.row = 0
        self.done = False

    def feed(self, buf: bytes, base: int) -> int:
        """Walk the whole records of ``buf`` (starting at ``base`` in the part); returns how
        many bytes were used (the rest is an incomplete record)."""
        u32 = struct.Struct("<I").unpack_from
        rows, cols, offsets, lengths = self.rows.append, self.cols.append, self.offsets.append, self.lengths.append
        i, n = 0, len(buf)
        row = self.row
        while i < n and not self.done:
            start = i
            typ = buf[i]
            i += 1
            if typ & 0x80:
                if i >= n:
                    return start
                typ = (typ & 0x7F) | ((buf[i] & 0x7F) << 7)
                i += 1
            size = shift = 0
            for _ in range(4):
                if i >= n:
                    return start
                b = buf[i]
                i += 1
                size |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            if i + size > n:
                return start
            if _XLSB_CELL_FIRST <= typ <= _XLSB_CELL_LAST and size >= 4:
                rows(row + 1)
                cols(u32(buf, i)[0] + 1)
                offsets(base + start)
                lengths(i + size - start)
            elif typ == _XLSB_ROW and size >= 4:
                row = u32(buf, i)[0]
                self.done = row > _XLSB_ROW_MAX
            elif typ == _XLSB_END_DATA:
                self.done = True
            i += size
        self.row = row
        return i

    def extent(self) -> SheetExtent:
        scan = _SheetScanner(self.name, self.limits)
        scan._add(np.asarray(self.rows, dtype=np.int64), np.asarray(self.cols, dtype=np.int64))
        return scan.extent()


def _scan_xlsb_sheet(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, limits: Limits) -> _XlsbWalk:
    walk = _XlsbWalk(name, limits)
    with zf.open(info) as fh:
        carry, base = b"", 0
        while not walk.done:
            chunk = fh.read(_CHUNK)
            if not chunk:
                break
            buf = carry + chunk
            used = walk.feed(buf, base)
            carry, base = buf[used:], base + used
            if len(carry) > 64 * MiB:  # one record of 64 MB: not a worksheet Excel writes
                raise _bomb(path, f"部件「{info.filename}」中有异常巨大的记录")
            if len(walk.rows) > limits.max_cells:
                break
    return walk


def _xlsb_without_far(data: bytes, max_row: int, max_col: int, notes: list[tuple[int, str]]) -> bytes:
    """A .xlsb sheet part without the cell records beyond (max_row, max_col); each one noted."""
    walk = _XlsbWalk("", LIMITS)
    walk.feed(data, 0)
    pieces, at = [], 0
    for r, c, off, length in zip(walk.rows, walk.cols, walk.offsets, walk.lengths):
        if r > max_row or c > max_col:
            pieces.append(data[at:off])
            at = off + length
            notes.append((r, f"远离数据区的孤立单元格 {_ref(r, c)}（已跳过，未读取）"))
    pieces.append(data[at:])
    return b"".join(pieces)


# --- .ods (OpenDocument: repeated rows and columns) ------------------------------------------------
# One element can stand for a million rows (table:number-rows-repeated) or columns; calamine
# expands them (it refuses beyond 100 million cells, but 90 million already need 3 GB).

_ODS_ITEM = re.compile(rb"<table:table(?:(\s[^>]*)>|-row(?=[\s/>])([^>]*?)(?:/>|>(.*?)</table:table-row>))", re.S)
_ODS_NAME = re.compile(rb'table:name="([^"]*)"')
_ODS_ROWS = re.compile(rb'table:number-rows-repeated="(\d+)"')
_ODS_COLS = re.compile(rb'table:number-columns-repeated="(\d+)"')
_ODS_CELL = re.compile(rb"<table:(?:covered-)?table-cell(?=[\s/>])([^>]*?)(?:/>|>(.*?)</table:(?:covered-)?table-cell>)", re.S)
_ODS_TRAILING = re.compile(rb"(?:<table:(?:covered-)?table-cell(?=[\s/>])[^>]*/>)+\s*$")


def _is_ods(zf: zipfile.ZipFile) -> bool:
    try:
        return (_read_small(zf, "mimetype", 256) or b"").startswith(b"application/vnd.oasis.opendocument.spreadsheet")
    except KeyError:
        return False


class _OdsScan:
    """Rows (with their repeats) and the cells that hold something, table by table."""

    def __init__(self) -> None:
        self.tables: list[SheetExtent] = []
        self.row = 0

    def feed(self, buf: bytes) -> None:
        for m in _ODS_ITEM.finditer(buf):
            if m.group(1) is not None:  # a new table (sheet)
                name = _ODS_NAME.search(m.group(1))
                self.tables.append(SheetExtent(name=_unescape(name.group(1).decode("utf-8", "replace"))
                                               if name else f"工作表{len(self.tables) + 1}"))
                self.row = 0
                continue
            reps = _ODS_ROWS.search(m.group(2))
            rows = int(reps.group(1)) if reps else 1
            body = _ODS_TRAILING.sub(b"", m.group(3) or b"")
            if self.tables and (b"office:value-type" in body or b"<text:p" in body):
                width, filled = _ods_row(body)
                ext = self.tables[-1]
                ext.max_row = self.row + rows
                ext.max_col = max(ext.max_col, width)
                ext.cells += rows * filled
            self.row += rows


def _ods_row(body: bytes) -> tuple[int, int]:
    """(columns up to the last cell that holds something, cells that hold something) of a row."""
    if b"number-columns-repeated" not in body:  # the usual row: counting is enough (a bound)
        width = body.count(b"<table:table-cell") + body.count(b"<table:covered-table-cell")
        return width, max(body.count(b"office:value-type"), body.count(b"<text:p"))
    col = width = filled = 0
    for cell in _ODS_CELL.finditer(body):
        reps = _ODS_COLS.search(cell.group(1))
        n = int(reps.group(1)) if reps else 1
        col += n
        if b"office:value-type" in cell.group(1) or (cell.group(2) and b"<text:p" in cell.group(2)):
            width, filled = col, filled + n
    return width, filled


def _ods_extents(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> list[SheetExtent]:
    scan = _OdsScan()
    with zf.open(info) as fh:
        carry = b""
        while True:
            chunk = fh.read(_CHUNK)
            buf = carry + chunk
            if chunk:
                cut = max(buf.rfind(b"<table:table-row"), buf.rfind(b"<table:table "))
                if cut <= 0:
                    if len(buf) > 64 * MiB:
                        raise _bomb(path, "content.xml 中有异常巨大的行")
                    carry = buf
                    continue
                buf, carry = buf[:cut], buf[cut:]
            scan.feed(buf)
            if not chunk:
                break
    return scan.tables


# --- .xls (BIFF8 in an OLE compound file) ------------------------------------------------------------

_BIFF_CELLS = frozenset({0x0203, 0x0204, 0x027E, 0x00FD, 0x0205, 0x0006, 0x00D6})  # NUMBER LABEL RK LABELSST
# BOOLERR FORMULA RSTRING: the cell records calamine reads (row and column are their first 4 bytes)
_BIFF_MULRK = 0x00BD
_BIFF_BOUNDSHEET, _BIFF_FILEPASS = 0x0085, 0x002F
_BIFF_IGNORED = 0x00EF  # a record type calamine does not read: far-away cells are renamed to it


def _check_xls(path: Path, source: Any, limits: Limits) -> Plan:
    """Walk the BIFF records of a .xls: each sheet's cells, before calamine builds its dense block."""
    import olefile

    data_in = source.getvalue() if isinstance(source, io.BytesIO) else None
    try:
        ole = olefile.OleFileIO(data_in if data_in is not None else str(source))
    except Exception:
        return Plan(source)  # not an OLE file olefile knows: calamine judges it
    try:
        stream = next((s for s in ("Workbook", "Book") if ole.exists(s)), None)
        if stream is None:
            return Plan(source)
        size = ole.get_size(stream)
        if size > limits.max_uncompressed:
            raise _bomb(path, f"工作簿数据流 {size / GiB:.1f} GB")
        data = ole.openstream(stream).read()
    finally:
        ole.close()
    sheets, cells = _walk_biff(data)
    plan = Plan(source)
    patches: list[int] = []
    for offset, name in sheets.items():
        rows, cols, where = cells.get(offset, (np.empty(0, np.int64),) * 3)
        scan = _SheetScanner(name, limits)
        scan._add(rows, cols)
        ext = scan.extent()
        plan.extents[name] = ext
        core = decide(path, ext, limits)
        if core is None:
            continue
        far = (rows > core[0]) | (cols > core[1])
        notes = plan.skipped.setdefault(name, [])
        for r, c, at in zip(rows[far].tolist(), cols[far].tolist(), where[far].tolist()):
            notes.append((r, f"远离数据区的孤立单元格 {_ref(r, c)}（已跳过，未读取）"))
            patches.append(at)
    _check_total(path, list(plan.extents.values()),
                 [decide(path, e, limits) for e in plan.extents.values()], limits)
    if patches:
        try:
            plan.source = _patched_ole(source, stream, data, patches, path)
        except Exception:  # olefile cannot rewrite this stream (e.g. a tiny one): read it whole,
            plan.skipped.clear()  # which a .xls grid (65536 x 256) keeps under a gigabyte
    return plan


def _walk_biff(data: bytes) -> tuple[dict[int, str], dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """Sheet names by stream offset, and each sheet's cells (1-based rows, columns, record offsets).

    One tight pass over the record headers keeps the offsets of the cell records; their rows
    and columns are then read with numpy. A cell belongs to the sheet whose BOF is the last
    one before it.
    """
    header = struct.Struct("<HH").unpack_from
    cell_types, special = _BIFF_CELLS, {_BIFF_MULRK, _BIFF_BOUNDSHEET, _BIFF_FILEPASS}
    where: list[int] = []
    runs: list[tuple[int, int, int, int]] = []  # MULRK: (offset, row, first, last column)
    add = where.append
    sheets: dict[int, str] = {}
    end = len(data) - 4
    i = 0
    while i <= end:
        typ, length = header(data, i)
        if typ in cell_types:
            add(i)
        elif typ in special:
            body = i + 4
            if typ == _BIFF_MULRK and length >= 6 and body + length <= len(data):
                r, c = struct.unpack_from("<HH", data, body)
                runs.append((i, r, c, struct.unpack_from("<H", data, body + length - 2)[0]))
            elif typ == _BIFF_BOUNDSHEET and length >= 8 and body + 8 <= len(data):
                offset = struct.unpack_from("<I", data, body)[0]
                cch, flags = data[body + 6], data[body + 7]
                raw = data[body + 8:body + 8 + (cch * 2 if flags & 1 else cch)]
                sheets[offset] = raw.decode("utf-16-le" if flags & 1 else "latin-1", "replace")
            elif typ == _BIFF_FILEPASS:
                return {}, {}  # encrypted records: positions cannot be read; calamine judges the file
        i += 4 + length
    if not sheets:
        return sheets, {}
    a = np.frombuffer(data + bytes(8), dtype=np.uint8)
    at = np.asarray(where, dtype=np.int64)
    r_all = a[at + 4].astype(np.int64) + (a[at + 5].astype(np.int64) << 8) + 1
    c_all = a[at + 6].astype(np.int64) + (a[at + 7].astype(np.int64) << 8) + 1
    if runs:  # a run of numbers counts at its far end, and is never patched (-1)
        run = np.asarray(runs, dtype=np.int64)
        pos = np.concatenate([at, run[:, 0]])
        r_all = np.concatenate([r_all, run[:, 1] + 1])
        c_all = np.concatenate([c_all, run[:, 3] + 1])
        at = np.concatenate([at, np.full(len(runs), -1, dtype=np.int64)])
    else:
        pos = at
    starts = np.array(sorted(sheets), dtype=np.int64)
    owner = np.searchsorted(starts, pos, side="right") - 1
    out = {}
    for k, start in enumerate(starts.tolist()):
        mine = owner == k
        out[start] = (r_all[mine], c_all[mine], at[mine])
    return sheets, out


def _patched_ole(source: Any, stream: str, data: bytes, patches: list[int], path: Path) -> io.BytesIO:
    """An in-memory copy of the .xls whose far-away cell records calamine will pass over."""
    import olefile

    patched = bytearray(data)
    for at in patches:
        if at >= 0:
            struct.pack_into("<H", patched, at, _BIFF_IGNORED)
    raw = source.getvalue() if isinstance(source, io.BytesIO) else Path(source).read_bytes()
    ole = olefile.OleFileIO(raw, write_mode=True)
    try:
        ole.write_stream(stream, bytes(patched))
        ole.fp.seek(0)
        out = io.BytesIO(ole.fp.read())
    finally:
        ole.close()
    return out


# --- the Rust reader's panics ------------------------------------------------------------------------
# calamine panics on some files (a .xlsb it cannot parse, a reference beyond any grid); pyo3
# raises pyo3_runtime.PanicException, a BaseException, after Rust printed its panic message
# on stderr. Both are caught here: the message becomes a LedgerReadError, the print is dropped.

def reader_panic(exc: BaseException, path: Path, sheet: str | None = None) -> BaseException:
    """A panic of calamine as a LedgerReadError; Ctrl+C and exit pass through unchanged."""
    if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
        return exc
    fmt = path.suffix.lower().lstrip(".") or "Excel"
    return LedgerReadError(f"读取程序无法解析这个 .{fmt} 文件的内容（文件中有它处理不了的结构）", file=path, sheet=sheet,
                           hint="请用 Excel/WPS 打开该文件，“另存为” .xlsx 格式后再试；如仍不行，请让报送单位重新导出")


@contextmanager
def quiet_rust():
    """Hold back what is written on stderr (file descriptor 2) during a calamine call: it is
    written out afterwards, unless the call panicked (then it is Rust's panic message)."""
    try:
        saved = os.dup(2)
        held = tempfile.TemporaryFile()
    except OSError:  # no stderr (a GUI process): nothing to hold back
        yield
        return
    panicked = False
    try:
        sys.stderr.flush()
        os.dup2(held.fileno(), 2)
        yield
    except Exception:
        raise
    except BaseException as exc:
        panicked = not isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit))
        raise
    finally:
        try:
            sys.stderr.flush()
        except Exception:
            pass
        os.dup2(saved, 2)
        os.close(saved)
        if not panicked:
            held.seek(0)
            text = held.read()
            if text:
                os.write(2, text)
        held.close()


class GuardedWorkbook:
    """A calamine workbook whose panics become LedgerReadError. ``skipped``: sheet -> (Excel
    row, why) of the far-away cells left out before reading (see check_workbook)."""

    def __init__(self, workbook: Any, path: Path, skipped: dict[str, list[tuple[int, str]]]):
        self._workbook, self._path, self.skipped = workbook, path, skipped

    def __getattr__(self, name: str) -> Any:
        return getattr(self._workbook, name)

    def get_sheet_by_name(self, name: str) -> Any:
        try:
            with quiet_rust():
                return GuardedSheet(self._workbook.get_sheet_by_name(name), self._path)
        except Exception:
            raise
        except BaseException as panic:
            raise reader_panic(panic, self._path, name) from None

    def close(self) -> None:
        self._workbook.close()

    def __enter__(self) -> "GuardedWorkbook":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class GuardedSheet:
    """A calamine sheet whose panics become LedgerReadError."""

    def __init__(self, sheet: Any, path: Path):
        self._sheet, self._path = sheet, path

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sheet, name)

    def to_python(self, *args: Any, **kwargs: Any) -> Any:
        try:
            with quiet_rust():
                return self._sheet.to_python(*args, **kwargs)
        except Exception:
            raise
        except BaseException as panic:
            raise reader_panic(panic, self._path, self._sheet.name) from None


def worker_memory(workers: int, limits: Limits = LIMITS) -> int | None:
    """Address space each of ``workers`` reading processes may add (bytes), None where
    unknown: a share of physical memory, never below ``worker_memory_min``."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None
    return max(limits.worker_memory_min, int(total * limits.worker_memory_fraction / max(workers, 1)))
