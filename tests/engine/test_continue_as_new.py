"""continue_as_new and custom status end to end."""

from __future__ import annotations

from devhost.core.model import EventType
from tests.engine.conftest import SAFETY_TIMEOUT, WEBHOOKS, run


def test_continue_as_new_counts_to_the_limit(app):
    status = run(app, "counter", {"n": 0, "limit": 5})

    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == 5
    # The new execution's input is the JSON text of continue_as_new's argument (the extension keeps the
    # SDK's serialized action input as a JSON string, like a sub-orchestration's input).
    assert status["input"] == '{"n": 5, "limit": 5}'


def test_continue_as_new_keeps_only_the_last_execution_in_the_history(app):
    instance_id = app.start("counter_with_work", {"n": 0, "limit": 3})
    app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    history = app.status(instance_id, show_history=True, show_history_output=True)["historyEvents"]

    kinds = [e["EventType"] for e in history]
    assert kinds == ["ExecutionStarted", "TaskCompleted", "ExecutionCompleted"]
    assert [e["Result"] for e in history if e["EventType"] == "TaskCompleted"] == ["Hello 3!"]
    assert sum(1 for e in app.history(instance_id) if e["EventType"] == EventType.EXECUTION_STARTED) == 1


def test_custom_status_set_before_continue_as_new_carries_over_to_the_next_execution(app):
    # DTFx keeps the previous execution's custom status when the new execution sets none
    # (TaskOrchestrationDispatcher: ``runtimeState.Status ?? carryOverStatus``).
    status = run(app, "counter", {"n": 0, "limit": 3})

    assert status["output"] == 3
    assert status["customStatus"] == {"n": 2}


def test_custom_status_is_visible_while_the_orchestration_runs(app):
    instance_id = app.start("reporter")
    app.wait_for_status(instance_id, "Running", timeout=SAFETY_TIMEOUT)

    running = app.http.get(f"{WEBHOOKS}/instances/{instance_id}")

    assert running.status == 202
    assert running.json()["customStatus"] == {"stage": "waiting"}


def test_custom_status_keeps_its_last_value_after_completion(app):
    instance_id = app.start("reporter")
    app.wait_for_status(instance_id, "Running", timeout=SAFETY_TIMEOUT)

    app.raise_event(instance_id, "Go", "now")
    status = app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    assert status["customStatus"] == {"stage": "done"}


def test_custom_status_over_16_kb_fails_the_instance(app):
    status = run(app, "chatty")

    assert status["runtimeStatus"] == "Failed"
    assert status["output"].startswith("Orchestrator function 'chatty' failed: ")
    assert "16 KB" in status["output"]
