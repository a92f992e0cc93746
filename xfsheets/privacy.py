"""Masking personal data: identity numbers and phone numbers, and proving none is left.

Nothing that goes upward (the summary report, zero reports and 情况报告, the mail's subject,
body, attachment name and attachment) may carry a full identity number or phone number.
This module is the one masking pass all of them use:

- :func:`mask_text` for a string, :func:`mask_frame` for a table, :func:`mask_book` for an
  openpyxl workbook in memory (every cell, comment, header/footer, sheet name, defined
  name, hyperlink, chart and document property) and :func:`mask_workbook` for a file;
- by column: a column that *is* identity numbers or phones (``id_number``/``phone`` or a
  header label such as 身份证号 / 联系电话) is masked whatever its cells hold, even a number
  typed with a digit missing;
- by pattern, anywhere: identity numbers (18 characters with x/X, old 15-digit ones), mobiles
  (with +86/0086) and landlines with an area code, as people type them: in one run or with
  spaces, dashes, dots or brackets between the groups, in ASCII or full-width digits (０-９, Ｘ);
  numbers pasted from the web or WeChat are folded first (:mod:`xfsheets.identifiers`: format
  characters such as zero-width spaces removed, line breaks and runs of spaces, / _ · and comma
  grouping, Chinese numerals 一三九/幺三九〇 and other scripts' digits), and the characters the
  user typed are the ones hidden.
  Dates (2026-03-05), case ids (XF2026000123), amounts and counts are left alone.

The masked forms keep what a reader needs to tell records apart and nothing more:
``450324199001011234 -> 450324********1234`` (region kept, birth date hidden),
``13812345678 -> 138****5678``, ``0771-2345678 -> 0771-***5678``; separators and
full-width digits stay as typed.

:func:`find_personal_data` scans a finished file (every part of an .xlsx package: sheets,
shared strings, comments, workbook.xml, docProps, drawings and charts, relationship files
with hyperlink targets, the macros of a VBA project (read with pyopenvba); or a text file) for the same forms. :func:`check_workbook`,
:func:`check_file`, :func:`check_bytes` and :func:`check_texts` run it before an upward
output is written or sent and raise :class:`PersonalDataError` (exit 1) naming the place.
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
from xfsheets.identifiers import CN_DIGITS, NUMBER_RUN, SEPARATORS, fold_digits, fold_with_positions, needs_fold

__all__ = [
    "mask_id_number",
    "mask_phone",
    "mask_text",
    "mask_value",
    "mask_frame",
    "mask_workbook",
    "mask_book",
    "find_personal_data",
    "find_in_text",
    "check_file",
    "check_workbook",
    "check_bytes",
    "check_texts",
    "PersonalDataError",
    "PersonalDataHit",
    "personal_field_of",
]

# --- patterns ----------------------------------------------------------------------
# People type numbers in many forms: 450324 19900101 1234, 186-1234-5678, 150.1234.5678,
# +86 139 1234 5678, 0086-137..., full-width digits (１３８…, Ｘ), (0771)2345678. One regex
# finds every "chain" of digit groups joined by short separators; a Python pass then looks
# at each chain's groups and masks the runs of groups that form an identity number, a mobile
# or an area-coded landline. Dates (2026-03-05), case ids (XF2026000123), amounts
# (1,234,567.89 / 12345678.90) and counts are never one of those and stay as they are.

_D = "0-9\uff10-\uff19"  # ASCII and full-width digits
# the separators people type between digit groups (xfsheets.identifiers: one list for every reader)
_SEPS = SEPARATORS
_CHAIN = re.compile(
    rf"(?<![{_D}])(?=(?:[{_D}](?:[{_SEPS}]{{1,3}}(?=[{_D}]))?){{7}})"  # at least 7 digits ahead
    rf"[{_D}]+(?:[{_SEPS}]{{1,3}}[{_D}]+)*[XxＸｘ]?"
)
_GROUP = re.compile(rf"[{_D}]+[XxＸｘ]?")
_TO_ASCII = {**{0xFF10 + i: 0x30 + i for i in range(10)}, ord("Ｘ"): ord("X"), ord("ｘ"): ord("X"),
             ord("x"): ord("X")}
_DATE8 = re.compile(r"(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])")
_MMDD = re.compile(r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])")
_AREA = re.compile(r"0(?:10|2[0-9]|[3-9][0-9]{2})")
_MOBILE = re.compile(r"(?:0086|86)?1[3-9][0-9]{9}")

# Every number is looked for inside a run of digit-like characters (any script, Chinese numerals,
# separators, format characters): each run is folded (xfsheets.identifiers) before it is matched,
# and the characters hidden are the ones the user typed. Text without such a run holds nothing.
_HAS_DIGITS = NUMBER_RUN
_TEXT_RE = NUMBER_RUN
_DIGIT_CHAR = re.compile(rf"[\d{''.join(CN_DIGITS)}]")
_JUST_A_DATE = re.compile(r"\s*(?:19|20)[0-9]{2}([-/.])[0-9]{1,2}\1[0-9]{1,2}\s*")
_PLAIN_RUN = re.compile(rf"[{_D}XxＸｘ \-.\uff0d\uff0e\u2010-\u2015\u2212()\uff08\uff09/_,]*")
_LONG_RUN = re.compile(rf"(?<![{_D}])[{_D}]{{7,}}(?![{_D}])")
_ID_RUN = re.compile(rf"(?<![{_D}*])[{_D}]{{5,}}[{_D}XxＸｘ]?(?![{_D}*])")

_ID_LABEL_FIELD = "id_number"
_PHONE_LABEL_FIELD = "phone"
KINDS_CN = {"id_number": "身份证号", "id_number_as_number": "以数字存储的身份证号", "mobile": "手机号码",
            "landline": "固定电话", "unreadable_vba": "无法检查的宏代码"}


def _stars(n: int) -> str:
    return "*" * max(n, 0)


def _classify(digits: str, groups: list[str]) -> tuple[str, list[int]] | None:
    """(kind, indexes of the digits to hide) when ``digits`` (ASCII, X upper) is personal.

    ``groups`` are the digit groups as typed: one group is a number written in one run,
    several are a number written with separators, which must then also look right (an
    identity number's birth date, a landline's area code as its own group).
    """
    n = len(digits)
    joined = len(groups) > 1
    if n == 18 and digits[:17].isdigit():
        # In one run, any 18 characters: a mistyped ID (wrong date or check digit) is still
        # somebody's; an 18-digit serial number is masked too, the safe side. With separators
        # the groups must look like one: a region and a birth date.
        if not joined or (digits[0] in "12345678" and _DATE8.fullmatch(digits, 6, 14)):
            return "id_number", list(range(6, 14))
        return None
    if not digits.isdigit():
        return None
    if _MOBILE.fullmatch(digits):
        k = n - 11
        return "mobile", list(range(k + 3, k + 7))
    if n == 15 and digits[0] in "12345678" and _MMDD.fullmatch(digits, 8, 12):
        return "id_number", list(range(6, 12))
    if digits[0] == "0":
        if joined:
            area = groups[0]
            rest = n - len(area)
            if _AREA.fullmatch(area) and rest in (7, 8) and digits[len(area)] != "0":
                return "landline", list(range(len(area), n - 4))
        elif n in (11, 12):
            area = 3 if digits[1] in "12" else 4
            if _AREA.fullmatch(digits, 0, area) and n - area in (7, 8) and digits[area] != "0":
                return "landline", list(range(area, n - 4))
    return None


def _personal_spans(text: str) -> list[tuple[str, list[int]]]:
    """Every identity number or phone in ``text``: (kind, positions of the characters to hide)."""
    found: list[tuple[str, list[int]]] = []
    for chain in _CHAIN.finditer(text):
        groups = list(_GROUP.finditer(text, chain.start(), chain.end()))
        if len(groups) == 2 and text[groups[0].end():groups[1].start()] in (".", "．"):
            groups = groups[:1]  # a decimal number: the fraction is never a phone
        norm = [g.group(0).translate(_TO_ASCII) for g in groups]
        if _thousands(text, groups):
            continue  # 1,234,567: an amount, never a phone
        blocked = _date_groups(text, groups, norm)
        i = 0
        while i < len(groups):
            if i in blocked:
                i += 1
                continue
            end = next((b for b in sorted(blocked) if b > i), len(groups))  # a window never spans a date
            for j in range(end - 1, i - 1, -1):
                parts = norm[i:j + 1]
                got = None
                for k, digits in enumerate((("".join(parts)),) + ((("".join(parts))[:-1],)
                                                                    if parts[-1].endswith("X") else ())):
                    if 7 <= len(digits) <= 18:
                        got = _classify(digits, parts if k == 0 else parts[:-1] + [parts[-1][:-1]])
                    if got is not None:
                        break
                if got is None:
                    continue
                positions = [p for g in groups[i:j + 1] for p in range(g.start(), g.end())]
                found.append((got[0], [positions[k] for k in got[1]]))
                i = j + 1
                break
            else:
                i += 1
    return found


def _date_groups(text: str, groups: list[re.Match], norm: list[str]) -> set[int]:
    """Indexes of the groups that form a date (2026-11-25, 2026.3.5): never part of a number."""
    blocked: set[int] = set()
    for t in range(len(groups) - 2):
        year, month, day = norm[t:t + 3]
        sep1 = text[groups[t].end():groups[t + 1].start()]
        sep2 = text[groups[t + 1].end():groups[t + 2].start()]
        if (len(year) == 4 and year[:2] in ("19", "20") and len(month) <= 2 and len(day) <= 2
                and month.isdigit() and day.isdigit() and 1 <= int(month) <= 12 and 1 <= int(day) <= 31
                and sep1 == sep2 and sep1 in ("-", ".", "/", "－", "．")):
            if (t >= 1 and t + 3 < len(groups) and len(norm[t - 1]) == 6 and len(year + month + day) == 8
                    and _classify("".join(norm[t - 1:t + 4]), norm[t - 1:t + 4]) is not None):
                continue  # 450324-1990-01-05-1352: an identity number written like a date chain
            blocked.update((t, t + 1, t + 2))
    return blocked


def _thousands(text: str, groups: list[re.Match]) -> bool:
    """Digit groups joined only by commas, every group after the first three digits long."""
    if len(groups) < 2 or len(groups[0].group(0)) > 3 or any(len(g.group(0)) != 3 for g in groups[1:]):
        return False
    return all(text[a.end():b.start()] in (",", "，") for a, b in zip(groups, groups[1:]))


def _run_spans(run: str) -> list[tuple[str, list[int], tuple[int, int]]]:
    """Personal numbers in one run of digit-like characters (:data:`NUMBER_RUN`): (kind, positions
    in ``run`` of the characters to hide, (start, end) in ``run`` of the number as typed)."""
    if _JUST_A_DATE.fullmatch(run) or len(_DIGIT_CHAR.findall(run)) < 7:
        return []  # 2026-03-05, or too few digits for any number: the common runs, answered at once
    if _PLAIN_RUN.fullmatch(run) and "  " not in run:
        folded, where = run, None
    else:
        folded, where = fold_with_positions(run)
    found = _personal_spans(folded)
    if not found and where is not None and any(ch in CN_DIGITS for ch in run):
        # 李四一三九…: a name may end in a Chinese numeral that is no digit of the number after it
        digits = [k for k, c in enumerate(folded) if c.isdigit()]
        for lead in (1, 2):
            trial = list(folded)
            for k in digits[:lead]:
                trial[k] = " "
            found = _personal_spans("".join(trial))
            if found:
                folded = "".join(trial)
                break
    out = []
    for kind, positions in found:
        start = min(positions)
        chain = next((m for m in _CHAIN.finditer(folded) if m.start() <= start < m.end()), None)
        s, e = (chain.start(), chain.end()) if chain else (start, max(positions) + 1)
        if where is not None:
            positions = [where[p] for p in positions]
            s, e = where[s], where[e - 1] + 1
        out.append((kind, positions, (s, e)))
    return out


def _repl_text(m: re.Match) -> str:
    """Replacement for one :data:`NUMBER_RUN` match (used by vectorised ``str.replace``)."""
    run = m.group(0)
    spans = _run_spans(run)
    if not spans:
        return run
    chars = list(run)
    for _, positions, _ in spans:
        for p in positions:
            chars[p] = "*"
    return "".join(chars)


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
    folded = _folded(_as_text(value))
    if not _HAS_DIGITS.search(folded):
        return value  # nothing to hide: the text stays as written (a form's 报告单位（盖章） keeps its brackets)
    masked = mask_text(folded)

    def generic(m: re.Match) -> str:
        s = m.group(0)
        n = len(s)
        keep_head = min(6, n // 4)
        keep_tail = min(4, n // 4)
        return s[:keep_head] + _stars(n - keep_head - keep_tail) + s[n - keep_tail:]

    masked = _ID_RUN.sub(generic, masked)
    return _CHAIN.sub(lambda m: _hide_rest(m, keep_head=6, keep_tail=4), masked)


def _folded(text: str) -> str:
    """A cell of an identity-number or phone column with its digits as readers see them (zero-width
    characters gone, Chinese and other digits as 0-9): the masked cell shows what is left of it."""
    return fold_digits(text) if needs_fold(text) else text


def _hide_rest(m: re.Match, *, keep_head: int, keep_tail: int) -> str:
    """:func:`_hide_digits` for a chain no pass has masked yet; a chain that touches a masked
    number (``138****5678/0771-...``: the tail of one and the area code of the next) is left."""
    text, start, end = m.string, m.start(), m.end()
    if (start and text[start - 1] == "*") or (end < len(text) and text[end] == "*"):
        return m.group(0)
    return _hide_digits(m.group(0), keep_head=keep_head, keep_tail=keep_tail)


def _hide_digits(text: str, *, keep_head: int, keep_tail: int) -> str:
    """Star the digits of a digit chain typed with separators, keeping a few at each end
    (never more than a quarter of them)."""
    positions = [i for i, ch in enumerate(text) if ch.translate(_TO_ASCII).isdigit() or ch in "XxＸｘ"]
    n = len(positions)
    head, tail = min(keep_head, n // 4), min(keep_tail, n // 4)
    chars = list(text)
    for p in positions[head:n - tail]:
        chars[p] = "*"
    return "".join(chars)


def mask_phone(value: Any) -> Any:
    """Mask a value from a phone column: ``138****5678``, ``0771-***5678``, ``***5678``.

    Mobiles keep the first 3 and last 4 digits; landlines keep the area code and the last
    4 digits; any other run of 7 or more digits keeps only its last 4. Several numbers in
    one cell (``13812345678/0771-2345678``) are each masked. Numbers stored as numbers
    become masked text.
    """
    if _is_blank(value):
        return value
    folded = _folded(_as_text(value))
    if not _HAS_DIGITS.search(folded):
        return value  # nothing to hide: the text stays as written (a form's 报告单位（盖章） keeps its brackets)
    value = folded
    masked = mask_text(value)  # mobiles, landlines, an ID number typed into the phone column
    masked = _LONG_RUN.sub(lambda m: _stars(len(m.group(0)) - 4) + m.group(0)[-4:], masked)
    return _CHAIN.sub(lambda m: _hide_rest(m, keep_head=0, keep_tail=4), masked)


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
    from xfsheets.schema import match_label  # the one vocabulary of column labels

    field = match_label(text)
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
_TITLE_STAR = str.maketrans({"*": "＊"})  # "*" may not stand in a sheet name


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


def _mask_objects(obj: Any, seen: set[int], titles: dict[str, str]) -> None:
    """Mask every string attribute of an openpyxl chart/drawing object tree, in place
    (titles, rich-text runs, series names, category caches, references to renamed sheets)."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    try:
        attrs = vars(obj)
    except TypeError:
        return
    for name, value in list(attrs.items()):
        if isinstance(value, str):
            new = _mask_reference(value, titles)
            if new != value:
                try:
                    setattr(obj, name, new)
                except (TypeError, ValueError):  # a descriptor that refuses: leave it, the scan decides
                    pass
        elif isinstance(value, (list, tuple)):
            for item in value:
                if not isinstance(item, (str, int, float, bool, type(None))):
                    _mask_objects(item, seen, titles)
        elif value is not None and type(value).__module__.startswith("openpyxl"):
            _mask_objects(value, seen, titles)


