"""The test kit with the app in language-worker processes (``workers=True``, as ``python -m devhost`` runs it): a
CI-sized check that each helper keeps working across the process boundary. ``DEVHOST_WORKERS=1`` runs the whole
suite this way (docs/devhost.md, "Language-worker processes")."""

from __future__ import annotations

import os
from pathlib import Path

from devhost.testing import durable_app


def test_a_durable_timer_is_skipped_on_the_virtual_clock_and_the_activity_runs_in_a_worker(tiny_app_dir: Path) -> None:
    with durable_app(tiny_app_dir, workers=True) as app:
        status = app.wait_for_completion(app.start("after_an_hour"))
        worker_pids = [worker.pid for worker in app.host.invoker.workers]

    assert status["output"]["greeting"] == "Hello, world!"
    assert status["output"]["finished_at"].startswith(str(status["createdTime"])[:11])  # an hour later, same day
    assert worker_pids and os.getpid() not in worker_pids


def test_a_stub_runs_in_the_tests_process_and_restoring_it_runs_the_real_activity_in_the_worker(
    tiny_app_dir: Path,
) -> None:
    seen: list[int] = []

    def stub(name: str) -> str:
        seen.append(os.getpid())
        return f"stubbed {name}"

    with durable_app(tiny_app_dir, workers=True) as app:
        handle = app.stub_activity("greet", stub)
        first = app.wait_for_completion(app.start("greet_once", {"name": "A"}))["output"]
        handle.restore()
        second = app.wait_for_completion(app.start("greet_once", {"name": "B"}))["output"]

    assert (first, second) == ("stubbed A", "Hello, B!")
    assert seen == [os.getpid()]


def test_an_activity_sleeping_an_hour_of_virtual_time_in_a_worker_hits_the_function_timeout(tiny_app_dir: Path) -> None:
    # time.sleep in the worker sleeps on the host's virtual clock, so the hour passes at once, past the default
    # functionTimeout of 30 minutes: the worker is recycled and the activity fails with the host's message.
    with durable_app(tiny_app_dir, workers=True) as app:
        status = app.wait_for_completion(app.start("napper"))
        replaced = app.host.invoker.replaced

    assert status["runtimeStatus"] == "Failed"
    assert "Timeout value of 00:30:00 exceeded by function 'Functions.nap'" in status["output"]
    assert replaced == 1


def test_an_http_function_in_a_worker_starts_an_orchestration_that_waits_for_a_raised_event(tiny_app_dir: Path) -> None:
    with durable_app(tiny_app_dir, workers=True) as app:
        started = app.http.post("/api/orchestrators/approval", json_body={})
        instance_id = started.json()["id"]
        app.wait_for_status(instance_id, "Running")
        app.raise_event(instance_id, "Approval", True)
        status = app.wait_for_completion(instance_id)

    assert started.status == 202
    assert status["output"] == {"approved": True}
