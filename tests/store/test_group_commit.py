"""Group commit (``Store.commit_group``), on every store of the contract: several turns and activity results in
one transaction, each turn all-or-nothing, the group all-or-nothing on any other failure; and the SQLite
store's write-through history cache staying equal to the file through every way history is written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devhost.core.errors import InstanceExists
from devhost.core.model import EventType, Message, RuntimeStatus, TurnCommit
from devhost.store.base import Store
from devhost.store.sqlite import SqliteStore
from tests.store_contract import (
    FAR,
    STORES,
    T0,
    at,
    event,
    make_instance,
    message,
    start,
    start_message,
    with_status,
    work_item,
)


@pytest.fixture(params=sorted(STORES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    store = STORES[request.param](tmp_path)
    yield store
    store.close()


def history_types(store: Store, instance_id: str) -> list[int]:
    turn = store.load_turn(instance_id, FAR)
    assert turn is not None
    assert [e["EventType"] for e in turn.history] == [e["EventType"] for e in store.get_history(instance_id)]
    return [e["EventType"] for e in turn.history]


def scheduled(store: Store, instance: str) -> TurnCommit:
    """A turn of ``instance`` appending a TaskScheduled and a work item."""
    running = store.get_instance(instance)
    assert running is not None
    return TurnCommit(running, new_history=[event(EventType.TASK_SCHEDULED, EventId=0)], new_activities=[work_item(instance)])


def test_a_group_applies_every_result_and_turn_in_one_call(store: Store) -> None:
    start(store, "a")
    start(store, "b")
    store.commit_turn(scheduled(store, "a"))
    [item] = store.pending_activities(10)
    assert item.id is not None
    result = message("a", EventType.TASK_COMPLETED, at(1), "e1", TaskScheduledId=0)

    outcomes = store.commit_group([scheduled(store, "b")], [(item.id, result)])

    assert outcomes == [None]
    assert [(w.instance_id, w.task_id) for w in store.pending_activities(10)] == [("b", 0)]
    assert [m.event["EventType"] for m in (store.load_turn("a", FAR) or pytest.fail()).messages] == [EventType.TASK_COMPLETED]
    assert history_types(store, "b")[-1] == EventType.TASK_SCHEDULED


def test_turns_of_one_group_apply_in_order_on_the_same_instance(store: Store) -> None:
    running = start(store, "a")
    first = TurnCommit(running, new_history=[event(EventType.TIMER_CREATED, EventId=0)])
    second = TurnCommit(with_status(running, RuntimeStatus.COMPLETED), new_history=[event(EventType.EXECUTION_COMPLETED)])

    assert store.commit_group([first, second]) == [None, None]

    assert history_types(store, "a")[-2:] == [EventType.TIMER_CREATED, EventType.EXECUTION_COMPLETED]
    assert (store.get_instance("a") or pytest.fail()).runtime_status is RuntimeStatus.COMPLETED


def test_a_rejected_turn_writes_nothing_and_the_rest_of_the_group_commits(store: Store) -> None:
    start(store, "live")
    parent = start(store, "parent")
    other = start(store, "other")
    history_types(store, "parent")  # loaded once: a cache, where there is one, holds it
    clash = TurnCommit(
        with_status(parent, RuntimeStatus.COMPLETED),
        new_history=[event(EventType.SUB_ORCHESTRATION_INSTANCE_CREATED, EventId=0)],
        new_instances=[make_instance("fresh"), make_instance("live", execution_id="x")],
        new_messages=[start_message("fresh"), start_message("live")],
        new_activities=[work_item("parent")],
    )
    fine = TurnCommit(with_status(other, RuntimeStatus.COMPLETED), new_history=[event(EventType.EXECUTION_COMPLETED)])

    outcomes = store.commit_group([clash, fine])

    assert isinstance(outcomes[0], InstanceExists) and outcomes[1] is None
    assert (store.get_instance("parent") or pytest.fail()).runtime_status is RuntimeStatus.RUNNING
    assert history_types(store, "parent") == [EventType.ORCHESTRATOR_STARTED, EventType.EXECUTION_STARTED]
    assert store.get_instance("fresh") is None
    assert store.pending_activities(10) == []
    assert (store.get_instance("other") or pytest.fail()).runtime_status is RuntimeStatus.COMPLETED
    assert (store.get_instance("live") or pytest.fail()).execution_id == "e1"


def test_a_group_that_fails_otherwise_writes_nothing_at_all(store: Store) -> None:
    a = start(store, "a")
    start(store, "b")
    store.commit_turn(scheduled(store, "a"))
    [item] = store.pending_activities(10)
    assert item.id is not None
    history_types(store, "a")
    good = TurnCommit(with_status(a, RuntimeStatus.COMPLETED), new_history=[event(EventType.EXECUTION_COMPLETED)])
    unstorable = Message("b", {**event(EventType.EVENT_RAISED), "Input": object()}, T0, None)
    bad = TurnCommit(store.get_instance("b") or pytest.fail(), new_messages=[unstorable])
    result = message("a", EventType.TASK_COMPLETED, at(1), "e1", TaskScheduledId=0)

    with pytest.raises(TypeError):
        store.commit_group([good, bad], [(item.id, result)])

    assert (store.get_instance("a") or pytest.fail()).runtime_status is RuntimeStatus.RUNNING
    assert history_types(store, "a")[-1] == EventType.TASK_SCHEDULED
    assert [w.id for w in store.pending_activities(10)] == [item.id]
    assert (store.load_turn("a", FAR) or pytest.fail()).messages == []


def test_a_result_whose_work_item_is_gone_is_dropped_and_the_group_still_commits(store: Store) -> None:
    a = start(store, "a")
    result = message("a", EventType.TASK_COMPLETED, at(1), "e1", TaskScheduledId=0)

    assert store.commit_group([TurnCommit(a, new_history=[event(EventType.TIMER_CREATED)])], [(12345, result)]) == [None]

    assert (store.load_turn("a", FAR) or pytest.fail()).messages == []
    assert history_types(store, "a")[-1] == EventType.TIMER_CREATED


# --- the history cache: every way history is written outside an appending turn --------------------------------
def test_continue_as_new_replaces_the_loaded_history(store: Store) -> None:
    a = start(store, "a")
    history_types(store, "a")

    store.commit_group([TurnCommit(a, new_history=[event(EventType.ORCHESTRATOR_STARTED)], replace_history=True)])

    assert history_types(store, "a") == [EventType.ORCHESTRATOR_STARTED]


def test_purge_then_restart_under_the_same_id_starts_with_an_empty_history(store: Store) -> None:
    a = start(store, "a")
    store.commit_turn(TurnCommit(with_status(a, RuntimeStatus.COMPLETED), new_history=[event(EventType.EXECUTION_COMPLETED)]))
    history_types(store, "a")

    store.purge_instance("a")
    store.create_instance(make_instance("a"), start_message("a"))

    assert history_types(store, "a") == []


def test_recreating_a_terminal_instance_drops_its_loaded_history(store: Store) -> None:
    a = start(store, "a", status=RuntimeStatus.FAILED)
    history_types(store, "a")

    store.create_instance(make_instance("a", execution_id="e2"), start_message("a"))

    assert history_types(store, "a") == []
    assert a.runtime_status is RuntimeStatus.FAILED


def test_a_sub_orchestration_replacing_a_terminal_instance_starts_with_an_empty_history(store: Store) -> None:
    start(store, "child", status=RuntimeStatus.COMPLETED)
    parent = start(store, "parent")
    history_types(store, "child")

    store.commit_group([TurnCommit(parent, new_instances=[make_instance("child", execution_id="c2")])])

    assert history_types(store, "child") == []


def test_purge_by_query_drops_loaded_histories(store: Store) -> None:
    from devhost.core.model import InstanceQuery

    start(store, "a", status=RuntimeStatus.COMPLETED)
    history_types(store, "a")

    assert store.purge_instances(InstanceQuery()) == 1
    store.create_instance(make_instance("a"), start_message("a"))

    assert history_types(store, "a") == []


def test_the_sqlite_store_reads_a_loaded_history_from_its_cache_not_the_file(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db") as store:
        a = start(store, "a")
        history_types(store, "a")
        store.commit_group([TurnCommit(a, new_history=[event(EventType.TIMER_CREATED)])])
        queries: list[str] = []
        store._conn.set_trace_callback(queries.append)

        turn = store.load_turn("a", FAR)

        assert turn is not None and len(turn.history_json) == 3
        assert not [q for q in queries if "FROM history" in q]


def test_the_sqlite_cache_evicts_least_recently_used_histories_within_its_bound(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db") as store:
        store._histories.max_events = 3
        start(store, "a")
        start(store, "b")
        history_types(store, "a")
        history_types(store, "b")  # 2 + 2 events > 3: a goes

        assert "a" not in store._histories and "b" in store._histories
        assert history_types(store, "a") == [EventType.ORCHESTRATOR_STARTED, EventType.EXECUTION_STARTED]
