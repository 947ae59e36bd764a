"""Storage faults (disk full, I/O error, locked database) injected at the store seam, in the middle of transactions:
the caller sees StoreUnavailable (a 503 over HTTP), nothing is half-written, the file stays intact, the engine
logs and retries, and no acknowledged change is lost or recorded twice."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from devhost.core.errors import StoreUnavailable
from devhost.core.model import EventType, Instance, Message, RuntimeStatus, TurnCommit
from devhost.store.faults import is_fault
from devhost.store.sqlite import SqliteStore

from .conftest import WEBHOOKS, RunningHost, start_host, stop_host

APPS = Path(__file__).resolve().parents[1] / "apps"
NOW = datetime(2030, 1, 1, tzinfo=timezone.utc)
TABLES = ("instances", "history", "messages", "activities")


def io_error() -> sqlite3.OperationalError:
    """The error SQLite's own I/O failure raises (same class, result code and name), made on demand."""
    error = sqlite3.OperationalError("disk I/O error")
    error.sqlite_errorcode = sqlite3.SQLITE_IOERR_WRITE  # type: ignore[attr-defined]
    error.sqlite_errorname = "SQLITE_IOERR_WRITE"  # type: ignore[attr-defined]
    return error


@dataclass
class FaultyConnection:
    """Wraps the store's connection; raises ``error()`` instead of running a statement ``fails(sql)`` picks.

    Statements of a transaction already run stay run: the fault lands mid-transaction, and only the store's
    rollback stands between it and a half-written change.
    """

    real: sqlite3.Connection
    fails: Callable[[str], bool]
    error: Callable[[], Exception] = io_error
    injected: int = 0
    seen: list[str] = field(default_factory=list)

    def _check(self, sql: str) -> None:
        self.seen.append(sql)
        if not sql.startswith(("BEGIN", "ROLLBACK")) and self.fails(sql):
            self.injected += 1
            raise self.error()

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        self._check(sql)
        return self.real.execute(sql, params)

    def executemany(self, sql: str, params: Any) -> sqlite3.Cursor:
        self._check(sql)
        return self.real.executemany(sql, params)

    @property
    def in_transaction(self) -> bool:
        return self.real.in_transaction

    def close(self) -> None:
        self.real.close()


def inject(store: SqliteStore, fails: Callable[[str], bool], error: Callable[[], Exception] = io_error) -> FaultyConnection:
    faulty = FaultyConnection(store._conn, fails, error)
    store._conn = faulty  # type: ignore[assignment]
    return faulty


def nth_statement(n: int) -> Callable[[str], bool]:
    """Fail the ``n``-th statement after BEGIN (0-based), once."""
    state = {"count": 0, "done": False}

    def fails(sql: str) -> bool:
        if state["done"]:
            return False
        hit = state["count"] == n
        state["count"] += 1
        state["done"] = hit
        return hit

    return fails


def snapshot(conn: sqlite3.Connection) -> dict[str, list[Any]]:
    return {table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr) for table in TABLES}


def integrity(conn: sqlite3.Connection) -> str:
    return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(tmp_path / "store.sqlite3")
    yield s
    s.close()


def _instance(instance_id: str) -> tuple[Instance, Message]:
    instance = Instance(instance_id, "orchestrator", "exec-1", RuntimeStatus.PENDING, NOW, NOW, input=json.dumps({"n": 1}))
    started = {"EventType": int(EventType.EXECUTION_STARTED), "Name": "orchestrator", "Input": instance.input}
    return instance, Message(instance_id, started, visible_at=NOW, execution_id="exec-1")


# --- the store: faults mid-transaction roll back whole ------------------------------------------------------------
@pytest.mark.parametrize("statement", [0, 1, 2])  # the instance row, the start message, COMMIT itself
def test_a_fault_mid_create_leaves_nothing_and_a_retry_succeeds(store: SqliteStore, statement: int) -> None:
    real = store._conn
    before = snapshot(real)
    faulty = inject(store, nth_statement(statement))

    with pytest.raises(StoreUnavailable, match="SQLITE_IOERR_WRITE"):
        store.create_instance(*_instance("a"))

    assert faulty.injected == 1
    assert snapshot(real) == before
    assert integrity(real) == "ok"
    store.create_instance(*_instance("a"))  # the fault is gone: the same call now works
    assert store.get_instance("a") is not None


def test_a_fault_at_every_statement_of_a_turn_commit_leaves_the_turn_unapplied(store: SqliteStore) -> None:
    store.create_instance(*_instance("t"))
    turn = store.load_turn("t", NOW)
    assert turn is not None

    instance = turn.instance
    instance.runtime_status = RuntimeStatus.COMPLETED
    instance.output = '"done"'
    events = [{"EventType": int(EventType.EXECUTION_COMPLETED), "Result": '"done"'}]
    commit = TurnCommit(instance=instance, consumed_message_ids=[m.id for m in turn.messages if m.id], new_history=events)
    real = store._conn
    before = snapshot(real)
    statements = 0
    while True:  # fail statement 0, then 1, ... until the commit gets through with no fault left to inject
        faulty = inject(store, nth_statement(statements))
        try:
            store.commit_turn(commit)
        except StoreUnavailable:
            assert snapshot(real) == before, f"statement {statements} left part of the turn behind"
            store._conn = real
            statements += 1
            continue
        store._conn = real
        break

    assert statements >= 3 and faulty.injected == 0
    assert integrity(real) == "ok"
    assert store.get_instance("t").runtime_status is RuntimeStatus.COMPLETED  # type: ignore[union-attr]
    assert len(store.get_history("t")) == 1


