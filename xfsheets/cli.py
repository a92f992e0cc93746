"""The command line: a thin door into the library.

Each command parses its options, calls one library function, and prints the result
(a rich table on stderr for people, one JSON document on stdout with ``--json``).
Library errors (:class:`~xfsheets.errors.XfsheetsError`) become a Chinese message and
exit code 2 (nothing done); ``-v`` shows the traceback. No logic lives here.

Exit codes: 0 done and clean; 1 done but problems found; 2 nothing done.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import sys
from pathlib import Path
from typing import Any, Callable

import click
from rich.console import Console

from xfsheets import click_zh

click_zh.install()  # before the decorators below run: help texts made at import are Chinese too
from rich.markup import escape

from xfsheets.errors import XfsheetsError

# Human text: a command's results go to stdout (`xfsheets check 台账.xlsx > 结果.txt` keeps them), except while
# --json holds stdout for its one document; progress and warnings always go to stderr.
console = Console(highlight=False, soft_wrap=True)
notes = Console(stderr=True, highlight=False, soft_wrap=True)


class CliError(click.ClickException):
    """A library error shown to the user in Chinese, with its exit code (and, with ``--json``,
    printed on stdout as ``{"error": {...}}``)."""

    def __init__(self, message: str, exit_code: int = 2, error: XfsheetsError | None = None,
                 code: str | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.error = error
        self.code = code
        self.emitted = False  # the command already printed its JSON document, error included

    def to_dict(self) -> dict:
        if self.error is not None:
            return self.error.to_dict()
        return {"code": self.code or ("usage_error" if self.exit_code == 2 else "failed"),
                "message": self.format_message(), "file": None, "sheet": None, "row": None, "column": None}

    def show(self, file: Any = None) -> None:
        click.echo(f"错误：{self.format_message()}", err=True)


_RUN = {"json": False}
_PASS_THROUGH = (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort,
                 SystemExit, KeyboardInterrupt, GeneratorExit, BrokenPipeError)


class XfCommand(click.Command):
    """A sub-command whose usage line reads in Chinese."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        super().__init__(*args, **kwargs)


