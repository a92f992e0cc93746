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

from xfsheets.errors import XfsheetsError

console = Console(stderr=True, highlight=False, soft_wrap=True)


class CliError(click.ClickException):
    """A library error shown to the user in Chinese, with its exit code."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file: Any = None) -> None:
        click.echo(f"错误：{self.format_message()}", err=True)


class XfGroup(click.Group):
    """Turns library errors into CliError for every sub-command."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except XfsheetsError as exc:
            if ctx.obj and ctx.obj.get("verbose"):
                raise
            raise CliError(str(exc), exc.exit_code) from exc


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
    func = click.argument("ledgers", nargs=-1, required=True,
                          type=click.Path(path_type=Path))(func)
    return func


def json_option(func: Callable) -> Callable:
    return click.option("--json", "as_json", is_flag=True,
                        help="在标准输出打印一个 JSON 文档 (machine-readable); 说明文字走标准错误。")(func)


def as_of_option(func: Callable) -> Callable:
    return click.option("--as-of", type=DATE, default=None,
                        help="统计/预警基准日 (默认今天), 如 2026-03-05。")(func)


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

    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, default=default))
    sys.stdout.write("\n")


def load_profile_option(path: Path | None):
    from xfsheets.schema import load_profile

    return load_profile(path) if path else None


# --- the group --------------------------------------------------------------------

@click.group(cls=XfGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="出错时显示完整的技术信息 (traceback)。")
@click.version_option(package_name="xfsheets")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """xfsheets：信访台账的检查、时限预警、交办单、汇总与上报工具。"""
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
    """显示程序如何理解台账：工作表、表头行、每列对应的字段、未识别的列、行数和前几行。"""
    from xfsheets.inspect import inspect_ledgers

    result = inspect_ledgers(ledgers, sheet=sheet, profile=load_profile_option(profile),
                             password=password, first_rows=first_rows)
    if as_json:
        emit_json(result.to_dict())
    else:
        result.print(console)
    if result.failed and not result.files:
        raise CliError("没有可读取的台账：" + "；".join(e for _, e in result.failed), 2)
    sys.exit(1 if result.failed else 0)


# === demo ===

@main.command()
@click.argument("folder", default="demo-output", type=click.Path(file_okay=False, path_type=Path))
def demo(folder):
    """用自带的示例台账演示全部功能，结果写入 FOLDER（默认 demo-output）。"""
    from xfsheets.demo import run_demo

    run_demo(folder, echo=lambda line: console.print(line))
    console.print(f"[green]演示完成[/green]，结果在「{folder}」。")
