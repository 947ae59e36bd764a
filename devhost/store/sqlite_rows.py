"""The SQLite store's rows: SQL statements, record <-> row conversion, query filters, the delivery rule in SQL."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Sequence
from typing import Any

from devhost.core.delivery import DELIVERED_WHILE_SUSPENDED
from devhost.core.errors import InstanceExists
from devhost.core.model import ActivityWorkItem, EventType, Instance, InstanceQuery, Message, Notification, RuntimeStatus
from devhost.store.codec import from_text, to_text

INSTANCE_COLUMNS = (
    "instance_id, name, execution_id, runtime_status, created_time, last_updated_time, input, output,"
    " custom_status, version, parent_instance_id, parent_execution_id, parent_task_id, cursor, trace_parent, trace_state"
)
INSERT_INSTANCE = f"INSERT INTO instances ({INSTANCE_COLUMNS}) VALUES ({', '.join('?' * 16)})"
UPDATE_INSTANCE = (
    "UPDATE instances SET name = ?, execution_id = ?, runtime_status = ?, created_time = ?,"
    " last_updated_time = ?, input = ?, output = ?, custom_status = ?, version = ?,"
    " parent_instance_id = ?, parent_execution_id = ?, parent_task_id = ?, cursor = ?"
    " WHERE instance_id = ?"
)
# Most turns change neither runtime_status nor created_time. Assigning an indexed column rewrites its
# index entries even when the value stays the same (two more pages into the WAL per commit), so such
# turns use this statement, which leaves the indexed columns alone.
UPDATE_INSTANCE_UNINDEXED = (
    "UPDATE instances SET name = ?, execution_id = ?, last_updated_time = ?, input = ?, output = ?,"
    " custom_status = ?, version = ?, parent_instance_id = ?, parent_execution_id = ?, parent_task_id = ?,"
    " cursor = ? WHERE instance_id = ?"
)
_MESSAGE_COLUMNS = "instance_id, execution_id, event, event_type, timer_id, visible_at"
INSERT_MESSAGE = f"INSERT INTO messages ({_MESSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
# Turn output may address a purged instance (a parent) or an execution that has moved on (a parent
# that continued as new): such messages are dropped rather than queued for nobody.
INSERT_MESSAGE_IF_ADDRESSEE = (
    f"INSERT INTO messages ({_MESSAGE_COLUMNS}) SELECT ?, ?, ?, ?, ?, ?"
    " WHERE EXISTS (SELECT 1 FROM instances WHERE instance_id = ? AND (? IS NULL OR execution_id = ?))"
)
INSERT_NOTIFICATION = "INSERT INTO notifications (instance_id, body, due_at, attempts) VALUES (?, ?, ?, ?)"
INSERT_ACTIVITY = "INSERT INTO activities (instance_id, execution_id, task_id, name, input) VALUES (?, ?, ?, ?, ?)"

# devhost.core.delivery's rule for a message ``m`` of instance ``i``, in SQL (so the queue is filtered by
# the database, with its indexes). STALE is ``is_stale``; DELIVERABLE is ``is_deliverable``. The contract
# suite and test_memory_store.py check that this and the MemoryStore's Python calls agree.
STALE = "(m.execution_id IS NOT NULL AND m.execution_id <> i.execution_id)"
DELIVERABLE = (
    "(m.execution_id IS NULL OR m.execution_id = i.execution_id)"
    f" AND (i.runtime_status <> '{RuntimeStatus.SUSPENDED.value}'"
    f" OR m.event_type IN ({', '.join(str(t) for t in sorted(DELIVERED_WHILE_SUSPENDED))}))"
)


def exists(conn: sqlite3.Connection, instance_id: str) -> bool:
    return conn.execute("SELECT 1 FROM instances WHERE instance_id = ?", (instance_id,)).fetchone() is not None


def create_instance(conn: sqlite3.Connection, instance: Instance) -> None:
    """Insert ``instance``, replacing a terminal one of that id (its rows cascade away)."""
    row = conn.execute("SELECT runtime_status FROM instances WHERE instance_id = ?", (instance.instance_id,)).fetchone()
    if row is not None:
        if not RuntimeStatus(row[0]).is_terminal:
            raise InstanceExists(f"instance {instance.instance_id!r} already exists and is {row[0]}")
        conn.execute("DELETE FROM instances WHERE instance_id = ?", (instance.instance_id,))
    # The trace context is set once, at creation: the UPDATE statements (instance_params) leave it alone.
    conn.execute(INSERT_INSTANCE, (*instance_params(instance), instance.trace_parent, instance.trace_state))


def filter_sql(query: InstanceQuery, statuses: Collection[RuntimeStatus] | None) -> tuple[list[str], list[Any]]:
    """WHERE clauses (ANDed) and parameters for the created-time, status and prefix filters."""
    where: list[str] = []
    params: list[Any] = []
    if query.created_from is not None:
        where.append("created_time >= ?")
        params.append(to_text(query.created_from))
    if query.created_to is not None:
        where.append("created_time <= ?")
        params.append(to_text(query.created_to))
    if statuses:
        ordered = sorted(RuntimeStatus(s).value for s in statuses)
        where.append(f"runtime_status IN ({', '.join('?' * len(ordered))})")
        params.extend(ordered)
    if query.instance_id_prefix:
        # substr, not LIKE: LIKE is case-insensitive and gives '%' and '_' meaning.
        where.append("substr(instance_id, 1, ?) = ?")
        params.extend((len(query.instance_id_prefix), query.instance_id_prefix))
    return where, params


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def instance_params(i: Instance) -> tuple[Any, ...]:
    return (
        i.instance_id, i.name, i.execution_id, RuntimeStatus(i.runtime_status).value, to_text(i.created_time),
        to_text(i.last_updated_time), i.input, i.output, i.custom_status, i.version, i.parent_instance_id,
        i.parent_execution_id, i.parent_task_id, i.cursor,
    )  # fmt: skip


def instance_from_row(row: Sequence[Any]) -> Instance:
    return Instance(
        instance_id=row[0], name=row[1], execution_id=row[2], runtime_status=RuntimeStatus(row[3]),
        created_time=from_text(row[4]), last_updated_time=from_text(row[5]), input=row[6], output=row[7],
        custom_status=row[8], version=row[9], parent_instance_id=row[10], parent_execution_id=row[11],
        parent_task_id=row[12], cursor=row[13], trace_parent=row[14], trace_state=row[15],
    )  # fmt: skip


def message_params(m: Message) -> tuple[Any, ...]:
    event_type = int(m.event["EventType"])
    # TimerFired messages keep their TimerId in a column so cancelled timers can be deleted by id.
    timer_id = m.event.get("TimerId") if event_type == EventType.TIMER_FIRED else None
    return (m.instance_id, m.execution_id, dumps(m.event), event_type, timer_id, to_text(m.visible_at))


def notification_params(n: Notification) -> tuple[Any, ...]:
    return (n.instance_id, n.body, to_text(n.due_at), n.attempts)


def activity_params(a: ActivityWorkItem) -> tuple[Any, ...]:
    return (a.instance_id, a.execution_id, a.task_id, a.name, a.input)
