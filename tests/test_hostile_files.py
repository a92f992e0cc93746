"""Hostile and broken workbooks cost only themselves (issue 11: trust; issue 12: memory).

The fixtures are made at test time by tests/hostile/make_bombs.py. Every file that could
take the machine with it (the dimension bomb, the zip bomb, the far-away .xls cell) is read
in a child process with a 2 GB address-space limit, and the test asserts it ends cleanly,
quickly, in little memory, with the Chinese message or the real rows.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "hostile"))

import make_bombs  # noqa: E402

from xfsheets import limits  # noqa: E402
from xfsheets.consolidation import STATUS_FAILED, consolidate  # noqa: E402
from xfsheets.errors import LedgerReadError  # noqa: E402
from xfsheets.reader import read_ledger  # noqa: E402
from xfsheets.sample import write_sample_ledger  # noqa: E402

ROOT = HERE.parent
LIMIT_AS = 2 << 30

_CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from xfsheets.errors import LedgerReadError
from xfsheets.reader import read_ledger
out = {}
try:
    ledger = read_ledger(sys.argv[1])
    out["rows"] = len(ledger)
    out["case_ids"] = [str(x) for x in ledger.frame["case_id"]]
    out["skipped"] = [list(s) for src in ledger.sources for s in src.skipped]
except LedgerReadError as exc:
    out["error"] = str(exc)
    out["exception_is_exception"] = isinstance(exc, Exception)
out["seconds"] = time.perf_counter() - t0
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out, ensure_ascii=False))
"""


def _limit_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_AS, LIMIT_AS))


def read_in_child(path: Path, timeout: float = 120) -> dict:
    """read_ledger(path) in a child limited to 2 GB of address space; its report as a dict."""
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True,
                          timeout=timeout, preexec_fn=_limit_memory, cwd=ROOT,
                          env={**os.environ, "RUST_BACKTRACE": "0"})
    assert proc.returncode == 0, f"child died ({proc.returncode}): {proc.stderr[-2000:]}"
    assert "Traceback" not in proc.stderr and "panicked" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_AS and fork are POSIX")


# --- one file at a time --------------------------------------------------------------------

def test_dimension_bomb_is_read_without_its_far_away_cell(tmp_path):
    path = make_bombs.dimension_bomb(tmp_path / "维度炸弹.xlsx")
    assert path.stat().st_size < 3000
    got = read_in_child(path)
    assert "error" not in got, got
    assert got["rows"] == 3 and got["case_ids"] == ["B20260001", "B20260002", "B20260003"]
    assert [1048576, "远离数据区的孤立单元格 XFD1048576（已跳过，未读取）"] in got["skipped"]
    assert got["seconds"] < 20 and got["peak_mb"] < 400, got


@pytest.mark.parametrize("attr", [" r='XFD1048576'", '\tr="XFD1048576"', ' r = "XFD1048576"', '\nr\n=\n"XFD1048576"'])
def test_a_reference_spelled_oddly_does_not_slip_past_the_scan(tmp_path, attr):
    path = make_bombs.dimension_bomb(tmp_path / "odd.xlsx", attr=attr)
    plan = limits.check_workbook(path, path)  # in this process: nothing reaches calamine unchecked
    assert plan.skipped == {"信访台账": [(1048576, "远离数据区的孤立单元格 XFD1048576（已跳过，未读取）")]}
    assert list(read_ledger(path).frame["case_id"]) == ["B20260001", "B20260002", "B20260003"]


@pytest.mark.parametrize("disguise", sorted(make_bombs.DISGUISES))
def test_cells_without_reference_on_a_far_row_are_refused(tmp_path, disguise):
    """200 cells without r on row 1048576 (calamine: 1 048 576 x 200 cells, 6.7 GB), their
    count balanced by r-like text so that a count of references alone would look right."""
    path = make_bombs.disguised_far_cell(tmp_path / "伪装.xlsx", disguise)
    with pytest.raises(LedgerReadError) as err:
        limits.check_workbook(path, path)  # refused before calamine sees it
    assert "数据区域过大" in str(err.value) and "伪装.xlsx" in str(err.value)


def test_xlsb_dimension_bomb_is_read_without_its_far_away_cell(tmp_path):
    got = read_in_child(make_bombs.xlsb_dimension_bomb(tmp_path / "二进制维度炸弹.xlsb"))
    assert "error" not in got, got
    assert got["case_ids"] == ["X20260001", "X20260002", "X20260003"]
    assert [1048576, "远离数据区的孤立单元格 XFD1048576（已跳过，未读取）"] in got["skipped"]
    assert got["peak_mb"] < 400, got


