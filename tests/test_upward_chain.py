"""The upward chain loses nothing (issue 20 items 1, 2, 3, 12 (consolidate), 14).

Whole-process runs of the installed command (``xfsheets consolidate ... --json``) over the fixtures made by
tests/data/make_chain.py: a township's consolidated ledger and a unit's corrected check -o copy sent to the
county are read as ledgers, their matters traced to the village file, sheet and row and counted once; every
path under a folder is read or listed; one file costs only itself; a signal leaves no worker and no
temporary file behind.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from conftest import DATA

sys.path.insert(0, str(DATA))
import make_chain  # noqa: E402

CHAIN = DATA / "chain"
TOWN = CHAIN / make_chain.TOWNSHIP
VILLAGE_FILES = sorted(TOWN.glob("*.xlsx"))
EXE = str(Path(sys.executable).parent / "xfsheets")


def xf(*args, timeout: int = 600) -> tuple[int, str, str]:
    proc = subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


def consolidate(*inputs, out: Path) -> tuple[int, dict, str]:
    code, stdout, err = xf("consolidate", *inputs, "-o", out, "--json")
    return code, json.loads(stdout), err


def sheet_rows(path: Path, sheet: str) -> list[dict]:
    ws = openpyxl.load_workbook(path, read_only=True)[sheet]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def village_rows() -> dict[str, tuple[str, str, int]]:
    """case id -> (file name, sheet, Excel row) in the villages' own files."""
    from xfsheets.reader import read_ledger

    out = {}
    for path in VILLAGE_FILES:
        ledger = read_ledger(path)
        for cid, sheet, row in zip(ledger.frame["case_id"], ledger.frame["_sheet"], ledger.frame["_row"]):
            out[str(cid)] = (path.name, sheet, int(row))
    return out


def accounted(doc: dict) -> None:
    """Every row read is in the output or listed as counted once."""
    assert doc["rows_in"] == sum(f["rows"] for f in doc["files"])
    assert doc["rows_in"] == doc["rows_out"] + len(doc["counted_once"]), doc


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> Path:
    """What reaches the county: the township's consolidated ledger, one village that also reports directly,
    a department's corrected check -o copy, and outputs that are not ledgers (a report, a zero report,
    slips) lying in the same folder."""
    work = tmp_path_factory.mktemp("chain")
    folder = work / "县信访局收件"
    folder.mkdir()
    code, doc, err = consolidate(TOWN, out=folder / "城关镇汇总.xlsx")
    assert code == 0 and doc["rows_out"] == 3 * make_chain.ROWS, err
    shutil.copyfile(TOWN / "甲村.xlsx", folder / "甲村.xlsx")  # 甲村 also reports straight to the county
    code, _, err = xf("check", CHAIN / "县人社局.xlsx", "-o", folder / "县人社局_更正.xlsx")
    assert code in (0, 1) and (folder / "县人社局_更正.xlsx").exists(), err
    code, _, err = xf("report", CHAIN / "县人社局.xlsx", "-o", folder / "县人社局月报.xlsx", "--as-of", "2026-11-25")
    assert code in (0, 1), err
    code, _, err = xf("report", CHAIN / "县人社局.xlsx", "--zero", "-o", folder / "零报告", "--as-of", "2026-11-25")
    assert code in (0, 1), err
    code, _, err = xf("slips", CHAIN / "县人社局.xlsx", "-o", folder / "交办单", "--as-of", "2026-11-25")
    assert code in (0, 1), err
    return folder


