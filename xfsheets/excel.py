"""The Excel buttons' Python side (called by macros/xfsheets.bas through xlwings' RunPython).

Each entry is ``book = xw.Book.caller()`` -> read the ledger sheet's used range -> the
same core function the CLI calls -> write back only what the button owns (the deadline columns;
files in a folder beside the ledger: 检查台账's marks go into a copy there, never into the open
ledger). Errors show as a Chinese message box, never a traceback window.

The buttons follow the office's own ledger profile and policy as set on this PC: ``xfsheets excel
addin install --profile P --policy R`` records them in this PC's settings file (rows
``XFSHEETS_PROFILE`` and ``XFSHEETS_POLICY`` of ``%USERPROFILE%\\.xlwings\\xlwings.conf``). Nothing
in the workbook (an ``xlwings.conf`` sheet, a file in its folder) is a setting: a ledger sent by a
unit must not change the county's deadlines or what runs. Without them, the built-in ones apply.

Debug from plain Python::

    import xlwings as xw, xfsheets.excel as x
    xw.Book("台账.xlsm").set_mock_caller()
    x.check_ledger()
"""
from __future__ import annotations

import datetime as dt
import functools
import os
import re
import shutil
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

from xfsheets.errors import XfsheetsError

RESULTS_SHEET = "检查结果"
OWN_SHEETS = {RESULTS_SHEET, "xfsheets", "xlwings.conf", "_xlwings.conf", "下拉列表"}
OUTPUT_FOLDER = "xfsheets输出"
TITLE = "xfsheets"
PROFILE_KEY = "XFSHEETS_PROFILE"
POLICY_KEY = "XFSHEETS_POLICY"


def _xw():
    import xlwings as xw

    return xw


def button(func: Callable[[Any], str | None]) -> Callable[[], None]:
    """Wrap an entry: get the calling book, run, show the result or the error in a message box."""

    @functools.wraps(func)
    def entry() -> None:
        book = _xw().Book.caller()
        forget_book_folder(book)
        _status(book, "xfsheets 正在处理，请稍候……")  # Excel's status bar while the press runs
        try:
            message = func(book)
        except XfsheetsError as exc:
            _alert(book, f"{exc}", mode="critical")
            return
        except Exception as exc:  # a bug must still reach the clerk as words, not a traceback window
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            _alert(book, f"处理时发生意外错误，台账数据未被修改。\n请把以下信息发给技术人员：\n{detail}", mode="critical")
            print(traceback.format_exc(), file=sys.stderr)
            return
        finally:
            _status(book, False)
        if message:
            _alert(book, message, mode="info")

    return entry


def _status(book, text: str | bool) -> None:
    """Excel's status bar (False gives it back to Excel); engines without one are skipped."""
    try:
        book.app.status_bar = text
    except Exception:  # the remote engine has no status bar
        pass


def _alert(book, text: str, mode: str = "info") -> None:
    try:
        book.app.alert(text, title=TITLE, mode=mode)
    except Exception:  # no UI (tests, mock caller): still say it
        print(text, file=sys.stderr)


# --- reading the caller's ledger ------------------------------------------------------

def sheet_rows(sheet) -> list[list[Any]]:
    """The sheet's used range as rows aligned to A1 (row 0 = Excel row 1)."""
    rng = sheet.used_range
    values = rng.options(ndim=2).value or [[]]
    r0, c0 = rng.row, rng.column
    pad = [None] * (c0 - 1)
    return [[] for _ in range(r0 - 1)] + [pad + list(row) for row in values]


def forget_book_folder(book) -> list[str]:
    """Take the workbook's folder (and xlwings' ``<book>.zip`` beside it) off ``sys.path``: xlwings'
    stock VBA puts them first, so a module planted beside a unit's ledger would shadow ours. Our
    add-in's VBA never adds them; this holds for any other caller too. Returns what was removed."""
    try:
        fullname = os.path.abspath(book.fullname)
    except Exception:  # an engine that cannot tell where the book is: xlwings put nothing of it on sys.path
        return []
    folder = os.path.normcase(os.path.dirname(fullname))
    zipped = os.path.normcase(os.path.splitext(fullname)[0] + ".zip")
    removed = [p for p in sys.path if os.path.normcase(os.path.abspath(p or os.curdir)) in (folder, zipped)]
    sys.path[:] = [p for p in sys.path if p not in removed]
    return removed


def book_settings(book) -> dict[str, str]:
    """The settings the buttons use: this PC's (``excel addin install --profile/--policy``), never
    anything in ``book`` (its sheets) or its folder."""
    from xfsheets.addin import pc_settings

    return pc_settings()


def book_profile(book):
    """The ledger profile recorded for this book (None: the built-in one)."""
    from xfsheets.schema import load_profile

    value = book_settings(book).get(PROFILE_KEY)
    return load_profile(Path(value)) if value else None