def _mask_reference(text: str, titles: dict[str, str]) -> str:
    """A formula or text that may name sheets: renamed sheets follow, the rest is masked."""
    for old, new in titles.items():
        if old in text:
            text = text.replace(old, new)
    return mask_text(text)


def mask_book(wb, *, masked_cells: list[str] | None = None) -> int:
    """Mask an openpyxl workbook in place: every part that can carry text. Returns the
    number of cells changed.

    Cells (text by pattern; the cells below a 身份证号/联系电话/... header by field;
    numbers that are phones or identity numbers become masked text), string literals inside
    the workbook's own formulas, comments and their authors, headers and footers, sheet
    names, defined names, hyperlinks (``tel:`` targets too, and their tooltips), data
    validations, charts and drawings (titles, series, caches) and the document properties
    (core and custom). User text stays text: a masked value is never turned into a formula.
    """
    titles: dict[str, str] = {}
    taken = {ws.title for ws in wb.worksheets}
    for ws in wb.worksheets:
        new = mask_text(ws.title).translate(_TITLE_STAR)
        if new != ws.title:
            base, k = new, 1
            while new in taken:
                k += 1
                new = f"{base[:28]}({k})"
            taken.add(new)
            titles[ws.title] = new
    quoted = {}
    for old, new in titles.items():
        quoted[f"'{old}'!"] = f"'{new}'!"
        quoted[f"{old}!"] = f"'{new}'!"
    changed = 0
    seen: set[int] = set()
    for ws in wb.worksheets:
        headers = _header_fields(ws)
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if value is not None:
                    was_formula = cell.data_type == "f" and isinstance(value, str)
                    if was_formula:
                        new = _FORMULA_LITERAL.sub(lambda m: mask_text(m.group(0)), _mask_sheet_refs(value, quoted))
                    else:
                        head = headers.get(cell.column)
                        field = head[1] if head is not None and cell.row > head[0] else None
                        if field is not None and not isinstance(value, (str, int, float)):
                            field = None  # dates, booleans in such a column are not numbers to mask
                        new = mask_value(value, field)
                    if new != value:
                        cell.value = new
                        changed += 1
                        if masked_cells is not None and len(masked_cells) < 1000:
                            masked_cells.append(f"{ws.title}!{cell.coordinate}")
                    if isinstance(cell.value, str) and not was_formula:
                        cell.data_type = "s"  # user text stays text, whatever it starts with
                if cell.comment is not None:
                    text = cell.comment.text
                    if mask_text(text) != text or mask_text(cell.comment.author or "") != (cell.comment.author or ""):
                        from openpyxl.comments import Comment

                        old = cell.comment
                        cell.comment = Comment(mask_text(text), mask_text(old.author or "") or "xfsheets",
                                               height=old.height, width=old.width)
                link = cell.hyperlink
                if link is not None:
                    for attr in ("target", "location", "tooltip", "display", "ref"):
                        v = getattr(link, attr, None)
                        if isinstance(v, str):
                            nv = _mask_reference(v, quoted) if attr == "location" else mask_text(v)
                            if nv != v:
                                setattr(link, attr, nv)
        for part in (ws.oddHeader, ws.oddFooter, ws.evenHeader, ws.evenFooter,
                     ws.firstHeader, ws.firstFooter):
            for section in (part.left, part.center, part.right):
                if section.text:
                    section.text = mask_text(section.text)
        for dv in getattr(ws.data_validations, "dataValidation", []) or []:
            for attr in ("formula1", "formula2", "prompt", "promptTitle", "error", "errorTitle"):
                v = getattr(dv, attr, None)
                if isinstance(v, str) and mask_text(v) != v:
                    setattr(dv, attr, mask_text(v))
        for chart in getattr(ws, "_charts", []):
            _mask_objects(chart, seen, quoted)
        for image in getattr(ws, "_images", []):
            _mask_objects(getattr(image, "anchor", None), seen, quoted)
        _mask_defined_names(getattr(ws, "defined_names", None), quoted)
    _mask_defined_names(getattr(wb, "defined_names", None), quoted)
    for old, new in titles.items():
        wb[old].title = new
    props = wb.properties
    for attr in ("title", "subject", "creator", "keywords", "description", "lastModifiedBy", "category",
                 "contentStatus", "identifier", "language", "version", "revision"):
        v = getattr(props, attr, None)
        if isinstance(v, str) and mask_text(v) != v:
            setattr(props, attr, mask_text(v))
    custom = getattr(wb, "custom_doc_props", None)
    if custom is not None:
        for prop in list(custom.props):
            value = getattr(prop, "value", None)
            if isinstance(value, str) and mask_text(value) != value:
                prop.value = mask_text(value)
            elif isinstance(value, (int, float)) and mask_value(value) != value:
                custom.props.remove(prop)  # a phone or ID kept as a number property: drop it
            if isinstance(prop.name, str) and mask_text(prop.name) != prop.name:
                prop.name = mask_text(prop.name)
    return changed