def test_a_full_disk_is_store_unavailable_and_writes_nothing(store: SqliteStore) -> None:
    real = store._conn
    pages = real.execute("PRAGMA page_count").fetchone()[0]
    real.execute(f"PRAGMA max_page_count = {pages}")  # a real SQLITE_FULL as soon as the file must grow
    instance, start = _instance("big")
    instance.input = json.dumps("x" * 200_000)
    before = snapshot(real)

    with pytest.raises(StoreUnavailable, match="SQLITE_FULL"):
        store.create_instance(instance, start)

    assert snapshot(real) == before and integrity(real) == "ok"
    real.execute("PRAGMA max_page_count = 1073741823")
    store.create_instance(instance, start)
    assert store.get_instance("big") is not None


def test_a_locked_database_is_store_unavailable(store: SqliteStore, tmp_path: Path) -> None:
    store._conn.execute("PRAGMA busy_timeout = 20")
    other = sqlite3.connect(tmp_path / "store.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        with pytest.raises(StoreUnavailable, match="SQLITE_BUSY"):
            store.create_instance(*_instance("locked"))
    finally:
        other.execute("ROLLBACK")
        other.close()

    store.create_instance(*_instance("locked"))
    assert store.get_instance("locked") is not None


def test_a_programming_error_is_not_mistaken_for_a_fault() -> None:
    assert not is_fault(sqlite3.OperationalError("no such table: nope"))
    assert not is_fault(sqlite3.IntegrityError("UNIQUE constraint failed"))
    assert is_fault(io_error())
    assert is_fault(sqlite3.OperationalError("database is locked"))


# --- over HTTP: a clear 503, nothing created, the retry works -------------------------------------------------------
@pytest.fixture
def host(tmp_path: Path) -> Iterator[RunningHost]:
    loop, devhost = start_host(tmp_path)
    yield RunningHost(loop, devhost)
    stop_host(loop, devhost)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", f"{WEBHOOKS}/orchestrators/monitoring_job_orchestrator/faulted", b'{"job_id": "faulted"}'),
        ("POST", "/durabletask/orchestrators/monitoring_job_orchestrator/faulted", b""),
    ],
)
def test_a_store_fault_during_a_start_is_a_503_and_creates_nothing(
    host: RunningHost, method: str, path: str, body: bytes
) -> None:
    store = host.host.store
    assert isinstance(store, SqliteStore)
    real = store._conn
    inject(store, lambda sql: sql.startswith("INSERT INTO messages"))  # after the instance row: mid-transaction

    refused = host.request(method, path, body=body)
    store._conn = real
    retried = host.request(method, path, body=body)

    assert refused.status == 503
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["Message"].startswith("The store is unavailable")
    assert retried.status == 202  # not a 409: the refused start left no instance behind
    assert integrity(real) == "ok"


def test_a_store_fault_during_a_read_is_a_503(host: RunningHost) -> None:
    store = host.host.store
    assert isinstance(store, SqliteStore)
    real = store._conn
    inject(store, lambda sql: sql.startswith("SELECT"))
    try:
        answer = host.request("GET", f"{WEBHOOKS}/instances")
    finally:
        store._conn = real

    assert answer.status == 503


# --- the engine: logged, retried, nothing lost or doubled ----------------------------------------------------------
def test_the_engine_retries_turn_and_activity_commits_through_faults(durable_app: Any, caplog: pytest.LogCaptureFixture) -> None:
    app = durable_app(APPS / "kinds")
    host = app.host
    host.engine.store_retry_delay = 0.001
    store = host.store
    real = store._conn
    budget = {"history": 3, "result": 2}
    turns_began = False  # the start's own message goes in unharmed: faults begin with the first turn's commit

    def fails(sql: str) -> bool:
        # A turn commit fails after the instance row was updated; an activity result as its work item is deleted (the
        # turn that consumes it in the same group commit never queues it as a message).
        nonlocal turns_began
        turns_began = turns_began or sql.startswith("INSERT INTO history")
        recording = sql.startswith("DELETE FROM activities WHERE id")
        key = "history" if sql.startswith("INSERT INTO history") else "result" if recording else None
        if turns_began and key is not None and budget[key] > 0:
            budget[key] -= 1
            return True
        return False

    with caplog.at_level(logging.WARNING, logger="devhost.engine"):
        faulty = inject(store, fails)  # before the start: the whole orchestration can run before start() returns
        try:
            instance_id = app.start("hello_orchestrator")
            status = app.wait_for_completion(instance_id, timeout=30)
        finally:
            store._conn = real

    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == "Hello Tokyo!"
    assert faulty.injected == 5
    history = store.get_history(instance_id)
    kinds = [event["EventType"] for event in history]
    assert kinds.count(int(EventType.TASK_SCHEDULED)) == 1
    assert kinds.count(int(EventType.TASK_COMPLETED)) == 1
    assert kinds.count(int(EventType.EXECUTION_COMPLETED)) == 1
    assert integrity(real) == "ok"
    assert sum("store unavailable" in record.getMessage() for record in caplog.records) == 5
