"""Assignment slips (交办单) and supervision slips (督办单) from editable templates.

One workbook per responsible unit: a first sheet 清单 (the unit's matters, deadlines and
flags), then one printable sheet per matter, filled from the template's ``{{field}}``
placeholders. Matters that cannot get a slip are listed in 未生成清单.xlsx with the reason.

Slip numbers are derived, not stored: within each year (of the 交办日期, else the 登记日期)
every matter of the ledger is ordered by that date and then by 信访件编号, and numbered
1, 2, 3...; running twice on the same ledger gives the same numbers, and matters added
later with later dates do not renumber earlier ones. A 督办单 carries the number of the
交办单 it follows up.

A clerk issues this week's slips with ``date_from``/``date_to`` (by 交办日期) or one matter's with
``cases``; a 交办单 is dated by its 交办日期 (``{{issued_on}}``; a 督办单 by the day it is issued),
and the 交办单位 comes from ``issuing_unit`` (the command line, else the settings file's [slips]).
Matters left out are data (:class:`Skipped`: code, message, file, sheet, row).
"""
from __future__ import annotations

import copy
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field as dc_field
from importlib import resources
from pathlib import Path, PureWindowsPath
from typing import Any
from urllib.parse import unquote

import pandas as pd
from openpyxl import load_workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink

from xfsheets.errors import ConfigError
from xfsheets.ledger import Ledger
from xfsheets.policy import Policy, resolve as resolve_policy
from xfsheets.schema import FIELD_NAMES
from xfsheets.normalize import cn_date
from xfsheets.outputs import staged_folder, unique_names
from xfsheets.writer import excel_text, page_setup_openpyxl, row_height, save_workbook

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
ASSIGN_FORMAT = "X信交〔{year}〕{seq}号"
SUPERVISE_FORMAT = "X信督〔{year}〕{seq}号"
COMPUTED = {"slip_no", "original_no", "today", "issued_on", "due_on", "flag_label", "days_left", "days_overdue",
            "stage_label", "explain", "reason", "feedback_due", "signer", "contact", "issuing_unit", "limit"}
KNOWN = set(FIELD_NAMES) | COMPUTED
OVERDUE = ("overdue", "severely_overdue")


# Why a matter gets no slip: stable code -> the Chinese words of the reason.
SKIP_REASONS = {"missing_unit": "缺少责任单位", "missing_case_id": "缺少信访件编号", "missing_summary": "缺少反映问题",
                "no_due_date": "无法确定办理时限", "case_not_found": "台账中没有这个信访件编号",
                "case_closed": "已办结，不再生成交办单", "case_not_overdue": "未超期，不生成督办单"}


@dataclass
class Skipped:
    """A matter that got no slip, and why: ``codes`` (stable, SKIP_REASONS) and ``reason`` (Chinese)."""

    case_id: str | None
    unit: str | None
    file: str | None
    row: int | None
    reason: str
    codes: list[str] = dc_field(default_factory=list)
    sheet: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.codes[0] if self.codes else "skipped", "codes": list(self.codes), "message": self.reason,
                "case_id": _text_or_none(self.case_id), "unit": _text_or_none(self.unit), "file": self.file,
                "sheet": self.sheet, "row": self.row}


def _text_or_none(value: Any) -> str | None:
    """An empty ledger cell (pandas' NaN) is null in JSON: NaN is not JSON."""
    return None if value is None or (isinstance(value, float) and value != value) else str(value)


@dataclass
class SlipsResult:
    kind: str  # 交办单 | 督办单
    files: list[Path] = dc_field(default_factory=list)
    slips: int = 0
    skipped: list[Skipped] = dc_field(default_factory=list)
    skipped_file: Path | None = None
    template_removed: list[str] = dc_field(default_factory=list)  # what was taken out of the template

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "files": [str(f) for f in self.files], "slips": self.slips,
                "skipped": [s.to_dict() for s in self.skipped],
                "skipped_file": str(self.skipped_file) if self.skipped_file else None,
                "template_removed": self.template_removed}


def template_path(kind: str, template: str | Path | None = None) -> Path:
    if template:
        path = Path(template)
        if not path.exists():
            raise ConfigError("找不到模板文件", file=path, hint="请检查 --template 的路径")
        return path
    return Path(str(resources.files("xfsheets.xlsx_templates") / f"{kind}.xlsx"))


