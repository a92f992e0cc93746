"""The clerk's 单位通讯录.xlsx: who gets each unit's reminders.

Sheet 单位通讯录 (or the first sheet with 单位 and 邮箱 columns): 单位, 联系人, 邮箱, 分管领导邮箱; a cell may hold
several addresses (separated by ；, ; , 、 or a line break). Sheet 领导通讯录 (optional): 姓名, 邮箱, for the
包案领导 named in the ledger. A unit whose address is missing or wrong is kept with the reason (the reminder
command lists it; it never skips a unit silently). ``remind --template`` writes an empty one listing the
ledger's units and 包案领导.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import pandas as pd

from xfsheets.errors import ConfigError, XfsheetsError

UNIT_SHEET = "单位通讯录"
LEADER_SHEET = "领导通讯录"
UNIT_COLUMNS = ["单位", "联系人", "邮箱", "分管领导邮箱"]
LEADER_COLUMNS = ["姓名", "邮箱"]
_SPLIT = re.compile(r"[;；,，、\s]+")


def fold(name: object) -> str:
    """A unit or person's name as compared: NFKC, no spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(name or "")))


@dataclass
class Contact:
    unit: str
    person: str = ""
    emails: list[str] = field(default_factory=list)
    supervisor: list[str] = field(default_factory=list)  # 分管领导邮箱
    row: int | None = None
    problem: str = ""  # why the unit cannot be mailed (Chinese), "" when it can


@dataclass
class Contacts:
    path: Path
    units: dict[str, Contact]  # folded unit name -> contact
    leaders: dict[str, list[str]]  # folded leader name -> addresses
    problems: list[str] = field(default_factory=list)  # rows that could not be used, said once

    def unit(self, name: str) -> Contact | None:
        return self.units.get(fold(name))

    def leader(self, name: str) -> list[str]:
        return self.leaders.get(fold(name), [])

    @property
    def unit_names(self) -> list[str]:
        return [c.unit for c in self.units.values()]


def _emails(text: object, where: str) -> tuple[list[str], str]:
    """The addresses in one cell, and what is wrong with it ("" when nothing)."""
    from xfsheets.mail import _addresses

    parts = [p for p in _SPLIT.split(str(text or "").strip()) if p]
    try:
        return _addresses(parts, where), ""
    except ConfigError as exc:
        return [], exc.message


def _table(rows: list[list], wanted: list[str]) -> tuple[int, dict[str, int]] | None:
    """(header row index, column -> index) of the first row among the first ten holding the wanted labels."""
    for i, row in enumerate(rows[:10]):
        labels = {fold(v): j for j, v in enumerate(row) if str(v).strip()}
        if all(fold(w) in labels for w in wanted):
            return i, {w: labels[fold(w)] for w in (*UNIT_COLUMNS, *LEADER_COLUMNS) if fold(w) in labels}
    return None


