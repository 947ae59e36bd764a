"""A group commit's turn may consume an activity result of the same group before it was stored, under the
provisional id ``-work_item_id`` (``Store.commit_group``, :mod:`devhost.store.grouping`), on every store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devhost.core.errors import InstanceExists, ResultNotRecorded
from devhost.core.model import EventType, RuntimeStatus, TurnCommit
from devhost.store.base import Store
from tests.store.test_group_commit import history_types, scheduled
from tests.store_contract import FAR, STORES, at, event, make_instance, message, start, start_message, with_status


@pytest.fixture(params=sorted(STORES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    store = STORES[request.param](tmp_path)
    yield store
    store.close()


def running_with_work_item(store: Store, instance_id: str = "a") -> int:
    start(store, instance_id)
    store.commit_turn(scheduled(store, instance_id))
    [item] = store.pending_activities(10)
    assert item.id is not None
    return item.id


def test_a_result_consumed_by_its_turn_is_recorded_and_never_left_queued(store: Store) -> None:
    work_item_id = running_with_work_item(store)
    result = message("a", EventType.TASK_COMPLETED, at(1), "e1", TaskScheduledId=0)
    a = store.get_instance("a") or pytest.fail()
    turn = TurnCommit(
        with_status(a, RuntimeStatus.COMPLETED),
        consumed_message_ids=[-work_item_id],
        new_history=[event(EventType.TASK_COMPLETED, TaskScheduledId=0), event(EventType.EXECUTION_COMPLETED)],
    )

    outcomes = store.commit_group([turn], [(work_item_id, result)])

    assert outcomes == [None]
    assert store.pending_activities(10) == []
    assert (store.load_turn("a", FAR) or pytest.fail()).messages == []
    assert history_types(store, "a")[-2:] == [EventType.TASK_COMPLETED, EventType.EXECUTION_COMPLETED]


def test_a_turn_that_consumed_a_result_whose_work_item_is_gone_writes_nothing(store: Store) -> None:
    a = start(store, "a")
    b = start(store, "b")
    before = history_types(store, "a")
    result = message("a", EventType.TASK_COMPLETED, at(1), "e1", TaskScheduledId=0)
    consuming = TurnCommit(
        with_status(a, RuntimeStatus.COMPLETED), consumed_message_ids=[-12345], new_history=[event(EventType.EXECUTION_COMPLETED)]
    )
    other = TurnCommit(b, new_history=[event(EventType.TIMER_CREATED)])

    outcomes = store.commit_group([consuming, other], [(12345, result)])

    assert isinstance(outcomes[0], ResultNotRecorded) and outcomes[1] is None
    assert (store.get_instance("a") or pytest.fail()).runtime_status is RuntimeStatus.RUNNING
    assert history_types(store, "a") == before
    assert (store.load_turn("a", FAR) or pytest.fail()).messages == []  # the result is not recorded either
    assert history_types(store, "b")[-1] == EventType.TIMER_CREATED


def test_a_result_consumed_by_a_turn_the_store_rejects_stays_queued(store: Store) -> None:
    work_item_id = running_with_work_item(store, "parent")
    start(store, "live")
    result = message("parent", EventType.TASK_COMPLETED, at(1), "e1", TaskScheduledId=0)
    parent = store.get_instance("parent") or pytest.fail()
    clash = TurnCommit(
        parent,
        consumed_message_ids=[-work_item_id],
        new_history=[event(EventType.SUB_ORCHESTRATION_INSTANCE_CREATED, EventId=1)],
        new_instances=[make_instance("live", execution_id="x")],
        new_messages=[start_message("live")],
    )

    outcomes = store.commit_group([clash], [(work_item_id, result)])

    assert isinstance(outcomes[0], InstanceExists)
    assert store.pending_activities(10) == []
    queued = (store.load_turn("parent", FAR) or pytest.fail()).messages
    assert [(m.event["EventType"], m.event["TaskScheduledId"]) for m in queued] == [(EventType.TASK_COMPLETED, 0)]


def test_a_result_its_turn_consumes_in_the_group_is_never_written_to_the_queue(store: Store) -> None:
    work_item_id = running_with_work_item(store)
    start(store, "other")
    before = store.send_message(message("other", EventType.EVENT_RAISED, at(1), "e1", Name="x"))
    result = message("a", EventType.TASK_COMPLETED, at(1), "e1", TaskScheduledId=0)
    a = store.get_instance("a") or pytest.fail()
    turn = TurnCommit(a, consumed_message_ids=[-work_item_id], new_history=[event(EventType.TASK_COMPLETED, TaskScheduledId=0)])

    assert store.commit_group([turn], [(work_item_id, result)]) == [None]

    after = store.send_message(message("other", EventType.EVENT_RAISED, at(1), "e1", Name="y"))
    assert after == before + 1  # no message id was taken by the result: it was never queued
    assert store.pending_activities(10) == []


def test_a_turn_rejected_for_a_result_that_is_gone_leaves_its_recorded_results_queued(store: Store) -> None:
    work_item_id = running_with_work_item(store)
    result = message("a", EventType.TASK_COMPLETED, at(1), "e1", TaskScheduledId=0)
    lost = message("a", EventType.TASK_COMPLETED, at(1), "e1", TaskScheduledId=1)
    a = store.get_instance("a") or pytest.fail()
    turn = TurnCommit(
        with_status(a, RuntimeStatus.COMPLETED),
        consumed_message_ids=[-work_item_id, -12345],
        new_history=[event(EventType.EXECUTION_COMPLETED)],
    )

    outcomes = store.commit_group([turn], [(work_item_id, result), (12345, lost)])

    assert isinstance(outcomes[0], ResultNotRecorded)
    assert store.pending_activities(10) == []  # its work item is done: the result is recorded ...
    queued = (store.load_turn("a", FAR) or pytest.fail()).messages
    assert [m.event["TaskScheduledId"] for m in queued] == [0]  # ... and waits for the next turn
