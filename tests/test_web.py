"""The local web page's service (xfsheets serve), through starlette's TestClient: the token, the Host
check, CORS, the upload limit and the limits guard, and each button against the CLI command it stands for
(the same library calls: the workbooks written are the same, cell for cell)."""
from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
import warnings
from importlib import resources
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2.*")  # starlette suggests httpx2; httpx is what is packaged
    from starlette.testclient import TestClient

from xfsheets.cli import main
from xfsheets.web import MAX_UPLOAD_BYTES, TOKEN_HEADER, WPS_ADDIN_ORIGIN
from xfsheets.web.actions import period_range
from xfsheets.web.app import LEDGERS_DIR, RESULTS_DIR, Workbench, create_app

sys.path.insert(0, str(Path(__file__).resolve().parent / "hostile"))
import make_bombs  # noqa: E402

TOKEN = "test-token-0123456789"
AS_OF = "2026-11-25"  # the samples' day (xfsheets.demo.SAMPLES_AS_OF)
COUNTY = "县信访局台账.xlsx"


def sample_bytes(name: str) -> bytes:
    return resources.files("xfsheets").joinpath("samples", name).read_bytes()


def sample_names() -> list[str]:
    return sorted(p.name for p in resources.files("xfsheets").joinpath("samples").iterdir() if p.name.endswith(".xlsx"))


@pytest.fixture
def bench(tmp_path, monkeypatch) -> Workbench:
    monkeypatch.chdir(tmp_path)  # no history store of the current folder is found by accident
    (tmp_path / "cwd-stays-empty").mkdir()
    monkeypatch.chdir(tmp_path / "cwd-stays-empty")
    return Workbench(tmp_path / "work", token=TOKEN, jobs=1)


@pytest.fixture
def client(bench) -> TestClient:
    return TestClient(create_app(bench), base_url="http://127.0.0.1:8765")


def upload(client: TestClient, name: str, content: bytes, token: str | None = TOKEN):
    params = {"name": name} | ({"token": token} if token else {})
    return client.post("/api/upload", params=params, content=content)


def run_job(client: TestClient, action: str, **options) -> dict:
    r = client.post(f"/api/run/{action}", params={"token": TOKEN}, json={"as_of": AS_OF, **options})
    assert r.status_code == 202, r.text
    job = r.json()
    deadline = time.time() + 300
    while job["state"] == "running":
        assert time.time() < deadline, f"{action} still running"
        time.sleep(0.1)
        job = client.get(f"/api/jobs/{job['id']}", params={"token": TOKEN}).json()
    return job


def cells(path: Path) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(path)
    return {ws.title: [tuple(row) for row in ws.iter_rows(values_only=True)] for ws in book.worksheets}


def cli(*args: str) -> None:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code in (0, 1), result.output


# --- the token, the Host, CORS ------------------------------------------------------------------

def test_every_request_needs_the_token(client):
    for path in ("/", "/static/app.js", "/api/ledgers", "/api/health", "/api/history", "/api/jobs/1"):
        r = client.get(path)
        assert r.status_code == 401, path
        assert "口令" in r.json()["error"]["message"]
        assert client.get(path, params={"token": "wrong"}).status_code == 403, path
    assert client.post("/api/upload", params={"name": COUNTY}, content=sample_bytes(COUNTY)).status_code == 401
    assert client.post("/api/run/check").status_code == 401
    assert client.get("/api/health", params={"token": TOKEN}).status_code == 200
    assert client.get("/api/health", headers={TOKEN_HEADER: TOKEN}).status_code == 200


def test_the_page_carries_the_token_and_ships_its_scripts(client):
    page = client.get("/", params={"token": TOKEN})
    assert page.status_code == 200
    assert f'content="{TOKEN}"' in page.text and "信访台账助手" in page.text
    for name in ("检查", "计算时限", "交办单", "督办单", "汇总报表", "零报告", "合并台账", "本周", "上周", "本季度", "自定义"):
        assert name in page.text
    assert "http" not in page.text.replace('content="width', "")  # nothing from another site: no CDN
    assert "script-src 'self'" in page.headers["content-security-policy"]
    js = client.get("/static/app.js", params={"token": TOKEN})
    assert js.status_code == 200 and "createElementNS" in js.text  # the chart is inline SVG


