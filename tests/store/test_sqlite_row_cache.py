"""The SQLite store's write-through cache of instance rows (devhost.store.row_cache): a status read of a running
instance does not query the file, and what it answers is always what the file holds."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from devhost.core.model import EventType, Instance, RuntimeStatus, TurnCommit
from devhost.store.sqlite import SqliteStore
from tests.store_contract import at, event, make_instance, start, start_message, with_status


def from_file(path: Path, instance_id: str) -> Instance | None:
    with SqliteStore(path) as reopened:
        return reopened.get_instance(instance_id)


def test_a_committed_turn_is_read_back_from_memory_as_the_file_holds_it(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore(path)
    running = start(store, "a")
    store.load_turn("a", at(1))
    changed = dataclasses.replace(running, custom_status='"half"', last_updated_time=at(2), cursor='{"next_seq":1}')
    store.commit_group([TurnCommit(changed, new_history=[event(EventType.TIMER_CREATED)])])
    seen: list[str] = []
    store._conn.set_trace_callback(seen.append)

    cached = store.get_instance("a")
    store.close()

    assert seen == []
    assert cached == from_file(path, "a")
    assert cached is not None and cached.custom_status == '"half"' and cached.last_updated_time == at(2)


def test_a_value_the_file_would_convert_is_read_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore(path)
    running = start(store, "a")
    store.get_instance("a")
    store.commit_turn(TurnCommit(dataclasses.replace(running, version=2)))  # type: ignore[arg-type]  # TEXT affinity: "2"

    answer = store.get_instance("a")
    store.close()

    assert answer == from_file(path, "a")
    assert answer is not None and answer.version == "2"


def test_every_other_write_of_a_row_is_read_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore(path)
    done = start(store, "a", status=RuntimeStatus.COMPLETED)
    parent = start(store, "parent")
    assert store.get_instance("a") == done

    store.create_instance(make_instance("a", execution_id="e2"), start_message("a"))
    recreated = store.get_instance("a")
    store.commit_turn(TurnCommit(with_status(recreated, RuntimeStatus.COMPLETED)))  # type: ignore[arg-type]
    store.commit_turn(TurnCommit(parent, new_instances=[make_instance("a", execution_id="e3")]))  # a child replaces it
    as_child = store.get_instance("a")
    store.purge_instance("parent")
    purged = store.get_instance("parent")
    store.close()

    assert recreated is not None and recreated.execution_id == "e2"
    assert as_child == from_file(path, "a") and as_child is not None and as_child.execution_id == "e3"
    assert purged is None