def book_policy(book):
    """The policy recorded for this book (the built-in one when none is)."""
    from xfsheets.policy import load_policy

    value = book_settings(book).get(POLICY_KEY)
    return load_policy(Path(value) if value else None)


def read_caller_ledger(book, profile=None):
    """(sheet, rows, Ledger) of the sheet that holds the ledger (read with the book's profile)."""
    from xfsheets.reader import find_header, ledger_from_rows
    from xfsheets.schema import DEFAULT_PROFILE

    profile = profile or book_profile(book) or DEFAULT_PROFILE
    best = None
    try:  # the sheet the clerk is looking at first: a monthly sheet is not the leftmost one
        active = book.sheets.active.name
    except Exception:  # an engine that cannot tell
        active = None
    sheets = sorted(book.sheets, key=lambda s: s.name != active)
    for sheet in sheets:
        if sheet.name in OWN_SHEETS:
            continue
        if profile.sheet and sheet.name != profile.sheet:
            continue
        rows = sheet_rows(sheet)
        header = find_header(rows, profile.lookup(), None, profile.header_rows)
        if header and sheet.name == active:
            best = (sheet, rows, header)
            break
        if header and (best is None or header.score > best[2].score):
            best = (sheet, rows, header)
    if best is None:
        raise XfsheetsError("在本工作簿中找不到台账表头", file=book.name,
                            hint="表头应含有 信访件编号、登记日期、信访人、反映问题、责任单位 等列名")
    sheet, rows, header = best
    ledger = ledger_from_rows(rows, file=book.fullname, sheet=sheet.name, profile=profile, header=header)
    return sheet, rows, ledger


def output_folder(book, kind: str) -> Path:
    base = Path(book.fullname).parent if os.path.isabs(book.fullname) else Path.cwd()
    folder = base / OUTPUT_FOLDER / f"{kind}_{dt.date.today().isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _open(path: Path) -> None:
    if sys.platform == "win32":  # pragma: no cover - needs Windows
        os.startfile(path)  # noqa: S606


# --- 检查台账 --------------------------------------------------------------------------

MARKED_SUFFIX = "_检查标注"


def book_snapshot(book, folder: Path) -> Path:
    """The workbook as the clerk sees it, as a file in ``folder``: Excel saves a copy of the open book
    (``SaveCopyAs``: unsaved edits included; the open book, its file and its "saved" state untouched);
    an engine that cannot (xlwings' remote engine) gives the saved file, copied."""
    name = Path(book.fullname).name
    target = folder / name
    try:
        book.api.SaveCopyAs(str(target))
        if target.is_file():
            return target
    except Exception:  # no COM (remote engine, mock caller): the file as saved
        pass
    source = Path(book.fullname)
    if not source.is_file():
        raise XfsheetsError("当前工作簿还没有保存成文件，无法检查", file=name,
                            hint="请先按 Ctrl+S 把台账保存到一个文件夹，再点 检查台账")
    shutil.copyfile(source, target)
    return target


@button
def check_ledger(book) -> str:
    """Check the sheet on screen and write the marks into a copy (:func:`xfsheets.checks.annotate`,
    what ``check -o`` writes): bad cells red/yellow with a note, every finding on 检查结果 with links.
    The copy is opened for the clerk; the open ledger is never touched, so the clerk's own fills and
    notes stay exactly as they were (nothing to clear, nothing to restore)."""
    import tempfile

    from xfsheets.checks import annotate, check
    from xfsheets.reader import read_ledgers

    profile = book_profile(book)
    sheet, _, _ = read_caller_ledger(book, profile)  # which sheet (the one on screen), and a header there
    folder = output_folder(book, "检查标注")
    stem, suffix = Path(Path(book.fullname).name).stem, Path(book.fullname).suffix.lower()
    out = folder / f"{stem}{MARKED_SUFFIX}{'.xlsm' if suffix == '.xlsm' else '.xlsx'}"
    with tempfile.TemporaryDirectory() as tmp:
        snapshot = book_snapshot(book, Path(tmp))
        ledger = read_ledgers([snapshot], sheet=sheet.name, profile=profile)
        report = check(ledger, profile, policy=book_policy(book))
        annotate(ledger, report, out)
    _open(out)
    errors = sum(f.severity == "error" for f in report.findings)
    warnings = len(report.findings) - errors
    bad_rows = len({f.row for f in report.findings})
    where = f"\n标注副本：{out}\n您打开的台账没有任何改动。"
    return (f"检查完成：{errors} 个错误、{warnings} 个警告，涉及 {bad_rows} 行（共 {len(ledger)} 行）。"
            f"问题单元格已在副本中标红/标黄并附批注，明细见副本的“{RESULTS_SHEET}”工作表。{where}" if report.findings
            else f"检查完成：{len(ledger)} 行全部通过，没有发现问题。{where}")


