"""Where the history lives: one SQLite file beside the ledgers, or a PostgreSQL server; one schema.

The schema is SQLAlchemy Core, so the same tables and queries run on both. A store carries its schema
version (refused when newer than this program, migrated forward when older) and the key of the keyed
hash that lets masked personal data still be matched (the key lives only in the store).

On a shared folder SQLite keeps its classic rollback journal (WAL needs shared memory, which network
drives do not give) and one writer at a time holds a lock file that says who it is; a second writer is
told who holds it. On PostgreSQL the same is done with an advisory lock.
"""
from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import os
import secrets
import socket
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from xfsheets.errors import XfsheetsError

SCHEMA_VERSION = 1
STORE_NAME = "信访台账历史库_请勿删除.sqlite"  # the name tells a clerk what it is and not to delete it
LOCK_STALE = dt.timedelta(hours=2)  # a lock file older than this was left by a run that died
_PG_LOCK_KEY = 7_140_325_511  # pg advisory lock id for "one writer at a time"


class HistoryStoreError(XfsheetsError):
    """The history store cannot be opened, is from a newer version, is damaged or is in use."""

    code = "history_store"


metadata = sa.MetaData()

meta = sa.Table("meta", metadata, sa.Column("key", sa.String(64), primary_key=True),
                sa.Column("value", sa.Text, nullable=False))

