"""The SQLite store answers the engine's idle polls (is anything ready, when is the next message or entity request)
from what it read since its last write, and reads the file again after any write."""

from __future__ import annotations

from pathlib import Path

import pytest

from devhost.core.entities import EntityMessage
from devhost.core.model import EventType, TurnCommit
from devhost.store.sqlite import SqliteStore
from tests.store_contract import at, event, message, start


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
