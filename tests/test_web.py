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


# --- 发送: a report of this run by mail, as `xfsheets mail` does ----------------------------------

SENDER = "xfj@example.gov.cn"


def write_profile(profile: Path, port: int) -> Path:
    """The clerk's own xfsheets.toml: the test's SMTP server, no encryption and no login (which the mail
    library allows without a password)."""
    profile.mkdir(parents=True, exist_ok=True)
    path = profile / "xfsheets.toml"
    path.write_text(f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nsender = "{SENDER}"\n',
                    encoding="utf-8")
    return path


def send(client: TestClient, file: str, **body) -> dict:
    r = client.post("/api/mail", params={"token": TOKEN}, json={"file": file, **body})
    assert r.status_code == 202, r.text
    job = r.json()
    deadline = time.time() + 120
    while job["state"] == "running":
        assert time.time() < deadline, "mail still running"
        time.sleep(0.1)
        job = client.get(f"/api/jobs/{job['id']}", params={"token": TOKEN}).json()
    return job


def mail_setup(client: TestClient) -> dict:
    r = client.get("/api/mail", params={"token": TOKEN})
    assert r.status_code == 200, r.text
    return r.json()


def only_attachment(raw: bytes, folder: Path) -> Path:
    import email
    from email import policy

    msg = email.message_from_bytes(raw, policy=policy.default)
    (part,) = list(msg.iter_attachments())
    out = folder / ("收到_" + part.get_filename())
    out.write_bytes(part.get_content())
    return out


def values(path: Path) -> dict:
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in openpyxl.load_workbook(path).worksheets}


def report_with_personal_data(client: TestClient, bench: Workbench) -> tuple[str, Path]:
    """A 汇总报表 of this run that carries identity numbers and phones, so masking shows: the report the
    button wrote (itself already free of them), its content replaced by the mail tests' report with personal
    data (tests/data/privacy, as a clerk's edited report might be)."""
    from xfsheets.privacy import find_personal_data

    assert upload(client, COUNTY, sample_bytes(COUNTY)).status_code == 200
    job = run_job(client, "report", period="本月")
    assert job["state"] == "done", job["error"]
    (rel,) = job["result"]["outputs"]
    path = bench.folder / rel
    path.write_bytes((Path(__file__).parent / "data" / "privacy" / "汇总报表_含个人信息.xlsx").read_bytes())
    assert find_personal_data(path)
    return rel, path


def test_the_send_button_is_open_on_the_page(client):
    page = client.get("/", params={"token": TOKEN}).text
    assert 'id="send"' in page and "暂未开放" not in page
    button = page.split('id="send"', 1)[1].split(">", 1)[0]
    assert "disabled" not in button
    assert "写成邮件文件" in page
    script = client.get("/static/app.js", params={"token": TOKEN}).text
    assert '"api/mail"' in script


