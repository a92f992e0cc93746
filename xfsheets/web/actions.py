"""What each button of the page does: the body of the matching CLI command, called with the
same library functions (reader, checks, deadlines, slips, report, zero_report, consolidation,
history hooks) and written through the same output gate (:mod:`xfsheets.outputs`).

Each action takes the uploaded ledgers, an output folder inside the work folder, the options
the page sends and a ``progress(done, total, current)`` callback; it returns a plain dict the page
renders (``summary``: one Chinese sentence, ``tables``, ``chart``, ``outputs``: the files
written, relative to the work folder). Library errors (:class:`~xfsheets.errors.XfsheetsError`)
pass through: the job runner turns them into the page's Chinese error.

A command that takes one ledger on the command line (check -o, deadlines -o, slips) is run per
uploaded file, as a clerk would run it once per file. 发送 (:func:`mail`) is ``xfsheets mail`` on one of
this run's 汇总报表/零报告 files, with the mail settings of the clerk's own xfsheets.toml only.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Callable

from xfsheets.errors import XfsheetsError

Progress = Callable[[int, int, str], None]

# Rows shown in a table on the page (every row is in the downloadable workbook).
SHOWN_ROWS = 200

ACTIONS: dict[str, str] = {
    "check": "检查",
    "deadlines": "计算时限",
    "assign": "交办单",
    "supervise": "督办单",
    "report": "汇总报表",
    "zero": "零报告",
    "consolidate": "合并台账",
}


def period_range(preset: str, today: dt.date, date_from: dt.date | None = None,
                 date_to: dt.date | None = None) -> tuple[dt.date | None, dt.date | None]:
    """The 统计期间 the page asks for: a preset (本周, 上周, 本月, 本季度: :func:`xfsheets.periods.period`, the
    rule the Excel button follows too, as of the as-of day) or 自定义 (the two dates chosen, either may be empty)."""
    from xfsheets import periods

    if preset in ("", "自定义", None):
        if date_from and date_to and date_from > date_to:
            raise XfsheetsError(f"统计期间的开始日 {date_from} 晚于结束日 {date_to}", hint="请重新选择统计期间")
        return date_from, date_to
    return periods.period(preset, today)


def _policy(options: dict[str, Any]):
    from xfsheets.policy import load_policy

    return load_policy(None).with_options(holidays=None, assume_weekends=None, warn_days=None, severe_days=None)


def _rel(path: Path, work: Path) -> str:
    return Path(path).resolve().relative_to(work.resolve()).as_posix()


def _each(ledgers: list[Path], progress: Progress, fn: Callable[[Path], Any]) -> list[Any]:
    out = []
    for k, path in enumerate(ledgers):
        progress(k, len(ledgers), path.name)
        out.append(fn(path))
    progress(len(ledgers), len(ledgers), "")
    return out


def _plain(value: Any) -> Any:
    """A cell of a summary table as JSON holds it: no NaN, no numpy scalars, 15.0 as 15."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _logged(kind: str, paths: list[Path], ledgers: list[Path], detail: str | None = None) -> str | None:
    """As the CLI does after a report, 零报告 or slips: log what left when a history store exists."""
    from xfsheets.history.hooks import log_sent

    return log_sent(kind, paths, ledgers=ledgers, store=None, detail=detail)


# --- the buttons --------------------------------------------------------------------------------

