"""The Ledger: one canonical table with provenance, whatever the bureau's layout was.

``frame`` holds one row per ledger row with a column for every canonical field
(normalised values), every unmapped column under its own label, and the provenance
columns ``_file``, ``_sheet``, ``_row`` (the Excel row number the user sees) and
``_source`` (index into ``sources``). ``raw`` holds the same cells exactly as read.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from xfsheets.schema import FIELD_NAMES, LABELS

PROVENANCE = ["_file", "_sheet", "_row", "_source"]


@dataclass
class Column:
    index: int  # 0-based column index in the sheet
    letter: str  # Excel column letter, e.g. "F"
    label: str  # the header text as the user wrote it (parent/child joined by "/")
    field: str | None  # canonical field, or None when unmapped
    name: str = ""  # the column's name in Ledger.frame / Ledger.raw (the field, or the label)


@dataclass
class MergedRange:
    """A merged range in a sheet's data area (Excel 1-based rows, column letters)."""

    first_row: int
    last_row: int
    first_col: str
    last_col: str
    field: str | None = None  # the canonical field of the range's first column (None when unmapped)
    label: str = ""  # the header label of that column
    value: str = ""  # the value shown in the top-left cell, as the user sees it
    filled: bool = False  # True: the value was given to every row the range spans

    @property
    def ref(self) -> str:
        return f"{self.first_col}{self.first_row}:{self.last_col}{self.last_row}"

    @property
    def top_left(self) -> str:
        return f"{self.first_col}{self.first_row}"

    def to_dict(self) -> dict[str, Any]:
        return {"range": self.ref, "first_row": self.first_row, "last_row": self.last_row,
                "column": self.first_col, "field": self.field, "label": self.label, "value": self.value,
                "filled": self.filled}


@dataclass
class Source:
    """Where a block of rows came from, and how its header was understood."""

    file: str
    sheet: str
    header_rows: list[int]  # Excel row numbers (1-based) of the header
    columns: list[Column]
    rows: int = 0
    skipped: list[tuple[int, str]] = dc_field(default_factory=list)  # (Excel row, reason)
    meta: dict[str, str] = dc_field(default_factory=dict)  # 填报单位 / 填报日期 from title rows
    # Merged ranges in the data area; vertical ones (filled=True) gave their value to every row
    # they span (in frame and raw). A writer uses top_left() to find the cell that can hold a value.
    merged: list[MergedRange] = dc_field(default_factory=list)

    @property
    def filled(self) -> list[MergedRange]:
        return [m for m in self.merged if m.filled]

    def top_left(self, row: int, column: str) -> tuple[int, str]:
        """The cell (Excel row, letter) that holds the value shown at ``column``+``row``: the
        top-left cell of the merged range covering it, else the cell itself."""
        from openpyxl.utils import column_index_from_string

        c = column_index_from_string(column)
        for m in self.merged:
            if (m.first_row <= row <= m.last_row
                    and column_index_from_string(m.first_col) <= c <= column_index_from_string(m.last_col)):
                return m.first_row, m.first_col
        return row, column

    def letter(self, field: str) -> str | None:
        for col in self.columns:
            if col.field == field:
                return col.letter
        return None

    @property
    def fields(self) -> list[str]:
        return [c.field for c in self.columns if c.field]

    @property
    def unmapped(self) -> list[Column]:
        return [c for c in self.columns if c.field is None]

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "sheet": self.sheet,
            "header_rows": self.header_rows,
            "rows": self.rows,
            "columns": [{"column": c.letter, "label": c.label, "field": c.field} for c in self.columns],
            "unmapped": [c.label for c in self.unmapped],
            "skipped": [{"row": r, "reason": why} for r, why in self.skipped],
            "meta": self.meta,
            "merged": [m.to_dict() for m in self.merged],
        }


# --- what kind of ledger a sheet is (one place; deadlines, report and inspect ask it) -----------

# A 办理台账 follows each matter through 交办 -> 受理 -> 办结: these columns show it.
HANDLING_FIELDS = ("assigned_on", "accepted_on", "status")
# What a ledger without them (a 积案台账 or 稳控台账: matters carried for months, 包案领导, 化解情况)
# can support, and what it cannot: no handling stage starts in it, so no 超期, no 及时受理率
# and no ranking of units by 按期办结率.
CAPABILITIES = ("deadlines", "timely_acceptance", "unit_ranking", "resolution", "leader_load", "collective")


@dataclass(frozen=True)
class LedgerKind:
    key: str  # handling | backlog | stability
    label: str  # 办理台账 | 积案台账 | 稳控台账
    reason: str  # why, in Chinese (which columns showed it)
    supported: frozenset[str] = frozenset(CAPABILITIES)
    required: tuple[str, ...] | None = None  # the fields every row must fill (None: check's own list)

    def supports(self, capability: str) -> bool:
        if capability not in CAPABILITIES:
            raise ValueError(f"unknown capability {capability!r}")
        return capability in self.supported

    def cannot(self, what: str) -> str:
        """The sentence a result says instead of a figure it cannot support (Chinese)."""
        return f"这是{self.label}（{self.reason}），{what}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.key, "label": self.label, "reason": self.reason, "supports": sorted(self.supported)}


