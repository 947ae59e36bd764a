"""Retries end to end: call_activity_with_retry and call_sub_orchestrator_with_retry on virtual time."""

from __future__ import annotations

from devhost.core.model import EventType
from tests.engine.conftest import at, run


def test_activity_retry_succeeds_on_the_third_attempt_after_two_retry_intervals(app):
    start = app.now

    status = run(app, "retry_activity", {"key": "k", "fail_times": 2, "attempts": 3, "interval_ms": 5000})

    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == {"ok": {"attempt": 3}, "at": at(start, seconds=10)}


def test_activity_retry_history_has_one_scheduled_task_per_attempt_and_a_timer_between(app):
    instance_id = app.start("retry_activity", {"key": "k", "fail_times": 2, "attempts": 3, "interval_ms": 5000})
    app.wait_for_completion(instance_id)

    kinds = [e["EventType"] for e in app.history(instance_id)]

    assert kinds.count(EventType.TASK_SCHEDULED) == 3
    assert kinds.count(EventType.TASK_FAILED) == 2
    assert kinds.count(EventType.TIMER_CREATED) == kinds.count(EventType.TIMER_FIRED) == 2


def test_exhausted_activity_retries_raise_the_last_failure_into_the_orchestrator(app):
    start = app.now

    status = run(app, "retry_activity", {"key": "k", "fail_times": 5, "attempts": 2, "interval_ms": 1000})

    assert status["runtimeStatus"] == "Completed"
    error = status["output"]["error"]
    assert error.startswith("Activity function 'flaky' failed: ")
    assert "attempt 2 failed" in error
    # The SDK waits out one more retry interval after the last attempt before raising (protocol doc §1.11).
    assert status["output"]["at"] == at(start, seconds=2)


def test_sub_orchestration_retry_succeeds_once_the_child_stops_failing(app):
    start = app.now

    status = run(app, "retry_child", {"key": "c", "fail_times": 2, "attempts": 3, "interval_ms": 1000})

    assert status["runtimeStatus"] == "Completed", status["output"]
    assert status["output"] == {"ok": {"attempt": 3}, "at": at(start, seconds=2)}


def test_exhausted_sub_orchestration_retries_raise_the_child_failure(app):
    status = run(app, "retry_child", {"key": "c", "fail_times": 9, "attempts": 2, "interval_ms": 1000})

    assert status["output"]["error"].startswith("Orchestrator function 'flaky_child' failed: child attempt 2 failed")


def test_retried_calls_in_a_fan_out_each_retry_on_their_own_and_the_orchestration_continues(app):
    start = app.now

    status = run(app, "retry_fan_out", {"fail_times": {"a": 0, "b": 1, "c": 2}, "attempts": 3, "interval_ms": 1000})

    assert status["runtimeStatus"] == "Completed", status["output"]
    assert status["output"] == {
        "results": [{"attempt": 1}, {"attempt": 2}, {"attempt": 3}],
        "last": "Hello after!",
        "at": at(start, seconds=2),
    }