def test_send_mails_the_masked_report_to_exactly_the_typed_recipients(isolated_settings, client, bench, smtp_server,
                                                                     tmp_path):
    from xfsheets.privacy import find_personal_data, mask_workbook

    handler, port = smtp_server()
    profile = write_profile(isolated_settings, port)
    rel, report = report_with_personal_data(client, bench)
    before = report.read_bytes()
    ledger = str(bench.folder / LEDGERS_DIR / COUNTY)
    cli("history", "record", ledger, "--as-of", AS_OF)

    setup = mail_setup(client)
    assert [f["path"] for f in setup["files"]] == [rel]
    assert (setup["host"], setup["port"], setup["sender"], setup["can_send"]) == ("127.0.0.1", port, SENDER, True)
    assert setup["config"] == str(profile)
    assert f"邮件服务器 127.0.0.1（端口 {port}）" in setup["notice"] and str(profile) in setup["notice"]

    job = send(client, rel, to="a@example.gov.cn, 市信访局 <b@example.gov.cn>", cc="c@example.gov.cn",
               subject="2026年11月信访汇总")
    assert job["state"] == "done", job["error"]
    assert job["label"] == "发送" and job["result"]["sent"] is True and job["result"]["outputs"] == []
    assert "已经邮件服务器 127.0.0.1" in job["result"]["summary"] and "已脱敏" in job["result"]["summary"]
    assert "已记入发出记录" in job["result"]["summary"]

    (received,) = handler.messages
    assert received["rcpt_tos"] == ["a@example.gov.cn", "b@example.gov.cn", "c@example.gov.cn"]
    assert received["mail_from"] == SENDER and received["auth"] is None
    got = only_attachment(received["data"], tmp_path)
    assert got.name == "收到_汇总报表.xlsx"
    assert find_personal_data(got) == []
    reference = tmp_path / "ref.xlsx"
    mask_workbook(report, reference)
    assert values(got) == values(reference)
    assert report.read_bytes() == before  # the report on disk keeps its data; only the copy sent is masked
    assert not (bench.folder / RESULTS_DIR / "02_发送").exists()  # nothing written for a mail sent

    log = client.get("/api/history", params={"token": TOKEN}).json()["log"]
    assert [(e["kind"], e["name"]) for e in log] == [("mail", "汇总报表.xlsx")]  # recorded after the report ran
    assert "a@example.gov.cn" in log[0]["recipients"] and "c@example.gov.cn" in log[0]["recipients"]


def test_a_zero_report_can_be_sent_too(isolated_settings, client, bench, smtp_server):
    handler, port = smtp_server()
    write_profile(isolated_settings, port)
    upload(client, COUNTY, sample_bytes(COUNTY))
    job = run_job(client, "zero", period="本月")
    assert job["state"] == "done", job["error"]
    files = [f["path"] for f in mail_setup(client)["files"]]
    assert files and set(files) <= set(job["result"]["outputs"])
    assert send(client, files[0], to="a@example.gov.cn")["state"] == "done"
    assert [m["rcpt_tos"] for m in handler.messages] == [["a@example.gov.cn"]]


def test_a_line_break_in_a_recipient_is_refused_in_chinese_and_nothing_is_sent(isolated_settings, client, bench,
                                                                                 smtp_server):
    handler, port = smtp_server()
    write_profile(isolated_settings, port)
    rel, _ = report_with_personal_data(client, bench)
    for to, cc in (("a@example.gov.cn\r\nBcc: evil@example.com", ""), ("a@example.gov.cn", "c@example.gov.cn\nBcc: x@y.cn"),
                   ("a@example.gov.cn b@example.gov.cn", "")):
        job = send(client, rel, to=to, cc=cc)
        assert job["state"] == "failed", to
        assert "Traceback" not in job["error"] and "地址" in job["error"]
    job = send(client, rel, to="a@example.gov.cn\r\nBcc: evil@example.com")
    assert "换行符" in job["error"] and "邮件未生成" in job["error"]
    assert handler.messages == []


def test_only_this_runs_reports_can_be_chosen(isolated_settings, client, bench, smtp_server):
    handler, port = smtp_server()
    write_profile(isolated_settings, port)
    upload(client, COUNTY, sample_bytes(COUNTY))
    checked = run_job(client, "check")["result"]["outputs"][0]
    for bad in (f"{LEDGERS_DIR}/{COUNTY}", checked, f"{RESULTS_DIR}/../{LEDGERS_DIR}/{COUNTY}", "/etc/passwd", ""):
        r = client.post("/api/mail", params={"token": TOKEN}, json={"file": bad, "to": "a@example.gov.cn"})
        assert r.status_code == 400 and "只能发送本次生成的汇总报表或零报告" in r.json()["error"]["message"], bad
    assert client.post("/api/mail", params={"token": TOKEN}, json=["x"]).status_code == 400
    assert client.post("/api/run/mail", params={"token": TOKEN}, json={}).status_code == 404
    assert client.post("/api/mail", json={"file": checked}).status_code == 401
    assert handler.messages == []