def check(ledgers: list[Path], out: Path, work: Path, options: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """``xfsheets check LEDGER -o 台账_检查标注.xlsx`` for each ledger."""
    from xfsheets.checks import annotate, check as run_check
    from xfsheets.outputs import MACRO_SUFFIXES, output_file
    from xfsheets.reader import read_ledgers

    as_of, policy = options.get("as_of"), _policy(options)
    findings, outputs, sentences = [], [], []

    def one(path: Path) -> None:
        target = output_file(out / f"{path.stem}_检查标注.xlsx", [path], suffixes=MACRO_SUFFIXES)
        ledger = read_ledgers([path])
        report = run_check(ledger, None, as_of=as_of, policy=policy)
        annotate(ledger, report, target)
        outputs.append(_rel(target, work))
        sentences.append(f"{path.name}：{'检查通过' if report.valid else '检查未通过'}，{report.summary_text()}")
        for f in report.findings:
            findings.append({"文件": Path(f.file).name if f.file else "", "工作表": f.sheet or "", "行": f.row,
                             "列": f.column or "", "级别": "错误" if f.severity == "error" else "警告",
                             "问题": f.message})

    _each(ledgers, progress, one)
    findings.sort(key=lambda r: r["级别"] != "错误")  # errors first
    return {"summary": "；".join(sentences), "outputs": outputs,
            "tables": [{"title": f"检查发现的问题（共 {len(findings)} 条，错误在前）",
                        "columns": ["文件", "工作表", "行", "列", "级别", "问题"], "rows": findings[:SHOWN_ROWS]}]}


def deadlines(ledgers: list[Path], out: Path, work: Path, options: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """``xfsheets deadlines LEDGER -o 台账_时限预警.xlsx`` for each ledger."""
    from xfsheets.deadlines import annotate, deadline_report
    from xfsheets.outputs import MACRO_SUFFIXES, output_file
    from xfsheets.reader import read_ledgers

    as_of, policy = options.get("as_of") or dt.date.today(), _policy(options)
    rows, outputs, counts, notes = [], [], {}, []

    def one(path: Path) -> None:
        target = output_file(out / f"{path.stem}_时限预警.xlsx", [path], suffixes=MACRO_SUFFIXES)
        ledger = read_ledgers([path])
        found = deadline_report(ledger, as_of=as_of, policy=policy)
        annotate(ledger, found.result, target)
        outputs.append(_rel(target, work))
        for label, n in found.counts().items():
            counts[label] = counts.get(label, 0) + n
        notes.extend(n for n in found.notes() if n not in notes)
        for c in found.to_dict()["cases"]:
            if c["closed"]:
                continue
            rows.append({"文件": Path(c["file"]).name if c["file"] else "", "行": c["row"],
                         "信访件编号": c["case_id"] or "", "阶段": c["stage_label"] or "",
                         "应办结日期": c["due_on"] or "", "剩余天数": c["days_left"], "预警": c["flag_label"] or "",
                         "时限说明": c["explain"] or ""})

    _each(ledgers, progress, one)
    rows.sort(key=lambda r: (r["剩余天数"] is None, r["剩余天数"] if r["剩余天数"] is not None else 0))  # overdue first
    total = sum(counts.values())
    return {"summary": f"截至 {as_of.isoformat()}，共 {total} 件：" + "，".join(f"{k} {v} 件" for k, v in counts.items()),
            "notes": notes, "outputs": outputs,
            "chart": {"title": "时限预警分布", "bars": [{"label": k, "value": v} for k, v in counts.items()]},
            "tables": [{"title": f"未办结事项（共 {len(rows)} 件，超期在前）",
                        "columns": ["文件", "行", "信访件编号", "阶段", "应办结日期", "剩余天数", "预警", "时限说明"],
                        "rows": rows[:SHOWN_ROWS]}]}


def _slips(ledgers: list[Path], out: Path, work: Path, options: dict[str, Any], progress: Progress,
           overdue_only: bool) -> dict[str, Any]:
    """``xfsheets slips LEDGER -o 文件夹 [--overdue-only]`` for each ledger (one folder each)."""
    from xfsheets.outputs import output_folder
    from xfsheets.reader import read_ledger
    from xfsheets.settings import load_config
    from xfsheets.slips import generate_slips

    as_of, policy = options.get("as_of"), _policy(options)
    settings = load_config(None).slips
    kind = "督办单" if overdue_only else "交办单"
    outputs, skipped, sentences = [], [], []

    def one(path: Path) -> None:
        folder = output_folder(out / f"{path.stem}_{kind}", [path])
        led = read_ledger(path)
        result = generate_slips(led, folder, as_of=as_of, overdue_only=overdue_only,
                                signer=settings.signer or "", contact=settings.contact or "",
                                issuing_unit=settings.issuing_unit or "", policy=policy)
        files = [folder / Path(f).name for f in result.files]
        outputs.extend(_rel(f, work) for f in files)
        if result.skipped_file:
            outputs.append(_rel(folder / Path(result.skipped_file).name, work))
        logged = _logged("slips", files, [path], detail=result.kind)
        sentences.append(f"{path.name}：{result.slips} 份{result.kind}，{len(result.files)} 个工作簿"
                         + (f"，{len(result.skipped)} 件未生成" if result.skipped else "") + (f"（{logged}）" if logged else ""))
        skipped.extend({"文件": path.name, "行": s.row, "信访件编号": s.case_id or "", "原因": s.reason}
                       for s in result.skipped)

    _each(ledgers, progress, one)
    tables = [{"title": f"未生成{kind}的事项（{len(skipped)} 件）", "columns": ["文件", "行", "信访件编号", "原因"],
               "rows": skipped[:SHOWN_ROWS]}] if skipped else []
    return {"summary": "；".join(sentences), "outputs": outputs, "tables": tables}


def assign(ledgers, out, work, options, progress):
    return _slips(ledgers, out, work, options, progress, overdue_only=False)


def supervise(ledgers, out, work, options, progress):
    return _slips(ledgers, out, work, options, progress, overdue_only=True)


def report(ledgers: list[Path], out: Path, work: Path, options: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """``xfsheets report LEDGER... -o 汇总报表.xlsx --from --to --as-of``."""
    from xfsheets.outputs import output_file
    from xfsheets.reader import read_ledgers
    from xfsheets.report import build_report

    as_of = options.get("as_of") or dt.date.today()
    date_from, date_to = period_range(options.get("period") or "自定义", as_of, options.get("from"), options.get("to"))
    policy = _policy(options)
    progress(0, 2, "读取台账")
    target = output_file(out / "汇总报表.xlsx", ledgers)
    ledger = read_ledgers(ledgers)
    progress(1, 2, "写出汇总报表")
    path, summary = build_report(ledger, target, date_from=date_from, date_to=date_to, as_of=as_of, policy=policy)
    progress(2, 2, "")
    logged = _logged("report", [path], ledgers)
    # The 总体情况 table the workbook and the mail body show (summary.headline): counts, then rates.
    rows = []
    for r in summary.headline().to_dict("records"):
        raw = r["数值"]
        rate = _plain(r["分母"]) is not None and isinstance(raw, (int, float)) and raw == raw
        rows.append({"指标": r["指标"], "数值": f"{float(raw) * 100:.1f}%" if rate else _plain(raw),
                     "分子": _plain(r["分子"]), "分母": _plain(r["分母"]), "说明": r["说明"] or ""})
    bars = [{"label": r["指标"], "value": r["数值"]} for r in rows if r["分母"] is None and isinstance(r["数值"], int)]
    return {"summary": summary.paragraph + (f"（{logged}）" if logged else ""), "outputs": [_rel(path, work)],
            "period": {"from": date_from.isoformat() if date_from else None,
                       "to": date_to.isoformat() if date_to else None},
            "chart": {"title": "主要数字", "bars": bars},
            "tables": [{"title": "总体情况", "columns": ["指标", "数值", "分子", "分母", "说明"], "rows": rows}]}


def zero(ledgers: list[Path], out: Path, work: Path, options: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """``xfsheets report LEDGER... --zero -o 文件夹 --from --to --as-of``."""
    from xfsheets.outputs import output_folder
    from xfsheets.reader import read_ledgers
    from xfsheets.zero_report import build_zero_reports

    as_of = options.get("as_of") or dt.date.today()
    date_from, date_to = period_range(options.get("period") or "自定义", as_of, options.get("from"), options.get("to"))
    progress(0, 2, "读取台账")
    folder = output_folder(out / "零报告", ledgers)
    ledger = read_ledgers(ledgers)
    progress(1, 2, "写出零报告")
    reports = build_zero_reports(ledger, folder, as_of=as_of, date_from=date_from, date_to=date_to,
                                 policy=_policy(options))
    progress(2, 2, "")
    paths = [folder / Path(r.path).name for r in reports]
    logged = _logged("zero_report", paths, ledgers)
    outputs = [_rel(p, work) for p in paths]
    if reports.blocked_path:
        outputs.append(_rel(folder / Path(reports.blocked_path).name, work))
    rows = [{"单位": r.unit, "结果": "零报告" if r.is_zero else f"有 {len(r.events)} 件需报告的事项（已生成情况清单）",
             "文件": Path(r.path).name} for r in reports]
    rows += [{"单位": b.unit, "结果": "无法出具零报告：" + "；".join(b.reasons),
              "文件": Path(reports.blocked_path).name if reports.blocked_path else ""} for b in reports.blocked]
    zeros = sum(1 for r in reports if r.is_zero)
    return {"summary": f"零报告 {zeros} 份，情况清单 {len(reports) - zeros} 份，无法出具零报告的单位 {len(reports.blocked)} 个"
                       + (f"（{logged}）" if logged else ""),
            "outputs": outputs, "tables": [{"title": "各单位", "columns": ["单位", "结果", "文件"], "rows": rows}]}


def consolidate(ledgers: list[Path], out: Path, work: Path, options: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """``xfsheets consolidate FILES... -o 汇总台账.xlsx``: progress per file read."""
    from xfsheets.consolidation import consolidate as run, write_consolidated
    from xfsheets.outputs import output_file

    target = output_file(out / "汇总台账.xlsx", ledgers)
    state = {"done": 0, "total": len(ledgers)}
    names = [p.name for p in ledgers]

    def started(n: int) -> None:
        state["total"] = n
        progress(0, n, names[0] if names else "")

    def tick(result) -> None:
        state["done"] += 1
        nxt = names[state["done"]] if state["done"] < len(names) else "写出汇总台账"
        progress(state["done"], state["total"], nxt)

    ledger, rep = run(ledgers, jobs=options.get("jobs"), progress=tick, started=started, exclude=[target])
    if rep.exit_code == 2:
        reasons = "；".join(f.message for f in rep.failed) or "没有找到可读取的台账文件"
        raise XfsheetsError(f"没有可读取的台账，未生成汇总台账：{reasons}")
    path = write_consolidated(ledger, rep, target)
    files = [{"文件": Path(f.file).name, "工作表": f.sheet or "", "行数": f.rows,
              "结果": "读取失败：" + (f.message or "") if f.error else "已读取"} for f in rep.files]
    files.sort(key=lambda r: r["结果"] == "已读取")  # failures first
    groups = rep.duplicates["组号"].nunique() if not rep.duplicates.empty else 0
    return {"summary": f"已合并 {len(rep.files) - len(rep.failed)} 个文件、{rep.rows_out} 行；读取失败 {len(rep.failed)} 个，"
                       f"忽略 {len(rep.ignored)} 个，疑似重复 {groups} 组（见“重复记录”工作表）",
            "outputs": [_rel(path, work)],
            "tables": [{"title": "各文件", "columns": ["文件", "工作表", "行数", "结果"], "rows": files}]}


# --- 发送: one of this run's reports by mail, as ``xfsheets mail`` does ---------------------------

# The jobs whose workbooks 发送 may mail (汇总报表, 零报告), and the job's label.
MAILABLE = ("report", "zero")
MAIL_ACTION, MAIL_LABEL = "mail", "发送"


def _no_server_reason() -> str:
    from xfsheets.settings import CONFIG_NAME, user_config_dir

    return f"本机的 {CONFIG_NAME}（在「{user_config_dir()}」）里没有写邮件服务器（[smtp] 的 host）"


def _no_server() -> str:
    return (f"没有设置邮件服务器，邮件没有发送：{_no_server_reason()}。"
            "请信息科在该文件中写好邮件服务器，或点“写成邮件文件”，下载后用 Outlook/Foxmail 打开再发送")


def mail_setup() -> dict[str, Any]:
    """Where 发送 would send, from the clerk's own xfsheets.toml only (:func:`xfsheets.settings.load_config`,
    never a file of the work folder or an upload): server, sender, default recipients, the destination
    notice the CLI prints, and whether sending is possible (else why)."""
    from xfsheets.settings import load_config, mail_destination_notice, resolve_smtp

    cfg = load_config(None)
    host, port, security = resolve_smtp(cfg)
    user = cfg.smtp.user
    sender = cfg.smtp.sender or (user if user and "@" in user else None)
    why_not = None
    if not host:
        why_not = _no_server()
    elif user and security is None:
        from xfsheets.mail import TLS_HINT

        why_not = f"为保护邮箱密码，不在未加密的连接上登录（用户「{user}」），邮件不能发送。{TLS_HINT}"
    return {"config": str(cfg.path) if cfg.path else None, "host": host, "port": port, "security": security,
            "user": user, "sender": sender, "to": list(cfg.to), "cc": list(cfg.cc),
            "notice": mail_destination_notice(cfg.path, host=host, port=port, to=list(cfg.to), cc=list(cfg.cc)),
            "can_send": why_not is None, "why_not": why_not}


def mail(ledgers: list[Path], out: Path, work: Path, options: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """``xfsheets mail REPORT --to ... [--cc ...] [--subject ...] [--eml 文件]`` with the server, sender and
    login of the clerk's xfsheets.toml only, the attachment always masked. ``options``: ``report`` (the
    checked path of one of this run's reports), ``to``/``cc`` (what the clerk typed), ``subject``,
    ``eml`` (True: write the mail as an .eml file into ``out`` instead of sending)."""
    from xfsheets.mail import build_message, send_message, write_eml
    from xfsheets.outputs import output_file
    from xfsheets.settings import load_config, mail_destination_notice, resolve_smtp, smtp_password

    report_path: Path = options["report"]
    eml = options.get("eml")
    progress(0, 1, report_path.name)
    cfg = load_config(None)
    host, port, security = resolve_smtp(cfg)
    user = cfg.smtp.user
    sender = cfg.smtp.sender or (user if user and "@" in user else None)
    to_list = list(options.get("to") or []) or cfg.to
    cc_list = list(options.get("cc") or []) or cfg.cc
    if not eml and not host:
        raise XfsheetsError(_no_server())
    if not eml and not to_list:
        raise XfsheetsError("请填写收件人（或在 xfsheets.toml 的 [mail] 中写 to），邮件没有发送")
    if not eml and user and security is None:  # a password travels only over TLS: refuse before connecting
        from xfsheets.mail import TLS_HINT

        raise XfsheetsError(f"为保护邮箱密码，不在未加密的连接上登录（用户「{user}」），邮件没有发送。{TLS_HINT}")
    notice = mail_destination_notice(cfg.path, host=host, port=port, to=[] if options.get("to") else to_list,
                                     cc=[] if options.get("cc") else cc_list)
    msg = build_message(report_path, to=to_list, cc=cc_list, subject=options.get("subject") or None, sender=sender,
                        include_personal_data=False)
    ledgers = [*ledgers, report_path]
    recipients = [*to_list, *cc_list]
    masked = "附件中的身份证号、联系电话已脱敏"
    if eml:
        target = output_file(out / f"{report_path.stem}.eml", [report_path], suffixes=(".eml",), what="邮件文件")
        write_eml(msg, target)
        progress(1, 1, "")
        logged = _logged_mail(report_path, ledgers, recipients, f"写成邮件文件 {target.name}，待手工发送")
        why = "" if host else f"（没有直接发送，因为{_no_server_reason()}）"
        return {"summary": f"已把「{report_path.name}」写成邮件文件「{target.name}」（{masked}），"
                           f"请下载后用 Outlook/Foxmail 打开再发送{why}" + (f"（{logged}）" if logged else ""),
                "notes": [notice] if notice else [], "outputs": [_rel(target, work)], "sent": False,
                "recipients": recipients}
    password = smtp_password(user) if user else None
    if user and not password:
        raise XfsheetsError(f"未找到用户「{user}」的邮箱密码，邮件没有发送：请设置环境变量 XFSHEETS_SMTP_PASSWORD，"
                            f"或运行 keyring set xfsheets {user} 存入系统钥匙串")
    send_message(msg, host=host, port=port, security=security, user=user, password=password,
                 timeout=cfg.smtp.timeout, cafile=cfg.smtp.cafile)
    progress(1, 1, "")
    logged = _logged_mail(report_path, ledgers, recipients, f"经 {host} 发送")
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()  # nothing written for a mail that was sent
    return {"summary": f"已经邮件服务器 {host} 把「{report_path.name}」发送给 {'、'.join(recipients)}（{masked}）"
                       + (f"（{logged}）" if logged else ""),
            "notes": [notice] if notice else [], "outputs": [], "sent": True, "recipients": recipients}


def _logged_mail(report_path: Path, ledgers: list[Path], recipients: list[str], detail: str) -> str | None:
    """As ``xfsheets mail`` does: log the mailed report (or the .eml written) in the history store beside
    the ledgers or the report, when one exists."""
    from xfsheets.history.hooks import log_sent

    return log_sent("mail", [report_path], ledgers=ledgers, store=None, recipients=recipients, detail=detail)


RUNNERS: dict[str, Callable[..., dict[str, Any]]] = {
    "check": check, "deadlines": deadlines, "assign": assign, "supervise": supervise,
    "report": report, "zero": zero, "consolidate": consolidate, MAIL_ACTION: mail,
}


# --- what was read, and the history -------------------------------------------------------------

def read_summary(path: Path) -> dict[str, Any]:
    """What the reader made of one uploaded file (``xfsheets inspect``'s document, shortened): sheets,
    matters, rows not read as data and why, sheets skipped and why."""
    from xfsheets.inspection import inspect_ledgers

    doc = inspect_ledgers([path], first_rows=0).to_dict()
    sheets = []
    for f in doc["files"]:
        skipped: dict[str, int] = {}
        for item in f.get("skipped") or []:
            skipped[item["reason"]] = skipped.get(item["reason"], 0) + 1
        sheets.append({"sheet": f["sheet"], "rows": f["rows"], "header_rows": f.get("header_rows"),
                       "kind": (f.get("kind") or {}).get("label"),
                       "unmapped": [u for u in f["unmapped"] if u],
                       "skipped_rows": [{"reason": k, "rows": n} for k, n in skipped.items()]})
    return {"file": path.name, "sheets": sheets,
            "matters": sum(s["rows"] for s in sheets),
            "skipped_sheets": [{"sheet": s["sheet"], "reason": s["reason"]} for s in doc["skipped_sheets"]]}


def history(ledgers: list[Path]) -> dict[str, Any]:
    """本期变化 and 发出记录 from the history store beside the ledgers (the store the CLI's
    ``changes`` and ``history log`` would open), or why there is none yet."""
    from xfsheets.history import audit, queries, store as st
    from xfsheets.history.hooks import existing_store

    target = existing_store(None, ledgers)
    if target is None:
        return {"store": None, "message": "还没有历史库：用“xfsheets history record 台账.xlsx”记录一次后，这里显示本期变化和发出记录。"}
    s = st.open_store(target)
    try:
        try:
            changed = queries.changes(s, None)
            changes = {"sentence": changed.sentence("较上次记录"), "counts": changed.counts,
                       "total": len(changed.events), "events": [e.to_dict() for e in changed.events[:SHOWN_ROWS]]}
        except XfsheetsError as exc:
            changes = {"sentence": str(exc), "counts": {}, "total": 0, "events": []}
        with s.reading() as conn:
            chain = audit.read_log(conn)
    finally:
        s.engine.dispose()
    return {"store": st.shown(target), "changes": changes,
            "log": [{**e.to_dict(), "kind_label": audit.KIND_LABELS.get(e.kind, e.kind)} for e in chain.entries],
            "intact": chain.intact, "broken_at": chain.broken_at}
