"""Bad input never yields a 500: property test over routes, query values, headers and bodies."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devhost.clock import VirtualClock
from devhost.core.model import RuntimeStatus
from devhost.http import rpc, webhooks
from devhost.runtime.registry import FunctionRegistry, OrchestratorFunction
from devhost.service.management import Management
from devhost.store.sqlite import SqliteStore
from tests.http.conftest import HUB, START
from tests.http.helpers import progress

Harness = tuple[asyncio.AbstractEventLoop, TestClient]

# Wait-for-completion parameters are left out on purpose: with a virtual clock nobody advances here, a valid
# timeout would (correctly) wait forever.
PARAMS = st.sampled_from(
    [
        "showHistory",
        "showHistoryOutput",
        "showInput",
        "returnInternalServerErrorOnFailure",
        "createdTimeFrom",
        "createdTimeTo",
        "runtimeStatus",
        "instanceIdPrefix",
        "top",
        "reason",
        "restartWithNewInstanceId",
        "version",
        "taskHub",
        "connection",
        "code",
    ]
)
IDS = st.one_of(st.sampled_from(["pending", "running", "done", "failed"]), st.text(min_size=1, max_size=40))
ROUTES = st.sampled_from(
    [
        "orchestrators/hello_orchestrator",
        "orchestrators/hello_orchestrator/{id}",
        "orchestrators/{id}",
        "instances",
        "instances/{id}",
        "instances/{id}/terminate",
        "instances/{id}/suspend",
        "instances/{id}/resume",
        "instances/{id}/rewind",
        "instances/{id}/restart",
        "instances/{id}/raiseEvent/{id}",
        "{id}",
    ]
)


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    loop = asyncio.new_event_loop()
    store = SqliteStore(None)
    registry = FunctionRegistry()
    registry.orchestrators["hello_orchestrator"] = OrchestratorFunction("hello_orchestrator", lambda s: s)
    management = Management(store, VirtualClock(START), registry, lambda: None, hub_name=HUB)
    for instance_id, status in (
        ("pending", None),
        ("running", RuntimeStatus.RUNNING),
        ("done", RuntimeStatus.COMPLETED),
        ("failed", RuntimeStatus.FAILED),
    ):
        management.start("hello_orchestrator", instance_id, {"seed": instance_id})
        if status is not None:
            progress(store, instance_id, status)
    app = web.Application()
    webhooks.add_routes(app, management)
    rpc.add_routes(app, management)

    async def open_client() -> TestClient:
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        return client

    client = loop.run_until_complete(open_client())
    yield loop, client
    loop.run_until_complete(client.close())
    loop.close()
    store.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "POST", "DELETE", "PUT"]),
    surface=st.sampled_from(["/runtime/webhooks/durabletask", "/durabletask"]),
    route=ROUTES,
    instance_id=IDS,
    query=st.dictionaries(PARAMS, st.text(max_size=30), max_size=4),
    token=st.one_of(st.none(), st.text(max_size=30)),
    body=st.one_of(st.binary(max_size=64), st.text(max_size=64).map(str.encode)),
    content_type=st.sampled_from(["application/json", "text/plain", "application/json; charset=latin-1", ""]),
)
def test_bad_input_is_never_a_500(
    harness: Harness,
    method: str,
    surface: str,
    route: str,
    instance_id: str,
    query: dict[str, str],
    token: Any,
    body: bytes,
    content_type: str,
) -> None:
    loop, client = harness
    path = surface + "/" + route.replace("{id}", quote(instance_id, safe=""))
    headers = {"Content-Type": content_type} if content_type else {}
    if token is not None and token.isprintable():
        headers["x-ms-continuation-token"] = token

    async def call() -> tuple[int, bytes, str]:
        async with client.request(method, path, params=query, data=body, headers=headers) as response:
            return response.status, await response.read(), response.headers.get("Content-Type", "")

    status, payload, response_type = loop.run_until_complete(call())

    assert status < 500 or (status == 500 and b'"runtimeStatus":"Failed"' in payload), payload[:300]
    if payload:
        assert response_type.startswith("application/json")