def slip_numbers(frame: pd.DataFrame, fmt: str = ASSIGN_FORMAT) -> pd.Series:
    """Deterministic per-year sequence numbers (see the module docstring)."""
    basis = frame["assigned_on"].fillna(frame["received_on"])
    order = pd.DataFrame({"basis": basis, "case": frame["case_id"].fillna(""), "row": frame["_row"],
                          "file": frame["_file"]}).sort_values(["basis", "case", "file", "row"], kind="stable")
    year = order["basis"].dt.year
    seq = order.groupby(year).cumcount() + 1
    out = pd.Series(None, index=frame.index, dtype=object)
    ok = order["basis"].notna()
    out[order.index[ok]] = [fmt.format(year=int(y), seq=int(s)) for y, s in zip(year[ok], seq[ok])]
    return out


def generate_slips(ledger: Ledger, out_dir: str | Path, *, as_of: dt.date | None = None, unit: str | None = None,
                   overdue_only: bool = False, template: str | Path | None = None,
                   number_format: str | None = None, deadlines: pd.DataFrame | None = None,
                   signer: str = "", contact: str = "", issuing_unit: str = "", policy: Policy | None = None,
                   date_from: dt.date | None = None, date_to: dt.date | None = None,
                   cases: list[str] | tuple[str, ...] | None = None, **deadline_options: Any) -> SlipsResult:
    """Write one slip workbook per responsible unit into ``out_dir``: a 交办单 for every open
    matter (the policy's one open/closed rule, as in ``deadlines`` and the report), a 督办单
    (``overdue_only``) for every overdue one."""
    as_of = as_of or dt.date.today()
    policy = resolve_policy(policy).with_options(**deadline_options)
    kind = "督办单" if overdue_only else "交办单"
    fmt = number_format or (SUPERVISE_FORMAT if overdue_only else ASSIGN_FORMAT)
    _check_format(fmt)
    tpl = load_template(template_path(kind, template))
    if deadlines is None:
        from xfsheets.deadlines import compute_deadlines

        deadlines = compute_deadlines(ledger, as_of=as_of, policy=policy)
    frame = ledger.frame
    numbers = slip_numbers(frame, ASSIGN_FORMAT if overdue_only else fmt)
    data = frame.join(deadlines[["stage_label", "limit", "due_on", "days_left", "flag", "flag_label", "explain", "closed"]]
                      .rename(columns={"due_on": "legal_due_on"}))
    data["slip_no"] = slip_numbers(frame, fmt) if not overdue_only else numbers.map(
        lambda n: _supervision_no(n, fmt) if isinstance(n, str) else None)  # no date, no number: NaN
    data["original_no"] = numbers
    open_ = ~data["closed"].astype(bool)
    wanted = open_ & data["flag"].isin(OVERDUE) if overdue_only else open_
    scope = pd.Series(True, index=data.index)
    if unit:
        scope &= data["unit"] == unit
    if date_from:
        scope &= data["assigned_on"] >= pd.Timestamp(date_from)
    if date_to:
        scope &= data["assigned_on"] <= pd.Timestamp(date_to)
    named: list[Skipped] = []
    if cases:
        ids = data["case_id"].astype(object).where(data["case_id"].notna(), None).map(
            lambda v: None if v is None else str(v).strip())
        wanted_ids = [str(c).strip() for c in cases]
        scope &= ids.isin(wanted_ids)
        for case in wanted_ids:  # a matter asked for by number and left out is said, with why
            rows = data[ids == case]
            if rows.empty:
                named.append(Skipped(case_id=case, unit=None, file=None, row=None, codes=["case_not_found"],
                                     reason=SKIP_REASONS["case_not_found"]))
                continue
            for i in rows.index[~wanted[rows.index]]:
                code = "case_not_overdue" if overdue_only and open_[i] else "case_closed"
                named.append(Skipped(case_id=case, unit=data.at[i, "unit"], file=data.at[i, "_file"],
                                     sheet=data.at[i, "_sheet"], row=int(data.at[i, "_row"]), codes=[code],
                                     reason=SKIP_REASONS[code] + f"（{data.at[i, 'flag_label']}）"))
    chosen = data[wanted & scope]
    result = SlipsResult(kind=kind, template_removed=tpl.removed)
    ready, skipped = _split_ready(chosen)
    result.skipped = named + skipped
    out_dir = Path(out_dir)
    extra = {"signer": signer, "contact": contact, "issuing_unit": issuing_unit, "today": cn_date(as_of),
             "issued_on": cn_date(as_of), "feedback_due": cn_date(_feedback_due(as_of, policy))}
    groups = list(ready.groupby("unit", sort=True))
    # One naming rule for every folder xfsheets writes: units that clash after cleaning get _2, _3...
    stems = unique_names([f"{kind}_{unit_name}" for unit_name, _ in groups] + [f"{kind}_未生成清单"])
    inputs = sorted({*frame["_file"].dropna().astype(str), *([str(template)] if template else [])})
    with staged_folder(out_dir, inputs) as staging:
        for (unit_name, rows), stem in zip(groups, stems):
            order = rows.assign(_basis=rows["assigned_on"].fillna(rows["received_on"]))  # numbering order
            order = order.sort_values(["_basis", "case_id"], kind="stable").drop(columns="_basis")
            _write_unit(staging / f"{stem}.xlsx", tpl, order, kind, as_of, extra)
            result.files.append(out_dir / f"{stem}.xlsx")
            result.slips += len(rows)
        if result.skipped:
            _write_skipped(staging / f"{stems[-1]}.xlsx", result.skipped)
            result.skipped_file = out_dir / f"{stems[-1]}.xlsx"
    return result


