"""Fixtures for the Durable HTTP API tests: a real in-memory SQLite store, a virtual clock, a real aiohttp
server on loopback serving both surfaces, and the real azure-functions-durable client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from devhost.clock import VirtualClock
from devhost.http import rpc, webhooks
from devhost.runtime.registry import FunctionRegistry, OrchestratorFunction
from devhost.service.management import Management
from devhost.store.sqlite import SqliteStore

HUB = "TestHubName"
START = datetime(2030, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
ORCHESTRATORS = ("monitoring_job_orchestrator", "hello_orchestrator")


def _never_called(context: str) -> str:
    raise AssertionError("the HTTP API must not run orchestrators")


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


@pytest.fixture
def store() -> Iterator[SqliteStore]:
    s = SqliteStore(None)
    yield s
    s.close()


@pytest.fixture
def registry() -> FunctionRegistry:
    reg = FunctionRegistry()
    for name in ORCHESTRATORS:
        reg.orchestrators[name] = OrchestratorFunction(name=name, handle=_never_called)
    return reg


@pytest.fixture
def notifications() -> list[int]:
    return []


@pytest.fixture
def management(store: SqliteStore, clock: VirtualClock, registry: FunctionRegistry, notifications: list[int]) -> Management:
    return Management(store, clock, registry, lambda: notifications.append(1), hub_name=HUB)


@pytest.fixture
def app(management: Management) -> web.Application:
    application = web.Application()
    webhooks.add_routes(application, management)
    rpc.add_routes(application, management)
    return application


@pytest_asyncio.fixture
async def client(app: web.Application) -> AsyncIterator[TestClient]:
    server = TestServer(app, host="127.0.0.1")
    async with TestClient(server) as test_client:
        yield test_client
