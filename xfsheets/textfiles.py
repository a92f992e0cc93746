"""Reading the user's own text files (profiles, rule sets, holiday lists, settings).

Offices save text files with whatever their editor uses: UTF-8 (with or without a BOM),
GBK/GB18030 from Notepad on a Chinese Windows, sometimes UTF-16. Every such file is read
through :func:`read_text`, and every TOML file through :func:`load_toml`, so that a file
saved in GBK works and a broken one gets a Chinese message with the line and column.
"""
from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any

from xfsheets.errors import ConfigError

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_text(data: bytes) -> str | None:
    """Bytes a Chinese office saved as text: a BOM decides, else UTF-8, else GB18030 (a superset
    of GBK); None when it is none of these."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding)
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def read_text(path: str | Path, what: str = "文件") -> str:
    """The text of ``path``: a BOM decides, else UTF-8, else GB18030 (a superset of GBK)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"找不到{what}", file=path, hint="请检查路径是否正确") from None
    except IsADirectoryError:
        raise ConfigError(f"{what}「{path}」是一个文件夹", file=path, hint="请写出文件名") from None
    except OSError as exc:
        raise ConfigError(f"无法读取{what}：{exc.strerror or exc}", file=path, hint="请检查文件权限") from exc
    text = decode_text(data)
    if text is not None:
        return text
    raise ConfigError(f"{what}的文字编码无法识别（既不是 UTF-8 也不是 GBK）", file=path,
                      hint="请用记事本打开后“另存为”，编码选 UTF-8")


def load_toml(path: str | Path, what: str = "配置文件", hint: str | None = None) -> dict[str, Any]:
    """A TOML file as a dict; a syntax error names the line and column."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    text = read_text(path, what)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        col = getattr(exc, "colno", None)
        where = f"第 {line} 行第 {col} 个字符处" if line else ""
        raise ConfigError(f"{what}格式有误：{where}{getattr(exc, 'msg', exc)}", file=path, row=line,
                          hint=hint or "请按 TOML 格式书写，例如 [labels] 下一行写 \"来件时间\" = \"received_on\"") from exc


def require_table(data: dict, key: str, path: str | Path, example: str) -> dict:
    """``data[key]`` when it is a table (``{}`` when absent); otherwise a message saying so."""
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"配置项 {key} 应是一个表（[{key}] 下面逐行写 名称 = 值），现在是「{value}」", file=path,
                          hint=f"例如：\n[{key}]\n{example}")
    return value
