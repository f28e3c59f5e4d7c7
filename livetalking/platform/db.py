"""Engine, sessions and schema migrations (Alembic) for SQLite and PostgreSQL; how long a write waits for a lock,
and which database errors mean "busy, try again"."""

import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session, create_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
T = TypeVar("T")
BACKGROUND_BUSY_TIMEOUT_S = 30.0
# Connections kept open: the API's worker threads (AnyIO's 40) plus the commits and audit writes beside them, so a
# request neither waits for a connection nor pays for a new one (a PostgreSQL connection forks a server process).
POOL_SIZE, POOL_OVERFLOW = 50, 20
SQLITE_BUSY = ("database is locked", "database is busy", "database table is locked")
POSTGRES_BUSY = frozenset({"55P03", "40P01", "40001"})  # lock_not_available, deadlock_detected, serialization_failure
_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
_WRITING = "livetalking_writing"


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain postgresql:// URLs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, busy_timeout_s: float = BACKGROUND_BUSY_TIMEOUT_S) -> Engine:
    """An engine for the URL that waits at most `busy_timeout_s` for a lock (SQLite's busy timeout, PostgreSQL's
    lock_timeout) or a pooled connection; SQLite also gets WAL, foreign keys and a write gate. The API passes its short
    LT_DB_BUSY_TIMEOUT_S; background writers (tasks) keep the longer default."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy_timeout_s},
                               pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, pool_timeout=busy_timeout_s)
        event.listen(engine, "connect", _sqlite_pragmas)
        _install_write_gate(engine, busy_timeout_s)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW,
                         pool_timeout=busy_timeout_s,
                         connect_args={"options": f"-c lock_timeout={round(busy_timeout_s * 1000)}"})


def is_busy(error: BaseException) -> bool:
    """Whether a database error means "locked for longer than the busy timeout" (worth retrying), not a fault."""
    if isinstance(error, PoolTimeout):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if getattr(error.orig, "sqlstate", None) in POSTGRES_BUSY:
        return True
    return any(message in str(error.orig) for message in SQLITE_BUSY)


def _install_write_gate(engine: Engine, timeout_s: float) -> None:
    """Writers of this process take SQLite's write lock one at a time, in arrival order, from the first INSERT,
    UPDATE or DELETE of a transaction to its end. SQLite alone lets waiters poll with growing sleeps (up to 100 ms),
    so under many concurrent writers a late arrival can win over one that waited long and push it past the busy
    timeout. Other processes still meet SQLite's own busy timeout."""
    gate = threading.Lock()

    def enter(conn, _cursor, statement, parameters, _context, _executemany) -> None:
        if conn.info.get(_WRITING) or not _WRITE.match(statement):
            return
        if not gate.acquire(timeout=timeout_s):
            raise OperationalError(statement, parameters, sqlite3.OperationalError("database is locked"))
        conn.info[_WRITING] = True

    def leave(conn) -> None:
        if conn.info.pop(_WRITING, False):
            gate.release()

    def reset(_dbapi_connection, record, _state) -> None:
        if record.info.pop(_WRITING, False):
            gate.release()

    event.listen(engine, "before_cursor_execute", enter)
    event.listen(engine, "commit", leave)
    event.listen(engine, "rollback", leave)
    event.listen(engine.pool, "reset", reset)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def retrying_when_busy(work: Callable[[], T], patience_s: float = BACKGROUND_BUSY_TIMEOUT_S) -> T:
    """`work()`, run again while the database is busy, for up to `patience_s` (each try waits its busy timeout)."""
    deadline = time.monotonic() + patience_s
    while True:
        try:
            return work()
        except (OperationalError, PoolTimeout) as e:
            if not is_busy(e) or time.monotonic() >= deadline:
                raise


def alembic_config(engine: Engine) -> Config:
    """An Alembic config bound to this engine (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision."""
    command.upgrade(alembic_config(engine), "head")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
