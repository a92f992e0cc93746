"""Masking personal data: identity numbers and phone numbers.

Nothing that leaves the office (an email, an upward report) may carry a full identity
number or phone number. This module masks them

- by column: a column that *is* identity numbers or phones (``id_number``/``phone`` or a
  header label such as 身份证号 / 联系电话) is masked whatever its cells hold, even a number
  typed with a digit missing;
- by pattern: any text anywhere that looks like an 18- (or 15-) character identity number,
  an 11-digit mobile number or a landline with its area code is masked in place.

The masked forms keep what a reader needs to tell records apart and nothing more:
``450324199001011234 -> 450324********1234`` (region kept, birth date hidden),
``13812345678 -> 138****5678``, ``0771-2345678 -> 0771-***5678``.

:func:`find_personal_data` scans a finished workbook (every XML part of the file, so also
chart caches, comments and numbers) and is used to prove that nothing leaks.
"""
from __future__ import annotations

import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from xfsheets.errors import XfsheetsError

__all__ = [
    "mask_id_number",
    "mask_phone",
    "mask_text",
    "mask_value",
    "mask_frame",
    "mask_workbook",
    "find_personal_data",
    "PersonalDataHit",
    "personal_field_of",
]

# --- patterns ----------------------------------------------------------------------

# 18-character identity number: 6 region digits, 8 birth-date digits, 3 sequence digits, check.
_ID18 = r"(?P<id18>(?<![0-9])[0-9]{17}[0-9Xx](?![0-9]))"
# Old 15-digit identity number: 6 region digits, YYMMDD, 3 sequence digits.
_ID15 = r"(?P<id15>(?<![0-9])[0-9]{8}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}(?![0-9]))"
# Mobile: 1[3-9]x xxxx xxxx, optionally +86 / 86 in front, optional - or space between groups.
_MOBILE = (r"(?P<mobile>(?<![0-9])(?P<m_cc>(?:\+|00)?86[-\s]?)?(?P<m_head>1[3-9][0-9])(?P<m_s1>[-\s]?)"
           r"(?P<m_mid>[0-9]{4})(?P<m_s2>[-\s]?)(?P<m_tail>[0-9]{4})(?![0-9]))")
# Landline with its area code set apart: 0771-2345678, (0771)2345678, 010 12345678, 0771－2345678.
_LANDLINE_SEP = (r"(?P<land>(?<![0-9])(?P<l_area>[(（]?0[1-9][0-9]{1,2}[)）]?)(?P<l_sep>[-\s－—]|(?<=[)）]))"
                 r"(?P<l_num>[0-9]{7,8})(?![0-9]))")
# Landline written in one run (only trusted inside a phone column): 07712345678, 01012345678.
_LANDLINE_RUN = r"(?P<l_run>(?<![0-9])0[1-9][0-9]{9,10}(?![0-9]))"

_TEXT_RE = re.compile("|".join((_ID18, _ID15, _MOBILE, _LANDLINE_SEP)))
_PHONE_RE = re.compile("|".join((_MOBILE, _LANDLINE_SEP, _LANDLINE_RUN)))
_LONG_RUN = re.compile(r"(?<![0-9])[0-9]{7,}(?![0-9])")
_ID_RUN = re.compile(r"(?<![0-9*])[0-9]{5,}[0-9Xx]?(?![0-9*])")

# Fast pre-filter: text with no run of 3 digits cannot hold any of the patterns above.
_HAS_DIGITS = re.compile(r"[0-9]{3}")

_ID_LABEL_FIELD = "id_number"
_PHONE_LABEL_FIELD = "phone"
_FALLBACK_LABELS = {
    "id_number": "id_number", "身份证号": "id_number", "身份证号码": "id_number",
    "公民身份号码": "id_number", "证件号码": "id_number", "身份证": "id_number",
    "phone": "phone", "联系电话": "phone", "电话": "phone", "联系方式": "phone",
    "手机号码": "phone", "手机": "phone", "电话号码": "phone",
}


def _stars(n: int) -> str:
    return "*" * max(n, 0)


def _repl_text(m: re.Match) -> str:
    g = m.groupdict()
    if g.get("id18"):
        s = g["id18"]
        return s[:6] + _stars(8) + s[14:]
    if g.get("id15"):
        s = g["id15"]
        return s[:6] + _stars(6) + s[12:]
    if g.get("mobile"):
        return (g["m_cc"] or "") + g["m_head"] + g["m_s1"] + "****" + g["m_s2"] + g["m_tail"]
    if g.get("land"):
        num = g["l_num"]
        return g["l_area"] + g["l_sep"] + _stars(len(num) - 4) + num[-4:]
    if g.get("l_run"):
        s = g["l_run"]
        area = 3 if s[1] in "12" else 4  # 010/02x are 3-digit area codes
        return s[:area] + _stars(len(s) - area - 4) + s[-4:]
    raise AssertionError(m.group(0))  # pragma: no cover


