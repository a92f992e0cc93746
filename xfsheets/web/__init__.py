"""The local web page: ``xfsheets serve`` (a door like the CLI, the Excel buttons and the WPS add-in).

- :mod:`xfsheets.web.app`: the Starlette application (token, Host check, CORS, uploads, jobs, downloads);
- :mod:`xfsheets.web.actions`: what each button does, through the same library functions as the CLI;
- ``static/``: the page, its script and its style, shipped in the package (no CDN, works offline).

Security (DESIGN.md, "Local web page and WPS"): the service listens on 127.0.0.1 only; every request carries
the per-start token (``?token=`` or the ``X-Xfsheets-Token`` header); the Host header must name this machine;
CORS is granted only to :data:`WPS_ADDIN_ORIGIN`; uploads are size-limited and read through the reader's
limits guard; everything written goes into the work folder.
"""
from __future__ import annotations

# The WPS JS add-in is installed offline (jsaddons publish mode, `xfsheets wps install`): WPS loads it
# from a folder on disk, so its page has an opaque origin and its requests say `Origin: null` (wpsjs's
# debug server, http://127.0.0.1:3889, is the online mode, not used). Its requests are the only
# cross-origin ones allowed, and like every request they are answered only with the token, which only
# this user can read (the service file, xfsheets.wps.contract.service_file).
WPS_ADDIN_ORIGIN = "null"

# The port `xfsheets serve` listens on unless --port says otherwise (the WPS add-in looks here first).
DEFAULT_PORT = 8765

# The largest file one upload may carry (a 100,000-row ledger is about 15 MB); larger is refused (413).
MAX_UPLOAD_BYTES = 100 * 1024 * 1024

# The header that may carry the token instead of the query string.
TOKEN_HEADER = "X-Xfsheets-Token"
