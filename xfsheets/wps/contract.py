"""How the WPS add-in talks to ``xfsheets serve``: the one place both sides read.

The add-in (``addin/main.js``) is a thin door: a 信访台账 button reads the active workbook's file
(``Application.ActiveWorkbook.FullName``, as saved), hands it to the running service through the
same endpoints the page uses (so the same upload limits and reader guard apply), starts the
button's job and opens the page on that job in the browser. WPS never starts the service (the
desktop shortcut "信访台账助手" does, at login or by hand).

What the service must provide (the web door, xfsheets/web/, owns it):

- **the service file** :func:`service_file` — ``{"url": "http://127.0.0.1:PORT/", "token": "…",
  "pid": N}`` (UTF-8 JSON), written when the service starts listening (readable by this user only)
  and removed when it stops. The add-in reads it at every press (``wps.FileSystem.ReadFile``): the
  token changes at each start, the port may too.
- **the token** on every request in the :data:`TOKEN_HEADER` header.
- **CORS for** :data:`ADDIN_ORIGIN`: the add-in is installed offline (jsaddons publish mode) and
  WPS loads it from a folder on disk, so its page has an opaque origin and its requests carry
  ``Origin: null`` (not wpsjs's debug server, ``http://127.0.0.1:3889``, which is the online mode).
  Granting "null" lets any local file page *ask*; only a request with the token is answered.
- the endpoints in :data:`ENDPOINTS` and the action names of :data:`BUTTON_ACTIONS`.
"""
from __future__ import annotations

from pathlib import Path

from xfsheets.web import DEFAULT_PORT, TOKEN_HEADER  # noqa: F401  (one fact, the web door's)
from xfsheets.web import WPS_ADDIN_ORIGIN as ADDIN_ORIGIN  # "null": what the service grants CORS to

SERVICE_FILE_NAME = "serve.json"

ENDPOINTS = {
    "health": "/api/health",        # GET: the service is up (and the token right)
    "ledgers": "/api/ledgers",      # DELETE: start from an empty list (the press is about this workbook)
    "upload": "/api/upload",        # PUT ?name=FILE.xlsx, body: the file's bytes
    "run": "/api/run/{action}",     # POST {} -> 202 {"id": JOB, ...}
    "job": "/api/jobs/{job}",       # GET: progress and result
}
PAGE_JOB_FRAGMENT = "#job={job}"  # the page opened on a job: URL?token=…#job=N

# Ribbon callback (macros/customUI.xml's Sub names) -> service action; None: open the page only
# (合并台账 needs the folder's ledgers, chosen on the page; 设置 and 帮助 are the page itself).
BUTTON_ACTIONS: dict[str, str | None] = {
    "CheckLedger": "check",
    "ComputeDeadlines": "deadlines",
    "MakeSlips": "assign",
    "MakeSupervisionSlips": "supervise",
    "MakeReport": "report",
    "ZeroReport": "zero",
    "MergeLedgers": None,
    "ShowSettings": None,
    "ShowHelp": None,
}


def service_file() -> Path:
    """Where the running service says its URL and token (per user: %APPDATA%\\xfsheets\\serve.json on
    Windows, ~/.config/xfsheets/serve.json elsewhere)."""
    from xfsheets.settings import user_config_dir

    return user_config_dir() / SERVICE_FILE_NAME


def config_js(service: Path | None = None) -> str:
    """``config.js`` of an installed add-in: this contract as the add-in's script reads it."""
    import json

    data = {"serviceFile": str(service or service_file()), "tokenHeader": TOKEN_HEADER, "endpoints": ENDPOINTS,
            "pageJob": PAGE_JOB_FRAGMENT, "actions": BUTTON_ACTIONS}
    return ("// Written by `xfsheets wps install` from xfsheets/wps/contract.py; do not edit.\n"
            f"var XFSHEETS = {json.dumps(data, ensure_ascii=False, indent=2)};\n")
