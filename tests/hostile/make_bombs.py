"""Hostile workbooks for tests/test_hostile_files.py and bench/bench_hostile.py, built at test time.

Nothing here is committed as a file: each function writes one workbook to the path given
and returns it. They are small on disk and big (or broken) only once a reader trusts them:

- dimension_bomb: a 2.5 KB .xlsx whose ledger has a stray value at XFD1048576 (calamine
  alone asks for 550 GB and aborts);
- zip_bomb: a few MB .xlsx whose sheet XML is hundreds of MB of repeated rows;
- lying_sizes: a .xlsx whose zip directory understates the sheet's size;
- panic_xlsb: a .xlsb whose sheet record names a relationship longer than the record
  (calamine panics: pyo3_runtime.PanicException, a BaseException);
- xlsb_ledger: a valid .xlsb ledger (the binary records written by hand);
- xlsb_dimension_bomb: the same with one number at XFD1048576;
- ods_repeat_bomb: a <1 KB .ods whose one row is repeated 90 000 times over 1 000 columns;
- far_cell_xls: a .xls (BIFF8, xlwt) with the ledger at the top and one value at IV65536;
- with_stray_cell: a copy of a real ledger with one value typed at XFD1048576;
- corrupt_zip: a .xlsx cut in the middle.

    python tests/hostile/make_bombs.py DIR     # write them all into DIR, to look at
"""
from __future__ import annotations

import struct
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

HEADER = ["信访件编号", "登记日期", "信访人", "身份证号码", "反映问题", "责任单位", "办理状态"]


def ledger_rows(n: int = 3, prefix: str = "B") -> list[list[str]]:
    return [[f"{prefix}2026{i:04d}", f"2026-03-{i % 28 + 1:02d}", f"张{i}", "", f"反映问题{i}", "县住建局", "办理中"]
            for i in range(1, n + 1)]


# --- .xlsx written part by part (so that every byte is the one we mean) ------------------------

_CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
       '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       '<Default Extension="xml" ContentType="application/xml"/>'
       '<Override PartName="/xl/workbook.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
       '<Override PartName="/xl/worksheets/sheet1.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
         'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_BOOK = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
         'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
         '<sheets><sheet name="信访台账" sheetId="1" r:id="rId1"/></sheets></workbook>')
_BOOK_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
              '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
              'worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
_SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
               '<dimension ref="{dim}"/><sheetData>')
_SHEET_TAIL = "</sheetData></worksheet>"


def _col(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def _row_xml(r: int, values: list[str]) -> str:
    cells = "".join(f'<c r="{_col(c)}{r}" t="inlineStr"><is><t>{escape(v)}</t></is></c>'
                    for c, v in enumerate(values, start=1) if v != "")
    return f'<row r="{r}">{cells}</row>'


def _ledger_xml(rows: list[list[str]]) -> str:
    return "".join(_row_xml(r, v) for r, v in enumerate([HEADER, *rows], start=1))


def _write_xlsx(path: Path, sheet_xml: str | None = None, *, stream=None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _BOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _BOOK_RELS)
        if stream is None:
            z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        else:
            with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
                stream(fh)
    return path


def dimension_bomb(path: str | Path, rows: int = 3, attr: str = ' r="XFD1048576"') -> Path:
    """A ~2 KB ledger whose declared range and one stray value reach XFD1048576. ``attr``:
    how the stray cell's reference is spelled (XML allows `\tr = 'XFD1048576'` too)."""
    stray = f'<row r="1048576"><c{attr} t="inlineStr"><is><t>x</t></is></c></row>'
    xml = _SHEET_HEAD.format(dim="A1:XFD1048576") + _ledger_xml(ledger_rows(rows)) + stray + _SHEET_TAIL
    return _write_xlsx(Path(path), xml)


def zip_bomb(path: str | Path, megabytes: int = 300) -> Path:
    """A ledger followed by ``megabytes`` MB of repeated rows holding a value: a few MB zipped."""
    head = _SHEET_HEAD.format(dim="A1:G4") + _ledger_xml(ledger_rows(3))
    block = ("<row>" + "<c><v>1</v></c>" * 64 + "</row>").encode() * 1024  # ~1 MB

    def stream(fh) -> None:
        fh.write(head.encode())
        for _ in range(megabytes):
            fh.write(block)
        fh.write(_SHEET_TAIL.encode())

    return _write_xlsx(Path(path), stream=stream)


def lying_sizes(path: str | Path) -> Path:
    """A ledger whose zip directory says the sheet is 100 bytes when it is larger."""
    path = _write_xlsx(Path(path), _SHEET_HEAD.format(dim="A1:G4") + _ledger_xml(ledger_rows(3)) + _SHEET_TAIL)
    data = bytearray(path.read_bytes())
    name = b"xl/worksheets/sheet1.xml"
    at = 0
    while True:
        local = data.find(b"PK\x03\x04", at)
        if local < 0:
            break
        n = struct.unpack_from("<H", data, local + 26)[0]
        if data[local + 30:local + 30 + n] == name:
            struct.pack_into("<I", data, local + 22, 100)
        at = local + 4
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        n = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46:central + 46 + n] == name:
            struct.pack_into("<I", data, central + 24, 100)
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))
    return path