class XfGroup(click.Group):
    """Every failure of every sub-command becomes a Chinese message and an exit code: library
    errors as they are, anything unexpected (an OS error, a reader's panic, a bug) through
    :func:`~xfsheets.errors.from_unexpected`. The traceback is shown only with ``-v``."""

    command_class = XfCommand

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        kwargs.setdefault("subcommand_metavar", "命令 [参数]...")
        super().__init__(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except _PASS_THROUGH:
            raise
        except BaseException as exc:  # a Rust panic is a BaseException, not an Exception
            if ctx.obj and ctx.obj.get("verbose"):
                raise
            from xfsheets.errors import from_unexpected

            error = from_unexpected(exc)
            raise CliError(str(error), error.exit_code, error) from exc

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        from xfsheets import click_zh

        click_zh.install()
        argv = list(sys.argv[1:] if args is None else args)
        _RUN["json"] = "--json" in argv
        console.stderr = _RUN["json"]  # with --json, stdout carries the document alone
        if not standalone_mode:
            return super().main(argv, prog_name, complete_var, standalone_mode, **extra)
        try:
            # standalone_mode=False hands back a ctx.exit(N) as the value N instead of exiting with it
            code = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.ClickException as exc:
            if _RUN["json"] and not getattr(exc, "emitted", False):
                error = exc.to_dict() if isinstance(exc, CliError) else {
                    "code": "usage_error", "message": exc.format_message(), "file": None, "sheet": None,
                    "row": None, "column": None}
                emit_json({"error": error})
            exc.show()
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("已取消。", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("已中断，原台账没有被改动。", err=True)
            sys.exit(130)
        except BrokenPipeError:  # the reader of our output (`| head`) stopped reading: stop quietly
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        sys.exit(code if isinstance(code, int) and not isinstance(code, bool) else 0)


# --- shared options -------------------------------------------------------------

class DateType(click.ParamType):
    """A date on the command line: ISO ``2026-03-05`` (other forms people type are accepted too)."""

    name = "DATE"

    def convert(self, value: Any, param: Any, ctx: Any) -> dt.date:
        if isinstance(value, dt.date):
            return value
        from xfsheets.normalize import parse_date

        parsed = parse_date(str(value))
        if parsed is None:
            self.fail(f"日期「{value}」无法识别，请写成 2026-03-05 的形式", param, ctx)
        return parsed


DATE = DateType()


def ledger_options(func: Callable) -> Callable:
    """LEDGER... plus the options every command that reads ledgers takes."""
    func = click.option("--password", default=None, metavar="PASSWORD",
                        help="打开加密工作簿的密码 (password of an encrypted workbook).")(func)
    func = click.option("--profile", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="台账配置文件 (TOML): 列名映射、工作表、表头行、词表扩展。")(func)
    func = click.option("--sheet", default=None, help="台账所在工作表名称 (默认自动识别)。")(func)
    func = click.argument("ledgers", nargs=-1, required=True, metavar="台账文件...",
                          type=click.Path(path_type=Path))(func)
    return func


def json_option(func: Callable) -> Callable:
    return click.option("--json", "as_json", is_flag=True,
                        help="在标准输出打印一个 JSON 文档 (machine-readable); 说明文字走标准错误。")(func)


def as_of_option(func: Callable) -> Callable:
    return click.option("--as-of", type=DATE, default=None,
                        help="统计/预警基准日 (默认今天), 如 2026-03-05。")(func)


def policy_options(func: Callable) -> Callable:
    """The options of every command that depends on deadlines (deadlines, report, slips; check for
    the extension cap), defined once: --policy (old name --rules), --holidays, --assume-weekends,
    --warn-days, --severe-days. The command receives them as one ``policy``
    (:class:`xfsheets.policy.Policy`, the command-line choices on top of the policy file)."""

    @functools.wraps(func)
    def wrapper(*args: Any, policy_path: Path | None = None, holidays: Path | None = None,
                assume_weekends: bool = False, warn_days: int | None = None, severe_days: int | None = None,
                **kwargs: Any) -> Any:
        from xfsheets.policy import load_policy

        kwargs["policy"] = load_policy(policy_path).with_options(
            holidays=holidays, assume_weekends=True if assume_weekends else None, warn_days=warn_days,
            severe_days=severe_days)
        return func(*args, **kwargs)

    wrapper = click.option("--severe-days", type=click.IntRange(0, 365), default=None,
                           help="超期超过几天为“严重超期” (默认取规则文件，内置 30)。")(wrapper)
    wrapper = click.option("--warn-days", type=click.IntRange(0, 60), default=None,
                           help="剩余几天以内预警“临期” (默认取规则文件，内置 5)。")(wrapper)
    wrapper = click.option("--assume-weekends", is_flag=True,
                           help="未收录节假日安排的年份按周末、法定节假日和逢周末的补假估算 (结果标“预估”)。")(wrapper)
    wrapper = click.option("--holidays", type=click.Path(dir_okay=False, path_type=Path), default=None,
                           help="节假日文件 (.xlsx/.csv，列：日期、类型 休/班、名称)，补充或修改官方安排。")(wrapper)
    wrapper = click.option("--policy", "--rules", "policy_path", type=click.Path(dir_okay=False, path_type=Path),
                           default=None,
                           help="办理规则文件 (TOML：阶段时限、预警天数、状态口径、日历)，只写与内置 policy.toml "
                                "不同的部分；--rules 为旧名。")(wrapper)
    return wrapper


def history_options(record: bool = True) -> Callable:
    """--store (the history store; default beside the ledgers or in the current folder) and, for the
    commands that read ledgers, --record (store a snapshot of them as the command runs)."""

    def apply(func: Callable) -> Callable:
        func = click.option("--store", default=None, metavar="历史库",
                            help="历史库（默认在台账所在文件夹或当前文件夹）：记录快照、登记发出的文件。")(func)
        if record:
            func = click.option("--record", "record_history", is_flag=True,
                                help="同时把台账记入历史库（第一次会在台账所在文件夹新建）。")(func)
        return func

    return apply


def record_history_run(record_history: bool, ledgers: Any, *, store: str | None, as_of: Any, policy: Any,
                       ledger: Any) -> None:
    """--record: a snapshot of the ledgers as the command read them (``ledger``), not read a second time."""
    if not record_history:
        return
    from xfsheets.history.hooks import record_run

    result = record_run(list(ledgers), store=store, as_of=as_of, policy=policy, ledger=ledger)
    console.print(escape(result.summary()))


def log_sent(kind: str, paths: Any, **kwargs: Any) -> None:
    """Log what left in the history's audit chain, when a store exists; say so."""
    from xfsheets.history.hooks import log_sent as log

    said = log(kind, paths, **kwargs)
    if said:
        console.print(said)


def policy_inputs(policy: Any) -> list[Path]:
    """The files a policy was read from (what an output may never replace)."""
    return [Path(p) for p in (*policy.paths, *([policy.holidays] if policy.holidays else []))]


def emit_json(document: Any) -> None:
    """Print one JSON document on stdout: UTF-8, dates ISO."""

    def default(obj: Any) -> Any:
        if isinstance(obj, (dt.date, dt.datetime)):
            return obj.isoformat()[:10] if not isinstance(obj, dt.datetime) else obj.date().isoformat()
        if hasattr(obj, "item"):  # numpy scalars
            return obj.item()
        if isinstance(obj, Path):
            return str(obj)
        raise TypeError(f"not JSON serialisable: {type(obj).__name__}")

    # Keys of the document one per line, each item of a list (a finding, a case, a file) on a line
    # of its own: json's C encoder serves only unindented output, and indent=2 on 100k cases spent
    # 2.7 s in the pure-Python one. Streamed item by item: no second copy of the whole text.
    encode = json.JSONEncoder(ensure_ascii=False, default=default).encode
    out = sys.stdout
    if (getattr(out, "encoding", None) or "utf-8").lower().replace("-", "").replace("_", "") != "utf8" \
            and hasattr(out, "reconfigure"):
        # JSON is UTF-8 whatever the console's code page (a Chinese Windows redirects in GBK, which has
        # no room for every character a name can hold)
        out.reconfigure(encoding="utf-8")
    if not isinstance(document, dict) or not document:
        out.write(encode(document) + "\n")
        return
    for k, (key, value) in enumerate(document.items()):
        out.write(("{" if k == 0 else ",") + "\n  " + encode(str(key)) + ": ")
        if isinstance(value, list) and value:
            for j, item in enumerate(value):
                out.write(("[" if j == 0 else ",") + "\n    " + encode(item))
            out.write("\n  ]")
        else:
            out.write(encode(value))
    out.write("\n}\n")


def inputs_of(*groups: Any) -> list[Path]:
    """Every file a command reads (ledgers, profile, rules, holidays, template): what its
    outputs may never replace."""
    out: list[Path] = []
    for g in groups:
        if g is None:
            continue
        out.extend(Path(p) for p in (g if isinstance(g, (list, tuple)) else [g]) if p is not None)
    return out


def load_profile_option(path: Path | None):
    from xfsheets.schema import load_profile

    return load_profile(path) if path else None


# --- the group --------------------------------------------------------------------

@click.group(cls=XfGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="出错时显示完整的技术信息 (traceback)。")
@click.version_option(package_name="xfsheets")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """xfsheets：信访台账的检查、时限预警、交办单、汇总与上报工具。

    \b
    例：xfsheets check 信访台账.xlsx
        xfsheets 命令 --help      （看每个命令的说明和例子）"""
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose


# Each command lives in its own block below, marked `# === <name> ===`.
# Keep commands thin: parse, call one library function, print.


# === inspect ===

@main.command()
@ledger_options
@json_option
@click.option("--rows", "first_rows", default=5, show_default=True, help="显示前几行数据。")
def inspect(ledgers, sheet, profile, password, as_json, first_rows):
    """显示程序如何理解台账：工作表、表头行、每列对应的字段、未识别的列、行数和前几行。

    \b
    例：xfsheets inspect 信访台账.xlsx"""
    from xfsheets.inspection import inspect_ledgers

    result = inspect_ledgers(ledgers, sheet=sheet, profile=load_profile_option(profile),
                             password=password, first_rows=first_rows)
    if as_json:
        emit_json(result.to_dict())
    else:
        result.print(console)
    if result.failed and not result.files:
        failure = CliError("没有可读取的台账：" + "；".join(e["message"] for e in result.failed), 2, code="no_readable_ledger")
        failure.emitted = as_json  # the inspection document above already lists every failure
        raise failure
    sys.exit(1 if result.failed else 0)


# === demo ===

@main.command()
@click.argument("folder", default="demo-output", metavar="[文件夹]", type=click.Path(file_okay=False, path_type=Path))
def demo(folder):
    """用自带的示例台账演示全部功能，结果写入 FOLDER（默认 demo-output）。

    \b
    例：xfsheets demo
        xfsheets demo 演示结果"""
    from xfsheets.demo import run_demo

    run_demo(folder, echo=lambda line: console.print(line))
    console.print(f"[green]演示完成[/green]，结果在「{folder}」。")


# === mail ===

@main.command("mail")
@click.argument("report", metavar="报表文件", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--to", "to", multiple=True, metavar="ADDR", help="收件人（可多次使用，或用逗号分隔）。")
@click.option("--cc", multiple=True, metavar="ADDR", help="抄送（可多次使用）。")
@click.option("--subject", default=None, help="邮件主题（默认“报送：报表文件名”）。")
@click.option("--from", "sender", default=None, metavar="ADDR",
              help="发件人（默认取 xfsheets.toml 的 sender，或登录用户）。")
@click.option("--smtp", "smtp", default=None, metavar="HOST:PORT",
              help="邮件服务器，如 smtp.example.gov.cn:465（默认取 xfsheets.toml）。")
@click.option("--starttls", is_flag=True, help="用 STARTTLS 加密（通常 587 端口）。")
@click.option("--ssl", "use_ssl", is_flag=True, help="用 SSL 加密（通常 465 端口）。")
@click.option("--user", default=None,
              help="登录用户名。密码只从环境变量 XFSHEETS_SMTP_PASSWORD 或系统钥匙串"
                   "（keyring set xfsheets 用户名）读取，不能写在命令行或文件里。")
@click.option("--eml", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="不发送，把邮件写成 .eml 文件（用 Outlook/Foxmail 打开后自行发送）。")
@click.option("--include-personal-data", is_flag=True,
              help="附件保留完整身份证号、联系电话（默认脱敏）。")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="配置文件 xfsheets.toml 的路径（默认只用本人用户配置文件夹中的，不读当前文件夹）。")
@history_options(record=False)
def mail_command(report: Path, to: tuple[str, ...], cc: tuple[str, ...], subject: str | None,
                 sender: str | None, smtp: str | None, starttls: bool, use_ssl: bool, user: str | None,
                 eml: Path | None, include_personal_data: bool, config_path: Path | None, store: str | None) -> None:
    """把汇总报表作为附件发邮件（或写成 .eml），正文附主要数据表；个人信息默认脱敏。

    \b
    例：xfsheets mail 11月月报.xlsx --to shixfj@example.gov.cn --smtp smtp.example.gov.cn:465 --ssl --user 账号
        xfsheets mail 11月月报.xlsx --to shixfj@example.gov.cn --eml 报送.eml"""
    from xfsheets.settings import load_config, mail_destination_notice, resolve_smtp, smtp_password
    from xfsheets.mail import build_message, send_message, write_eml

    from xfsheets.outputs import output_file

    if eml is not None:
        eml = output_file(eml, inputs_of(report, config_path), suffixes=(".eml",), what="邮件文件")
    cfg = load_config(config_path)
    host, port, security = resolve_smtp(cfg, smtp, starttls=starttls, use_ssl=use_ssl)
    user = user or cfg.smtp.user
    sender = sender or cfg.smtp.sender or (user if user and "@" in user else None)
    to_list = list(to) or cfg.to
    cc_list = list(cc) or cfg.cc
    if eml is None and not to_list:
        raise CliError("请用 --to 指定收件人（或在 xfsheets.toml 的 [mail] 中写 to）", 2)
    if eml is None and user and security is None:  # a password travels only over TLS: refuse before connecting
        from xfsheets.mail import TLS_HINT

        raise CliError(f"为保护邮箱密码，不在未加密的连接上登录（用户「{user}」），邮件未发送。{TLS_HINT}", 2)
    notice = mail_destination_notice(cfg.path, host=None if smtp else host, port=port, to=[] if to else to_list,
                                     cc=[] if cc else cc_list)
    if notice:  # where a settings file sends mail is shown before any password is used
        click.echo(notice, err=True)

    msg = build_message(report, to=to_list, cc=cc_list, subject=subject, sender=sender,
                        include_personal_data=include_personal_data)
    masked_note = ("[yellow]附件含未脱敏的个人信息[/yellow]" if include_personal_data
                   else "附件中的身份证号、联系电话已脱敏")
    if eml is not None:
        write_eml(msg, eml)
        console.print(f"已写入「{eml}」（{masked_note}），可用 Outlook/Foxmail 打开后发送。")
        log_sent("mail", [report], ledgers=[report], store=store, recipients=[*to_list, *cc_list],
                 detail=f"写成邮件文件 {eml.name}，待手工发送")
        return
    if not host:
        raise CliError("未指定邮件服务器：请用 --smtp 服务器:端口，或在 xfsheets.toml 的 [smtp] 中写 host；"
                       "也可用 --eml 写成文件自行发送", 2)
    password = smtp_password(user) if user else None
    if user and not password:
        raise CliError(f"未找到用户「{user}」的邮箱密码：请设置环境变量 XFSHEETS_SMTP_PASSWORD，"
                       f"或运行 keyring set xfsheets {user} 存入系统钥匙串", 2)
    send_message(msg, host=host, port=port, security=security, user=user, password=password,
                 timeout=cfg.smtp.timeout, cafile=cfg.smtp.cafile)
    recipients = "、".join([*to_list, *cc_list])
    console.print(f"[green]已发送[/green]「{report.name}」给 {recipients}（{masked_note}）。")
    log_sent("mail", [report], ledgers=[report], store=store, recipients=[*to_list, *cc_list], detail=f"经 {host} 发送")


# === consolidate ===

@main.command()
@click.argument("inputs", nargs=-1, required=True, metavar="文件或文件夹...", type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="合并后的台账 (.xlsx)。")
@click.option("--jobs", type=click.IntRange(1, 64), default=None, help="同时读取的进程数 (默认 CPU 核数)。")
@click.option("--sheet", default=None, help="台账所在工作表名称 (默认自动识别)。")
@click.option("--profile", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="台账配置文件 (TOML): 列名映射、工作表、表头行。")
@click.option("--password", default=None, help="加密工作簿的密码 (只用于加密的文件)。")
@json_option
def consolidate(inputs, output, jobs, sheet, profile, password, as_json):
    """把多个单位的台账（文件或文件夹）合并成一本，一行不丢；读不了的文件列出原因。

    \b
    例：xfsheets consolidate 各单位报送 -o 汇总台账.xlsx"""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from xfsheets.consolidation import STATUS_FAILED, consolidate as run, write_consolidated

    from xfsheets.outputs import output_file

    output = output_file(output, inputs_of(inputs, profile))
    counts = {"rows": 0, "failed": 0}
    with Progress(TextColumn("读取台账"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[rows]} 行，失败 {task.fields[failed]} 个"),
                  console=notes, disable=not notes.is_terminal, transient=True) as bar:
        task = bar.add_task("read", total=None, rows=0, failed=0)

        def tick(result):
            counts["rows"] += result.rows
            counts["failed"] += result.status == STATUS_FAILED
            bar.update(task, advance=1, rows=counts["rows"], failed=counts["failed"])

        ledger, report = run(inputs, jobs=jobs, sheet=sheet, profile=load_profile_option(profile),
                             password=password, progress=tick, exclude=[output],
                             started=lambda n: bar.update(task, total=n))
    if report.exit_code == 2:
        reasons = "；".join(f.message for f in report.failed) or "没有找到可读取的台账文件"
        failure = CliError(f"没有可读取的台账，未生成「{output}」：{reasons}", 2, code="no_readable_ledger")
        if as_json:
            emit_json({**report.to_dict(), "error": failure.to_dict()})
            failure.emitted = True
        raise failure
    if notes.is_terminal:
        with notes.status(f"正在写出「{escape(str(output))}」（{report.rows_out} 行）……"):
            write_consolidated(ledger, report, output)
    else:
        write_consolidated(ledger, report, output)
    if as_json:
        emit_json(report.to_dict())
    for f in report.failed:
        notes.print(f"[red]读取失败[/red] {escape(f.message)}")
    for cut in report.columns_dropped:
        notes.print(f"[yellow]列未写入[/yellow] 文件「{escape(cut['file'])}」{escape(cut['message'])}")
    groups = report.duplicates["组号"].nunique() if not report.duplicates.empty else 0
    once = (f"同一事项经两条途径报来、只计一次的 {len(report.counted_once)} 行（见“重复上报只计一次”工作表），"
            if report.counted_once else "")
    console.print(f"已合并 {len(report.files) - len(report.failed)} 个文件、{report.rows_out} 行 → 「{output}」；{once}"
                  f"读取失败 {len(report.failed)} 个，忽略 {len(report.ignored)} 个，疑似重复 {groups} 组（见“重复记录”工作表）。")
    sys.exit(report.exit_code)


# === report ===

@main.command()
@ledger_options
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="汇总报表 (.xlsx)；与 --zero 同用时为输出文件夹。")
@click.option("--from", "date_from", type=DATE, default=None, help="统计期间起 (登记日期), 如 2026-11-01。")
@click.option("--to", "date_to", type=DATE, default=None, help="统计期间止 (含当天)。")
@as_of_option
@click.option("--unit", default=None, help="只统计这个责任单位。")
@click.option("--zero", is_flag=True, help="生成零报告 (每个责任单位一份；有集体访等情况则生成情况清单)。")
@click.option("--reporter", default="", help="填报人（写在情况报告和零报告的落款处）。")
@click.option("--signer", default="", help="负责人/审核签发人（写在情况报告和零报告的落款处）。")
@click.option("--reporting-unit", default="", help="填报单位（写在情况报告的落款处），如 XX县信访局。")
@click.option("--phone", default="", help="联系电话（写在情况报告的落款处）。")
@click.option("--include-personal-data", is_flag=True, help="报表中保留完整身份证号、联系电话 (默认脱敏)。")
@policy_options
@history_options()
@json_option
def report(ledgers, sheet, profile, password, output, date_from, date_to, as_of, unit, zero, reporter, signer,
           reporting_unit, phone, include_personal_data, as_json, policy, store, record_history):
    """生成上报用的汇总报表（比率、分类统计、超期清单、图表），或用 --zero 生成零报告。

    \b
    例：xfsheets report 信访台账.xlsx -o 11月月报.xlsx --from 2026-11-01 --to 2026-11-30
        xfsheets report 信访台账.xlsx --zero -o 零报告 --from 2026-11-30 --to 2026-11-30"""
    import datetime as dt

    from xfsheets.reader import read_ledgers

    from xfsheets.outputs import output_file, output_folder

    if date_from and date_to and date_from > date_to:
        raise CliError(f"--from {date_from} 晚于 --to {date_to}，请检查统计期间", 2)
    sources = inputs_of(ledgers, profile, policy_inputs(policy))
    output = output_folder(output, sources) if zero else output_file(output, sources)
    ledger = read_ledgers(ledgers, sheet=sheet, profile=load_profile_option(profile), password=password)
    as_of = as_of or dt.date.today()
    record_history_run(record_history, ledgers, store=store, as_of=as_of, policy=policy, ledger=ledger)
    if zero:
        from xfsheets.zero_report import build_zero_reports

        reports = build_zero_reports(ledger, output, as_of=as_of, date_from=date_from, date_to=date_to,
                                     unit=ledger.check_unit(unit),
                                     reporter=reporter, signer=signer, include_personal_data=include_personal_data,
                                     policy=policy)
        for r in reports:
            if r.is_zero:
                console.print(f"零报告：{escape(r.unit)} → 「{r.path}」")
            else:
                console.print(f"[yellow]{escape(r.unit)} 有 {len(r.events)} 件需报告的事项[/yellow]"
                              f"（{escape('、'.join(sorted(set('、'.join(r.events['报告事由']).split('、')))))}），"
                              f"已生成情况清单 → 「{r.path}」")
        for b in reports.blocked:
            console.print(f"[red]{escape(b.unit)} 无法出具零报告[/red]：{escape('；'.join(b.reasons))}")
        if as_json:
            emit_json({"as_of": as_of, "reports": [r.to_dict() for r in reports],
                       "blocked": [b.to_dict() for b in reports.blocked],
                       "blocked_file": str(reports.blocked_path) if reports.blocked_path else None})
        if reports.blocked:
            console.print(f"{len(reports.blocked)} 个单位无法出具零报告，单位和原因见「{reports.blocked_path}」")
        log_sent("zero_report", [r.path for r in reports], ledgers=ledgers, store=store)
        sys.exit(reports.exit_code)
    from xfsheets.report import build_report

    from xfsheets.history.hooks import report_changes

    changes = report_changes(store, ledgers)
    path, summary = build_report(ledger, output, date_from=date_from, date_to=date_to, as_of=as_of, changes=changes,
                                 unit=ledger.check_unit(unit),
                                 include_personal_data=include_personal_data, policy=policy,
                                 reporting_unit=reporting_unit, reporter=reporter, principal=signer, phone=phone)
    if as_json:
        emit_json({**summary.to_dict(), "file": str(path)})
    console.print(escape(summary.paragraph))
    console.print(f"汇总报表 → 「{path}」")
    log_sent("report", [path], ledgers=ledgers, store=store)


# === slips ===

@main.command()
@click.argument("ledger", metavar="台账文件", type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="输出文件夹 (每个责任单位一个工作簿)。")
@click.option("--unit", default=None, help="只生成这个责任单位的。")
@click.option("--overdue-only", is_flag=True, help="只为超期事项生成督办单。")
@click.option("--template", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="自己的模板 (.xlsx，单元格中写 {{字段名}} 占位符)。")
@click.option("--number-format", default=None,
              help="编号格式，如 \"X信交〔{year}〕{seq}号\" (督办单默认 \"X信督〔{year}〕{seq}号\")。")
@click.option("--from", "date_from", type=DATE, default=None, help="只生成交办日期在此日及以后的 (如本周一)。")
@click.option("--to", "date_to", type=DATE, default=None, help="只生成交办日期在此日及以前的。")
@click.option("--case", "cases", multiple=True, metavar="编号", help="只生成这件（可多次使用）。")
@click.option("--signer", default=None, help="签发人 (默认取 xfsheets.toml 的 [slips] signer)。")
@click.option("--contact", default=None, help="联系人及电话 (默认取 xfsheets.toml 的 [slips] contact)。")
@click.option("--issuing-unit", default=None,
              help="交办单位/落款单位，如 XX县信访局 (默认取 xfsheets.toml 的 [slips] issuing_unit)。")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="配置文件 xfsheets.toml 的路径（默认只用本人用户配置文件夹中的，不读当前文件夹）。")
