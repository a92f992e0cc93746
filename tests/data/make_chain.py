"""Build tests/data/chain/: the upward chain (units -> township -> county) as offices send it.

Committed fixtures (run: python tests/data/make_chain.py):
- 城关镇/甲村.xlsx, 乙村.xlsx, 丙村.xlsx: three villages' ledgers, each as its clerk keeps it (title rows,
  other header labels, a merged two-row header), collected by the township;
- 县人社局.xlsx: a county department that reports straight to the county;
- 宽表_用满16384列.xlsx: a ledger whose header runs to the last column Excel has (XFD), with a
  value in XFD on every row.

What cannot be committed portably is made at test time by the helpers below: a file whose NAME
is GBK bytes (a Windows zip unpacked on a Linux desktop), folders of symbolic links, and old
output stamps without a kind.
"""
from __future__ import annotations

import os
import re
import shutil
import zipfile
from pathlib import Path

from xfsheets.sample import unit_rows, write_sample_ledger

OUT = Path(__file__).resolve().parent / "chain"
TOWNSHIP = "城关镇"
VILLAGES = {"甲村": (1, 0, True), "乙村": (2, 1, False), "丙村": (3, 2, True)}  # seed, header variant, title rows
ROWS = 5
WIDE = "宽表_用满16384列.xlsx"
WIDE_ROWS = 3
GBK_NAME = "城关镇台账.xlsx"


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    (OUT / TOWNSHIP).mkdir(parents=True)
    for name, (seed, variant, title) in VILLAGES.items():
        write_sample_ledger(OUT / TOWNSHIP / f"{name}.xlsx", data=unit_rows(ROWS, seed, name, name[0]), unit=name,
                            header_variant=variant, title=title)
    write_sample_ledger(OUT / "县人社局.xlsx", data=unit_rows(4, 9, "县人社局", "R"), unit="县人社局")
    wide_ledger(OUT / WIDE)


def wide_ledger(path: Path) -> Path:
    """A ledger using all 16,384 columns: the usual columns, then 备注 columns up to XFD."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("信访台账")
    header = ["信访件编号", "登记日期", "信访人", "反映问题", "责任单位"]
    ws.write_row(0, 0, header)
    for c in range(len(header), 16384):
        ws.write_string(0, c, f"备注{c - len(header) + 1}")
    for r in range(1, WIDE_ROWS + 1):
        ws.write_row(r, 0, [f"K2026-{r:05d}", f"2026-11-0{r}", f"宽表人{r}", "反映问题", "宽表镇"])
        ws.write_string(r, 16383, f"最右一列第{r}行")
    wb.close()
    return path


# --- made at test time ----------------------------------------------------------------------

def gbk_named_copy(src: Path, folder: Path, name: str = GBK_NAME) -> str:
    """Copy ``src`` into ``folder`` under ``name`` written as GBK bytes, the way a Windows zip
    unpacks on a UTF-8 desktop. Returns the path as Python sees it (with surrogates)."""
    target = os.fsencode(str(folder)) + b"/" + name.encode("gbk")
    shutil.copyfile(src, target)
    return os.fsdecode(target)


def link_farm(folder: Path, outside: Path, ledger: Path) -> dict[str, str]:
    """Links a unit's folder can hold, each with the word its reason must contain.

    folder/真实子文件夹/乙.xlsx (a real subfolder), folder/链到子文件夹 -> it (a link inside the folder: read,
    its file counted once), folder/链到别处 -> outside (a folder elsewhere), folder/链到别处的台账.xlsx -> a
    file elsewhere, folder/断开的链接.xlsx -> nothing, folder/自指.xlsx -> itself, folder/回环 -> folder.
    """
    real = folder / "真实子文件夹"
    real.mkdir(parents=True)
    shutil.copyfile(ledger, real / "乙.xlsx")
    outside.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ledger, outside / "丙.xlsx")
    (folder / "链到子文件夹").symlink_to(real, target_is_directory=True)
    (folder / "链到别处").symlink_to(outside, target_is_directory=True)
    (folder / "链到别处的台账.xlsx").symlink_to(outside / "丙.xlsx")
    (folder / "断开的链接.xlsx").symlink_to(folder / "不存在.xlsx")
    (folder / "自指.xlsx").symlink_to(folder / "自指.xlsx")
    (folder / "回环").symlink_to(folder, target_is_directory=True)
    return {"链到子文件夹/乙.xlsx": "同一个文件", "链到别处": "以外", "链到别处的台账.xlsx": "以外",
            "断开的链接.xlsx": "不存在", "自指.xlsx": "循环", "回环": "循环"}


def strip_kind(src: Path, dest: Path) -> Path:
    """A copy of an xfsheets output whose stamp has no kind, as stamps were before kinds were recorded."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "docProps/custom.xml":
                data = re.sub(rb" kind=[a-z_]+", b"", data)
            zout.writestr(info, data)
    return dest


if __name__ == "__main__":
    main()
