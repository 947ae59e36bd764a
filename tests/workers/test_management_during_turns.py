"""Management calls that land while a worker process decides a turn of the instance.

With workers, the engine decides a round's turns off the host's loop, so HTTP handlers run meanwhile
(devhost/runtime/engine.py ``_dispatch``). Terminate, raise event, suspend, resume and rewind are messages
(devhost/service/management.py ``_send``): a turn commits only the message ids it loaded, so a message sent while
it was decided stays queued and the next turn handles it. Their checks (active? suspended? failed?) read the stored
instance, which the turn in progress has not changed yet. Each test holds the ``gated`` orchestrator's first turn
in the worker on a loopback socket, acts, then lets it go (no sleeps: the socket's timeout is only a safety net).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from devhost.http.paths import WEBHOOK_BASE_PATH
from devhost.testing.inprocess import DurableAppHandle

APP_DIR = Path(__file__).parent / "app"
SAFETY = 30.0  # real seconds: a safety net, never a sleep


@pytest.fixture
def app(durable_app: Any) -> DurableAppHandle:
    handle: DurableAppHandle = durable_app(APP_DIR, workers=True)
    return handle


@contextmanager
def turn_held_in_the_worker(app: DurableAppHandle, *, fail: bool = False) -> Iterator[str]:
    """Start ``gated`` and yield its id while its first turn waits in the worker; release it on exit."""
    with socket.create_server(("127.0.0.1", 0)) as gate:
        gate.settimeout(SAFETY)
        instance_id = app.start("gated", {"port": gate.getsockname()[1], "fail": fail})
        held, _ = gate.accept()  # the orchestrator is running its first episode, in the worker
        with held:
            yield instance_id
            held.sendall(b"!")


def post(app: DurableAppHandle, instance_id: str, operation: str) -> int:
    response = app.http.post(f"{WEBHOOK_BASE_PATH}/instances/{instance_id}/{operation}", params={"reason": "test"})
    return response.status


def test_a_terminate_sent_while_the_turn_is_decided_terminates_the_instance_after_it(app: DurableAppHandle) -> None:
    with turn_held_in_the_worker(app) as instance_id:
        app.terminate(instance_id, "while deciding")
        during = app.status(instance_id)["runtimeStatus"]

    status = app.wait_for_completion(instance_id, timeout=SAFETY)

    assert during == "Pending"  # the held turn has not committed
    assert (status["runtimeStatus"], status["output"]) == ("Terminated", "while deciding")


def test_an_event_raised_while_the_turn_is_decided_is_delivered_after_it(app: DurableAppHandle) -> None:
    with turn_held_in_the_worker(app) as instance_id:
        app.raise_event(instance_id, "go", {"value": 42})

    status = app.wait_for_completion(instance_id, timeout=SAFETY)

    assert (status["runtimeStatus"], status["output"]) == ("Completed", {"value": 42})


def test_a_suspend_sent_while_the_turn_is_decided_suspends_the_instance_after_it_and_resume_continues_it(
    app: DurableAppHandle,
) -> None:
    with turn_held_in_the_worker(app) as instance_id:
        suspended = post(app, instance_id, "suspend")
        app.raise_event(instance_id, "go", "after resume")

    status = app.wait_for_status(instance_id, "Suspended", timeout=SAFETY)
    resumed = post(app, instance_id, "resume")
    final = app.wait_for_completion(instance_id, timeout=SAFETY)

    assert (suspended, resumed) == (202, 202)
    assert status["runtimeStatus"] == "Suspended"
    assert (final["runtimeStatus"], final["output"]) == ("Completed", "after resume")


def test_a_resume_sent_while_the_turn_is_decided_is_refused_by_the_stored_state_and_changes_nothing(
    app: DurableAppHandle,
) -> None:
    with turn_held_in_the_worker(app) as instance_id:
        resumed = post(app, instance_id, "resume")  # the stored instance is Pending, not Suspended

    app.wait_for_status(instance_id, "Running", timeout=SAFETY)
    app.raise_event(instance_id, "go", "untouched")
    final = app.wait_for_completion(instance_id, timeout=SAFETY)

    assert resumed == 409
    assert (final["runtimeStatus"], final["output"]) == ("Completed", "untouched")


def test_a_rewind_sent_while_a_failing_turn_is_decided_is_refused_by_the_stored_state_and_the_failure_commits(
    app: DurableAppHandle,
) -> None:
    with turn_held_in_the_worker(app, fail=True) as instance_id:
        during = post(app, instance_id, "rewind")  # not Failed yet: the failing turn has not committed

    failed = app.wait_for_completion(instance_id, timeout=SAFETY)

    assert during == 400
    assert failed["runtimeStatus"] == "Failed"
    assert "failed as asked" in str(failed["output"])