def test_township_ledger_and_corrected_copy_are_read_traced_and_counted_once(county, tmp_path):
    code, doc, err = consolidate(county, out=tmp_path / "县汇总.xlsx")
    assert code == 0, err
    files = {Path(f["file"]).name: f for f in doc["files"]}
    assert files["城关镇汇总.xlsx"]["kind"] == "consolidated" and files["城关镇汇总.xlsx"]["rows"] == 15
    assert files["县人社局_更正.xlsx"]["kind"] == "ledger_copy" and files["县人社局_更正.xlsx"]["rows"] == 4
    assert files["甲村.xlsx"]["rows"] == 5 and files["甲村.xlsx"]["kind"] is None
    accounted(doc)
    assert doc["rows_out"] == 15 + 4  # 3 villages + the department; 甲村's 5 matters once, not twice
    # 甲村's matters arrived twice: the township's copies are listed, with the row kept and the rule
    once = doc["counted_once"]
    assert len(once) == 5
    for entry in once:
        assert Path(entry["file"]).name == "城关镇汇总.xlsx" and entry["sheet"] == "汇总台账"
        assert Path(entry["kept"]["file"]).name == "甲村.xlsx" and entry["origin"]["file"] == "甲村.xlsx"
        assert (entry["kept"]["sheet"], entry["kept"]["row"]) == (entry["origin"]["sheet"], entry["origin"]["row"])
        assert "原始来源相同" in entry["rule"] and "只计一次" in entry["rule"]
    # non-ledger outputs are passed over, each with why
    ignored = {Path(i["file"]).name: i["reason"] for i in doc["ignored"]}
    assert "汇总报表" in ignored["县人社局月报.xlsx"] and "不是台账" in ignored["县人社局月报.xlsx"]
    assert any("零报告" in n and "零报告" in r for n, r in ignored.items()), ignored
    assert any(n.startswith("交办单") and "交办单" in r for n, r in ignored.items()), ignored

    # the county's workbook: each matter once, traced to the village's file, sheet and row
    where = village_rows()
    rows = sheet_rows(tmp_path / "县汇总.xlsx", "汇总台账")
    assert len(rows) == doc["rows_out"]
    ids = [r["信访件编号"] for r in rows]
    assert len(ids) == len(set(ids))
    township = sheet_rows(county / "城关镇汇总.xlsx", "汇总台账")
    for r in rows:
        cid = r["信访件编号"]
        if cid in where:
            assert (r["来源文件"], r["来源工作表"], r["来源行号"]) == where[cid]
            if cid.startswith("甲"):
                assert r["经由文件"] is None  # kept from 甲村's own file
            else:  # came up through the township: which file and which row there
                assert r["经由文件"].startswith("城关镇汇总.xlsx 第")
                row_there = int(r["经由文件"].split("第")[1].rstrip("行"))
                assert township[row_there - 2]["信访件编号"] == cid
        else:
            assert r["来源文件"] == "县人社局_更正.xlsx"
    listed = sheet_rows(tmp_path / "县汇总.xlsx", "重复上报只计一次")
    assert len(listed) == 5 and all("只计一次" in r["说明"] for r in listed)

    # one level further up: the city still sees the village's row and both files it came through
    code, city, err = consolidate(tmp_path / "县汇总.xlsx", out=tmp_path / "市汇总.xlsx")
    assert code == 0 and city["rows_out"] == doc["rows_out"], err
    for r in sheet_rows(tmp_path / "市汇总.xlsx", "汇总台账"):
        if r["信访件编号"].startswith("乙"):
            assert (r["来源文件"], r["来源工作表"], r["来源行号"]) == where[r["信访件编号"]]
            assert r["经由文件"].startswith("县汇总.xlsx 第") and " ← 城关镇汇总.xlsx 第" in r["经由文件"]


def test_without_case_ids_the_same_matter_is_recognised_by_person_date_and_problem(tmp_path):
    town, county = tmp_path / "青山乡", tmp_path / "县"
    town.mkdir()
    county.mkdir()
    wb = openpyxl.load_workbook(TOWN / "乙村.xlsx")  # a village that keeps no 信访件编号
    ws = wb.worksheets[0]
    header_row = next(r for r in ws.iter_rows() if any(c.value in ("信访件编号", "编号", "件号") for c in r))
    col = next(c.column for c in header_row if c.value in ("信访件编号", "编号", "件号"))
    for r in range(header_row[0].row + 1, ws.max_row + 1):
        ws.cell(r, col).value = None
    wb.save(town / "无编号村.xlsx")
    shutil.copyfile(TOWN / "丙村.xlsx", town / "丙村.xlsx")
    assert consolidate(town, out=county / "青山乡汇总.xlsx")[0] == 0
    shutil.copyfile(town / "无编号村.xlsx", county / "无编号村.xlsx")  # also sent straight to the county
    code, doc, err = consolidate(county, out=tmp_path / "县汇总.xlsx")
    assert code == 0, err
    accounted(doc)
    assert doc["rows_out"] == 2 * make_chain.ROWS and len(doc["counted_once"]) == make_chain.ROWS
    assert all(c["case_id"] is None and "信访人、登记日期、反映问题相同" in c["rule"] for c in doc["counted_once"])


