"""The shortcut 信访台账助手 (desktop, Start menu): open the page of the running service, or start it.

``python -m xfsheets.wps.launch`` is what the installer's shortcuts run. The service may already be
running (the Startup shortcut starts ``xfsheets serve --no-browser`` at login): then a second
``serve`` would only find its port taken, so the page of the running one is opened instead, found
through the service file (:func:`xfsheets.wps.contract.service_file`) and confirmed with its token.
"""
from __future__ import annotations

import json
import sys
import urllib.request
import webbrowser

from xfsheets.wps.contract import ENDPOINTS, TOKEN_HEADER, service_file


def running_page(timeout: float = 2.0) -> str | None:
    """The page URL (with its token) of the service that is running now, or None."""
    try:
        info = json.loads(service_file().read_text(encoding="utf-8"))
        base, token = str(info["url"]).split("?")[0].rstrip("/"), str(info["token"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not base.startswith("http://127.0.0.1:"):
        return None  # only this machine's loopback service is ever opened
    request = urllib.request.Request(base + ENDPOINTS["health"], headers={TOKEN_HEADER: token})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310 (loopback, checked above)
            if reply.status != 200:
                return None
    except (OSError, ValueError):
        return None
    return f"{base}/?token={token}"


def main(argv: list[str] | None = None) -> int:
    page = running_page()
    if page is not None:
        webbrowser.open(page)  # honours BROWSER
        print(f"信访台账助手已经在运行，已打开它的网页：{page}")
        return 0
    from xfsheets.cli import main as cli

    return cli(["serve", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
