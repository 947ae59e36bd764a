"""The Store's notification outbox and trace-context fields, on every store (tests/store_contract.STORES)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from devhost.core.model import Notification, RuntimeStatus, TurnCommit
from devhost.store.base import Store
from tests.store_contract import STORES, T0, at, make_instance, start, start_message, with_status, work_item

FAR = T0 + timedelta(days=1)


@pytest.fixture(params=sorted(STORES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = STORES[request.param](tmp_path)
    yield opened
    opened.close()


def note(instance_id: str, subject: str, due: float = 0) -> Notification:
    return Notification(instance_id, json.dumps([{"subject": subject}]), at(due))


def subjects(notifications: list[Notification]) -> list[str]:
    return [json.loads(n.body)[0]["subject"] for n in notifications]


def test_notifications_commit_with_the_turn_and_come_back_due_in_time_order(store: Store) -> None:
    running = start(store)
    store.commit_turn(
        TurnCommit(with_status(running, RuntimeStatus.COMPLETED), notifications=[note("i1", "b", 5), note("i1", "a", 1)])
    )

    assert subjects(store.due_notifications(at(0), 10)) == []
    assert subjects(store.due_notifications(at(5), 10)) == ["a", "b"]
    assert subjects(store.due_notifications(at(5), 1)) == ["a"]
    assert store.next_notification_at() == at(1)
    assert store.get_instance("i1").runtime_status is RuntimeStatus.COMPLETED  # type: ignore[union-attr]


def test_a_turn_of_a_purged_instance_writes_no_notification(store: Store) -> None:
    running = start(store)
    store.purge_instance("i1")
    store.commit_turn(TurnCommit(running, notifications=[note("i1", "lost")]))

    assert store.due_notifications(FAR, 10) == [] and store.next_notification_at() is None


def test_a_failing_turn_writes_none_of_its_notifications(store: Store) -> None:
    running = start(store)
    other = start(store, "busy")
    clash = TurnCommit(running, new_instances=[other], notifications=[note("i1", "never")])

    with pytest.raises(Exception):  # noqa: B017 - InstanceExists, as the store contract says
        store.commit_turn(clash)

    assert store.due_notifications(FAR, 10) == []


def test_purging_the_instance_keeps_what_it_owes(store: Store) -> None:
    running = start(store)
    store.commit_turn(TurnCommit(with_status(running, RuntimeStatus.COMPLETED), notifications=[note("i1", "done")]))
    store.purge_instance("i1")

    assert subjects(store.due_notifications(FAR, 10)) == ["done"]


def test_retry_moves_the_due_time_and_counts_attempts_and_delete_removes(store: Store) -> None:
    running = start(store)
    store.commit_turn(TurnCommit(running, notifications=[note("i1", "x")]))
    (owed,) = store.due_notifications(FAR, 10)
    assert owed.id is not None and owed.attempts == 0

    assert store.retry_notification(owed.id, at(30)) is True
    assert store.due_notifications(at(29), 10) == []
    (again,) = store.due_notifications(at(30), 10)
    assert (again.id, again.attempts, again.due_at, again.body) == (owed.id, 1, at(30), owed.body)

    assert store.delete_notification(owed.id) is True
    assert store.delete_notification(owed.id) is False
    assert store.retry_notification(owed.id, at(60)) is False
    assert store.next_notification_at() is None


def test_the_trace_context_is_kept_with_the_instance_through_turns_and_handed_to_its_work_items(store: Store) -> None:
    traced = make_instance(trace_parent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", trace_state="k=v")
    store.create_instance(traced, start_message())
    turn = store.load_turn("i1", T0)
    assert turn is not None
    store.commit_turn(
        TurnCommit(
            with_status(turn.instance, RuntimeStatus.RUNNING),
            consumed_message_ids=[m.id for m in turn.messages if m.id is not None],
            new_activities=[work_item()],
        )
    )

    kept = store.get_instance("i1")
    (item,) = store.pending_activities(10)
    assert kept is not None and (kept.trace_parent, kept.trace_state) == (traced.trace_parent, "k=v")
    assert (item.trace_parent, item.trace_state) == (traced.trace_parent, "k=v")


def test_an_instance_without_trace_context_has_none(store: Store) -> None:
    store.create_instance(make_instance(), start_message())

    kept = store.get_instance("i1")
    assert kept is not None and (kept.trace_parent, kept.trace_state) == (None, None)