def test_a_consolidated_ledger_named_alone_is_read(county, tmp_path):
    code, doc, err = consolidate(county / "城关镇汇总.xlsx", out=tmp_path / "只有乡镇.xlsx")
    assert code == 0 and doc["rows_out"] == 15 and not doc["ignored"], err
    accounted(doc)


def test_check_and_report_read_a_consolidated_ledger_from_its_rows_sheet(county, tmp_path):
    """Not from its 重复记录 sheet (which has the same column names): before, 0 matters."""
    code, out, err = xf("check", county / "城关镇汇总.xlsx", "--json", "--as-of", "2026-11-25")
    doc = json.loads(out)
    assert code in (0, 1) and doc["rows"] == 15, err
    assert {f["sheet"] for f in doc["findings"]} <= {"汇总台账"}
    code, out, err = xf("report", county / "城关镇汇总.xlsx", "-o", tmp_path / "乡镇月报.xlsx", "--json",
                        "--as-of", "2026-11-25")
    assert code in (0, 1) and json.loads(out)["totals"]["new"] == 15, err


def test_an_earlier_consolidation_of_the_same_folder_is_not_read_again(tmp_path):
    folder = tmp_path / make_chain.TOWNSHIP
    shutil.copytree(TOWN, folder)
    assert consolidate(folder, out=folder / "上次汇总.xlsx")[0] == 0
    code, doc, err = consolidate(folder, out=tmp_path / "这次汇总.xlsx")
    assert code == 0 and doc["rows_out"] == 15 and doc["counted_once"] == [], err
    reason = {Path(i["file"]).name: i["reason"] for i in doc["ignored"]}["上次汇总.xlsx"]
    assert "以前" in reason and "直接读取" in reason


def test_the_stamp_records_the_kind_and_old_stamps_are_judged_by_their_sheets(county, tmp_path):
    from xfsheets.outputs import output_kind, read_mark

    outputs = {"城关镇汇总.xlsx": "consolidated", "县人社局_更正.xlsx": "ledger_copy", "县人社局月报.xlsx": "report"}
    outputs.update({str(p.relative_to(county)): "zero_report" for p in (county / "零报告").glob("*.xlsx")})
    outputs.update({str(p.relative_to(county)): "slips" for p in (county / "交办单").glob("*.xlsx")})
    assert len(outputs) >= 5
    for name, kind in outputs.items():
        assert f"kind={kind}" in read_mark(county / name)[0], name
        old = make_chain.strip_kind(county / name, tmp_path / Path(name).name)
        assert "kind=" not in read_mark(old)[0]
        assert output_kind(old) == kind, name


def test_every_path_under_a_folder_is_read_or_listed_with_why(tmp_path):
    folder = tmp_path / "报送"
    folder.mkdir()
    shutil.copyfile(TOWN / "甲村.xlsx", folder / "甲.xlsx")
    expect = make_chain.link_farm(folder, tmp_path / "别处", TOWN / "乙村.xlsx")
    code, doc, err = consolidate(folder, out=tmp_path / "汇总.xlsx")
    assert code == 0, err
    read = sorted(str(Path(f["file"]).relative_to(folder)) for f in doc["files"])
    assert read == ["甲.xlsx", "真实子文件夹/乙.xlsx"]  # the real path of a file reached twice is the one read
    ignored = {str(Path(i["file"]).relative_to(folder)): i["reason"] for i in doc["ignored"]}
    for name, word in expect.items():
        assert word in ignored[name], (name, ignored.get(name))
    assert "别处/丙.xlsx" not in json.dumps(doc["files"], ensure_ascii=False)
    # nothing under the folder is silently absent: every entry (links not followed) is read, listed, or a
    # real folder whose files are
    mentioned = set(read) | set(ignored)
    for entry in sorted(folder.rglob("*")):
        rel = str(entry.relative_to(folder))
        if entry.is_dir() and not entry.is_symlink():
            continue
        assert rel in mentioned or any(m.startswith(rel + "/") for m in mentioned), rel
    accounted(doc)
    assert doc["rows_out"] == 10