def test_a_foreign_host_is_refused(client):
    for host in ("evil.example", "evil.example:8765", "127.0.0.1.evil.example"):
        r = client.get("/api/health", params={"token": TOKEN}, headers={"host": host})
        assert r.status_code in (400, 403, 421), host
    assert client.get("/api/health", params={"token": TOKEN}, headers={"host": "localhost:8765"}).status_code == 200


def test_cors_only_for_the_wps_addin(client):
    assert WPS_ADDIN_ORIGIN == "null"  # the add-in installed offline is loaded from disk (xfsheets.wps.contract)
    ok = client.get("/api/health", params={"token": TOKEN}, headers={"origin": WPS_ADDIN_ORIGIN})
    assert ok.headers.get("access-control-allow-origin") == WPS_ADDIN_ORIGIN
    assert client.get("/api/health", headers={"origin": WPS_ADDIN_ORIGIN}).status_code == 401  # still the token
    other = client.get("/api/health", params={"token": TOKEN}, headers={"origin": "http://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    pre = client.options("/api/run/check", headers={"origin": WPS_ADDIN_ORIGIN, "access-control-request-method": "POST",
                                                    "access-control-request-headers": TOKEN_HEADER})
    assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == WPS_ADDIN_ORIGIN
    bad = client.options("/api/run/check", headers={"origin": "http://evil.example",
                                                    "access-control-request-method": "POST"})
    assert bad.status_code == 400 and "access-control-allow-origin" not in bad.headers


# --- uploads ------------------------------------------------------------------------------------

def test_an_upload_is_read_and_shown(client, bench):
    r = upload(client, COUNTY, sample_bytes(COUNTY))
    assert r.status_code == 200, r.text
    doc = r.json()["file"]
    assert doc["file"] == COUNTY and doc["matters"] == 240
    assert doc["sheets"][0]["sheet"] == "信访台账" and doc["sheets"][0]["header_rows"] == [3]
    assert (bench.folder / LEDGERS_DIR / COUNTY).read_bytes() == sample_bytes(COUNTY)
    again = upload(client, COUNTY, sample_bytes(COUNTY))  # the same name twice: a second copy, not a replacement
    assert again.json()["file"]["file"] == "县信访局台账（2）.xlsx"
    assert [f["file"] for f in client.get("/api/ledgers", params={"token": TOKEN}).json()["files"]] == [
        COUNTY, "县信访局台账（2）.xlsx"]


def test_an_upload_over_the_limit_is_refused_and_leaves_nothing(tmp_path):
    bench = Workbench(tmp_path / "work", token=TOKEN, max_upload=10_000)
    client = TestClient(create_app(bench), base_url="http://127.0.0.1:8765")
    r = upload(client, COUNTY, sample_bytes(COUNTY))
    assert r.status_code == 413
    assert "超过" in r.json()["error"]["message"]

    def chunks():  # no Content-Length: counted as it streams
        for _ in range(5):
            yield b"x" * 4096

    r = client.post("/api/upload", params={"name": "大文件.xlsx", "token": TOKEN}, content=chunks())
    assert r.status_code == 413
    assert list((bench.folder / LEDGERS_DIR).iterdir()) == []
    assert MAX_UPLOAD_BYTES >= 50 * 1024 * 1024  # a real 100,000-row ledger (about 15 MB) fits


HOSTILE = {"zip_bomb": ".xlsx", "ods_repeat_bomb": ".ods", "corrupt_zip": ".xlsx", "panic_xlsb": ".xlsb"}


@pytest.mark.parametrize("make", sorted(HOSTILE))
def test_a_hostile_upload_gets_a_chinese_error_and_the_service_goes_on(client, bench, tmp_path, make):
    suffix = HOSTILE[make]
    hostile = getattr(make_bombs, make)(tmp_path / f"hostile{suffix}")
    started = time.time()
    r = upload(client, f"单位台账{suffix}", hostile.read_bytes())
    assert time.time() - started < 60
    assert r.status_code == 422, r.text
    message = r.json()["error"]["message"]
    assert "无法作为台账读取" in message and "Traceback" not in message
    assert str(bench.folder) not in message  # the clerk's file is named, not the work folder's path
    assert "其他文件不受影响" in r.json()["error"]["hint"]
    assert list((bench.folder / LEDGERS_DIR).iterdir()) == []  # the hostile file is not kept
    assert client.get("/api/health", params={"token": TOKEN}).json() == {"ok": True, "ledgers": 0}
    assert upload(client, COUNTY, sample_bytes(COUNTY)).status_code == 200