def test_zip_bomb_is_refused_before_decompressing(tmp_path):
    path = make_bombs.zip_bomb(tmp_path / "压缩炸弹.xlsx", megabytes=300)
    assert path.stat().st_size < 5 << 20
    got = read_in_child(path)
    assert got.get("exception_is_exception") is True
    assert "压缩炸弹" in got["error"] and "压缩炸弹.xlsx" in got["error"] and "另存为" in got["error"]
    assert got["seconds"] < 20 and got["peak_mb"] < 400, got


def test_zip_bomb_within_the_ratio_is_still_refused_by_its_extent(tmp_path, monkeypatch):
    """The ratio is a first line only: with it lifted, the bomb (300 000 rows of 64 cells
    without references) is refused by the count of its cells, scanned in bounded memory and
    stopped as soon as the count is over the limit (lowered here to keep the test quick)."""
    path = make_bombs.zip_bomb(tmp_path / "bomb.xlsx", megabytes=300)
    lifted = limits.Limits(max_ratio=10_000, max_cells=1_000_000)
    t0 = time.perf_counter()
    with pytest.raises(LedgerReadError) as err:
        limits.check_workbook(path, path, lifted)
    assert "数据量过大" in str(err.value) and "bomb.xlsx" in str(err.value) and "拆分" in str(err.value)
    assert time.perf_counter() - t0 < 10
    small = make_bombs.zip_bomb(tmp_path / "small.xlsx", megabytes=2)  # 2 MB: 130 000 cells, read
    plan = limits.check_workbook(small, small, lifted)
    (ext,) = plan.extents.values()
    assert ext.cells == 2048 * 64 + 7 * 4 - 3 and ext.max_col == 64


def test_ods_repeat_bomb_is_refused_and_an_ordinary_ods_is_read(tmp_path, data_dir):
    path = make_bombs.ods_repeat_bomb(tmp_path / "重复行.ods")
    assert path.stat().st_size < 2000
    got = read_in_child(path)
    assert "重复行.ods" in got["error"] and "90,001,000 个单元格" in got["error"], got
    assert got["seconds"] < 20 and got["peak_mb"] < 400, got
    ordinary = data_dir / "layouts" / "merged_unit_leader_date.ods"
    assert limits.check_workbook(ordinary, ordinary).source == ordinary


def test_real_xlsb_panic_becomes_a_ledger_read_error(tmp_path, capfd):
    path = make_bombs.panic_xlsb(tmp_path / "二进制.xlsb")
    with pytest.raises(LedgerReadError) as err:
        read_ledger(path)
    message = str(err.value)
    assert "二进制.xlsb" in message and ".xlsb" in message and "另存为" in message
    assert "panicked" not in capfd.readouterr().err  # Rust's own panic print is held back


def test_valid_xlsb_is_read(tmp_path):
    ledger = read_ledger(make_bombs.xlsb_ledger(tmp_path / "台账.xlsb"))
    assert list(ledger.frame["case_id"]) == ["X20260001", "X20260002", "X20260003"]


def test_panic_while_reading_a_sheet_is_caught():
    class PanicException(BaseException):  # what pyo3 raises: not an Exception
        pass

    class Sheet:
        name = "台账"

        def to_python(self, **_):
            raise PanicException("index out of bounds")

    sheet = limits.GuardedSheet(Sheet(), Path("单位.xlsb"))
    with pytest.raises(LedgerReadError) as err:
        sheet.to_python(skip_empty_area=False)
    assert "单位.xlsb" in str(err.value) and "台账" in str(err.value)
    with pytest.raises(KeyboardInterrupt):  # Ctrl+C is never swallowed
        limits.GuardedSheet(type("S", (), {"name": "x", "to_python": lambda self: (_ for _ in ()).throw(
            KeyboardInterrupt())})(), Path("a.xlsx")).to_python()


def test_xls_with_a_far_away_cell_reads_in_memory_that_follows_the_data(tmp_path):
    path = make_bombs.far_cell_xls(tmp_path / "旧格式.xls")
    got = read_in_child(path)
    assert got["rows"] == 3 and got["case_ids"][0] == "L20260001"
    assert [65536, "远离数据区的孤立单元格 IV65536（已跳过，未读取）"] in got["skipped"]
    assert got["peak_mb"] < 300, got  # calamine alone: ~1 GB for this 5.6 KB file


