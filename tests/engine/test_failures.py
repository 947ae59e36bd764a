"""Failures end to end: orchestrator exceptions, unhandled activity failures, non-determinism."""

from __future__ import annotations

from datetime import timedelta

import azure.durable_functions as df

from devhost.core.model import EventType
from devhost.runtime.registry import OrchestratorFunction
from tests.engine.conftest import SAFETY_TIMEOUT, WEBHOOKS, run


def test_orchestrator_exception_fails_the_instance_with_the_extension_message(app):
    status = run(app, "boom")

    assert status["runtimeStatus"] == "Failed"
    assert status["output"] == "Orchestrator function 'boom' failed: kaput"


def test_failed_instance_status_answers_200_by_default_and_500_when_asked(app):
    instance_id = app.start("boom")
    app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    default = app.http.get(f"{WEBHOOKS}/instances/{instance_id}")
    flagged = app.http.get(f"{WEBHOOKS}/instances/{instance_id}", params={"returnInternalServerErrorOnFailure": "true"})

    assert default.status == 200
    assert flagged.status == 500
    assert flagged.json()["runtimeStatus"] == "Failed"


def test_unhandled_activity_failure_fails_the_instance_with_the_activity_reason(app):
    status = run(app, "unhandled_activity_failure")

    assert status["runtimeStatus"] == "Failed"
    output = status["output"]
    assert output.startswith("Orchestrator function 'unhandled_activity_failure' failed: Activity function 'explode' failed: ")
    assert "activity blew up on x" in output


def _changed_two_steps():
    """``two_steps`` after a code change: its first action is now a different activity."""
    changed = df.DFApp()

    @changed.orchestration_trigger(context_name="context")
    def two_steps(context: df.DurableOrchestrationContext):
        first = yield context.call_activity("shout", "one")
        yield context.create_timer(context.current_utc_datetime + timedelta(hours=1))
        return first

    (function,) = changed.get_functions()
    return OrchestratorFunction("two_steps", function.get_user_function())


def test_changing_the_orchestrator_code_mid_flight_fails_with_non_determinism(app):
    instance_id = app.start("two_steps")
    app.advance(0)  # the first step runs: greet(one) completes and the one-hour timer is armed
    kinds = [e["EventType"] for e in app.history(instance_id)]
    assert EventType.TASK_COMPLETED in kinds and EventType.TIMER_CREATED in kinds

    app.host.registry.orchestrators["two_steps"] = _changed_two_steps()
    status = app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    assert status["runtimeStatus"] == "Failed"
    assert status["output"].startswith("Orchestrator function 'two_steps' failed: Non-deterministic workflow detected")


def test_unchanged_orchestrator_code_replays_to_completion(app):
    instance_id = app.start("two_steps")
    app.advance(0)

    status = app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    assert status["output"] == ["Hello one!", "Hello two!"]