def test_a_far_away_cell_is_left_out_and_said(client, tmp_path):
    """The reader's guard reads a ledger with one stray value at XFD1048576 without it, and the page says so."""
    bomb = make_bombs.dimension_bomb(tmp_path / "bomb.xlsx")
    r = upload(client, "单位台账.xlsx", bomb.read_bytes())
    assert r.status_code == 200
    sheet = r.json()["file"]["sheets"][0]
    assert sheet["rows"] == 3
    assert [s["reason"] for s in sheet["skipped_rows"]] == ["远离数据区的孤立单元格 XFD1048576（已跳过，未读取）"]


def test_a_name_that_is_no_ledger_is_refused(client, bench):
    r = upload(client, "说明.txt", b"hello")
    assert r.status_code == 415 and "不是台账文件" in r.json()["error"]["message"]
    r = upload(client, "..\\..\\..\\台账.xlsx", sample_bytes(COUNTY))  # only the last part of a name is used
    assert r.status_code == 200 and (bench.folder / LEDGERS_DIR / "台账.xlsx").is_file()
    assert upload(client, "bad\x01name.xlsx", b"x").status_code == 415


def test_buttons_need_ledgers_and_valid_dates(client):
    r = client.post("/api/run/check", params={"token": TOKEN}, json={})
    assert r.status_code == 400 and "还没有台账" in r.json()["error"]["message"]
    upload(client, COUNTY, sample_bytes(COUNTY))
    r = client.post("/api/run/report", params={"token": TOKEN}, json={"as_of": "下个月"})
    assert r.status_code == 400 and "基准日" in r.json()["error"]["message"]
    assert client.post("/api/run/format-disk", params={"token": TOKEN}, json={}).status_code == 404


# --- each button is the CLI command ----------------------------------------------------------------

def _web_outputs(client, job) -> list[Path]:
    assert job["state"] == "done", job["error"]
    out = []
    for rel in job["result"]["outputs"]:
        r = client.get("/api/download/" + rel, params={"token": TOKEN})
        assert r.status_code == 200, rel
        path = Path(rel)
        assert r.content[:2] == b"PK"
        out.append(path)
    return out


