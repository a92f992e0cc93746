"""Build tests/data/consolidate/: a folder like the ones units really send in.

Header-label variants, a ledger on the second sheet after 填表说明, title rows, extra
columns, an empty ledger, a broken file, an encrypted file, a .xls, a subfolder, an
Excel lock file, a hidden file, one case id reported by two units and one matter
transferred between units (same ID number, category and received date).
Run: python tests/data/make_consolidate.py
"""
from __future__ import annotations

import io
import shutil
from pathlib import Path

import openpyxl

from xfsheets.sample import LABELS_STANDARD, unit_rows, write_sample_ledger

OUT = Path(__file__).resolve().parent / "consolidate"
PASSWORD = "xf2026"
SHARED_CASE_ID = "X2026-00003"


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    (OUT / "河西镇").mkdir(parents=True)
    renshe = unit_rows(6, 1, "县人社局", "X")  # case ids X2026-00001..6
    chengguan = unit_rows(5, 2, "城关镇", "C")
    chengguan[0][1] = SHARED_CASE_ID  # the same case id reported by two units
    zhujian = unit_rows(4, 3, "县住建局", "Z")
    hexi = unit_rows(5, 4, "河西镇", "H")
    # A matter transferred from 县住建局 to 河西镇: same person, category and date, new case id.
    for k in (5, 10, 2):
        hexi[1][k] = zhujian[2][k]
    jiaoyu = unit_rows(3, 5, "县教育局", "J")

    write_sample_ledger(OUT / "县人社局.xlsx", data=renshe, unit="县人社局")
    write_sample_ledger(OUT / "城关镇.xlsx", data=chengguan, unit="城关镇", header_variant=1, title=False)
    write_sample_ledger(OUT / "河西镇" / "河西镇台账.xlsx", data=hexi, unit="河西镇", header_variant=2)
    _second_sheet(OUT / "县住建局.xlsx", zhujian)
    _extra_columns_xls(OUT / "县教育局.xls", jiaoyu)
    write_sample_ledger(OUT / "青山乡_空台账.xlsx", data=[], unit="青山乡")
    _corrupt(OUT / "县卫健局_损坏.xlsx", renshe)
    _encrypted(OUT / "县公安局_加密.xlsx", unit_rows(2, 6, "县公安局", "G"))
    (OUT / "~$县人社局.xlsx").write_bytes(b"\x00lock")  # what Excel leaves beside an open file
    write_sample_ledger(OUT / ".隐藏副本.xlsx", data=renshe[:1], unit="县人社局")


def _second_sheet(path: Path, data) -> None:
    buf = io.BytesIO()
    write_sample_ledger(path, data=data, unit="县住建局")
    wb = openpyxl.load_workbook(path)
    notes = wb.create_sheet("填表说明", 0)
    notes["A1"] = "填表说明：1. 日期按 2026-03-05 填写；2. 身份证号设为文本格式。"
    wb.save(buf)
    path.write_bytes(buf.getvalue())


def _extra_columns_xls(path: Path, data) -> None:
    import datetime as dt

    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("台账")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    header = LABELS_STANDARD + ["是否重点件", "化解措施"]
    for c, label in enumerate(header):
        ws.write(0, c, label)
    for r, row in enumerate(data, 1):
        for c, value in enumerate(row + ["是", "约谈"]):
            if value is None:
                continue
            if isinstance(value, dt.date):
                ws.write(r, c, dt.datetime(value.year, value.month, value.day), date_style)
            else:
                ws.write(r, c, value)
    book.save(str(path))


def _corrupt(path: Path, data) -> None:
    write_sample_ledger(path, data=data, unit="县卫健局")
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 3])


def _encrypted(path: Path, data) -> None:
    import msoffcrypto.format.ooxml

    plain = path.with_suffix(".plain.xlsx")
    write_sample_ledger(plain, data=data, unit="县公安局")
    with plain.open("rb") as src, path.open("wb") as out:
        msoffcrypto.format.ooxml.OOXMLFile(src).encrypt(PASSWORD, out)
    plain.unlink()


if __name__ == "__main__":
    main()
    for p in sorted(OUT.rglob("*")):
        print(p.relative_to(OUT))
