from __future__ import annotations

import os

# xlwings registers its `remote` engine when it is first imported, and only with a key:
# the button tests use it (PolyForm Noncommercial: testing is a permitted use). Set for
# the test session only; the product itself needs no key.
os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")

import hashlib
import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def data_dir() -> Path:
    return DATA


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def soffice() -> str:
    """The LibreOffice binary, or skip with the reason."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        pytest.skip("LibreOffice (soffice) is not installed: .ci/run installs libreoffice-calc-nogui")
    return exe


# --- the clerk's own settings, and a real SMTP server (tests of mail, settings and reminders) -------

@pytest.fixture
def isolated_settings(tmp_path, monkeypatch) -> Path:
    """No settings file, password or keyring of the machine running the tests: the current folder is
    tmp_path and the clerk's profile folder a fresh one under it (returned; not created)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config-home"))
    monkeypatch.setenv("APPDATA", str(tmp_path / "config-home"))
    monkeypatch.delenv("XFSHEETS_CONFIG", raising=False)
    monkeypatch.delenv("XFSHEETS_SMTP_PASSWORD", raising=False)
    monkeypatch.setattr("keyring.get_password", lambda service, user: None)
    return tmp_path / "config-home" / "xfsheets"


class Recorder:
    """aiosmtpd handler: records every message; refuses the recipients in ``reject``."""

    def __init__(self, reject=()):
        self.reject = set(reject)
        self.messages: list[dict] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.reject:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append({
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": envelope.original_content or envelope.content,
            "auth": session.auth_data,
            "tls": session.ssl is not None,
        })
        return "250 Message accepted for delivery"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    """Factory: start an aiosmtpd server on 127.0.0.1 (free port); stopped after the test."""
    from aiosmtpd.controller import Controller

    started = []

    def start(handler=None, **kwargs):
        handler = handler or Recorder()
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        started.append(controller)
        return handler, port

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture
def windows(monkeypatch, tmp_path):
    """A Windows user's folders under tmp_path (sys.platform, %APPDATA%, %USERPROFILE%), with Excel found and a
    Windows Python as the default interpreter (the add-in and installer tests)."""
    import sys

    from xfsheets import addin
    import xfsheets.xlsm

    home = tmp_path / "Users" / "clerk"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("APPDATA", str(home / "AppData" / "Roaming"))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setattr(addin, "_conf_encoding", lambda: "gbk")
    monkeypatch.setattr(addin, "find_excel", lambda: r"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE")
    monkeypatch.setattr(xfsheets.xlsm, "default_interpreter", lambda: r"C:\Python312\pythonw.exe")
    return home