NOTE_SEPARATOR = "\n——\n"  # between a clerk's own note and ours (as in the annotated copy)


def _note_text(note) -> str | None:
    try:
        return note.text
    except NotImplementedError:  # xlwings' remote engine cannot read a note's text
        return None


def _runs(rows: list[int], colours: dict[int, str]) -> list[tuple[int, int, str | None]]:
    """Consecutive rows of one colour as (first, last, colour): Excel gets one write per run."""
    out: list[tuple[int, int, str | None]] = []
    for r in rows:
        colour = colours.get(r)
        if out and out[-1][1] == r - 1 and out[-1][2] == colour:
            out[-1] = (out[-1][0], r, colour)
        else:
            out.append((r, r, colour))
    return out


def apply_plan(book, sheet, rows: list[list[Any]], plan) -> dict[str, int]:
    """Apply a :class:`xfsheets.marks.MarkPlan` to the live book: fills, notes (a clerk's own note
    keeps its text, ours follows it), the added columns (placed by :func:`xfsheets.marks.place_columns`
    on the sheet's header rows, as in the annotated copy) and the results sheet. Returns where
    the added columns went (label -> 1-based column)."""
    from xfsheets.marks import place_columns

    placed: dict[str, int] = {}
    for marks in plan.sheets:
        if marks.sheet != sheet.name:
            continue
        for (r, c), colour in marks.fills.items():
            sheet.range((r, c)).color = f"#{colour}"
        for (r, c), text in marks.notes.items():
            cell = sheet.range((r, c))
            if cell.note is None:
                cell.add_note(text)
                continue
            theirs = _note_text(cell.note)
            if theirs is not None:
                cell.note.text = f"{theirs.split(NOTE_SEPARATOR)[0]}{NOTE_SEPARATOR}{text}"
            # else: a note we cannot read is the clerk's and stays; ours is on the results sheet
        if marks.columns:
            header = [rows[r - 1] if r - 1 < len(rows) else [] for r in marks.header_rows]
            placed = place_columns(header, [c.label for c in marks.columns], (), marks.header_rows)
            data_rows = sorted({r for c in marks.columns for r in c.values})
            for column in marks.columns:
                col = placed[column.label]
                sheet.range((marks.header_row, col)).value = column.label
                if not data_rows:
                    continue
                first, last = data_rows[0], data_rows[-1]
                block: list[Any] = [None] * (last - first + 1)  # rows that are not data (合计, blank) stay empty
                for r, v in column.values.items():
                    block[r - first] = v.isoformat() if isinstance(v, dt.date) else v
                sheet.range((first, col)).options(transpose=True).value = block
                if column.fills:  # a coloured column: every data cell gets its colour (or loses an old one)
                    for start, end, colour in _runs(data_rows, column.fills):  # one write per run, not per cell
                        sheet.range((start, col), (end, col)).color = f"#{colour}" if colour else None
    table = plan.results
    if table is not None:
        results = book.sheets.add(table.name, after=book.sheets[len(book.sheets) - 1])
        results["A1"].value = [table.header] + [["" if v is None else v for v in row] for row in table.rows]
        for k, target in enumerate(table.links, 2):
            if target:
                target_sheet, ref = target
                results[f"A{k}"].add_hyperlink(f"#'{target_sheet}'!{ref}", ref)
    return placed


# --- 计算时限 --------------------------------------------------------------------------

@button
def compute_deadlines(book) -> str:
    """Add (or refresh) the deadline columns (deadlines.DEADLINE_COLUMNS: 当前阶段, 法定期限, 应办结日期,
    剩余天数, 预警, 时限说明) at the right of the ledger: the same columns as ``deadlines -o``
    (:func:`xfsheets.deadlines.mark_plan`), applied to the open book."""
    from xfsheets.deadlines import compute_deadlines as compute, deadline_notes, mark_plan

    sheet, rows, ledger = read_caller_ledger(book)
    policy = book_policy(book)
    result = compute(ledger, as_of=dt.date.today(), policy=policy)
    apply_plan(book, sheet, rows, mark_plan(ledger, result))
    counts = result["flag_label"].value_counts()
    # a missing year's remedy: said once here, not in every 时限说明
    return "时限计算完成：" + "，".join(f"{k} {v} 件" for k, v in counts.items()) + "。" + "".join(
        f"\n注意：{note}" for note in deadline_notes(result, policy))


# --- 生成交办单 / 生成汇总表 / 发送报表 ---------------------------------------------------