def ledger_kind(source: "Source") -> LedgerKind:
    """The kind of ledger a sheet is, from its columns (and its title or sheet name for which
    of 积案/稳控): a sheet with 交办日期, 受理日期 or 办理状态 is a 办理台账; one with none of them
    but 化解情况 or 包案领导 (or a title saying 积案/稳控) is a 积案台账 or 稳控台账."""
    fields = set(source.fields)
    if fields & set(HANDLING_FIELDS):
        return LedgerKind("handling", "办理台账", "有交办日期、受理日期或办理状态列")
    words = f"{source.meta.get('标题', '')} {source.sheet} {Path(source.file).stem}"
    if not ({"resolution", "leader"} & fields or "积案" in words or "稳控" in words):
        return LedgerKind("handling", "办理台账", "没有化解情况、包案领导列，按办理台账读取")
    missing = "、".join(LABELS[f] for f in HANDLING_FIELDS)
    required = ("petitioner", "summary", "unit")  # who, about what, who carries it: no case id or status
    keep = set(CAPABILITIES) - {"deadlines", "timely_acceptance", "unit_ranking"}
    if "resolution" not in fields:
        keep.discard("resolution")
    if "leader" not in fields:
        keep.discard("leader_load")
    if "稳控" in words and "积案" not in words:
        return LedgerKind("stability", "稳控台账", f"没有{missing}列", frozenset(keep), required)
    return LedgerKind("backlog", "积案台账", f"没有{missing}列", frozenset(keep), required)


@dataclass
class SkippedSheet:
    """A sheet of a workbook that was not read as a ledger, and why (Chinese)."""

    file: str
    sheet: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"file": self.file, "sheet": self.sheet, "reason": self.reason}


@dataclass
class Ledger:
    frame: pd.DataFrame
    raw: pd.DataFrame
    sources: list[Source]
    skipped_sheets: list[SkippedSheet] = dc_field(default_factory=list)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def fields_present(self) -> list[str]:
        present = {f for s in self.sources for f in s.fields}
        return [f for f in FIELD_NAMES if f in present]

    def has(self, field: str) -> bool:
        return any(field in s.fields for s in self.sources)

    @property
    def kinds(self) -> list[LedgerKind]:
        """The kind of each source (sheet), in the order of ``sources``."""
        return [ledger_kind(s) for s in self.sources]

    @property
    def kind(self) -> LedgerKind:
        """The ledger's kind: a 办理台账 as soon as one sheet is one (its matters get deadlines
        and rates), else the 积案/稳控 kind of its sheets."""
        kinds = self.kinds
        if not kinds:
            return LedgerKind("handling", "办理台账", "空台账")
        return next((k for k in kinds if k.key == "handling"), kinds[0])

    def supports(self, capability: str) -> pd.Series:
        """For each row: does its sheet's kind support ``capability`` (e.g. "deadlines")?"""
        per_source = {i: k.supports(capability) for i, k in enumerate(self.kinds)}
        return self.frame["_source"].map(per_source).fillna(True).astype(bool)

    def unsupported(self, capability: str, what: str) -> dict[int, str]:
        """Row position -> the Chinese reason, for every row whose sheet's kind cannot support
        ``capability`` (``what``: what is therefore not done, e.g. "不计算办理时限")."""
        kinds = self.kinds
        if all(k.supports(capability) for k in kinds):
            return {}
        texts = {i: k.cannot(what) for i, k in enumerate(kinds) if not k.supports(capability)}
        codes = self.frame["_source"].to_numpy()
        return {pos: texts[int(c)] for pos, c in enumerate(codes.tolist()) if int(c) in texts}

    def check_unit(self, unit: str | None) -> str | None:
        """``unit`` as the ledger spells it, or a Chinese error naming the closest units: a
        ``--unit`` that matches nothing must not give an empty report that looks like a quiet week."""
        if not unit:
            return unit
        units = sorted(self.frame["unit"].dropna().astype(str).unique()) if "unit" in self.frame else []
        if unit in units:
            return unit
        import difflib

        from xfsheets.errors import ConfigError

        close = [u for u in units if unit in u or u in unit]
        close += [u for u in difflib.get_close_matches(unit, units, n=5, cutoff=0.4) if u not in close]
        hint = (f"台账中相近的单位：{'、'.join(close[:5])}；请按台账中的写法填写 --unit" if close
                else f"台账中的单位有：{'、'.join(units[:12])}{'……' if len(units) > 12 else ''}")
        err = ConfigError(f"台账中没有责任单位「{unit}」", hint=hint)
        err.code = "unknown_unit"
        raise err

    @property
    def extra_columns(self) -> list[str]:
        """Columns kept from the files that map to no canonical field."""
        return [c for c in self.frame.columns if c not in FIELD_NAMES and c not in PROVENANCE]

    def letters(self, field: str) -> pd.Series:
        """The Excel column letter of ``field`` for every row (None where its file lacks it)."""
        per_source = {i: s.letter(field) for i, s in enumerate(self.sources)}
        return self.frame["_source"].map(per_source)

    def source_of(self, index: int) -> Source:
        return self.sources[int(self.frame.at[index, "_source"])]

    @classmethod
    def concat(cls, ledgers: Iterable["Ledger"]) -> "Ledger":
        ledgers = list(ledgers)
        if len(ledgers) == 1:
            return ledgers[0]
        frames, raws, sources, skipped = [], [], [], []
        for ledger in ledgers:
            skipped.extend(ledger.skipped_sheets)
            frame = ledger.frame.copy()
            frame["_source"] = frame["_source"] + len(sources)
            frames.append(frame)
            raws.append(ledger.raw)
            sources.extend(ledger.sources)
        if not frames:
            from xfsheets.reader import empty_ledger

            ledger = empty_ledger()
            ledger.skipped_sheets = skipped
            return ledger
        frame = pd.concat(frames, ignore_index=True, sort=False)
        raw = pd.concat(raws, ignore_index=True, sort=False)
        ordered = FIELD_NAMES + [c for c in frame.columns if c not in FIELD_NAMES and c not in PROVENANCE] + PROVENANCE
        frame = frame[ordered]
        raw = raw[[c for c in ordered if c in raw.columns]]
        return cls(frame=frame, raw=raw, sources=sources, skipped_sheets=skipped)
