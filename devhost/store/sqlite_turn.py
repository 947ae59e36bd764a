"""The SQLite store's turn commit: one orchestration turn's writes, in one transaction the caller holds."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import NamedTuple

from devhost.core.model import RuntimeStatus, TurnCommit, event_json
from devhost.store.sqlite_entities import insert_entity_messages
from devhost.store.sqlite_rows import (
    INSERT_ACTIVITY,
    INSERT_MESSAGE_IF_ADDRESSEE,
    INSERT_NOTIFICATION,
    UPDATE_INSTANCE,
    UPDATE_INSTANCE_UNINDEXED,
    activity_params,
    create_instance,
    instance_params,
    message_params,
    notification_params,
)


class Written(NamedTuple):
    """What one turn wrote, as far as the store's caches care."""

    texts: list[str]
    """The history texts it appended (the whole new history on ``replace_history``)."""
    may_deliver: bool
    """Whether it may have made a message deliverable that was not (see ``DELIVERABLE``): it queued messages or
    created instances, or changed its execution, or left the Suspended status. Otherwise it only ever made fewer
    messages deliverable (consuming or dropping them, or suspending)."""


_SUSPENDED = RuntimeStatus.SUSPENDED.value


def commit_turn(conn: sqlite3.Connection, commit: TurnCommit, consumed: Sequence[int] | None = None) -> Written | None:
    """Apply one turn (see the Store protocol) inside the caller's transaction; returns what it wrote
    (:class:`Written`). If the instance was purged while the turn ran, the purge wins: nothing of the turn is
    written and the answer is None. ``consumed`` replaces the turn's ``consumed_message_ids`` (a group
    commit's, with provisional ids resolved: :mod:`devhost.store.grouping`)."""
    instance = commit.instance
    instance_id = instance.instance_id
    row = conn.execute(
        "SELECT execution_id, runtime_status, created_time,"
        " (SELECT COALESCE(MAX(seq), -1) FROM history WHERE instance_id = ?1)"
        " FROM instances WHERE instance_id = ?1",
        (instance_id,),
    ).fetchone()
    if row is None:
        return None
    old_execution_id, old_status, old_created, last_seq = row
    params = instance_params(instance)
    if (params[3], params[4]) == (old_status, old_created):
        conn.execute(UPDATE_INSTANCE_UNINDEXED, (*params[1:3], *params[5:], instance_id))
    else:
        conn.execute(UPDATE_INSTANCE, (*params[1:], instance_id))
    consumed = commit.consumed_message_ids if consumed is None else consumed
    if consumed:
        conn.executemany("DELETE FROM messages WHERE id = ? AND instance_id = ?", [(i, instance_id) for i in consumed])
    if commit.replace_history:
        conn.execute("DELETE FROM history WHERE instance_id = ?", (instance_id,))
        conn.execute("DELETE FROM messages WHERE instance_id = ? AND execution_id = ?", (instance_id, old_execution_id))
        conn.execute(
            "DELETE FROM activities WHERE instance_id = ? AND execution_id = ?",
            (instance_id, old_execution_id),
        )
        last_seq = -1
    texts = [event_json(e) for e in commit.new_history]
    if texts:
        conn.executemany(
            "INSERT INTO history (instance_id, seq, event) VALUES (?, ?, ?)",
            [(instance_id, last_seq + 1 + n, text) for n, text in enumerate(texts)],
        )
    for child in commit.new_instances:
        create_instance(conn, child)
    if commit.new_messages:
        conn.executemany(
            INSERT_MESSAGE_IF_ADDRESSEE,
            [(*message_params(m), m.instance_id, m.execution_id, m.execution_id) for m in commit.new_messages],
        )
    if commit.new_entity_messages:
        insert_entity_messages(conn, commit.new_entity_messages)
    if commit.new_activities:
        conn.executemany(INSERT_ACTIVITY, [activity_params(a) for a in commit.new_activities])
    if commit.clear_pending:
        conn.execute("DELETE FROM messages WHERE instance_id = ?", (instance_id,))
        conn.execute("DELETE FROM activities WHERE instance_id = ?", (instance_id,))
    if commit.notifications:
        conn.executemany(INSERT_NOTIFICATION, [notification_params(n) for n in commit.notifications])
    may_deliver = bool(
        commit.new_messages
        or commit.new_instances
        or params[2] != old_execution_id
        or (old_status == _SUSPENDED and params[3] != _SUSPENDED)
    )
    return Written(texts, may_deliver)
