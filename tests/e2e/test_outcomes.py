"""How monitors end: completed, failed, timed out (30 s and 7 days), either wait strategy, a stubbed job service."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest

from devhost.core.model import EventType

from .flows import start_job

WEEK = 604_800
WEEK_INTERVAL = 14_400
"""4 h: 42 checks in two generations. Every check replays the generation's history through the SDK (a few
ms each), so a 60-second interval (10 080 checks, 404 generations) takes minutes, not milliseconds."""


def test_stalled_job_times_out_after_six_checks_and_thirty_seconds(durable_app) -> None:
    app = durable_app()
    started = start_job(app, {"simulated_outcome": "stalled"})
    wall = time.perf_counter()

    status = app.wait_for_completion(started["id"])

    elapsed = time.perf_counter() - wall
    output = status["output"]
    assert status["runtimeStatus"] == "Completed"
    assert (output["final_status"], output["checks_performed"], output["monitoring_duration_seconds"]) == (
        "Timeout",
        6,
        30.0,
    )
    assert status["customStatus"]["final_status"] == "Timeout"
    assert elapsed < 5, f"30 s of virtual time took {elapsed:.2f} s of wall time"


def test_failed_job_ends_with_final_status_failed(durable_app) -> None:
    app = durable_app()
    started = start_job(app, {"simulated_outcome": "failed"})

    status = app.wait_for_completion(started["id"])

    assert status["runtimeStatus"] == "Completed"  # the monitor succeeded in observing a failed job
    assert status["output"]["final_status"] == "Failed"
    assert status["output"]["last_job_status"]["status"] == "Failed"


@pytest.mark.parametrize("outcome", ["completed", "stalled"])
def test_activity_and_timer_wait_strategies_give_identical_outcomes(durable_app, outcome: str) -> None:
    body = {"job_id": "same-job", "simulated_outcome": outcome}
    outputs: dict[str, Any] = {}
    for strategy in ("activity", "timer"):
        app = durable_app()  # one host each, both starting at the same virtual instant
        started = start_job(app, {**body, "wait_strategy": strategy})
        outputs[strategy] = app.wait_for_completion(started["id"])["output"]

    assert outputs["activity"] == outputs["timer"]
    assert outputs["timer"]["final_status"] == ("Completed" if outcome == "completed" else "Timeout")


def test_timer_strategy_waits_with_durable_timers_not_activities(durable_app) -> None:
    app = durable_app()
    started = start_job(app, {"wait_strategy": "timer"})

    app.wait_for_completion(started["id"])

    kinds = [event["EventType"] for event in app.history(started["id"])]
    scheduled = [e["Name"] for e in app.history(started["id"]) if e["EventType"] == EventType.TASK_SCHEDULED]
    assert kinds.count(EventType.TIMER_FIRED) == 3
    assert set(scheduled) == {"check_job_status"}


def test_seven_day_monitor_continues_as_new_and_times_out_after_a_week(durable_app) -> None:
    app = durable_app()
    if app.remote:
        pytest.skip("a week of real time")
    started = start_job(
        app,
        {
            "simulated_outcome": "stalled",
            "timeout_seconds": WEEK,
            "polling_interval_seconds": WEEK_INTERVAL,
            "wait_strategy": "timer",
        },
    )
    wall = time.perf_counter()

    status = app.wait_for_completion(started["id"], timeout=120)

    elapsed = time.perf_counter() - wall
    output = status["output"]
    assert (output["final_status"], output["checks_performed"], output["monitoring_duration_seconds"]) == (
        "Timeout",
        WEEK // WEEK_INTERVAL,
        float(WEEK),
    )
    assert output["generations"] >= 2  # it went through continue_as_new
    started_event = next(e for e in app.history(started["id"]) if e["EventType"] == EventType.EXECUTION_STARTED)
    assert '"carry"' in started_event["Input"]  # the current execution was started by continue_as_new
    assert (app.now - _parse(status["createdTime"])).total_seconds() >= WEEK
    assert elapsed < 5, f"a week of virtual time took {elapsed:.2f} s of wall time"


def test_stubbed_job_service_completes_the_monitor_on_the_second_check(durable_app) -> None:
    app = durable_app()
    answers = iter(["Running", "Completed"])

    def fake_job_service(job: dict[str, Any]) -> dict[str, Any]:
        state = next(answers)
        return {
            "job_id": job["job_id"],
            "status": state,
            "progress_percent": 100 if state == "Completed" else 40,
            "items_total": 10,
            "items_processed": 10 if state == "Completed" else 4,
            "items_failed": 0,
            "check_number": job["check_number"],
            "last_check_time": "2030-01-01T00:00:00.000Z",
        }

    stub = app.stub_activity("check_job_status", fake_job_service)
    started = start_job(app, {"simulated_outcome": "stalled"})  # the real service would never complete it

    status = app.wait_for_completion(started["id"])

    output = status["output"]
    assert (output["final_status"], output["checks_performed"]) == ("Completed", 2)
    assert output["monitoring_duration_seconds"] == 5.0
    assert [call["check_number"] for call in stub.calls] == [1, 2]
    assert output["last_job_status"]["items_total"] == 10


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