def test_corrupt_and_lying_zips_are_refused_clearly(tmp_path):
    for make, name in ((make_bombs.corrupt_zip, "半截.xlsx"), (make_bombs.lying_sizes, "大小不符.xlsx")):
        with pytest.raises(LedgerReadError) as err:
            read_ledger(make(tmp_path / name))
        assert name in str(err.value) and "损坏" in str(err.value)


def test_limits_decide_sparse_huge_and_stray():
    import numpy as np

    def extent(rows, cols, cells):
        r, c = np.array(rows), np.array(cols)
        return limits.SheetExtent(name="台账", cells=cells, max_row=int(r.max()), max_col=int(c.max()),
                                  row_ids=r, row_counts=np.ones(r.size, np.int64),
                                  col_ids=c, col_counts=np.ones(c.size, np.int64))

    small = extent(list(range(1, 101)), list(range(1, 27)), 2600)
    assert limits.decide(Path("a.xlsx"), small) is None
    stray = extent([*range(1, 101), 1048576], [*range(1, 27), 16384], 2601)
    assert limits.decide(Path("a.xlsx"), stray) == (100, 26)
    with pytest.raises(LedgerReadError, match="超过 20,000,000 个有内容的单元格"):
        limits.decide(Path("a.xlsx"), extent([1, 2], [1, 2], 30_000_000))
    many = limits.SheetExtent(name="台账", cells=5000, max_row=1048576, max_col=26,
                              row_ids=np.array([1, 2, *range(500_000, 504_998)]), row_counts=np.ones(5000, np.int64),
                              col_ids=np.arange(1, 27), col_counts=np.ones(26, np.int64))
    with pytest.raises(LedgerReadError, match="远处还有"):
        limits.decide(Path("a.xlsx"), many)


def test_the_sheets_of_one_workbook_count_together(tmp_path):
    import xlsxwriter

    path = tmp_path / "两个月.xlsx"
    book = xlsxwriter.Workbook(str(path))
    for month in ("1月", "2月"):
        sheet = book.add_worksheet(month)
        for r, values in enumerate([make_bombs.HEADER, *make_bombs.ledger_rows(40)]):
            sheet.write_row(r, 0, values)
    book.close()
    one_sheet = limits.Limits(max_cells=300)  # each sheet has 41 x 7 - 40 = 247 cells
    with pytest.raises(LedgerReadError, match="2 个工作表共有 494 个"):
        limits.check_workbook(path, path, one_sheet)
    assert limits.check_workbook(path, path, limits.Limits(max_cells=600)).source == path


def test_an_ordinary_ledger_passes_the_quick_scan(tmp_path):
    path = write_sample_ledger(tmp_path / "台账.xlsx", 2000, seed=3)
    plan = limits.check_workbook(path, path)
    assert plan.source == path and not plan.skipped  # read as it is, no copy made
    (ext,) = plan.extents.values()
    assert ext.max_row >= 2000 and ext.max_col >= 10 and ext.cells > 10_000


# --- a batch: one bad file costs only itself ----------------------------------------------------

def _good(tmp_path, name, rows, seed):
    return write_sample_ledger(tmp_path / name, rows, seed=seed, unit=name.split(".")[0])


