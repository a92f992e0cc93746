"""The command-line door to the office's memory: ``history record|log|verify|link|unlink``,
``history --case ID`` / ``--person X`` and ``changes``. Parse, call one library function, print."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from xfsheets.cli import (CliError, XfGroup, as_of_option, console, emit_json, json_option, ledger_options,
                          load_profile_option, notes, policy_options)
from xfsheets.history import audit, links, queries, record as recorder, store as st
from xfsheets.history.hooks import configured_store
from xfsheets.history.events import LABELS, field_label


def store_option(func):
    return click.option("--store", default=None, metavar="历史库",
                        help=f"历史库：文件路径（默认在台账所在文件夹或当前文件夹找「{st.STORE_NAME}」），"
                             "或服务器地址 postgresql://用户@主机:端口/库名。")(func)


def _open(store: str | None, ledgers: list[Path] = ()) -> st.Store:
    return st.open_store(st.locate(configured_store(store), list(ledgers)))


@click.group("history", cls=XfGroup, invoke_without_command=True)
@click.option("--case", "case_id", default=None, metavar="编号", help="查一件事项的全部历史（信访件编号）。")
@click.option("--person", default=None, metavar="姓名|身份证号|电话",
              help="信访人历史查询：这个人在各本台账、各年的全部事项（结果已脱敏）。")
@store_option
@json_option
@click.pass_context
def history(ctx, case_id, person, store, as_json):
    """本办的历史记录：每次记录台账的快照、两次之间的变化、发出过的文件。

    \b
    例：xfsheets history record 信访台账.xlsx
        xfsheets history --person 张三
        xfsheets history --case XF-2026-0015"""
    if ctx.invoked_subcommand:
        if case_id or person:
            raise CliError("--case、--person 不能和子命令一起用")
        return
    if not case_id and not person:
        click.echo(ctx.get_help(), err=True)
        ctx.exit(2)
    s = _open(store)
    try:
        answer = queries.case_history(s, case_id) if case_id else queries.person_history(s, person)
    finally:
        s.engine.dispose()
    if as_json:
        emit_json(answer.to_dict())
    else:
        _show_history(answer, "信访件编号 " + case_id if case_id else "信访人 " + answer.asked)
    if not answer.matters:
        ctx.exit(1)


def _show_history(answer: queries.HistoryAnswer, asked: str) -> None:
    if not answer.matters:
        console.print(f"历史库里没有{asked}的记录。")
        return
    console.print(f"{asked}：共 {len(answer.matters)} 件事项（个人信息已脱敏）")
    for m in answer.matters:
        last = m.versions[-1]["values"] if m.versions else {}
        first_seen, last_seen = m.seen[0], m.seen[-1]
        console.print(f"\n事项 {m.matter}：{last.get('case_id') or '（无编号）'}  {last.get('received_on', '')}  "
                      f"{last.get('petitioner', '')}  {last.get('unit', '')}  {last.get('summary', '')[:40]}")
        console.print(f"  首次记录 {first_seen['as_of']}（{Path(first_seen['file']).name}），"
                      f"最近一次 {last_seen['as_of']}（{Path(last_seen['file']).name} 第 {last_seen['row']} 行）")
        for e in m.events:
            what = f"：{field_label(e['field'])} {e['old'] or '（空）'} → {e['new'] or '（空）'}" if e["field"] else ""
            console.print(f"  {e['as_of']} {e['label']}{what}")


@history.command("record")
@ledger_options
@as_of_option
@policy_options
@store_option
@click.option("--note", default=None, help="这次记录的说明（如“周报前”）。")
@json_option
def history_record(ledgers, sheet, profile, password, as_of, policy, store, note, as_json):
    """记录台账的一次快照：与上次相比新增、办结、新超期、改动了什么，都记下来。

    \b
    例：xfsheets history record 信访台账.xlsx
        xfsheets history record 各单位台账文件夹里的文件... --as-of 2026-11-30"""
    result = recorder.record(list(ledgers), store=configured_store(store), as_of=as_of, policy=policy, sheet=sheet,
                             profile=load_profile_option(profile), note=note)
    if as_json:
        emit_json(result.to_dict())
    console.print(result.summary())
    console.print(f"历史库：{st.shown(result.store)}")
    if result.clashes:
        notes.print(f"[yellow]注意：信访件编号 {'、'.join(result.clashes[:5])} 出现在不止一行，这些行没有按编号合并，请核对。[/]")


@click.command("changes")
@click.option("--since", default=None, metavar="日期|上次上报",
              help="从哪天起（如 2026-11-01），或“上次上报”（最近一次报表/邮件所依据的快照）；默认比较最近两次记录。")
@store_option
@json_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="把变化写成工作簿 (.xlsx)。")
def changes(since, store, as_json, output):
    """本期变化：两次记录之间新增、办结、新超期、延期、改动了哪些事项。

    \b
    例：xfsheets changes
        xfsheets changes --since 上次上报 -o 本期变化.xlsx"""
    s = _open(store)
    try:
        result = queries.changes(s, since)
    finally:
        s.engine.dispose()
    if output is not None:
        from xfsheets.writer import Table, write_tables

        write_tables(output, [Table("本期变化", result.frame())])
    if as_json:
        emit_json(result.to_dict())
    base = f"第 {result.base['snapshot']} 次记录（{result.base['as_of']}）" if result.base else "最初"
    console.print(f"从{base}到第 {result.head['snapshot']} 次记录（{result.head['as_of']}）：")
    if not result.events:
        console.print("没有变化。")
    for kind, n in result.counts.items():
        console.print(f"  {LABELS[kind]}：{n}")
    for e in [e for e in result.events if e.kind in ("similar", "case_id_clash")][:20]:
        where = f"{Path(e.file).name} {e.sheet} 第 {e.row} 行" if e.file else ""
        console.print(f"  [yellow]{LABELS[e.kind]}[/]：事项 {e.matter or '-'} {e.case_id} {where} {e.detail or ''}")
    console.print(result.sentence("较" + base))
    if output is not None:
        console.print(f"已写出：{output}")


@history.command("log")
@store_option
@json_option
def history_log(store, as_json):
    """发出记录：每份报表、零报告、交办单和邮件，何时、发给谁、依据哪次记录。

    \b
    例：xfsheets history log"""
    s = _open(store)
    try:
        with s.reading() as conn:
            chain = audit.read_log(conn)
    finally:
        s.engine.dispose()
    if as_json:
        emit_json({"entries": [e.to_dict() for e in chain.entries], "intact": chain.intact,
                   "broken_at": chain.broken_at})
    for e in chain.entries:
        to = f" → {e.recipients}" if e.recipients else ""
        console.print(f"{e.id:>4}  {e.at[:16].replace('T', ' ')}  {audit.KIND_LABELS.get(e.kind, e.kind)}  {e.name}{to}")
    if not chain.entries:
        console.print("还没有发出记录。")
    if not chain.intact:
        console.print(f"[red]发出记录从第 {chain.broken_at} 条起被改动或删除过。[/]")
        sys.exit(1)


@history.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="文件")
@store_option
@json_option
def history_verify(file, store, as_json):
    """核对一个文件是不是当初发出的原样，何时发出。

    \b
    例：xfsheets history verify 11月月报.xlsx"""
    s = _open(store, [file])
    try:
        result = audit.verify(s, file)
    finally:
        s.engine.dispose()
    if as_json:
        emit_json(result.to_dict())
    console.print(result.summary())
    if result.exit_code:
        sys.exit(result.exit_code)


@history.command("link")
@click.argument("keep", type=int, metavar="事项号")
@click.argument("other", type=int, metavar="另一事项号")
@store_option
def history_link(keep, other, store):
    """确认两个事项号是同一件事（把后者并入前者）。事项号见 changes 和 history 的输出。

    \b
    例：xfsheets history link 15 231"""
    s = _open(store)
    try:
        said = links.link(s, keep, other)
    finally:
        s.engine.dispose()
    console.print(said)


@history.command("unlink")
@click.argument("matter", type=int, metavar="事项号")
@store_option
def history_unlink(matter, store):
    """撤销一次“疑似同一件”的认定：把从那次起的记录分成一个新事项。

    \b
    例：xfsheets history unlink 231"""
    s = _open(store)
    try:
        said = links.unlink(s, matter)
    finally:
        s.engine.dispose()
    console.print(said)