# --- templates: a file passed between offices, used only after it is stripped and bounded ----

# A 交办单 template is a one-page form: the shipped one is 22 KB unpacked. 8 MB is hundreds of
# times that and still far below what a million formatted rows (a "row span" bomb) unpack to.
TEMPLATE_MAX_BYTES = 8 << 20
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_EXTERNAL_FORMULA = re.compile(r"\[\d+\]|\[[^\]]*\.xl\w*\]", re.I)  # [1]Sheet!A1 or 'D:\x\[book.xlsx]Sheet'!A1


@dataclass
class Template:
    """A template as slips use it: the package with links, hidden sheets, macros and data
    connections taken out (``data``), its placeholder cells, and what was removed (Chinese)."""

    path: Path
    data: bytes
    cells: list[tuple[str, str]]
    removed: list[str] = dc_field(default_factory=list)

    def open(self):
        return load_workbook(io.BytesIO(self.data))


def load_template(path: Path) -> Template:
    """The template at ``path``, through the same limits as a ledger (a dimension bomb or a
    million empty rows is refused before it is opened) and stripped of everything that could
    carry data or code into the slips: links to other workbooks, hidden and very hidden
    sheets, macros and data connections."""
    _template_limits(path)
    removed = _template_extras(path)
    try:
        wb = load_workbook(path, keep_vba=False, keep_links=False)
    except Exception as exc:
        raise ConfigError("模板文件无法打开", file=path, hint="模板应为 .xlsx 工作簿") from exc
    for ws in list(wb.worksheets):
        if ws.sheet_state != "visible":
            wb.remove(ws)
    if not wb.worksheets:
        raise ConfigError("模板中没有可见的工作表", file=path, hint="请把交办单所在的工作表取消隐藏后再用")
    formulas = []
    for ws in wb.worksheets:
        for cell in list(ws._cells.values()):  # the cells that exist, never the whole grid
            if cell.data_type == "f" and isinstance(cell.value, str) and _EXTERNAL_FORMULA.search(cell.value):
                formulas.append(f"{ws.title}!{cell.coordinate}")
                cell.value = None
    if formulas:
        removed.append(f"引用其他工作簿的公式 {len(formulas)} 个（{'、'.join(formulas[:5])}），已清空")
    for names in [wb.defined_names, *(ws.defined_names for ws in wb.worksheets)]:
        for key in [k for k, d in names.items() if _EXTERNAL_FORMULA.search(d.attr_text or "")]:
            del names[key]
    wb.active = 0
    buf = io.BytesIO()
    wb.save(buf)
    return Template(path, buf.getvalue(), _template_cells(wb.worksheets[0], path), removed)