@click.option("--sheet", default=None, help="台账所在工作表名称 (默认自动识别)。")
@click.option("--profile", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="台账配置文件 (TOML)。")
@click.option("--password", default=None, help="打开加密工作簿的密码。")
@as_of_option
@policy_options
@history_options(record=False)
@json_option
def slips(ledger, output, unit, overdue_only, template, number_format, date_from, date_to, cases, signer, contact,
          issuing_unit, config_path, sheet, profile, password, as_of, as_json, policy, store):
    """按责任单位生成交办单（或用 --overdue-only 为超期事项生成督办单），每件一页、可直接打印。

    \b
    例：xfsheets slips 信访台账.xlsx -o 交办单 --from 2026-11-23
        xfsheets slips 信访台账.xlsx -o 督办单 --overdue-only"""
    from xfsheets.reader import read_ledger
    from xfsheets.slips import generate_slips

    from xfsheets.outputs import output_folder

    from xfsheets.settings import load_config

    if date_from and date_to and date_from > date_to:
        raise CliError(f"--from {date_from} 晚于 --to {date_to}，请检查交办日期范围", 2)
    settings = load_config(config_path).slips
    output_folder(output, inputs_of(ledger, profile, template, policy_inputs(policy), config_path))
    led = read_ledger(ledger, sheet=sheet, profile=load_profile_option(profile), password=password)
    result = generate_slips(led, output, as_of=as_of, unit=led.check_unit(unit), overdue_only=overdue_only,
                            template=template,
                            number_format=number_format, signer=signer or settings.signer or "",
                            contact=contact or settings.contact or "",
                            issuing_unit=issuing_unit or settings.issuing_unit or "", policy=policy,
                            date_from=date_from, date_to=date_to, cases=list(cases))
    if as_json:
        emit_json(result.to_dict())
    console.print(f"已生成 {result.slips} 份{result.kind}，{len(result.files)} 个工作簿 → 「{output}」")
    log_sent("slips", [output / Path(f).name for f in result.files], ledgers=[ledger], store=store,
             detail=result.kind)
    if result.template_removed:  # links, hidden sheets, macros, connections: never carried into a slip
        console.print(escape(f"模板中的这些内容已去除，没有带进任何一份{result.kind}：{'；'.join(result.template_removed)}"))
    if result.skipped:
        console.print(f"[yellow]{len(result.skipped)} 件未生成[/yellow]，原因见「{result.skipped_file}」：")
        for s in result.skipped[:10]:
            where = f"第 {s.row} 行 " if s.row else ""
            console.print(f"  {where}{escape(str(s.case_id or ''))}：{escape(s.reason)}")
        sys.exit(1)


