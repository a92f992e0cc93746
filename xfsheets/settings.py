"""The optional ``xfsheets.toml`` settings file: SMTP defaults for ``xfsheets mail``, and who
issues the slips (``xfsheets slips`` and the 生成交办单 button).

Where it comes from: an explicit ``--config`` file; otherwise the path in the environment variable
``XFSHEETS_CONFIG`` (this PC's own setting); otherwise the clerk's own profile folder:
``%APPDATA%\\xfsheets\\xfsheets.toml`` on Windows, ``$XDG_CONFIG_HOME/xfsheets/xfsheets.toml``
(default ``~/.config/xfsheets/``) elsewhere. Never from the current folder or a folder of input
files: a file dropped there by anyone (a unit's zip unpacked where the clerk works) must not choose
the mail server or add a recipient. A settings file that says where mail goes is shown to the
clerk before a password is used (:func:`mail_destination_notice`).

Example::

    [smtp]
    host = "smtp.example.gov.cn"
    port = 465
    security = "ssl"          # ssl | starttls | none
    user = "xfj@example.gov.cn"
    sender = "县信访局 <xfj@example.gov.cn>"
    timeout = 30
    # cafile = "C:/xfj/单位根证书.pem"   # only when the mail server uses the unit's own CA

    [mail]
    to = ["shixfj@example.gov.cn"]
    cc = []

    [history]
    store = "D:/信访/信访台账历史库_请勿删除.sqlite"   # or postgresql://xfj@192.0.2.10:5432/xfsheets (--store)

    [slips]
    issuing_unit = "XX县信访局"    # 交办单位 / 落款 (--issuing-unit overrides it)
    signer = "王某"               # 签发 (--signer)
    contact = "张某 0773-1234567"  # 联系人及电话 (--contact)

A login (``user``) is only sent over an encrypted connection: ``security`` must be ``ssl``
(usually port 465) or ``starttls`` (usually 587) whenever ``user`` is set. The server's
certificate is always verified, against the system's trusted authorities plus, when the
mail server's certificate comes from the unit's own authority, the PEM file ``cafile``.

The SMTP password is never read from this file (a file holding one is refused): it comes
from the environment variable ``XFSHEETS_SMTP_PASSWORD`` or the system keyring
(``keyring set xfsheets <user>``), see :func:`smtp_password`.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xfsheets.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_NAME = "xfsheets.toml"
PASSWORD_ENV = "XFSHEETS_SMTP_PASSWORD"
CONFIG_ENV = "XFSHEETS_CONFIG"
KEYRING_SERVICE = "xfsheets"
SECURITIES = ("ssl", "starttls", "none")
_SECRET_KEYS = {"password", "passwd", "pass", "pwd", "secret", "token", "密码", "授权码"}


@dataclass
class SmtpSettings:
    host: str | None = None
    port: int | None = None
    security: str | None = None  # None (plain), "starttls" or "ssl"
    user: str | None = None
    sender: str | None = None
    timeout: float = 30.0
    cafile: Path | None = None  # an extra trusted CA (PEM) for the mail server's certificate


@dataclass
class SlipSettings:
    issuing_unit: str | None = None
    signer: str | None = None
    contact: str | None = None


@dataclass
class Config:
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    slips: SlipSettings = field(default_factory=SlipSettings)
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    history_store: str | None = None  # [history] store: a file (relative to this file) or a server URL
    path: Path | None = None


def user_config_dir() -> Path:
    """The per-user folder that may hold ``xfsheets.toml``."""
    if os.name == "nt":
        base = os.environ.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
        return Path(base) / "xfsheets"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "xfsheets"


def find_config() -> Path | None:
    """The settings file in effect, or None when there is none (never one in the current folder)."""
    env = os.environ.get(CONFIG_ENV)
    if env:
        path = Path(env)
        if not path.is_file():
            raise ConfigError(f"环境变量 {CONFIG_ENV} 指向的配置文件不存在", file=path,
                              hint=f"请修正该路径，或删除环境变量 {CONFIG_ENV}")
        return path
    candidate = user_config_dir() / CONFIG_NAME
    return candidate if candidate.is_file() else None


def _check_no_secret(table: dict[str, Any], where: str, path: Path) -> None:
    for key, value in table.items():
        if str(key).strip().lower() in _SECRET_KEYS:
            raise ConfigError(f"配置文件的 [{where}] 中写有密码项「{key}」，为安全起见不允许在文件中保存密码",
                              file=path,
                              hint=f"请删除该项；密码请放在环境变量 {PASSWORD_ENV} 中，"
                                   f"或用命令 keyring set {KEYRING_SERVICE} <用户名> 存入系统钥匙串")
        if isinstance(value, dict):
            _check_no_secret(value, f"{where}.{key}", path)


def _str(table: dict, key: str, section: str, path: Path) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"[{section}] {key} 应为非空文字，现为 {value!r}", file=path,
                          hint=f'例如 {key} = "..."')
    return value.strip()


def _addresses(table: dict, key: str, path: Path) -> list[str]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"[mail] {key} 应为邮箱地址列表，现为 {value!r}", file=path,
                          hint=f'例如 {key} = ["a@example.gov.cn", "b@example.gov.cn"]')
    return [v.strip() for v in value if v.strip()]


def load_config(path: str | Path | None = None) -> Config:
    """Read the settings file (``path``, or the one :func:`find_config` finds); defaults if none."""
    if path is None:
        path = find_config()
        if path is None:
            return Config()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError as exc:
        raise ConfigError("配置文件不存在", file=path, hint="请检查路径") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError("配置文件不是 UTF-8 编码", file=path, hint="请用记事本“另存为”UTF-8 编码") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"配置文件格式有误：{exc}", file=path,
                          hint='TOML 写法如 host = "smtp.example.gov.cn"，文字要加英文双引号') from exc
    _check_no_secret(data, "顶层", path)

    smtp_table = data.get("smtp", {})
    mail_table = data.get("mail", {})
    slips_table = data.get("slips", {})
    history_table = data.get("history", {})
    for name, table in (("smtp", smtp_table), ("mail", mail_table), ("slips", slips_table),
                        ("history", history_table)):
        if not isinstance(table, dict):
            raise ConfigError(f"[{name}] 应为一节设置", file=path, hint=f"写成 [{name}] 开头的一节")

    security = _str(smtp_table, "security", "smtp", path)
    if security is not None:
        security = security.lower()
        if security not in SECURITIES:
            raise ConfigError(f"[smtp] security 只能是 ssl、starttls 或 none，现为「{security}」", file=path,
                              hint="465 端口一般用 ssl，587 端口用 starttls")
        if security == "none":
            security = None
    port = smtp_table.get("port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
        raise ConfigError(f"[smtp] port 应为 1-65535 的整数，现为 {port!r}", file=path, hint="例如 port = 465")
    timeout = smtp_table.get("timeout", 30)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ConfigError(f"[smtp] timeout 应为正数（秒），现为 {timeout!r}", file=path, hint="例如 timeout = 30")

    cafile = _str(smtp_table, "cafile", "smtp", path)
    cafile_path = None
    if cafile is not None:
        cafile_path = Path(cafile)
        if not cafile_path.is_absolute():
            cafile_path = path.parent / cafile_path
        if not cafile_path.is_file():
            raise ConfigError(f"[smtp] cafile 指向的证书文件「{cafile}」不存在", file=path,
                              hint="请写单位根证书（PEM 格式）的完整路径；邮件服务器使用公共证书时不需要这一项")

    smtp = SmtpSettings(
        host=_str(smtp_table, "host", "smtp", path),
        port=port,
        security=security,
        user=_str(smtp_table, "user", "smtp", path),
        sender=_str(smtp_table, "sender", "smtp", path),
        timeout=float(timeout),
        cafile=cafile_path,
    )
    slips = SlipSettings(**{k: _str(slips_table, k, "slips", path) for k in ("issuing_unit", "signer", "contact")})
    store = _str(history_table, "store", "history", path)
    if store and "://" not in store and not Path(store).is_absolute():
        store = str(path.parent / store)
    return Config(smtp=smtp, slips=slips, to=_addresses(mail_table, "to", path), cc=_addresses(mail_table, "cc", path),
                  history_store=store, path=path)


def parse_smtp(value: str | None) -> tuple[str | None, int | None]:
    """``HOST:PORT`` / ``HOST`` / ``[::1]:25`` -> (host, port or None)."""
    import re

    if not value:
        return None, None
    text = value.strip()
    m = re.fullmatch(r"\[(?P<h6>[^\]]+)\](?::(?P<p6>\d+))?|(?P<h>[^:\s]+)(?::(?P<p>\d*))?", text)
    if not m:
        raise ConfigError(f"--smtp「{value}」格式不对，应写成 服务器:端口，如 smtp.example.gov.cn:465")
    host = m.group("h6") or m.group("h")
    port_text = m.group("p6") or m.group("p")
    if not port_text:
        return host, None
    port = int(port_text)
    if not 0 < port < 65536:
        raise ConfigError(f"--smtp 的端口 {port} 无效，应为 1-65535")
    return host, port


def resolve_smtp(config: Config, smtp: str | None = None, *, starttls: bool = False,
                 use_ssl: bool = False) -> tuple[str | None, int | None, str | None]:
    """(host, port, security) of the mail server: the command's ``--smtp``/``--starttls``/``--ssl`` over the
    clerk's settings file. One rule for every command that sends mail."""
    if starttls and use_ssl:
        raise ConfigError("--starttls 与 --ssl 只能选一个（465 端口一般用 --ssl，587 端口用 --starttls）")
    security = "starttls" if starttls else "ssl" if use_ssl else config.smtp.security
    host, port = parse_smtp(smtp)
    if host is None:
        host, port = config.smtp.host, config.smtp.port
    return host, port, security


