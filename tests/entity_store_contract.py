"""The Store contract's entity half: every entity behaviour devhost.store.base.Store documents, as a reusable
suite run once per store in :data:`tests.store_contract.STORES` (SQLite on a file, SQLite in memory, memory)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devhost.core.entities import EntityCommit, EntityMessage, EntityQuery
from devhost.core.errors import BadRequest
from devhost.core.model import EventType, Message, TurnCommit
from devhost.store.base import Store

try:
    from store_contract import FAR, STORES, StoreFactory, at, make_instance, start_message
except ImportError:  # tests/ is a package: import it by its package path
    from tests.store_contract import FAR, STORES, StoreFactory, at, make_instance, start_message  # type: ignore[no-redef]


def request(op: str, n: int = 0, **extra: object) -> dict[str, object]:
    return {"op": op, "signal": True, "input": str(n), "id": f"req-{op}-{n}", **extra}


def _raised(messages: list[Message]) -> list[str]:
    return [m.event["Name"] for m in messages if m.event["EventType"] == EventType.EVENT_RAISED]


class EntityStoreContract:
    @pytest.fixture(params=sorted(STORES))
    def make_store(self, request: pytest.FixtureRequest) -> StoreFactory:
        return STORES[request.param]

    @pytest.fixture
    def store(self, make_store: StoreFactory, tmp_path: Path) -> Iterator[Store]:
        store = make_store(tmp_path)
        yield store
        store.close()

    def test_requests_of_one_entity_are_loaded_in_the_order_sent(self, store: Store) -> None:
        for n in range(3):
            store.send_entity_message(EntityMessage("@counter@a", request("add", n), at(0)))

        batch = store.load_entity_batch("@counter@a", at(0), limit=10)

        assert batch.record is None
        assert [m.request["input"] for m in batch.messages] == ["0", "1", "2"]

    def test_a_batch_takes_at_most_limit_requests_and_only_visible_ones(self, store: Store) -> None:
        store.send_entity_message(EntityMessage("@c@a", request("later"), at(10)))
        for n in range(3):
            store.send_entity_message(EntityMessage("@c@a", request("now", n), at(0)))

        batch = store.load_entity_batch("@c@a", at(0), limit=2)

        assert [(m.request["op"], m.request["input"]) for m in batch.messages] == [("now", "0"), ("now", "1")]
        assert store.next_visible_at() == at(0)

    def test_ready_entities_lists_entities_with_visible_requests_oldest_first(self, store: Store) -> None:
        store.send_entity_message(EntityMessage("@c@b", request("x"), at(0)))
        store.send_entity_message(EntityMessage("@c@a", request("x"), at(0)))
        store.send_entity_message(EntityMessage("@c@z", request("x"), at(5)))

        assert store.ready_entities(at(0), limit=10) == ["@c@b", "@c@a"]
        assert store.ready_entities(at(0), limit=10, exclude=["@c@b"]) == ["@c@a"]
        assert store.ready_entities(at(5), limit=1) == ["@c@b"]

    def test_a_commit_writes_state_consumes_requests_and_sends_responses_and_signals(self, store: Store) -> None:
        store.create_instance(make_instance("orch", execution_id="e1"), start_message("orch"))
        store.send_entity_message(EntityMessage("@c@a", request("add"), at(0)))
        batch = store.load_entity_batch("@c@a", at(0), limit=10)
        response = Message("orch", {"EventType": int(EventType.EVENT_RAISED), "Name": "r1", "Input": "{}"}, at(1), "e1")

        store.commit_entity_batch(
            EntityCommit(
                "@c@a",
                at(1),
                consumed_message_ids=[m.id for m in batch.messages if m.id is not None],
                exists=True,
                state="5",
                responses=[response],
                signals=[EntityMessage("@c@b", request("add", 1), at(1))],
            )
        )

        record = store.get_entity("@c@a")
        assert record is not None and (record.state, record.last_modified) == ("5", at(1))
        assert store.load_entity_batch("@c@a", FAR, limit=10).messages == []
        assert store.ready_entities(FAR, limit=10) == ["@c@b"]
        turn = store.load_turn("orch", FAR)
        assert turn is not None and _raised(turn.messages) == ["r1"]

    def test_a_commit_of_a_deleted_entity_removes_its_record(self, store: Store) -> None:
        store.commit_entity_batch(EntityCommit("@c@a", at(0), exists=True, state="1"))

        store.commit_entity_batch(EntityCommit("@c@a", at(1), exists=False))

        assert store.get_entity("@c@a") is None

    def test_a_response_for_a_gone_or_moved_on_orchestration_is_dropped(self, store: Store) -> None:
        store.create_instance(make_instance("orch", execution_id="e2"), start_message("orch"))
        stale = Message("orch", {"EventType": int(EventType.EVENT_RAISED), "Name": "old"}, at(0), "e1")
        gone = Message("nobody", {"EventType": int(EventType.EVENT_RAISED), "Name": "x"}, at(0), None)

        store.commit_entity_batch(EntityCommit("@c@a", at(0), exists=True, state="1", responses=[stale, gone]))

        turn = store.load_turn("orch", FAR)
        assert turn is not None and _raised(turn.messages) == []
        assert store.get_instance("nobody") is None

    def test_a_turn_commit_queues_its_entity_requests(self, store: Store) -> None:
        instance = make_instance("orch", execution_id="e1")
        store.create_instance(instance, start_message("orch"))

        store.commit_turn(TurnCommit(instance=instance, new_entity_messages=[EntityMessage("@c@a", request("add", 7), at(0))]))

        assert [m.request["input"] for m in store.load_entity_batch("@c@a", at(0), 10).messages] == ["7"]

    def test_query_filters_by_name_and_time_and_pages_with_a_token(self, store: Store) -> None:
        for n, entity_id in enumerate(["@c@a", "@c@b", "@c@c", "@other@a", "@co@x"]):
            store.commit_entity_batch(EntityCommit(entity_id, at(n), exists=True, state=str(n)))

        first, token = store.query_entities(EntityQuery(name="C", top=2))
        second, last = store.query_entities(EntityQuery(name="c", top=2, continuation_token=token))
        timed, _ = store.query_entities(EntityQuery(last_modified_from=at(1), last_modified_to=at(3)))

        assert [r.entity_id for r in first] == ["@c@a", "@c@b"] and token is not None
        assert ([r.entity_id for r in second], last) == (["@c@c"], None)
        assert [r.entity_id for r in timed] == ["@c@b", "@c@c", "@other@a"]

    def test_query_refuses_a_bad_top_or_token(self, store: Store) -> None:
        with pytest.raises(BadRequest):
            store.query_entities(EntityQuery(top=0))
        with pytest.raises(BadRequest):
            store.query_entities(EntityQuery(continuation_token="not-a-token"))

    def test_purge_removes_the_record_and_queued_requests(self, store: Store) -> None:
        store.commit_entity_batch(EntityCommit("@c@a", at(0), exists=True, state="1"))
        store.send_entity_message(EntityMessage("@c@a", request("add"), at(0)))

        assert store.purge_entity("@c@a") == 1
        assert store.purge_entity("@c@a") == 0
        assert store.get_entity("@c@a") is None and store.ready_entities(FAR, 10) == []

    def test_returned_records_are_copies(self, store: Store) -> None:
        store.send_entity_message(EntityMessage("@c@a", request("add"), at(0)))
        store.load_entity_batch("@c@a", at(0), 10).messages[0].request["op"] = "changed"

        assert store.load_entity_batch("@c@a", at(0), 10).messages[0].request["op"] == "add"