# === excel ===

@main.group(cls=XfGroup)
def excel():
    """Excel：给台账加下拉列表（install）；每台电脑装一次“信访台账”选项卡（addin）。

    \b
    例：xfsheets excel addin install
        xfsheets excel install 信访台账.xlsx"""


@excel.command("install")
@click.argument("ledger", metavar="台账文件", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="输出文件，默认“台账名_带下拉.xlsx”（加 --with-buttons 时为“台账名.xlsm”）。")
@click.option("--with-buttons", is_flag=True, default=False,
              help="另存为带按钮和宏的 .xlsm（只在需要把按钮放进台账的单位使用；一般请用 excel addin install）。")
@click.option("--interpreter", default=None,
              help="不再使用：台账里不记 Python 的位置，请在每台电脑上运行 excel addin install --interpreter。")
@click.option("--profile", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="台账配置文件 (TOML)：下拉列表的扩充词表、工作表、表头行（按钮读台账用本机的：excel addin install --profile）。")
@click.option("--policy", "--rules", "policy_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="不再使用：台账里不记办理规则，按钮用本机的（excel addin install --policy）。")
def excel_install(ledger, output, with_buttons, interpreter, profile, policy_path):
    """另存一份台账：办理状态、信访形式、问题类别加下拉列表，日期列只能填日期，身份证号、电话列设为文本（整列）；原文件不变。

    \b
    例：xfsheets excel install 信访台账.xlsx   （生成 信访台账_带下拉.xlsx）"""
    from xfsheets.xlsm import install

    if not with_buttons and (interpreter or policy_path):
        raise CliError("--interpreter 和 --policy 只用于 --with-buttons（带按钮的 .xlsm）")
    path = install(ledger, output, buttons=with_buttons, interpreter=interpreter,
                   profile=load_profile_option(profile), policy=policy_path)
    if with_buttons:
        console.print(f"已生成带按钮的工作簿「{path}」。首次打开时请点“启用内容”（启用宏）；"
                      f"若提示宏已被阻止，请在文件上点右键-属性-勾选“解除锁定”。"
                      f"每台使用它的电脑都要先运行一次 xfsheets excel addin install（写下本机的 Python）。")
    else:
        console.print(f"已生成「{path}」：办理状态、信访形式、问题类别有下拉列表，日期列只接受日期，"
                      f"身份证号、电话列为文本格式。不含宏，Excel、WPS 都能直接使用。")


@excel.group("addin", cls=XfGroup)
def excel_addin():
    """“信访台账”选项卡（Excel 加载项）：每台电脑装一次，对打开的任何台账都能用。仅限 Windows 上的 Microsoft Excel。

    \b
    例：xfsheets excel addin install
        xfsheets excel addin status"""


_target_option = click.option("--target", type=click.Path(path_type=Path, file_okay=False), default=None,
                              help="不装进本机 Excel，而是把 xfsheets.xlam 和 xlwings.conf 写到这个文件夹（测试、打包用）。")


@excel_addin.command("install")
@_target_option
@click.option("--interpreter", default=None,
              help="写进本机 xlwings 设置的 Python（默认：运行本命令的 Python 旁的 pythonw.exe）。")
@click.option("--profile", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="本机按钮读台账时用的台账配置文件 (TOML)；台账里的 xlwings.conf 表和台账所在文件夹中的文件都不起作用。")
@click.option("--policy", "--rules", "policy_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="本机按钮计算时限、生成交办单和报表时用的办理规则文件 (TOML)。")
def excel_addin_install(target, interpreter, profile, policy_path):
    """把 xfsheets.xlam 放进 Excel 的启动文件夹（XLSTART），并把本机 Python 写进 %USERPROFILE%\\.xlwings\\xlwings.conf。

    \b
    例：xfsheets excel addin install
        xfsheets excel addin install --policy 本县规则.toml"""
    from xfsheets.addin import install

    path, conf, python = install(target, interpreter, profile=profile, policy=policy_path)
    console.print(f"已安装 Excel 加载项「{path}」。")
    if profile or policy_path:
        console.print(f"本机按钮将使用：{'、'.join(str(p) for p in (profile, policy_path) if p)}（记在「{conf}」）。")
    if conf is not None:
        console.print(f"本机 Python「{python}」已写入「{conf}」。")
    else:
        console.print("[yellow]没有写 Python 路径[/yellow]（不在 Windows 上时请用 --interpreter 指定目标电脑上的 Python）。")
    if target is None:
        console.print("下一步：关闭并重新打开 Excel，打开台账，使用“信访台账”选项卡。"
                      "若选项卡没有出现：文件-选项-加载项-管理“禁用项目”，启用 xfsheets.xlam。")


@excel_addin.command("uninstall")
@_target_option
def excel_addin_uninstall(target):
    """删除 xfsheets.xlam，并撤销 install 写入的 Python 设置（若之后没有被改过）。

    \b
    例：xfsheets excel addin uninstall"""
    from xfsheets.addin import uninstall

    removed = uninstall(target)
    if removed:
        for path in removed:
            console.print(f"已删除/还原「{path}」")
        console.print("请关闭并重新打开 Excel。")
    else:
        console.print("没有找到已安装的加载项，没有改动。")


@excel_addin.command("status")
@_target_option
@json_option
def excel_addin_status(target, as_json):
    """查看加载项是否已安装、本机 xlwings 设置的 Python 是否存在。有问题时退出码为 1。

    \b
    例：xfsheets excel addin status"""
    from xfsheets.addin import status

    st = status(target)
    if as_json:
        emit_json(st.to_dict())
    console.print(f"加载项：{st.addin}（{'已安装' if st.installed else '未安装'}）")
    console.print(f"本机 xlwings 设置：{st.conf}")
    console.print(f"Python：{st.interpreter or '未设置'}" + ("" if st.interpreter_exists is not False else "（不存在）"))
    for key, value in st.settings.items():
        console.print(f"{key}：{value}")
    for p in st.problems:
        notes.print(f"[yellow]问题：[/yellow]{escape(p)}")
    if st.problems:
        sys.exit(1)


# === deadlines ===

@main.command()
@ledger_options
@as_of_option
@policy_options
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="写出加了 当前阶段/法定期限/应办结日期（按时限计算）/剩余天数/预警/时限说明 列的台账副本 (.xlsx)。")
@history_options()
@json_option
def deadlines(ledgers, sheet, profile, password, as_of, policy, output, as_json, store, record_history):
    """按《信访工作条例》分阶段计算法定时限，标出超期、临期（按法定节假日和调休计算）。

    \b
    例：xfsheets deadlines 信访台账.xlsx
        xfsheets deadlines 信访台账.xlsx -o 时限预警.xlsx --as-of 2026-11-30"""
    import datetime as dt

    from rich.table import Table

    from xfsheets.deadlines import annotate, deadline_report
    from xfsheets.reader import read_ledgers

    from xfsheets.outputs import MACRO_SUFFIXES, output_file

    if output:
        output = output_file(output, inputs_of(ledgers, profile, policy_inputs(policy)), suffixes=MACRO_SUFFIXES)
    ledger = read_ledgers(ledgers, sheet=sheet, profile=load_profile_option(profile), password=password)
    as_of = as_of or dt.date.today()
    record_history_run(record_history, ledgers, store=store, as_of=as_of, policy=policy, ledger=ledger)
    found = deadline_report(ledger, as_of=as_of, policy=policy)
    result = found.result
    if output:
        annotate(ledger, result, output, password=password)
    frame = ledger.frame
    if as_json:
        emit_json(found.to_dict())
    else:
        open_rows = result[~result["closed"].astype(bool)].sort_values("days_left", na_position="last")  # the one rule
        table = Table(title=f"未办结事项时限（截至 {as_of.isoformat()}）")
        for col in ("行", "信访件编号", "阶段", "应办结日期", "剩余天数", "预警"):
            table.add_column(col)
        colours = {"overdue": "red", "severely_overdue": "bold red", "due_soon": "yellow", "on_track": "green"}
        for i in open_rows.index[:50]:
            r = result.loc[i]
            table.add_row(str(frame.at[i, "_row"]), escape(str(frame.at[i, "case_id"] or "")), r["stage_label"] or "",
                          "" if pd_isna(r["due_on"]) else r["due_on"].date().isoformat(),
                          "" if pd_isna(r["days_left"]) else str(int(r["days_left"])),
                          f"[{colours.get(r['flag'], 'white')}]{r['flag_label']}[/]")
        console.print(table)
        if len(open_rows) > 50:
            console.print(f"……另有 {len(open_rows) - 50} 件未列出（用 --json 或 -o 查看全部）")
    console.print("合计：" + "，".join(f"{k} {v} 件" for k, v in found.counts().items())
                  + f"（时限规则：{escape(policy.source)}）" + (f"；已写出「{output}」" if output else ""))
    beyond = int(result["due_beyond_legal_limit"].sum())
    stale = int(result["extension_not_in_ledger_due"].sum())
    if beyond:  # a 交办单 cannot lengthen the statutory period: said once, each case in its 时限说明
        notes.print(f"[yellow]注意[/yellow]：{beyond} 件台账“办理时限”晚于法定期满日，已按法定期满日计算，请核对办理时限（见时限说明）")
    if stale:
        notes.print(f"[yellow]注意[/yellow]：{stale} 件已批准延期，但“办理时限”仍是延期前的日期，已按延期后的日期计算，请更新办理时限")
    for note in found.notes():  # a missing year's remedy: once per run, not in every 时限说明
        notes.print(f"[yellow]注意[/yellow]：{escape(note)}")


def pd_isna(value) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))