def _number_text(value: Any) -> str | None:
    """An integral number as its digits (a phone/ID typed as a number), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return None


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _as_text(value: Any) -> str:
    """A cell value as text; a number stored as a number written out in full."""
    number = _number_text(value)
    return number if number is not None else value if isinstance(value, str) else str(value)


def mask_text(value: Any) -> Any:
    """Mask every identity number, mobile and area-coded landline inside free text.

    Non-text values are returned unchanged (use :func:`mask_value` for numbers).
    """
    if not isinstance(value, str) or not _HAS_DIGITS.search(value):
        return value
    return _TEXT_RE.sub(_repl_text, value)


def mask_id_number(value: Any) -> Any:
    """Mask a value from an identity-number column: ``450324********1234``.

    Whatever the cell holds is masked: a well-formed number (18 or 15 characters), one
    with a typo, one stored as a number (``4.50324199001012e17``), several in one cell.
    Blank values are returned as they are; text without digits (``无``) is kept.
    """
    if _is_blank(value):
        return value
    masked = mask_text(_as_text(value))

    def generic(m: re.Match) -> str:
        s = m.group(0)
        n = len(s)
        keep_head = min(6, n // 4)
        keep_tail = min(4, n // 4)
        return s[:keep_head] + _stars(n - keep_head - keep_tail) + s[n - keep_tail:]

    return _ID_RUN.sub(generic, masked)


def mask_phone(value: Any) -> Any:
    """Mask a value from a phone column: ``138****5678``, ``0771-***5678``, ``***5678``.

    Mobiles keep the first 3 and last 4 digits; landlines keep the area code and the last
    4 digits; any other run of 7 or more digits keeps only its last 4. Several numbers in
    one cell (``13812345678/0771-2345678``) are each masked. Numbers stored as numbers
    become masked text.
    """
    if _is_blank(value):
        return value
    value = _as_text(value)
    if not _HAS_DIGITS.search(value):
        return value
    masked = _PHONE_RE.sub(_repl_text, value)
    masked = _TEXT_RE.sub(_repl_text, masked)  # an ID number typed into the phone column
    return _LONG_RUN.sub(lambda m: _stars(len(m.group(0)) - 4) + m.group(0)[-4:], masked)


def mask_value(value: Any, field: str | None = None) -> Any:
    """Mask one cell value: by its field (``id_number``/``phone``) or, with no field, by pattern.

    Numbers that are a mobile number (11 digits starting 1[3-9]) or an identity number
    (15+ digits, or a float of that size) become masked text; other numbers are kept.
    """
    if field == _ID_LABEL_FIELD:
        return mask_id_number(value)
    if field == _PHONE_LABEL_FIELD:
        return mask_phone(value)
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = _number_text(value)
        if number is None:
            return value
        if len(number) >= 15:
            return mask_id_number(number)
        if re.fullmatch(r"1[3-9][0-9]{9}", number):
            return mask_phone(number)
    return value


def personal_field_of(label: Any) -> str | None:
    """``id_number`` / ``phone`` when a column name or header label stands for one, else None."""
    if label is None:
        return None
    text = str(label).strip()
    if text in ("id_number", "phone"):
        return text
    try:
        from xfsheets.schema import match_label

        field = match_label(text)
    except ImportError:  # pragma: no cover - schema is part of the package
        field = _FALLBACK_LABELS.get(text)
    return field if field in ("id_number", "phone") else None


# --- frames -------------------------------------------------------------------------

# The well-formed values of a personal column, masked by one regex pass (backreferences, no
# Python callback); anything else in the column goes through mask_id_number / mask_phone.
_FIELD_FAST = {
    "id_number": (r"^([0-9]{6})[0-9]{8}([0-9]{3}[0-9Xx])$", r"\1********\2"),
    "phone": (r"^(1[3-9][0-9])[0-9]{4}([0-9]{4})$", r"\1****\2"),
}


def _mask_field_column(s: pd.Series, field: str) -> pd.Series:
    masker: Callable[[Any], Any] = mask_id_number if field == "id_number" else mask_phone
    values = s.astype(object)
    present = values.notna().to_numpy()
    result = values.copy()
    if not present.any():
        return result
    text = values[present]
    if pd.api.types.infer_dtype(text, skipna=True) != "string":
        text = text.map(lambda v: _number_text(v) or v if not isinstance(v, str) else v).astype(str)
    pattern, repl = _FIELD_FAST[field]
    fast = text.str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)
    if fast.any():
        result.loc[text.index[fast]] = text[fast].str.replace(pattern, repl, regex=True).to_numpy()
    if (~fast).any():
        slow = text.index[~fast]
        result.loc[slow] = np.frompyfunc(masker, 1, 1)(values.loc[slow].to_numpy())
    return result


def mask_frame(df: pd.DataFrame, *, columns: dict[str, str] | None = None) -> pd.DataFrame:
    """A copy of ``df`` with identity numbers and phones masked.

    Columns named ``id_number``/``phone`` or with a Chinese label for them (身份证号,
    联系电话, 电话, ...) are masked cell by cell whatever they hold; ``columns`` may add
    more (``{"column name": "id_number" | "phone"}``). In every other text column, any
    text that looks like an identity number, mobile or area-coded landline is masked in
    place; integer columns holding mobile or identity numbers become masked text.
    """
    out = df.copy()
    extra = dict(columns or {})
    for col in out.columns:
        s = out[col]
        field = extra.get(col) or personal_field_of(col)
        if field is not None:
            out[col] = _mask_field_column(s, field)
            continue
        if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_datetime64_any_dtype(s.dtype):
            continue
        if pd.api.types.is_numeric_dtype(s.dtype):
            # Vectorised test: any mobile-sized (1.3e10..2e10) or ID-sized (>=1e14) integral value?
            num = pd.to_numeric(s, errors="coerce").astype("float64")
            looks = ((num == num.round()) & (((num >= 1.3e10) & (num < 2e10)) | (num >= 1e14))).fillna(False)
            if bool(looks.any()):
                values = s.astype(object)
                out[col] = values.where(~looks.to_numpy(), values.map(mask_value))
            continue
        # Text / object columns: a vectorised pre-filter, then one regex pass over the candidates.
        values = s.astype(object)
        kind = pd.api.types.infer_dtype(values, skipna=True)
        if kind in ("string", "empty"):
            is_str = values.notna()
            has_other = False
        else:
            is_str = values.map(lambda v: isinstance(v, str))
            has_other = True
        changed = False
        if is_str.any():
            text = values[is_str].astype(str)
            candidates = text.str.contains(_HAS_DIGITS.pattern, regex=True)
            if candidates.any():
                masked = text[candidates].str.replace(_TEXT_RE, _repl_text, regex=True)
                diff = masked != text[candidates]
                if diff.any():
                    values = values.copy()
                    values.loc[masked.index[diff.to_numpy()]] = masked[diff].to_numpy()
                    changed = True
        if has_other:
            # numbers mixed into an object column (a phone typed as a number in one row)
            is_num = values.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))
            if is_num.any():
                new = values[is_num].map(mask_value)
                if not new.equals(values[is_num]):
                    values = values.copy()
                    values.loc[is_num] = new
                    changed = True
        if changed:
            out[col] = values.astype(s.dtype) if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object \
                else values
    return out


# --- workbooks ----------------------------------------------------------------------

_FORMULA_LITERAL = re.compile(r'"(?:[^"]|"")*"')


def _header_fields(ws) -> dict[int, tuple[int, str]]:
    """Column index -> (header row, field) for columns headed 身份证号 / 联系电话 / ... in a sheet."""
    found: dict[int, tuple[int, str]] = {}
    for row in ws.iter_rows():
        for cell in row:
            v = cell.value
            if isinstance(v, str) and len(v) <= 20 and cell.column not in found:
                field = personal_field_of(v)
                if field is not None:
                    found[cell.column] = (cell.row, field)
    return found


def mask_workbook(in_path: str | Path, out_path: str | Path) -> dict[str, int]:
    """Write a copy of a workbook with every identity number and phone masked.

    Every sheet, every cell: text by pattern; the cells below a 身份证号/联系电话/... header
    by field; numbers that are phones or identity numbers become masked text; string
    literals inside formulas and cell comments too. Styles, column widths, merged cells
    and charts are kept (openpyxl round trip). The output is saved atomically; the input
    is never modified. Returns ``{"cells": n}``, the number of cells changed.
    """
    from openpyxl import load_workbook

    from xfsheets.writer import save_workbook

    in_path = Path(in_path)
    out_path = Path(out_path)
    suffix = in_path.suffix.lower()
    if suffix == ".xls":
        raise XfsheetsError("不支持对 .xls 旧格式工作簿做脱敏", file=in_path,
                            hint="请先在 Excel/WPS 中另存为 .xlsx 再试")
    if not in_path.exists():
        raise XfsheetsError("文件不存在", file=in_path, hint="请检查文件路径")
    try:
        wb = load_workbook(in_path, keep_vba=suffix == ".xlsm", keep_links=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise XfsheetsError(f"无法打开工作簿：{exc}", file=in_path,
                            hint="请确认文件是完好的 .xlsx 工作簿且未加密") from exc
    changed = 0
    for ws in wb.worksheets:
        headers = _header_fields(ws)
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if value is None:
                    continue
                if cell.data_type == "f" and isinstance(value, str):
                    new = _FORMULA_LITERAL.sub(lambda m: mask_text(m.group(0)), value)
                else:
                    head = headers.get(cell.column)
                    field = head[1] if head is not None and cell.row > head[0] else None
                    if field is not None and not isinstance(value, (str, int, float)):
                        field = None  # dates, booleans in such a column are not numbers to mask
                    new = mask_value(value, field)
                if new != value:
                    cell.value = new
                    changed += 1
                if cell.comment is not None:
                    text = cell.comment.text
                    masked = mask_text(text)
                    if masked != text:
                        cell.comment.text = masked
        for part in (ws.oddHeader, ws.oddFooter, ws.evenHeader, ws.evenFooter,
                     ws.firstHeader, ws.firstFooter):
            for section in (part.left, part.center, part.right):
                if section.text:
                    section.text = mask_text(section.text)
    save_workbook(wb, out_path)
    return {"cells": changed}


# --- proving nothing leaks ----------------------------------------------------------

# In XML a digit run after "." is the tail of a decimal number (a rate), not a phone.
_SCAN_RE = re.compile(
    r"(?P<id_number>(?<![0-9.])[0-9]{17}[0-9Xx](?![0-9]))"
    r"|(?P<id_number_as_number>(?<![0-9.])[0-9]\.[0-9]{5,}[Ee]\+?1[4-7](?![0-9]))"
    r"|(?P<mobile>(?<![0-9.])1[3-9][0-9](?P<s1>[-\s]?)[0-9]{4}(?P=s1)[0-9]{4}(?![0-9.]))"
    r"|(?P<landline>(?<![0-9.])[(（]?0[1-9][0-9]{1,2}[)）]?[-\s－—]?[0-9]{7,8}(?![0-9.]))"
)
_CELL_REF = re.compile(r'<(?:\w+:)?c\b[^>]*?\br="([A-Z]+[0-9]+)"')


@dataclass(frozen=True)
class PersonalDataHit:
    """Something in a file that looks like an unmasked identity number or phone."""

    part: str  # the file inside the .xlsx (xl/sharedStrings.xml, xl/worksheets/sheet2.xml, ...)
    sheet: str | None  # worksheet name when the part is a worksheet
    cell: str | None  # cell reference when known
    kind: str  # id_number | id_number_as_number | mobile | landline
    text: str  # the matched text (it *is* the personal data: do not log it)


def _sheet_names_by_part(zf: zipfile.ZipFile) -> dict[str, str]:
    import xml.etree.ElementTree as ET

    try:
        wb = ET.fromstring(zf.read("xl/workbook.xml"))
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ET.ParseError):
        return {}
    rid_to_target = {}
    for rel in rels:
        target = rel.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else "xl/" + target
        rid_to_target[rel.get("Id")] = target
    out = {}
    for el in wb.iter():
        if el.tag.endswith("}sheet"):
            rid = next((v for k, v in el.attrib.items() if k.endswith("}id")), None)
            if rid in rid_to_target:
                out[rid_to_target[rid]] = el.get("name")
    return out


def find_personal_data(path: str | Path, *, landlines: bool = True) -> list[PersonalDataHit]:
    """Scan a file for anything that looks like an unmasked identity number or phone.

    For an .xlsx/.xlsm every XML part is read (cells, shared strings, comments, chart
    caches, headers); text files (.eml, .txt, .csv, .html) are scanned as text. An
    identity number stored as a number (``4.50324199001012E+17``) counts too.
    """
    path = Path(path)
    hits: list[PersonalDataHit] = []
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            sheets = _sheet_names_by_part(zf)
            for name in zf.namelist():
                if not name.endswith((".xml", ".rels", ".vml")):
                    continue
                text = zf.read(name).decode("utf-8", errors="replace")
                hits.extend(_scan_text(text, name, sheets.get(name), landlines))
    else:
        text = path.read_bytes().decode("utf-8", errors="replace")
        hits.extend(_scan_text(text, path.name, None, landlines))
    return hits


def _scan_text(text: str, part: str, sheet: str | None, landlines: bool) -> list[PersonalDataHit]:
    hits = []
    for m in _SCAN_RE.finditer(text):
        kind = next(k for k in ("id_number", "id_number_as_number", "mobile", "landline") if m.group(k))
        if kind == "landline" and not landlines:
            continue
        cell = None
        if sheet is not None:
            start = text.rfind("<c ", 0, m.start())
            ref = _CELL_REF.match(text, start) if start >= 0 else None
            cell = ref.group(1) if ref else None
        hits.append(PersonalDataHit(part, sheet, cell, kind, m.group(0)))
    return hits
