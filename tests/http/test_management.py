"""Management operations over a real in-memory SQLite store and a virtual clock (no HTTP)."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta

import pytest

from devhost.clock import VirtualClock
from devhost.core.errors import BadRequest, Conflict, Gone, InstanceExists, NotFound
from devhost.core.model import EventType, InstanceQuery, RuntimeStatus
from devhost.http.payloads import status_document, status_payload
from devhost.service.management import Management, validate_instance_id
from devhost.store.sqlite import SqliteStore
from tests.http.conftest import HUB, START
from tests.http.helpers import drive, eventually, progress, queued


def test_start_creates_a_pending_instance_and_enqueues_execution_started(
    management: Management, store: SqliteStore, notifications: list[int]
) -> None:
    instance_id = management.start("hello_orchestrator", None, '{"jobId": "j1"}')

    instance = store.get_instance(instance_id)
    assert re.fullmatch(r"[0-9a-f]{32}", instance_id)
    assert instance is not None
    assert instance.runtime_status is RuntimeStatus.PENDING
    assert instance.input == '"{\\"jobId\\": \\"j1\\"}"'  # the SDK's string input, stored as JSON text
    assert instance.created_time == instance.last_updated_time == START
    [message] = queued(store, instance_id, START)
    assert message.event["EventType"] == int(EventType.EXECUTION_STARTED)
    assert message.event["Name"] == "hello_orchestrator"
    assert message.event["Input"] == instance.input
    assert message.event["OrchestrationInstance"] == {"InstanceId": instance_id, "ExecutionId": instance.execution_id}
    assert message.execution_id == instance.execution_id
    assert message.visible_at == START
    assert notifications == [1]


def test_start_stores_no_input_for_missing_or_null(management: Management, store: SqliteStore) -> None:
    first = management.start("hello_orchestrator")
    second = management.start("hello_orchestrator", None, None)

    assert store.get_instance(first).input is None  # type: ignore[union-attr]
    assert store.get_instance(second).input is None  # type: ignore[union-attr]


def test_start_stores_objects_compactly_like_newtonsoft(management: Management, store: SqliteStore) -> None:
    instance_id = management.start("hello_orchestrator", "job-1", {"city": "Zürich", "n": [1, 2]})

    assert store.get_instance(instance_id).input == '{"city":"Zürich","n":[1,2]}'  # type: ignore[union-attr]


def test_start_uses_explicit_then_default_version(
    store: SqliteStore, clock: VirtualClock, registry: object, notifications: list[int]
) -> None:
    management = Management(store, clock, registry, lambda: None, hub_name=HUB, default_version="2.0")  # type: ignore[arg-type]

    explicit = management.start("hello_orchestrator", "a", version="1.5")
    default = management.start("hello_orchestrator", "b")

    assert store.get_instance(explicit).version == "1.5"  # type: ignore[union-attr]
    assert store.get_instance(default).version == "2.0"  # type: ignore[union-attr]
    assert queued(store, "b", START)[0].event["Version"] == "2.0"


def test_start_resolves_orchestrator_names_case_insensitively(management: Management, store: SqliteStore) -> None:
    instance_id = management.start("Hello_Orchestrator")

    assert store.get_instance(instance_id).name == "hello_orchestrator"  # type: ignore[union-attr]


def test_start_unknown_orchestrator_lists_known_ones(management: Management) -> None:
    with pytest.raises(BadRequest) as caught:
        management.start("nope")

    assert str(caught.value) == (
        "The function 'nope' doesn't exist, is disabled, or is not an orchestrator function. Additional info: "
        "The following are the known orchestrator functions: 'monitoring_job_orchestrator', 'hello_orchestrator'."
    )


@pytest.mark.parametrize("bad_id", ["@entity", "a/b", "a\\b", "a?b", "a#b", "a\x00b", "a\x7fb", "x" * 257])
def test_start_rejects_invalid_instance_ids(management: Management, store: SqliteStore, bad_id: str) -> None:
    with pytest.raises(BadRequest):
        management.start("hello_orchestrator", bad_id)

    assert store.get_instance(bad_id) is None


def test_validate_instance_id_accepts_256_characters_and_unicode() -> None:
    validate_instance_id("x" * 256)
    validate_instance_id("job-é 1")


def test_start_over_a_running_instance_is_a_conflict(management: Management, store: SqliteStore) -> None:
    management.start("hello_orchestrator", "job-1")
    progress(store, "job-1", RuntimeStatus.RUNNING)

    with pytest.raises(InstanceExists):
        management.start("hello_orchestrator", "job-1")


def test_start_over_a_completed_instance_replaces_it(management: Management, store: SqliteStore, clock: VirtualClock) -> None:
    management.start("hello_orchestrator", "job-1", "old")
    progress(store, "job-1", RuntimeStatus.COMPLETED, output="done")
    clock.advance(60)

    management.start("monitoring_job_orchestrator", "job-1", "new")

    instance = store.get_instance("job-1")
    assert instance is not None
    assert (instance.name, instance.runtime_status, instance.input) == (
        "monitoring_job_orchestrator",
        RuntimeStatus.PENDING,
        '"new"',
    )
    assert instance.created_time == START + timedelta(seconds=60)


def test_get_status_unknown_instance_raises_not_found(management: Management) -> None:
    with pytest.raises(NotFound):
        management.get_status("missing")


def test_get_status_never_shows_history_of_a_pending_instance(management: Management) -> None:
    management.start("hello_orchestrator", "job-1")

    status = status_document(management.get_status("job-1", show_history=True))

    assert "historyEvents" not in status


def test_get_status_shapes_history_of_a_running_instance(management: Management, store: SqliteStore) -> None:
    management.start("hello_orchestrator", "job-1", "in")
    started = queued(store, "job-1", START)[0].event
    progress(store, "job-1", RuntimeStatus.RUNNING, history=[started])

    status = status_document(management.get_status("job-1", show_history=True))

    assert status["historyEvents"] == [
        {
            "EventType": "ExecutionStarted",
            "Timestamp": "2030-01-01T12:00:00Z",
            "Input": '"in"',
            "FunctionName": "hello_orchestrator",
        },
    ]


def test_raise_event_enqueues_event_raised_with_the_raw_text(
    management: Management, store: SqliteStore, notifications: list[int]
) -> None:
    management.start("hello_orchestrator", "job-1")

    management.raise_event("job-1", "approval", '"{\\"ok\\": true}"')

    message = queued(store, "job-1", START)[-1]
    assert message.event["EventType"] == int(EventType.EVENT_RAISED)
    assert (message.event["Name"], message.event["Input"]) == ("approval", '"{\\"ok\\": true}"')
    assert message.execution_id is None
    assert notifications == [1, 1]


@pytest.mark.parametrize(
    "status", [RuntimeStatus.COMPLETED, RuntimeStatus.FAILED, RuntimeStatus.TERMINATED, RuntimeStatus.CANCELED]
)
def test_operations_on_a_terminal_instance_are_gone(management: Management, store: SqliteStore, status: RuntimeStatus) -> None:
    management.start("hello_orchestrator", "job-1")
    progress(store, "job-1", status)

    for operation in (
        lambda: management.raise_event("job-1", "e", "1"),
        lambda: management.terminate("job-1", "r"),
        lambda: management.suspend("job-1", "r"),
        lambda: management.resume("job-1", "r"),
    ):
        with pytest.raises(Gone):
            operation()


def test_operations_on_an_unknown_instance_are_not_found(management: Management) -> None:
    for operation in (
        lambda: management.raise_event("nope", "e", "1"),
        lambda: management.terminate("nope", "r"),
        lambda: management.suspend("nope", "r"),
        lambda: management.resume("nope", "r"),
        lambda: management.rewind("nope", "r"),
        lambda: management.purge("nope"),
    ):
        with pytest.raises(NotFound):
            operation()


def test_terminate_suspend_resume_enqueue_their_events(management: Management, store: SqliteStore) -> None:
    management.start("hello_orchestrator", "job-1")
    progress(store, "job-1", RuntimeStatus.RUNNING)

    management.suspend("job-1", "pause")
    progress(store, "job-1", RuntimeStatus.SUSPENDED)
    management.resume("job-1", "go")
    management.terminate("job-1", "stop")

    events = [m.event for m in queued(store, "job-1", START)]
    # A Suspended instance only gets resume/terminate delivered; the suspend is still queued behind them.
    assert [(e["EventType"], e.get("Reason", e.get("Input"))) for e in events] == [
        (int(EventType.EXECUTION_RESUMED), "go"),
        (int(EventType.EXECUTION_TERMINATED), "stop"),
    ]


def test_suspend_twice_and_resume_of_a_running_instance_conflict(management: Management, store: SqliteStore) -> None:
    management.start("hello_orchestrator", "job-1")
    progress(store, "job-1", RuntimeStatus.RUNNING)
    with pytest.raises(Conflict):
        management.resume("job-1", None)
    progress(store, "job-1", RuntimeStatus.SUSPENDED)
    with pytest.raises(Conflict):
        management.suspend("job-1", None)


def test_rewind_rules(management: Management, store: SqliteStore) -> None:
    management.start("hello_orchestrator", "running")
    progress(store, "running", RuntimeStatus.RUNNING)
    management.start("hello_orchestrator", "done")
    progress(store, "done", RuntimeStatus.COMPLETED)
    management.start("hello_orchestrator", "failed")
    progress(store, "failed", RuntimeStatus.FAILED)

    with pytest.raises(BadRequest):
        management.rewind("running", "r")
    with pytest.raises(Gone):
        management.rewind("done", "r")
    management.rewind("failed", "retry please")

    message = queued(store, "failed", START)[-1]
    assert message.event["EventType"] == int(EventType.EXECUTION_REWOUND)
    assert message.event["Reason"] == "retry please"


def test_restart_starts_the_same_orchestrator_with_the_same_input(management: Management, store: SqliteStore) -> None:
    management.start("hello_orchestrator", "job-1", {"a": 1})
    progress(store, "job-1", RuntimeStatus.FAILED)

    new_id = management.restart("job-1")
    same_id = management.restart("job-1", new_instance_id=False)

    assert new_id != "job-1"
    assert same_id == "job-1"
    for instance_id in (new_id, same_id):
        instance = store.get_instance(instance_id)
        assert instance is not None
        assert (instance.name, instance.input, instance.runtime_status) == (
            "hello_orchestrator",
            '{"a":1}',
            RuntimeStatus.PENDING,
        )


def test_restart_unknown_instance_is_a_bad_request(management: Management) -> None:
    with pytest.raises(BadRequest):
        management.restart("nope")


def test_list_instances_pages_with_tokens(management: Management, clock: VirtualClock) -> None:
    for n in range(3):
        management.start("hello_orchestrator", f"job-{n}")
        clock.advance(1)

    first_page, token = management.list_instances(InstanceQuery(top=2))
    second_page, last = management.list_instances(InstanceQuery(top=2, continuation_token=token))
    first, second = [status_payload(i) for i in first_page], [status_payload(i) for i in second_page]

    assert [s["instanceId"] for s in first] == ["job-0", "job-1"]
    assert [s["instanceId"] for s in second] == ["job-2"]
    assert token is not None and last is None


def test_purge_by_without_statuses_deletes_every_status_as_azure_storage_does(management: Management, store: SqliteStore) -> None:
    # DurableTask.AzureStorage AzureTableTrackingStore.PurgeInstanceHistoryAsync(createdTimeFrom, ...): an empty
    # status list puts no status condition in the query (OrchestrationInstanceStatusQueryCondition.ToOData).
    management.start("hello_orchestrator", "running")
    management.start("hello_orchestrator", "done")
    progress(store, "done", RuntimeStatus.COMPLETED)

    deleted = management.purge_by(InstanceQuery(created_from=START, created_to=START))

    assert deleted == 2
    assert store.get_instance("done") is None
    assert store.get_instance("running") is None


@pytest.mark.asyncio
async def test_wait_for_completion_returns_the_terminal_status_on_virtual_time(
    management: Management, store: SqliteStore, clock: VirtualClock
) -> None:
    management.start("hello_orchestrator", "job-1")
    waiter = asyncio.create_task(management.wait_for_completion("job-1", 30, 2))
    await eventually(lambda: clock.next_deadline() is not None)  # first poll saw it Pending
    progress(store, "job-1", RuntimeStatus.COMPLETED, output={"ok": True})

    done = await drive(clock, waiter)
    status = None if done is None else status_payload(done)

    assert status is not None
    assert (status["runtimeStatus"], status["output"]) == ("Completed", {"ok": True})
    assert clock.now() == START + timedelta(seconds=2)


@pytest.mark.asyncio
async def test_wait_for_completion_times_out_on_the_clock(management: Management, clock: VirtualClock) -> None:
    management.start("hello_orchestrator", "job-1")
    waiter = asyncio.create_task(management.wait_for_completion("job-1", 2.5, 1))

    assert await drive(clock, waiter) is None
    assert clock.now() == START + timedelta(seconds=2.5)  # the last sleep stops at the deadline


@pytest.mark.asyncio
async def test_wait_for_completion_refuses_interval_longer_than_timeout(management: Management) -> None:
    with pytest.raises(BadRequest, match="Total timeout 1 should be bigger than retry timeout 2"):
        await management.wait_for_completion("job-1", 1, 2)


def test_stored_input_round_trips_through_the_status(management: Management) -> None:
    management.start("hello_orchestrator", "job-1", json.dumps({"jobId": "j1"}))

    status = status_document(management.get_status("job-1"))

    assert status["input"] == '{"jobId": "j1"}'
