"""Identity numbers and phones as people paste them: one folding rule for every reader of them.

Clerks paste numbers from web pages and WeChat: zero-width and other format characters
(Unicode category Cf: U+200B, U+200C, U+200D, U+2060, U+FEFF, the soft hyphen U+00AD), an
Alt+Enter line break or a run of spaces/tabs in the middle, digits grouped with ``/ _ · ,``,
digits in Chinese numerals (一三九…, 幺三九〇…) or in another script (full-width ０-９,
Arabic-Indic ٠-٩). Before anything looks at such a number (the checker, the masking pass,
the leak scan, the grouping of unit names), the text is folded here:

- NFKC (full-width digits and letters, compatibility forms),
- format characters removed,
- every Unicode decimal digit and every Chinese numeral digit written as an ASCII digit,
- a run of whitespace written as one space (one line break when it holds one).

:func:`fold_digits` gives the folded text; :func:`fold_with_positions` also gives, for each
folded character, the index of the character it came from, so that a caller can hide the
very characters the user typed. :func:`fold_name` is the same rule for names (units,
sheets): NFKC, format characters removed, whitespace runs as one space, trimmed.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any


_FORMAT_PLANES = ((0x0000, 0x10000), (0x11000, 0x11100), (0x13430, 0x13440), (0x1BCA0, 0x1BCA4),
                  (0x1D170, 0x1D180), (0xE0000, 0xE0080))  # where Unicode puts its format characters


def _format_chars() -> str:
    """Every format character (Unicode category Cf) as a regex character class body."""
    ranges: list[tuple[int, int]] = []
    for lo, hi in _FORMAT_PLANES:
        for cp in range(lo, hi):
            if unicodedata.category(chr(cp)) == "Cf":
                if ranges and ranges[-1][1] == cp - 1:
                    ranges[-1] = (ranges[-1][0], cp)
                else:
                    ranges.append((cp, cp))
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)


FORMAT_CHARS = _format_chars()
_FORMAT_RE = re.compile(f"[{FORMAT_CHARS}]")

# The digits Chinese is written with in numbers (an ID or phone read aloud: 幺 for 1, 两 for 2;
# the financial forms 壹贰叁… too). 十/百/千 are not digits: 一百三十 is a quantity, never a phone.
CN_DIGITS = {"〇": "0", "零": "0", "○": "0", "幺": "1", "一": "1", "壹": "1", "二": "2", "两": "2", "贰": "2",
             "三": "3", "叁": "3", "四": "4", "肆": "4", "五": "5", "伍": "5", "六": "6", "陆": "6",
             "七": "7", "柒": "7", "八": "8", "捌": "8", "九": "9", "玖": "9"}
_CN = "".join(CN_DIGITS)

# Characters that may stand inside a typed number (groups and their separators): any Unicode
# digit, a Chinese digit, X (an ID's check character), the separators people use, whitespace
# and format characters. A personal number is always inside one run of these.
SEPARATORS = " \t\r\n\u00a0\u3000\\-.\uff0d\uff0e\u2010-\u2015\u2212()\uff08\uff09/\uff0f_\uff3f\u00b7\u30fb\uff65,\uff0c"
_RUN_CHARS = rf"\d{_CN}XxＸｘ{SEPARATORS}{FORMAT_CHARS}"
NUMBER_RUN = re.compile(rf"[{_RUN_CHARS}]{{7,}}")
_NEEDS_FOLD = re.compile(rf"[{FORMAT_CHARS}{_CN}]|(?![0-9])\d|\s{{2,}}|[\t\r\n\u00a0\u3000]")
_SPACE_RUN = re.compile(r"\s+")


def _fold_char(ch: str) -> str:
    """One character as the number readers see it ("" for a format character)."""
    if ch in CN_DIGITS:
        return CN_DIGITS[ch]
    if "0" <= ch <= "9" or ch.isascii():
        return ch
    if unicodedata.category(ch) == "Cf":
        return ""
    if ch.isdecimal():
        return str(unicodedata.decimal(ch))
    folded = unicodedata.normalize("NFKC", ch)
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() and not c.isascii() else c for c in folded)


def fold_with_positions(text: str) -> tuple[str, list[int]]:
    """``text`` folded (see the module) and, per folded character, its index in ``text``."""
    out: list[str] = []
    positions: list[int] = []
    space = False
    chinese = None  # was the last digit a Chinese numeral? (张三13812345678: 三 is a name, not a digit of it)
    for i, ch in enumerate(text):
        folded = _fold_char(ch)
        if folded.isdigit():
            if chinese is not None and chinese != (ch in CN_DIGITS) and not space:
                out.append(" ")  # where the script changes, a new group of digits starts
                positions.append(i)
            chinese = ch in CN_DIGITS
        elif folded and not folded.isspace():
            chinese = None
        for c in folded:
            if c.isspace():
                c = "\n" if c in "\n\r\u2028\u2029\x0b\x0c\x85" else " "  # a line break stays one
                if space:
                    if c == "\n":
                        out[-1] = c
                    continue
                space = True
            else:
                space = False
            out.append(c)
            positions.append(i)
    return "".join(out), positions


def needs_fold(text: str) -> bool:
    """Whether :func:`fold_digits` could change how the numbers in ``text`` read."""
    return bool(_NEEDS_FOLD.search(text)) or not text.isascii()


def fold_digits(text: str) -> str:
    """``text`` with numbers as readers must see them (see the module): 一三九\u200b1234 5678 ->
    ``13912345678``-like text with the separators the user typed."""
    if text.isascii() and not _NEEDS_FOLD.search(text):
        return text
    return fold_with_positions(text)[0]


def compact_identifier(value: Any) -> Any:
    """One identity number or phone cell folded (see the module), trimmed, a trailing ``x`` as
    ``X`` (None for blank). Spaces stay: :func:`identifier_parts` decides what they separate."""
    if value is None:
        return None
    return _x_last(fold_digits(str(value)).strip()) or None


def fold_name(value: Any) -> Any:
    """A unit or sheet name as one name: NFKC, format characters removed, whitespace runs as one
    space, trimmed. Two spellings that display alike become the same name (None stays None)."""
    if not isinstance(value, str):
        return value
    if value.isascii() and "  " not in value and value == value.strip():
        return value
    text = _FORMAT_RE.sub("", unicodedata.normalize("NFKC", value))
    return _SPACE_RUN.sub(" ", text).strip() or None


# --- the shapes of one identifier ------------------------------------------------------------
# An identity number: 18 characters (17 digits and a digit or X), or a first-generation 15-digit one.
ID_18 = r"\d{17}[\dX]"
ID_15 = r"\d{15}"
# A phone: a mobile (1[3-9] and 9 digits) or a landline with its area code (0771-2345678,
# (0771)2345678), either with +86 / 0086 in front and an extension after (转8001, -8001, 分机8001).
_COUNTRY = r"(?:(?:\+|00)86[-‐]?)?"
_EXTENSION = r"(?:(?:转|分机|-|ext\.?|EXT\.?)\d{1,6})?"
MOBILE = rf"{_COUNTRY}1[3-9]\d{{9}}"
LANDLINE = rf"{_COUNTRY}(?:\(0\d{{2,3}}\)|0\d{{2,3}}-?)[1-9]\d{{6,7}}{_EXTENSION}"
PHONE = rf"(?:{MOBILE}|{LANDLINE})"
_WHOLE = re.compile(rf"(?:{ID_18}|{ID_15}|{PHONE})")
# Between two people's numbers in one cell: 、 / ， , ; ； and a line break. A space, a slash or a
# comma may also group the digits of ONE number (138/1234/5678): split only when every piece is a
# whole number of its own.
_PERSON_SPLIT = re.compile(r"[、,，;；/／\s]+")
JOINER = "、"


def identifier_parts(value: Any) -> list[str]:
    """The identity numbers or phones in one cell, each folded and compact (see :func:`compact_identifier`).

    ``450324199001011234、450325198001011236`` (or the two on two lines) -> two parts;
    ``138/1234/5678`` or ``4503241990 01011234`` (one number typed in groups) -> one part.
    """
    text = compact_identifier(value)
    if not text:
        return []
    if not _PERSON_SPLIT.search(text):
        return [text]
    pieces = [_x_last(p) for p in _PERSON_SPLIT.split(text) if p]
    if len(pieces) > 1 and any(_WHOLE.fullmatch(p) for p in pieces):
        return pieces
    return [_x_last("".join(pieces))]


def identifier_text(value: Any) -> Any:
    """One identity-number or phone cell as the ledger keeps it: its numbers (see
    :func:`identifier_parts`) joined by ``、`` (None for a blank cell)."""
    parts = identifier_parts(value)
    return JOINER.join(parts) if parts else None


def _x_last(text: str) -> str:
    return text[:-1] + "X" if text.endswith("x") else text
