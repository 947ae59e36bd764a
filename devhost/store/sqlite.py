"""The SQLite Store: devhost's persistence (instances, histories, message queue, activity work items).

Durability promise: a file store runs in WAL mode with ``synchronous=NORMAL`` and every write method
commits before it returns, so whatever a call committed survives the devhost *process* crashing or
being killed (``kill -9``): the WAL frames are already in the OS, and SQLite replays them on the next
open. It does not promise to survive an OS crash or power cut (that needs ``synchronous=FULL``, an
fsync per commit); then the last commits may be lost, but never half of one.

One store file belongs to one devhost process: opening takes a non-blocking ``flock`` on
``<path>.lock`` (POSIX only; elsewhere no lock is taken). One connection serves every thread, behind a
lock; each public write is one transaction that rolls back entirely if any part of it fails.
``None`` or ``":memory:"`` gives a throwaway in-memory store (``--in-memory``).
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Collection, Iterator, List, Optional, Sequence, Tuple, Union

from devhost.core.model import (
    TERMINAL_STATUSES,
    ActivityWorkItem,
    EventType,
    HistoryEvent,
    Instance,
    InstanceQuery,
    Message,
    RuntimeStatus,
    Turn,
    TurnCommit,
    event_json,
)
from devhost.core.errors import BadRequest, InstanceExists, NotFound, StartupError, StoreInUse

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock; the store then goes unguarded
    fcntl = None  # type: ignore[assignment]

SCHEMA_VERSION = 1
DEFAULT_PAGE_SIZE = 100
BUSY_TIMEOUT_MS = 5000

_UTC = timezone.utc

_SCHEMA = """
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
    cursor TEXT NOT NULL
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

_INSTANCE_COLUMNS = (
    "instance_id, name, execution_id, runtime_status, created_time, last_updated_time, input, output,"
    " custom_status, version, parent_instance_id, parent_execution_id, parent_task_id, cursor"
)
_INSERT_INSTANCE = f"INSERT INTO instances ({_INSTANCE_COLUMNS}) VALUES ({', '.join('?' * 14)})"
_UPDATE_INSTANCE = (
    "UPDATE instances SET name = ?, execution_id = ?, runtime_status = ?, created_time = ?,"
    " last_updated_time = ?, input = ?, output = ?, custom_status = ?, version = ?,"
    " parent_instance_id = ?, parent_execution_id = ?, parent_task_id = ?, cursor = ?"
    " WHERE instance_id = ?"
)
# Most turns change neither runtime_status nor created_time. Assigning an indexed column rewrites its
# index entries even when the value stays the same (two more pages into the WAL per commit), so such
# turns use this statement, which leaves the indexed columns alone.
_UPDATE_INSTANCE_UNINDEXED = (
    "UPDATE instances SET name = ?, execution_id = ?, last_updated_time = ?, input = ?, output = ?,"
    " custom_status = ?, version = ?, parent_instance_id = ?, parent_execution_id = ?, parent_task_id = ?,"
    " cursor = ? WHERE instance_id = ?"
)
_MESSAGE_COLUMNS = "instance_id, execution_id, event, event_type, timer_id, visible_at"
_INSERT_MESSAGE = f"INSERT INTO messages ({_MESSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
# Turn output may address a purged instance (a parent) or an execution that has moved on (a parent
# that continued as new): such messages are dropped rather than queued for nobody.
_INSERT_MESSAGE_IF_ADDRESSEE = (
    f"INSERT INTO messages ({_MESSAGE_COLUMNS}) SELECT ?, ?, ?, ?, ?, ?"
    " WHERE EXISTS (SELECT 1 FROM instances WHERE instance_id = ? AND (? IS NULL OR execution_id = ?))"
)
_INSERT_ACTIVITY = "INSERT INTO activities (instance_id, execution_id, task_id, name, input) VALUES (?, ?, ?, ?, ?)"

