"""A devhost whose host.json points notifications.eventGrid at a real local receiver: which events arrive, in
the extension's schema and with the ``aeg-sas-key`` header, once each; retries on the host's (virtual) clock."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from devhost.clock import VirtualClock
from devhost.core.model import Notification, RuntimeStatus, TurnCommit
from devhost.host.server import DevHost
from devhost.runtime.config import EventGridSettings
from devhost.runtime.notifications import Notifier
from devhost.store.sqlite import SqliteStore
from tests.notifications.receiver import SAFETY_NET_SECONDS, Receiver
from tests.store_contract import make_instance, start_message, with_status

APP = Path(__file__).resolve().parents[1] / "apps" / "notify_app"
KEY = "local-topic-key"
WEBHOOKS = "/runtime/webhooks/durabletask"
EVENT_KEYS = ["id", "topic", "subject", "data", "eventType", "eventTime", "metadataVersion", "dataVersion"]


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    started = await Receiver().start()
    yield started
    await started.stop()


def host_for(receiver: Receiver, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, clock: VirtualClock | None = None) -> DevHost:
    monkeypatch.setenv("EVENT_GRID_TOPIC", receiver.url)
    monkeypatch.setenv("EVENT_GRID_KEY", KEY)
    return DevHost(APP, port=0, store_path=tmp_path / "store.sqlite3", clock=clock or VirtualClock())


async def start(host: DevHost, name: str, headers: dict[str, str] | None = None) -> str:
    instance_id = uuid.uuid4().hex
    async with aiohttp.ClientSession() as session:
        url = f"{host.base_url}{WEBHOOKS}/orchestrators/{name}/{instance_id}"
        async with session.post(url, headers=headers or {}) as response:
            assert response.status == 202, await response.text()
    return instance_id


async def run_until_status(host: DevHost, instance_id: str, status: RuntimeStatus) -> None:
    await asyncio.wait_for(
        host.engine.run_until(lambda: host.management.get_instance(instance_id).runtime_status is status), SAFETY_NET_SECONDS
    )


def events_of(receiver: Receiver, instance_id: str) -> list[dict[str, Any]]:
    return [e for e in receiver.accepted() if e["data"]["instanceId"] == instance_id]


@pytest.mark.asyncio
async def test_a_completed_orchestration_sends_running_then_completed_once_each_in_the_extensions_schema(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with host_for(receiver, monkeypatch, tmp_path) as host:
        instance_id = await start(host, "child_flow")
        await run_until_status(host, instance_id, RuntimeStatus.COMPLETED)
        deliveries = await receiver.wait_for(2)

    events = events_of(receiver, instance_id)
    assert [e["subject"] for e in events] == ["durable/orchestrator/Running", "durable/orchestrator/Completed"]
    running, completed = events
    assert list(completed) == EVENT_KEYS
    assert completed["data"] == {
        "hubName": "NotifyHub",
        "functionName": "child_flow",
        "instanceId": instance_id,
        "reason": "",
        "runtimeStatus": "Completed",
    }
    assert completed["eventType"] == "orchestratorEvent" and completed["dataVersion"] == "1.0"
    assert completed["topic"] is None and completed["metadataVersion"] is None
    assert completed["eventTime"].endswith("Z") and len(completed["eventTime"]) == len("2030-01-01T00:00:00.0000000Z")
    assert running["id"] != completed["id"]
    assert all(d.headers["aeg-sas-key"] == KEY for d in deliveries)
    assert all(d.headers["Content-Type"].startswith("application/json") for d in deliveries)
    assert len(receiver.deliveries) == 2


@pytest.mark.asyncio
async def test_a_failed_orchestration_sends_failed_with_the_failure_as_reason(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with host_for(receiver, monkeypatch, tmp_path) as host:
        instance_id = await start(host, "failing_flow")
        await run_until_status(host, instance_id, RuntimeStatus.FAILED)
        await receiver.wait_for(2)

    running, failed = events_of(receiver, instance_id)
    assert running["subject"] == "durable/orchestrator/Running"
    assert failed["subject"] == "durable/orchestrator/Failed"
    assert failed["data"]["runtimeStatus"] == "Failed"
    assert "boom" in failed["data"]["reason"]


@pytest.mark.asyncio
async def test_a_terminated_orchestration_sends_terminated_with_its_reason(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with host_for(receiver, monkeypatch, tmp_path) as host:
        instance_id = await start(host, "waiting_flow")
        await run_until_status(host, instance_id, RuntimeStatus.RUNNING)
        host.management.terminate(instance_id, "no longer needed")
        await run_until_status(host, instance_id, RuntimeStatus.TERMINATED)
        await receiver.wait_for(2)

    assert [(e["subject"], e["data"]["reason"]) for e in events_of(receiver, instance_id)] == [
        ("durable/orchestrator/Running", ""),
        ("durable/orchestrator/Terminated", "no longer needed"),
    ]


@pytest.mark.asyncio
async def test_replayed_episodes_send_nothing_more(receiver: Receiver, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # traced_flow replays its history three times (activity, sub-orchestration, completion): still one Running.
    async with host_for(receiver, monkeypatch, tmp_path) as host:
        instance_id = await start(host, "traced_flow")
        await run_until_status(host, instance_id, RuntimeStatus.COMPLETED)
        await receiver.wait_for(4)  # its two and its child's two

    assert [e["subject"] for e in events_of(receiver, instance_id)] == [
        "durable/orchestrator/Running",
        "durable/orchestrator/Completed",
    ]
    assert host.engine.turns >= 4


@pytest.mark.asyncio
async def test_a_listed_failing_status_is_retried_after_the_interval_on_the_hosts_clock(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    receiver = await Receiver(statuses=(500, 500)).start()  # host.json: publishRetryHttpStatus [500], every 30 s
    clock = VirtualClock()
    try:
        async with host_for(receiver, monkeypatch, tmp_path, clock) as host:
            instance_id = await start(host, "waiting_flow")
            await receiver.wait_for(1)
            first_at = clock.now()
            clock.advance(30)
            await receiver.wait_for(2)
            clock.advance(30)
            deliveries = await receiver.wait_for(3)
    finally:
        await receiver.stop()

    assert [d.status for d in deliveries] == [500, 500, 200]
    assert len({d.event["id"] for d in deliveries}) == 1  # the same event, sent again
    assert [e["subject"] for e in events_of(receiver, instance_id)] == ["durable/orchestrator/Running"]
    assert clock.now() - first_at == timedelta(seconds=60)


@pytest.mark.asyncio
async def test_a_failing_status_not_listed_is_not_retried(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    receiver = await Receiver(statuses=(400,)).start()
    try:
        async with host_for(receiver, monkeypatch, tmp_path) as host:
            instance_id = await start(host, "waiting_flow")
            await receiver.wait_for(1)
            await run_until_status(host, instance_id, RuntimeStatus.RUNNING)
            assert host.notifier is not None
            await asyncio.wait_for(_until(lambda: host.notifier is not None and host.notifier.given_up == 1), SAFETY_NET_SECONDS)
            outbox_after = host._store.next_notification_at() if host._store is not None else "closed"  # noqa: SLF001
    finally:
        await receiver.stop()

    assert [d.status for d in receiver.deliveries] == [400]
    assert outbox_after is None


async def _until(condition: Any) -> None:
    while not condition():
        await asyncio.sleep(0)  # yield to the host's tasks on this loop; no time passes


@pytest.mark.asyncio
async def test_publish_event_types_limits_what_is_sent(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "function_app.py").write_text((APP / "function_app.py").read_text())
    config = json.loads((APP / "host.json").read_text())
    config["extensions"]["durableTask"]["notifications"]["eventGrid"]["publishEventTypes"] = ["Completed"]
    (app_dir / "host.json").write_text(json.dumps(config))
    monkeypatch.setenv("EVENT_GRID_TOPIC", receiver.url)
    monkeypatch.setenv("EVENT_GRID_KEY", KEY)

    async with DevHost(app_dir, port=0, store_path=tmp_path / "s.sqlite3", clock=VirtualClock()) as host:
        instance_id = await start(host, "child_flow")
        await run_until_status(host, instance_id, RuntimeStatus.COMPLETED)
        await receiver.wait_for(1)

    assert [e["subject"] for e in events_of(receiver, instance_id)] == ["durable/orchestrator/Completed"]


class FlakyOutbox(SqliteStore):
    """A real SQLite store whose first outbox read fails, as a full disk or an I/O error would."""

    failures = 1

    def due_notifications(self, now: datetime, limit: int) -> list[Notification]:
        if self.failures:
            self.failures -= 1
            raise sqlite3.OperationalError("disk I/O error")
        return super().due_notifications(now, limit)


@pytest.mark.asyncio
async def test_a_store_error_while_sending_is_logged_and_retried_after_the_interval(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = FlakyOutbox(tmp_path / "store.sqlite3")
    settings = EventGridSettings(receiver.url, "KEY", KEY, frozenset({"Running"}), retry_interval=timedelta(seconds=30))
    clock = VirtualClock()
    store.create_instance(make_instance(), start_message())
    store.commit_turn(TurnCommit(with_status(make_instance(), RuntimeStatus.RUNNING), notifications=[
        Notification("i1", json.dumps([{"subject": "durable/orchestrator/Running"}]), clock.now())
    ]))  # fmt: skip
    notifier = Notifier(store, clock, settings, "Hub")
    try:
        await notifier.start()
        await _until(lambda: store.failures == 0 and clock.next_deadline() is not None)
        clock.advance(30)
        deliveries = await receiver.wait_for(1)
    finally:
        await notifier.stop()
        store.close()

    assert [d.event["subject"] for d in deliveries] == ["durable/orchestrator/Running"]
    assert "disk I/O error" in caplog.text


@pytest.mark.asyncio
async def test_an_in_memory_host_sends_the_same_events(receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENT_GRID_TOPIC", receiver.url)
    monkeypatch.setenv("EVENT_GRID_KEY", KEY)
    async with DevHost(APP, port=0, in_memory=True, clock=VirtualClock()) as host:
        instance_id = await start(host, "failing_flow")
        await run_until_status(host, instance_id, RuntimeStatus.FAILED)
        await receiver.wait_for(2)

    assert [e["subject"] for e in events_of(receiver, instance_id)] == [
        "durable/orchestrator/Running",
        "durable/orchestrator/Failed",
    ]
