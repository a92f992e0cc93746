"""Print the trust table: every command, as a whole process, over every hostile input.

    python tests/hostile/trust_table.py                 # this checkout
    python tests/hostile/trust_table.py --source DIR    # another checkout (e.g. an older commit),
                                                        # run with this interpreter
    python tests/hostile/trust_table.py --attacks       # round 2 (issue 20): one attack a class (attacks.py)

Counts, per command and in all: runs; crashes (killed by a signal, or an exit code outside
0/1/2); tracebacks shown to the user; internal errors (said in Chinese, but a bug all the same); inputs altered; formula cells made of user text in
any workbook written; planted ID numbers and phones found in anything sent upward; rows lost
(a consolidation whose rows out + listed skipped rows fall short of the rows in).
The bombs come from make_bombs.py and are made in a temporary folder, never committed.
Each process gets a 4 GB address-space limit so that a bomb cannot take the machine.
"""
from __future__ import annotations

import argparse
import email
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests"))

from test_trust_contract import formula_cells, leaks, package_texts  # noqa: E402

AS_OF = "2026-11-25"
TEXT_INPUTS = ["formula_text.xlsx", "personal_data.xlsx", "联系人13812345678台账.xlsx", "bad_unit_names.xlsx",
               "control_and_long_text.xlsx"]


def commands(ledger: Path, out: Path) -> dict[str, tuple[list[str], bool]]:
    return {
        "check -o": (["check", ledger, "-o", out / "检查.xlsx", "--json"], False),
        "deadlines -o": (["deadlines", ledger, "-o", out / "时限.xlsx", "--json", "--as-of", AS_OF], False),
        "slips": (["slips", ledger, "-o", out / "交办单", "--as-of", AS_OF], False),
        "slips --overdue-only": (["slips", ledger, "-o", out / "督办单", "--overdue-only", "--as-of", AS_OF], False),
        "consolidate": (["consolidate", ledger, "-o", out / "汇总.xlsx", "--json"], False),
        "report": (["report", ledger, "-o", out / "月报.xlsx", "--as-of", AS_OF, "--from", "2026-01-01"], True),
        "report --zero": (["report", ledger, "--zero", "-o", out / "零报告", "--as-of", AS_OF, "--from",
                           "2026-01-01", "--to", AS_OF], True),
        "mail --eml": (["mail", out / "月报.xlsx", "--eml", out / "报送.eml", "--to", "a@example.gov.cn"], True),
        "check (same file as -o)": (["check", ledger, "-o", ledger], False),
        "report (same file as -o)": (["report", ledger, "-o", ledger, "--as-of", AS_OF], False),
        "consolidate (input as -o)": (["consolidate", ledger, "-o", ledger], False),
    }


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def run(source: Path | None, args: list, timeout: int = 300) -> tuple[int, str, str]:
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = str(source)
    cmd = [sys.executable, "-c", "from xfsheets.cli import main; main()", *map(str, args)]
    try:
        # run from outside any checkout: with -c the current folder comes first on sys.path
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, preexec_fn=_limit,
                           cwd=tempfile.gettempdir())
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return -999, "", "timeout"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def upward_leaks(paths: list[Path]) -> int:
    found = 0
    for p in paths:
        found += len(leaks(p.name))
        data = p.read_bytes()
        if data[:2] == b"PK":
            found += sum(len(leaks(t)) for t in package_texts(data).values())
        elif p.suffix == ".eml":
            msg = email.message_from_bytes(data)
            found += sum(len(leaks(str(v))) for v in msg.values())
            for part in msg.walk():
                payload = part.get_payload(decode=True) or b""
                found += len(leaks(str(part.get_filename() or "")))
                if payload[:2] == b"PK":
                    found += sum(len(leaks(t)) for t in package_texts(payload).values())
                elif payload:
                    found += len(leaks(payload.decode("utf-8", "replace")))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=None, help="run the xfsheets package found in this folder")
    parser.add_argument("--attacks", action="store_true", help="print only the round-2 attack table")
    args = parser.parse_args()
    import attacks
    if args.attacks:
        attacks.print_table(args.source)
        return
    import make_bombs

    rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="xfsheets-trust-") as tmp:
        work = Path(tmp)
        inputs = work / "inputs"
        inputs.mkdir()
        for name in TEXT_INPUTS:
            shutil.copy(HERE / name, inputs / name)
        bombs = [make_bombs.dimension_bomb(inputs / "dimension_bomb.xlsx"),
                 make_bombs.zip_bomb(inputs / "zip_bomb.xlsx"),
                 make_bombs.panic_xlsb(inputs / "panic.xlsb"),
                 make_bombs.far_cell_xls(inputs / "far_cell.xls"),
                 make_bombs.corrupt_zip(inputs / "corrupt.xlsx")]
        ledgers = [inputs / n for n in TEXT_INPUTS] + bombs
        for ledger in ledgers:
            out = work / "out" / ledger.stem
            out.mkdir(parents=True)
            for name, (argv, upward) in commands(ledger, out).items():
                before = {p.name: digest(p) for p in inputs.iterdir()}
                written_before = {p for p in out.rglob("*")}
                code, stdout, stderr = run(args.source, argv)
                row = rows[name]
                row["runs"] += 1
                row["crashes"] += code not in (0, 1, 2)
                row["tracebacks"] += "Traceback" in stdout + stderr
                row["internal errors"] += "程序内部错误" in stderr  # said in Chinese, but still a bug
                after = {p.name: digest(p) for p in inputs.iterdir() if p.name in before}
                row["inputs altered"] += sum(before[k] != v for k, v in after.items()) + len(before) - len(after)
                new = [p for p in out.rglob("*") if p.is_file() and p not in written_before]
                row["formula cells"] += sum(len(formula_cells(p.read_bytes())) for p in new
                                            if p.suffix in (".xlsx", ".xlsm") and p.read_bytes()[:2] == b"PK")
                if upward:
                    row["leaks"] += upward_leaks(new)
                if name == "consolidate" and code in (0, 1):
                    try:
                        doc = json.loads(stdout)
                        listed = sum(len(f.get("skipped") or []) if isinstance(f.get("skipped"), list)
                                     else int(f.get("skipped") or 0) for f in doc.get("files", []))
                        row["rows lost"] += max(0, doc.get("rows_in", 0) - doc.get("rows_out", 0) - listed)
                    except (ValueError, TypeError):
                        row["rows lost"] += 1
    cols = ["runs", "crashes", "tracebacks", "internal errors", "inputs altered", "formula cells", "leaks", "rows lost"]
    print(f"trust table: {len(ledgers)} inputs ({len(TEXT_INPUTS)} hostile ledgers, {len(bombs)} bombs), "
          f"{'source ' + str(args.source) if args.source else 'this checkout'}, {time.time() - started:.0f} s")
    print("| command | " + " | ".join(cols) + " |")
    print("|---|" + "---|" * len(cols))
    total = defaultdict(int)
    for name, row in rows.items():
        print(f"| {name} | " + " | ".join(str(row[c]) for c in cols) + " |")
        for c in cols:
            total[c] += row[c]
    print("| **all** | " + " | ".join(f"**{total[c]}**" for c in cols) + " |")
    print()
    attacks.print_table(args.source)


if __name__ == "__main__":
    main()
