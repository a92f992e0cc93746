"""A throw-away PostgreSQL server for the history store's server mode.

`.ci/run` starts one (Debian's package, a temporary data directory) and exports XFSHEETS_TEST_PG. Where
that variable is not set, ``server()`` starts one itself from the Debian binaries (as the ``postgres``
user when run as root, since PostgreSQL refuses to run as root), and stops it at the end. Where neither
can be done, it says why, and the tests that need it are skipped with that message.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@contextlib.contextmanager
def server() -> Iterator[str]:
    """Yields an SQLAlchemy URL of an empty database, or raises RuntimeError saying why there is none."""
    given = os.environ.get("XFSHEETS_TEST_PG")
    if given:
        yield given
        return
    if not BIN_DIRS:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql; .ci/run does it)")
    bindir = BIN_DIRS[0]
    if os.geteuid() == 0 and not shutil.which("runuser"):
        raise RuntimeError("running as root without runuser: cannot start PostgreSQL as another user")
    data = Path(tempfile.mkdtemp(prefix="xfsheets-pg-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(data, "postgres", "postgres")
        port = _free_port()
        subprocess.run(_as_postgres([str(bindir / "initdb"), "-D", str(data / "db"), "-U", "postgres",
                                     "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]),
                       check=True, capture_output=True)
        subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data / "db"), "-w", "-l",
                                     str(data / "log"), "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1",
                                     "start"]), check=True, capture_output=True)
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data / "db"), "-m", "immediate",
                                         "stop"]), capture_output=True)
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"could not start PostgreSQL: {exc.stderr.decode(errors='replace')[-300:]}") from exc
    finally:
        shutil.rmtree(data, ignore_errors=True)