def issue_slips(book, *, overdue_only: bool = False) -> str:
    """交办单 (or, with ``overdue_only``, 督办单) per unit from the caller's ledger, signed as the
    office's settings file says: what the 生成交办单 and 生成督办单 buttons both do."""
    from xfsheets.settings import load_config
    from xfsheets.slips import generate_slips

    kind = "督办单" if overdue_only else "交办单"
    _, _, ledger = read_caller_ledger(book)
    folder = output_folder(book, kind)
    who = load_config(None).slips
    result = generate_slips(ledger, folder, as_of=dt.date.today(), overdue_only=overdue_only,
                            policy=book_policy(book), issuing_unit=who.issuing_unit or "", signer=who.signer or "",
                            contact=who.contact or "")
    _open(folder)
    if overdue_only and not result.slips:
        return "没有超期未办结的事项，未生成督办单。"
    text = f"已生成 {result.slips} 份{kind}（{len(result.files)} 个单位），保存在：\n{folder}"
    if result.skipped:
        text += f"\n{len(result.skipped)} 件因缺少必要信息未生成，见“{result.skipped_file.name}”。"
    return text


@button
def make_slips(book) -> str:
    return issue_slips(book)


def _ask(book, prompt: str, default: str) -> str | None:
    """What the clerk types into Excel's input box (None: 取消). An engine without one (xlwings'
    remote engine) gets ``default``: the message then says which period was used."""
    try:
        answer = book.app.api.InputBox(prompt, TITLE, default)
    except Exception:
        return default
    return None if answer is False or answer is None else str(answer)


def ask_period(book, today: dt.date) -> tuple[str, dt.date, dt.date] | None:
    """(preset, first, last) as the clerk chose in input boxes: 本周/上周/本月/本季度/自定义 (then
    the two dates); None when the clerk pressed 取消."""
    from xfsheets.periods import CUSTOM_PROMPT, DEFAULT, PROMPT, parse_range, period, preset_name

    answer = _ask(book, PROMPT, DEFAULT)
    if answer is None:
        return None
    name = preset_name(answer)
    custom = None
    if name == "自定义":
        custom = answer if len(re.findall(r"\d{4}", answer)) == 2 else _ask(book, CUSTOM_PROMPT, "")
        if custom is None:
            return None
        parse_range(custom)
    first, last = period(name, today, custom)
    return name, first, last


@button
def make_report(book) -> str | None:
    """汇总报表 for the period the clerk picks (本周/上周/本月/本季度/自定义)."""
    from xfsheets.periods import period_text
    from xfsheets.report import build_report

    today = dt.date.today()
    chosen = ask_period(book, today)
    if chosen is None:
        return None  # 取消: nothing made, nothing said
    name, first, last = chosen
    _, _, ledger = read_caller_ledger(book)
    folder = output_folder(book, "汇总表")
    path, summary = build_report(ledger, folder / f"信访工作统计_{first.isoformat()}_{last.isoformat()}.xlsx",
                                 date_from=first, date_to=last, as_of=today, policy=book_policy(book))
    _open(path)
    return (f"汇总表已生成（统计期间：{name}，{period_text(first, last)}；身份证号、电话已脱敏）：\n{path}"
            f"\n\n{summary.paragraph}")


@button
def send_report(book) -> str:
    from xfsheets.settings import load_config, mail_destination_notice, smtp_password
    from xfsheets.mail import build_message, send_message, write_eml
    from xfsheets.report import build_report

    _, _, ledger = read_caller_ledger(book)
    folder = output_folder(book, "汇总表")
    path, _ = build_report(ledger, folder / f"信访工作统计_{dt.date.today().isoformat()}.xlsx", as_of=dt.date.today(),
                           policy=book_policy(book))
    cfg = load_config(None)
    msg = build_message(path, to=cfg.to, cc=cfg.cc, sender=cfg.smtp.sender)
    if cfg.smtp.host and cfg.to:
        notice = mail_destination_notice(cfg.path, host=cfg.smtp.host, port=cfg.smtp.port, to=cfg.to, cc=cfg.cc)
        if notice:  # shown (a modal box in Excel) before the password is used
            _alert(book, notice, mode="info")
        send_message(msg, host=cfg.smtp.host, port=cfg.smtp.port, security=cfg.smtp.security, user=cfg.smtp.user,
                     password=smtp_password(cfg.smtp.user) if cfg.smtp.user else None, timeout=cfg.smtp.timeout,
                     cafile=cfg.smtp.cafile)
        return f"报表已发送给 {'、'.join(cfg.to)}（个人信息已脱敏）。"
    eml = write_eml(msg, path.with_suffix(".eml"))
    _open(eml)
    return f"未配置邮件服务器，已生成邮件草稿（个人信息已脱敏）：\n{eml}\n请用 Outlook/Foxmail 打开后发送。"


# The 信访台账 add-in's other buttons (xfsheets/ribbon.py), so that every button of the tab is
# ``import xfsheets.excel as x; x.<entry>()``.
from xfsheets.ribbon import make_supervision_slips, merge_ledgers, show_help, show_settings, zero_report  # noqa: E402,F401
