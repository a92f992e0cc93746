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
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    click.echo("服务已停止。")