def read_contacts(path: str | Path) -> Contacts:
    """Read the 通讯录 (through the reader's limits: it is a file like any other)."""
    from xfsheets.reader import open_workbook, sheet_rows

    path = Path(path)
    try:
        book = open_workbook(path)
    except XfsheetsError as exc:
        raise ConfigError(f"单位通讯录无法读取：{exc.message}", file=path,
                          hint=exc.hint or "请用 xfsheets remind --template 单位通讯录.xlsx 台账.xlsx 生成一份再填写") from exc
    try:
        sheets = {name: sheet_rows(book.get_sheet_by_name(name)) for name in book.sheet_names}
    finally:
        book.close()
    order = sorted(sheets, key=lambda n: (n != UNIT_SHEET,))
    found = next(((n, t) for n in order if (t := _table(sheets[n], ["单位", "邮箱"]))), None)
    if found is None:
        raise ConfigError("单位通讯录中找不到“单位”“邮箱”两列", file=path,
                          hint="第一行写列名：单位、联系人、邮箱、分管领导邮箱；可用 xfsheets remind --template 生成模板")
    name, (head, cols) = found
    units: dict[str, Contact] = {}
    problems: list[str] = []
    for i, row in enumerate(sheets[name][head + 1:], start=head + 2):
        cell = lambda c: str(row[cols[c]]).strip() if c in cols and cols[c] < len(row) and row[cols[c]] != "" else ""  # noqa: E731
        unit = cell("单位")
        if not unit:
            continue
        where = f"单位通讯录第 {i} 行（{unit}）"
        contact = Contact(unit=unit, person=cell("联系人"), row=i)
        if not cell("邮箱"):
            contact.problem = f"通讯录中没有{unit}的邮箱（{name}第 {i} 行），请补上后再运行"
        else:
            contact.emails, bad = _emails(cell("邮箱"), f"{where}的邮箱")
            if bad:
                contact.problem = f"{bad}（{name}第 {i} 行），请改正后再运行"
        if cell("分管领导邮箱"):
            contact.supervisor, bad = _emails(cell("分管领导邮箱"), f"{where}的分管领导邮箱")
            if bad:
                problems.append(f"{bad}（{name}第 {i} 行），严重超期时无法抄送分管领导")
        if fold(unit) in units:
            problems.append(f"{unit}在单位通讯录中写了两次（第 {units[fold(unit)].row} 行和第 {i} 行），用第 {i} 行")
        units[fold(unit)] = contact
    leaders: dict[str, list[str]] = {}
    for lname in [n for n in order if n != name]:
        lfound = _table(sheets[lname], ["姓名", "邮箱"])
        if not lfound:
            continue
        lhead, lcols = lfound
        for i, row in enumerate(sheets[lname][lhead + 1:], start=lhead + 2):
            person = str(row[lcols["姓名"]]).strip() if lcols["姓名"] < len(row) else ""
            text = row[lcols["邮箱"]] if lcols["邮箱"] < len(row) else ""
            if not person:
                continue
            emails, bad = _emails(text, f"{lname}第 {i} 行（{person}）的邮箱")
            if bad:
                problems.append(f"{bad}（{lname}第 {i} 行）")
            elif emails:
                leaders[fold(person)] = emails
    return Contacts(path=path, units=units, leaders=leaders, problems=problems)


def contacts_from_settings(config_path: str | Path | None) -> Path | None:
    """The 通讯录 named in the clerk's own xfsheets.toml (``[remind] contacts``, relative to that file), or None.
    Settings come only from the profile folder or ``--config`` (:func:`xfsheets.settings.find_config`)."""
    from xfsheets.settings import find_config
    from xfsheets.textfiles import load_toml

    path = Path(config_path) if config_path else find_config()
    if path is None or not path.is_file():
        return None
    table = load_toml(path, "配置文件").get("remind", {})
    value = table.get("contacts") if isinstance(table, dict) else None
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"[remind] contacts 应为单位通讯录的路径，现为 {value!r}", file=path,
                          hint='例如 contacts = "D:/信访/单位通讯录.xlsx"')
    found = Path(value.strip())
    return found if found.is_absolute() else path.parent / found


def write_contacts_template(path: str | Path, units: Iterable[str], leaders: Iterable[str] = (),
                            inputs: Iterable[str | Path] = ()) -> Path:
    """An empty 通讯录 listing ``units`` (and a 领导通讯录 listing ``leaders``), through the output gate."""
    from xfsheets.writer import Table, write_tables

    units = sorted({str(u).strip() for u in units if str(u or "").strip()})
    leaders = sorted({str(n).strip() for n in leaders if str(n or "").strip()})
    frame = pd.DataFrame({"单位": units, "联系人": [""] * len(units), "邮箱": [""] * len(units),
                          "分管领导邮箱": [""] * len(units)}, columns=UNIT_COLUMNS)
    lframe = pd.DataFrame({"姓名": leaders, "邮箱": [""] * len(leaders)}, columns=LEADER_COLUMNS)
    return write_tables(path, [Table(UNIT_SHEET, frame, {"邮箱": 36, "分管领导邮箱": 36}),
                               Table(LEADER_SHEET, lframe, {"邮箱": 36})], inputs=inputs)
