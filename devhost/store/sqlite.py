"""The SQLite Store: devhost's persistence (instances, histories, message queue, activity work items, outbox).

Every write method commits before it returns; whatever a call committed survives the devhost process
being killed (see :mod:`devhost.store.sqlite_schema` for the durability promise and the one-process file
lock). One connection serves every thread, behind a lock; each public write is one transaction that rolls
back entirely if any part of it fails. A storage fault (disk full, I/O error, locked database) is raised as
:class:`~devhost.core.errors.StoreUnavailable` once the transaction has rolled back (:mod:`devhost.store.faults`).
``None`` or ``":memory:"`` gives a throwaway in-memory database
(``--in-memory`` uses :class:`devhost.store.memory.MemoryStore` instead). The statements and row
conversions are in :mod:`devhost.store.sqlite_rows`, the turn commit in :mod:`devhost.store.sqlite_turn`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Union

from devhost.core.errors import Conflict, InstanceExists, NotFound, StoreUnavailable
from devhost.core.model import (
    ActivityWorkItem,
    HistoryEvent,
    Instance,
    InstanceQuery,
    Message,
    Notification,
    Turn,
    TurnCommit,
)
from devhost.store.codec import DEFAULT_PAGE_SIZE, decode_token, encode_token, from_text, page_size, to_text
from devhost.store.faults import describe, is_fault
from devhost.store.grouping import consumed_ids, unqueued, unrecorded
from devhost.store.history_cache import HistoryCache
from devhost.store.row_cache import Row, RowCache
from devhost.store.sqlite_entities import SqliteEntityStore, ensure_entity_schema
from devhost.store.sqlite_rows import (
    DELIVERABLE,
    INSERT_MESSAGE,
    INSTANCE_COLUMNS,
    STALE,
    create_instance,
    exists,
    filter_sql,
    instance_from_row,
    instance_params,
    message_params,
)
from devhost.store.sqlite_schema import BUSY_TIMEOUT_MS, SCHEMA_VERSION, open_database, release_file_lock
from devhost.store.sqlite_turn import Written, commit_turn

__all__ = ["BUSY_TIMEOUT_MS", "DEFAULT_PAGE_SIZE", "SCHEMA_VERSION", "SqliteStore"]

PathArg = Union[str, "os.PathLike[str]", None]
DELETE_ACTIVITY = "DELETE FROM activities WHERE id = ?"
_INTEGER_COLUMNS = frozenset({INSTANCE_COLUMNS.split(", ").index("parent_task_id")})


class SqliteStore(SqliteEntityStore):
    """The :class:`devhost.store.base.Store` on one SQLite database file (or in memory); the entity methods
    are in :mod:`devhost.store.sqlite_entities`."""

    def __init__(self, path: PathArg = None) -> None:
        self._lock = threading.Lock()
        self._closed = False
        in_memory = path is None or os.fspath(path) == ":memory:"
        self.path: Path | None = None if in_memory else Path(os.fspath(path))  # type: ignore[arg-type]
        self._conn, self._lock_fd = open_database(self.path)
        self._histories = HistoryCache()
        """Write-through cache of history texts (:mod:`devhost.store.history_cache`): safe because the store
        is the file's only writer (the one-process file lock of :mod:`devhost.store.sqlite_schema`)."""
        self._rows = RowCache()
        """Write-through cache of instance rows (:mod:`devhost.store.row_cache`), under the same promise."""
        self._lifecycle = 0
        self._writes = 0
        """Counts write transactions (committed or not): an answer read while it stayed the same still holds."""
        self._guarded = _Guard(self)
        self._transacting = _Transaction(self)
        self._next_message: tuple[int, datetime | None] | None = None
        """The earliest deliverable message's visible_at, with the write count it was read at: the engine asks for
        it several times between two writes (is anything ready, where may time skip), the file only once. A committed
        turn that can have made no message deliverable keeps a "none" answer (:meth:`_still_none_deliverable`):
        most turns of a monitor that waits on activities leave the queue empty."""
        try:
            ensure_entity_schema(self._conn)
        except BaseException:
            self.close()
            raise

    # --- opening and closing ---------------------------------------------------------------------
    def close(self) -> None:
        """Close the database and release the store lock. Closing twice is harmless."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._histories.clear()
            self._rows.clear()
            self._conn.close()
            release_file_lock(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _guard(self) -> _Guard:
        """``with self._guard() as conn``: the connection, under the lock; a storage fault raised inside comes out
        as StoreUnavailable (by then any transaction has rolled back: see :meth:`_transaction`)."""
        return self._guarded

    def _transaction(self, conn: sqlite3.Connection) -> _Transaction:
        """``with self._transaction(conn)``, under :meth:`_guard`: one BEGIN IMMEDIATE … COMMIT, rolled back
        entirely if anything inside (or the COMMIT itself) fails."""
        return self._transacting

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        with self._guard() as conn, self._transaction(conn):
            yield conn

    # --- instances -------------------------------------------------------------------------------
    def create_instance(self, instance: Instance, start: Message) -> None:
        if start.instance_id != instance.instance_id:
            raise ValueError(f"start message is for {start.instance_id!r}, not {instance.instance_id!r}")
        with self._guard() as conn:
            with self._transaction(conn):
                create_instance(conn, instance)
                conn.execute(INSERT_MESSAGE, message_params(start))
            self._histories.drop(instance.instance_id)
            self._rows.drop(instance.instance_id)
            self._lifecycle += 1

    @property
    def lifecycle_version(self) -> int:
        return self._lifecycle

    def get_instance(self, instance_id: str) -> Instance | None:
        with self._guard() as conn:
            row = self._row(conn, instance_id)
        return None if row is None else instance_from_row(row)

    def _row(self, conn: sqlite3.Connection, instance_id: str) -> Row | None:
        row = self._rows.get(instance_id)
        if row is None:
            row = conn.execute(f"SELECT {INSTANCE_COLUMNS} FROM instances WHERE instance_id = ?", (instance_id,)).fetchone()
            if row is not None:
                self._rows.put(row)
        return row

    def get_history(self, instance_id: str) -> list[HistoryEvent]:
        with self._guard() as conn:
            rows = conn.execute("SELECT event FROM history WHERE instance_id = ? ORDER BY seq", (instance_id,)).fetchall()
        return [json.loads(row[0]) for row in rows]

    def query_instances(self, query: InstanceQuery) -> tuple[list[Instance], str | None]:
        top = page_size(query.top)
        where, params = filter_sql(query, query.statuses)
        if query.continuation_token is not None:
            where.append("(created_time, instance_id) > (?, ?)")
            params.extend(decode_token(query.continuation_token))
        sql = f"SELECT {INSTANCE_COLUMNS} FROM instances"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_time, instance_id LIMIT ?"
        with self._guard() as conn:
            rows = conn.execute(sql, (*params, top + 1)).fetchall()  # one extra row: is there a next page?
        page = [instance_from_row(row) for row in rows[:top]]
        token = encode_token(rows[top - 1][4], rows[top - 1][0]) if len(rows) > top else None
        return page, token

    def purge_instance(self, instance_id: str) -> int:
        with self._guard() as conn:
            with self._transaction(conn):
                # history, messages and work items go by ON DELETE CASCADE
                count = conn.execute("DELETE FROM instances WHERE instance_id = ?", (instance_id,)).rowcount
            self._histories.drop(instance_id)
            self._rows.drop(instance_id)
            self._lifecycle += 1
            return count

    def purge_instances(self, query: InstanceQuery) -> int:
        where, params = filter_sql(query, query.statuses)
        with self._guard() as conn:
            with self._transaction(conn):
                count = conn.execute("DELETE FROM instances WHERE " + (" AND ".join(where) or "1"), params).rowcount
            self._histories.clear()  # which ids went is not worth asking: the next loads refill it
            self._rows.clear()
            self._lifecycle += 1
            return count

    # --- messages --------------------------------------------------------------------------------
    def send_message(self, message: Message) -> int:
        with self._writing() as conn:
            if not exists(conn, message.instance_id):
                raise NotFound(f"instance {message.instance_id!r} not found")
            message_id = conn.execute(INSERT_MESSAGE, message_params(message)).lastrowid
        assert message_id is not None
        return message_id

    def ready_instances(self, now: datetime, limit: int, exclude: Collection[str] = ()) -> list[str]:
        if limit <= 0:
            return []
        first = self._next_message_at()
        if first is None or first > now:
            return []  # nothing is deliverable yet: the usual answer of an idle poll, without the grouping query
        excluded = set(exclude)
        # Order by each instance's first deliverable message, (visible_at, id); ids are zero-padded so
        # the concatenation sorts like the pair. Excluded ids are filtered here, not in SQL, so the
        # statement stays the same whatever their number: fetching len(excluded) extra rows suffices.
        rows = self._read(
            "SELECT m.instance_id, MIN(m.visible_at || printf('%020d', m.id)) AS first_message"
            " FROM messages m JOIN instances i ON i.instance_id = m.instance_id"
            f" WHERE m.visible_at <= ? AND {DELIVERABLE}"
            " GROUP BY m.instance_id ORDER BY first_message LIMIT ?",
            (to_text(now), limit + len(excluded)),
        )
        return [row[0] for row in rows if row[0] not in excluded][:limit]

    def next_visible_at(self) -> datetime | None:
        times = [moment for moment in (self._next_message_at(), self.next_entity_visible_at()) if moment is not None]
        return min(times, default=None)

    def _next_message_at(self) -> datetime | None:
        with self._guard() as conn:
            if self._next_message is not None and self._next_message[0] == self._writes:
                return self._next_message[1]
            row = conn.execute(
                "SELECT m.visible_at FROM messages m JOIN instances i ON i.instance_id = m.instance_id"
                f" WHERE {DELIVERABLE} ORDER BY m.visible_at LIMIT 1"
            ).fetchone()
            first = None if row is None else from_text(row[0])
            self._next_message = (self._writes, first)
            return first

    def load_turn(self, instance_id: str, now: datetime) -> Turn | None:
        with self._guard() as conn:
            row = self._row(conn, instance_id)
            if row is None:
                return None
            instance = instance_from_row(row)
            history = self._histories.get(instance_id)
            if history is None:
                rows = conn.execute("SELECT event FROM history WHERE instance_id = ? ORDER BY seq", (instance_id,)).fetchall()
                history = [r[0] for r in rows]
                self._histories.put(instance_id, history)
            if self._next_message == (self._writes, None):
                # No message of any instance is deliverable (the answer read, or kept, since the last write): a
                # turn that takes only arriving activity results (group commit) has nothing to read. Rows of a gone
                # execution, never delivered, are then left for a later load (or the end of the instance) to delete.
                return Turn(instance, history, [])
            # The delivery rule is decided in SQL (DELIVERABLE, STALE); stale rows are deleted on the way.
            candidates = conn.execute(
                f"SELECT m.id, m.execution_id, m.event, m.visible_at, {DELIVERABLE}, {STALE}"
                " FROM messages m JOIN instances i ON i.instance_id = m.instance_id"
                " WHERE m.instance_id = ? AND m.visible_at <= ? ORDER BY m.visible_at, m.id",
                (instance_id, to_text(now)),
            ).fetchall()
            messages: list[Message] = []
            stale: list[tuple[int]] = []
            for message_id, execution_id, event, visible_at, deliverable, gone in candidates:
                if gone:
                    stale.append((message_id,))  # for an execution that is gone: never deliverable
                elif deliverable:
                    messages.append(Message(instance_id, json.loads(event), from_text(visible_at), execution_id, message_id))
            if stale:
                with self._transaction(conn):
                    conn.executemany("DELETE FROM messages WHERE id = ?", stale)
        return Turn(instance, history, messages)

    def commit_turn(self, commit: TurnCommit) -> None:
        """Apply one turn (see the Store protocol) in one transaction."""
        with self._guard() as conn:
            writes = self._writes
            with self._transaction(conn):
                self._entity_writes += bool(commit.new_entity_messages)
                written = commit_turn(conn, commit)
            self._remember(commit, written)
            self._still_none_deliverable(writes, written is None or not written.may_deliver)

    def commit_group(
        self, turns: Sequence[TurnCommit], activity_results: Sequence[tuple[int, Message]] = ()
    ) -> list[Conflict | None]:
        """Group commit (see the Store protocol): one BEGIN IMMEDIATE … COMMIT for everything; a turn that
        creates sub-orchestrations runs inside a SAVEPOINT, so its InstanceExists undoes just that turn. Results
        the turns consumed before they were stored follow :mod:`devhost.store.grouping`."""
        outcomes: list[Conflict | None] = []
        applied: list[tuple[TurnCommit, Written | None]] = []
        with self._guard() as conn:
            writes = self._writes
            with self._transaction(conn):
                self._entity_writes += any(commit.new_entity_messages for commit in turns)
                recorded = [(w, result) for w, result in activity_results if conn.execute(DELETE_ACTIVITY, (w,)).rowcount]
                recorded_ids = {work_item_id for work_item_id, _ in recorded}
                consumed_at_once = unqueued(turns, recorded_ids)  # never queued: an INSERT and a DELETE fewer each
                queued: dict[int, int] = {}  # work item id -> id of its result's message
                for work_item_id, result in recorded:
                    if work_item_id not in consumed_at_once:
                        queued[work_item_id] = conn.execute(INSERT_MESSAGE, message_params(result)).lastrowid or 0
                for commit in turns:
                    rejected = unrecorded(commit, recorded_ids)
                    if rejected is not None:
                        outcomes.append(rejected)
                        continue
                    guarded = bool(commit.new_instances)  # only creating an instance can raise InstanceExists
                    if guarded:
                        conn.execute("SAVEPOINT turn")
                    try:
                        written = commit_turn(conn, commit, consumed_ids(commit, queued))
                    except InstanceExists as exc:
                        conn.execute("ROLLBACK TO turn")
                        conn.execute("RELEASE turn")
                        outcomes.append(exc)
                        continue
                    if guarded:
                        conn.execute("RELEASE turn")
                    outcomes.append(None)
                    applied.append((commit, written))
            for commit, written in applied:  # only now is it durable: the cache follows the file
                self._remember(commit, written)
            self._still_none_deliverable(writes, not queued and not any(w is not None and w.may_deliver for _, w in applied))
        return outcomes

    def _still_none_deliverable(self, writes: int, delivers_nothing_new: bool) -> None:
        """After a committed turn transaction (the one that followed write number ``writes``): if no message was
        deliverable before it and it made none deliverable (it queued none, and changed no execution or
        suspension: :class:`~devhost.store.sqlite_turn.Written`), none is now, and the engine's next look at the
        queue need not ask the file. Called under the lock, after COMMIT."""
        known = self._next_message
        if delivers_nothing_new and known is not None and known == (writes, None):
            self._next_message = (self._writes, None)

    def _remember(self, commit: TurnCommit, written: Written | None) -> None:
        """Bring the history and row caches up to a committed turn (called under the lock, after COMMIT)."""
        instance_id = commit.instance.instance_id
        for child in commit.new_instances:
            self._histories.drop(child.instance_id)
            self._rows.drop(child.instance_id)
        if written is None:
            self._rows.drop(instance_id)  # the turn found its instance gone: nothing was written
        else:
            self._rows.updated(instance_id, instance_params(commit.instance), _INTEGER_COLUMNS)
            self._histories.append(commit.instance.instance_id, written.texts, replace=commit.replace_history)

    # --- activity work items ---------------------------------------------------------------------
    def pending_activities(self, limit: int, exclude: Collection[int] = ()) -> list[ActivityWorkItem]:
        if limit <= 0:
            return []
        excluded = set(exclude)
        rows = self._read(
            "SELECT a.id, a.instance_id, a.execution_id, a.task_id, a.name, a.input, i.trace_parent, i.trace_state"
            " FROM activities a JOIN instances i ON i.instance_id = a.instance_id ORDER BY a.id LIMIT ?",
            (limit + len(excluded),),
        )
        return [
            ActivityWorkItem(instance_id, execution_id, task_id, name, input_, work_item_id, parent, state)
            for work_item_id, instance_id, execution_id, task_id, name, input_, parent, state in rows
            if work_item_id not in excluded
        ][:limit]

    def complete_activity(self, work_item_id: int, result: Message) -> bool:
        with self._writing() as conn:
            if conn.execute(DELETE_ACTIVITY, (work_item_id,)).rowcount == 0:
                return False
            conn.execute(INSERT_MESSAGE, message_params(result))
            return True

    # --- the notification outbox ------------------------------------------------------------------
    def due_notifications(self, now: datetime, limit: int) -> list[Notification]:
        if limit <= 0:
            return []
        rows = self._read(
            "SELECT id, instance_id, body, due_at, attempts FROM notifications WHERE due_at <= ? ORDER BY due_at, id LIMIT ?",
            (to_text(now), limit),
        )
        return [Notification(instance_id, body, from_text(due), attempts, nid) for nid, instance_id, body, due, attempts in rows]

    def next_notification_at(self) -> datetime | None:
        rows = self._read("SELECT due_at FROM notifications ORDER BY due_at LIMIT 1", ())
        return from_text(rows[0][0]) if rows else None

    def delete_notification(self, notification_id: int) -> bool:
        with self._writing() as conn:
            return conn.execute("DELETE FROM notifications WHERE id = ?", (notification_id,)).rowcount == 1

    def retry_notification(self, notification_id: int, due_at: datetime) -> bool:
        with self._writing() as conn:
            cursor = conn.execute(
                "UPDATE notifications SET due_at = ?, attempts = attempts + 1 WHERE id = ?", (to_text(due_at), notification_id)
            )
            return cursor.rowcount == 1

    # --- helpers ---------------------------------------------------------------------------------
    def _read(self, sql: str, params: Sequence[Any]) -> list[Any]:
        with self._guard() as conn:
            return conn.execute(sql, params).fetchall()


# The two context managers every store call goes through are plain classes, not @contextmanager generators: a store
# call is a few microseconds, and creating, starting and closing a generator per ``with`` cost a noticeable part of
# it (several calls per orchestration turn). Each store keeps one of each: they hold no state of a call, and calls
# are serialized by the store's lock anyway.


class _Guard:
    """The store's lock held around one call, refusing a closed store, with storage faults made StoreUnavailable."""

    __slots__ = ("_store",)

    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    def __enter__(self) -> sqlite3.Connection:
        store = self._store
        store._lock.acquire()
        if store._closed:
            store._lock.release()
            raise RuntimeError("the store is closed")
        return store._conn

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            # By now any transaction has rolled back (see _Transaction): nothing of this call was written.
            if isinstance(exc, (sqlite3.Error, MemoryError)) and is_fault(exc):
                raise StoreUnavailable(describe(exc)) from exc
        finally:
            self._store._lock.release()


class _Transaction:
    """One write transaction on the store's connection (the caller holds the guard)."""

    __slots__ = ("_store",)

    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    def __enter__(self) -> sqlite3.Connection:
        store = self._store
        conn = store._conn
        store._writes += 1  # under the lock (every caller holds _guard), before anything is written
        if conn.in_transaction:  # left open by a ROLLBACK that itself failed (an I/O error): end it first
            conn.execute("ROLLBACK")
        conn.execute("BEGIN IMMEDIATE")
        return conn

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        conn = self._store._conn
        if exc is None:
            try:
                conn.execute("COMMIT")  # a COMMIT that fails (SQLITE_BUSY, SQLITE_FULL) leaves nothing committed
                return
            except BaseException:
                _roll_back(conn)
                raise
        _roll_back(conn)


def _roll_back(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:  # SQLite may already have rolled back (e.g. on SQLITE_FULL)
        with suppress(sqlite3.Error):  # the original error says more; the next call retries the ROLLBACK
            conn.execute("ROLLBACK")
