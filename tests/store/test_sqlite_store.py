"""SqliteStore: what only SQLite promises (the Store contract itself runs in test_store_contract.py)
(durability across close and kill -9, the one-process lock, schema checks, rollback, threads)."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devhost.core.errors import InstanceExists, StartupError
from devhost.core.model import EventType, InstanceQuery, RuntimeStatus, TurnCommit
from devhost.store.sqlite import SCHEMA_VERSION, SqliteStore
from tests.store_contract import (
    FAR,
    T0,
    all_pages,
    at,
    delivered,
    event,
    make_instance,
    message,
    start,
    start_message,
    timer_fired,
    with_status,
    work_item,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


# --- durability ------------------------------------------------------------------------------------
def test_data_survives_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with SqliteStore(path) as store:
        instance = start(store)
        store.commit_turn(
            TurnCommit(
                instance,
                new_history=[event(EventType.TASK_SCHEDULED, EventId=0, Name="a")],
                new_activities=[work_item(task_id=0)],
                new_messages=[timer_fired("i1", 1, at(30))],
            )
        )
        consumed = store.send_message(message("i1", Name="eaten"))
        store.commit_turn(TurnCommit(instance, consumed_message_ids=[consumed]))
        expected = (
            store.get_instance("i1"),
            store.get_history("i1"),
            store.load_turn("i1", FAR),
            store.pending_activities(10),
            store.next_visible_at(),
        )

    with SqliteStore(path) as reopened:
        assert (
            reopened.get_instance("i1"),
            reopened.get_history("i1"),
            reopened.load_turn("i1", FAR),
            reopened.pending_activities(10),
            reopened.next_visible_at(),
        ) == expected
        # ids are never reused, even the id of a message deleted before the restart
        assert reopened.send_message(message("i1")) > consumed


def test_committed_writes_survive_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    script = textwrap.dedent(f"""
        import os, signal
        from datetime import datetime, timezone
        from devhost.core.model import Instance, Message, RuntimeStatus, TurnCommit
        from devhost.store.sqlite import SqliteStore
        t0 = datetime(2030, 1, 1, tzinfo=timezone.utc)
        store = SqliteStore({str(path)!r})
        instance = Instance("victim", "orch", "e1", RuntimeStatus.PENDING, t0, t0)
        store.create_instance(instance, Message("victim", {{"EventType": 0}}, t0))
        instance.runtime_status = RuntimeStatus.RUNNING
        store.commit_turn(TurnCommit(instance, new_history=[{{"EventType": 12}}, {{"EventType": 0}}]))
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}

    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, timeout=60)

    assert result.returncode == -9, result.stderr.decode()
    assert Path(f"{path}-wal").stat().st_size > 0  # not checkpointed: recovery comes from the WAL
    with SqliteStore(path) as reopened:  # the dead process's lock went with it
        instance = reopened.get_instance("victim")
        assert instance is not None and instance.runtime_status is RuntimeStatus.RUNNING
        assert reopened.get_history("victim") == [{"EventType": 12}, {"EventType": 0}]
        assert reopened.ready_instances(T0, 10) == ["victim"]


# --- opening ---------------------------------------------------------------------------------------
def test_second_open_of_the_same_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    first = SqliteStore(path)

    with pytest.raises(StartupError, match=f"store {path} is in use by another devhost process"):
        SqliteStore(path)

    first.close()
    SqliteStore(path).close()  # the lock went with close()


def test_opening_creates_missing_parent_directories(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "store.db"

    with SqliteStore(str(path)) as store:
        store.create_instance(make_instance(), start_message())

    assert path.is_file()


def test_file_store_is_in_wal_mode_with_current_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    SqliteStore(path).close()

    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()


def test_store_with_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    SqliteStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()

    for _ in range(2):  # the failed open released its lock: the second attempt fails the same way
        with pytest.raises(StartupError, match=f"schema version {SCHEMA_VERSION + 1}"):
            SqliteStore(path)


def test_foreign_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER)")
    conn.close()

    with pytest.raises(StartupError, match="not a devhost store"):
        SqliteStore(path)


def test_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    path.write_bytes(b"this is not an sqlite file, just some text " * 100)

    with pytest.raises(StartupError, match="not a usable SQLite database"):
        SqliteStore(path)