def _template_limits(path: Path) -> None:
    from xfsheets.errors import LedgerReadError
    from xfsheets.limits import check_workbook

    try:
        with zipfile.ZipFile(path) as zf:
            size = sum(i.file_size for i in zf.infolist())
    except (OSError, zipfile.BadZipFile) as exc:
        raise ConfigError("模板文件无法打开（不是 .xlsx 工作簿，或已损坏）", file=path,
                          hint="请用 Excel/WPS 打开后另存为 .xlsx 再用") from exc
    if size > TEMPLATE_MAX_BYTES:
        raise ConfigError(f"模板文件解压后有 {size / (1 << 20):.0f} MB，远大于一页交办单（上限 {TEMPLATE_MAX_BYTES >> 20} MB），"
                          "可能含有大量空行或多余内容，未使用", file=path,
                          hint="请在 Excel/WPS 中删除交办单以外的行列（Ctrl+End 可定位到最后一个单元格）后另存，或不加 --template 使用内置模板")
    try:
        plan = check_workbook(path, path)
    except LedgerReadError as exc:
        raise ConfigError(f"模板不能使用：{exc.message}", file=path, sheet=exc.sheet, hint=exc.hint) from exc
    for sheet, cells in plan.skipped.items():
        if cells:
            raise ConfigError(f"模板中远离表格的地方还有 {len(cells)} 个单元格（最远到第 {max(r for r, _ in cells):,} 行），"
                              "整个表格区域过大，未使用", file=path, sheet=sheet,
                              hint="请在 Excel/WPS 中删除交办单以外的内容（Ctrl+End 可定位到最后一个单元格）后另存")


def _template_extras(path: Path) -> list[str]:
    """What the template carries besides the form, in the words the clerk is shown."""
    from lxml import etree

    out = []
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())

        def tree(name: str):
            try:
                return etree.fromstring(zf.read(name), etree.XMLParser(resolve_entities=False, no_network=True))
            except (KeyError, etree.XMLSyntaxError):
                return None

        rels = tree("xl/_rels/workbook.xml.rels")
        kinds: dict[str, list[str]] = {}
        for rel in ([] if rels is None else rels):
            kinds.setdefault(str(rel.get("Type", "")).rsplit("/", 1)[-1], []).append(str(rel.get("Target", "")))
        links = []
        for target in kinds.get("externalLink", []):
            part = "xl/" + target.lstrip("/").removeprefix("xl/")
            link_rels = tree(part.rsplit("/", 1)[0] + "/_rels/" + part.rsplit("/", 1)[1] + ".rels")
            links += [unquote(str(r.get("Target", ""))).removeprefix("file:///") for r in ([] if link_rels is None else link_rels)]
        if kinds.get("externalLink"):
            out.append(f"指向其他工作簿的外部链接 {len(kinds['externalLink'])} 个"
                       + (f"（{'、'.join(links[:3])}）" if links else ""))
        if kinds.get("vbaProject") or any(n.lower().endswith("vbaproject.bin") for n in names):
            out.append("宏（VBA 代码）")
        if kinds.get("xlMacrosheet") or kinds.get("xlIntlMacrosheet"):
            out.append("Excel 4.0 宏表")
        connections = tree("xl/connections.xml")
        if connections is not None or any(n.startswith("xl/queryTables/") for n in names):
            n = len(connections) if connections is not None else 0
            out.append(f"数据连接 {n} 个" if n else "数据连接")
        book = tree("xl/workbook.xml")
        for sheet in ([] if book is None else book.iter("{*}sheet")):
            state = sheet.get("state", "visible")
            if state in ("hidden", "veryHidden"):
                out.append(f"{'深度隐藏' if state == 'veryHidden' else '隐藏'}的工作表「{sheet.get('name')}」")
    return out


def _template_cells(ws, path: Path) -> list[tuple[str, str]]:
    """(cell, text) of every cell holding a placeholder; unknown placeholders are an error."""
    cells, unknown = [], set()
    for cell in sorted(ws._cells.values(), key=lambda c: (c.row, c.column)):  # existing cells only
        if isinstance(cell.value, str) and "{{" in cell.value:
            cells.append((cell.coordinate, cell.value))
            unknown |= {m for m in PLACEHOLDER.findall(cell.value) if m not in KNOWN}
    if unknown:
        raise ConfigError(f"模板中有不认识的占位符：{'、'.join('{{' + u + '}}' for u in sorted(unknown))}",
                          file=path, sheet=ws.title,
                          hint=f"可用的占位符：{'、'.join(sorted(KNOWN))}")
    return cells


