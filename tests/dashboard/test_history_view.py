"""The instance page's history reads (devhost.service.history_view) over a real SQLite store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest

from devhost.core import events
from devhost.core.errors import NotFound
from devhost.core.model import RuntimeStatus, event_json
from devhost.service import history_view, queries
from devhost.store.sqlite import SqliteStore

from .builders import T0, add_instance, monitor_history


@pytest.fixture
def store() -> Iterator[SqliteStore]:
    with SqliteStore(None) as opened:
        yield opened


def test_history_pairs_results_with_their_activity_and_shows_pending_timers(store: SqliteStore) -> None:
    due = T0 + timedelta(minutes=5)
    add_instance(store, "x", history=monitor_history(T0, pending_timer_due=due))

    page = history_view.history_page(store, "x", T0 + timedelta(minutes=1), offset=0, limit=100)
    rows = {row["type"]: row for row in page["events"]}

    assert page["total"] == 9
    assert rows["TaskScheduled"]["state"] == "completed"
    assert rows["TaskScheduled"]["input"]["size"] > queries.PREVIEW_CHARS == len(rows["TaskScheduled"]["input"]["preview"])
    assert rows["TaskCompleted"]["name"] == "check_job_status"
    assert rows["TaskCompleted"]["result"]["preview"] == '{"status":"Running"}'
    assert rows["SubOrchestrationInstanceCreated"]["subInstanceId"] == "child-1"
    assert rows["TimerCreated"]["state"] == "pending"
    assert rows["TimerCreated"]["fireAt"] == "2030-01-01T00:05:00.000Z"
    assert rows["TimerCreated"]["remainingSeconds"] == 240.0


def test_history_pages_by_offset_and_limit(store: SqliteStore) -> None:
    add_instance(store, "x", history=monitor_history(T0))

    page = history_view.history_page(store, "x", T0, offset=3, limit=2)

    assert [row["index"] for row in page["events"]] == [3, 4]
    assert page["total"] == 8


def test_one_history_event_comes_with_its_values_decoded_in_full(store: SqliteStore) -> None:
    add_instance(store, "x", history=monitor_history(T0))

    event = history_view.history_event(store, "x", 2, T0)

    assert event["EventTypeName"] == "TaskScheduled"
    assert event["Input"] == {"payload": "p" * 500}


def test_unknown_instances_and_events_are_not_found(store: SqliteStore) -> None:
    add_instance(store, "x", history=monitor_history(T0))

    with pytest.raises(NotFound):
        history_view.history_page(store, "nope", T0)
    with pytest.raises(NotFound):
        history_view.history_event(store, "x", 99, T0)
    with pytest.raises(NotFound):
        queries.instance_detail(store, "nope", T0)


def test_timeline_has_a_bar_per_activity_timer_and_sub_orchestration(store: SqliteStore) -> None:
    due = T0 + timedelta(minutes=5)
    add_instance(store, "x", history=monitor_history(T0, pending_timer_due=due))

    data = history_view.timeline(store, "x", T0)

    assert [(b["kind"], b["name"], b["state"]) for b in data["bars"]] == [
        ("activity", "check_job_status", "completed"),
        ("suborchestration", "child", "completed"),
        ("timer", "timer", "pending"),
    ]
    assert data["bars"][0]["end"] == "2030-01-01T00:00:02.000Z"
    assert data["bars"][2]["end"] is None and data["bars"][2]["due"] == "2030-01-01T00:05:00.000Z"
    assert data["waiting"] == [
        {
            "kind": "timer",
            "name": "timer",
            "since": "2030-01-01T00:00:02.000Z",
            "due": "2030-01-01T00:05:00.000Z",
            "remainingSeconds": 300.0,
        }
    ]


def test_peeking_reads_what_a_full_parse_reads_for_every_event_devhost_writes() -> None:
    history = monitor_history(T0, pending_timer_due=T0 + timedelta(minutes=5)) + [
        events.timer_fired(T0, 2, T0 + timedelta(minutes=5)),
        events.task_failed(T0, 3, "boom", None),
        events.event_raised(T0, 'odd "name"', '{"Name":"not this"}'),
        events.execution_completed(T0, RuntimeStatus.COMPLETED, '"done"'),
    ]

    for event in history:
        text = event_json(event)
        full = json.loads(text)
        ref = full.get("TaskScheduledId", full.get("TimerId"))
        assert history_view.peek(text) == history_view.Peek(
            full["EventType"],
            full["EventId"],
            full["Timestamp"],
            full.get("Name") if full["EventType"] in (4, 7) else None,
            full.get("FireAt") if full["EventType"] == 10 else None,
            ref,
        ), text


def test_an_event_in_another_key_order_is_parsed_in_full() -> None:
    text = json.dumps({"Timestamp": "2030-01-01T00:00:01.0000000Z", "EventType": 5, "TaskScheduledId": 7, "EventId": -1})

    assert history_view.peek(text) == history_view.Peek(5, -1, "2030-01-01T00:00:01.0000000Z", None, None, 7)


def test_pending_kinds_are_the_scheduled_work_without_a_result(store: SqliteStore) -> None:
    add_instance(store, "x", history=monitor_history(T0, pending_timer_due=T0 + timedelta(minutes=5)))
    add_instance(store, "y", history=monitor_history(T0))

    assert history_view.pending_kinds(store, "x", T0) == frozenset({"timer"})
    assert history_view.pending_kinds(store, "y", T0) == frozenset()
    assert history_view.pending_kinds(store, "gone", T0) == frozenset()
