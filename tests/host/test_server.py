"""DevHost end to end: config + app + store + engine + HTTP surfaces on an ephemeral port."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from devhost.clock import VirtualClock
from devhost.core.errors import StartupError
from devhost.core.model import RuntimeStatus
from devhost.host.server import DevHost, rpc_base_url
from tests.host.conftest import APPS

SAFETY_NET_SECONDS = 30.0


async def request(method: str, url: str) -> tuple[int, dict[str, str], Any]:
    async with aiohttp.ClientSession() as session:
        async with session.request(method, url) as response:
            text = await response.text()
            return response.status, dict(response.headers), json.loads(text) if text else None


async def hello_roundtrip(host: DevHost) -> dict[str, Any]:
    """Start hello_orchestrator through the app's own starter (SDK client → RPC), run it, read its status."""
    status, headers, body = await request("POST", f"{host.base_url}/api/start/hello_orchestrator")
    assert status == 202, body
    assert headers["Location"] == body["statusQueryGetUri"]
    assert body["statusQueryGetUri"].startswith(f"{host.base_url}/runtime/webhooks/durabletask/instances/")
    instance_id = body["id"]

    def completed() -> bool:
        return host.management.get_instance(instance_id).runtime_status is RuntimeStatus.COMPLETED

    await asyncio.wait_for(host.engine.run_until(completed), SAFETY_NET_SECONDS)
    final_status, _, final = await request("GET", body["statusQueryGetUri"])
    assert final_status == 200
    return final


@pytest.mark.asyncio
async def test_host_reports_running_and_runs_an_orchestration_started_over_http() -> None:
    async with DevHost(APPS / "kinds", port=0, in_memory=True, clock=VirtualClock()) as host:
        status_code, _, status = await request("GET", f"{host.base_url}/admin/host/status")
        final = await hello_roundtrip(host)

    assert status_code == 200
    assert status["state"] == "Running" and status["hub"] == "TestHubName"
    assert final["runtimeStatus"] == "Completed"
    assert final["output"] == "Hello Tokyo!"
    assert host.state == "Stopped"


def test_hosts_on_successive_event_loops_can_each_use_the_sdk_client() -> None:
    # The SDK keeps one aiohttp session (and lock) per process; stop() must leave it usable by the next loop.
    outputs = [
        asyncio.run(_one_host_roundtrip())["output"],
        asyncio.run(_one_host_roundtrip())["output"],
    ]

    assert outputs == ["Hello Tokyo!", "Hello Tokyo!"]


async def _one_host_roundtrip() -> dict[str, Any]:
    async with DevHost(APPS / "kinds", port=0, in_memory=True, clock=VirtualClock()) as host:
        return await hello_roundtrip(host)


@pytest.mark.asyncio
async def test_a_busy_port_is_a_one_line_startup_error() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        host = DevHost(APPS / "kinds", port=port, in_memory=True, clock=VirtualClock())

        with pytest.raises(StartupError) as error:
            await host.start()

    assert str(error.value).startswith(f"cannot listen on 127.0.0.1:{port}: ")
    assert host.state == "Stopped"


@pytest.mark.asyncio
async def test_the_store_defaults_to_the_app_directory_and_can_be_placed_elsewhere(tmp_path: Path) -> None:
    default = DevHost(APPS / "kinds")
    elsewhere = DevHost(APPS / "kinds", store_path=tmp_path / "s.sqlite3", port=0, clock=VirtualClock())

    await elsewhere.start()
    await elsewhere.stop()

    assert default.store_path == (APPS / "kinds" / ".devhost" / "store.sqlite3").resolve()
    assert (tmp_path / "s.sqlite3").exists()


def test_the_sdk_rpc_base_url_uses_loopback_for_wildcard_binds() -> None:
    assert rpc_base_url("0.0.0.0", 7071) == "http://127.0.0.1:7071/durabletask/"
    assert rpc_base_url("127.0.0.1", 8000) == "http://127.0.0.1:8000/durabletask/"
    assert rpc_base_url("10.1.2.3", 7071) == "http://10.1.2.3:7071/durabletask/"