def test_each_button_writes_what_the_cli_writes(client, bench, tmp_path):
    for name in sample_names():
        assert upload(client, name, sample_bytes(name)).status_code == 200
    ledgers = [str(p) for p in bench.ledgers]
    county = str(bench.folder / LEDGERS_DIR / COUNTY)
    cli_out = tmp_path / "cli"
    cli_out.mkdir()
    work = bench.folder

    # 检查 = check LEDGER -o
    job = run_job(client, "check")
    assert [p.name for p in _web_outputs(client, job)] == [f"{Path(n).stem}_检查标注.xlsx" for n in ledgers]
    cli("check", county, "--as-of", AS_OF, "-o", str(cli_out / "check.xlsx"))
    assert cells(work / RESULTS_DIR / "01_检查" / "县信访局台账_检查标注.xlsx") == cells(cli_out / "check.xlsx")
    rows = job["result"]["tables"][0]["rows"]
    assert rows and rows[0]["级别"] == "错误"  # errors first

    # 计算时限 = deadlines LEDGER -o
    job = run_job(client, "deadlines")
    _web_outputs(client, job)
    cli("deadlines", county, "--as-of", AS_OF, "-o", str(cli_out / "deadlines.xlsx"))
    assert cells(work / RESULTS_DIR / "02_计算时限" / "县信访局台账_时限预警.xlsx") == cells(cli_out / "deadlines.xlsx")
    shown = job["result"]["tables"][0]["rows"]
    days = [r["剩余天数"] for r in shown if r["剩余天数"] is not None]
    assert days == sorted(days) and shown[0]["预警"] in ("严重超期", "超期")  # overdue first
    assert {b["label"] for b in job["result"]["chart"]["bars"]} >= {"超期", "严重超期", "正常"}

    # 交办单 / 督办单 = slips LEDGER -o DIR [--overdue-only]
    for action, folder, extra in (("assign", "03_交办单", ()), ("supervise", "04_督办单", ("--overdue-only",))):
        job = run_job(client, action)
        web_files = _web_outputs(client, job)
        kind = "督办单" if extra else "交办单"
        cli("slips", county, "--as-of", AS_OF, "-o", str(cli_out / action), *extra)
        web_dir = work / RESULTS_DIR / folder / f"县信访局台账_{kind}"
        cli_names = sorted(p.name for p in (cli_out / action).iterdir())
        assert sorted(p.name for p in web_dir.iterdir()) == cli_names
        assert {p.name for p in web_files} >= set(cli_names)
        for name in cli_names:
            assert cells(web_dir / name) == cells(cli_out / action / name), name

    # 汇总报表 (本月 on the as-of day) = report LEDGERS -o --from --to --as-of
    job = run_job(client, "report", period="本月")
    assert job["result"]["period"] == {"from": "2026-11-01", "to": AS_OF}
    headline = {r["指标"]: r for r in job["result"]["tables"][0]["rows"]}  # the workbook's 总体情况 table
    assert headline["统计期间"]["数值"] == "2026年11月1日至2026年11月25日"
    assert headline["及时受理率"]["数值"].endswith("%") and isinstance(headline["及时受理率"]["分母"], int)
    assert {b["label"] for b in job["result"]["chart"]["bars"]} >= {"新增信访事项（件）", "超期未办结（件）"}
    _web_outputs(client, job)
    cli("report", *ledgers, "--as-of", AS_OF, "--from", "2026-11-01", "--to", AS_OF, "-o", str(cli_out / "report.xlsx"))
    assert cells(work / RESULTS_DIR / "05_汇总报表" / "汇总报表.xlsx") == cells(cli_out / "report.xlsx")

    # 零报告 = report --zero
    job = run_job(client, "zero", period="自定义", **{"from": "2026-11-01", "to": AS_OF})
    web_files = _web_outputs(client, job)
    cli("report", *ledgers, "--zero", "--as-of", AS_OF, "--from", "2026-11-01", "--to", AS_OF, "-o", str(cli_out / "zero"))
    cli_names = sorted(p.name for p in (cli_out / "zero").iterdir())
    assert sorted(p.name for p in web_files) == cli_names
    for name in cli_names:
        assert cells(work / RESULTS_DIR / "06_零报告" / "零报告" / name) == cells(cli_out / "zero" / name)

    # 合并台账 = consolidate FILES -o, progress counted per file
    job = run_job(client, "consolidate")
    assert (job["done"], job["total"]) == (len(ledgers), len(ledgers))
    _web_outputs(client, job)
    cli("consolidate", *ledgers, "--jobs", "1", "-o", str(cli_out / "consolidated.xlsx"))
    web_book, cli_book = cells(work / RESULTS_DIR / "07_合并台账" / "汇总台账.xlsx"), cells(cli_out / "consolidated.xlsx")
    assert web_book.keys() == cli_book.keys()
    for sheet in web_book:
        if sheet != "导入情况":  # the 导入情况 sheet names the output file it was written to
            assert web_book[sheet] == cli_book[sheet], sheet

    # the sources are untouched, and nothing was written outside the work folder
    for name in sample_names():
        assert (bench.folder / LEDGERS_DIR / name).read_bytes() == sample_bytes(name)
    assert list(Path.cwd().iterdir()) == []


def test_downloads_are_only_the_results(client, bench):
    upload(client, COUNTY, sample_bytes(COUNTY))
    job = run_job(client, "check")
    rel = job["result"]["outputs"][0]
    got = client.get("/api/download/" + rel, params={"token": TOKEN})
    assert "attachment" in got.headers["content-disposition"]
    for bad in (f"{LEDGERS_DIR}/{COUNTY}", f"{RESULTS_DIR}/../{LEDGERS_DIR}/{COUNTY}", "../../etc/passwd",
                f"{RESULTS_DIR}/%2e%2e/{LEDGERS_DIR}/{COUNTY}"):
        assert client.get("/api/download/" + bad, params={"token": TOKEN}).status_code == 404, bad


def test_a_failing_job_says_why_in_chinese_and_the_next_one_runs(client, bench):
    upload(client, COUNTY, sample_bytes(COUNTY))
    job = run_job(client, "zero", period="自定义", **{"from": "2026-11-01", "to": "2026-12-31"})  # runs past the as-of day
    assert job["state"] == "failed" and "Traceback" not in job["error"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in job["error"])
    assert run_job(client, "check")["state"] == "done"


