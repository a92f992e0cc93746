"""What xfsheets understood of a ledger: sheet, header, column mapping, rows."""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from pathlib import Path
from typing import Any, Iterable

from rich.markup import escape

from xfsheets.errors import XfsheetsError
from xfsheets.ledger import Ledger
from xfsheets.normalize import display_value
from xfsheets.schema import LABELS, Profile


@dataclass
class Inspection:
    files: list[tuple[Ledger, int]] = dc_field(default_factory=list)  # (ledger, first rows shown)
    failed: list[tuple[str, str]] = dc_field(default_factory=list)  # (file, Chinese message)

    def to_dict(self) -> dict[str, Any]:
        files = []
        for ledger, n in self.files:
            source = ledger.sources[0]
            doc = source.to_dict()
            for col in doc["columns"]:
                col["field_label"] = LABELS.get(col["field"]) if col["field"] else None
            head = ledger.raw.head(n)
            doc["first_rows"] = [
                {"row": int(ledger.frame.at[i, "_row"]),
                 "values": {c.label: display_value(head.iat[k, head.columns.get_loc(c.name)])
                            for c in source.columns}}
                for k, i in enumerate(head.index)
            ]
            files.append(doc)
        return {"files": files, "errors": [{"file": f, "error": e} for f, e in self.failed]}

    def print(self, console) -> None:
        from rich.table import Table

        for ledger, n in self.files:
            s = ledger.sources[0]
            header = "、".join(str(r) for r in s.header_rows)
            console.print(f"[bold]{s.file}[/bold]  工作表「{s.sheet}」  表头在第 {header} 行  数据 {s.rows} 行")
            if s.meta:
                console.print("  表头上方：" + "；".join(f"{k}：{v}" for k, v in s.meta.items()))
            table = Table(title=None, show_lines=False)
            for col in ("列", "表头文字", "识别为", "字段"):
                table.add_column(col)
            for c in s.columns:
                table.add_row(c.letter, c.label or "（空）", LABELS.get(c.field, "—") if c.field else "[yellow]未识别（保留原样）[/yellow]",
                              c.field or "")
            console.print(table)
            if s.skipped:
                counts: dict[str, list[int]] = {}
                for row, why in s.skipped:
                    counts.setdefault(why, []).append(row)
                console.print("  未作为数据读取的行：" + "；".join(
                    f"{why} {len(rows)} 行（第 {_rows_text(rows)} 行）" for why, rows in counts.items()))
            if n and len(ledger):
                preview = Table(title=f"前 {min(n, len(ledger))} 行（原样）")
                preview.add_column("行号")
                shown = [c for c in s.columns if c.label][:8]
                for c in shown:
                    preview.add_column(f"{c.letter} {c.label}", overflow="ellipsis", max_width=16)
                for i in ledger.frame.index[:n]:
                    preview.add_row(str(ledger.frame.at[i, "_row"]),
                                    *(display_value(ledger.raw.at[i, c.name]) for c in shown))
                console.print(preview)
        for file, error in self.failed:
            console.print(f"[red]无法读取[/red] {escape(error)}")


def _rows_text(rows: list[int], limit: int = 8) -> str:
    text = "、".join(str(r) for r in rows[:limit])
    return text + ("等" if len(rows) > limit else "")


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
            result.failed.append((str(path), str(exc)))
    return result
