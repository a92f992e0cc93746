"""The command-line door to reminders and chasing reports: ``remind LEDGER...`` (and ``remind --template``,
``remind install-schedule|remove-schedule``) and ``collect FOLDER``. Parse, call the library, print.
The only place the machine's clock is read: the library takes it as ``at`` (``--at`` sets it)."""
from __future__ import annotations

import datetime as dt
import functools
import sys
from pathlib import Path

import click
from rich.markup import escape

from xfsheets.cli import (DATE, CliError, XfGroup, console, emit_json, inputs_of, json_option,
                          ledger_options, load_profile_option, policy_inputs, policy_options)

STATUS = {"sent": "[green]已发送[/green]", "eml": "[green]已写成邮件文件[/green]", "held": "[yellow]暂不发送[/yellow]",
          "planned": "待发送", "failed": "[red]发送失败[/red]", "no_address": "[red]无法发送[/red]",
          "sent_before": "已由另一次运行发出"}


def _clock(at_text: str | None) -> dt.datetime:
    from xfsheets.remind import parse_at

    if at_text:
        return parse_at(at_text)
    return dt.datetime.now().replace(second=0, microsecond=0)


def _contacts_path(contacts: Path | None, config_path: Path | None) -> Path:
    from xfsheets.remind.contacts import contacts_from_settings

    found = contacts or contacts_from_settings(config_path)
    if found is None:
        raise CliError("不知道各单位的邮箱：请用 --contacts 单位通讯录.xlsx 指定，或在 xfsheets.toml 的 [remind] 中写 "
                       "contacts = \"单位通讯录.xlsx 的路径\"（没有通讯录可先用 --template 生成一份）", 2)
    return found


def smtp_options(func, sender_flag: str = "--from"):
    for option in reversed([
        click.option("--eml", type=click.Path(path_type=Path, file_okay=False), default=None, metavar="文件夹",
                     help="不发送，把每封邮件写成 .eml 文件放进这个文件夹（用 Outlook/Foxmail 打开后发送）。"),
        click.option("--smtp", "smtp", default=None, metavar="HOST:PORT", help="邮件服务器（默认取 xfsheets.toml）。"),
        click.option("--starttls", is_flag=True, help="用 STARTTLS 加密（通常 587 端口）。"),
        click.option("--ssl", "use_ssl", is_flag=True, help="用 SSL 加密（通常 465 端口）。"),
        click.option("--user", default=None, help="登录用户名（密码只从环境变量 XFSHEETS_SMTP_PASSWORD 或系统钥匙串读取）。"),
        click.option(sender_flag, "sender", default=None, metavar="ADDR", help="发件人（默认取 xfsheets.toml）。"),
        click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
                     help="配置文件 xfsheets.toml（默认只用本人用户配置文件夹中的）。"),
        click.option("--at", "at_text", default=None, metavar="\"日期 时:分\"",
                     help="把“现在”设为这个时间，如 \"2026-06-01 09:00\"（用于预先查看和测试）。"),
        click.option("--now", "force", is_flag=True, help="不在办公时间也立即发送（会提示）。"),
        click.option("--store", default=None, metavar="历史库", help="历史库（有则把发送记录记在其中）。"),
    ]):
        func = option(func)
    return func