@pytest.mark.parametrize("target", [None, ":memory:"])
def test_in_memory_stores_are_private_and_leave_no_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str | None
) -> None:
    monkeypatch.chdir(tmp_path)
    first, second = SqliteStore(target), SqliteStore(target)
    first.create_instance(make_instance(), start_message())

    assert second.get_instance("i1") is None
    first.close()
    second.close()
    assert list(tmp_path.iterdir()) == []


def test_load_turn_deletes_messages_of_an_execution_that_is_gone(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with SqliteStore(path) as store:
        start(store, execution_id="e2")
        store.send_message(message("i1", execution_id="e1", Name="stale"))
        store.send_message(message("i1", execution_id="e2", Name="current"))

        assert delivered(store, "i1") == [(int(EventType.EVENT_RAISED), "current")]

        conn = sqlite3.connect(path)
        try:
            assert conn.execute("SELECT count(*) FROM messages WHERE execution_id = 'e1'").fetchone()[0] == 0
        finally:
            conn.close()


def test_rows_of_a_finished_execution_are_deleted_not_just_hidden(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with SqliteStore(path) as store:
        parent = start(store, "parent", execution_id="p1")
        child = start(store, "child")
        store.commit_turn(TurnCommit(parent, new_messages=[timer_fired("parent", 0, at(9), "p1")]))
        store.commit_turn(TurnCommit(dataclasses.replace(parent, execution_id="p2"), replace_history=True))
        store.commit_turn(
            TurnCommit(
                child,
                new_messages=[  # addressed to the parent's finished execution
                    message("parent", EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED, T0, "p1", TaskScheduledId=0)
                ],
            )
        )

        conn = sqlite3.connect(path)
        try:
            assert conn.execute("SELECT count(*) FROM messages WHERE instance_id = 'parent'").fetchone()[0] == 0
        finally:
            conn.close()


def test_start_message_for_another_instance_is_rejected() -> None:
    with SqliteStore(None) as store:
        with pytest.raises(ValueError):
            store.create_instance(make_instance("i1"), start_message("i2"))

        assert store.get_instance("i1") is None


# --- atomicity and threads ---------------------------------------------------------------------------
def _snapshot(store: SqliteStore) -> tuple[object, ...]:
    return (
        store.get_instance("parent"),
        store.get_history("parent"),
        store.load_turn("parent", FAR),
        store.get_instance("child"),
        store.pending_activities(100),
        store.next_visible_at(),
    )


def test_failing_commit_turn_on_an_existing_child_leaves_nothing_half_written(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with SqliteStore(path) as store:
        parent = start(store, "parent")
        start(store, "child")
        store.commit_turn(TurnCommit(parent, new_messages=[timer_fired("parent", 0, at(50))]))
        pending = store.send_message(message("parent", Name="in"))
        before = _snapshot(store)

        with pytest.raises(InstanceExists):
            store.commit_turn(
                TurnCommit(
                    with_status(parent, RuntimeStatus.COMPLETED),
                    consumed_message_ids=[pending],
                    new_history=[event(EventType.ORCHESTRATOR_STARTED)],
                    new_instances=[make_instance("child")],
                    new_messages=[start_message("child")],
                    new_activities=[work_item("parent")],
                )
            )

        assert _snapshot(store) == before
    with SqliteStore(path) as reopened:
        assert _snapshot(reopened) == before


def test_commit_turn_failing_late_rolls_back_every_earlier_write(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with SqliteStore(path) as store:
        parent = start(store, "parent")
        pending = store.send_message(message("parent", Name="in"))
        before = _snapshot(store)
        unserializable = message("parent", Name="bad")
        unserializable.event["Input"] = object()

        with pytest.raises(TypeError):
            store.commit_turn(
                TurnCommit(  # everything up to the messages is written before the failure
                    with_status(parent, RuntimeStatus.FAILED),
                    consumed_message_ids=[pending],
                    new_history=[event(EventType.EXECUTION_FAILED)],
                    replace_history=True,
                    new_instances=[make_instance("child")],
                    new_messages=[unserializable],
                )
            )

        assert _snapshot(store) == before
        store.send_message(message("parent", Name="store still usable"))
    with SqliteStore(path) as reopened:
        assert [name for _, name in delivered(reopened, "parent")] == ["in", "store still usable"]


# --- times -----------------------------------------------------------------------------------------
def test_naive_datetimes_are_rejected(tmp_path: Path) -> None:
    with SqliteStore(None) as store:
        with pytest.raises(ValueError, match="naive"):
            store.create_instance(make_instance(created=datetime(2030, 1, 1)), start_message())

        assert store.get_instance("i1") is None


def test_times_in_other_offsets_are_kept_as_the_same_instant_in_utc(tmp_path: Path) -> None:
    plus_two = timezone(timedelta(hours=2))
    with SqliteStore(None) as store:
        # 01:00+02:00 is 23:00 UTC the day before: earlier than T0 although its wall clock is later
        start(store, "east", created=datetime(2030, 1, 1, 1, 0, tzinfo=plus_two))
        start(store, "utc", created=T0)

        page, _ = store.query_instances(InstanceQuery())
        east = store.get_instance("east")

    assert [i.instance_id for i in page] == ["east", "utc"]
    assert east is not None
    assert east.created_time == datetime(2029, 12, 31, 23, 0, tzinfo=timezone.utc)
    assert east.created_time.utcoffset() == timedelta(0)


# --- queries against a reference model ---------------------------------------------------------------
IDS = ["a", "ab", "abc", "b", "ba", "B", "c"]
PREFIXES = ["", "a", "ab", "b", "B", "x"]
statuses_st = st.frozensets(st.sampled_from(list(RuntimeStatus)), max_size=3)
times_st = st.integers(min_value=0, max_value=4)
query_st = st.builds(
    InstanceQuery,
    created_from=st.none() | times_st.map(at),
    created_to=st.none() | times_st.map(at),
    statuses=st.none() | statuses_st,
    instance_id_prefix=st.none() | st.sampled_from(PREFIXES),
    top=st.none() | st.integers(min_value=1, max_value=4),
)
operation_st = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(IDS), times_st, st.sampled_from(list(RuntimeStatus))),
    st.tuples(st.just("set_status"), st.sampled_from(IDS), st.sampled_from(list(RuntimeStatus))),
    st.tuples(st.just("purge"), st.sampled_from(IDS)),
    st.tuples(st.just("purge_where"), query_st),
)

Row = tuple[datetime, RuntimeStatus]


def _model_matches(query: InstanceQuery, instance_id: str, row: Row) -> bool:
    created, status = row
    return (
        (query.created_from is None or created >= query.created_from)
        and (query.created_to is None or created <= query.created_to)
        and (not query.statuses or status in query.statuses)
        and (query.instance_id_prefix is None or instance_id.startswith(query.instance_id_prefix))
    )


def _model_query(model: dict[str, Row], query: InstanceQuery) -> list[str]:
    matching = [iid for iid, row in model.items() if _model_matches(query, iid, row)]
    return sorted(matching, key=lambda iid: (model[iid][0], iid))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations=st.lists(operation_st, max_size=25), queries=st.lists(query_st, min_size=1, max_size=4))
def test_queries_and_purges_match_a_reference_model(operations: list, queries: list[InstanceQuery]) -> None:
    model: dict[str, Row] = {}
    with SqliteStore(None) as store:
        for op in operations:
            if op[0] == "create":
                _, iid, created, status = op
                live = iid in model and not model[iid][1].is_terminal
                if live:
                    with pytest.raises(InstanceExists):
                        start(store, iid, created=at(created), status=status)
                else:
                    start(store, iid, created=at(created), status=status)
                    model[iid] = (at(created), status)
            elif op[0] == "set_status":
                _, iid, status = op
                current = store.get_instance(iid)
                if current is not None:
                    store.commit_turn(TurnCommit(dataclasses.replace(current, runtime_status=status)))
                    model[iid] = (model[iid][0], status)
            elif op[0] == "purge":
                assert store.purge_instance(op[1]) == (1 if model.pop(op[1], None) else 0)
            else:
                query = op[1]
                doomed = [iid for iid in model if _model_matches(query, iid, model[iid])]
                assert store.purge_instances(query) == len(doomed)
                for iid in doomed:
                    del model[iid]

        for query in queries:
            ids, pages = all_pages(store, query)
            expected = _model_query(model, query)
            assert ids == expected
            if query.top is not None:
                assert pages == max(1, -(-len(expected) // query.top))
