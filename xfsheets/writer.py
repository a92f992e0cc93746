"""Writing workbooks: atomic saves and shared styles.

Every output file is written to a temporary file in the destination folder and
renamed into place only when complete, so an interrupted run never leaves a
half-written workbook (and never replaces a good one with a broken one).
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from xfsheets.errors import XfsheetsError


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` on success.

    On any exception the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise XfsheetsError(f"无法创建输出文件夹「{folder}」：{exc.strerror}",
                            hint="请检查路径和写入权限") from exc
    fd, tmp = tempfile.mkstemp(prefix=".~xfsheets-", suffix=path.suffix, dir=folder)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        try:
            os.replace(tmp_path, path)
        except PermissionError as exc:
            raise XfsheetsError(f"无法写入「{path}」：文件可能正在 Excel/WPS 中打开",
                                hint="请关闭该文件后重试") from exc
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def save_workbook(workbook, path: str | Path) -> Path:
    """Save an openpyxl workbook atomically to ``path``."""
    path = Path(path)
    with atomic_path(path) as tmp:
        workbook.save(tmp)
    return path
