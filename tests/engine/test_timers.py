"""Durable timers and task_all/task_any, end to end on devhost's virtual clock."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from devhost.core.model import EventType
from tests.engine.conftest import SAFETY_TIMEOUT, at, run


def _fire_times(app, instance_id):
    return [
        datetime.fromisoformat(e["FireAt"].replace("0Z", "+00:00"))
        for e in app.history(instance_id)
        if e["EventType"] == EventType.TIMER_CREATED
    ]


def test_timer_fires_at_fire_at_and_the_orchestrator_resumes_at_that_time(app):
    start = app.now

    status = run(app, "sleeper", {"seconds": 90})

    assert status["output"]["fire_at"] == at(start, seconds=90)
    assert status["output"]["resumed"] == status["output"]["fire_at"]


def test_seven_day_timer_finishes_instantly_in_wall_time(app):
    start = app.now
    wall = time.perf_counter()

    status = run(app, "sleeper", {"seconds": 7 * 86400})

    assert time.perf_counter() - wall < 2
    assert status["output"]["resumed"] == at(start, days=7)
    assert status["lastUpdatedTime"] == (start + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_ten_day_timer_is_split_by_the_sdk_into_azure_storage_intervals(app):
    # host.json has no storageProvider: Azure Storage, so maximumShortTimerDuration 6 days and
    # longRunningTimerIntervalDuration 3 days (protocol doc §1.7). The SDK chains timers: +3d, +6d, then
    # the remaining 4 days (no longer above the 6-day maximum) in one.
    start = app.now
    instance_id = app.start("sleeper", {"seconds": 10 * 86400})

    status = app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    assert status["output"]["resumed"] == at(start, days=10)
    assert _fire_times(app, instance_id) == [start + timedelta(days=d) for d in (3, 6, 10)]


def test_task_all_fans_out_and_returns_results_in_order(app):
    status = run(app, "fan_in_sum", ["a", "b", "c", "d"])

    assert status["output"] == ["Hello a!", "Hello b!", "Hello c!", "Hello d!"]


def test_task_any_returns_the_activity_when_it_beats_the_timer(app):
    start = app.now

    status = run(app, "race", {"activity_seconds": 5, "timer_seconds": 3600})

    assert status["output"] == {"winner": "activity", "at": at(start, seconds=5)}


def test_cancelled_timer_does_not_keep_the_orchestration_waiting(app):
    start = app.now
    instance_id = app.start("race", {"activity_seconds": 5, "timer_seconds": 3600})

    status = app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    # Completed at +5 s, not at +1 h, and the timer never fired.
    assert status["lastUpdatedTime"] == (start + timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert not [e for e in app.history(instance_id) if e["EventType"] == EventType.TIMER_FIRED]
    assert app.host.store.next_visible_at() is None


def test_task_any_returns_the_timer_when_it_beats_the_activity(app):
    start = app.now

    status = run(app, "race", {"activity_seconds": 3600, "timer_seconds": 60})

    assert status["output"] == {"winner": "timer", "at": at(start, seconds=60)}
    app.advance(3600)  # let the slow activity finish so the host stops promptly
