"""MemoryStore: what the contract cannot see (callers cannot alias stored state, a failing write changes
nothing, threads) and its agreement with the SQLite store on random query/purge sequences."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devhost.core.errors import InstanceExists, NotFound
from devhost.core.model import EventType, InstanceQuery, RuntimeStatus, TurnCommit
from devhost.store.base import Store
from devhost.store.memory import MemoryStore
from devhost.store.sqlite import SqliteStore
from tests.store_contract import (
    FAR,
    at,
    delivered,
    event,
    make_instance,
    message,
    start,
    start_message,
    work_item,
)


def test_changing_returned_records_changes_nothing_stored() -> None:
    store = MemoryStore()
    instance = start(store)
    store.commit_turn(TurnCommit(instance, new_activities=[work_item()]))
    store.send_message(message("i1", Name="ev", Input='"x"'))

    got = store.get_instance("i1")
    assert got is not None
    got.runtime_status = RuntimeStatus.FAILED
    store.get_history("i1")[0]["EventType"] = 99
    turn = store.load_turn("i1", FAR)
    assert turn is not None
    turn.messages[0].event["Name"] = "changed"
    turn.instance.output = '"changed"'
    store.pending_activities(10)[0].name = "changed"
    store.query_instances(InstanceQuery())[0][0].name = "changed"

    assert store.get_instance("i1") == instance
    assert store.get_history("i1")[0]["EventType"] == int(EventType.ORCHESTRATOR_STARTED)
    assert delivered(store, "i1") == [(int(EventType.EVENT_RAISED), "ev")]
    assert [w.name for w in store.pending_activities(10)] == ["act0"]


def test_changing_records_after_writing_them_changes_nothing_stored() -> None:
    store = MemoryStore()
    instance = make_instance()
    start_msg = start_message()
    store.create_instance(instance, start_msg)
    new_event = event(EventType.ORCHESTRATOR_STARTED)
    store.commit_turn(TurnCommit(instance, new_history=[new_event]))

    instance.name = "changed"
    start_msg.event["Name"] = "changed"
    new_event["EventType"] = 99

    assert store.get_instance("i1") == make_instance()
    assert delivered(store, "i1") == [(int(EventType.EXECUTION_STARTED), "orch")]
    assert store.get_history("i1") == [event(EventType.ORCHESTRATOR_STARTED)]


def test_commit_turn_failing_late_changes_nothing() -> None:
    store = MemoryStore()
    parent = start(store, "parent")
    pending = store.send_message(message("parent", Name="in"))
    before = (store.get_instance("parent"), store.get_history("parent"), store.load_turn("parent", FAR))
    unserializable = message("parent", Name="bad")
    unserializable.event["Input"] = object()

    with pytest.raises(TypeError):
        store.commit_turn(
            TurnCommit(
                dataclasses.replace(parent, runtime_status=RuntimeStatus.FAILED),
                consumed_message_ids=[pending],
                new_history=[event(EventType.EXECUTION_FAILED)],
                replace_history=True,
                new_instances=[make_instance("child")],
                new_messages=[unserializable],
            )
        )

    assert (store.get_instance("parent"), store.get_history("parent"), store.load_turn("parent", FAR)) == before
    assert store.get_instance("child") is None


def test_naive_datetimes_and_foreign_start_messages_are_rejected() -> None:
    store = MemoryStore()

    with pytest.raises(ValueError, match="naive"):
        store.create_instance(make_instance(created=datetime(2030, 1, 1)), start_message())
    with pytest.raises(ValueError):
        store.create_instance(make_instance("i1"), start_message("i2"))

    assert store.get_instance("i1") is None


def test_memory_stores_are_private() -> None:
    first, second = MemoryStore(), MemoryStore()

    first.create_instance(make_instance(), start_message())

    assert second.get_instance("i1") is None


IDS = ["a", "b"]
operation_st = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(IDS), st.integers(0, 3), st.sampled_from(list(RuntimeStatus))),
    st.tuples(
        st.just("message"),
        st.sampled_from(IDS),
        st.integers(0, 3),
        st.sampled_from([None, "e1", "e2"]),
        st.sampled_from([EventType.EVENT_RAISED, EventType.EXECUTION_RESUMED, EventType.TIMER_FIRED]),
    ),
    st.tuples(
        st.just("commit"),
        st.sampled_from(IDS),
        st.sampled_from(list(RuntimeStatus)),
        st.booleans(),
        st.booleans(),
        st.sampled_from(["e1", "e2"]),
    ),
    st.tuples(st.just("purge"), st.sampled_from(IDS)),
    st.tuples(
        st.just("purge_terminal"),
    ),
)


def _apply(store: Store, op: tuple) -> object:
    """One operation on ``store``; its outcome (a value or an exception type) for comparison."""
    try:
        if op[0] == "create":
            _, iid, created, status = op
            return start(store, iid, created=at(created), status=status)
        if op[0] == "message":
            _, iid, when, execution_id, kind = op
            store.send_message(message(iid, kind, at(when), execution_id, TimerId=1))
            return None  # ids differ between stores (SQLite has one sequence per table)
        if op[0] == "commit":
            _, iid, status, clear, replace, execution_id = op
            turn = store.load_turn(iid, at(1))
            if turn is None:
                return None
            instance = dataclasses.replace(turn.instance, runtime_status=status, execution_id=execution_id)
            store.commit_turn(
                TurnCommit(
                    instance,
                    consumed_message_ids=[m.id for m in turn.messages],
                    replace_history=replace,
                    new_history=[event(EventType.ORCHESTRATOR_STARTED)],
                    clear_pending=clear,
                    new_activities=[work_item(iid, execution_id=execution_id)],
                    new_messages=[message(other, execution_id=execution_id) for other in IDS],
                )
            )
            return [m.event for m in turn.messages]
        if op[0] == "purge":
            return store.purge_instance(op[1])
        return store.purge_instances(InstanceQuery())
    except (InstanceExists, NotFound) as exc:
        return type(exc)


def _state(store: Store) -> object:
    """Everything a caller can read, without the ids (each store numbers on its own)."""
    instances = store.query_instances(InstanceQuery())[0]
    turns = [store.load_turn(i.instance_id, FAR) for i in instances]
    return (
        instances,
        [store.get_history(i.instance_id) for i in instances],
        [[(m.event, m.visible_at, m.execution_id) for m in turn.messages] for turn in turns if turn is not None],
        store.ready_instances(FAR, 10),
        store.ready_instances(at(1), 10),
        store.next_visible_at(),
        [(w.instance_id, w.execution_id, w.task_id, w.name) for w in store.pending_activities(100)],
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations=st.lists(operation_st, max_size=30))
def test_memory_store_agrees_with_the_sqlite_store(operations: list) -> None:
    memory, sqlite = MemoryStore(), SqliteStore(None)
    try:
        for op in [("create", iid, 0, RuntimeStatus.RUNNING) for iid in IDS] + operations:
            assert _apply(memory, op) == _apply(sqlite, op), op
            assert _state(memory) == _state(sqlite), op
    finally:
        sqlite.close()