_SUSPENDED = RuntimeStatus.SUSPENDED.value
_DELIVERED_WHILE_SUSPENDED = (int(EventType.EXECUTION_RESUMED), int(EventType.EXECUTION_TERMINATED))
# A message ``m`` of instance ``i`` is deliverable when it is not tied to an older execution and the
# instance is not Suspended, or the message is one that ends a suspension (resume, terminate).
_DELIVERABLE = (
    "(m.execution_id IS NULL OR m.execution_id = i.execution_id)"
    f" AND (i.runtime_status <> '{_SUSPENDED}'"
    f" OR m.event_type IN ({_DELIVERED_WHILE_SUSPENDED[0]}, {_DELIVERED_WHILE_SUSPENDED[1]}))"
)

PathArg = Union[str, "os.PathLike[str]", None]


class SqliteStore:
    """The :class:`devhost.store.base.Store` on one SQLite database file (or in memory)."""

    def __init__(self, path: PathArg = None) -> None:
        self._lock = threading.Lock()
        self._closed = False
        self._lock_fd: Optional[int] = None
        in_memory = path is None or os.fspath(path) == ":memory:"
        self.path: Optional[Path] = None if in_memory else Path(os.fspath(path))  # type: ignore[arg-type]
        target = ":memory:"
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StartupError(f"cannot create the directory of store {self.path}: {exc}") from exc
            self._lock_fd = _lock_store_file(self.path)
            target = str(self.path)
        try:
            # isolation_level=None: transactions are opened explicitly (BEGIN IMMEDIATE) per write call.
            self._conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            self._release_file_lock()
            raise StartupError(f"cannot open store {self.path}: {exc}") from exc
        try:
            self._configure(in_memory)
            self._ensure_schema()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            self._release_file_lock()
            raise StartupError(f"store {self.path} is not a usable SQLite database: {exc}") from exc
        except BaseException:
            self._conn.close()
            self._release_file_lock()
            raise

    # --- opening and closing ---------------------------------------------------------------------
    def _configure(self, in_memory: bool) -> None:
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        if not in_memory:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StartupError(f"store {self.path} cannot use WAL journal mode (got {mode!r})")
            conn.execute("PRAGMA synchronous = NORMAL")

    def _ensure_schema(self) -> None:
        conn = self._conn
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                raise StartupError(f"{self.path} is an SQLite database but not a devhost store")
            conn.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
        elif version != SCHEMA_VERSION:
            raise StartupError(
                f"store {self.path} has schema version {version}, this devhost supports version "
                f"{SCHEMA_VERSION}; use a matching devhost or another store path"
            )

    def _release_file_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor drops the flock
            self._lock_fd = None

    def close(self) -> None:
        """Close the database and release the store lock. Closing twice is harmless."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._conn.close()
            self._release_file_lock()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _guard(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._closed:
                raise RuntimeError("the store is closed")
            yield self._conn

    @staticmethod
    @contextmanager
    def _transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # SQLite may already have rolled back (e.g. on SQLITE_FULL)
                conn.execute("ROLLBACK")
            raise

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        with self._guard() as conn, self._transaction(conn):
            yield conn

    # --- instances -------------------------------------------------------------------------------
    def create_instance(self, instance: Instance, start: Message) -> None:
        if start.instance_id != instance.instance_id:
            raise ValueError(f"start message is for {start.instance_id!r}, not {instance.instance_id!r}")
        with self._writing() as conn:
            _create_instance(conn, instance)
            conn.execute(_INSERT_MESSAGE, _message_params(start))

    def get_instance(self, instance_id: str) -> Optional[Instance]:
        with self._guard() as conn:
            row = conn.execute(
                f"SELECT {_INSTANCE_COLUMNS} FROM instances WHERE instance_id = ?", (instance_id,)
            ).fetchone()
        return None if row is None else _instance_from_row(row)

    def get_history(self, instance_id: str) -> List[HistoryEvent]:
        with self._guard() as conn:
            rows = conn.execute(
                "SELECT event FROM history WHERE instance_id = ? ORDER BY seq", (instance_id,)
            ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def query_instances(self, query: InstanceQuery) -> Tuple[List[Instance], Optional[str]]:
        top = DEFAULT_PAGE_SIZE if query.top is None else query.top
        if top < 1:
            raise BadRequest(f"top must be at least 1, got {top}")
        where, params = _filter_sql(query, query.statuses)
        if query.continuation_token is not None:
            where.append("(created_time, instance_id) > (?, ?)")
            params.extend(_decode_token(query.continuation_token))
        sql = f"SELECT {_INSTANCE_COLUMNS} FROM instances"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_time, instance_id LIMIT ?"
        with self._guard() as conn:
            rows = conn.execute(sql, (*params, top + 1)).fetchall()  # one extra row: is there a next page?
        page = [_instance_from_row(row) for row in rows[:top]]
        token = _encode_token(rows[top - 1][4], rows[top - 1][0]) if len(rows) > top else None
        return page, token

    def purge_instance(self, instance_id: str) -> int:
        with self._writing() as conn:
            # history, messages and work items go by ON DELETE CASCADE
            return conn.execute("DELETE FROM instances WHERE instance_id = ?", (instance_id,)).rowcount

    def purge_instances(self, query: InstanceQuery) -> int:
        wanted = TERMINAL_STATUSES if not query.statuses else TERMINAL_STATUSES & query.statuses
        if not wanted:
            return 0
        where, params = _filter_sql(query, wanted)
        with self._writing() as conn:
            return conn.execute("DELETE FROM instances WHERE " + " AND ".join(where), params).rowcount

    # --- messages --------------------------------------------------------------------------------
    def send_message(self, message: Message) -> int:
        with self._writing() as conn:
            if not _exists(conn, message.instance_id):
                raise NotFound(f"instance {message.instance_id!r} not found")
            message_id = conn.execute(_INSERT_MESSAGE, _message_params(message)).lastrowid
        assert message_id is not None
        return message_id

    def ready_instances(self, now: datetime, limit: int, exclude: Collection[str] = ()) -> List[str]:
        if limit <= 0:
            return []
        excluded = set(exclude)
        # Order by each instance's first deliverable message, (visible_at, id); ids are zero-padded so
        # the concatenation sorts like the pair. Excluded ids are filtered here, not in SQL, so the
        # statement stays the same whatever their number: fetching len(excluded) extra rows suffices.
        rows = self._read(
            "SELECT m.instance_id, MIN(m.visible_at || printf('%020d', m.id)) AS first_message"
            " FROM messages m JOIN instances i ON i.instance_id = m.instance_id"
            f" WHERE m.visible_at <= ? AND {_DELIVERABLE}"
            " GROUP BY m.instance_id ORDER BY first_message LIMIT ?",
            (_to_text(now), limit + len(excluded)),
        )
        return [row[0] for row in rows if row[0] not in excluded][:limit]

    def next_visible_at(self) -> Optional[datetime]:
        rows = self._read(
            "SELECT m.visible_at FROM messages m JOIN instances i ON i.instance_id = m.instance_id"
            f" WHERE {_DELIVERABLE} ORDER BY m.visible_at LIMIT 1",
            (),
        )
        return _from_text(rows[0][0]) if rows else None

    def load_turn(self, instance_id: str, now: datetime) -> Optional[Turn]:
        with self._guard() as conn:
            row = conn.execute(
                f"SELECT {_INSTANCE_COLUMNS} FROM instances WHERE instance_id = ?", (instance_id,)
            ).fetchone()
            if row is None:
                return None
            instance = _instance_from_row(row)
            history = conn.execute(
                "SELECT event FROM history WHERE instance_id = ? ORDER BY seq", (instance_id,)
            ).fetchall()
            candidates = conn.execute(
                "SELECT id, execution_id, event, event_type, visible_at FROM messages"
                " WHERE instance_id = ? AND visible_at <= ? ORDER BY visible_at, id",
                (instance_id, _to_text(now)),
            ).fetchall()
            suspended = instance.runtime_status is RuntimeStatus.SUSPENDED
            messages: List[Message] = []
            stale: List[Tuple[int]] = []
            for message_id, execution_id, event, event_type, visible_at in candidates:
                if execution_id is not None and execution_id != instance.execution_id:
                    stale.append((message_id,))  # for an execution that is gone: never deliverable
                elif not suspended or event_type in _DELIVERED_WHILE_SUSPENDED:
                    messages.append(
                        Message(instance_id, json.loads(event), _from_text(visible_at), execution_id, message_id)
                    )
            if stale:
                with self._transaction(conn):
                    conn.executemany("DELETE FROM messages WHERE id = ?", stale)
        return Turn(instance, [r[0] for r in history], messages)

    def commit_turn(self, commit: TurnCommit) -> None:
        """Apply one turn (see the Store protocol). If the instance was purged while the turn ran, the
        purge wins: nothing of the turn is written."""
        instance = commit.instance
        instance_id = instance.instance_id
        with self._writing() as conn:
            row = conn.execute(
                "SELECT execution_id, runtime_status, created_time,"
                " (SELECT COALESCE(MAX(seq), -1) FROM history WHERE instance_id = ?1)"
                " FROM instances WHERE instance_id = ?1",
                (instance_id,),
            ).fetchone()
            if row is None:
                return
            old_execution_id, old_status, old_created, last_seq = row
            params = _instance_params(instance)
            if (params[3], params[4]) == (old_status, old_created):
                conn.execute(_UPDATE_INSTANCE_UNINDEXED, (*params[1:3], *params[5:], instance_id))
            else:
                conn.execute(_UPDATE_INSTANCE, (*params[1:], instance_id))
            if commit.consumed_message_ids:
                conn.executemany(
                    "DELETE FROM messages WHERE id = ? AND instance_id = ?",
                    [(message_id, instance_id) for message_id in commit.consumed_message_ids],
                )
            if commit.replace_history:
                conn.execute("DELETE FROM history WHERE instance_id = ?", (instance_id,))
                conn.execute(
                    "DELETE FROM messages WHERE instance_id = ? AND execution_id = ?", (instance_id, old_execution_id)
                )
                conn.execute(
                    "DELETE FROM activities WHERE instance_id = ? AND execution_id = ?",
                    (instance_id, old_execution_id),
                )
                last_seq = -1
            if commit.new_history:
                conn.executemany(
                    "INSERT INTO history (instance_id, seq, event) VALUES (?, ?, ?)",
                    [(instance_id, last_seq + 1 + n, event_json(e)) for n, e in enumerate(commit.new_history)],
                )
            if commit.cancelled_timer_ids:
                conn.executemany(
                    f"DELETE FROM messages WHERE instance_id = ? AND event_type = {int(EventType.TIMER_FIRED)}"
                    " AND timer_id = ?",
                    [(instance_id, timer_id) for timer_id in commit.cancelled_timer_ids],
                )
            for child in commit.new_instances:
                _create_instance(conn, child)
            if commit.new_messages:
                conn.executemany(
                    _INSERT_MESSAGE_IF_ADDRESSEE,
                    [
                        (*_message_params(m), m.instance_id, m.execution_id, m.execution_id)
                        for m in commit.new_messages
                    ],
                )
            if commit.new_activities:
                conn.executemany(_INSERT_ACTIVITY, [_activity_params(a) for a in commit.new_activities])
            if commit.clear_pending:
                conn.execute("DELETE FROM messages WHERE instance_id = ?", (instance_id,))
                conn.execute("DELETE FROM activities WHERE instance_id = ?", (instance_id,))

    # --- activity work items ---------------------------------------------------------------------
    def pending_activities(self, limit: int, exclude: Collection[int] = ()) -> List[ActivityWorkItem]:
        if limit <= 0:
            return []
        excluded = set(exclude)
        rows = self._read(
            "SELECT id, instance_id, execution_id, task_id, name, input FROM activities ORDER BY id LIMIT ?",
            (limit + len(excluded),),
        )
        return [
            ActivityWorkItem(instance_id, execution_id, task_id, name, input_, work_item_id)
            for work_item_id, instance_id, execution_id, task_id, name, input_ in rows
            if work_item_id not in excluded
        ][:limit]

    def complete_activity(self, work_item_id: int, result: Message) -> bool:
        with self._writing() as conn:
            if conn.execute("DELETE FROM activities WHERE id = ?", (work_item_id,)).rowcount == 0:
                return False
            conn.execute(_INSERT_MESSAGE, _message_params(result))
            return True

    # --- helpers ---------------------------------------------------------------------------------
    def _read(self, sql: str, params: Sequence[Any]) -> List[Any]:
        with self._guard() as conn:
            return conn.execute(sql, params).fetchall()


def _lock_store_file(path: Path) -> Optional[int]:
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


def _exists(conn: sqlite3.Connection, instance_id: str) -> bool:
    return conn.execute("SELECT 1 FROM instances WHERE instance_id = ?", (instance_id,)).fetchone() is not None


def _create_instance(conn: sqlite3.Connection, instance: Instance) -> None:
    """Insert ``instance``, replacing a terminal one of that id (its rows cascade away)."""
    row = conn.execute(
        "SELECT runtime_status FROM instances WHERE instance_id = ?", (instance.instance_id,)
    ).fetchone()
    if row is not None:
        if not RuntimeStatus(row[0]).is_terminal:
            raise InstanceExists(f"instance {instance.instance_id!r} already exists and is {row[0]}")
        conn.execute("DELETE FROM instances WHERE instance_id = ?", (instance.instance_id,))
    conn.execute(_INSERT_INSTANCE, _instance_params(instance))


def _filter_sql(query: InstanceQuery, statuses: Optional[Collection[RuntimeStatus]]) -> Tuple[List[str], List[Any]]:
    """WHERE clauses (ANDed) and parameters for the created-time, status and prefix filters."""
    where: List[str] = []
    params: List[Any] = []
    if query.created_from is not None:
        where.append("created_time >= ?")
        params.append(_to_text(query.created_from))
    if query.created_to is not None:
        where.append("created_time <= ?")
        params.append(_to_text(query.created_to))
    if statuses:
        ordered = sorted(RuntimeStatus(s).value for s in statuses)
        where.append(f"runtime_status IN ({', '.join('?' * len(ordered))})")
        params.extend(ordered)
    if query.instance_id_prefix:
        # substr, not LIKE: LIKE is case-insensitive and gives '%' and '_' meaning.
        where.append("substr(instance_id, 1, ?) = ?")
        params.extend((len(query.instance_id_prefix), query.instance_id_prefix))
    return where, params


def _encode_token(created_time: str, instance_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([created_time, instance_id]).encode()).decode("ascii")


def _decode_token(token: str) -> Tuple[str, str]:
    """The (created_time text, instance_id) a page ended at; BadRequest for anything we did not issue."""
    try:
        created_time, instance_id = json.loads(base64.b64decode(token, altchars=b"-_", validate=True))
        if not isinstance(created_time, str) or not isinstance(instance_id, str):
            raise ValueError("token fields must be strings")
        if _to_text(_from_text(created_time)) != created_time:
            raise ValueError("token time is not in the store's format")
    except (ValueError, TypeError) as exc:
        raise BadRequest(f"invalid continuation token {token!r}") from exc
    return created_time, instance_id


def _to_text(when: datetime) -> str:
    """Fixed-width UTC ISO-8601 with microseconds, so text order is time order."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"naive datetime {when!r}: the store takes timezone-aware datetimes")
    return when.astimezone(_UTC).isoformat(timespec="microseconds")


