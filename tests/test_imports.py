"""A command loads only what it needs: reading a ledger does not load openpyxl (issue 17, item 4)."""
from __future__ import annotations

import subprocess
import sys

from openpyxl.utils import get_column_letter

from xfsheets.reader import column_letter


def test_column_letter_matches_openpyxl():
    for index in [*range(1, 800), 16_383, 16_384, 18_278]:
        assert column_letter(index) == get_column_letter(index)


def test_reading_and_checking_do_not_load_openpyxl():
    code = ("import sys, xfsheets.cli, xfsheets.reader, xfsheets.checks, xfsheets.deadlines; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'openpyxl'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
