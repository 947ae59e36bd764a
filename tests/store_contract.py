"""The Store contract: every behaviour devhost.store.base.Store documents, as a reusable test suite.

Every ``test_*`` method below runs once per store in :data:`STORES` (the ``make_store`` fixture is
parametrized over them): the SQLite store on a file and in memory, and the in-memory store. A new Store
implementation adds itself there. The builders (``make_instance``, ``message``, ``work_item``...) are shared
with the implementation-specific tests.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import pytest

from devhost.core.errors import BadRequest, InstanceExists, NotFound
from devhost.core.model import (
    TERMINAL_STATUSES,
    ActivityWorkItem,
    EventType,
    HistoryEvent,
    Instance,
    InstanceQuery,
    Message,
    RuntimeStatus,
    TurnCommit,
    event_json,
)
from devhost.store.base import Store
from devhost.store.memory import MemoryStore
from devhost.store.sqlite import SqliteStore

StoreFactory = Callable[[Path], Store]
STORES: dict[str, StoreFactory] = {
    "sqlite-file": lambda tmp_path: SqliteStore(tmp_path / "store.db"),
    "sqlite-memory": lambda tmp_path: SqliteStore(None),
    "memory": lambda tmp_path: MemoryStore(),
}
"""Every Store implementation the contract runs against: a name (the test id) and a factory of a new, empty store."""

UTC = timezone.utc
T0 = datetime(2030, 1, 1, tzinfo=UTC)
FAR = T0 + timedelta(days=1000)
NON_TERMINAL = sorted(set(RuntimeStatus) - TERMINAL_STATUSES, key=lambda s: s.value)
TERMINAL = sorted(TERMINAL_STATUSES, key=lambda s: s.value)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def event(event_type: EventType, **fields: Any) -> HistoryEvent:
    return {"EventType": int(event_type), "EventId": -1, "IsPlayed": False, "Timestamp": "2030-01-01T00:00:00Z", **fields}


def make_instance(
    instance_id: str = "i1",
    *,
    status: RuntimeStatus = RuntimeStatus.PENDING,
    created: datetime = T0,
    execution_id: str = "e1",
    **fields: Any,
) -> Instance:
    return Instance(
        instance_id=instance_id,
        name="orch",
        execution_id=execution_id,
        runtime_status=status,
        created_time=created,
        last_updated_time=created,
        **fields,
    )


def message(
    instance_id: str,
    event_type: EventType = EventType.EVENT_RAISED,
    visible_at: datetime = T0,
    execution_id: str | None = None,
    **fields: Any,
) -> Message:
    return Message(instance_id, event(event_type, **fields), visible_at, execution_id)


def start_message(instance_id: str = "i1", visible_at: datetime = T0) -> Message:
    return message(instance_id, EventType.EXECUTION_STARTED, visible_at, Name="orch", Input=None)


def timer_fired(instance_id: str, timer_id: int, visible_at: datetime, execution_id: str = "e1") -> Message:
    return message(instance_id, EventType.TIMER_FIRED, visible_at, execution_id, TimerId=timer_id)


def work_item(instance_id: str = "i1", task_id: int = 0, execution_id: str = "e1") -> ActivityWorkItem:
    return ActivityWorkItem(instance_id, execution_id, task_id, f"act{task_id}", f'"in{task_id}"')


def with_status(instance: Instance, status: RuntimeStatus) -> Instance:
    return dataclasses.replace(instance, runtime_status=status)


def start(
    store: Store,
    instance_id: str = "i1",
    *,
    status: RuntimeStatus = RuntimeStatus.RUNNING,
    created: datetime = T0,
    execution_id: str = "e1",
) -> Instance:
    """Create an instance and commit its first turn (start message consumed) with ``status``."""
    instance = make_instance(instance_id, created=created, execution_id=execution_id)
    store.create_instance(instance, start_message(instance_id, created))
    turn = store.load_turn(instance_id, created)
    assert turn is not None
    running = with_status(instance, status)
    store.commit_turn(
        TurnCommit(
            running,
            consumed_message_ids=[m.id for m in turn.messages if m.id is not None],
            new_history=[event(EventType.ORCHESTRATOR_STARTED), event(EventType.EXECUTION_STARTED, Name="orch")],
        )
    )
    return running


def delivered(store: Store, instance_id: str, now: datetime = FAR) -> list[tuple[int, Any]]:
    """(EventType, Name/TimerId/TaskScheduledId) of the messages a turn at ``now`` would consume."""
    turn = store.load_turn(instance_id, now)
    assert turn is not None
    return [
        (m.event["EventType"], m.event.get("Name", m.event.get("TimerId", m.event.get("TaskScheduledId")))) for m in turn.messages
    ]


def all_pages(store: Store, query: InstanceQuery) -> tuple[list[str], int]:
    """Follow continuation tokens to the end; the ids in order and the number of pages."""
    ids: list[str] = []
    pages = 0
    token: str | None = None
    while True:
        page, token = store.query_instances(dataclasses.replace(query, continuation_token=token))
        pages += 1
        assert query.top is None or len(page) <= query.top
        ids.extend(i.instance_id for i in page)
        if token is None:
            return ids, pages
        assert pages < 10_000, "paging does not terminate"


class StoreContract:
    """The documented Store behaviours, run against every store of :data:`STORES`."""

    @pytest.fixture(params=sorted(STORES))
    def make_store(self, request: pytest.FixtureRequest) -> StoreFactory:
        return STORES[request.param]

    @pytest.fixture
    def store(self, make_store: StoreFactory, tmp_path: Path) -> Iterator[Store]:
        store = make_store(tmp_path)
        yield store
        store.close()

    # --- instances -------------------------------------------------------------------------------
    def test_created_instance_reads_back_equal(self, store: Store) -> None:
        instance = make_instance(
            "child-1",
            created=at(1.000001),
            input='{"a": 1}',
            output='"out"',
            custom_status='{"s": [1]}',
            version="v2",
            parent_instance_id="parent",
            parent_execution_id="pe",
            parent_task_id=3,
            cursor='{"next": 4}',
        )
        instance.last_updated_time = at(2.5)

        store.create_instance(instance, start_message("child-1"))

        assert store.get_instance("child-1") == instance

    def test_returned_times_are_timezone_aware_utc(self, store: Store) -> None:
        store.create_instance(make_instance(created=at(0.123456)), start_message(visible_at=at(3)))

        got = store.get_instance("i1")
        next_at = store.next_visible_at()

        assert got is not None and next_at is not None
        for when in (got.created_time, got.last_updated_time, next_at):
            assert when.utcoffset() == timedelta(0)
        assert next_at == at(3)

    def test_get_instance_of_unknown_id_is_none(self, store: Store) -> None:
        assert store.get_instance("nope") is None

    def test_history_is_empty_for_unknown_and_new_instances(self, store: Store) -> None:
        store.create_instance(make_instance(), start_message())

        assert store.get_history("i1") == []
        assert store.get_history("nope") == []

    def test_create_instance_enqueues_its_start_message(self, store: Store) -> None:
        start_msg = start_message(visible_at=at(5))

        store.create_instance(make_instance(), start_msg)

        turn = store.load_turn("i1", at(5))
        assert turn is not None
        assert [(m.event, m.visible_at, m.instance_id) for m in turn.messages] == [(start_msg.event, at(5), "i1")]

    @pytest.mark.parametrize("status", NON_TERMINAL)
    def test_create_over_non_terminal_instance_raises_and_changes_nothing(self, store: Store, status: RuntimeStatus) -> None:
        existing = start(store, status=status)
        store.send_message(message("i1", Name="pending-event"))
        history = store.get_history("i1")

        with pytest.raises(InstanceExists):
            store.create_instance(make_instance(execution_id="e2", created=at(9)), start_message(visible_at=at(9)))

        assert store.get_instance("i1") == existing
        assert store.get_history("i1") == history
        if status is not RuntimeStatus.SUSPENDED:
            assert delivered(store, "i1") == [(int(EventType.EVENT_RAISED), "pending-event")]

    @pytest.mark.parametrize("status", TERMINAL)
    def test_create_over_terminal_instance_replaces_it(self, store: Store, status: RuntimeStatus) -> None:
        old = start(store)
        store.commit_turn(TurnCommit(old, new_activities=[work_item(task_id=0)]))
        store.commit_turn(TurnCommit(with_status(old, status), new_history=[event(EventType.EXECUTION_COMPLETED)]))
        store.send_message(message("i1", Name="late-event"))
        fresh = make_instance(execution_id="e2", created=at(9))

        store.create_instance(fresh, start_message(visible_at=at(9)))

        assert store.get_instance("i1") == fresh
        assert store.get_history("i1") == []
        assert delivered(store, "i1") == [(int(EventType.EXECUTION_STARTED), "orch")]
        assert store.pending_activities(10) == []

    # --- turns and history -----------------------------------------------------------------------
    def test_commit_turn_appends_history_in_order(self, store: Store) -> None:
        instance = start(store)
        first = store.get_history("i1")
        second = [event(EventType.TASK_SCHEDULED, EventId=0, Name="a"), event(EventType.ORCHESTRATOR_COMPLETED)]
        third = [event(EventType.ORCHESTRATOR_STARTED), event(EventType.TASK_COMPLETED, TaskScheduledId=0, Result="1")]

        store.commit_turn(TurnCommit(instance, new_history=second))
        store.commit_turn(TurnCommit(instance, new_history=third))

        assert len(first) == 2
        assert store.get_history("i1") == first + second + third

    def test_commit_turn_replaces_the_instance_row(self, store: Store) -> None:
        instance = start(store)
        updated = dataclasses.replace(
            instance,
            runtime_status=RuntimeStatus.COMPLETED,
            output='"done"',
            custom_status='"st"',
            last_updated_time=at(7),
            cursor='{"x": 1}',
        )

        store.commit_turn(TurnCommit(updated))

        assert store.get_instance("i1") == updated

    def test_commit_turn_keeping_status_and_created_time_still_replaces_every_other_field(self, store: Store) -> None:
        instance = start(store)
        updated = dataclasses.replace(
            instance,
            name="renamed",
            execution_id="e9",
            input='"in"',
            output='"out"',
            custom_status='"st"',
            version="v2",
            parent_instance_id="p",
            parent_execution_id="pe",
            parent_task_id=3,
            last_updated_time=at(7),
            cursor='{"x": 1}',
        )

        store.commit_turn(TurnCommit(updated))

        assert store.get_instance("i1") == updated
        running = InstanceQuery(statuses=frozenset({RuntimeStatus.RUNNING}), created_from=T0, created_to=T0)
        assert [i.instance_id for i in store.query_instances(running)[0]] == ["i1"]

    def test_commit_turn_changing_status_and_created_time_updates_the_queries(self, store: Store) -> None:
        instance = start(store)
        updated = dataclasses.replace(instance, runtime_status=RuntimeStatus.SUSPENDED, created_time=at(5))

        store.commit_turn(TurnCommit(updated))

        assert store.get_instance("i1") == updated
        assert store.query_instances(InstanceQuery(statuses=frozenset({RuntimeStatus.RUNNING})))[0] == []
        suspended = InstanceQuery(statuses=frozenset({RuntimeStatus.SUSPENDED}), created_from=at(5), created_to=at(5))
        assert [i.instance_id for i in store.query_instances(suspended)[0]] == ["i1"]

    def test_replace_history_starts_over_and_drops_the_old_executions_items(self, store: Store) -> None:
        instance = start(store)
        store.commit_turn(
            TurnCommit(
                instance,
                new_messages=[timer_fired("i1", 0, at(60)), message("i1", Name="old-exec", execution_id="e1")],
                new_activities=[work_item(task_id=1)],
            )
        )
        store.send_message(message("i1", Name="raised"))  # no execution id: survives continue-as-new
        new_execution = dataclasses.replace(instance, execution_id="e2", runtime_status=RuntimeStatus.CONTINUED_AS_NEW)
        new_history = [event(EventType.ORCHESTRATOR_STARTED), event(EventType.EXECUTION_STARTED, Name="gen2")]

        store.commit_turn(
            TurnCommit(
                new_execution,
                new_history=new_history,
                replace_history=True,
                new_messages=[message("i1", Name="new-exec", execution_id="e2")],
            )
        )

        assert store.get_history("i1") == new_history
        assert sorted(delivered(store, "i1"), key=str) == sorted(
            [(int(EventType.EVENT_RAISED), "raised"), (int(EventType.EVENT_RAISED), "new-exec")], key=str
        )
        assert store.pending_activities(10) == []

    def test_history_appends_after_a_replacement(self, store: Store) -> None:
        instance = start(store)
        replaced = [event(EventType.ORCHESTRATOR_STARTED)]
        appended = [event(EventType.TIMER_CREATED, EventId=0, FireAt="x")]

        store.commit_turn(TurnCommit(instance, new_history=replaced, replace_history=True))
        store.commit_turn(TurnCommit(instance, new_history=appended))

        assert store.get_history("i1") == replaced + appended

    def test_commit_turn_for_a_purged_instance_writes_nothing(self, store: Store) -> None:
        instance = start(store)
        start(store, "other")
        store.purge_instance("i1")

        store.commit_turn(
            TurnCommit(
                with_status(instance, RuntimeStatus.COMPLETED),
                new_history=[event(EventType.EXECUTION_COMPLETED)],
                new_messages=[message("other", Name="from-purged")],
                new_activities=[work_item()],
                new_instances=[make_instance("i1-child")],
            )
        )

        assert store.get_instance("i1") is None
        assert store.get_history("i1") == []
        assert store.get_instance("i1-child") is None
        assert delivered(store, "other") == []
        assert store.pending_activities(10) == []

    # --- messages --------------------------------------------------------------------------------
    def test_send_message_to_unknown_instance_raises_not_found(self, store: Store) -> None:
        with pytest.raises(NotFound):
            store.send_message(message("nope"))

        assert store.next_visible_at() is None

    def test_sent_messages_get_distinct_ids_and_arrive_in_order(self, store: Store) -> None:
        start(store)

        ids = [store.send_message(message("i1", Name=f"e{n}")) for n in range(3)]

        turn = store.load_turn("i1", T0)
        assert turn is not None
        assert len(set(ids)) == 3
        assert [m.id for m in turn.messages] == ids
        assert [m.event["Name"] for m in turn.messages] == ["e0", "e1", "e2"]

    def test_message_is_invisible_until_its_visible_at(self, store: Store) -> None:
        start(store)
        store.send_message(message("i1", visible_at=at(10), Name="later"))
        just_before = at(10) - timedelta(microseconds=1)

        assert delivered(store, "i1", just_before) == []
        assert store.ready_instances(just_before, 10) == []
        assert delivered(store, "i1", at(10)) == [(int(EventType.EVENT_RAISED), "later")]
        assert store.ready_instances(at(10), 10) == ["i1"]

    def test_load_turn_orders_messages_by_visible_at_then_id(self, store: Store) -> None:
        start(store)
        for name, when in [("c", at(3)), ("a", at(1)), ("b1", at(2)), ("b2", at(2))]:
            store.send_message(message("i1", visible_at=when, Name=name))

        assert [name for _, name in delivered(store, "i1")] == ["a", "b1", "b2", "c"]

    def test_load_turn_of_unknown_instance_is_none(self, store: Store) -> None:
        assert store.load_turn("nope", FAR) is None

    def test_load_turn_returns_instance_and_history(self, store: Store) -> None:
        instance = start(store)

        turn = store.load_turn("i1", T0)

        assert turn is not None
        assert turn.instance == instance
        assert turn.history == store.get_history("i1")
        assert turn.messages == []

    def test_load_turn_returns_each_event_as_its_event_json_text(self, store: Store) -> None:
        instance = start(store)
        appended = [
            event(EventType.TASK_COMPLETED, TaskScheduledId=0, Result='{"\u00e9t\u00e9": [1, 2.5, null]}'),
            event(EventType.EVENT_RAISED, Name="\u00fcber", Input='"x"', Nested={"b": 1, "a": [True]}),
        ]
        store.commit_turn(TurnCommit(instance, new_history=appended))

        turn = store.load_turn("i1", T0)

        assert turn is not None
        assert turn.history_json == [event_json(e) for e in store.get_history("i1")]
        assert turn.history_json[-2:] == [event_json(e) for e in appended]
        assert turn.history[-2:] == appended

    def test_next_visible_at_is_the_earliest_pending_message(self, store: Store) -> None:
        assert store.next_visible_at() is None
        start(store)
        start(store, "i2")
        store.send_message(message("i1", visible_at=at(30)))
        store.send_message(message("i2", visible_at=at(20)))
        store.send_message(message("i1", visible_at=at(40)))

        assert store.next_visible_at() == at(20)

    def test_ready_instances_orders_by_oldest_message(self, store: Store) -> None:
        for iid in ("a", "b", "c", "d"):
            start(store, iid)
        store.send_message(message("a", visible_at=at(3)))
        store.send_message(message("b", visible_at=at(1)))
        store.send_message(message("c", visible_at=at(2)))
        store.send_message(message("a", visible_at=at(0.5)))
        store.send_message(message("d", visible_at=at(99)))  # not yet visible

        assert store.ready_instances(at(10), 10) == ["a", "b", "c"]

    def test_ready_instances_breaks_visible_at_ties_by_message_id(self, store: Store) -> None:
        for iid in ("a", "b"):
            start(store, iid)
        store.send_message(message("a", visible_at=at(2)))  # a's lowest id, but not its oldest message
        store.send_message(message("b", visible_at=at(1)))
        store.send_message(message("a", visible_at=at(1)))

        # a's first message is (t=1, third id), b's is (t=1, second id): b comes first
        assert store.ready_instances(at(10), 10) == ["b", "a"]

    def test_ready_instances_honours_limit_and_exclude(self, store: Store) -> None:
        for n in range(5):
            start(store, f"i{n}")
            store.send_message(message(f"i{n}", visible_at=at(n)))

        assert store.ready_instances(at(10), 2) == ["i0", "i1"]
        assert store.ready_instances(at(10), 2, exclude={"i0", "i2"}) == ["i1", "i3"]
        assert store.ready_instances(at(10), 10, exclude=["i1"]) == ["i0", "i2", "i3", "i4"]
        assert store.ready_instances(at(10), 0) == []

    def test_suspended_instance_receives_only_resume_and_terminate(self, store: Store) -> None:
        start(store, status=RuntimeStatus.SUSPENDED)
        store.send_message(message("i1", EventType.EVENT_RAISED, at(1), Name="ev"))
        store.send_message(timer_fired("i1", 0, at(2)))
        store.send_message(message("i1", EventType.EXECUTION_RESUMED, at(5)))
        store.send_message(message("i1", EventType.EXECUTION_TERMINATED, at(6)))

        assert store.next_visible_at() == at(5)
        assert store.ready_instances(at(4), 10) == []
        assert store.ready_instances(at(5), 10) == ["i1"]
        assert [etype for etype, _ in delivered(store, "i1")] == [
            int(EventType.EXECUTION_RESUMED),
            int(EventType.EXECUTION_TERMINATED),
        ]

    def test_suspended_instance_with_ordinary_messages_only_is_idle(self, store: Store) -> None:
        start(store, status=RuntimeStatus.SUSPENDED)
        store.send_message(message("i1", visible_at=at(1), Name="ev"))

        assert store.ready_instances(FAR, 10) == []
        assert store.next_visible_at() is None
        assert delivered(store, "i1") == []

    def test_messages_held_during_suspension_arrive_after_resume(self, store: Store) -> None:
        instance = start(store, status=RuntimeStatus.SUSPENDED)
        store.send_message(message("i1", visible_at=at(1), Name="held"))

        store.commit_turn(TurnCommit(with_status(instance, RuntimeStatus.RUNNING)))

        assert store.ready_instances(at(1), 10) == ["i1"]
        assert delivered(store, "i1") == [(int(EventType.EVENT_RAISED), "held")]

    def test_messages_of_another_execution_are_never_delivered(self, store: Store) -> None:
        start(store, execution_id="e2")
        store.send_message(message("i1", visible_at=at(1), execution_id="e1", Name="stale"))

        assert store.ready_instances(FAR, 10) == []
        assert store.next_visible_at() is None
        assert delivered(store, "i1") == []

        store.send_message(message("i1", visible_at=at(2), execution_id="e2", Name="current"))
        store.send_message(message("i1", visible_at=at(3), Name="any"))

        assert delivered(store, "i1") == [(int(EventType.EVENT_RAISED), "current"), (int(EventType.EVENT_RAISED), "any")]

    def test_consumed_messages_are_deleted(self, store: Store) -> None:
        instance = start(store)
        kept = store.send_message(message("i1", Name="kept"))
        eaten = store.send_message(message("i1", Name="eaten"))

        store.commit_turn(TurnCommit(instance, consumed_message_ids=[eaten]))

        turn = store.load_turn("i1", FAR)
        assert turn is not None
        assert [m.id for m in turn.messages] == [kept]

    def test_clear_pending_drops_all_messages_and_work_items_of_the_instance_only(self, store: Store) -> None:
        instance = start(store)
        start(store, "other")
        store.commit_turn(
            TurnCommit(instance, new_activities=[work_item(task_id=0)], new_messages=[timer_fired("i1", 1, at(100))])
        )
        store.send_message(message("i1", Name="unconsumed"))
        store.commit_turn(TurnCommit(start(store, "other2"), new_activities=[work_item("other2", 5)]))
        store.send_message(message("other", Name="theirs"))

        store.commit_turn(TurnCommit(with_status(instance, RuntimeStatus.TERMINATED), clear_pending=True))

        assert delivered(store, "i1") == []
        assert [(w.instance_id, w.task_id) for w in store.pending_activities(10)] == [("other2", 5)]
        assert delivered(store, "other") == [(int(EventType.EVENT_RAISED), "theirs")]

    def test_commit_turn_drops_messages_for_missing_instances(self, store: Store) -> None:
        instance = start(store)
        start(store, "sibling")

        store.commit_turn(
            TurnCommit(
                instance,
                new_messages=[
                    message("purged-parent", EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED, T0, "pe", TaskScheduledId=0),
                    message("sibling", Name="hello"),
                ],
            )
        )

        assert delivered(store, "sibling") == [(int(EventType.EVENT_RAISED), "hello")]
        assert store.load_turn("purged-parent", FAR) is None

    def test_messages_for_a_parent_execution_that_moved_on_are_not_delivered(self, store: Store) -> None:
        parent = start(store, "parent", execution_id="p1")
        child = start(store, "child")
        store.commit_turn(TurnCommit(dataclasses.replace(parent, execution_id="p2"), replace_history=True))

        store.commit_turn(
            TurnCommit(
                with_status(child, RuntimeStatus.COMPLETED),
                clear_pending=True,
                new_messages=[message("parent", EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED, T0, "p1", TaskScheduledId=0)],
            )
        )

        assert delivered(store, "parent") == []
        assert store.ready_instances(FAR, 10) == []

    def test_commit_turn_creates_sub_orchestrations_with_their_start_messages(self, store: Store) -> None:
        parent = start(store, "parent")
        child = make_instance("parent:0", parent_instance_id="parent", parent_execution_id="e1", parent_task_id=0)

        store.commit_turn(TurnCommit(parent, new_instances=[child], new_messages=[start_message("parent:0")]))

        assert store.get_instance("parent:0") == child
        assert store.ready_instances(T0, 10) == ["parent:0"]
        assert delivered(store, "parent:0") == [(int(EventType.EXECUTION_STARTED), "orch")]

    @pytest.mark.parametrize("status", TERMINAL)
    def test_commit_turn_new_instance_replaces_a_terminal_one(self, store: Store, status: RuntimeStatus) -> None:
        start(store, "child", status=status)
        parent = start(store, "parent")
        child = make_instance("child", execution_id="c2", created=at(5))

        store.commit_turn(TurnCommit(parent, new_instances=[child], new_messages=[start_message("child", at(5))]))

        assert store.get_instance("child") == child
        assert store.get_history("child") == []

    @pytest.mark.parametrize("status", NON_TERMINAL)
    def test_commit_turn_new_instance_over_a_live_one_raises_and_writes_nothing(
        self, store: Store, status: RuntimeStatus
    ) -> None:
        live = start(store, "child", status=status)
        parent = start(store, "parent")
        pending = store.send_message(message("parent", Name="in"))
        before = (store.get_instance("parent"), store.get_history("parent"), store.load_turn("parent", FAR))

        with pytest.raises(InstanceExists):
            store.commit_turn(
                TurnCommit(
                    with_status(parent, RuntimeStatus.COMPLETED),
                    consumed_message_ids=[pending],
                    new_history=[event(EventType.SUB_ORCHESTRATION_INSTANCE_CREATED, EventId=0)],
                    new_instances=[make_instance("fresh"), make_instance("child", execution_id="c2")],
                    new_messages=[start_message("fresh"), start_message("child")],
                    new_activities=[work_item("parent")],
                    clear_pending=True,
                )
            )

        assert (store.get_instance("parent"), store.get_history("parent"), store.load_turn("parent", FAR)) == before
        assert store.get_instance("child") == live
        assert store.get_instance("fresh") is None
        assert store.pending_activities(10) == []

    # --- activity work items ---------------------------------------------------------------------
    def test_pending_activities_in_creation_order_with_limit_and_exclude(self, store: Store) -> None:
        instance = start(store)
        store.commit_turn(TurnCommit(instance, new_activities=[work_item(task_id=n) for n in range(4)]))

        items = store.pending_activities(10)

        assert [(w.instance_id, w.execution_id, w.task_id, w.name, w.input) for w in items] == [
            ("i1", "e1", n, f"act{n}", f'"in{n}"') for n in range(4)
        ]
        assert len({w.id for w in items}) == 4
        assert [w.task_id for w in store.pending_activities(2)] == [0, 1]
        assert [w.task_id for w in store.pending_activities(2, exclude={items[0].id, items[2].id})] == [1, 3]
        assert store.pending_activities(0) == []

    def test_complete_activity_removes_the_item_and_enqueues_the_result(self, store: Store) -> None:
        instance = start(store)
        store.commit_turn(TurnCommit(instance, new_activities=[work_item(task_id=0), work_item(task_id=1)]))
        first = store.pending_activities(10)[0]
        result = message("i1", EventType.TASK_COMPLETED, at(1), "e1", TaskScheduledId=0, Result='"r"')

        assert store.complete_activity(first.id, result) is True  # type: ignore[arg-type]

        assert [w.task_id for w in store.pending_activities(10)] == [1]
        turn = store.load_turn("i1", at(1))
        assert turn is not None
        assert [m.event for m in turn.messages] == [result.event]

    def test_complete_activity_twice_enqueues_one_result(self, store: Store) -> None:
        instance = start(store)
        store.commit_turn(TurnCommit(instance, new_activities=[work_item(task_id=0)]))
        item = store.pending_activities(10)[0]
        result = message("i1", EventType.TASK_COMPLETED, T0, "e1", TaskScheduledId=0)

        assert store.complete_activity(item.id, result) is True  # type: ignore[arg-type]
        assert store.complete_activity(item.id, result) is False  # type: ignore[arg-type]

        assert delivered(store, "i1") == [(int(EventType.TASK_COMPLETED), 0)]

    @pytest.mark.parametrize("how", ["purge", "clear_pending", "continue_as_new", "restart"])
    def test_complete_activity_returns_false_when_the_item_is_gone(self, store: Store, how: str) -> None:
        instance = start(store)
        store.commit_turn(TurnCommit(instance, new_activities=[work_item(task_id=0)]))
        item = store.pending_activities(10)[0]
        if how == "purge":
            store.purge_instance("i1")
        elif how == "clear_pending":
            store.commit_turn(TurnCommit(with_status(instance, RuntimeStatus.FAILED), clear_pending=True))
        elif how == "continue_as_new":
            store.commit_turn(TurnCommit(dataclasses.replace(instance, execution_id="e2"), replace_history=True))
        else:
            store.commit_turn(TurnCommit(with_status(instance, RuntimeStatus.TERMINATED)))
            store.create_instance(make_instance(execution_id="e2"), start_message())
        remaining = store.load_turn("i1", FAR)

        completed = store.complete_activity(
            item.id,
            message("i1", EventType.TASK_COMPLETED, T0, "e1", TaskScheduledId=0),  # type: ignore[arg-type]
        )

        assert completed is False
        assert store.load_turn("i1", FAR) == remaining

    def test_complete_activity_of_unknown_item_returns_false(self, store: Store) -> None:
        start(store)

        assert store.complete_activity(987654, message("i1", EventType.TASK_COMPLETED, TaskScheduledId=0)) is False
        assert delivered(store, "i1") == []

    # --- queries ---------------------------------------------------------------------------------
    def _populate(self, store: Store) -> None:
        """Nine instances: ties on created_time, every status family, two id prefixes."""
        plan = [
            ("job-b", 1, RuntimeStatus.RUNNING),
            ("job-a", 1, RuntimeStatus.COMPLETED),
            ("other-1", 2, RuntimeStatus.FAILED),
            ("job-c", 3, RuntimeStatus.PENDING),
            ("Job-d", 3, RuntimeStatus.TERMINATED),
            ("job-e", 4, RuntimeStatus.SUSPENDED),
            ("other-2", 5, RuntimeStatus.COMPLETED),
            ("job-f", 5, RuntimeStatus.CONTINUED_AS_NEW),
            ("job-g", 6, RuntimeStatus.CANCELED),
        ]
        for iid, created, status in plan:
            start(store, iid, created=at(created), status=status)

    def _ids(self, store: Store, **filters: Any) -> list[str]:
        page, token = store.query_instances(InstanceQuery(**filters))
        assert token is None
        return [i.instance_id for i in page]

    def test_query_orders_by_created_time_then_instance_id(self, store: Store) -> None:
        self._populate(store)

        assert self._ids(store) == ["job-a", "job-b", "other-1", "Job-d", "job-c", "job-e", "job-f", "other-2", "job-g"]

    def test_query_returns_full_instance_rows(self, store: Store) -> None:
        instance = start(store, "x", created=at(1))

        page, _ = store.query_instances(InstanceQuery())

        assert page == [instance]

    def test_query_created_range_is_inclusive(self, store: Store) -> None:
        self._populate(store)

        assert self._ids(store, created_from=at(3), created_to=at(5)) == ["Job-d", "job-c", "job-e", "job-f", "other-2"]
        assert self._ids(store, created_from=at(6)) == ["job-g"]
        assert self._ids(store, created_to=at(1)) == ["job-a", "job-b"]
        assert self._ids(store, created_from=at(5.5), created_to=at(5.9)) == []

    def test_query_filters_by_statuses(self, store: Store) -> None:
        self._populate(store)

        assert self._ids(store, statuses=frozenset({RuntimeStatus.COMPLETED, RuntimeStatus.PENDING})) == [
            "job-a",
            "job-c",
            "other-2",
        ]
        assert self._ids(store, statuses=frozenset({RuntimeStatus.SUSPENDED})) == ["job-e"]

    def test_query_with_an_empty_status_set_does_not_filter(self, store: Store) -> None:
        self._populate(store)

        assert self._ids(store, statuses=frozenset()) == self._ids(store)

    def test_query_prefix_is_case_sensitive_and_literal(self, store: Store) -> None:
        self._populate(store)
        for iid in ("a%b", "axb", "a_c", "abc"):
            start(store, iid, created=at(10))

        assert self._ids(store, instance_id_prefix="job-") == ["job-a", "job-b", "job-c", "job-e", "job-f", "job-g"]
        assert self._ids(store, instance_id_prefix="Job") == ["Job-d"]
        assert self._ids(store, instance_id_prefix="a%") == ["a%b"]
        assert self._ids(store, instance_id_prefix="a_") == ["a_c"]
        assert self._ids(store, instance_id_prefix="zzz") == []

    def test_query_combines_filters(self, store: Store) -> None:
        self._populate(store)

        assert self._ids(store, created_from=at(2), statuses=frozenset(TERMINAL_STATUSES), instance_id_prefix="job") == ["job-g"]

    @pytest.mark.parametrize("top", [1, 2, 3, 4, 8, 9, 10])
    def test_paging_visits_every_match_once_in_order(self, store: Store, top: int) -> None:
        self._populate(store)
        expected = self._ids(store)

        ids, pages = all_pages(store, InstanceQuery(top=top))

        assert ids == expected
        assert pages == max(1, -(-len(expected) // top))  # no trailing empty page

    def test_paging_with_filters_visits_every_match_once(self, store: Store) -> None:
        self._populate(store)
        query = InstanceQuery(instance_id_prefix="job", statuses=frozenset(NON_TERMINAL), top=2)

        ids, _ = all_pages(store, query)

        assert ids == self._ids(store, instance_id_prefix="job", statuses=frozenset(NON_TERMINAL))

    def test_page_token_is_none_on_the_last_page(self, store: Store) -> None:
        self._populate(store)

        first, token = store.query_instances(InstanceQuery(top=5))
        second, last = store.query_instances(InstanceQuery(top=5, continuation_token=token))

        assert token is not None and len(first) == 5
        assert len(second) == 4 and last is None

    def test_default_page_size_is_100(self, store: Store) -> None:
        for n in range(101):
            store.create_instance(make_instance(f"i{n:03d}", created=at(n)), start_message(f"i{n:03d}"))

        page, token = store.query_instances(InstanceQuery())
        rest, end = store.query_instances(InstanceQuery(continuation_token=token))

        assert [i.instance_id for i in page] == [f"i{n:03d}" for n in range(100)]
        assert [i.instance_id for i in rest] == ["i100"] and end is None

    @pytest.mark.parametrize("token", ["", "not a token", "@@@@", "bnVsbA==", "W10=", "WzEsMl0=", "WyJ4IiwiaSJd"])
    def test_query_with_a_foreign_token_raises_bad_request(self, store: Store, token: str) -> None:
        self._populate(store)

        with pytest.raises(BadRequest):
            store.query_instances(InstanceQuery(continuation_token=token))

    def test_query_with_top_below_one_raises_bad_request(self, store: Store) -> None:
        with pytest.raises(BadRequest):
            store.query_instances(InstanceQuery(top=0))

    # --- purge -----------------------------------------------------------------------------------
    def test_purge_instance_removes_instance_history_messages_and_work_items(self, store: Store) -> None:
        instance = start(store)
        store.commit_turn(TurnCommit(instance, new_activities=[work_item()], new_messages=[timer_fired("i1", 0, at(9))]))
        store.send_message(message("i1"))
        other = start(store, "other")

        assert store.purge_instance("i1") == 1

        assert store.get_instance("i1") is None
        assert store.get_history("i1") == []
        assert store.load_turn("i1", FAR) is None
        assert store.pending_activities(10) == []
        assert store.next_visible_at() is None
        assert store.get_instance("other") == other
        assert len(store.get_history("other")) == 2

    def test_lifecycle_version_changes_on_create_and_purge_only(self, store: Store) -> None:
        versions = [store.lifecycle_version]
        instance = start(store)
        versions.append(store.lifecycle_version)
        store.send_message(message("i1"))
        store.commit_turn(TurnCommit(instance, new_activities=[work_item()]))
        versions.append(store.lifecycle_version)
        store.purge_instance("i1")
        versions.append(store.lifecycle_version)
        store.purge_instances(InstanceQuery())
        versions.append(store.lifecycle_version)

        assert versions[1] != versions[0]  # created
        assert versions[2] == versions[1]  # messages and turns leave it
        assert versions[3] != versions[2]  # purged
        assert versions[4] != versions[3]  # purged by filter (even when nothing matched)

    def test_purge_instance_of_unknown_id_returns_zero(self, store: Store) -> None:
        assert store.purge_instance("nope") == 0

    def test_purged_instance_id_can_be_created_again(self, store: Store) -> None:
        start(store)
        store.purge_instance("i1")

        store.create_instance(make_instance(execution_id="e2"), start_message())

        assert store.get_instance("i1") == make_instance(execution_id="e2")

    def test_purge_instances_deletes_matches_of_every_status(self, store: Store) -> None:
        # The contract is "what matches": which statuses a purge request may touch is the service's rule.
        self._populate(store)

        count = store.purge_instances(InstanceQuery(top=1, continuation_token="ignored"))

        assert count == 9
        assert self._ids(store) == []

    def test_purge_instances_with_statuses_purges_only_those(self, store: Store) -> None:
        self._populate(store)

        count = store.purge_instances(InstanceQuery(statuses=frozenset({RuntimeStatus.COMPLETED, RuntimeStatus.RUNNING})))

        assert count == 3
        assert not {"job-a", "job-b", "other-2"} & set(self._ids(store))
        assert len(self._ids(store)) == 6

    def test_purge_instances_with_an_empty_status_set_has_no_status_filter(self, store: Store) -> None:
        self._populate(store)

        assert store.purge_instances(InstanceQuery(statuses=frozenset(), instance_id_prefix="job-")) == 6
        assert self._ids(store) == ["other-1", "Job-d", "other-2"]

    def test_purge_instances_respects_created_range_and_prefix(self, store: Store) -> None:
        self._populate(store)

        count = store.purge_instances(InstanceQuery(created_from=at(2), created_to=at(5), instance_id_prefix="other"))

        assert count == 2
        assert not any(i.startswith("other") for i in self._ids(store))
        assert "job-a" in self._ids(store)

    def test_purge_instances_removes_their_history_and_messages(self, store: Store) -> None:
        done = start(store, "done", status=RuntimeStatus.COMPLETED)
        store.send_message(message("done"))

        assert store.purge_instances(InstanceQuery()) == 1

        assert store.get_history(done.instance_id) == []
        assert store.next_visible_at() is None

    # --- lifecycle -------------------------------------------------------------------------------
    def test_store_can_be_used_from_many_threads(self, store: Store) -> None:
        start(store)
        ids: list[int] = []
        errors: list[BaseException] = []
        barrier = threading.Barrier(8)

        def worker(n: int) -> None:
            try:
                barrier.wait()
                for k in range(40):
                    ids.append(store.send_message(message("i1", visible_at=at(k), Name=f"{n}-{k}")))
                    store.ready_instances(FAR, 10)
                    store.load_turn("i1", at(k))
            except BaseException as exc:  # surfaced by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert errors == []
        assert len(set(ids)) == 8 * 40
        assert len(delivered(store, "i1")) == 8 * 40

    def test_calls_after_close_raise(self, make_store: StoreFactory, tmp_path: Path) -> None:
        store = make_store(tmp_path)
        store.create_instance(make_instance(), start_message())

        store.close()

        with pytest.raises(Exception):
            store.get_instance("i1")
        with pytest.raises(Exception):
            store.send_message(message("i1"))