def _mask_sheet_refs(formula: str, quoted: dict[str, str]) -> str:
    for old, new in quoted.items():
        formula = formula.replace(old, new)
    return formula


def _mask_defined_names(names, quoted: dict[str, str]) -> None:
    if not names:
        return
    for key in list(names.keys()):
        dn = names[key]
        value = getattr(dn, "attr_text", None) or getattr(dn, "value", None)
        if isinstance(value, str):
            new = _FORMULA_LITERAL.sub(lambda m: mask_text(m.group(0)), _mask_sheet_refs(value, quoted))
            if new != value:
                dn.attr_text = new
        for attr in ("comment", "description", "help", "statusBar", "customMenu"):
            v = getattr(dn, attr, None)
            if isinstance(v, str) and mask_text(v) != v:
                setattr(dn, attr, mask_text(v))
        new_name = mask_text(key).replace("*", "_")
        if new_name != key:
            del names[key]
            dn.name = new_name
            names[new_name] = dn


def mask_workbook(in_path: str | Path, out_path: str | Path) -> dict[str, int]:
    """Write a masked copy of a workbook (:func:`mask_book` on every part), checked by
    :func:`check_workbook` before it is written.

    Styles, column widths, merged cells and charts are kept (openpyxl round trip). The
    output is saved atomically; the input is never modified. Returns ``{"cells": n}``,
    the number of cells changed. Raises :class:`PersonalDataError` when something personal
    is still in the copy (nothing is written then).
    """
    from openpyxl import load_workbook

    from xfsheets.writer import keep_user_formulas, save_workbook

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
    keep_user_formulas(wb)  # the user's own formulas stay formulas; masked text stays text
    changed = mask_book(wb)
    check_workbook(wb, what="脱敏后的工作簿", file=out_path)
    save_workbook(wb, out_path)
    return {"cells": changed}


