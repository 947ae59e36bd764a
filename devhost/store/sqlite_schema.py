"""Opening a SQLite store: the schema, the connection settings that make commits durable, the file lock.

Durability promise: a file store runs in WAL mode with ``synchronous=NORMAL`` and every write method
commits before it returns, so whatever a call committed survives the devhost *process* crashing or
being killed (``kill -9``): the WAL frames are already in the OS, and SQLite replays them on the next
open. It does not promise to survive an OS crash or power cut (that needs ``synchronous=FULL``, an
fsync per commit); then the last commits may be lost, but never half of one.

One store file belongs to one devhost process: opening takes a non-blocking ``flock`` on
``<path>.lock`` (POSIX only; elsewhere no lock is taken).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from devhost.core.errors import StartupError, StoreInUse

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock; the store then goes unguarded
    fcntl = None  # type: ignore[assignment]

SCHEMA_VERSION = 2
BUSY_TIMEOUT_MS = 5000
WAL_AUTOCHECKPOINT_PAGES = 10_000
"""WAL pages between automatic checkpoints (SQLite's default: 1000). A checkpoint copies each page changed since the
last one into the database file once and fsyncs that file; a long-running instance's turns rewrite the same few
pages (its row, the tail of its history, the queue's index pages), so checkpointing less often saves most of that
work (the 7-day monitor: about one checkpoint per 100 turns at the default, each a few ms of fsync). The WAL grows to
about 40 MB between checkpoints and is checkpointed and removed when the store closes. Durability is unchanged: a
committed transaction is in the WAL either way."""

SCHEMA = """
CREATE TABLE instances (
    instance_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    runtime_status TEXT NOT NULL,
    created_time TEXT NOT NULL,
    last_updated_time TEXT NOT NULL,
    input TEXT,
    output TEXT,
    custom_status TEXT,
    version TEXT NOT NULL,
    parent_instance_id TEXT,
    parent_execution_id TEXT,
    parent_task_id INTEGER,
    cursor TEXT NOT NULL,
    trace_parent TEXT,
    trace_state TEXT
);
CREATE INDEX instances_by_created ON instances (created_time, instance_id);
CREATE INDEX instances_by_status ON instances (runtime_status, created_time, instance_id);

CREATE TABLE history (
    instance_id TEXT NOT NULL REFERENCES instances (instance_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (instance_id, seq)
);

-- AUTOINCREMENT: ids are never reused, so an id the engine still holds (consumed, in flight)
-- cannot come to name a different message or work item after a delete.
CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL REFERENCES instances (instance_id) ON DELETE CASCADE,
    execution_id TEXT,
    event TEXT NOT NULL,
    event_type INTEGER NOT NULL,
    timer_id INTEGER,
    visible_at TEXT NOT NULL
);
CREATE INDEX messages_by_visible_at ON messages (visible_at);
CREATE INDEX messages_by_instance ON messages (instance_id, visible_at);

CREATE TABLE activities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL REFERENCES instances (instance_id) ON DELETE CASCADE,
    execution_id TEXT NOT NULL,
    task_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    input TEXT
);
CREATE INDEX activities_by_instance ON activities (instance_id, execution_id);
"""

# The lifecycle-notification outbox (version 2). No foreign key: a notification the host acknowledged is sent
# even if its instance is purged before the send.
_NOTIFICATIONS = """
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    body TEXT NOT NULL,
    due_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX notifications_by_due ON notifications (due_at, id);
"""
SCHEMA += _NOTIFICATIONS

# MIGRATIONS[n] turns a version-n file into version n+1 (in one transaction with the version bump), so a
# store written by an older devhost opens with its instances intact.
MIGRATIONS: dict[int, str] = {
    1: "ALTER TABLE instances ADD COLUMN trace_parent TEXT; ALTER TABLE instances ADD COLUMN trace_state TEXT;" + _NOTIFICATIONS,
}


def open_database(path: Path | None) -> tuple[sqlite3.Connection, int | None]:
    """A configured connection to the store at ``path`` (None: a private in-memory database) with its
    schema in place, and the descriptor holding the file lock (None in memory). StartupError with a
    one-line message for anything that makes the file unusable; nothing is left open then."""
    lock_fd: int | None = None
    target = ":memory:"
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StartupError(f"cannot create the directory of store {path}: {exc}") from exc
        lock_fd = _lock_store_file(path)
        target = str(path)
    try:
        # isolation_level=None: transactions are opened explicitly (BEGIN IMMEDIATE) per write call.
        conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        release_file_lock(lock_fd)
        raise StartupError(f"cannot open store {path}: {exc}") from exc
    try:
        _configure(conn, path)
        _ensure_schema(conn, path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        release_file_lock(lock_fd)
        raise StartupError(f"store {path} is not a usable SQLite database: {exc}") from exc
    except BaseException:
        conn.close()
        release_file_lock(lock_fd)
        raise
    return conn, lock_fd


def release_file_lock(lock_fd: int | None) -> None:
    if lock_fd is not None:
        os.close(lock_fd)  # closing the descriptor drops the flock


def _configure(conn: sqlite3.Connection, path: Path | None) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if path is not None:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StartupError(f"store {path} cannot use WAL journal mode (got {mode!r})")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")


def _ensure_schema(conn: sqlite3.Connection, path: Path | None) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == 0:
        if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise StartupError(f"{path} is an SQLite database but not a devhost store")
        conn.executescript(f"BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
        return
    while version in MIGRATIONS and version < SCHEMA_VERSION:
        _migrate(conn, version)
        version += 1
    if version != SCHEMA_VERSION:
        raise StartupError(
            f"store {path} has schema version {version}, this devhost supports version "
            f"{SCHEMA_VERSION}; use a matching devhost or another store path"
        )


def _migrate(conn: sqlite3.Connection, version: int) -> None:
    """Apply MIGRATIONS[version] and set the next version, all or nothing (executescript would commit
    statement by statement, so the statements run one by one inside an explicit transaction)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in MIGRATIONS[version].split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version + 1}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _lock_store_file(path: Path) -> int | None:
    """Take the one-process-per-store lock on ``<path>.lock``; the descriptor holds it until closed."""
    if fcntl is None:  # pragma: no cover
        return None
    lock_path = f"{path}.lock"
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StartupError(f"cannot create the lock file {lock_path}: {exc}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise StoreInUse(f"store {path} is in use by another devhost process") from None
    return fd