# A cell without a reference sits after the one before it on its row; a crafted file can put
# many on row 1048576 and balance the count of references with as many r-like strings elsewhere.
DISGUISES = {  # n r-like strings, so that counting tags and references alone would agree
    "in text": lambda n: '<row r="5"><c r="A5" t="inlineStr"><is><t>' + ' r="B5"' * n + "</t></is></c></row>",
    "in another attribute": lambda n: """<row r="5"><c r="A5" s='""" + ' r="B5"' * n + "'><v>2</v></c></row>",
    "in a cell's own content": lambda n: '<row r="5"><c>' + ' r="B5"' * (n + 1) + "<v>2</v></c></row>",
}


def disguised_far_cell(path: str | Path, disguise: str, cells: int = 200) -> Path:
    """A ledger with ``cells`` cells without reference on row 1048576, hidden by ``disguise``."""
    far = '<row r="1048576">' + "<c><v>1</v></c>" * cells + "</row>"
    xml = (_SHEET_HEAD.format(dim="A1:G4") + _ledger_xml(ledger_rows(3)) + DISGUISES[disguise](cells) + far
           + _SHEET_TAIL)
    return _write_xlsx(Path(path), xml)


def with_stray_cell(source: str | Path, path: str | Path, ref: str = "XFD1048576") -> Path:
    """A copy of the workbook ``source`` with one value typed at ``ref`` (Ctrl+End, then a
    keystroke) at the end of its first sheet."""
    row = "".join(ch for ch in ref if ch.isdigit())
    stray = f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>x</t></is></c></row>'.encode()
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            with src.open(info) as fin, dst.open(info.filename, "w", force_zip64=True) as fout:
                carry = b""
                while chunk := fin.read(1 << 22):
                    fout.write(carry)
                    carry = chunk
                if info.filename == "xl/worksheets/sheet1.xml":
                    carry = carry.replace(b"</sheetData>", stray + b"</sheetData>")
                fout.write(carry)
    return Path(path)


def corrupt_zip(path: str | Path) -> Path:
    """A ledger .xlsx cut off in the middle (a transfer that did not finish)."""
    path = _write_xlsx(Path(path), _SHEET_HEAD.format(dim="A1:G4") + _ledger_xml(ledger_rows(30)) + _SHEET_TAIL)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


# --- .xlsb: BIFF12 records written by hand ------------------------------------------------------

def _varint(v: int) -> bytes:
    out = b""
    while True:
        b, v = v & 0x7F, v >> 7
        if not v:
            return out + bytes([b])
        out += bytes([b | 0x80])


def _rec(typ: int, payload: bytes = b"") -> bytes:
    return _varint(typ) + _varint(len(payload)) + payload


def _wide(text: str) -> bytes:
    return struct.pack("<I", len(text)) + text.encode("utf-16-le")


