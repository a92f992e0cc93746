"""The command-line door to the WPS add-in: ``wps install|status|uninstall`` (see :mod:`xfsheets.wps`)."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape

from xfsheets.cli import XfGroup, console, emit_json, json_option

_target_option = click.option("--target", type=click.Path(path_type=Path, file_okay=False), default=None,
                              help="不装进本机 WPS，而是写到这个文件夹（当作 WPS 的 jsaddons 文件夹；测试、打包用）。")


@click.group("wps", cls=XfGroup)
def wps():
    """WPS 表格里的“信访台账”选项卡（WPS 加载项）：每个用户装一次，Windows 和统信 UOS、麒麟都可用。

    \b
    例：xfsheets wps install
    按钮把当前台账交给“信访台账助手”（桌面快捷方式启动），结果在它的网页中打开。"""


@wps.command("install")
@_target_option
def wps_install(target):
    """把加载项写进本用户的 WPS 加载项文件夹（jsaddons），并登记到 publish.xml 和 authaddin.json。不需要联网。

    \b
    例：xfsheets wps install"""
    from xfsheets.wps import install
    from xfsheets.wps.contract import service_file

    folder = install(target)
    console.print(f"已安装 WPS 加载项「{folder}」。")
    if target is None:
        console.print("下一步：关闭所有 WPS 窗口后重新打开 WPS 表格，菜单栏会出现“信访台账”选项卡。"
                      "首次打开时 WPS 若询问是否信任该加载项，请选“信任/允许”，然后再重新打开一次 WPS。")
        console.print(f"按钮需要“信访台账助手”正在运行（双击桌面上的“信访台账助手”；它运行时会写「{service_file()}」）。")


@wps.command("status")
@_target_option
@json_option
def wps_status(target, as_json):
    """查看 WPS 加载项是否已安装、登记，以及信访台账助手是否在运行。有问题时退出码为 1。

    \b
    例：xfsheets wps status"""
    from xfsheets.wps import status

    st = status(target)
    if as_json:
        emit_json(st.to_dict())
    console.print(f"WPS 加载项文件夹：{st.jsaddons}")
    console.print(f"信访台账 加载项：{'已安装' if st.installed else '未安装或不完整'}")
    console.print(f"信访台账助手：{'正在运行' if st.service_running else '没有运行（双击桌面上的“信访台账助手”启动）'}")
    for p in st.problems:
        console.print(f"[yellow]问题：[/yellow]{escape(p)}")
    if st.problems:
        sys.exit(1)


@wps.command("uninstall")
@_target_option
def wps_uninstall(target):
    """删除 WPS 加载项的文件，并从 publish.xml 和 authaddin.json 中去掉它（其他加载项不动）。

    \b
    例：xfsheets wps uninstall"""
    from xfsheets.wps import uninstall

    changed = uninstall(target)
    if changed:
        for path in changed:
            console.print(f"已删除/修改「{path}」")
        console.print("请关闭并重新打开 WPS。")
    else:
        console.print("没有找到已安装的 WPS 加载项，没有改动。")
