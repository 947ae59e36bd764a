"""The in-memory store's entity half agrees with the SQLite store's: random sequences of entity operations on
both, side by side, compared on everything a caller can read after each step (ids aside)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devhost.core.entities import EntityCommit, EntityMessage, EntityQuery
from devhost.store.base import Store
from devhost.store.memory import MemoryStore
from devhost.store.sqlite import SqliteStore

try:
    from store_contract import FAR, at
except ImportError:  # tests/ is a package: import it by its package path
    from tests.store_contract import FAR, at  # type: ignore[no-redef]

ENTITIES = ["@c@a", "@c@b", "@d@a"]
operation_st = st.one_of(
    st.tuples(st.just("signal"), st.sampled_from(ENTITIES), st.integers(0, 3), st.sampled_from(["add", "reset"])),
    st.tuples(st.just("batch"), st.sampled_from(ENTITIES), st.integers(0, 3), st.booleans(), st.integers(1, 3)),
    st.tuples(st.just("purge"), st.sampled_from(ENTITIES)),
)


def _apply(store: Store, op: tuple) -> object:
    if op[0] == "signal":
        _, entity_id, when, name = op
        store.send_entity_message(EntityMessage(entity_id, {"op": name, "signal": True, "id": name}, at(when)))
        return None  # ids differ between stores (SQLite has one sequence per table)
    if op[0] == "batch":
        _, entity_id, when, exists, limit = op
        batch = store.load_entity_batch(entity_id, at(when), limit)
        consumed = [m.id for m in batch.messages if m.id is not None]
        signals = [EntityMessage("@c@b", {"op": "echo", "signal": True, "id": "s"}, at(when))] if batch.messages else []
        store.commit_entity_batch(EntityCommit(entity_id, at(when), consumed, exists, str(len(consumed)), signals=signals))
        return [m.request for m in batch.messages]
    return store.purge_entity(op[1])


def _state(store: Store) -> object:
    records, _ = store.query_entities(EntityQuery())
    return (
        records,
        [[(m.request, m.visible_at) for m in store.load_entity_batch(e, FAR, 100).messages] for e in ENTITIES],
        store.ready_entities(FAR, 10),
        store.ready_entities(at(1), 10),
        store.next_visible_at(),
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations=st.lists(operation_st, max_size=25))
def test_memory_entity_store_agrees_with_the_sqlite_store(operations: list) -> None:
    memory, sqlite = MemoryStore(), SqliteStore(None)
    try:
        for op in operations:
            assert _apply(memory, op) == _apply(sqlite, op), op
            assert _state(memory) == _state(sqlite), op
    finally:
        sqlite.close()