def _xlsb(path: Path, rows: list[list[str]], rel_len: int | None = None, far: tuple[int, int] | None = None) -> Path:
    cells = b""
    for r, values in enumerate(rows):
        cells += _rec(0x0000, struct.pack("<IIHBBBI", r, 0, 300, 0, 0, 0, 0))  # BrtRowHdr
        for c, v in enumerate(values):
            if v != "":
                cells += _rec(0x0006, struct.pack("<II", c, 0) + _wide(v))  # BrtCellSt
    if far:  # one number far away (0-based row, column): BrtRowHdr + BrtCellReal
        cells += _rec(0x0000, struct.pack("<IIHBBBI", far[0], 0, 300, 0, 0, 0, 0))
        cells += _rec(0x0005, struct.pack("<IId", far[1], 0, 1.0))
    sheet = (_rec(0x0081) + _rec(0x0094, struct.pack("<IIII", 0, len(rows) - 1, 0, len(HEADER) - 1))
             + _rec(0x0091) + cells + _rec(0x0092) + _rec(0x0082))
    rel = _wide("rId1")
    if rel_len is not None:  # a relationship id longer than its record: calamine slices past the end
        rel = struct.pack("<I", rel_len) + rel[4:]
    bundle = struct.pack("<II", 0, 1) + rel + _wide("信访台账")
    book = (_rec(0x0083) + _rec(0x008F) + _rec(0x009C, bundle) + _rec(0x0090)
            + _rec(0x009D, struct.pack("<IIIdBB", 0, 100, 0, 0.001, 0, 0)) + _rec(0x0084))
    ct = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Override PartName="/xl/worksheets/sheet1.bin" ContentType="application/vnd.ms-excel.worksheet"/></Types>')
    rels = _RELS.replace("xl/workbook.xml", "xl/workbook.bin")
    book_rels = _BOOK_RELS.replace("worksheets/sheet1.xml", "worksheets/sheet1.bin")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", ct)
        z.writestr("_rels/.rels", rels)
        z.writestr("xl/workbook.bin", book)
        z.writestr("xl/_rels/workbook.bin.rels", book_rels)
        z.writestr("xl/worksheets/sheet1.bin", sheet)
    return path


def xlsb_ledger(path: str | Path, rows: int = 3) -> Path:
    return _xlsb(Path(path), [HEADER, *ledger_rows(rows, "X")])


def xlsb_dimension_bomb(path: str | Path, rows: int = 3) -> Path:
    """A .xlsb ledger with one number at XFD1048576 (calamine alone asks for 550 GB)."""
    return _xlsb(Path(path), [HEADER, *ledger_rows(rows, "X")], far=(1048575, 16383))


def panic_xlsb(path: str | Path) -> Path:
    return _xlsb(Path(path), [HEADER, *ledger_rows(3, "P")], rel_len=0x00FFFFFF)


# --- .ods: one row element standing for many --------------------------------------------------------

def ods_repeat_bomb(path: str | Path, rows: int = 90_000, cols: int = 1_000) -> Path:
    """A <1 KB .ods ledger whose one data row is repeated ``rows`` times over ``cols`` columns
    (calamine expands it: 90 million cells, about 3 GB)."""
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')

    def cell(text: str, repeat: int = 1) -> str:
        rep = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
        return f'<table:table-cell office:value-type="string"{rep}><text:p>{escape(text)}</text:p></table:table-cell>'

    header = "<table:table-row>" + "".join(cell(h) for h in HEADER) + "</table:table-row>"
    bomb = f'<table:table-row table:number-rows-repeated="{rows}">{cell("x", cols)}</table:table-row>'
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} office:version="1.2">'
               f'<office:body><office:spreadsheet><table:table table:name="信访台账">{header}{bomb}'
               "</table:table></office:spreadsheet></office:body></office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
                '<manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content)
        z.writestr("META-INF/manifest.xml", manifest)
    return Path(path)


# --- .xls (BIFF8) --------------------------------------------------------------------------------

def xls_ledger(path: str | Path, rows: int = 3, *, stray: bool = False) -> Path:
    """A .xls ledger (xlwt); with ``stray``, one value at IV65536, the far corner of a BIFF8 sheet."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("信访台账")
    for r, values in enumerate([HEADER, *ledger_rows(rows, "L")]):
        for c, v in enumerate(values):
            if v != "":
                sheet.write(r, c, v)
    if stray:
        sheet.write(65535, 255, "x")
    book.save(str(path))
    return Path(path)


def far_cell_xls(path: str | Path, rows: int = 3) -> Path:
    return xls_ledger(path, rows, stray=True)


ALL = {"dimension_bomb.xlsx": dimension_bomb, "zip_bomb.xlsx": zip_bomb, "lying_sizes.xlsx": lying_sizes,
       "corrupt.xlsx": corrupt_zip, "ledger.xlsb": xlsb_ledger, "dimension_bomb.xlsb": xlsb_dimension_bomb,
       "panic.xlsb": panic_xlsb, "repeat_bomb.ods": ods_repeat_bomb, "far_cell.xls": far_cell_xls}


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    out.mkdir(parents=True, exist_ok=True)
    for name, make in ALL.items():
        print(make(out / name), (out / name).stat().st_size, "bytes")