snapshots = sa.Table(
    "snapshots", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("taken_at", sa.String(32), nullable=False),  # ISO date-time, local clock
    sa.Column("as_of", sa.String(10), nullable=False),  # the day the flags were computed for
    sa.Column("policy_digest", sa.String(64), nullable=False),
    sa.Column("policy_json", sa.Text, nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("matters", sa.Integer, nullable=False),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("clashes", sa.Text, nullable=True),  # JSON list of 信访件编号 more than one row carried
)

snapshot_files = sa.Table(
    "snapshot_files", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("snapshot_id", sa.Integer, sa.ForeignKey("snapshots.id"), nullable=False, index=True),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
)

matters = sa.Table(
    "matters", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_snapshot", sa.Integer, sa.ForeignKey("snapshots.id"), nullable=False),
    sa.Column("merged_into", sa.Integer, nullable=True),  # `history link` folded this matter into another
)

versions = sa.Table(
    "versions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("matter_id", sa.Integer, sa.ForeignKey("matters.id"), nullable=False, index=True),
    sa.Column("snapshot_id", sa.Integer, sa.ForeignKey("snapshots.id"), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),  # keyed hash of the unmasked values
    sa.Column("values_json", sa.Text, nullable=False),  # field -> value, personal data masked
)

# One row per matter per snapshot: where it stood and its flag that day (small: ~40 bytes).
presence = sa.Table(
    "presence", metadata,
    sa.Column("snapshot_id", sa.Integer, sa.ForeignKey("snapshots.id"), primary_key=True),
    sa.Column("matter_id", sa.Integer, sa.ForeignKey("matters.id"), primary_key=True),
    sa.Column("version_id", sa.Integer, nullable=False),
    sa.Column("file_id", sa.Integer, nullable=False),
    sa.Column("sheet", sa.Text, nullable=False),
    sa.Column("row", sa.Integer, nullable=False),
    sa.Column("flag", sa.String(20), nullable=False),
    sa.Column("closed", sa.Boolean, nullable=False),  # closed that day, even where the flag cannot tell
    sa.Column("rule", sa.String(12), nullable=False),  # how it was matched: case_id|person|similar|new
)
sa.Index("presence_matter", presence.c.matter_id)

person_keys = sa.Table(
    "person_keys", metadata,
    sa.Column("matter_id", sa.Integer, sa.ForeignKey("matters.id"), primary_key=True),
    sa.Column("kind", sa.String(12), primary_key=True),  # petitioner | id_number | phone
    sa.Column("digest", sa.String(64), primary_key=True),
)
sa.Index("person_keys_digest", person_keys.c.digest)

events = sa.Table(
    "events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("snapshot_id", sa.Integer, sa.ForeignKey("snapshots.id"), nullable=False, index=True),
    sa.Column("matter_id", sa.Integer, sa.ForeignKey("matters.id"), nullable=True, index=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("field", sa.String(40), nullable=True),
    sa.Column("old", sa.Text, nullable=True),
    sa.Column("new", sa.Text, nullable=True),
    sa.Column("file", sa.Text, nullable=True),
    sa.Column("sheet", sa.Text, nullable=True),
    sa.Column("row", sa.Integer, nullable=True),
    sa.Column("detail", sa.Text, nullable=True),
)

decisions = sa.Table(
    "decisions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("matter_a", sa.Integer, nullable=False),
    sa.Column("matter_b", sa.Integer, nullable=False),
    sa.Column("decision", sa.String(10), nullable=False),  # same | different
    sa.Column("at", sa.String(32), nullable=False),
)

audit = sa.Table(
    "audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # report | zero_report | slips | mail | consolidate
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("recipients", sa.Text, nullable=True),
    sa.Column("snapshot_id", sa.Integer, nullable=True),
    sa.Column("detail", sa.Text, nullable=True),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

# The reminders that left (xfsheets.remind): one row per matter, stage, due day and rung, written only after the
# mail server accepted the message, so the same reminder is never sent twice and an unsent one is retried.
reminders = sa.Table(
    "reminders", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("matter", sa.Text, nullable=False),  # 信访件编号, else file/sheet/row
    sa.Column("stage", sa.String(40), nullable=False),
    sa.Column("due_on", sa.String(10), nullable=False),
    sa.Column("rung", sa.String(20), nullable=False),
    sa.Column("unit", sa.Text, nullable=True),
    sa.Column("sent_at", sa.String(32), nullable=False),  # the run's clock (--at), not the machine's
    sa.Column("recipients", sa.Text, nullable=True),
    sa.Column("channel", sa.String(10), nullable=False),  # smtp | eml
    sa.UniqueConstraint("matter", "stage", "due_on", "rung", name="reminders_once"),
)

# Migrations from version N-1 to N, applied in order to an older store (none yet past version 1).
MIGRATIONS: dict[int, Any] = {}


def now() -> str:
    return dt.datetime.now().replace(microsecond=0).isoformat()


def _is_url(text: str) -> bool:
    return text.startswith(("postgresql:", "postgresql+", "postgres:", "sqlite:"))


def _engine_url(target: str) -> sa.URL:
    if target.startswith("postgres://"):
        target = "postgresql://" + target[len("postgres://"):]
    url = sa.make_url(target)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def shown(target: str | Path) -> str:
    """The store as a person may see it: a server URL with its password hidden."""
    text = str(target)
    return _engine_url(text).render_as_string(hide_password=True) if _is_url(text) else text


def locate(store: str | Path | None, ledgers: list[Path] = (), *, create: bool = False,
           cwd: Path | None = None) -> str:
    """The store to use: ``store`` as given (a file or a server URL); else the store file beside the
    first ledger, else in the current folder; a new one beside the first ledger (or in the current
    folder) only when ``create``."""
    if store:
        return str(store)
    cwd = Path(cwd or Path.cwd())
    places = [Path(p).resolve().parent for p in ledgers] + [cwd]
    for folder in places:
        if (folder / STORE_NAME).is_file():
            return str(folder / STORE_NAME)
    if create:
        return str(places[0] / STORE_NAME)
    raise HistoryStoreError(f"没有找到历史库（文件名「{STORE_NAME}」）",
                            hint="先用“xfsheets history record 台账.xlsx”记录一次；历史库在台账所在文件夹，"
                                 "或用 --store 指定")


@dataclass
class Store:
    engine: Engine
    target: str
    key: bytes
    is_sqlite: bool

    def keyed(self, text: str) -> str:
        """The keyed hash used to match personal data that is stored only masked (BLAKE2b in its keyed
        mode, a MAC by design)."""
        return hashlib.blake2b(text.encode("utf-8"), key=self.key, digest_size=16).hexdigest()

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except sa.exc.OperationalError as exc:
            raise _operational(exc, self.target) from exc

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """One writer at a time, in one transaction: all of a run is stored, or none of it."""
        with self._writer_lock():
            try:
                with self.engine.begin() as conn:
                    if not self.is_sqlite:
                        got = conn.execute(sa.text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
                        if not got.scalar():
                            raise HistoryStoreError("历史库正由另一位同志写入", file=shown(self.target),
                                                    hint="请等对方的记录完成后再试")
                    yield conn
            except sa.exc.OperationalError as exc:
                raise _operational(exc, self.target) from exc

    @contextmanager
    def _writer_lock(self) -> Iterator[None]:
        if not self.is_sqlite:
            yield
            return
        lock = Path(self.target + ".lock")
        holder = f"{getpass.getuser()}@{socket.gethostname()} pid {os.getpid()} {now()}"
        for attempt in (1, 2):
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                break
            except FileExistsError:
                try:
                    age = dt.datetime.now() - dt.datetime.fromtimestamp(lock.stat().st_mtime)
                    who = lock.read_text("utf-8", "replace").strip()
                except OSError:
                    age, who = dt.timedelta(0), "另一个程序"
                if attempt == 1 and (age > LOCK_STALE or _dead_here(who)):
                    lock.unlink(missing_ok=True)  # left by a run that died
                    continue
                raise HistoryStoreError(f"历史库正由 {who} 写入", file=self.target,
                                        hint="请等对方的记录完成后再试；如果确认没有人在用（例如上次运行中途断电），"
                                             f"删除同一文件夹里的「{lock.name}」后再试")
        try:
            os.write(fd, holder.encode("utf-8"))
            os.close(fd)
            yield
        finally:
            lock.unlink(missing_ok=True)


def _dead_here(who: str) -> bool:
    """Whether a lock's holder was this computer and its process is gone."""
    parts = who.split()
    if len(parts) < 3 or parts[1] != "pid" or not parts[0].endswith("@" + socket.gethostname()):
        return False
    try:
        os.kill(int(parts[2]), 0)
        return False
    except (ProcessLookupError, ValueError):
        return True
    except PermissionError:
        return False


def _operational(exc: Exception, target: str) -> HistoryStoreError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return HistoryStoreError("历史库正被另一个程序占用", file=shown(target), hint="请稍后再试")
    if "not a database" in text or "malformed" in text or "disk image" in text:
        return HistoryStoreError("历史库文件已损坏，无法读取（程序不会改动它）", file=shown(target),
                                 hint="请从备份恢复这个文件，或把它移走后重新记录")
    if "connect" in text or "connection" in text or "password" in text:
        return HistoryStoreError("连不上历史库服务器", file=shown(target),
                                 hint="请检查服务器地址、端口、用户名和密码，以及网络是否通")
    return HistoryStoreError(f"历史库无法使用（{text.splitlines()[0][:120]}）", file=shown(target),
                             hint="请把这条信息告诉技术人员")


def open_store(target: str, *, create: bool = False) -> Store:
    """Open (and, when ``create``, make) the store at ``target``, migrated to this version."""
    is_url = _is_url(target)
    if not is_url:
        path = Path(target)
        if not path.exists() and not create:
            raise HistoryStoreError("历史库文件不存在", file=target,
                                    hint="先用“xfsheets history record 台账.xlsx”记录一次，或用 --store 指定已有的历史库")
        if path.exists() and path.is_file():
            with open(path, "rb") as fh:
                head = fh.read(16)
            if head and head != b"SQLite format 3\x00":
                raise HistoryStoreError("这个文件不是历史库（不是 SQLite 数据库），程序不会改动它", file=target,
                                        hint="请用 --store 指定正确的历史库文件")
        url = sa.URL.create("sqlite", database=str(path))
    else:
        url = _engine_url(target)
    sqlite = url.get_backend_name() == "sqlite"
    try:
        engine = sa.create_engine(url, future=True, **({"connect_args": {"timeout": 5}} if sqlite else {}))
    except (sa.exc.ArgumentError, ImportError, sa.exc.NoSuchModuleError) as exc:
        raise HistoryStoreError(f"无法识别历史库地址（{exc}）", file=shown(target),
                                hint="文件写路径；服务器写 postgresql://用户@主机:端口/库名") from exc
    if sqlite:
        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # pragma: no cover - runs inside the driver
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=DELETE")  # no WAL: network drives have no shared memory
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
    try:
        with engine.begin() as conn:
            key = _prepare(conn, target, create)
    except sa.exc.DatabaseError as exc:
        engine.dispose()
        raise _operational(exc, target) from exc
    return Store(engine=engine, target=target, key=bytes.fromhex(key), is_sqlite=sqlite)


def _prepare(conn: Connection, target: str, create: bool) -> str:
    inspector = sa.inspect(conn)
    if not inspector.has_table("meta"):
        if inspector.get_table_names():
            raise HistoryStoreError("这个数据库里已有别的表，不是 xfsheets 的历史库，程序不会改动它", file=shown(target),
                                    hint="请为历史库单独建一个数据库（或文件）")
        if not create:
            raise HistoryStoreError("历史库是空的", file=shown(target), hint="先用“xfsheets history record 台账.xlsx”记录一次")
        metadata.create_all(conn)
        key = secrets.token_hex(32)
        conn.execute(meta.insert(), [{"key": "schema_version", "value": str(SCHEMA_VERSION)},
                                     {"key": "hash_key", "value": key}, {"key": "created_at", "value": now()}])
        return key
    values = dict(conn.execute(sa.select(meta.c.key, meta.c.value)).all())
    version = int(values.get("schema_version", "0"))
    if version > SCHEMA_VERSION:
        raise HistoryStoreError(f"历史库由更新版本的 xfsheets 建立（库的版本 {version}，本程序只认到 {SCHEMA_VERSION}）",
                                file=shown(target), hint="请先把本机的 xfsheets 升级到最新版本，再使用这个历史库")
    for step in range(version + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[step](conn)
        conn.execute(meta.update().where(meta.c.key == "schema_version").values(value=str(step)))
    if "hash_key" not in values:
        raise HistoryStoreError("历史库缺少匹配用的密钥，可能被改动过", file=shown(target),
                                hint="请从备份恢复这个文件")
    return values["hash_key"]