def _from_text(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _instance_params(i: Instance) -> Tuple[Any, ...]:
    return (
        i.instance_id, i.name, i.execution_id, RuntimeStatus(i.runtime_status).value, _to_text(i.created_time),
        _to_text(i.last_updated_time), i.input, i.output, i.custom_status, i.version, i.parent_instance_id,
        i.parent_execution_id, i.parent_task_id, i.cursor,
    )  # fmt: skip


def _instance_from_row(row: Sequence[Any]) -> Instance:
    return Instance(
        instance_id=row[0], name=row[1], execution_id=row[2], runtime_status=RuntimeStatus(row[3]),
        created_time=_from_text(row[4]), last_updated_time=_from_text(row[5]), input=row[6], output=row[7],
        custom_status=row[8], version=row[9], parent_instance_id=row[10], parent_execution_id=row[11],
        parent_task_id=row[12], cursor=row[13],
    )  # fmt: skip


def _message_params(m: Message) -> Tuple[Any, ...]:
    event_type = int(m.event["EventType"])
    # TimerFired messages keep their TimerId in a column so cancelled timers can be deleted by id.
    timer_id = m.event.get("TimerId") if event_type == EventType.TIMER_FIRED else None
    return (m.instance_id, m.execution_id, _dumps(m.event), event_type, timer_id, _to_text(m.visible_at))


def _activity_params(a: ActivityWorkItem) -> Tuple[Any, ...]:
    return (a.instance_id, a.execution_id, a.task_id, a.name, a.input)