# === calendar ===

class CalendarGroup(click.Group):
    """``calendar YEAR ...`` (no sub-command named) is ``calendar show YEAR ...``."""

    command_class = XfCommand

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        kwargs.setdefault("subcommand_metavar", "年份 | import 通知文件")
        super().__init__(*args, **kwargs)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not any(a in self.commands for a in args) and not {"-h", "--help"} & set(args):
            args = ["show", *args]
        return super().parse_args(ctx, args)


@main.group("calendar", cls=CalendarGroup)
def calendar_command():
    """节假日：列出某年的放假和调休上班日，生成空白节假日文件（--template），
    或从国务院办公厅的放假通知导入下一年的安排。

    \b
    例：xfsheets calendar 2027
        xfsheets calendar import 通知.txt -o 2027节假日.xlsx"""


@calendar_command.command("show")
@click.argument("year", metavar="年份", type=click.IntRange(2000, 2040))
@click.option("--holidays", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="节假日文件 (.xlsx/.csv)，与官方安排合并后显示。")
@click.option("--template", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="写出该年的空白节假日文件 (.xlsx/.csv：日期、类型、名称，附填写说明)，供手工填写。")
@json_option
def calendar_show(year, holidays, template, as_json):
    """列出某年的放假日和调休上班日，及其来源（官方或您的节假日文件）；未收录的年份另列依法确定的放假日（法定节假日和补假），作为预估。

    \b
    例：xfsheets calendar 2026
        xfsheets calendar 2027 --template 2027节假日.xlsx"""
    from rich.table import Table

    from xfsheets.workdays import ESTIMATE_CAVEAT, HOLIDAY_COLUMNS, WorkCalendar, write_holiday_file

    if template:
        import pandas as pd

        path = write_holiday_file(template, pd.DataFrame(columns=HOLIDAY_COLUMNS), inputs=inputs_of(holidays),
                                  help_year=year)
        if as_json:
            emit_json({"year": year, "template": str(path)})
        console.print(f"已写出空白节假日文件「{path}」。按通知填好 {year} 年的放假日（休）和调休上班日（班）后，"
                      f"加一行 日期“{year}年全年”、类型“全年”，再用 --holidays {path.name}。")
        return
    cal = WorkCalendar.official(holidays)
    table = cal.year_table(year)
    known = cal.year_known(year)
    estimate = cal.estimate_table(year)
    if as_json:
        emit_json({"year": year, "known": known, "days": table.to_dict("records"),
                   "estimate": estimate.to_dict("records"), "estimate_note": ESTIMATE_CAVEAT if len(estimate) else None,
                   "missing": None if known else cal.missing_year_text(year)})
        return
    if not known:
        console.print(f"[yellow]{escape(cal.missing_year_reason(year))}[/yellow]。"
                      f"{escape(cal.missing_year_text(year).split('。', 1)[1])}")

    def show(frame, title: str) -> None:
        out = Table(title=title)
        for col in frame.columns:
            out.add_column(col)
        for row in frame.itertuples(index=False):
            out.add_row(*[escape(str(v)) for v in row])
        console.print(out)

    if known or len(table):
        show(table, f"{year} 年放假与调休")
    if len(estimate):
        show(estimate, f"{year} 年预估：依法确定的放假日（仅在 --assume-weekends 时使用，结果标“预估”）")
        console.print(f"{escape(ESTIMATE_CAVEAT)}。")


