"""A store file written by the previous devhost (schema version 1) opens: it is migrated to version 2 in place,
its instances intact (no trace context) and its outbox empty; a newer file is still refused."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from devhost.core.model import RuntimeStatus
from devhost.store.sqlite import SCHEMA_VERSION, SqliteStore

# The version-1 schema's instances table as devhost 1 wrote it (the tables the migration touches or reads).
V1_SCHEMA = """
CREATE TABLE instances (
    instance_id TEXT PRIMARY KEY, name TEXT NOT NULL, execution_id TEXT NOT NULL, runtime_status TEXT NOT NULL,
    created_time TEXT NOT NULL, last_updated_time TEXT NOT NULL, input TEXT, output TEXT, custom_status TEXT,
    version TEXT NOT NULL, parent_instance_id TEXT, parent_execution_id TEXT, parent_task_id INTEGER, cursor TEXT NOT NULL
);
CREATE INDEX instances_by_created ON instances (created_time, instance_id);
CREATE INDEX instances_by_status ON instances (runtime_status, created_time, instance_id);
CREATE TABLE history (
    instance_id TEXT NOT NULL REFERENCES instances (instance_id) ON DELETE CASCADE, seq INTEGER NOT NULL,
    event TEXT NOT NULL, PRIMARY KEY (instance_id, seq)
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL REFERENCES instances (instance_id) ON DELETE CASCADE,
    execution_id TEXT, event TEXT NOT NULL, event_type INTEGER NOT NULL, timer_id INTEGER, visible_at TEXT NOT NULL
);
CREATE INDEX messages_by_visible_at ON messages (visible_at);
CREATE INDEX messages_by_instance ON messages (instance_id, visible_at);
CREATE TABLE activities (
    id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL REFERENCES instances (instance_id) ON DELETE CASCADE,
    execution_id TEXT NOT NULL, task_id INTEGER NOT NULL, name TEXT NOT NULL, input TEXT
);
CREATE INDEX activities_by_instance ON activities (instance_id, execution_id);
PRAGMA user_version = 1;
"""
CREATED = "2030-01-01T00:00:00.000000+00:00"


def write_v1_store(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.executescript(V1_SCHEMA)
        conn.execute(
            "INSERT INTO instances VALUES ('old', 'orch', 'e1', 'Completed', ?, ?, NULL, ?, NULL, '', NULL, NULL, NULL, '{}')",
            (CREATED, CREATED, '"done"'),
        )
        conn.commit()
    finally:
        conn.close()


def test_a_version_1_store_is_migrated_with_its_instances_kept(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    write_v1_store(path)

    with SqliteStore(path) as store:
        old = store.get_instance("old")
        owed = store.next_notification_at()

    assert old is not None
    assert (old.runtime_status, old.output, old.created_time) == (
        RuntimeStatus.COMPLETED,
        '"done"',
        datetime(2030, 1, 1, tzinfo=timezone.utc),
    )
    assert (old.trace_parent, old.trace_state) == (None, None)
    assert owed is None
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    finally:
        conn.close()


def test_a_migrated_store_opens_again_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    write_v1_store(path)
    SqliteStore(path).close()

    with SqliteStore(path) as store:
        again = store.get_instance("old")

    assert again is not None and again.output == '"done"'
