"""The SQLite store's entity tables: entity state records and the per-entity request queue.

Kept apart from the orchestration tables (an entity is not an orchestration instance here, so instance
queries never list entities). The tables are created if missing whenever a store opens, so a store file
written before entities existed gains them without a schema version change. ``SqliteEntityStore`` is mixed
into :class:`devhost.store.sqlite.SqliteStore`; every method is one transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from devhost.core.entities import EntityBatch, EntityCommit, EntityMessage, EntityQuery, EntityRecord
from devhost.store.codec import decode_entity_token, encode_entity_token, from_text, page_size, to_text
from devhost.store.sqlite_rows import INSERT_MESSAGE_IF_ADDRESSEE, message_params

ENTITY_SCHEMA = """
CREATE TABLE IF NOT EXISTS entities (
    entity_id TEXT PRIMARY KEY,
    state TEXT,
    last_modified TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entities_by_modified ON entities (last_modified, entity_id);

-- AUTOINCREMENT: ids are never reused; a queue is read in id order, which is the order of sending.
CREATE TABLE IF NOT EXISTS entity_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id TEXT NOT NULL,
    request TEXT NOT NULL,
    visible_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entity_messages_by_entity ON entity_messages (entity_id, id);
CREATE INDEX IF NOT EXISTS entity_messages_by_visible_at ON entity_messages (visible_at);
"""

INSERT_ENTITY_MESSAGE = "INSERT INTO entity_messages (entity_id, request, visible_at) VALUES (?, ?, ?)"


def ensure_entity_schema(conn: sqlite3.Connection) -> None:
    conn.executescript(f"BEGIN IMMEDIATE; {ENTITY_SCHEMA} COMMIT;")


def entity_message_params(message: EntityMessage) -> tuple[str, str, str]:
    return (message.entity_id, json.dumps(message.request), to_text(message.visible_at))


def insert_entity_messages(conn: sqlite3.Connection, messages: Iterable[EntityMessage]) -> None:
    conn.executemany(INSERT_ENTITY_MESSAGE, [entity_message_params(m) for m in messages])


class SqliteEntityStore:
    """The entity half of the Store protocol on the SQLite connection (see devhost.store.base)."""

    _guard: Any
    _writing: Any
    _entity_writes = 0
    """Counts writes that may change the request queue (every entity method here that writes, and turns that
    send entity requests): the earliest request's time read while it stayed the same still holds."""
    _next_entity: tuple[int, datetime | None] | None = None

    def _read(self, sql: str, params: Sequence[Any]) -> list[Any]:
        raise NotImplementedError  # provided by SqliteStore

    def send_entity_message(self, message: EntityMessage) -> int:
        params = entity_message_params(message)
        with self._writing() as conn:
            self._entity_writes += 1
            message_id = conn.execute(INSERT_ENTITY_MESSAGE, params).lastrowid
        assert message_id is not None
        return int(message_id)

    def ready_entities(self, now: datetime, limit: int, exclude: Collection[str] = ()) -> list[str]:
        if limit <= 0:
            return []
        first = self.next_entity_visible_at()
        if first is None or first > now:
            return []  # no request is visible: most apps have no entities, and this runs every dispatch round
        excluded = set(exclude)
        rows = self._read(
            "SELECT entity_id, MIN(id) AS first FROM entity_messages WHERE visible_at <= ?"
            " GROUP BY entity_id ORDER BY first LIMIT ?",
            (to_text(now), limit + len(excluded)),
        )
        return [row[0] for row in rows if row[0] not in excluded][:limit]

    def next_entity_visible_at(self) -> datetime | None:
        with self._guard() as conn:
            if self._next_entity is not None and self._next_entity[0] == self._entity_writes:
                return self._next_entity[1]
            row = conn.execute("SELECT MIN(visible_at) FROM entity_messages").fetchone()
            first = None if row is None or row[0] is None else from_text(row[0])
            self._next_entity = (self._entity_writes, first)
            return first

    def load_entity_batch(self, entity_id: str, now: datetime, limit: int) -> EntityBatch:
        with self._guard() as conn:
            record = _record(conn, entity_id)
            rows = conn.execute(
                "SELECT id, request, visible_at FROM entity_messages WHERE entity_id = ? AND visible_at <= ? ORDER BY id LIMIT ?",
                (entity_id, to_text(now), max(0, limit)),
            ).fetchall()
        messages = [EntityMessage(entity_id, json.loads(req), from_text(at), mid) for mid, req, at in rows]
        return EntityBatch(entity_id, record, messages)

    def commit_entity_batch(self, commit: EntityCommit) -> None:
        responses = [(*message_params(m), m.instance_id, m.execution_id, m.execution_id) for m in commit.responses]
        signals = [entity_message_params(m) for m in commit.signals]
        state_params = (commit.entity_id, commit.state, to_text(commit.now))
        with self._writing() as conn:
            self._entity_writes += 1
            conn.executemany(
                "DELETE FROM entity_messages WHERE id = ? AND entity_id = ?",
                [(message_id, commit.entity_id) for message_id in commit.consumed_message_ids],
            )
            if commit.exists:
                conn.execute(
                    "INSERT INTO entities (entity_id, state, last_modified) VALUES (?, ?, ?)"
                    " ON CONFLICT (entity_id) DO UPDATE SET state = excluded.state, last_modified = excluded.last_modified",
                    state_params,
                )
            else:
                conn.execute("DELETE FROM entities WHERE entity_id = ?", (commit.entity_id,))
            # A response to an orchestration that is gone or moved to another execution is dropped.
            conn.executemany(INSERT_MESSAGE_IF_ADDRESSEE, responses)
            conn.executemany(INSERT_ENTITY_MESSAGE, signals)

    def get_entity(self, entity_id: str) -> EntityRecord | None:
        with self._guard() as conn:
            return _record(conn, entity_id)

    def query_entities(self, query: EntityQuery) -> tuple[list[EntityRecord], str | None]:
        top = page_size(query.top)
        where, params = _entity_filter(query)
        if query.continuation_token is not None:
            where.append("entity_id > ?")
            params.append(decode_entity_token(query.continuation_token))
        sql = "SELECT entity_id, state, last_modified FROM entities"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._read(sql + " ORDER BY entity_id LIMIT ?", (*params, top + 1))
        page = [EntityRecord(eid, state, from_text(at)) for eid, state, at in rows[:top]]
        token = encode_entity_token(page[-1].entity_id) if len(rows) > top else None
        return page, token

    def purge_entity(self, entity_id: str) -> int:
        with self._writing() as conn:
            self._entity_writes += 1
            conn.execute("DELETE FROM entity_messages WHERE entity_id = ?", (entity_id,))
            return int(conn.execute("DELETE FROM entities WHERE entity_id = ?", (entity_id,)).rowcount)


def _record(conn: sqlite3.Connection, entity_id: str) -> EntityRecord | None:
    row = conn.execute("SELECT state, last_modified FROM entities WHERE entity_id = ?", (entity_id,)).fetchone()
    return None if row is None else EntityRecord(entity_id, row[0], from_text(row[1]))


def _entity_filter(query: EntityQuery) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if query.name is not None:
        # substr, not LIKE: names may hold % or _, and the prefix is compared literally and case-sensitively.
        prefix = f"@{query.name.lower()}@"
        where.append("substr(entity_id, 1, ?) = ?")
        params.extend([len(prefix), prefix])
    if query.last_modified_from is not None:
        where.append("last_modified >= ?")
        params.append(to_text(query.last_modified_from))
    if query.last_modified_to is not None:
        where.append("last_modified <= ?")
        params.append(to_text(query.last_modified_to))
    return where, params