@calendar_command.command("import")
@click.argument("notice", metavar="通知文件", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="写出的节假日文件 (.xlsx 或 .csv)，默认为通知所在文件夹的“YYYY节假日.xlsx”。")
@click.option("--year", type=click.IntRange(2000, 2040), default=None,
              help="通知的年份 (仅当粘贴的文字里没有标题时需要)。")
@json_option
def calendar_import(notice, output, year, as_json):
    """读取国务院办公厅《关于YYYY年部分节假日安排的通知》全文 (.txt 或 .docx)，写出节假日文件（含“YYYY年全年”一行）并列出供核对。

    \b
    例：xfsheets calendar import 通知.txt -o 2027节假日.xlsx"""
    from rich.table import Table

    from xfsheets.workdays import WEEKDAYS, WorkCalendar, holiday_rows, write_holiday_file
    from xfsheets.holiday_notice import read_notice

    schedule = read_notice(notice, year=year)
    frame = holiday_rows(schedule.overrides(), {schedule.year}, schedule.title)
    output = output or Path(notice).with_name(f"{schedule.year}节假日.xlsx")
    path = write_holiday_file(output, frame, inputs=[notice])
    rest = [d for d in schedule.days if not d.work]
    work = [d for d in schedule.days if d.work]
    on_weekdays = [d for d in rest if d.day.weekday() < 5]
    # A year chinese-calendar already covers: say whether the notice agrees with it.
    official = WorkCalendar.official()
    differences = None
    if official.year_known(schedule.year):
        theirs = {(o.day, o.work, o.name) for o in official.overrides.values() if o.day.year == schedule.year}
        ours = {(d.day, d.work, d.name) for d in schedule.days if d.day.year == schedule.year}
        differences = sorted(theirs ^ ours)
    if as_json:
        emit_json({"year": schedule.year, "title": schedule.title, "output": str(path),
                   "days": [{"日期": d.day.isoformat(), "类型": "班" if d.work else "休", "名称": d.name, "行": d.line}
                            for d in schedule.days],
                   "rest_days": len(rest), "rest_weekdays": len(on_weekdays), "work_days": len(work),
                   "official_differences": None if differences is None else [
                       {"日期": d.isoformat(), "类型": "班" if w else "休", "名称": n} for d, w, n in differences]})
    else:
        out = Table(title=f"{schedule.title}：放假与调休上班")
        for col in ("日期", "星期", "类型", "名称", "通知第几行"):
            out.add_column(col)
        for d in schedule.days:
            out.add_row(d.day.isoformat(), f"星期{WEEKDAYS[d.day.weekday()]}", "[green]班[/green]" if d.work else "休",
                        escape(d.name), str(d.line))
        console.print(out)
    console.print(f"{schedule.year} 年：放假 {len(rest)} 天（其中 {len(on_weekdays)} 天是工作日），调休上班 {len(work)} 天；"
                  f"已写出「{path}」（含“{schedule.year}年全年”一行）。请与通知原文核对，然后使用："
                  f"xfsheets deadlines 台账.xlsx --holidays {escape(str(path))}")
    if differences:
        console.print(f"[yellow]注意：与程序内置的 {schedule.year} 年官方数据有 {len(differences)} 处不同[/yellow]："
                      + "；".join(f"{d.isoformat()} {'班' if w else '休'} {escape(n)}" for d, w, n in differences[:10]))
    elif differences == []:
        console.print(f"与程序内置的 {schedule.year} 年官方数据（chinese-calendar）完全一致。")