def test_a_gbk_named_file_and_an_xfd_wide_ledger_each_cost_only_themselves(tmp_path):
    folder = tmp_path / "报送"
    folder.mkdir()
    shutil.copyfile(TOWN / "甲村.xlsx", folder / "甲村.xlsx")
    make_chain.gbk_named_copy(TOWN / "乙村.xlsx", folder)
    shutil.copyfile(CHAIN / make_chain.WIDE, folder / make_chain.WIDE)
    code, doc, err = consolidate(folder, out=tmp_path / "汇总.xlsx")
    assert code == 1, err  # done, with a file that could not be read and columns that could not be carried
    by_status = {f["status"]: f for f in doc["files"] if f["status"] == "failed"}
    bad = by_status["failed"]
    assert bad["error"]["code"] == "bad_file_name"
    assert "文件名不是本系统使用的编码" in bad["error"]["message"] and make_chain.GBK_NAME in bad["error"]["message"]
    assert "改" in bad["error"]["message"]
    assert bad["file"].endswith("\\xb3\\xc7\\xb9\\xd8\\xd5\\xf2\\xcc\\xa8\\xd5\\xcb.xlsx")
    files = {Path(f["file"]).name: f for f in doc["files"]}
    assert files["甲村.xlsx"]["rows"] == 5 and files["甲村.xlsx"]["notes"] == []
    wide = files[make_chain.WIDE]
    assert wide["status"] == "read" and wide["rows"] == make_chain.WIDE_ROWS
    assert any("16,384" in n for n in wide["notes"])
    [cut] = doc["columns_dropped"]
    assert Path(cut["file"]).name == make_chain.WIDE and cut["last"] == "XFD" and cut["cells"] == make_chain.WIDE_ROWS
    accounted(doc)
    assert doc["rows_out"] == 5 + make_chain.WIDE_ROWS
    wb = openpyxl.load_workbook(tmp_path / "汇总.xlsx", read_only=True)
    ws = wb["汇总台账"]
    header = next(ws.iter_rows(max_row=1, values_only=True))
    assert len(header) <= 16384 and header[-3:] == ("来源文件", "来源工作表", "来源行号")
    assert ws.max_row == 1 + doc["rows_out"]
    notes = {r["来源文件"]: r for r in sheet_rows(tmp_path / "汇总.xlsx", "导入情况")}
    assert "16,384" in notes[make_chain.WIDE]["原因"]
    assert any("文件名不是本系统使用的编码" in (r["原因"] or "") for r in notes.values())


def test_check_names_what_is_wrong_with_a_gbk_file_name(tmp_path):
    path = make_chain.gbk_named_copy(TOWN / "甲村.xlsx", tmp_path)
    proc = subprocess.run([EXE, "check", path], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "文件名不是本系统使用的编码" in proc.stderr and make_chain.GBK_NAME in proc.stderr
    assert "损坏" not in proc.stderr
    proc = subprocess.run([EXE, "check", path, "--json"], capture_output=True, text=True)
    assert proc.returncode == 2 and json.loads(proc.stdout)["error"]["code"] == "bad_file_name"


# --- signals: workers die with their parent, no temporary file is left ---------------------------------

def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="module")
def many_files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("many") / "报送"
    folder.mkdir()
    for k in range(120):
        shutil.copyfile(VILLAGE_FILES[k % 3], folder / f"单位{k:03d}.xlsx")
    return folder


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL])
def test_a_signal_to_consolidate_leaves_no_worker_and_no_temporary_file(many_files, tmp_path, sig):
    out_dir = tmp_path / "输出"
    out_dir.mkdir()
    proc = subprocess.Popen([EXE, "consolidate", many_files, "-o", out_dir / "汇总.xlsx", "--jobs", "2", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while time.monotonic() < deadline and len(workers) < 2 and proc.poll() is None:
        workers = _children(proc.pid)
        time.sleep(0.05)
    assert workers and proc.poll() is None, "the run ended before its workers could be seen"
    time.sleep(0.3)
    workers = _children(proc.pid)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "Traceback" not in err
    if sig != signal.SIGKILL:
        assert proc.returncode == 128 + sig and "终止信号" in err
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.1)
    assert not [w for w in workers if _alive(w)], "a worker outlived consolidate"
    assert list(out_dir.iterdir()) == []  # no output, no temporary file
    assert not list(many_files.parent.glob("*.mark")) and not list(many_files.parent.glob(".~*"))