def test_without_a_server_the_page_says_why_and_the_eml_file_works(isolated_settings, client, bench, tmp_path):
    import email
    from email import policy

    from xfsheets.privacy import find_personal_data

    rel, _ = report_with_personal_data(client, bench)
    setup = mail_setup(client)
    assert setup["can_send"] is False and setup["host"] is None
    assert "没有写邮件服务器" in setup["why_not"] and str(isolated_settings) in setup["why_not"]

    job = send(client, rel, to="a@example.gov.cn")
    assert job["state"] == "failed"
    assert job["error"].startswith("没有设置邮件服务器，邮件没有发送") and "写成邮件文件" in job["error"]

    job = send(client, rel, to="a@example.gov.cn", cc="c@example.gov.cn", eml=True)
    assert job["state"] == "done", job["error"]
    assert "写成邮件文件「汇总报表.eml」" in job["result"]["summary"]
    assert "没有直接发送，因为" in job["result"]["summary"] and "没有写邮件服务器" in job["result"]["summary"]
    (eml,) = job["result"]["outputs"]
    assert eml.startswith(f"{RESULTS_DIR}/") and eml.endswith(".eml")
    r = client.get("/api/download/" + eml, params={"token": TOKEN})
    assert r.status_code == 200
    msg = email.message_from_bytes(r.content, policy=policy.default)
    assert [a.addr_spec for a in msg["To"].addresses] == ["a@example.gov.cn"]
    assert [a.addr_spec for a in msg["Cc"].addresses] == ["c@example.gov.cn"]
    assert msg["X-Unsent"] == "1"
    assert find_personal_data(only_attachment(r.content, tmp_path)) == []

    # A .eml with no recipients is a draft the clerk addresses in their own mail program.
    assert send(client, rel, eml=True)["state"] == "done"


def test_a_settings_file_uploaded_or_in_the_work_folder_changes_nothing(isolated_settings, client, bench, smtp_server,
                                                                      tmp_path):
    good, good_port = smtp_server()
    evil, evil_port = smtp_server()
    hostile = (f'[smtp]\nhost = "127.0.0.1"\nport = {evil_port}\nsecurity = "none"\nsender = "evil@example.com"\n'
               '[mail]\nto = ["evil@example.com"]\ncc = ["evil2@example.com"]\n').encode()
    r = upload(client, "xfsheets.toml", hostile)
    assert r.status_code == 415  # not a ledger: refused, not kept
    assert not (bench.folder / LEDGERS_DIR / "xfsheets.toml").exists()
    for folder in (bench.folder, bench.folder / LEDGERS_DIR, bench.folder / RESULTS_DIR, Path.cwd(), tmp_path):
        (folder / "xfsheets.toml").write_bytes(hostile)
    rel, _ = report_with_personal_data(client, bench)

    setup = mail_setup(client)  # no profile yet: nothing configured, whatever lies in the work folder
    assert setup["can_send"] is False and setup["host"] is None and setup["to"] == [] and setup["config"] is None
    assert send(client, rel, to="a@example.gov.cn")["state"] == "failed"
    assert send(client, rel, eml=True)["state"] == "done"  # no recipients from a stray file either
    eml_jobs = [j for j in (client.get(f"/api/jobs/{k}", params={"token": TOKEN}).json() for k in range(1, 5))
                if j.get("action") == "mail" and j.get("state") == "done"]
    (eml,) = eml_jobs[0]["result"]["outputs"]
    headers = (bench.folder / eml).read_bytes().split(b"\r\n\r\n", 1)[0]
    assert b"To:" not in headers and b"Cc:" not in headers and b"evil" not in headers

    write_profile(isolated_settings, good_port)
    setup = mail_setup(client)
    assert (setup["host"], setup["port"], setup["sender"], setup["to"]) == ("127.0.0.1", good_port, SENDER, [])
    job = send(client, rel, to="a@example.gov.cn")
    assert job["state"] == "done", job["error"]
    assert [m["rcpt_tos"] for m in good.messages] == [["a@example.gov.cn"]]
    assert evil.messages == []