# === check ===

CHECK_SHOWN = 500  # findings listed on the terminal (all of them: --json, or the 检查结果 sheet)


def check_lines(findings, width: int = 80) -> list[str]:
    """The findings as terminal lines (rich markup) that fit ``width`` columns: a heading per
    file and sheet, then per finding 第 N 行, column and field, 错误/警告 and the problem's
    Chinese name; the message wrapped under it (CJK characters count two columns)."""
    import re

    from rich.cells import cell_len

    from xfsheets.checks import ERROR, rule_title
    from xfsheets.schema import LABELS

    def wrap(text: str, indent: int) -> list[str]:
        """Break anywhere between CJK characters, between words in Latin text."""
        room, out, line = max(20, width - indent), [], ""
        for token in re.findall(r"[!-~]{1,%d}|\s|." % room, text):
            if cell_len(line + token) > room:
                out.append(line.rstrip())
                line = token.lstrip()
            else:
                line += token
        return out + [line] if line else out

    lines: list[str] = []
    last_source, last_row = None, None
    for f in findings:
        source = (f.file, f.sheet)
        if source != last_source:
            count = sum(1 for g in findings if (g.file, g.sheet) == source)
            name = Path(f.file).name if f.file else ""
            head = f"{name}　工作表「{f.sheet}」" if f.sheet else name
            lines += [""] if lines else []
            lines += [f"[bold]{escape(part)}[/bold]" for part in wrap(f"{head}（{count} 条）", 0)]
            last_source, last_row = source, None
        row = f"第 {f.row} 行" if f.row else "表头"
        where = " ".join(x for x in (f"{f.column}列" if f.column else "", LABELS.get(f.field, f.field or "")) if x)
        level = "[red]错误[/red]" if f.severity == ERROR else "[yellow]警告[/yellow]"
        shown_row = row if f.row != last_row else " " * cell_len(row)
        plain = f"  {shown_row}  {where}  错误  {rule_title(f.code)}"
        if cell_len(plain) <= width:
            lines.append(f"  {shown_row}  {escape(where)}  {level}  {escape(rule_title(f.code))}")
        else:  # a long field name: the problem's name goes on the next line
            lines.append(f"  {shown_row}  {escape(where)}  {level}")
            lines += [" " * 6 + escape(part) for part in wrap(rule_title(f.code), 6)]
        lines += [" " * 6 + escape(part) for part in wrap(f.message or "", 6)]
        last_row = f.row
    return lines