# --- proving nothing leaks ----------------------------------------------------------

_AS_NUMBER = re.compile(r"(?<![0-9.])[0-9]\.[0-9]{5,}[Ee]\+?1[4-7](?![0-9])")
_CELL_REF = re.compile(r'<(?:\w+:)?c\b[^>]*?\br="([A-Z]+[0-9]+)"')
_CHAR_REF = re.compile(r"&#(x[0-9A-Fa-f]+|[0-9]+);")
_SI = re.compile(r"<(?:\w+:)?si\b")
_SHARED_CELL = re.compile(r'<(?:\w+:)?c\b[^>]*?\br="([A-Z]+[0-9]+)"[^>]*?\bt="s"[^>]*>\s*<(?:\w+:)?v>([0-9]+)<')
_SHARED_CELL_2 = re.compile(r'<(?:\w+:)?c\b[^>]*?\bt="s"[^>]*?\br="([A-Z]+[0-9]+)"[^>]*>\s*<(?:\w+:)?v>([0-9]+)<')


@dataclass(frozen=True)
class PersonalDataHit:
    """Something in a file that looks like an unmasked identity number or phone."""

    part: str  # the file inside the .xlsx (xl/sharedStrings.xml, xl/worksheets/sheet2.xml, ...)
    sheet: str | None  # worksheet name when known
    cell: str | None  # cell reference when known
    kind: str  # id_number | id_number_as_number | mobile | landline
    text: str  # the matched text (it *is* the personal data: do not log it)
    module: str | None = None  # the VBA module (macro code) it is in, for xl/vbaProject.bin

    @property
    def place(self) -> str:
        """Where it is, in Chinese, without the value itself."""
        where = f"「{self.part}」"
        if self.module:
            where += f"，宏（VBA）模块「{self.module}」"
        if self.sheet:
            where += f"，工作表「{self.sheet}」"
        if self.cell:
            where += f" {self.cell} 单元格"
        return f"{where}（{KINDS_CN.get(self.kind, self.kind)} {mask_text(self.text)}）"


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


