"""Build xfsheets.xlam (the 信访台账 ribbon tab) without Excel.

Run: python macros/build_addin.py [OUT.xlam]      (default: ./xfsheets.xlam)

Starts from xlwings' own ribbon add-in template of the installed (pinned) xlwings,
``quickstart_addin_ribbon.xlam``; swaps its sample module for macros/ribbon.bas and its
customUI for macros/customUI.xml (see xfsheets/addin.py). ``xfsheets excel addin install``
runs the same build on each PC, so the VBA always matches the xlwings Python package there.
"""
from __future__ import annotations

import sys
from pathlib import Path

from xfsheets.addin import ADDIN_FILE, build_addin

if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(ADDIN_FILE)
    print(build_addin(out))
