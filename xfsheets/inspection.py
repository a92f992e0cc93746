"""What xfsheets understood of a ledger: sheet, header, column mapping, rows."""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from pathlib import Path
from typing import Any, Iterable

from rich.markup import escape

from xfsheets.errors import XfsheetsError
from xfsheets.ledger import Ledger, Source, ledger_kind
from xfsheets.normalize import display_value
from xfsheets.schema import LABELS, ROW_NUMBER_LABELS, Profile, normalize_label, profile_line, suggest_field


def suggestions(source: Source) -> list[dict[str, str]]:
    """For each header no table maps: the field it most resembles and the profile line that maps it."""
    out = []
    taken = set(source.fields)  # a field another column holds would make the two collide
    row_numbers = {normalize_label(x) for x in ROW_NUMBER_LABELS}  # 序号 is a row count: nothing to map
    for c in source.unmapped:
        label = c.label.split("/")[-1]
        guess = suggest_field(label) if label and normalize_label(label) not in row_numbers else None
        if guess and guess[0] not in taken:
            field, like = guess
            out.append({"column": c.letter, "label": c.label, "field": field, "field_label": LABELS[field],
                        "like": like, "profile_line": profile_line(label, field)})
    return out


@dataclass
class Inspection:
    files: list[tuple[Ledger, int]] = dc_field(default_factory=list)  # (ledger, first rows shown)
    failed: list[dict[str, Any]] = dc_field(default_factory=list)  # errors as data: code, message, file, sheet, row

    def to_dict(self) -> dict[str, Any]:
        """One entry per ledger sheet read (a workbook with monthly sheets gives several)."""
        files = []
        skipped_sheets = []
        for ledger, n in self.files:
            skipped_sheets += [s.to_dict() for s in ledger.skipped_sheets]
            for k, source in enumerate(ledger.sources):
                doc = source.to_dict()
                doc["kind"] = ledger_kind(source).to_dict()
                doc["suggestions"] = suggestions(source)
                for col in doc["columns"]:
                    col["field_label"] = LABELS.get(col["field"]) if col["field"] else None
                mine = ledger.frame.index[ledger.frame["_source"].to_numpy() == k][:n]
                doc["first_rows"] = [
                    {"row": int(ledger.frame.at[i, "_row"]),
                     "values": {c.label: display_value(ledger.raw.at[i, c.name]) for c in source.columns}}
                    for i in mine
                ]
                files.append(doc)
        return {"files": files, "skipped_sheets": skipped_sheets,
                "errors": [dict(e) for e in self.failed]}

    def print(self, console) -> None:
        from rich.table import Table

        for ledger, n in self.files:
            for k, s in enumerate(ledger.sources):
                self._print_source(console, ledger, k, s, n, Table)
            for sk in ledger.skipped_sheets:
                console.print(f"  [yellow]未读取的工作表[/yellow]「{escape(sk.sheet)}」：{escape(sk.reason)}")
        for error in self.failed:
            console.print(f"[red]无法读取[/red] {escape(error['message'])}")

    @staticmethod
    def _print_source(console, ledger: Ledger, k: int, s, n: int, Table) -> None:
        header = "、".join(str(r) for r in s.header_rows)
        console.print(f"[bold]{escape(s.file)}[/bold]  工作表「{escape(s.sheet)}」  表头在第 {header} 行  数据 {s.rows} 行")
        if s.meta:
            console.print("  表头上方：" + "；".join(f"{k}：{v}" for k, v in s.meta.items()))
        kind = ledger_kind(s)
        if kind.key != "handling":
            console.print(f"  台账类型：{kind.label}（{escape(kind.reason)}）：只统计化解情况、包案领导、集体访，"
                          "不计算办理时限、不判断超期、不算及时受理率")
        table = Table(title=None, show_lines=False)
        for col in ("列", "表头文字", "识别为", "字段"):
            table.add_column(col)
        for c in s.columns:
            table.add_row(c.letter, c.label or "（空）", LABELS.get(c.field, "—") if c.field else "[yellow]未识别（保留原样）[/yellow]",
                          c.field or "")
        console.print(table)
        for hint in suggestions(s):
            console.print(f"  {hint['column']} 列「{escape(hint['label'])}」未识别，可能是“{hint['field_label']}”"
                          f"（与“{escape(hint['like'])}”相近）；如果是，在配置文件（--profile）中加这一行："
                          f"{escape(hint['profile_line'])}", soft_wrap=True)
        if s.filled:
            console.print(f"  合并单元格（其值已填入所跨的每一行）{len(s.filled)} 处：" + "；".join(
                f"{m.ref}「{escape(m.value)}」" for m in s.filled[:12]) + ("等" if len(s.filled) > 12 else ""))
        if s.skipped:
            by_reason: dict[str, list[int]] = {}
            for row, why in s.skipped:
                by_reason.setdefault(why, []).append(row)
            console.print(f"  未作为数据读取的行 {len(s.skipped)} 行：")
            for why, rows in by_reason.items():
                console.print(f"    {why} {len(rows)} 行：第 {_ranges_text(rows)} 行")
        if n and s.rows:
            mine = ledger.frame.index[ledger.frame["_source"].to_numpy() == k][:n]
            preview = Table(title=f"前 {len(mine)} 行（合并单元格已填入）")
            preview.add_column("行号")
            shown = [c for c in s.columns if c.label][:8]
            for c in shown:
                preview.add_column(f"{c.letter} {c.label}", overflow="ellipsis", max_width=16)
            for i in mine:
                preview.add_row(str(ledger.frame.at[i, "_row"]),
                                *(escape(display_value(ledger.raw.at[i, c.name])) for c in shown))
            console.print(preview)


def _ranges_text(rows: list[int]) -> str:
    """Every row, consecutive ones as a range: 3、5-9、12."""
    parts: list[str] = []
    start = prev = None
    for r in sorted(rows):
        if prev is not None and r == prev + 1:
            prev = r
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = r
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}-{prev}")
    return "、".join(parts)


def inspect_ledgers(paths: Iterable[str | Path], *, sheet: str | None = None, profile: Profile | None = None,
                    password: str | None = None, first_rows: int = 5) -> Inspection:
    """Read each file on its own; one unreadable file does not hide the others."""
    from xfsheets.reader import read_ledger

    result = Inspection()
    paths = list(paths)
    for path in paths:
        try:
            result.files.append((read_ledger(path, sheet=sheet, profile=profile, password=password), first_rows))
        except XfsheetsError as exc:
            if len(paths) == 1:
                raise
            error = exc.to_dict()
            error["file"] = error["file"] or str(path)
            result.failed.append(error)
    return result
