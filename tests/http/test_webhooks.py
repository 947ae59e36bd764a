"""The public webhook surface end to end: a real aiohttp server on loopback, a real SQLite store, virtual time."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient

from devhost.clock import VirtualClock
from devhost.core.model import EventType, RuntimeStatus
from devhost.service.management import Management
from devhost.store.sqlite import SqliteStore
from tests.http.conftest import HUB, START
from tests.http.helpers import drive, eventually, progress, queued

B = "/runtime/webhooks/durabletask"
Q = f"taskHub={HUB}&connection=Storage"
JSON_CT = "application/json; charset=utf-8"


def _origin(client: TestClient) -> str:
    return f"http://127.0.0.1:{client.server.port}"


# --- start --------------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_start_returns_202_with_check_status_body_and_headers(client: TestClient, store: SqliteStore) -> None:
    response = await client.post(f"{B}/orchestrators/hello_orchestrator/job-1", json={"jobId": "j1"})

    body = await response.json()
    status_uri = f"{_origin(client)}{B}/instances/job-1?{Q}"
    assert response.status == 202
    assert response.headers["Content-Type"] == JSON_CT
    assert response.headers["Location"] == status_uri
    assert response.headers["Retry-After"] == "10"
    assert list(body) == [
        "id",
        "statusQueryGetUri",
        "sendEventPostUri",
        "terminatePostUri",
        "purgeHistoryDeleteUri",
        "restartPostUri",
        "suspendPostUri",
        "resumePostUri",
    ]
    assert body["id"] == "job-1"
    assert body["statusQueryGetUri"] == status_uri
    assert store.get_instance("job-1").input == '{"jobId":"j1"}'  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_start_without_instance_id_generates_a_dashless_guid(client: TestClient) -> None:
    response = await client.post(f"{B}/orchestrators/hello_orchestrator")

    body = await response.json()
    assert response.status == 202
    assert len(body["id"]) == 32 and all(c in "0123456789abcdef" for c in body["id"])


@pytest.mark.asyncio
async def test_start_with_empty_body_has_null_input(client: TestClient) -> None:
    await client.post(f"{B}/orchestrators/hello_orchestrator/job-1", data=b"")

    status = await (await client.get(f"{B}/instances/job-1")).json()

    assert status["input"] is None


@pytest.mark.asyncio
async def test_start_with_a_version_query_stores_it(client: TestClient, store: SqliteStore) -> None:
    await client.post(f"{B}/orchestrators/hello_orchestrator/job-1?version=1.2")

    assert store.get_instance("job-1").version == "1.2"  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_start_with_invalid_json_is_400_invalid_json_content(client: TestClient, store: SqliteStore) -> None:
    response = await client.post(f"{B}/orchestrators/hello_orchestrator/job-1", data="{not json")

    body = await response.json()
    assert response.status == 400
    assert body["Message"] == "Invalid JSON content"
    assert body["ExceptionType"] == "Newtonsoft.Json.JsonReaderException"
    assert store.get_instance("job-1") is None


@pytest.mark.asyncio
async def test_start_unknown_orchestrator_is_400_argument_error(client: TestClient) -> None:
    response = await client.post(f"{B}/orchestrators/nope")

    body = await response.json()
    assert response.status == 400
    assert body["Message"] == "One or more of the arguments submitted is incorrect"
    assert body["ExceptionMessage"].startswith(
        "The function 'nope' doesn't exist, is disabled, or is not an orchestrator function."
    )
    assert body["ExceptionType"] == "System.ArgumentException"
    assert body["StackTrace"] is None


@pytest.mark.asyncio
async def test_start_with_an_invalid_instance_id_is_400(client: TestClient) -> None:
    response = await client.post(f"{B}/orchestrators/hello_orchestrator/@bad")

    assert response.status == 400
    assert "must not start with @" in (await response.json())["ExceptionMessage"]


@pytest.mark.asyncio
async def test_start_over_a_running_instance_is_409(client: TestClient, store: SqliteStore) -> None:
    await client.post(f"{B}/orchestrators/hello_orchestrator/job-1")
    progress(store, "job-1", RuntimeStatus.RUNNING)

    response = await client.post(f"{B}/orchestrators/hello_orchestrator/job-1")

    assert response.status == 409
    assert "job-1" in (await response.json())["Message"]


@pytest.mark.asyncio
async def test_start_rejects_a_body_over_the_cap_with_413(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from devhost.http import params

    monkeypatch.setattr(params, "MAX_BODY_BYTES", 1024)
    monkeypatch.setattr(params.read_body, "__defaults__", (1024,))

    response = await client.post(f"{B}/orchestrators/hello_orchestrator/job-1", data=b"[" + b"1," * 2000 + b"1]")

    assert response.status == 413
    assert "Message" in await response.json()


@pytest.mark.asyncio
async def test_start_and_wait_returns_the_raw_output_when_completed(
    client: TestClient, store: SqliteStore, clock: VirtualClock
) -> None:
    request = asyncio.create_task(
        client.post(f"{B}/orchestrators/hello_orchestrator/job-1?timeout=30&pollingInterval=1", json="x")
    )
    await eventually(lambda: store.get_instance("job-1") is not None)
    progress(store, "job-1", RuntimeStatus.COMPLETED, output={"result": 42})

    response = await drive(clock, request)

    assert response.status == 200
    assert await response.json() == {"result": 42}


@pytest.mark.asyncio
async def test_start_and_wait_returns_the_status_for_a_failed_instance_as_200(
    client: TestClient, store: SqliteStore, clock: VirtualClock
) -> None:
    request = asyncio.create_task(
        client.post(
            f"{B}/orchestrators/hello_orchestrator/job-1?timeout=30&pollingInterval=1&returnInternalServerErrorOnFailure=true"
        )
    )
    await eventually(lambda: store.get_instance("job-1") is not None)
    progress(store, "job-1", RuntimeStatus.FAILED, output="boom")

    response = await drive(clock, request)

    body = await response.json()
    assert response.status == 200
    assert (body["runtimeStatus"], body["output"]) == ("Failed", "boom")


@pytest.mark.asyncio
async def test_start_and_wait_times_out_into_the_202(client: TestClient, store: SqliteStore, clock: VirtualClock) -> None:
    request = asyncio.create_task(client.post(f"{B}/orchestrators/hello_orchestrator/job-1?timeout=2&pollingInterval=1"))

    response = await drive(clock, request)

    assert response.status == 202
    assert (await response.json())["id"] == "job-1"
    assert clock.now() == START + timedelta(seconds=2)  # polled at 0, 1 and 2 s of virtual time, no longer


@pytest.mark.asyncio
async def test_start_and_wait_with_interval_over_timeout_is_400(client: TestClient) -> None:
    response = await client.post(f"{B}/orchestrators/hello_orchestrator/job-1?timeout=1&pollingInterval=5")

    assert response.status == 400
    assert "should be bigger than retry timeout" in (await response.json())["ExceptionMessage"]


# --- status -------------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_status_of_an_unknown_instance_is_404_with_empty_body(client: TestClient) -> None:
    response = await client.get(f"{B}/instances/missing")

    assert response.status == 404
    assert await response.read() == b""


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "status", [RuntimeStatus.PENDING, RuntimeStatus.RUNNING, RuntimeStatus.SUSPENDED, RuntimeStatus.CONTINUED_AS_NEW]
)
async def test_status_returns_202_while_running(client: TestClient, store: SqliteStore, status: RuntimeStatus) -> None:
    await client.post(f"{B}/orchestrators/hello_orchestrator/job-1", json={"a": 1})
    if status is not RuntimeStatus.PENDING:
        progress(store, "job-1", status, custom_status={"step": 2})

    response = await client.get(f"{B}/instances/job-1?taskHub={HUB}")

    body = await response.json()
    assert response.status == 202
    assert response.headers["Location"] == f"{_origin(client)}{B}/instances/job-1?taskHub={HUB}"
    assert response.headers["Retry-After"] == "5"
    assert body["runtimeStatus"] == status.value
    assert body["input"] == {"a": 1}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "status", [RuntimeStatus.COMPLETED, RuntimeStatus.TERMINATED, RuntimeStatus.CANCELED, RuntimeStatus.FAILED]
)
async def test_status_returns_200_when_finished(client: TestClient, store: SqliteStore, status: RuntimeStatus) -> None:
    await client.post(f"{B}/orchestrators/hello_orchestrator/job-1")
    progress(store, "job-1", status, output=["out"], at=START + timedelta(seconds=7))

    response = await client.get(f"{B}/instances/job-1")

    body = await response.json()
    assert response.status == 200
    assert "Location" not in response.headers and "Retry-After" not in response.headers
    assert body == {
        "name": "hello_orchestrator",
        "instanceId": "job-1",
        "runtimeStatus": status.value,
        "input": None,
        "customStatus": None,
        "output": ["out"],
        "createdTime": "2030-01-01T12:00:00Z",
        "lastUpdatedTime": "2030-01-01T12:00:07Z",
    }


@pytest.mark.asyncio
async def test_status_of_failed_is_500_only_with_the_flag(client: TestClient, store: SqliteStore) -> None:
    await client.post(f"{B}/orchestrators/hello_orchestrator/job-1")
    progress(store, "job-1", RuntimeStatus.FAILED, output="boom")

    flagged = await client.get(f"{B}/instances/job-1?returnInternalServerErrorOnFailure=True")
    junk = await client.get(f"{B}/instances/job-1?returnInternalServerErrorOnFailure=maybe")

    assert flagged.status == 500
    assert (await flagged.json())["runtimeStatus"] == "Failed"
    assert junk.status == 200


@pytest.mark.asyncio
async def test_status_hides_input_only_when_show_input_is_false(client: TestClient) -> None:
    await client.post(f"{B}/orchestrators/hello_orchestrator/job-1", json=[1])

    hidden = await (await client.get(f"{B}/instances/job-1?showInput=FALSE")).json()
    shown = await (await client.get(f"{B}/instances/job-1?showInput=nonsense")).json()

    assert hidden["input"] is None
    assert shown["input"] == [1]


@pytest.mark.asyncio
async def test_status_routes_match_case_insensitively_and_ignore_trailing_slash(client: TestClient) -> None:
    await client.post(f"{B}/Orchestrators/hello_orchestrator/job-1")

    response = await client.get("/Runtime/Webhooks/DurableTask/INSTANCES/job-1/")

    assert response.status == 202
    assert (await response.json())["instanceId"] == "job-1"


@pytest.mark.asyncio
async def test_status_with_history_is_shaped(client: TestClient, store: SqliteStore, management: Management) -> None:
    await client.post(f"{B}/orchestrators/hello_orchestrator/job-1", json="in")
    started = queued(store, "job-1", START)[0].event
    progress(store, "job-1", RuntimeStatus.RUNNING, history=[started])

    body = await (await client.get(f"{B}/instances/job-1?showHistory=true&showInput=false")).json()

    assert body["historyEvents"] == [
        {"EventType": "ExecutionStarted", "Timestamp": "2030-01-01T12:00:00Z", "FunctionName": "hello_orchestrator"}
    ]
    assert list(body)[-1] == "historyEvents"


@pytest.mark.asyncio
async def test_instance_ids_with_encoded_characters_round_trip(client: TestClient) -> None:
    await client.post(f"{B}/orchestrators/hello_orchestrator/job%20%C3%A9")

    body = await (await client.get(f"{B}/instances/job%20%C3%A9")).json()

    assert body["instanceId"] == "job é"


# --- list ---------------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_list_always_sends_the_continuation_header(client: TestClient) -> None:
    response = await client.get(f"{B}/instances")

    assert response.status == 200
    assert await response.json() == []
    assert response.headers["x-ms-continuation-token"] == ""


@pytest.mark.asyncio
async def test_list_pages_with_top_and_the_continuation_header(client: TestClient, clock: VirtualClock) -> None:
    for n in range(3):
        await client.post(f"{B}/orchestrators/hello_orchestrator/job-{n}")
        clock.advance(1)

    first = await client.get(f"{B}/instances/?top=2")
    token = first.headers["x-ms-continuation-token"]
    second = await client.get(f"{B}/instances/?top=2", headers={"x-ms-continuation-token": token})

    assert [s["instanceId"] for s in await first.json()] == ["job-0", "job-1"]
    assert token != ""
    assert [s["instanceId"] for s in await second.json()] == ["job-2"]
    assert second.headers["x-ms-continuation-token"] == ""


@pytest.mark.asyncio
async def test_list_filters_by_time_status_and_prefix(client: TestClient, store: SqliteStore, clock: VirtualClock) -> None:
    await client.post(f"{B}/orchestrators/hello_orchestrator/a-1")
    clock.advance(60)
    await client.post(f"{B}/orchestrators/hello_orchestrator/a-2")
    await client.post(f"{B}/orchestrators/hello_orchestrator/b-1")
    progress(store, "a-2", RuntimeStatus.COMPLETED)
    progress(store, "b-1", RuntimeStatus.RUNNING)

    async def ids(query: str) -> list:
        return sorted(s["instanceId"] for s in await (await client.get(f"{B}/instances?{query}")).json())

    assert await ids("createdTimeFrom=2030-01-01T12:00:30Z") == ["a-2", "b-1"]
    assert await ids("createdTimeTo=2030-01-01T12:00:30.0000000Z") == ["a-1"]
    assert await ids("runtimeStatus=Completed,Running") == ["a-2", "b-1"]
    assert await ids("runtimeStatus=Pending&runtimeStatus=Bogus") == ["a-1"]
    assert await ids("runtimeStatus=Bogus") == ["a-1", "a-2", "b-1"]  # nothing valid: no filter
    assert await ids("instanceIdPrefix=a-") == ["a-1", "a-2"]
    assert await ids("showInput=false&top=abc") == ["a-1", "a-2", "b-1"]  # a date that does not parse: 400, see tests/conformance


@pytest.mark.asyncio
async def test_list_with_non_positive_top_uses_the_default_page(client: TestClient) -> None:
    await client.post(f"{B}/orchestrators/hello_orchestrator/job-1")

    response = await client.get(f"{B}/instances?top=0")

    assert response.status == 200
    assert len(await response.json()) == 1


@pytest.mark.asyncio
async def test_list_with_a_forged_continuation_token_is_400_not_500(client: TestClient) -> None:
    response = await client.get(f"{B}/instances", headers={"x-ms-continuation-token": "garbage"})

    assert response.status == 400


# --- raise event --------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_raise_event_is_202_and_queues_the_raw_body(client: TestClient, store: SqliteStore) -> None:
    await client.post(f"{B}/orchestrators/hello_orchestrator/job-1")

    response = await client.post(
        f"{B}/instances/job-1/raiseEvent/approval", data='{ "ok": true }', headers={"Content-Type": "application/json"}
    )

    assert response.status == 202
    assert await response.read() == b""
    event = queued(store, "job-1", START)[-1].event
    assert (event["EventType"], event["Name"], event["Input"]) == (int(EventType.EVENT_RAISED), "approval", '{ "ok": true }')


@pytest.mark.asyncio
async def test_raise_event_checks_content_type_then_json(client: TestClient) -> None:
    await client.post(f"{B}/orchestrators/hello_orchestrator/job-1")

    form = await client.post(
        f"{B}/instances/job-1/raiseEvent/e", data="ok=1", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    bad = await client.post(f"{B}/instances/job-1/raiseEvent/e", data="{oops", headers={"Content-Type": "application/json"})
    empty = await client.post(f"{B}/instances/job-1/raiseEvent/e", data=b"", headers={"Content-Type": "application/json"})

    assert form.status == 400
    assert await form.json() == {"Message": "Only application/json request content is supported"}
    assert bad.status == 400
    assert (await bad.json())["Message"] == "Invalid JSON content"
    assert empty.status == 400


@pytest.mark.asyncio
async def test_raise_event_unknown_is_404_and_finished_is_410_before_content_checks(
    client: TestClient, store: SqliteStore
) -> None:
    await client.post(f"{B}/orchestrators/hello_orchestrator/job-1")
    progress(store, "job-1", RuntimeStatus.COMPLETED)

    missing = await client.post(f"{B}/instances/nope/raiseEvent/e", json=1)
    gone = await client.post(f"{B}/instances/job-1/raiseEvent/e", data="x", headers={"Content-Type": "text/plain"})

    assert missing.status == 404
    assert gone.status == 410


# --- terminate / suspend / resume / rewind / restart --------------------------------------------
@pytest.mark.asyncio
async def test_terminate_suspend_resume_codes(client: TestClient, store: SqliteStore) -> None:
    await client.post(f"{B}/orchestrators/hello_orchestrator/job-1")
    progress(store, "job-1", RuntimeStatus.RUNNING)

    suspend = await client.post(f"{B}/instances/job-1/suspend?reason=pause")
    progress(store, "job-1", RuntimeStatus.SUSPENDED)
    suspend_again = await client.post(f"{B}/instances/job-1/Suspend")
    resume = await client.post(f"{B}/instances/job-1/resume?reason=go")
    terminate = await client.post(f"{B}/instances/job-1/terminate?reason=stop%20now")
    progress(store, "job-1", RuntimeStatus.TERMINATED)
    terminate_again = await client.post(f"{B}/instances/job-1/terminate")
    missing = await client.post(f"{B}/instances/nope/terminate")

    assert [suspend.status, suspend_again.status, resume.status, terminate.status] == [202, 409, 202, 202]
    assert [terminate_again.status, missing.status] == [410, 404]
    assert await terminate.read() == b""


@pytest.mark.asyncio
async def test_terminate_reason_reaches_the_queued_event(client: TestClient, store: SqliteStore) -> None:
    await client.post(f"{B}/orchestrators/hello_orchestrator/job-1")

    await client.post(f"{B}/instances/job-1/terminate?reason=stop%20now")

    event = queued(store, "job-1", START)[-1].event
    assert (event["EventType"], event["Input"]) == (int(EventType.EXECUTION_TERMINATED), "stop now")


@pytest.mark.asyncio
async def test_rewind_codes(client: TestClient, store: SqliteStore) -> None:
    for instance_id, status in (("f", RuntimeStatus.FAILED), ("c", RuntimeStatus.COMPLETED), ("r", RuntimeStatus.RUNNING)):
        await client.post(f"{B}/orchestrators/hello_orchestrator/{instance_id}")
        progress(store, instance_id, status)

    codes = [(await client.post(f"{B}/instances/{i}/rewind?reason=x")).status for i in ("f", "c", "r", "nope")]

    assert codes == [202, 410, 400, 404]


@pytest.mark.asyncio
async def test_restart_returns_the_check_status_202_for_a_new_instance(client: TestClient, store: SqliteStore) -> None:
    await client.post(f"{B}/orchestrators/hello_orchestrator/job-1", json={"a": 1})
    progress(store, "job-1", RuntimeStatus.COMPLETED)

    response = await client.post(f"{B}/instances/job-1/restart")

    body = await response.json()
    assert response.status == 202
    assert body["id"] != "job-1"
    assert response.headers["Location"] == body["statusQueryGetUri"]
    assert store.get_instance(body["id"]).input == '{"a":1}'  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_restart_in_place_and_unknown_instance(client: TestClient, store: SqliteStore) -> None:
    await client.post(f"{B}/orchestrators/hello_orchestrator/job-1")
    progress(store, "job-1", RuntimeStatus.FAILED)

    in_place = await client.post(f"{B}/instances/job-1/restart?restartWithNewInstanceId=false")
    unknown = await client.post(f"{B}/instances/nope/restart")

    assert in_place.status == 202
    assert (await in_place.json())["id"] == "job-1"
    assert unknown.status == 400
    body = await unknown.json()
    assert body["Message"] == "InstanceId does not match a valid orchestration instance."
    assert "nope" in body["ExceptionMessage"]


# --- purge --------------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_purge_one_instance(client: TestClient, store: SqliteStore) -> None:
    await client.post(f"{B}/orchestrators/hello_orchestrator/job-1")

    purged = await client.delete(f"{B}/instances/job-1")
    again = await client.delete(f"{B}/instances/job-1")

    assert purged.status == 200
    assert await purged.json() == {"instancesDeleted": 1}
    assert again.status == 404
    assert await again.read() == b""
    assert store.get_instance("job-1") is None


@pytest.mark.asyncio
async def test_purge_by_filter_requires_created_time_from(client: TestClient) -> None:
    missing = await client.delete(f"{B}/instances")
    invalid = await client.delete(f"{B}/instances?createdTimeFrom=soon")

    for response in (missing, invalid):
        assert response.status == 400
        assert await response.json() == "Please provide value for 'createdTimeFrom' parameter."


@pytest.mark.asyncio
async def test_purge_by_filter_deletes_every_status_in_range_as_azure_storage_or_404s(
    client: TestClient, store: SqliteStore
) -> None:
    for instance_id in ("done", "failed", "running"):
        await client.post(f"{B}/orchestrators/hello_orchestrator/{instance_id}")
    progress(store, "done", RuntimeStatus.COMPLETED)
    progress(store, "failed", RuntimeStatus.FAILED)

    only_failed = await client.delete(f"{B}/instances?createdTimeFrom=2030-01-01T00:00:00Z&runtimeStatus=Failed")
    rest = await client.delete(f"{B}/instances?createdTimeFrom=2030-01-01T00:00:00Z")
    nothing = await client.delete(f"{B}/instances?createdTimeFrom=2030-01-01T00:00:00Z")

    assert (only_failed.status, await only_failed.json()) == (200, {"instancesDeleted": 1})
    assert (rest.status, await rest.json()) == (200, {"instancesDeleted": 2})  # "done" and "running"
    assert nothing.status == 404
    assert store.get_instance("running") is None


# --- routing ------------------------------------------------------------------------------------
@pytest.mark.asyncio
@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/nope"),
        ("GET", "/orchestrators/hello_orchestrator"),
        ("PUT", "/instances/job-1"),
        ("POST", "/instances/job-1"),
        ("GET", "/instances/job-1/terminate"),
        ("POST", "/instances/job-1/explode"),
        ("POST", "/instances/job-1/raiseEvent"),
        ("POST", "/instances//terminate"),
        ("PUT", "/entities/counter/k"),  # GET entities is the entity list now (HttpApiHandler.cs:314-345)
        ("POST", "/makeprimary"),
        ("GET", ""),
    ],
)
async def test_unknown_routes_and_methods_are_404_with_empty_body(client: TestClient, method: str, path: str) -> None:
    await client.post(f"{B}/orchestrators/hello_orchestrator/job-1")

    response = await client.request(method, f"{B}{path}")

    assert response.status == 404
    assert await response.read() == b""


@pytest.mark.asyncio
async def test_both_surfaces_serve_the_same_instances(client: TestClient) -> None:
    started = await (await client.post("/durabletask/orchestrators/hello_orchestrator/job-1", json="x")).json()

    via_webhook = await client.get(f"{B}/instances/job-1")

    assert via_webhook.status == 202
    # Links in RPC answers still point at the public webhook path, as the extension's do.
    assert started["statusQueryGetUri"] == f"{_origin(client)}{B}/instances/job-1?{Q}"
    assert json.loads(await via_webhook.text())["input"] == "x"
