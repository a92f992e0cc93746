"""The Starlette application behind the page.

One :class:`Workbench` per start: the work folder (uploads in ``台账/``, each job's outputs in
``结果/NN_按钮名/``), the token, the uploaded ledgers and the jobs. Jobs run one at a time in a
background thread; the page polls ``/api/jobs/{id}`` for files done and the current file.
"""
from __future__ import annotations

import datetime as dt
import html
import itertools
import os
import re
import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from xfsheets.errors import XfsheetsError
from xfsheets.web import MAX_UPLOAD_BYTES, TOKEN_HEADER, WPS_ADDIN_ORIGIN
from xfsheets.web import actions

LEDGERS_DIR = "台账"
RESULTS_DIR = "结果"
STATIC = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"message": message, **extra}}, status_code=status)


def _unexpected(exc: BaseException) -> str:
    from xfsheets.errors import from_unexpected

    return str(exc) if isinstance(exc, XfsheetsError) else str(from_unexpected(exc))


def _about_upload(exc: BaseException) -> str:
    """The reader's message about an uploaded file, without the work folder's path (the page names the file)."""
    from xfsheets.errors import from_unexpected

    error = exc if isinstance(exc, XfsheetsError) else from_unexpected(exc)
    text = str(error)
    if error.file:
        for joint in ("，", "："):
            text = text.replace(f"文件「{error.file}」{joint}", "", 1)
    return text


@dataclass
class Job:
    id: int
    action: str
    label: str
    state: str = "running"  # running | done | failed
    done: int = 0
    total: int = 0
    current: str = ""
    result: dict[str, Any] | None = None
    error: str | None = None
    started: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "action": self.action, "label": self.label, "state": self.state, "done": self.done,
                "total": self.total, "current": self.current, "result": self.result, "error": self.error,
                "seconds": round(time.time() - self.started, 1)}


class Workbench:
    """The state of one start of the service."""

    def __init__(self, folder: str | Path, token: str | None = None, *, jobs: int | None = None,
                 max_upload: int = MAX_UPLOAD_BYTES) -> None:
        self.folder = Path(folder).resolve()
        self.token = token or secrets.token_urlsafe(24)
        self.jobs_setting = jobs
        self.max_upload = max_upload
        self.ledgers: list[Path] = []
        self.summaries: dict[str, dict[str, Any]] = {}
        self.jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()  # one job at a time (the library is not built for concurrent writers)
        (self.folder / LEDGERS_DIR).mkdir(parents=True, exist_ok=True)
        (self.folder / RESULTS_DIR).mkdir(parents=True, exist_ok=True)

    # --- uploads ------------------------------------------------------------------------------

    def upload_target(self, name: str) -> Path:
        """A new file in the ledgers folder for an uploaded file called ``name`` (its last part only)."""
        from xfsheets.reader import SUFFIXES

        base = unicodedata.normalize("NFC", re.split(r"[\\/]", name or "")[-1]).strip().strip(".")
        if not base or any(unicodedata.category(ch)[0] == "C" for ch in base) or len(base) > 200:
            raise XfsheetsError(f"文件名「{base or name}」不能使用", hint="请把文件改成普通的名字（如 县信访局台账.xlsx）再上传")
        suffix = Path(base).suffix.lower()
        if suffix not in SUFFIXES:
            raise XfsheetsError(f"「{base}」不是台账文件（{suffix or '没有扩展名'}）",
                                hint="请上传 .xlsx .xlsm .xls .xlsb .ods .et .csv 格式的台账")
        folder = self.folder / LEDGERS_DIR
        target = folder / base
        for k in itertools.count(2):
            if not target.exists():
                break
            target = folder / f"{Path(base).stem}（{k}）{Path(base).suffix}"
        return target

    def add_ledger(self, path: Path, summary: dict[str, Any]) -> None:
        self.ledgers.append(path)
        self.summaries[path.name] = summary

    # --- jobs ---------------------------------------------------------------------------------

    def start(self, action: str, options: dict[str, Any]) -> Job:
        label = actions.MAIL_LABEL if action == actions.MAIL_ACTION else actions.ACTIONS[action]
        job = Job(next(self._ids), action, label)
        self.jobs[job.id] = job
        ledgers = list(self.ledgers)
        options = {**options, "jobs": self.jobs_setting}
        threading.Thread(target=self._run, args=(job, ledgers, options), daemon=True,
                         name=f"xfsheets-job-{job.id}").start()
        return job

    def _run(self, job: Job, ledgers: list[Path], options: dict[str, Any]) -> None:
        def progress(done: int, total: int, current: str) -> None:
            job.done, job.total, job.current = done, total, current

        with self._lock:
            try:
                out = self.folder / RESULTS_DIR / f"{job.id:02d}_{job.label}"
                out.mkdir(parents=True, exist_ok=True)
                job.result = actions.RUNNERS[job.action](ledgers, out, self.folder, options, progress)
                job.state = "done"
            except BaseException as exc:  # a reader's panic is a BaseException; the service goes on
                job.error = _unexpected(exc)
                job.state = "failed"

    def mailable(self) -> list[dict[str, Any]]:
        """The workbooks 发送 may mail: the 汇总报表 and 零报告 files this run's finished jobs wrote."""
        out = []
        for job in self.jobs.values():
            if job.action not in actions.MAILABLE or job.state != "done" or not job.result:
                continue
            for relative in job.result.get("outputs") or []:
                if Path(relative).suffix.lower() in (".xlsx", ".xlsm") and self.output_path(relative):
                    out.append({"path": relative, "name": Path(relative).name, "job": job.id, "label": job.label})
        return out

    def output_path(self, relative: str) -> Path | None:
        """A file this service wrote, by its path relative to the work folder; None for anything else."""
        path = (self.folder / relative).resolve()
        results = (self.folder / RESULTS_DIR).resolve()
        if results not in path.parents or not path.is_file():
            return None
        return path


