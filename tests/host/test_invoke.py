"""Calling activities and HTTP functions the way the Python worker does."""

from __future__ import annotations

import asyncio
import json
import threading

import azure.functions as func
import pytest

from devhost.clock import RealClock, VirtualClock
from devhost.runtime.invoker import ActivityFailed, Invoker
from devhost.runtime.registry import ActivityFunction, FunctionRegistry, HttpFunction

pytestmark = pytest.mark.asyncio

SAFETY_NET_SECONDS = 10.0

BINDING = json.dumps(
    {
        "taskHubName": "InvokeHub",
        "creationUrls": {},
        "managementUrls": {"id": "INSTANCEID"},
        "baseUrl": "http://127.0.0.1:7071/runtime/webhooks/durabletask",
        "requiredQueryStringParameters": "",
        "rpcBaseUrl": "http://127.0.0.1:7071/durabletask/",
    }
)


def http_request(method: str, url: str, route_params: dict | None = None, body: bytes = b"") -> func.HttpRequest:
    return func.HttpRequest(method, url, headers={}, params={"q": "x"}, route_params=route_params or {}, body=body)


def by_name(registry: FunctionRegistry, name: str) -> HttpFunction:
    return next(fn for fn in registry.http if fn.name == name)


async def test_activity_input_is_decoded_and_output_encoded_as_json_text(kinds_app: FunctionRegistry) -> None:
    invoker = Invoker(RealClock())

    result = await invoker.call_activity(kinds_app.activities["say_hello"], '"Tokyo"')

    assert result == '"Hello Tokyo!"'


async def test_async_activity_with_object_input(kinds_app: FunctionRegistry) -> None:
    invoker = Invoker(RealClock())

    result = await invoker.call_activity(kinds_app.activities["AliasedActivity"], '{"a": [1, 2]}')

    assert json.loads(result) == {"got": {"a": [1, 2]}}


async def test_non_json_input_reaches_the_activity_as_the_raw_string(kinds_app: FunctionRegistry) -> None:
    invoker = Invoker(RealClock())

    result = await invoker.call_activity(kinds_app.activities["say_hello"], "Lima")

    assert result == '"Hello Lima!"'


async def test_a_raising_activity_fails_with_the_extensions_out_of_proc_texts(kinds_app: FunctionRegistry) -> None:
    invoker = Invoker(RealClock())

    with pytest.raises(ActivityFailed) as failure:
        await invoker.call_activity(kinds_app.activities["boom"], '"x"')

    # "failed: " + the RpcException text after "\nException:" (which starts with a space).
    assert failure.value.reason == "Activity function 'boom' failed:  ValueError: bad input x"
    assert failure.value.details is not None
    assert failure.value.details.startswith("Traceback (most recent call last):")
    assert failure.value.details.endswith("ValueError: bad input x")
    assert invoker.running == 0


async def test_a_non_serializable_return_value_fails_the_activity(kinds_app: FunctionRegistry) -> None:
    invoker = Invoker(RealClock())

    with pytest.raises(ActivityFailed) as failure:
        await invoker.call_activity(kinds_app.activities["unserializable"], '"x"')

    assert failure.value.reason.startswith(
        "Activity function 'unserializable' failed:  ValueError: activity trigger output must be json serializable"
    )


async def _wait_until_sleeping(clock: VirtualClock, count: int) -> None:
    for _ in range(100_000):
        if clock.sleeping_functions == count:
            return
        await asyncio.sleep(0)
    raise AssertionError("the function never went to sleep")


async def test_a_sync_activity_sleeps_on_the_virtual_clock_in_its_thread(kinds_app: FunctionRegistry) -> None:
    clock = VirtualClock()
    asleep = threading.Event()
    clock.on_function_sleep.append(asleep.set)
    invoker = Invoker(clock)

    call = asyncio.ensure_future(invoker.call_activity(kinds_app.activities["nap"], "120"))
    while not asleep.is_set():
        await asyncio.sleep(0)
    running_while_asleep = invoker.running
    clock.advance(120)
    result = await asyncio.wait_for(call, SAFETY_NET_SECONDS)

    assert running_while_asleep == 1
    assert json.loads(result) == 120.0
    assert invoker.running == 0