def test_consolidate_cli_lists_each_bad_file_and_keeps_every_good_row(tmp_path):
    good1 = _good(tmp_path, "城关镇.xlsx", 12, 1)
    good2 = _good(tmp_path, "河西镇.xlsx", 9, 2)
    dim = make_bombs.dimension_bomb(tmp_path / "维度炸弹.xlsx")
    bomb = make_bombs.zip_bomb(tmp_path / "压缩炸弹.xlsx", megabytes=300)
    panic = make_bombs.panic_xlsb(tmp_path / "二进制.xlsb")
    out = tmp_path / "汇总.xlsx"
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "xfsheets", "consolidate", str(good1), str(bomb), str(good2),
                           str(panic), str(dim), "-o", str(out), "--json", "--jobs", "2"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT, preexec_fn=_limit_memory,
                          env={**os.environ, "RUST_BACKTRACE": "0"})
    assert time.perf_counter() - t0 < 120
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "panicked" not in proc.stderr
    doc = json.loads(proc.stdout)
    by_name = {Path(f["file"]).name: f for f in doc["files"]}
    assert by_name["压缩炸弹.xlsx"]["status"] == STATUS_FAILED and "压缩炸弹" in by_name["压缩炸弹.xlsx"]["error"]["message"]
    assert by_name["二进制.xlsb"]["status"] == STATUS_FAILED and "另存为" in by_name["二进制.xlsb"]["error"]["message"]
    assert by_name["维度炸弹.xlsx"]["rows"] == 3 and by_name["维度炸弹.xlsx"]["skipped"] >= 1
    expected = len(read_ledger(good1)) + len(read_ledger(good2)) + 3
    assert doc["rows_in"] == doc["rows_out"] == expected
    wb = openpyxl.load_workbook(out, read_only=True)
    assert wb["汇总台账"].max_row - 1 == expected
    files = [r[0] for r in wb["导入情况"].iter_rows(min_row=2, values_only=True)]
    assert sorted(Path(f).name for f in files) == sorted(by_name)


def _aborting_reader(real):
    def read(path, **kwargs):
        name = Path(path).name
        if name.startswith("abort"):
            import faulthandler

            faulthandler.disable()  # pytest's crash dump: not what is being tested
            os.abort()  # a Rust abort, an out-of-memory kill: the worker process dies
        if name.startswith("unpicklable"):
            ledger = real(path, **kwargs)
            ledger.sources[0].meta["handle"] = lambda: None  # cannot cross the process boundary
            return ledger
        return real(path, **kwargs)
    return read


def test_a_worker_that_dies_costs_only_its_own_file(tmp_path, monkeypatch):
    import xfsheets.consolidation as consolidation

    # the pool forks: the patched reader is the one the workers run
    monkeypatch.setattr(consolidation, "read_ledger", _aborting_reader(consolidation.read_ledger))
    goods = [_good(tmp_path, f"单位{i}.xlsx", 5 + i, i) for i in range(5)]
    abort = _good(tmp_path, "abort单位.xlsx", 4, 9)
    unpicklable = _good(tmp_path, "unpicklable单位.xlsx", 4, 8)
    files = [goods[0], abort, goods[1], goods[2], unpicklable, goods[3], goods[4]]
    seen = []
    ledger, report = consolidate(files, jobs=2, progress=lambda r: seen.append(Path(r.file).name))
    status = {Path(f.file).name: f for f in report.files}
    assert status["abort单位.xlsx"].status == STATUS_FAILED
    assert "异常中止" in status["abort单位.xlsx"].message and "abort单位.xlsx" in status["abort单位.xlsx"].message
    assert status["abort单位.xlsx"].error["code"] == "reader_crashed"
    assert status["unpicklable单位.xlsx"].status == STATUS_FAILED
    assert "无法传回" in status["unpicklable单位.xlsx"].message
    assert [Path(f.file).name for f in report.files] == [p.name for p in files]  # input order
    assert seen == [p.name for p in files]  # progress once per file, in input order
    assert len(ledger) == sum(len(read_ledger(p)) for p in goods)
    assert report.exit_code == 1


def test_a_worker_that_runs_out_of_memory_costs_only_its_own_file(tmp_path, monkeypatch):
    """Each worker gets an address-space limit (here lowered to 512 MB): a file whose reading
    wants 2 GB fails with a Chinese reason instead of taking the machine."""
    import xfsheets.consolidation as consolidation

    real = consolidation.read_ledger

    def hungry(path, **kwargs):
        if Path(path).name.startswith("hog"):
            bytearray(2 << 30)  # what a dense block of a bomb would ask for
        return real(path, **kwargs)

    monkeypatch.setattr(consolidation, "read_ledger", hungry)
    monkeypatch.setattr(limits, "worker_memory", lambda workers, limits=None: 512 << 20)
    goods = [_good(tmp_path, f"单位{i}.xlsx", 6, i) for i in range(3)]
    hog = _good(tmp_path, "hog单位.xlsx", 6, 7)
    ledger, report = consolidate([goods[0], hog, goods[1], goods[2]], jobs=2)
    status = {Path(f.file).name: f for f in report.files}
    assert status["hog单位.xlsx"].status == STATUS_FAILED and "内存不足" in status["hog单位.xlsx"].message
    assert len(ledger) == sum(len(read_ledger(p)) for p in goods)