def _owner_sheets(zf: zipfile.ZipFile, sheets: dict[str, str]) -> dict[str, str]:
    """Parts that belong to one sheet (comments, drawings, charts, the sheet's rels) -> sheet name."""
    import posixpath

    owners: dict[str, str] = {}
    names = set(zf.namelist())
    todo = list(sheets.items())
    while todo:
        part, sheet = todo.pop()
        folder, base = posixpath.split(part)
        rels = posixpath.join(folder, "_rels", base + ".rels")
        if rels not in names:
            continue
        owners[rels] = sheet
        text = zf.read(rels).decode("utf-8", errors="replace")
        for target in re.findall(r'Target="([^"]+)"', text):
            if re.match(r"[a-z]+:", target):  # an external link (http:, tel:, mailto:)
                continue
            path = posixpath.normpath(posixpath.join(folder, target)) if not target.startswith("/") else target[1:]
            if path in names and path not in owners and path not in sheets:
                owners[path] = sheet
                todo.append((path, sheet))
    return owners


def find_personal_data(path: str | Path, *, landlines: bool = True) -> list[PersonalDataHit]:
    """Scan a file for anything that looks like an unmasked identity number or phone.

    For an .xlsx/.xlsm every part is read: sheet XML, shared strings (named by the cells
    that use them), comments, workbook.xml (sheet names, defined names), docProps (core,
    app, custom), drawings and charts, and every relationship file (hyperlink targets such
    as ``tel:``); text files (.eml, .txt, .csv, .html) are scanned as text. The same forms
    :func:`mask_text` masks are recognised (separators, full-width digits, +86, 15-digit
    IDs, area-coded landlines), and an identity number stored as a number counts too.
    """
    path = Path(path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            return _scan_zip(zf, landlines)
    text = path.read_bytes().decode("utf-8", errors="replace")
    return find_in_text(text, path.name, landlines=landlines)


def find_personal_data_in_bytes(data: bytes, name: str = "工作簿", *, landlines: bool = True) -> list[PersonalDataHit]:
    """:func:`find_personal_data` for a file held in memory."""
    import io

    buf = io.BytesIO(data)
    if zipfile.is_zipfile(buf):
        with zipfile.ZipFile(buf) as zf:
            return _scan_zip(zf, landlines)
    return find_in_text(data.decode("utf-8", errors="replace"), name, landlines=landlines)


def _scan_zip(zf: zipfile.ZipFile, landlines: bool) -> list[PersonalDataHit]:
    import bisect

    hits: list[PersonalDataHit] = []
    sheets = _sheet_names_by_part(zf)
    owners = _owner_sheets(zf, sheets)
    shared: dict[int, list[tuple[str, str]]] | None = None
    for name in zf.namelist():
        if name.endswith("/"):
            continue
        raw = zf.read(name)
        if name.lower().endswith("vbaproject.bin"):
            hits.extend(_scan_vba(raw, name, landlines))
            continue
        if name.lower().endswith((".bin", ".png", ".jpeg", ".jpg", ".gif", ".emf", ".wmf")):
            continue  # other binary parts (printer settings, images) hold no typed text
        text = raw.decode("utf-8", errors="replace")
        if "&#" in text:
            text = _CHAR_REF.sub(lambda m: chr(int(m.group(1)[1:], 16) if m.group(1)[0] == "x"
                                               else int(m.group(1))), text)
        found = _find_with_positions(text, name, landlines=landlines, sheet=sheets.get(name) or owners.get(name),
                                     cells=name in sheets)
        if found and name.endswith("sharedStrings.xml"):
            if shared is None:
                shared = _shared_string_cells(zf, sheets)
            starts = [m.start() for m in _SI.finditer(text)]
            located = []
            for hit, pos in found:
                index = bisect.bisect_right(starts, pos) - 1
                users = shared.get(index, [])
                sheet, cell = users[0] if users else (None, None)
                located.append((PersonalDataHit(hit.part, sheet, cell, hit.kind, hit.text), pos))
            found = located
        hits.extend(h for h, _ in found)
    return hits


def vba_modules(data: bytes) -> list[tuple[str, str]]:
    """(module name, source code) of every module of a VBA project (``xl/vbaProject.bin``), read with
    pyopenvba (already what builds our add-in; the code is stored compressed: a byte search would miss
    it). oletools' olevba would do as well, but it needs a Windows-only package that has no wheel,
    which the offline Windows bundle cannot carry."""
    from pyopenvba.cfb import CFB
    from pyopenvba.vba import parse_vba_project

    project = parse_vba_project(CFB.from_bytes(data))
    return [(m.name_unicode or m.name, m.source or "") for m in project.modules]


def _scan_vba(data: bytes, part: str, landlines: bool) -> list[PersonalDataHit]:
    """Personal data in the macros of a workbook: a number in a comment or a string of a module.
    A project olevba cannot read is refused as a whole: what cannot be read cannot be shown clean."""
    try:
        modules = vba_modules(data)
    except Exception:  # the reader raises many types for a damaged project  # noqa: BLE001
        return [PersonalDataHit(part, None, None, "unreadable_vba", "", module="（无法读取）")]
    return [PersonalDataHit(part, None, None, h.kind, h.text, module=module)
            for module, code in modules for h in find_in_text(code, part, landlines=landlines)]


def _shared_string_cells(zf: zipfile.ZipFile, sheets: dict[str, str]) -> dict[int, list[tuple[str, str]]]:
    out: dict[int, list[tuple[str, str]]] = {}
    for part, sheet in sheets.items():
        try:
            text = zf.read(part).decode("utf-8", errors="replace")
        except KeyError:
            continue
        for pattern in (_SHARED_CELL, _SHARED_CELL_2):
            for m in pattern.finditer(text):
                out.setdefault(int(m.group(2)), []).append((sheet, m.group(1)))
    return out


def find_in_text(text: str, where: str, *, landlines: bool = True, sheet: str | None = None,
                 cells: bool = False) -> list[PersonalDataHit]:
    """Personal data in one text (a part of a package, an email header, a file name): a list
    of :class:`PersonalDataHit`; with ``cells`` (a worksheet's XML) each hit names its cell."""
    return [h for h, _ in _find_with_positions(text, where, landlines=landlines, sheet=sheet, cells=cells)]


def _find_with_positions(text: str, where: str, *, landlines: bool, sheet: str | None,
                         cells: bool) -> list[tuple[PersonalDataHit, int]]:
    found: list[tuple[str, int, int]] = []
    for run in NUMBER_RUN.finditer(text):
        for kind, _, (s, e) in _run_spans(run.group(0)):
            if kind == "landline" and not landlines:
                continue
            found.append((kind, run.start() + s, run.start() + e))  # the whole number as typed
    for m in _AS_NUMBER.finditer(text):
        found.append(("id_number_as_number", m.start(), m.end()))
    out = []
    for kind, s, e in sorted(found, key=lambda f: f[1]):
        cell = None
        if cells:
            start = text.rfind("<c ", 0, s)
            ref = _CELL_REF.match(text, start) if start >= 0 else None
            cell = ref.group(1) if ref else None
        out.append((PersonalDataHit(where, sheet, cell, kind, text[s:e]), s))
    return out


class PersonalDataError(XfsheetsError):
    """Something personal is still in an output that goes upward: it was not written or sent."""

    exit_code = 1


_HINT = ("请检查台账中对应位置的文字（常见原因：号码写法特殊）；如经批准确需上报完整信息，"
         "请加 --include-personal-data")
_VBA_HINT = ("号码写在工作簿的宏（VBA 代码）里，脱敏改不了宏代码：请在 Excel/WPS 中把工作簿“另存为”"
             "不含宏的 .xlsx 文件后再发送，或在 VBA 编辑器（Alt+F11）中删去该模块里的号码")


def _refuse(hits: list[PersonalDataHit], what: str, file: str | Path | None) -> None:
    if not hits:
        return
    places = "；".join(h.place for h in hits[:5])
    more = f"等 {len(hits)} 处" if len(hits) > 5 else f"共 {len(hits)} 处"
    hint = _VBA_HINT if any(h.module for h in hits) else _HINT
    raise PersonalDataError(f"{what}中仍有未脱敏的个人信息，已停止，未写出也未发送：{places}（{more}）",
                            file=file, hint=hint)


def check_file(path: str | Path, *, what: str = "输出文件") -> None:
    """Refuse (:class:`PersonalDataError`, exit 1) a file that still holds personal data."""
    _refuse(find_personal_data(path), what, path)


def check_workbook(wb, *, what: str = "输出工作簿", file: str | Path | None = None) -> None:
    """Refuse an openpyxl workbook (as it would be saved) that still holds personal data."""
    import io

    buf = io.BytesIO()
    wb.save(buf)
    _refuse(find_personal_data_in_bytes(buf.getvalue()), what, file)


def check_bytes(data: bytes, *, what: str = "输出文件", file: str | Path | None = None) -> None:
    """Refuse a file held in memory (a package or text) that still holds personal data."""
    _refuse(find_personal_data_in_bytes(data), what, file)


def check_texts(texts: dict[str, str], *, what: str = "邮件", file: str | Path | None = None) -> None:
    """Refuse texts (``{"邮件主题": ..., "正文": ...}``) that still hold personal data."""
    hits = [h for where, text in texts.items() for h in find_in_text(text or "", where)]
    _refuse(hits, what, file)