def test_the_history_slot(client, bench):
    r = client.get("/api/history", params={"token": TOKEN}).json()
    assert r["store"] is None and "还没有历史库" in r["message"]
    upload(client, COUNTY, sample_bytes(COUNTY))
    ledger = str(bench.folder / LEDGERS_DIR / COUNTY)
    cli("history", "record", ledger, "--as-of", AS_OF)
    job = run_job(client, "report", period="本月")
    assert "已记入发出记录" in job["result"]["summary"]  # logged as `xfsheets report` logs
    r = client.get("/api/history", params={"token": TOKEN}).json()
    assert r["store"].endswith(".db") or "历史" in r["store"]
    assert "新增 240 件" in r["changes"]["sentence"] and r["changes"]["total"] >= 240
    assert [e["kind"] for e in r["log"]] == ["report"] and r["log"][0]["name"] == "汇总报表.xlsx"
    assert r["intact"] is True


def test_period_presets():
    wed = dt.date(2026, 12, 2)
    assert period_range("本周", wed) == (dt.date(2026, 11, 30), wed)
    assert period_range("上周", wed) == (dt.date(2026, 11, 23), dt.date(2026, 11, 29))
    assert period_range("本月", wed) == (dt.date(2026, 12, 1), wed)
    assert period_range("本季度", wed) == (dt.date(2026, 10, 1), wed)
    assert period_range("自定义", wed, dt.date(2026, 1, 1), dt.date(2026, 3, 31)) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    with pytest.raises(Exception, match="晚于"):
        period_range("自定义", wed, dt.date(2026, 3, 1), dt.date(2026, 1, 1))
    with pytest.raises(Exception, match="不是可选的统计期间"):
        period_range("明年", wed)


# --- the command ---------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_starts_on_loopback_prints_the_url_and_opens_the_browser(tmp_path):
    import urllib.error
    import urllib.request

    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" > "{opened}"\n')
    browser.chmod(0o755)
    port = _free_port()
    env = {**os.environ, "BROWSER": str(browser), "HOME": str(tmp_path / "home"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    proc = subprocess.Popen([sys.executable, "-m", "xfsheets", "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        first = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/?token=" in first
        url = first.split("：", 1)[1].strip()
        deadline = time.time() + 30
        while not opened.exists() and time.time() < deadline:
            time.sleep(0.1)
        assert opened.read_text().strip() == url  # webbrowser honoured BROWSER
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as page:
                    assert page.status == 200 and "信访台账助手" in page.read().decode("utf-8")
                break
            except urllib.error.URLError:
                assert time.time() < deadline
                time.sleep(0.2)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5)
        assert refused.value.code == 401
        # the service file tells the WPS add-in where the service is and its token (this user only)
        service = tmp_path / "config" / "xfsheets" / "serve.json"
        info = json.loads(service.read_text(encoding="utf-8"))
        assert info == {"url": f"http://127.0.0.1:{port}/", "token": url.split("token=")[1], "pid": proc.pid}
        assert service.stat().st_mode & 0o077 == 0
        # the work folder is a new one under the user's folder
        made = list((tmp_path / "home" / "xfsheets工作").iterdir())
        assert len(made) == 1 and (made[0] / LEDGERS_DIR).is_dir()
        # a second start on the same port is refused in Chinese
        second = subprocess.run([sys.executable, "-m", "xfsheets", "serve", "--port", str(port), "--no-browser",
                                 "--folder", str(tmp_path / "w2")], capture_output=True, text=True, timeout=60, env=env)
        assert second.returncode == 2 and "已被占用" in second.stderr and "Traceback" not in second.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert not service.exists()  # removed when the service stops


def test_serve_listens_on_loopback_only():
    from xfsheets.cli_web import _bind

    sock = _bind(0)
    try:
        assert sock.getsockname()[0] == "127.0.0.1"
    finally:
        sock.close()


def test_consolidate_reports_files_done_and_the_current_file(tmp_path):
    """The 合并台账 button's progress: after each file, how many are done and which one is read next."""
    from xfsheets.web import actions

    folder = tmp_path / "work"
    (folder / "台账").mkdir(parents=True)
    ledgers = []
    for name in sample_names():
        (folder / "台账" / name).write_bytes(sample_bytes(name))
        ledgers.append(folder / "台账" / name)
    seen = []
    out = folder / "结果"
    out.mkdir()
    actions.consolidate(ledgers, out, folder, {"jobs": 1}, lambda done, total, current: seen.append((done, total, current)))
    names = [p.name for p in ledgers]
    assert seen == [(0, len(names), names[0])] + [(k, len(names), names[k]) for k in range(1, len(names))] + [
        (len(names), len(names), "写出汇总台账")]
