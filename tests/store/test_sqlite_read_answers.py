"""The SQLite store answers the engine's idle polls (is anything ready, when is the next message or entity request)
from what it read since its last write, and reads the file again after any write, except that a turn that can have
made no message deliverable keeps a "none deliverable" answer."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from devhost.core.entities import EntityMessage
from devhost.core.model import EventType, RuntimeStatus, TurnCommit
from devhost.store.sqlite import SqliteStore
from tests.store_contract import at, delivered, event, message, start, with_status, work_item


def traced(store: SqliteStore) -> list[str]:
    seen: list[str] = []
    store._conn.set_trace_callback(seen.append)
    return seen


def test_idle_polls_between_two_writes_read_the_file_once(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db") as store:
        start(store, "a")
        seen = traced(store)

        for _ in range(3):
            assert store.ready_instances(at(5), 10) == []
            assert store.ready_entities(at(5), 10) == []
            assert store.next_visible_at() is None

        assert len(seen) == 2  # the first message and the first entity request, once each


def test_every_write_is_seen_by_the_next_poll(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db") as store:
        a = start(store, "a")
        assert (store.ready_instances(at(5), 10), store.next_visible_at()) == ([], None)

        store.send_message(message("a", EventType.EVENT_RAISED, at(3), Name="go", Input=None))
        assert (store.ready_instances(at(5), 10), store.next_visible_at()) == (["a"], at(3))

        turn = store.load_turn("a", at(5)) or pytest.fail()
        signal = EntityMessage("@counter@x", {"op": "add"}, at(4))
        store.commit_group(
            [TurnCommit(a, [m.id for m in turn.messages if m.id], [event(EventType.EVENT_RAISED)], new_entity_messages=[signal])]
        )
        assert (store.ready_instances(at(5), 10), store.ready_entities(at(5), 10), store.next_visible_at()) == (
            [],
            ["@counter@x"],
            at(4),
        )

        store.purge_entity("@counter@x")
        assert (store.ready_entities(at(5), 10), store.next_visible_at()) == ([], None)


def _message_reads(seen: list[str]) -> list[str]:
    return [sql for sql in seen if sql.lstrip().startswith("SELECT m.visible_at FROM messages")]


def test_a_turn_that_makes_nothing_deliverable_keeps_a_none_answer_without_reading_the_file(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db") as store:
        a = start(store, "a")
        assert store.next_visible_at() is None
        seen = traced(store)

        store.commit_turn(TurnCommit(a, new_history=[event(EventType.ORCHESTRATOR_STARTED)]))
        assert store.next_visible_at() is None
        store.commit_group([TurnCommit(a, new_history=[event(EventType.ORCHESTRATOR_STARTED)])])
        assert (store.ready_instances(at(5), 10), store.next_visible_at()) == ([], None)

        assert _message_reads(seen) == []


def test_a_turn_that_queues_a_message_is_seen_by_the_next_poll(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db") as store:
        a = start(store, "a")
        assert store.next_visible_at() is None

        store.commit_group([TurnCommit(a, new_messages=[message("a", EventType.TIMER_FIRED, at(7), "e1", TimerId=0)])])

        assert (store.ready_instances(at(7), 10), store.next_visible_at()) == (["a"], at(7))


def test_an_activity_result_a_group_commit_queues_is_seen_by_the_next_poll(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db") as store:
        a = start(store, "a")
        store.commit_turn(TurnCommit(a, new_activities=[work_item("a")]))
        [item] = store.pending_activities(10)
        assert item.id is not None and store.next_visible_at() is None

        result = message("a", EventType.TASK_COMPLETED, at(2), "e1", TaskScheduledId=0)
        store.commit_group([], [(item.id, result)])

        assert store.next_visible_at() == at(2)


def test_a_resume_makes_held_messages_deliverable_for_the_next_poll(tmp_path: Path) -> None:
    for commit in ("turn", "group"):
        with SqliteStore(tmp_path / f"{commit}.db") as store:
            a = start(store, "a", status=RuntimeStatus.SUSPENDED)
            store.send_message(message("a", visible_at=at(1), Name="held"))
            assert store.next_visible_at() is None  # held while suspended

            resumed = TurnCommit(with_status(a, RuntimeStatus.RUNNING))
            if commit == "turn":
                store.commit_turn(resumed)
            else:
                store.commit_group([resumed])

            assert (store.ready_instances(at(1), 10), store.next_visible_at()) == (["a"], at(1))
            assert delivered(store, "a") == [(int(EventType.EVENT_RAISED), "held")]


def test_a_change_of_execution_makes_its_messages_deliverable_for_the_next_poll(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db") as store:
        a = start(store, "a", execution_id="e2")
        store.send_message(message("a", visible_at=at(1), execution_id="e3", Name="for e3"))
        assert store.next_visible_at() is None  # for another execution

        store.commit_group([TurnCommit(dataclasses.replace(a, execution_id="e3"))])

        assert store.next_visible_at() == at(1)
        assert delivered(store, "a") == [(int(EventType.EVENT_RAISED), "for e3")]


def test_a_turn_loaded_while_no_message_is_deliverable_reads_no_message(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db") as store:
        a = start(store, "a")
        store.send_message(message("a", visible_at=at(1), execution_id="e0", Name="of a gone execution"))
        assert store.next_visible_at() is None
        seen = traced(store)

        turn = store.load_turn("a", at(5))

        assert turn is not None and turn.messages == [] and turn.instance == a
        assert not any("FROM messages" in sql for sql in seen)
        store.commit_group([TurnCommit(a, new_history=[event(EventType.ORCHESTRATOR_STARTED)])])
        assert delivered(store, "a") == []


def test_a_turn_loaded_after_a_message_was_queued_reads_it(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db") as store:
        a = start(store, "a")
        assert store.next_visible_at() is None
        store.commit_group([TurnCommit(a, new_messages=[message("a", EventType.TIMER_FIRED, at(7), "e1", TimerId=0)])])

        assert delivered(store, "a", at(7)) == [(int(EventType.TIMER_FIRED), 0)]
