"""The command-line door to the local web page: ``xfsheets serve``. Parse, start, print the address."""
from __future__ import annotations

import datetime as dt
import errno
import socket
import webbrowser
from pathlib import Path

import click

from xfsheets.cli import CliError, XfCommand, console


def default_folder() -> Path:
    """A new work folder for this start, under the user's own folder."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path.home() / "xfsheets工作" / stamp


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):  # Windows: no other program may share the port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        else:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(64)
    except OSError as exc:
        sock.close()
        if exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1), errno.EACCES):
            raise CliError(f"端口 {port} 已被占用（可能已经开着一个 xfsheets serve）。"
                           f"请先关掉原来的窗口，或换一个端口：xfsheets serve --port {port + 1}", 2) from exc
        raise CliError(f"无法在本机端口 {port} 启动服务：{exc.strerror or exc}", 2) from exc
    return sock


@click.command("serve", cls=XfCommand)
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="本机端口（默认 8765；0 表示任选一个空闲端口）。")
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="工作文件夹：上传的台账和生成的结果都放在这里（默认在本人文件夹下的“xfsheets工作”中每次新建一个）。")
@click.option("--no-browser", is_flag=True, help="不自动打开浏览器（只显示网址）。")
def serve(port, folder, no_browser):
    """在本机打开“信访台账助手”网页：拖入台账，点按钮检查、计算时限、出交办单/督办单、汇总报表、零报告、合并台账。

    服务只在本机（127.0.0.1）上，网址带每次启动都不同的口令；关闭本窗口（或按 Ctrl+C）即停止。

    \b
    例：xfsheets serve
        xfsheets serve --port 8800 --folder D:\\信访台账\\本周"""
    import uvicorn

    from xfsheets.web import DEFAULT_PORT
    from xfsheets.web.app import Workbench, create_app

    folder = folder or default_folder()
    try:
        bench = Workbench(folder)
    except OSError as exc:
        raise CliError(f"无法使用工作文件夹「{folder}」：{exc.strerror or exc}。请用 --folder 换一个有写入权限的文件夹", 2) from exc
    sock = _bind(DEFAULT_PORT if port is None else port)
    real_port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{real_port}/?token={bench.token}"
    click.echo(f"信访台账助手已启动：{url}")
    click.echo(f"工作文件夹：{bench.folder}")
    click.echo("请在浏览器中打开上面的网址；关闭本窗口或按 Ctrl+C 停止服务。")
    if not no_browser:
        try:
            webbrowser.open(url)  # honours BROWSER
        except Exception:
            click.echo("未能自动打开浏览器，请复制上面的网址到浏览器中打开。", err=True)
    config = uvicorn.Config(create_app(bench, real_port), log_level="warning", access_log=False,
                            lifespan="off", server_header=False)
    service = _write_service_file(f"http://127.0.0.1:{real_port}/", bench.token)
    _stop_as_exception()
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except (KeyboardInterrupt, _Stopped):  # uvicorn re-raises the signal that stopped it, after shutting down
        pass
    finally:
        sock.close()
        if service is not None:
            _remove_service_file(service, bench.token)
    click.echo("服务已停止。")


class _Stopped(Exception):
    """SIGTERM or SIGHUP (the session ends, the service is stopped): end as Ctrl+C does."""


def _stop_as_exception() -> None:
    """Make SIGTERM/SIGHUP an exception, so the service file is removed on the way out (uvicorn shuts down
    on them, then raises the signal again to the handler it found: the default one would kill at once)."""
    import signal

    def stop(signum: int, _frame: object) -> None:
        raise _Stopped(signum)

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), stop)


def _write_service_file(url: str, token: str) -> Path | None:
    """Say where this service listens and its token, for the WPS add-in and the desktop shortcut
    (xfsheets.wps.contract: this user's configuration folder, readable by this user only)."""
    import json
    import os

    from xfsheets.wps.contract import service_file

    path = service_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"url": url, "token": token, "pid": os.getpid()}, fh)
        os.replace(tmp, path)
    except OSError as exc:
        click.echo(f"注意：未能写出服务信息文件「{path}」（{exc.strerror or exc}），WPS 的“信访台账”选项卡将找不到本服务；"
                   "网页不受影响。", err=True)
        return None
    return path


def _remove_service_file(path: Path, token: str) -> None:
    """Remove the service file if it is still this start's (another start may have replaced it)."""
    import contextlib
    import json

    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text(encoding="utf-8")).get("token") == token:
            path.unlink()