def _where(job: object) -> list:
    thread = threading.current_thread()
    return [thread.ident, thread.daemon, thread.name]


async def test_sync_activities_on_the_real_clock_reuse_daemon_worker_threads() -> None:
    invoker = Invoker(RealClock(), max_threads=1)
    where = ActivityFunction("where", _where, "job")

    first = json.loads(await invoker.call_activity(where, "1"))
    second = json.loads(await invoker.call_activity(where, "2"))
    invoker.close()

    assert first == second
    assert first[0] != threading.get_ident() and first[1] is True


async def test_sync_activities_on_a_virtual_clock_get_a_thread_named_for_the_function() -> None:
    invoker = Invoker(VirtualClock())
    where = ActivityFunction("where", _where, "job")

    ident, daemon, name = json.loads(await invoker.call_activity(where, "1"))

    assert daemon is True
    assert name == "devhost-fn-_where"


async def test_an_async_activity_sleeps_on_the_virtual_clock(kinds_app: FunctionRegistry) -> None:
    clock = VirtualClock()
    invoker = Invoker(clock)

    call = asyncio.ensure_future(invoker.call_activity(kinds_app.activities["async_nap"], "3600"))
    await _wait_until_sleeping(clock, 1)
    running_while_asleep = invoker.running
    clock.advance(3600)
    result = await asyncio.wait_for(call, SAFETY_NET_SECONDS)

    assert running_while_asleep == 1
    assert json.loads(result) == 3600.0


async def test_http_starter_gets_a_durable_client_built_from_the_binding_json(kinds_app: FunctionRegistry) -> None:
    invoker = Invoker(RealClock())
    request = http_request("POST", "http://127.0.0.1:7071/api/orchestrators/hello", {"functionName": "hello"})

    response = await invoker.call_http(by_name(kinds_app, "http_start"), request, BINDING)

    assert response.status_code == 200
    assert json.loads(response.get_body()) == {
        "hub": "InvokeHub",
        "function": "hello",
        "rpc": "http://127.0.0.1:7071/durabletask/",
    }


async def test_sync_http_function_receives_request_and_context(kinds_app: FunctionRegistry) -> None:
    invoker = Invoker(RealClock())
    request = http_request("GET", "http://localhost:7071/api/echo/7?q=x", {"id": "7"})

    response = await invoker.call_http(by_name(kinds_app, "echo"), request, BINDING)

    assert response.status_code == 201
    assert response.mimetype == "application/json"
    assert json.loads(response.get_body()) == {
        "id": "7",
        "function": "echo",
        "url": "http://localhost:7071/api/echo/7?q=x",
        "method": "GET",
        "q": "x",
    }


async def test_a_str_return_value_is_a_200_text_response(kinds_app: FunctionRegistry) -> None:
    invoker = Invoker(RealClock())

    response = await invoker.call_http(by_name(kinds_app, "text"), http_request("GET", "http://h/api/text"), BINDING)

    assert (response.status_code, response.get_body(), response.mimetype) == (200, b"plain text", "text/plain")


async def test_a_none_return_value_is_a_500_as_in_the_worker(
    kinds_app: FunctionRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    invoker = Invoker(RealClock())

    response = await invoker.call_http(by_name(kinds_app, "nothing"), http_request("GET", "http://h/api/nothing"), BINDING)

    assert response.status_code == 500
    assert response.get_body() == b""
    assert "unable to encode outgoing TypedData" in caplog.text


async def test_an_exception_is_logged_with_its_traceback_and_answered_500(
    kinds_app: FunctionRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    invoker = Invoker(RealClock())

    response = await invoker.call_http(by_name(kinds_app, "explode"), http_request("GET", "http://h/api/explode"), BINDING)

    assert response.status_code == 500
    assert "RuntimeError: kaboom" in caplog.text
    assert "Traceback (most recent call last)" in caplog.text
    assert invoker.running == 0