# --- the token ------------------------------------------------------------------------------------

class TokenGuard:
    """Every request carries the per-start token (query ``token`` or the header); 401 without, 403 wrong."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        given = request.query_params.get("token") or request.headers.get(TOKEN_HEADER)
        if not given:
            response = _error(401, "缺少访问口令：请用 xfsheets serve 显示的完整网址打开本页（网址末尾带 ?token=…）")
        elif not secrets.compare_digest(given.encode(), self.token):
            response = _error(403, "访问口令不对：请用本次 xfsheets serve 显示的网址打开本页（每次启动口令都会变）")
        else:
            return await self.app(scope, receive, send)
        await response(scope, receive, send)


# --- routes ---------------------------------------------------------------------------------------

def _bench(request: Request) -> Workbench:
    return request.app.state.bench


async def index(request: Request) -> Response:
    bench = _bench(request)
    page = resources.files("xfsheets.web").joinpath("static", "index.html").read_text(encoding="utf-8")
    return HTMLResponse(page.replace("{{TOKEN}}", html.escape(bench.token, quote=True)),
                        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
                                 "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                                                            "style-src 'self'; script-src 'self'"})


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC:
        return _error(404, "没有这个文件")
    text = resources.files("xfsheets.web").joinpath("static", name).read_text(encoding="utf-8")
    return Response(text, media_type=STATIC[name], headers={"Cache-Control": "no-store"})


async def upload(request: Request) -> Response:
    """One file per request, the raw bytes as the body (``?name=`` its file name): written straight into
    the work folder, refused past the size limit, then read through the reader's limits guard."""
    bench = _bench(request)
    try:
        target = bench.upload_target(request.query_params.get("name", ""))
    except XfsheetsError as exc:
        return _error(415, str(exc))
    limit_text = f"{bench.max_upload // (1024 * 1024)} MB"
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > bench.max_upload:
        return _error(413, f"「{target.name}」超过 {limit_text}，没有上传",
                      hint="台账一般只有几 MB；请检查是否选错了文件，或删去多余内容后另存再上传")
    part = target.with_name(f".{target.name}.part")
    size = 0
    try:
        with open(part, "wb") as fh:
            async for chunk in request.stream():
                size += len(chunk)
                if size > bench.max_upload:
                    break
                fh.write(chunk)
        if size > bench.max_upload:
            part.unlink(missing_ok=True)
            return _error(413, f"「{target.name}」超过 {limit_text}，没有上传",
                          hint="台账一般只有几 MB；请检查是否选错了文件，或删去多余内容后另存再上传")
        os.replace(part, target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise

    def read() -> tuple[dict[str, Any] | None, str | None]:
        try:
            return actions.read_summary(target), None
        except BaseException as exc:  # a reader's panic included: the file costs only itself
            return None, _about_upload(exc)

    summary, problem = await run_in_threadpool(read)
    if problem is not None:
        target.unlink(missing_ok=True)
        return _error(422, f"「{target.name}」无法作为台账读取：{problem}", file=target.name,
                      hint="这个文件没有加入，其他文件不受影响。")
    bench.add_ledger(target, summary)
    return JSONResponse({"file": summary})


async def ledgers(request: Request) -> Response:
    bench = _bench(request)
    if request.method == "DELETE":  # the list only: the copies stay in the work folder
        bench.ledgers.clear()
        bench.summaries.clear()
    return JSONResponse({"files": [bench.summaries[p.name] for p in bench.ledgers], "folder": str(bench.folder)})


def _date(value: Any, what: str) -> dt.date | None:
    from xfsheets.normalize import parse_date

    if value in (None, ""):
        return None
    parsed = parse_date(str(value))
    if parsed is None:
        raise XfsheetsError(f"{what}「{value}」无法识别", hint="请写成 2026-03-05 的形式")
    return parsed


async def run(request: Request) -> Response:
    bench = _bench(request)
    action = request.path_params["action"]
    if action not in actions.ACTIONS:
        return _error(404, f"没有这个按钮：{action}")
    if not bench.ledgers:
        return _error(400, "还没有台账：请先把台账文件拖到上方，或点“选择台账文件”")
    try:
        body = await request.json() if await request.body() else {}
        if not isinstance(body, dict):
            raise ValueError
        options = {"as_of": _date(body.get("as_of"), "基准日"), "period": str(body.get("period") or ""),
                   "from": _date(body.get("from"), "统计期间起"), "to": _date(body.get("to"), "统计期间止")}
    except XfsheetsError as exc:
        return _error(400, str(exc))
    except ValueError:
        return _error(400, "请求内容不对，请刷新页面后再试")
    job = bench.start(action, options)
    return JSONResponse(job.to_dict(), status_code=202)


def _recipients(value: Any) -> list[str]:
    """What the clerk typed in 收件人/抄送 (one text or a list of texts), passed on as typed: the mail
    library parses it strictly (a line break, two addresses run together ... are refused there)."""
    if value in (None, ""):
        return []
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) for v in values):
        raise ValueError
    return [v for v in values if v.strip()]