def _check_format(fmt: str) -> None:
    try:
        fmt.format(year=2026, seq=1)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"编号格式「{fmt}」无效：只能使用 {{year}} 和 {{seq}}",
                          hint="例如 --number-format \"X信交〔{year}〕{seq}号\"") from exc


def _supervision_no(assign_no: str, fmt: str) -> str:
    m = re.search(r"〔(\d{4})〕(\d+)", assign_no)
    return fmt.format(year=m.group(1), seq=m.group(2)) if m else assign_no


def _split_ready(chosen: pd.DataFrame) -> tuple[pd.DataFrame, list[Skipped]]:
    reasons = pd.Series("", index=chosen.index, dtype=object)
    codes = pd.Series("", index=chosen.index, dtype=object)
    no_due = chosen["due_on"].isna() & chosen["legal_due_on"].isna()
    for code, mask in (("missing_unit", chosen["unit"].isna()), ("missing_case_id", chosen["case_id"].isna()),
                       ("missing_summary", chosen["summary"].isna()), ("no_due_date", no_due)):
        reasons[mask] += SKIP_REASONS[code] + ("（" + chosen.loc[mask, "explain"].fillna("") + "）" if code == "no_due_date"
                                               else "") + "；"
        codes[mask] += code + " "
    bad = reasons != ""
    rows = chosen[bad]
    skipped = [Skipped(case_id=c, unit=u, file=f, sheet=sh, row=int(r), reason=why.rstrip("；"), codes=cs.split())
               for c, u, f, sh, r, why, cs in zip(rows["case_id"], rows["unit"], rows["_file"], rows["_sheet"],
                                                   rows["_row"], reasons[bad], codes[bad])]
    return chosen[~bad], skipped


def _values(row: pd.Series, kind: str, as_of: dt.date, extra: dict[str, str]) -> dict[str, str]:
    due = row["due_on"] if pd.notna(row["due_on"]) else row["legal_due_on"]
    values: dict[str, str] = {}
    for f in FIELD_NAMES:
        v = row.get(f)
        if v is None or v is pd.NaT or (isinstance(v, float) and v != v) or v is pd.NA:
            values[f] = ""
        elif isinstance(v, pd.Timestamp):
            values[f] = cn_date(v)
        else:
            values[f] = str(v)
    days_left = row["days_left"]
    values.update(extra)
    values.update({
        "slip_no": row["slip_no"] or "", "original_no": row["original_no"] or "",
        "due_on": cn_date(due), "flag_label": row["flag_label"] or "", "stage_label": row["stage_label"] or "",
        "limit": row["limit"] or "", "explain": row["explain"] or "",
        "days_left": "" if pd.isna(days_left) else str(int(days_left)),
        "days_overdue": "" if pd.isna(days_left) else f"{max(0, -int(days_left))}天",
        # 督办事由: the degree (超期 / 严重超期) then the 时限说明's two sentences, as a clerk reads them
        "reason": f"{row['flag_label']}未办结" if row["flag"] in OVERDUE else "未报送办理结果",
    })
    if not values.get("assigning_unit"):  # 交办单位: the ledger's, else the unit issuing the slips
        values["assigning_unit"] = extra.get("issuing_unit", "")
    if kind == "交办单" and pd.notna(row["assigned_on"]):  # a 交办单 is dated by its 交办日期
        values["issued_on"] = cn_date(row["assigned_on"])
    return {k: excel_text(v, f"信访件「{values.get('case_id', '')}」") for k, v in values.items()}


def _feedback_due(as_of: dt.date, policy: Policy) -> dt.date:
    from xfsheets.deadlines import workday_due

    return workday_due(as_of, policy.thresholds.feedback_workdays, policy.calendar())


def _fill(text: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), text)


def _sheet_title(case_id: str, used: set[str]) -> str:
    base = re.sub(r"[\\/*?:\[\]\x00-\x1f']", "_", case_id)[:28].strip() or "事项"
    title, n = base, 2
    while title in used:
        title, n = f"{base[:26]}_{n}", n + 1
    used.add(title)
    return title