def _deliverer(*, eml, smtp, starttls, use_ssl, user, sender, config_path, at, inputs):
    """(deliver function, sender): writing .eml files, or sending over TLS (the settings file's server by default)."""
    from xfsheets.settings import load_config, mail_destination_notice, resolve_smtp, smtp_password
    from xfsheets.writer import safe_filename

    cfg = load_config(config_path)
    sender = sender or cfg.smtp.sender or (user or cfg.smtp.user if "@" in (user or cfg.smtp.user or "") else None)
    if eml is not None:
        from xfsheets.mail import write_eml
        from xfsheets.outputs import output_folder

        output_folder(eml, inputs, what="邮件文件夹")

        def deliver(msg, mail):
            eml.mkdir(parents=True, exist_ok=True)
            write_eml(msg, eml / safe_filename(f"{at:%Y%m%d_%H%M}_提醒_{mail.unit}.eml"))
            return "eml"
        return deliver, sender
    host, port, security = resolve_smtp(cfg, smtp, starttls=starttls, use_ssl=use_ssl)
    if not host:
        raise CliError("未指定邮件服务器：请用 --smtp 服务器:端口 --ssl（或 --starttls），或在 xfsheets.toml 的 [smtp] 中写 host；"
                       "也可用 --eml 文件夹 写成邮件文件自行发送", 2)
    if security is None:
        from xfsheets.mail import TLS_HINT

        raise CliError(f"提醒邮件只经加密连接发送（其中有信访事项的情况）。{TLS_HINT}", 2)
    user = user or cfg.smtp.user
    notice = mail_destination_notice(cfg.path, host=None if smtp else host, port=port, to=[], cc=[])
    if notice:
        click.echo(notice, err=True)
    secret: dict = {}

    def deliver(msg, mail):
        from xfsheets.mail import send_message

        if user and "password" not in secret:
            secret["password"] = smtp_password(user)
            if not secret["password"]:
                raise CliError(f"未找到用户「{user}」的邮箱密码：请设置环境变量 XFSHEETS_SMTP_PASSWORD，"
                               f"或运行 keyring set xfsheets {user} 存入系统钥匙串", 2)
        send_message(msg, host=host, port=port, security=security, user=user, password=secret.get("password"),
                     timeout=cfg.smtp.timeout, cafile=cfg.smtp.cafile)
        return "smtp"
    return deliver, sender


