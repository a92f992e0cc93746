"""The 信访台账 tab's buttons that the in-ledger buttons never had (生成督办单, 零报告, 合并台账,
设置, 帮助): entries like those of :mod:`xfsheets.excel` (re-exported there, so every button
of the add-in is ``import xfsheets.excel as x; x.<entry>()``), on the workbook and sheet the
clerk is looking at, with the same core functions the command line calls.
"""
from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

from xfsheets.excel import _open, book_policy, book_profile, button, issue_slips, output_folder, read_caller_ledger

HELP = """信访台账 选项卡（xfsheets）

检查台账：检查当前工作表的台账，问题单元格在副本中标红/标黄并附批注（“xfsheets输出”文件夹），打开的台账不改动。
计算时限：按《信访工作条例》计算法定时限，在台账右侧加上 剩余天数、预警 等列。
生成交办单 / 生成督办单：按责任单位生成，保存在台账旁的“xfsheets输出”文件夹。
汇总报表 / 零报告：生成上报用的表格（身份证号、电话已脱敏）；汇总报表先问统计期间（本周、上周、本月、本季度、自定义）。
合并台账：把当前台账所在文件夹中的全部台账合并成一个汇总台账。
设置：查看本机使用的 Python、xfsheets 版本和配置文件位置。

按钮作用于当前打开的工作簿和当前工作表，台账保持 .xlsx，不含宏。
点按钮没有反应或提示找不到 Python：请在命令行运行 xfsheets excel addin status 查看，
必要时重新运行 xfsheets excel addin install。WPS 和信创桌面请使用命令行（效果相同）。"""


def _today() -> dt.date:
    return dt.date.today()


@button
def make_supervision_slips(book) -> str:
    """督办单 for the overdue cases (``slips --overdue-only``)."""
    return issue_slips(book, overdue_only=True)


@button
def zero_report(book) -> str:
    """Today's 零报告 / 信访情况报告, one workbook per unit (``report --zero``)."""
    from xfsheets.settings import load_config
    from xfsheets.zero_report import build_zero_reports

    _, _, ledger = read_caller_ledger(book)
    folder = output_folder(book, "零报告")
    who = load_config(None).slips
    reports = build_zero_reports(ledger, folder, as_of=_today(), signer=who.signer or "", policy=book_policy(book))
    _open(folder)
    zeros = sum(r.is_zero for r in reports)
    text = f"已生成 {len(reports)} 份报告（其中零报告 {zeros} 份，个人信息已脱敏），保存在：\n{folder}"
    if reports.blocked:  # as on the command line: the units without a form, and where the reasons are
        text += (f"\n{len(reports.blocked)} 个单位无法出具零报告（{'、'.join(b.unit for b in reports.blocked)}），"
                 f"原因见「{reports.blocked_path.name}」")
    return text


@button
def merge_ledgers(book) -> str:
    """Every ledger in the active workbook's folder, consolidated (``consolidate FOLDER``)."""
    from xfsheets.consolidation import consolidate, write_consolidated
    from xfsheets.errors import XfsheetsError

    if not os.path.isabs(book.fullname):
        raise XfsheetsError("请先把当前工作簿保存到一个文件夹，再合并该文件夹中的台账")
    source = Path(book.fullname).parent
    folder = output_folder(book, "合并台账")
    ledger, report = consolidate([source], jobs=1, profile=book_profile(book), exclude=[folder])
    path = write_consolidated(ledger, report, folder / f"合并台账_{_today().isoformat()}.xlsx")
    _open(path)
    failed = len(report.failed)
    text = f"已合并「{source}」中的 {len(report.files) - failed} 个文件，共 {len(ledger)} 行：\n{path}"
    if failed:
        text += f"\n{failed} 个文件未能读取，原因见汇总台账的说明表。"
    return text


@button
def show_settings(book) -> str:
    """What this PC uses: Python, xfsheets, the per-PC xlwings settings, the config file."""
    from xfsheets.addin import user_conf_path
    from xfsheets.settings import find_config
    from xfsheets.outputs import _version
    from xfsheets.excel import PROFILE_KEY, POLICY_KEY, book_settings

    settings = book_settings(book)
    lines = [f"xfsheets 版本：{_version()}",
             f"Python：{sys.executable}",
             f"本机 xlwings 设置：{user_conf_path()}",
             f"xfsheets 配置文件（交办单落款、邮件）：{find_config() or '未找到（使用默认值）'}",
             f"本台账的配置文件：{settings.get(PROFILE_KEY) or '内置'}",
             f"本台账的办理规则：{settings.get(POLICY_KEY) or '内置（《信访工作条例》）'}"]
    return "\n".join(lines)


@button
def show_help(book) -> str:
    return HELP