def _write_unit(path: Path, tpl: Template, rows: pd.DataFrame, kind: str,
                as_of: dt.date, extra: dict[str, str]) -> None:
    wb = tpl.open()
    template = wb.worksheets[0]
    cells = tpl.cells
    listing = wb.create_sheet("清单", 0)
    header = ["序号", "编号", "信访件编号", "信访人", "登记日期", "办理时限", "剩余天数", "预警", "当前阶段", "工作表"]
    listing.append([f"{kind}清单（{rows['unit'].iloc[0] if len(rows) else ''}，共 {len(rows)} 件）"])
    listing.append(header)
    used: set[str] = {"清单"}
    # every filled cell may outgrow its row (a long 时限说明 in 督办事由 as much as 反映问题)
    wrap_cells = [c for c, text in cells if "summary" in text or "explain" in text or len(text) > 40]
    for k, (_, row) in enumerate(rows.iterrows(), 1):
        values = _values(row, kind, as_of, extra)
        ws = wb.copy_worksheet(template)
        ws.title = _sheet_title(str(row["case_id"]), used)
        _copy_print_setup(template, ws)
        for coord, text in cells:
            ws[coord].value = _fill(text, values)
        for coord in wrap_cells:
            _fit_height(ws, coord)
        listing.append([k, values["slip_no"], values["case_id"], values["petitioner"], values["received_on"],
                        values["due_on"], None if pd.isna(row["days_left"]) else int(row["days_left"]),
                        values["flag_label"], values["stage_label"], ws.title])
        link = listing.cell(k + 2, len(header))
        link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{ws.title}'!A1")
        link.style = "Hyperlink"
    wb.remove(template)
    _style_listing(listing, kind, rows)
    wb.active = 0
    save_workbook(wb, path)


def _copy_print_setup(src, dst) -> None:
    """copy_worksheet copies cells, styles, merges and dimensions, not the print settings."""
    dst.page_setup = copy.copy(src.page_setup)
    dst.page_margins = copy.copy(src.page_margins)
    dst.print_options = copy.copy(src.print_options)
    dst.sheet_properties.pageSetUpPr = copy.copy(src.sheet_properties.pageSetUpPr)
    dst.HeaderFooter = copy.copy(src.HeaderFooter)
    dst.sheet_view.showGridLines = src.sheet_view.showGridLines
    if src.print_area:
        dst.print_area = src.print_area


def _fit_height(ws, coord: str) -> None:
    """Row height that shows all of a long wrapped text (CJK characters count two units)."""
    cell = ws[coord]
    width = 0.0
    for rng in ws.merged_cells.ranges:
        if cell.coordinate in rng:
            width = sum((ws.column_dimensions[get_column_letter(c)].width or 9) for c in range(rng.min_col, rng.max_col + 1))
            break
    width = width or (ws.column_dimensions[cell.column_letter].width or 9)
    size = (cell.font.sz or 11) if cell.font else 11
    needed = row_height(cell.value, width, size) + 4
    current = ws.row_dimensions[cell.row].height or 15
    if needed > current:
        ws.row_dimensions[cell.row].height = min(needed, 409)
    cell.alignment = Alignment(wrap_text=True, vertical="top", horizontal=cell.alignment.horizontal)


def _style_listing(ws, kind: str, rows: pd.DataFrame) -> None:
    from openpyxl.styles import Font, PatternFill

    ws["A1"].font = Font(name="宋体", size=14, bold=True)
    for cell in ws[2]:
        cell.font = Font(name="宋体", bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for col, width in zip("ABCDEFGHIJ", (6, 20, 16, 10, 16, 16, 9, 9, 12, 14)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A3"
    page_setup_openpyxl(ws, "table", header_row=2)


def _write_skipped(path: Path, skipped: list[Skipped]) -> Path:
    from xfsheets.writer import Table, write_tables

    # 来源文件 as the file's name: the clerk's folders are not for whoever reads the list
    frame = pd.DataFrame([{"信访件编号": s.case_id, "责任单位": s.unit,
                           "来源文件": PureWindowsPath(s.file).name if s.file else None, "来源工作表": s.sheet,
                           "来源行号": s.row, "未生成原因": s.reason} for s in skipped])
    return write_tables(path, [Table("未生成", frame, widths={"未生成原因": 70})])
