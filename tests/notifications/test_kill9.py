"""An acknowledged transition's notification survives ``kill -9``: the host commits it to the outbox with the
state change, so a host killed before the receiver answered sends it after restart, and the receiver accepts
each event once. Real processes on the real clock (like tests/crash); nothing sleeps for a fixed time."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from devhost.store.sqlite import SqliteStore
from tests.crash.hostproc import copy_store, http, wait_for
from tests.notifications.receiver import ThreadedReceiver

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "tests" / "apps" / "notify_app"
WEBHOOKS = "/runtime/webhooks/durabletask"
KEY = "kill9-key"
DEADLINE_SECONDS = 30.0
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=timezone.utc)
_BANNER_URL = re.compile(r"^Durable HTTP API: http://127\.0\.0\.1:(\d+)/", re.MULTILINE)


class Host:
    def __init__(self, workdir: Path, store: Path, topic: str, generation: str) -> None:
        self.out = workdir / f"host-{generation}.out"
        env = {**os.environ, "PYTHONPATH": str(REPO), "EVENT_GRID_TOPIC": topic, "EVENT_GRID_KEY": KEY}
        command = [sys.executable, "-m", "devhost", "--app-dir", str(APP), "--port", "0", "--store", str(store)]
        with open(self.out, "wb") as out:
            self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        found = wait_for(lambda: self._banner(), timeout=DEADLINE_SECONDS, what="the banner")
        self.base_url = f"http://127.0.0.1:{found}"

    def _banner(self) -> int | None:
        if self.process.poll() is not None:
            raise AssertionError(f"devhost exited: {self.out.read_text(errors='replace')[-3000:]}")
        match = _BANNER_URL.search(self.out.read_text(errors="replace"))
        return int(match.group(1)) if match else None

    def status(self, instance_id: str) -> str:
        response = http("GET", f"{self.base_url}{WEBHOOKS}/instances/{instance_id}")
        return str(response.json()["runtimeStatus"]) if response.status == 200 else ""

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=DEADLINE_SECONDS)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=DEADLINE_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=DEADLINE_SECONDS)


@pytest.fixture
def receiver() -> Iterator[ThreadedReceiver]:
    started = ThreadedReceiver(hold=True)
    yield started
    started.close()


def test_notifications_owed_at_a_kill_9_are_delivered_once_after_restart(receiver: ThreadedReceiver, tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite3"
    instance_id = uuid.uuid4().hex
    hosts: list[Host] = []
    try:
        first = Host(tmp_path, store, receiver.url, "1")
        hosts.append(first)
        response = http("POST", f"{first.base_url}{WEBHOOKS}/orchestrators/child_flow/{instance_id}")
        assert response.status == 202, response.text
        wait_for(lambda: first.status(instance_id) == "Completed", timeout=DEADLINE_SECONDS, what="Completed")
        held = receiver.wait_for(1)[0]  # the Running event was posted and is held unanswered
        first.kill()

        with SqliteStore(copy_store(store, tmp_path / "at-kill")) as dead:  # the store as the killed host left it
            owed = dead.due_notifications(FAR_FUTURE, 10)
        receiver.release()
        second = Host(tmp_path, store, receiver.url, "2")
        hosts.append(second)
        receiver.wait_for(3)  # the held one, then both again
        wait_for(lambda: len(accepted(receiver, instance_id)) >= 2, timeout=DEADLINE_SECONDS, what="both events accepted")
        second.close()
    finally:
        for host in hosts:
            host.close()

    assert [(n.instance_id, json.loads(n.body)[0]["subject"]) for n in owed] == [
        (instance_id, "durable/orchestrator/Running"),
        (instance_id, "durable/orchestrator/Completed"),
    ]
    events = accepted(receiver, instance_id)
    assert [e["subject"] for e in events] == ["durable/orchestrator/Running", "durable/orchestrator/Completed"]
    assert events[0]["id"] == held.event["id"]  # the same event, not a new one
    with SqliteStore(store) as after:
        assert after.next_notification_at() is None  # nothing left owed


def accepted(receiver: ThreadedReceiver, instance_id: str) -> list[dict[str, object]]:
    return [e for e in receiver.receiver.accepted() if e["data"]["instanceId"] == instance_id]  # type: ignore[index]
