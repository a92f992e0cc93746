"""A command whose output is piped into a reader that stops early (`xfsheets deadlines --json | head`) stops
quietly: no traceback, no Chinese "internal error" on a clerk's screen."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "xfsheets" / "samples" / "县信访局台账.xlsx"


def test_a_reader_that_stops_early_gets_no_traceback():
    proc = subprocess.Popen([sys.executable, "-m", "xfsheets", "deadlines", str(SAMPLE), "--json",
                             "--as-of", "2026-11-25"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read().decode("utf-8", "replace")
    code = proc.wait(timeout=120)
    assert first.strip() == b"{"
    assert "Traceback" not in err and "程序内部错误" not in err and "Broken pipe" not in err, err
    assert code in (0, 1)
