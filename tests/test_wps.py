"""The 信访台账 tab of WPS 表格 (issue 24 item 3), validated structurally and installed on a temp HOME.

- ribbon.xml parses and has the customUI shape (customUI/ribbon/tabs/tab/group/button in the
  customUI namespace), with the same tab, groups, button ids and labels as the Excel add-in's
  macros/customUI.xml; every callback it names is a function defined in main.js (parsed with
  esprima when installed, else a declaration regex; ``node --check`` when node is here);
- every button's action is one the service runs (xfsheets.web.actions.ACTIONS), the request sequence
  main.js makes (xfsheets/wps/contract.py) is answered by the service, and a press run by node with
  main.js itself reaches a real ``xfsheets serve`` (found through its service file) and its job runs;
- manifest.xml, publish.xml and authaddin.json parse; install/status/uninstall round-trip on a temp
  HOME (Linux: ~/.local/share/Kingsoft/wps/jsaddons; Windows: %APPDATA%\\kingsoft\\wps\\jsaddons)
  and keep other add-ins' entries; a broken publish.xml is refused with nothing written.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner

from xfsheets.cli import main
from xfsheets.wps import contract

ROOT = Path(__file__).resolve().parent.parent
NS = "{http://schemas.microsoft.com/office/2006/01/customui}"
ADDIN = resources.files("xfsheets.wps") / "addin"
CALLBACK_ATTRS = ("onLoad", "onAction", "getEnabled", "getVisible", "getLabel", "getImage", "getScreentip",
                  "getSupertip", "getPressed", "onChange")
# the customUI schema's shape for what the tab uses: element -> (allowed children, allowed attributes)
SHAPE = {
    "customUI": ({"ribbon"}, {"onLoad"}),
    "ribbon": ({"tabs"}, {"startFromScratch"}),
    "tabs": ({"tab"}, set()),
    "tab": ({"group"}, {"id", "label", "visible", "getVisible", "insertAfterMso", "insertBeforeMso"}),
    "group": ({"button"}, {"id", "label", "visible", "getVisible"}),
    "button": (set(), {"id", "label", "size", "imageMso", "image", "getImage", "onAction", "getEnabled", "enabled",
                       "screentip", "supertip", "getScreentip", "getSupertip", "visible", "getVisible", "showLabel"}),
}


def ribbon() -> ET.Element:
    return ET.fromstring((ADDIN / "ribbon.xml").read_bytes())


def main_js() -> str:
    return (ADDIN / "main.js").read_text(encoding="utf-8")


def js_functions(source: str) -> set[str]:
    """The top-level function declarations of a script."""
    try:
        import esprima
    except ImportError:
        return set(re.findall(r"^function\s+([A-Za-z_$][\w$]*)\s*\(", source, flags=re.M))
    return {node.id.name for node in esprima.parseScript(source).body if node.type == "FunctionDeclaration"}


def test_ribbon_has_the_customui_shape():
    root = ribbon()
    assert root.tag == f"{NS}customUI"

    def walk(el):
        name = el.tag.removeprefix(NS)
        assert el.tag.startswith(NS) and name in SHAPE, el.tag
        children, attrs = SHAPE[name]
        assert set(el.attrib) <= attrs, (name, set(el.attrib) - attrs)
        for child in el:
            assert child.tag.removeprefix(NS) in children, (name, child.tag)
            walk(child)

    walk(root)
    ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids))
    assert all(b.get("onAction") and b.get("label") for b in root.iter(f"{NS}button"))


def test_ribbon_mirrors_the_excel_tab():
    excel = ET.fromstring((ROOT / "macros" / "customUI.xml").read_bytes())

    def tab(root, strip=""):
        return [(t.get("id"), t.get("label"), [(g.get("id"), g.get("label"),
                                                [(b.get("id"), b.get("label"), b.get("onAction").removeprefix(strip))
                                                 for b in g.iter(f"{NS}button")]) for g in t.iter(f"{NS}group")])
                for t in root.iter(f"{NS}tab")]

    assert tab(ribbon()) == tab(excel, strip="xfsheetsRibbon.")
    assert tab(ribbon())[0][1] == "信访台账"


def test_every_callback_is_a_function_of_main_js():
    callbacks = {el.get(a) for el in ribbon().iter() for a in CALLBACK_ATTRS if el.get(a)}
    assert {"OnAddinLoad", "CheckLedger", "MakeReport"} <= callbacks
    defined = js_functions(main_js())
    assert callbacks - defined == set(), f"callbacks without a function in main.js: {callbacks - defined}"


def test_main_js_is_a_script_node_accepts():
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("node is not installed (the declaration check above still ran)")
    done = subprocess.run([node, "--check", str(ADDIN / "main.js")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_every_button_runs_an_action_the_service_has():
    from xfsheets.web.actions import ACTIONS

    buttons = [b.get("onAction") for b in ribbon().iter(f"{NS}button")]
    assert sorted(buttons) == sorted(contract.BUTTON_ACTIONS)
    assert {a for a in contract.BUTTON_ACTIONS.values() if a} <= set(ACTIONS)
    assert contract.BUTTON_ACTIONS["CheckLedger"] == "check" and contract.BUTTON_ACTIONS["MakeReport"] == "report"


def test_manifest_and_entry_page():
    manifest = ET.fromstring((ADDIN / "manifest.xml").read_bytes())
    assert manifest.tag == "JsPlugin" and manifest.findtext("Name") == "xfsheets"
    page = (ADDIN / "index.html").read_text(encoding="utf-8")
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', page)
    assert scripts == ["config.js", "main.js"]  # the contract first, then the callbacks that use it


# --- install, status, uninstall on a temp HOME --------------------------------------------------------

@pytest.fixture
def linux_home(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return tmp_path / "home" / ".local" / "share" / "Kingsoft" / "wps" / "jsaddons"


OTHER_PUBLISH = ('<?xml version="1.0" encoding="UTF-8"?>\n<jsplugins>\n'
                 '  <jsplugin name="公文助手" type="wps" url="gongwen_1.2.0" version="1.2.0" enable="enable_dev"/>\n'
                 '</jsplugins>\n')
OTHER_AUTH = {"wps": {"namelist": "gongwen", "gongwen": {"name": "公文助手", "enable": True, "isload": True, "mode": 1}},
              "et": {"namelist": "biaoge", "biaoge": {"name": "表格工具", "enable": True, "isload": True, "mode": 1}}}


def invoke(*args) -> tuple[int, str]:
    r = CliRunner().invoke(main, ["wps", *args])
    assert "Traceback" not in r.output
    return r.exit_code, r.output


def test_install_status_uninstall_round_trip_keeps_other_addins(linux_home):
    linux_home.mkdir(parents=True)
    (linux_home / "publish.xml").write_text(OTHER_PUBLISH, encoding="utf-8")
    (linux_home / "authaddin.json").write_text(json.dumps(OTHER_AUTH, ensure_ascii=False), encoding="utf-8")
    code, out = invoke("status")
    assert code == 1 and "没有安装" in out

    code, out = invoke("install")
    assert code == 0 and "已安装 WPS 加载项" in out and "重新打开 WPS 表格" in out, out
    folder = linux_home / "xfsheets_0.1.0"
    for name in ("ribbon.xml", "main.js", "index.html", "manifest.xml", "config.js"):
        assert (folder / name).is_file(), name
    assert (folder / "ribbon.xml").read_bytes() == (ADDIN / "ribbon.xml").read_bytes()
    plugins = ET.parse(linux_home / "publish.xml").getroot()
    assert [(p.get("name"), p.get("type"), p.get("url")) for p in plugins] == [
        ("公文助手", "wps", "gongwen_1.2.0"), ("xfsheets", "et", "xfsheets_0.1.0")]
    ours = plugins[1]
    assert ours.tag == "jsplugin" and ours.get("version") == "0.1.0" and ours.get("enable") == "enable_dev"
    auth = json.loads((linux_home / "authaddin.json").read_text(encoding="utf-8"))
    assert auth["wps"] == OTHER_AUTH["wps"] and auth["et"]["biaoge"] == OTHER_AUTH["et"]["biaoge"]
    assert auth["et"]["namelist"] == "biaoge;xfsheets"
    assert auth["et"]["xfsheets"] == {"name": "xfsheets", "enable": True, "isload": True, "mode": 1, "path": str(folder)}
    config = (folder / "config.js").read_text(encoding="utf-8")
    data = json.loads(config.split("var XFSHEETS = ", 1)[1].rstrip().rstrip(";"))
    assert data["serviceFile"] == str(linux_home.parents[4] / ".config" / "xfsheets" / "serve.json")
    assert data["actions"] == contract.BUTTON_ACTIONS and data["tokenHeader"] == contract.TOKEN_HEADER

    r = CliRunner().invoke(main, ["wps", "status", "--json"])
    code, doc = r.exit_code, json.loads(r.stdout)
    assert code == 0 and doc["installed"] and doc["problems"] == [] and doc["service_running"] is False

    code, out = invoke("install")  # again: one entry, not two
    assert code == 0 and len(ET.parse(linux_home / "publish.xml").getroot()) == 2
    assert json.loads((linux_home / "authaddin.json").read_text(encoding="utf-8"))["et"]["namelist"] == "biaoge;xfsheets"

    code, out = invoke("uninstall")
    assert code == 0 and "重新打开 WPS" in out
    assert not folder.exists()
    assert [p.get("name") for p in ET.parse(linux_home / "publish.xml").getroot()] == ["公文助手"]
    assert json.loads((linux_home / "authaddin.json").read_text(encoding="utf-8")) == OTHER_AUTH
    assert invoke("status")[0] == 1
    assert invoke("uninstall") == (0, "没有找到已安装的 WPS 加载项，没有改动。\n")


def test_windows_installs_under_appdata(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("APPDATA", str(tmp_path / "Roaming"))
    code, out = invoke("install")
    assert code == 0, out
    jsaddons = tmp_path / "Roaming" / "kingsoft" / "wps" / "jsaddons"
    assert (jsaddons / "xfsheets_0.1.0" / "main.js").is_file() and (jsaddons / "publish.xml").is_file()
    assert invoke("status")[0] == 0


def test_a_broken_publish_list_is_refused_and_nothing_is_written(linux_home):
    linux_home.mkdir(parents=True)
    (linux_home / "publish.xml").write_text("<jsplugins><jsplugin name=", encoding="utf-8")
    code, out = invoke("install")
    assert code == 2 and "不是合法的 XML" in out and "没有做任何改动" in out, out
    assert sorted(p.name for p in linux_home.iterdir()) == ["publish.xml"]
    assert (linux_home / "publish.xml").read_text(encoding="utf-8") == "<jsplugins><jsplugin name="


# --- the contract, against the service as it is ---------------------------------------------------------

def test_the_presses_requests_are_answered_by_the_service(tmp_path, monkeypatch):
    """What main.js sends for 检查台账 (contract.ENDPOINTS, the token in its header): health, clear, upload,
    run; the job id it gets opens the page."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*httpx2.*")
        from starlette.testclient import TestClient
    from xfsheets.web.app import Workbench, create_app

    monkeypatch.chdir(tmp_path)
    client = TestClient(create_app(Workbench(tmp_path / "work", token="t0ken-for-test", jobs=1)),
                        base_url=f"http://127.0.0.1:{contract.DEFAULT_PORT}")
    auth = {contract.TOKEN_HEADER: "t0ken-for-test"}
    end = contract.ENDPOINTS
    assert client.get(end["health"]).status_code == 401  # no token, no answer
    assert client.get(end["health"], headers=auth).status_code == 200
    assert client.delete(end["ledgers"], headers=auth).status_code == 200
    ledger = resources.files("xfsheets").joinpath("samples", "县信访局台账.xlsx").read_bytes()
    r = client.put(end["upload"], params={"name": "县信访局台账.xlsx"}, content=ledger,
                   headers={**auth, "Content-Type": "application/octet-stream"})
    assert r.status_code == 200, r.text
    r = client.post(end["run"].format(action=contract.BUTTON_ACTIONS["CheckLedger"]), content=b"{}",
                    headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 202 and isinstance(r.json()["id"], int), r.text


# --- a press, with main.js itself (node, WPS's objects stood in for) -------------------------------------

HARNESS = r"""
const fs = require("fs"), vm = require("vm");
const [configPath, mainPath, scenarioPath] = process.argv.slice(2);
const scenario = JSON.parse(fs.readFileSync(scenarioPath, "utf8"));
const seen = {requests: [], alerts: [], opened: []};
function FakeXHR() { this.headers = {}; }
FakeXHR.prototype.open = function (method, url, sync) { this.method = method; this.url = url; this.sync = sync; };
FakeXHR.prototype.setRequestHeader = function (k, v) { this.headers[k] = v; };
FakeXHR.prototype.send = function (body) {
  const size = body == null ? 0 : (body.byteLength !== undefined ? body.byteLength : String(body).length);
  seen.requests.push({method: this.method, url: this.url, sync: this.sync, headers: this.headers, size: size,
                      body: typeof body === "string" ? body : null});
  if (scenario.down) { throw new Error("connection refused"); }
  const reply = scenario.replies[seen.requests.length - 1] || [500, "{}"];
  this.status = reply[0]; this.responseText = reply[1];
};
const sandbox = {
  XMLHttpRequest: FakeXHR, JSON: JSON, String: String, encodeURIComponent: encodeURIComponent,
  alert: (t) => seen.alerts.push(t),
  window: {open: (u) => seen.opened.push(u)},
  Application: {ActiveWorkbook: scenario.book},
  wps: {
    FileSystem: {
      Exists: (p) => fs.existsSync(p),
      ReadFile: (p) => fs.readFileSync(p, "utf8"),
      ReadFileAsArrayBuffer: (p) => { const b = fs.readFileSync(p); return b.buffer.slice(b.byteOffset, b.byteOffset + b.length); },
    },
    OAAssist: {ShellExecute: (u) => seen.opened.push(u)},
  },
};
vm.createContext(sandbox);
vm.runInContext(fs.readFileSync(configPath, "utf8"), sandbox);
vm.runInContext(fs.readFileSync(mainPath, "utf8"), sandbox);
seen.result = vm.runInContext(scenario.press + "({id: 'x'})", sandbox);
process.stdout.write(JSON.stringify(seen));
"""


@pytest.fixture
def press(linux_home, tmp_path):
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("node is not installed")
    assert invoke("install")[0] == 0
    folder = linux_home / "xfsheets_0.1.0"
    harness = tmp_path / "harness.js"
    harness.write_text(HARNESS, encoding="utf-8")
    ledger = tmp_path / "台账 十一月.xlsx"
    ledger.write_bytes(resources.files("xfsheets").joinpath("samples", "县信访局台账.xlsx").read_bytes())

    def run(button, replies=(), *, service=True, down=False, saved=True, book=True):
        service_file = contract.service_file()
        service_file.parent.mkdir(parents=True, exist_ok=True)
        service_file.unlink(missing_ok=True)
        if service:
            service_file.write_text(json.dumps({"url": "http://127.0.0.1:8765/", "token": "tok/en+1", "pid": 1}),
                                    encoding="utf-8")
        scenario = {"press": button, "replies": list(replies), "down": down,
                    "book": {"FullName": str(ledger), "Name": ledger.name, "Path": str(tmp_path), "Saved": saved}
                    if book else None}
        (tmp_path / "scenario.json").write_text(json.dumps(scenario), encoding="utf-8")
        done = subprocess.run([node, str(harness), str(folder / "config.js"), str(folder / "main.js"),
                               str(tmp_path / "scenario.json")], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    run.ledger = ledger
    return run


OK = [[200, '{"ok": true}'], [200, '{"files": []}'], [200, '{"file": {}}'], [202, '{"id": 7, "state": "running"}']]


def test_a_press_sends_the_workbook_and_opens_the_page_on_its_job(press):
    seen = press("CheckLedger", OK)
    reqs = seen["requests"]
    assert [(r["method"], r["url"]) for r in reqs] == [
        ("GET", "http://127.0.0.1:8765/api/health"), ("DELETE", "http://127.0.0.1:8765/api/ledgers"),
        ("PUT", "http://127.0.0.1:8765/api/upload?name=%E5%8F%B0%E8%B4%A6%20%E5%8D%81%E4%B8%80%E6%9C%88.xlsx"),
        ("POST", "http://127.0.0.1:8765/api/run/check")]
    assert all(r["headers"][contract.TOKEN_HEADER] == "tok/en+1" for r in reqs)
    assert reqs[2]["size"] == press.ledger.stat().st_size  # the saved file's bytes, whole
    assert seen["opened"] == ["http://127.0.0.1:8765/?token=tok%2Fen%2B1#job=7"] and seen["alerts"] == []
    seen = press("MakeReport", OK)
    assert seen["requests"][-1]["url"].endswith("/api/run/report")


def test_a_press_without_the_service_says_how_to_start_it(press):
    for seen in (press("CheckLedger", service=False), press("CheckLedger", down=True)):
        assert len(seen["alerts"]) == 1 and "信访台账助手没有运行" in seen["alerts"][0] and "桌面" in seen["alerts"][0]
        assert seen["opened"] == [] and seen["result"] is False


def test_a_press_on_an_unsaved_book_asks_to_save_and_sends_nothing(press):
    seen = press("CheckLedger", OK, saved=False)
    assert seen["requests"] == [] and "请先保存" in seen["alerts"][0]
    seen = press("ComputeDeadlines", OK, book=False)
    assert seen["requests"] == [] and "打开一个台账" in seen["alerts"][0]


def test_the_services_refusal_reaches_the_clerk_in_its_words(press):
    refused = [[200, "{}"], [200, "{}"], [422, json.dumps({"error": {"message": "「台账.xlsx」无法作为台账读取：没有表头"}})]]
    seen = press("CheckLedger", refused)
    assert seen["alerts"] == ["「台账.xlsx」无法作为台账读取：没有表头"] and seen["opened"] == []


def test_merge_settings_and_help_open_the_page_only(press):
    for button in ("MergeLedgers", "ShowSettings", "ShowHelp"):
        seen = press(button, OK)
        assert seen["requests"] == [] and seen["opened"] == ["http://127.0.0.1:8765/?token=tok%2Fen%2B1"]


def test_the_service_lets_the_offline_addin_read_its_answers(tmp_path, monkeypatch):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*httpx2.*")
        from starlette.testclient import TestClient
    from xfsheets.web.app import Workbench, create_app

    monkeypatch.chdir(tmp_path)
    client = TestClient(create_app(Workbench(tmp_path / "work", token="t0ken-for-test", jobs=1)),
                        base_url=f"http://127.0.0.1:{contract.DEFAULT_PORT}")
    pre = client.options(contract.ENDPOINTS["upload"], headers={
        "origin": contract.ADDIN_ORIGIN, "access-control-request-method": "PUT",
        "access-control-request-headers": f"{contract.TOKEN_HEADER}, content-type"})
    assert pre.status_code == 200 and pre.headers.get("access-control-allow-origin") == contract.ADDIN_ORIGIN


# --- the shortcut 信访台账助手: the running service's page, or a new service ------------------------------

def test_the_shortcut_opens_the_running_service_or_starts_one(linux_home, monkeypatch):
    import http.server
    import threading

    from xfsheets.wps import launch

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            ok = self.path == contract.ENDPOINTS["health"] and self.headers.get(contract.TOKEN_HEADER) == "tok"
            self.send_response(200 if ok else 401)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    opened, started = [], []
    monkeypatch.setattr(launch.webbrowser, "open", opened.append)
    import xfsheets.cli

    monkeypatch.setattr(xfsheets.cli, "main", lambda args: started.append(args) or 0)
    service = contract.service_file()
    service.parent.mkdir(parents=True, exist_ok=True)
    try:
        service.write_text(json.dumps({"url": f"http://127.0.0.1:{port}/", "token": "tok"}), encoding="utf-8")
        assert launch.main([]) == 0 and opened == [f"http://127.0.0.1:{port}/?token=tok"] and started == []
        service.write_text(json.dumps({"url": f"http://127.0.0.1:{port}/", "token": "stale"}), encoding="utf-8")
        assert launch.main([]) == 0 and started == [["serve"]]  # a token of an earlier start: a new service
        service.write_text(json.dumps({"url": f"http://example.org:{port}/", "token": "tok"}), encoding="utf-8")
        assert launch.main(["--port", "8800"]) == 0 and started[-1] == ["serve", "--port", "8800"]
        service.unlink()
        assert launch.main([]) == 0 and len(started) == 3 and len(opened) == 1
    finally:
        server.shutdown()


# --- a press end to end: main.js, a real `xfsheets serve`, the job it starts ------------------------------

REAL_XHR = r"""
const cp = require("child_process"), os = require("os"), path = require("path");
function CurlXHR() { this.headers = {}; }
CurlXHR.prototype.open = function (method, url) { this.method = method; this.url = url; };
CurlXHR.prototype.setRequestHeader = function (k, v) { this.headers[k] = v; };
CurlXHR.prototype.send = function (body) {
  const args = ["-s", "-X", this.method, "-w", "\n%{http_code}", this.url];
  for (const k in this.headers) { args.push("-H", k + ": " + this.headers[k]); }
  if (body != null) {
    const file = path.join(os.tmpdir(), "xf-body-" + process.pid);
    fs.writeFileSync(file, typeof body === "string" ? body : Buffer.from(body));
    args.push("--data-binary", "@" + file);
  }
  let out;
  try { out = cp.execFileSync("curl", args, {encoding: "utf8"}); } catch (e) { throw new Error("refused"); }
  const cut = out.lastIndexOf("\n");
  this.responseText = out.slice(0, cut); this.status = parseInt(out.slice(cut + 1), 10);
  seen.requests.push({method: this.method, url: this.url, status: this.status});
  if (this.status === 0) { throw new Error("refused"); }
};
sandbox.XMLHttpRequest = CurlXHR;
"""


def test_a_press_reaches_a_real_service_and_its_job_runs(linux_home, tmp_path):
    import os
    import time
    import urllib.request

    node = shutil.which("node") or shutil.which("nodejs")
    if node is None or shutil.which("curl") is None:
        pytest.skip("needs node and curl")
    assert invoke("install")[0] == 0
    folder = linux_home / "xfsheets_0.1.0"
    harness = tmp_path / "harness.js"
    harness.write_text(HARNESS.replace("vm.createContext(sandbox);", REAL_XHR + "vm.createContext(sandbox);"),
                       encoding="utf-8")
    ledger = tmp_path / "县信访局台账.xlsx"
    ledger.write_bytes(resources.files("xfsheets").joinpath("samples", "县信访局台账.xlsx").read_bytes())
    env = {**os.environ, "HOME": os.environ["HOME"], "BROWSER": "true"}
    env.pop("XDG_CONFIG_HOME", None)
    server = subprocess.Popen([sys.executable, "-m", "xfsheets", "serve", "--port", "0", "--no-browser",
                               "--folder", str(tmp_path / "work")], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        service = contract.service_file()
        deadline = time.time() + 60
        while not service.exists():
            assert server.poll() is None and time.time() < deadline, server.stdout.read().decode()
            time.sleep(0.2)
        info = json.loads(service.read_text(encoding="utf-8"))
        scenario = {"press": "CheckLedger", "replies": [], "down": False,
                    "book": {"FullName": str(ledger), "Name": ledger.name, "Path": str(tmp_path), "Saved": True}}
        (tmp_path / "scenario.json").write_text(json.dumps(scenario), encoding="utf-8")
        done = subprocess.run([node, str(harness), str(folder / "config.js"), str(folder / "main.js"),
                               str(tmp_path / "scenario.json")], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        seen = json.loads(done.stdout)
        assert [r["status"] for r in seen["requests"]] == [200, 200, 200, 202] and seen["alerts"] == [], seen
        (page,) = seen["opened"]
        job = int(page.rsplit("#job=", 1)[1])
        assert page.startswith(info["url"].rstrip("/") + "/?token=")
        state = {"state": "running"}
        while state["state"] == "running":
            assert time.time() < deadline + 240
            time.sleep(0.3)
            request = urllib.request.Request(info["url"].rstrip("/") + contract.ENDPOINTS["job"].format(job=job),
                                             headers={contract.TOKEN_HEADER: info["token"]})
            with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310 (the loopback service)
                state = json.loads(reply.read())
        assert state["state"] == "done" and state["action"] == "check", state
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert not contract.service_file().exists()  # the service took its file with it
