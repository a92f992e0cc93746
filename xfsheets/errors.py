"""Errors a user can act on.

Every error the library raises for bad input is an :class:`XfsheetsError` whose
message is Chinese and says what is wrong, where (file, sheet, row, column) and how
to fix it. The CLI and the Excel buttons show ``str(error)`` as is; a traceback is
only shown with ``-v``.
"""
from __future__ import annotations

from pathlib import Path


class XfsheetsError(Exception):
    """A problem with the user's input or environment that the user can fix.

    ``exit_code`` follows the CLI contract: 2 means nothing was done.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.sheet = sheet
        self.row = row
        self.column = column
        self.hint = hint
        super().__init__(self.__str__())

    @property
    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(f"文件「{self.file}」")
        if self.sheet:
            parts.append(f"工作表「{self.sheet}」")
        if self.row is not None:
            parts.append(f"第 {self.row} 行")
        if self.column:
            parts.append(f"{self.column} 列")
        return "，".join(parts)

    def __str__(self) -> str:
        text = f"{self.where}：{self.message}" if self.where else self.message
        if self.hint:
            text = f"{text}。{self.hint}" if not text.endswith(("。", "！", "？")) else f"{text}{self.hint}"
        return text


class LedgerReadError(XfsheetsError):
    """A ledger file could not be opened or understood."""


class EncryptedWorkbookError(LedgerReadError):
    """The workbook is password-protected and no (or a wrong) password was given."""


class ConfigError(XfsheetsError):
    """A profile, rule set, holiday file, template or option is wrong."""
