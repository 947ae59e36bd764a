"""The SDK's own client (azure-functions-durable 1.7.0) against the RPC base, over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timezone

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient
from azure.durable_functions import DurableOrchestrationClient, OrchestrationRuntimeStatus
from azure.durable_functions.models.utils import http_utils

from devhost.core.model import EventType, RuntimeStatus
from devhost.http.links import client_binding_json
from devhost.store.sqlite import SqliteStore
from tests.http.conftest import HUB, START
from tests.http.helpers import progress, queued

UTC = timezone.utc


@pytest_asyncio.fixture
async def sdk(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DurableOrchestrationClient]:
    # The SDK keeps one module-level ClientSession; give each test (and its event loop) a fresh one.
    monkeypatch.setattr(http_utils, "_client_session", None)
    monkeypatch.setattr(http_utils, "_session_lock", asyncio.Lock())
    origin = f"http://127.0.0.1:{client.server.port}"
    binding = client_binding_json(f"{origin}/runtime/webhooks/durabletask", f"{origin}/durabletask/", HUB)
    yield DurableOrchestrationClient(binding)
    if http_utils._client_session is not None:
        await http_utils._client_session.close()


@pytest.mark.asyncio
async def test_sdk_start_new_returns_the_id_and_double_encoded_input_stays_a_string(
    sdk: DurableOrchestrationClient, store: SqliteStore
) -> None:
    instance_id = await sdk.start_new("monitoring_job_orchestrator", "job-1", {"jobId": "j1", "pollingInterval": 5})

    instance = store.get_instance("job-1")
    assert instance_id == "job-1"
    assert instance is not None
    # start_new posts json.dumps(json.dumps(input)); the orchestrator sees the inner JSON text (protocol §1.12).
    assert json.loads(instance.input) == '{"jobId": "j1", "pollingInterval": 5}'  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_sdk_start_new_without_id_or_input(sdk: DurableOrchestrationClient, store: SqliteStore) -> None:
    instance_id = await sdk.start_new("hello_orchestrator")

    assert len(instance_id) == 32
    assert store.get_instance(instance_id).input is None  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_sdk_start_new_with_version(sdk: DurableOrchestrationClient, store: SqliteStore) -> None:
    await sdk.start_new("hello_orchestrator", "job-1", version="2.0 beta")

    assert store.get_instance("job-1").version == "2.0 beta"  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_sdk_start_new_unknown_orchestrator_raises_the_extension_message(sdk: DurableOrchestrationClient) -> None:
    with pytest.raises(Exception, match="The function 'nope' doesn't exist, is disabled, or is not an orchestrator"):
        await sdk.start_new("nope")


@pytest.mark.asyncio
async def test_sdk_get_status_parses_a_running_instance(sdk: DurableOrchestrationClient, store: SqliteStore) -> None:
    await sdk.start_new("hello_orchestrator", "job-1", "in")
    progress(store, "job-1", RuntimeStatus.RUNNING, custom_status={"polls": 2})

    status = await sdk.get_status("job-1")

    assert status.runtime_status is OrchestrationRuntimeStatus.Running
    assert status.instance_id == "job-1"
    assert status.name == "hello_orchestrator"
    assert status.custom_status == {"polls": 2}
    assert status.input_ == '"in"'  # show_input=False is never sent, so the input comes back (as a str)
    assert status.created_time == START


@pytest.mark.asyncio
async def test_sdk_get_status_with_history(sdk: DurableOrchestrationClient, store: SqliteStore) -> None:
    await sdk.start_new("hello_orchestrator", "job-1")
    progress(store, "job-1", RuntimeStatus.COMPLETED, output=[1, 2], history=[queued(store, "job-1", START)[0].event])

    status = await sdk.get_status("job-1", show_history=True, show_history_output=True)

    assert status.runtime_status is OrchestrationRuntimeStatus.Completed
    assert status.output == [1, 2]
    assert status.historyEvents[0]["FunctionName"] == "hello_orchestrator"  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_sdk_get_status_of_unknown_instance_is_falsy(sdk: DurableOrchestrationClient) -> None:
    status = await sdk.get_status("missing")

    assert not status
    assert status.runtime_status is None


@pytest.mark.asyncio
async def test_sdk_get_status_all_and_by(sdk: DurableOrchestrationClient, store: SqliteStore) -> None:
    await sdk.start_new("hello_orchestrator", "a")
    await sdk.start_new("hello_orchestrator", "b")
    progress(store, "b", RuntimeStatus.RUNNING)

    everything = await sdk.get_status_all()
    running = await sdk.get_status_by(
        created_time_from=datetime(2029, 1, 1, tzinfo=UTC),
        created_time_to=datetime(2031, 1, 1, tzinfo=UTC),
        runtime_status=[OrchestrationRuntimeStatus.Running],
    )

    assert sorted(s.instance_id for s in everything) == ["a", "b"]
    assert [s.instance_id for s in running] == ["b"]


@pytest.mark.asyncio
async def test_sdk_raise_event_reaches_the_queue_double_encoded(sdk: DurableOrchestrationClient, store: SqliteStore) -> None:
    await sdk.start_new("hello_orchestrator", "job-1")

    await sdk.raise_event("job-1", "approval", {"ok": True})

    event = queued(store, "job-1", START)[-1].event
    assert event["EventType"] == int(EventType.EVENT_RAISED)
    assert event["Name"] == "approval"
    assert json.loads(event["Input"]) == '{"ok": true}'  # issue #295: the orchestrator gets a str


@pytest.mark.asyncio
async def test_sdk_raise_event_to_missing_or_finished_instances_raises(
    sdk: DurableOrchestrationClient, store: SqliteStore
) -> None:
    await sdk.start_new("hello_orchestrator", "job-1")
    progress(store, "job-1", RuntimeStatus.COMPLETED)

    with pytest.raises(Exception, match="No instance with ID nope found"):
        await sdk.raise_event("nope", "e", 1)
    with pytest.raises(Exception, match="is gone"):
        await sdk.raise_event("job-1", "e", 1)


@pytest.mark.asyncio
async def test_sdk_terminate_suspend_resume(sdk: DurableOrchestrationClient, store: SqliteStore) -> None:
    await sdk.start_new("hello_orchestrator", "job-1")
    progress(store, "job-1", RuntimeStatus.RUNNING)

    await sdk.suspend("job-1", "pause it")
    progress(store, "job-1", RuntimeStatus.SUSPENDED)
    await sdk.resume("job-1", "go on")
    await sdk.terminate("job-1", "stop: now")

    reasons = [(m.event["EventType"], m.event.get("Reason", m.event.get("Input"))) for m in queued(store, "job-1", START)]
    assert (int(EventType.EXECUTION_RESUMED), "go on") in reasons
    assert (int(EventType.EXECUTION_TERMINATED), "stop: now") in reasons


@pytest.mark.asyncio
async def test_sdk_terminate_of_a_finished_instance_is_fine_and_unknown_raises(
    sdk: DurableOrchestrationClient, store: SqliteStore
) -> None:
    await sdk.start_new("hello_orchestrator", "job-1")
    progress(store, "job-1", RuntimeStatus.COMPLETED)

    await sdk.terminate("job-1", "late")  # 410 counts as success in the SDK
    with pytest.raises(Exception, match="No instance with ID 'nope' found"):
        await sdk.terminate("nope", "x")


@pytest.mark.asyncio
async def test_sdk_rewind_of_a_failed_instance(sdk: DurableOrchestrationClient, store: SqliteStore) -> None:
    await sdk.start_new("hello_orchestrator", "job-1")
    progress(store, "job-1", RuntimeStatus.FAILED)

    await sdk.rewind("job-1", "retry")

    assert queued(store, "job-1", START)[-1].event["EventType"] == int(EventType.EXECUTION_REWOUND)


@pytest.mark.asyncio
async def test_sdk_purge_instance_history(sdk: DurableOrchestrationClient, store: SqliteStore) -> None:
    await sdk.start_new("hello_orchestrator", "job-1")

    purged = await sdk.purge_instance_history("job-1")
    again = await sdk.purge_instance_history("job-1")

    assert purged.instances_deleted == 1
    assert again.instances_deleted == 0
    assert store.get_instance("job-1") is None


@pytest.mark.asyncio
async def test_sdk_purge_instance_history_by(sdk: DurableOrchestrationClient, store: SqliteStore) -> None:
    for instance_id in ("done", "running"):
        await sdk.start_new("hello_orchestrator", instance_id)
    progress(store, "done", RuntimeStatus.COMPLETED)

    result = await sdk.purge_instance_history_by(
        created_time_from=datetime(2029, 1, 1, tzinfo=UTC),
        runtime_status=[OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Running],
    )
    rest = await sdk.purge_instance_history_by(created_time_from=datetime(2029, 1, 1, tzinfo=UTC))

    assert result.instances_deleted == 1  # Azure Storage keeps only the terminal statuses of the request
    assert rest.instances_deleted == 1  # and with none, purges every status: the running one too
    assert store.get_instance("running") is None


@pytest.mark.asyncio
async def test_sdk_restart_returns_the_check_status_object(sdk: DurableOrchestrationClient, store: SqliteStore) -> None:
    await sdk.start_new("hello_orchestrator", "job-1", "x")
    progress(store, "job-1", RuntimeStatus.COMPLETED)

    response = await sdk.restart("job-1")

    assert isinstance(response, dict)  # the SDK hands back the 202 body, as against the extension
    assert store.get_instance(response["id"]).input == store.get_instance("job-1").input  # type: ignore[union-attr]