class RemindGroup(XfGroup):
    """``remind LEDGER...`` sends; ``remind install-schedule|remove-schedule`` manage the schedule."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["send", *args]
        return super().parse_args(ctx, args)


@click.group("remind", cls=RemindGroup)
def remind():
    """给责任单位发时限提醒：期满前、超期、严重超期各一档，每个单位一封，每档只发一次；只在工作日办公时间发出。

    \b
    例：xfsheets remind 信访台账.xlsx --contacts 单位通讯录.xlsx
        xfsheets remind 信访台账.xlsx --template 单位通讯录.xlsx      （生成通讯录模板）
        xfsheets remind install-schedule 信访台账.xlsx --contacts 单位通讯录.xlsx --time 09:00"""


@remind.command("send")
@ledger_options
@click.option("--contacts", type=click.Path(path_type=Path, dir_okay=False), default=None, metavar="单位通讯录.xlsx",
              help="各单位的联系人和邮箱（列：单位、联系人、邮箱、分管领导邮箱；可另有“领导通讯录”表：姓名、邮箱）。")
@click.option("--template", type=click.Path(path_type=Path, dir_okay=False), default=None, metavar="文件",
              help="不发送，生成一份空白的单位通讯录，列出台账中的全部责任单位和包案领导。")
@smtp_options
@policy_options
@json_option
def send(ledgers, sheet, profile, password, contacts, template, eml, smtp, starttls, use_ssl, user, sender,
         config_path, at_text, force, store, policy, as_json):
    """按台账给各责任单位发时限提醒（默认命令）。

    \b
    例：xfsheets remind send 信访台账.xlsx --contacts 单位通讯录.xlsx --eml 提醒邮件"""
    from xfsheets.reader import read_ledgers
    from xfsheets.remind import read_contacts, run_remind, write_contacts_template
    from xfsheets.remind.clock import cn_moment
    from xfsheets.remind.ladder import rung_label
    from xfsheets.remind.sentlog import SentLog
    from xfsheets.settings import load_config

    at = _clock(at_text)
    inputs = inputs_of(list(ledgers), profile, contacts, config_path, policy_inputs(policy))
    if template is not None:
        from xfsheets.outputs import output_file

        target = output_file(template, inputs, what="通讯录模板")
        led = read_ledgers(ledgers, sheet=sheet, profile=load_profile_option(profile), password=password)
        f = led.frame
        write_contacts_template(target, f["unit"].dropna() if "unit" in f else [],
                                f["leader"].dropna() if "leader" in f else [], inputs=inputs)
        console.print(f"已生成单位通讯录模板「{escape(str(target))}」：请填写各单位的邮箱（和分管领导邮箱、领导通讯录），"
                      "再用 --contacts 指定它。")
        return
    book = read_contacts(_contacts_path(contacts, config_path))
    deliver, sender = _deliverer(eml=eml, smtp=smtp, starttls=starttls, use_ssl=use_ssl, user=user, sender=sender,
                                 config_path=config_path, at=at, inputs=inputs)
    led = read_ledgers(ledgers, sheet=sheet, profile=load_profile_option(profile), password=password)
    log = SentLog.locate(store, ledgers)
    try:
        slips = load_config(config_path).slips  # who issues the 督办单, as `slips` does
        result = run_remind(led, at=at, policy=policy, contacts=book, log=log, deliver=deliver, force=force,
                            sender=sender, slip_options={"signer": slips.signer or "", "contact": slips.contact or "",
                                                         "issuing_unit": slips.issuing_unit or ""})
    finally:
        log.close()
    if as_json:
        emit_json(result.to_dict())
    console.print(f"提醒时间：{cn_moment(at)}{'（--at 指定）' if at_text else ''}")
    w = result.window
    held = result.count("held")
    if held:
        when = f"将在 {cn_moment(w.next_at)} 以后运行时发出" if w.next_at else "待能判断工作日后再发"
        console.print(f"[yellow]{held} 封提醒暂不发送[/yellow]：{escape(w.reason)}；{when}"
                      "（定时任务到时会再运行；确需现在发送可加 --now）。")
    if result.forced:
        console.print(f"[yellow]注意：{escape(w.reason)}，因为加了 --now，仍然现在发送。[/yellow]")
    for m in result.mails:
        what = "；".join(f"{i.case_id or f'第 {i.row} 行'} {i.stage_label}{rung_label(i.rung)}" for i in m.items)
        line = f"  {escape(m.unit)}：{STATUS.get(m.status, m.status)}"
        if m.to:
            line += f" → {'、'.join(m.to)}" + (f"，抄送 {'、'.join(m.cc)}" if m.cc else "")
        line += f"（{len(m.items)} 件：{escape(what)}）"
        if m.attachments:
            line += f"，附 {escape('、'.join(m.attachments))}"
        console.print(line)
        if m.error:
            console.print(f"    {escape(m.error)}")
        for note in m.notes:
            console.print(f"    [yellow]{escape(note)}[/yellow]")
    if result.unknown:
        console.print(f"另有 {result.unknown} 件未结事项的期满日无法判断，没有提醒（原因见 xfsheets deadlines）。")
    for p in result.problems:
        console.print(f"[yellow]通讯录：{escape(p)}[/yellow]")
    if not result.mails:
        console.print("今天没有需要提醒的事项（每件事项每一档只提醒一次）。")
    if result.count("sent"):
        console.print(f"共发出 {result.count('sent')} 封，发送记录在「{escape(result.log)}」。")
    if result.count("eml"):
        console.print(f"共写成 {result.count('eml')} 封邮件文件（在「{escape(str(eml))}」，请用 Outlook/Foxmail 打开后发送），"
                      f"已记为发出（每档不会再写第二次），记录在「{escape(result.log)}」。")
    sys.exit(result.exit_code)


def _schedule_args(func):
    func = click.option("--yes", is_flag=True, help="确认：真的安装/删除（不加只显示将要做的）。")(func)
    func = click.option("--time", "times", multiple=True, metavar="时:分", help="每天运行的时间（可多次，默认 09:00）。")(func)
    func = click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
                        help="运行时使用的配置文件 xfsheets.toml。")(func)
    func = click.option("--contacts", type=click.Path(path_type=Path, dir_okay=False), default=None,
                        metavar="单位通讯录.xlsx", help="运行时使用的单位通讯录。")(func)
    func = click.argument("ledgers", nargs=-1, metavar="台账文件...", type=click.Path(path_type=Path))(func)
    return func


def _plan(ledgers, contacts, config_path, times):
    from xfsheets.remind.schedule import schedule_plan

    return schedule_plan(None, times=list(times), ledgers=list(ledgers), contacts=contacts, config=config_path)


@remind.command("install-schedule")
@_schedule_args
def install_schedule(ledgers, contacts, config_path, times, yes):
    """把 remind 加入本机的定时任务（Windows 任务计划 / systemd 定时器 / cron）；先显示，加 --yes 才安装。

    \b
    例：xfsheets remind install-schedule 信访台账.xlsx --contacts 单位通讯录.xlsx --time 09:00"""
    from xfsheets.remind.schedule import install

    if not ledgers:
        raise CliError("请写出要提醒的台账文件，如 xfsheets remind install-schedule 信访台账.xlsx --contacts 单位通讯录.xlsx", 2)
    plan = _plan(ledgers, contacts, config_path, times)
    console.print(f"将安装的定时任务（{plan.kind}）：")
    click.echo(plan.shown)  # as typed (no rich markup), with the lines around it on stdout
    console.print(f"删除方法：xfsheets remind remove-schedule（即 {escape(plan.remove_shown)}）。"
                  "定时任务只负责启动命令，是否在办公时间、是否工作日由命令自己判断。")
    if not yes:
        console.print("以上内容尚未安装；确认无误后加 --yes 再运行一次。")
        return
    install(plan)
    console.print("[green]已安装定时任务。[/green]")


@remind.command("remove-schedule")
@_schedule_args
def remove_schedule(ledgers, contacts, config_path, times, yes):
    """删除 install-schedule 安装的定时任务；先显示，加 --yes 才删除。

    \b
    例：xfsheets remind remove-schedule 信访台账.xlsx --contacts 单位通讯录.xlsx --yes"""
    from xfsheets.remind.schedule import remove

    plan = _plan(ledgers or [Path("台账.xlsx")], contacts, config_path, times)
    console.print(f"将删除的定时任务（{plan.kind}）：{escape(plan.remove_shown)}")
    if not yes:
        console.print("尚未删除；确认后加 --yes 再运行一次。")
        return
    remove(plan)
    console.print("[green]已删除定时任务。[/green]")


@click.command("collect")
@click.argument("folder", metavar="文件夹", type=click.Path(path_type=Path, file_okay=False))
@click.option("--contacts", type=click.Path(path_type=Path, dir_okay=False), default=None, metavar="单位通讯录.xlsx",
              help="应报送的单位（单位通讯录）。")
@click.option("--date", "day", type=DATE, default=None, help="查哪一天的报送（默认今天）。")
@click.option("--from", "date_from", type=DATE, default=None, help="查一段时间的报送：起。")
@click.option("--to", "date_to", type=DATE, default=None, help="查一段时间的报送：止（含当天）。")
@click.option("--remind", "send_remind", is_flag=True, help="给逾期未报送的单位发催报邮件。")
@functools.partial(smtp_options, sender_flag="--sender")
@policy_options
@json_option
def collect(folder, contacts, day, date_from, date_to, send_remind, eml, smtp, starttls, use_ssl, user, sender,
            config_path, at_text, force, store, policy, as_json):
    """查收报送：哪些单位已报零报告/台账，哪些迟报、未报，哪些文件打不开或不是该单位的。

    \b
    例：xfsheets collect 报送文件夹 --contacts 单位通讯录.xlsx
        xfsheets collect 报送文件夹 --contacts 单位通讯录.xlsx --date 2026-11-30 --remind"""
    from xfsheets.remind import read_contacts
    from xfsheets.remind.clock import cn_moment
    from xfsheets.remind.collect import collect_reports, remind_missing
    from xfsheets.remind.sentlog import SentLog

    at = _clock(at_text)
    if day and (date_from or date_to):
        raise CliError("--date 与 --from/--to 只能选一种", 2)
    start, end = (day, day) if day else (date_from or date_to or at.date(), date_to or date_from or at.date())
    if start > end:
        raise CliError(f"--from {start} 晚于 --to {end}，请检查日期", 2)
    book = read_contacts(_contacts_path(contacts, config_path))
    result = collect_reports(folder, book, start=start, end=end, at=at, policy=policy)
    if send_remind:
        inputs = inputs_of(book.path, config_path, policy_inputs(policy))
        deliver, sender = _deliverer(eml=eml, smtp=smtp, starttls=starttls, use_ssl=use_ssl, user=user, sender=sender,
                                     config_path=config_path, at=at, inputs=inputs)
        log = SentLog.locate(store, [folder])
        try:
            remind_missing(result, book, at=at, policy=policy, log=log, deliver=deliver, force=force, sender=sender)
        finally:
            log.close()
    if as_json:
        emit_json(result.to_dict())
    console.print(f"查收 {escape(result.period_text)} 的报送（截至 {cn_moment(at)}，应于 {cn_moment(result.due)} 前报送）：")
    for u in result.units:
        console.print(f"  {escape(u.unit)}：{u.label}" + (f"（{escape(u.detail)}）" if u.detail else ""))
    for f in result.files:
        if f.status not in ("on_time", "late"):
            console.print(f"  [yellow]文件「{escape(f.name)}」：{f.label}[/yellow]：{escape(f.detail)}")
    for line in result.remind_lines:
        console.print(escape(line))
    sys.exit(result.exit_code)