async def mail_setup(request: Request) -> Response:
    """发送's panel: this run's reports, and where mail would go (the clerk's own xfsheets.toml only)."""
    bench = _bench(request)
    try:
        setup = await run_in_threadpool(actions.mail_setup)
    except XfsheetsError as exc:  # a broken settings file: said, and the .eml path still offered
        setup = {"config": None, "host": None, "port": None, "security": None, "user": None, "sender": None,
                 "to": [], "cc": [], "notice": None, "can_send": False, "why_not": str(exc)}
    return JSONResponse({"files": bench.mailable(), **setup})


async def mail(request: Request) -> Response:
    """发送 (``eml`` false) or 写成邮件文件 (``eml`` true): one of this run's reports, run as a job."""
    bench = _bench(request)
    try:
        body = await request.json() if await request.body() else {}
        if not isinstance(body, dict):
            raise ValueError
        chosen = str(body.get("file") or "")
        options = {"to": _recipients(body.get("to")), "cc": _recipients(body.get("cc")),
                   "subject": body.get("subject") or None, "eml": bool(body.get("eml"))}
        if options["subject"] is not None and not isinstance(options["subject"], str):
            raise ValueError
    except ValueError:
        return _error(400, "请求内容不对，请刷新页面后再试")
    if chosen not in {f["path"] for f in bench.mailable()}:
        return _error(400, "请先选择要发送的报表：只能发送本次生成的汇总报表或零报告",
                      hint="先点“汇总报表”或“零报告”，完成后再点“发送”")
    job = bench.start(actions.MAIL_ACTION, {**options, "report": bench.output_path(chosen)})
    return JSONResponse(job.to_dict(), status_code=202)


async def job_state(request: Request) -> Response:
    job = _bench(request).jobs.get(request.path_params["job"])
    if job is None:
        return _error(404, "没有这项任务（服务重新启动过？请刷新页面）")
    return JSONResponse(job.to_dict())


async def download(request: Request) -> Response:
    path = _bench(request).output_path(request.path_params["path"])
    if path is None:
        return _error(404, "没有这个结果文件")
    return FileResponse(path, filename=path.name, headers={"Cache-Control": "no-store"})


async def history(request: Request) -> Response:
    bench = _bench(request)

    def read() -> dict[str, Any]:
        try:
            return actions.history(list(bench.ledgers) or [bench.folder / LEDGERS_DIR / "_"])
        except BaseException as exc:
            return {"store": None, "message": _unexpected(exc)}

    return JSONResponse(await run_in_threadpool(read))


async def health(request: Request) -> Response:
    return JSONResponse({"ok": True, "ledgers": len(_bench(request).ledgers)})


def create_app(bench: Workbench, port: int | None = None) -> Starlette:
    """The application for one :class:`Workbench`. ``port``: the port served (the Host header may name it)."""
    routes = [
        Route("/", index),
        Route("/static/{name}", static),
        Route("/api/upload", upload, methods=["POST", "PUT"]),
        Route("/api/ledgers", ledgers, methods=["GET", "DELETE"]),
        Route("/api/run/{action}", run, methods=["POST"]),
        Route("/api/mail", mail_setup, methods=["GET"]),
        Route("/api/mail", mail, methods=["POST"]),
        Route("/api/jobs/{job:int}", job_state),
        Route("/api/download/{path:path}", download),
        Route("/api/history", history),
        Route("/api/health", health),
    ]
    middleware = [
        # Outermost first: a foreign Host (DNS rebinding) is refused before anything else (400).
        Middleware(TrustedHostMiddleware, allowed_hosts=ALLOWED_HOSTS),
        Middleware(CORSMiddleware, allow_origins=[WPS_ADDIN_ORIGIN], allow_methods=["GET", "POST", "PUT", "DELETE"],
                   allow_headers=[TOKEN_HEADER, "Content-Type"], allow_credentials=False),
        Middleware(TokenGuard, token=bench.token),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.bench = bench
    return app