def mail_destination_notice(path: Path | None, *, host: str | None, port: int | None, to: list[str],
                            cc: list[str]) -> str | None:
    """What the settings file ``path`` decides about where mail goes, in words for the clerk (which
    file, which server, which recipients and cc), or None when it decides nothing. ``host``, ``to``
    and ``cc`` are what the run takes from the file (None or empty where the command line said it)."""
    parts = []
    if host:
        parts.append(f"邮件服务器 {host}" + (f"（端口 {port}）" if port else ""))
    if to:
        parts.append("收件人 " + "、".join(to))
    if cc:
        parts.append("抄送 " + "、".join(cc))
    if path is None or not parts:
        return None
    return (f"注意：本次邮件的去向来自配置文件「{path}」：{'；'.join(parts)}。"
            f"如果这不是您自己的设置，请检查或删除该文件。")


def smtp_password(user: str | None) -> str | None:
    """The SMTP password: ``XFSHEETS_SMTP_PASSWORD``, else the system keyring entry for ``user``.

    Returns None when neither has one (including when no keyring backend is available).
    The value is never logged or printed.
    """
    env = os.environ.get(PASSWORD_ENV)
    if env:
        return env
    if not user:
        return None
    try:
        import keyring
        from keyring.errors import KeyringError

        try:
            return keyring.get_password(KEYRING_SERVICE, user)
        except KeyringError:  # includes NoKeyringError: no backend on this machine
            return None
    except Exception:  # a broken backend must not stop an --eml run or show a traceback
        return None
