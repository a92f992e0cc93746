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
    code = "input_error"  # stable, like finding codes; each subclass names its own

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
        self.file = printable_path(file) if file is not None else None
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

    def to_dict(self) -> dict:
        """The error as data: what the CLI prints under ``{"error": ...}`` with ``--json``."""
        return {"code": self.code, "message": str(self), "file": self.file, "sheet": self.sheet,
                "row": self.row, "column": self.column}

    def __str__(self) -> str:
        text = f"{self.where}：{self.message}" if self.where else self.message
        if self.hint:
            text = f"{text}。{self.hint}" if not text.endswith(("。", "！", "？")) else f"{text}{self.hint}"
        return text


class LedgerReadError(XfsheetsError):
    """A ledger file could not be opened or understood."""

    code = "ledger_unreadable"


class EncryptedWorkbookError(LedgerReadError):
    """The workbook is password-protected and no (or a wrong) password was given."""

    code = "workbook_encrypted"


class FileNameError(LedgerReadError):
    """A file whose name is not in the encoding this system uses (GBK bytes unpacked on a UTF-8 desktop)."""

    code = "bad_file_name"


def printable_path(path: str | Path) -> str:
    """``path`` as text that can be printed, written to JSON and to a workbook: a name that is not
    valid in this system's encoding (undecodable bytes, kept by Python as surrogates) shows each
    such part's bytes as ``\\xb3\\xc7``, the rest of the path as it is."""
    text = str(path)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        import os
        import re

        def shown(part: str) -> str:
            try:
                part.encode("utf-8")
                return part
            except UnicodeEncodeError:
                return os.fsencode(part).decode("ascii", "backslashreplace")

        return "".join(shown(part) for part in re.split(r"([\\/])", text))


def file_name_problem(path: str | Path) -> FileNameError | None:
    """The error to give for a file whose name this system cannot spell, else None. A Windows zip
    unpacked on a Linux desktop leaves names as GBK bytes: say what the name probably reads as."""
    text = str(path)
    try:
        text.encode("utf-8")
        return None
    except UnicodeEncodeError:
        pass
    import os

    raw = os.fsencode(Path(text).name)
    try:
        guess = raw.decode("gb18030")
        probably = f"按 GBK 编码解读应为「{guess}」，"
    except UnicodeDecodeError:
        probably = ""
    return FileNameError(f"文件名不是本系统使用的编码（多为在 Windows 上压缩、在本机解压的文件），{probably}"
                         "无法可靠地读取和显示它", file=path,
                         hint="请把文件改成正常的中文或英文名字后重新运行（内容没有问题时无需重新索取）")


class ConfigError(XfsheetsError):
    """A profile, rule set, holiday file, template or option is wrong."""

    code = "config_invalid"


class InternalError(XfsheetsError):
    """Something xfsheets did not expect: said in Chinese, never as a traceback."""

    code = "internal_error"


def os_reason(exc: OSError) -> tuple[str, str]:
    """What an operating-system refusal means to a clerk, and what to do about it."""
    import errno

    reasons = {errno.ENOSPC: ("磁盘空间已满", "请清理磁盘后重试"),
               errno.EACCES: ("没有权限（文件夹只读，或文件正在 Excel/WPS 中打开）",
                              "请检查文件或文件夹的权限，或关闭正在 Excel/WPS 中打开的文件"),
               errno.EPERM: ("没有权限", "请检查文件或文件夹的权限"),
               errno.EROFS: ("文件夹是只读的（如写保护的 U 盘）", "请换一个可写的文件夹"),
               errno.ENOENT: ("找不到文件或文件夹", "请检查路径"),
               errno.ENAMETOOLONG: ("文件名太长", "请换一个短一些的文件名或文件夹")}
    return reasons.get(exc.errno, (exc.strerror or "读写失败", "请检查路径和权限后重试"))


def from_unexpected(exc: BaseException) -> XfsheetsError:
    """An exception no part of xfsheets turned into a message (an OS error, a reader's panic,
    a bug) as an error a clerk can read; the traceback stays behind ``-v``."""
    if isinstance(exc, XfsheetsError):
        return exc
    if isinstance(exc, OSError):
        what, hint = os_reason(exc)
        err = XfsheetsError(f"读写文件时出错：{what}", file=exc.filename, hint=hint + "；原台账没有被改动")
        err.code = "os_error"
        return err
    if isinstance(exc, MemoryError):
        err = XfsheetsError("内存不足，处理中止", hint="请分批处理（如按月份拆分台账），原台账没有被改动")
        err.code = "out_of_memory"
        return err
    return InternalError(f"程序内部错误（{type(exc).__name__}：{str(exc)[:200]}）",
                         hint="原台账没有被改动。请加 -v 重新运行，把显示的信息发给技术支持")
