"""The W3C trace context of the request that started an instance is kept with it and handed to its invocations:
activities (and those of its sub-orchestrations) see it as ``context.trace_context``; orchestrators run inside
it as the current OpenTelemetry context when the app turns OpenTelemetry on, as the Python worker does."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from devhost.clock import VirtualClock
from devhost.core.model import RuntimeStatus
from devhost.host.server import DevHost
from devhost.store.sqlite import SqliteStore
from tests.notifications.receiver import SAFETY_NET_SECONDS

APP = Path(__file__).resolve().parents[1] / "apps" / "notify_app"
WEBHOOKS = "/runtime/webhooks/durabletask"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
TRACESTATE = "congo=t61rcWkgMzE"


@pytest.fixture(autouse=True)
def no_notifications(monkeypatch: pytest.MonkeyPatch) -> None:
    # notify_app's host.json names a topic; point it at a closed port with no retries worth waiting for.
    monkeypatch.setenv("EVENT_GRID_TOPIC", "http://127.0.0.1:9/api/events")
    monkeypatch.setenv("EVENT_GRID_KEY", "unused")


async def post(url: str, headers: dict[str, str]) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.post(url, headers=headers) as response:
            assert response.status == 202, await response.text()
            body: dict[str, Any] = json.loads(await response.text())
            return body


async def run_to_completion(host: DevHost, instance_id: str) -> dict[str, Any]:
    def done() -> bool:
        return host.management.get_instance(instance_id).runtime_status is RuntimeStatus.COMPLETED

    await asyncio.wait_for(host.engine.run_until(done), SAFETY_NET_SECONDS)
    output = host.management.get_instance(instance_id).output
    assert output is not None
    result: dict[str, Any] = json.loads(output)
    return result


@pytest.mark.asyncio
async def test_a_webhook_start_with_traceparent_hands_it_to_activities_and_sub_orchestrations(tmp_path: Path) -> None:
    store_path = tmp_path / "store.sqlite3"
    instance_id = uuid.uuid4().hex
    async with DevHost(APP, port=0, store_path=store_path, clock=VirtualClock()) as host:
        url = f"{host.base_url}{WEBHOOKS}/orchestrators/traced_flow/{instance_id}"
        await post(url, {"traceparent": TRACEPARENT, "tracestate": TRACESTATE})
        output = await run_to_completion(host, instance_id)

    assert output["activity"] == {"label": "parent", "traceparent": TRACEPARENT, "tracestate": TRACESTATE}
    assert output["child"] == {"label": "child", "traceparent": TRACEPARENT, "tracestate": TRACESTATE}
    with SqliteStore(store_path) as store:  # kept durably, with the instance
        kept = store.get_instance(instance_id)
    assert kept is not None and (kept.trace_parent, kept.trace_state) == (TRACEPARENT, TRACESTATE)


@pytest.mark.asyncio
async def test_the_sdk_clients_start_new_carries_the_starters_trace_to_the_activity(tmp_path: Path) -> None:
    # curl -H 'traceparent: ...' .../api/start/traced_flow: the HTTP function gets it as context.trace_context,
    # start_new sends the current context, the instance keeps it, the activity sees the same trace id.
    async with DevHost(APP, port=0, store_path=tmp_path / "store.sqlite3", clock=VirtualClock()) as host:
        body = await post(f"{host.base_url}/api/start/traced_flow", {"traceparent": TRACEPARENT})
        output = await run_to_completion(host, body["id"])

    assert output["activity"]["traceparent"].split("-")[1] == TRACE_ID
    assert output["child"]["traceparent"].split("-")[1] == TRACE_ID


@pytest.mark.asyncio
async def test_a_malformed_traceparent_is_ignored_and_the_start_succeeds(tmp_path: Path) -> None:
    instance_id = uuid.uuid4().hex
    async with DevHost(APP, port=0, store_path=tmp_path / "store.sqlite3", clock=VirtualClock()) as host:
        url = f"{host.base_url}{WEBHOOKS}/orchestrators/traced_flow/{instance_id}"
        await post(url, {"traceparent": "00-not-a-trace-01", "tracestate": TRACESTATE})
        output = await run_to_completion(host, instance_id)

    assert output["activity"] == {"label": "parent", "traceparent": "", "tracestate": ""}


@pytest.mark.asyncio
@pytest.mark.parametrize(("setting", "expected"), [("true", TRACE_ID), (None, None)])
async def test_the_orchestrator_runs_in_the_trace_when_opentelemetry_is_on(
    setting: str | None, expected: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if setting is None:
        monkeypatch.delenv("PYTHON_ENABLE_OPENTELEMETRY", raising=False)
        monkeypatch.delenv("PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY", raising=False)
    else:
        monkeypatch.setenv("PYTHON_ENABLE_OPENTELEMETRY", setting)
    instance_id = uuid.uuid4().hex
    async with DevHost(APP, port=0, store_path=tmp_path / "store.sqlite3", clock=VirtualClock()) as host:
        await post(f"{host.base_url}{WEBHOOKS}/orchestrators/traced_flow/{instance_id}", {"traceparent": TRACEPARENT})
        output = await run_to_completion(host, instance_id)

    assert output["orchestrator"] == expected


@pytest.mark.asyncio
async def test_a_restart_keeps_the_trace_of_the_restart_request(tmp_path: Path) -> None:
    instance_id = uuid.uuid4().hex
    other_parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    async with DevHost(APP, port=0, store_path=tmp_path / "store.sqlite3", clock=VirtualClock()) as host:
        await post(f"{host.base_url}{WEBHOOKS}/orchestrators/traced_flow/{instance_id}", {"traceparent": TRACEPARENT})
        await run_to_completion(host, instance_id)
        body = await post(f"{host.base_url}{WEBHOOKS}/instances/{instance_id}/restart", {"traceparent": other_parent})
        output = await run_to_completion(host, body["id"])

    assert body["id"] != instance_id
    assert output["activity"]["traceparent"] == other_parent