@main.command()
@ledger_options
@json_option
@as_of_option
@policy_options
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="写出标注了问题单元格（红：错误，黄：警告，附批注）并附“检查结果”表的台账副本 (.xlsx)。")
@history_options()
def check(ledgers, sheet, profile, password, as_json, as_of, policy, output, store, record_history):
    """逐格检查台账是否填全、填对，按您台账中的行号和列字母列出问题。

    \b
    例：xfsheets check 信访台账.xlsx
        xfsheets check 信访台账.xlsx -o 检查标注.xlsx"""
    from xfsheets.checks import annotate, check as run_check
    from xfsheets.reader import read_ledgers

    from xfsheets.outputs import MACRO_SUFFIXES, output_file

    if output:
        output = output_file(output, inputs_of(ledgers, profile, policy_inputs(policy)), suffixes=MACRO_SUFFIXES)
    prof = load_profile_option(profile)
    ledger = read_ledgers(ledgers, sheet=sheet, profile=prof, password=password)
    report = run_check(ledger, prof, as_of=as_of, policy=policy)
    record_history_run(record_history, ledgers, store=store, as_of=as_of, policy=policy, ledger=ledger)
    if output:
        annotate(ledger, report, output, password=password)
    if as_json:
        emit_json(report.to_dict())
    else:
        for line in check_lines(report.findings[:CHECK_SHOWN], min(console.width or 80, 80)):
            console.print(line)
        if len(report.findings) > CHECK_SHOWN:
            console.print(f"……共 {len(report.findings)} 条，只显示前 {CHECK_SHOWN} 条（全部见 --json 或 -o 的“检查结果”表）")
    console.print(("[green]检查通过[/green]：" if report.valid else "[red]检查未通过[/red]：") + report.summary_text()
                  + (f"；标注副本「{output}」" if output else ""))
    sys.exit(0 if report.valid else 1)


# === history, changes === (the office's memory; its door is in cli_history, which uses the options above)
from xfsheets.cli_history import changes as _changes, history as _history  # noqa: E402

main.add_command(_history)
main.add_command(_changes)

# === serve === (the local web page; its door is in cli_web)
from xfsheets.cli_web import serve as _serve  # noqa: E402

main.add_command(_serve)


# === remind, collect === (reminders to units and chasing reports; their door is cli_remind)
from xfsheets.cli_remind import collect as _collect, remind as _remind  # noqa: E402

main.add_command(_remind)
main.add_command(_collect)

# === wps === (the 信访台账 tab of WPS 表格; its door is cli_wps)
from xfsheets.cli_wps import wps as _wps  # noqa: E402

main.add_command(_wps)
