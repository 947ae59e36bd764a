"""A sub-orchestration whose explicit instance id is already running fails the call, catchably.

The real host: DTFx TaskOrchestrationDispatcher sends the child's ExecutionStarted (line 1292) and the running
instance drops it as a "Duplicate start event" (the ExecutionStarted branch of its message loop), so the parent's
call never completes. devhost fails the task instead (a deliberate deviation: a hang cannot be diagnosed), so the
parent's try/except sees it. An id equal to the parent's own fails the parent, as DurableOrchestrationContext.cs
line 600 throws while the shim replays the actions.
"""

from __future__ import annotations

from tests.engine.conftest import SAFETY_TIMEOUT


def test_the_parent_catches_a_clash_with_a_running_instance(app):
    busy = app.start("wait_event", instance_id="busy-child")
    app.wait_for_status(busy, "Running", timeout=SAFETY_TIMEOUT)

    parent = app.start("parent", {"child": "child_double", "input": 1, "child_id": "busy-child"})
    status = app.wait_for_completion(parent, timeout=SAFETY_TIMEOUT)

    assert status["runtimeStatus"] == "Completed"
    assert status["output"]["error"].startswith(
        "An orchestration instance with ID 'busy-child' is already running. In Azure the sub-orchestration's start is "
        "dropped as a duplicate and this call never completes"
    )
    assert app.status(busy)["runtimeStatus"] == "Running"  # the running instance is untouched
    assert app.status(busy)["name"] == "wait_event"


def test_a_finished_instance_of_that_id_is_replaced_by_the_child(app):
    done = app.start("chain", {"city": "a"}, instance_id="reused-child")
    app.wait_for_completion(done, timeout=SAFETY_TIMEOUT)

    parent = app.start("parent", {"child": "child_double", "input": 4, "child_id": "reused-child"})
    status = app.wait_for_completion(parent, timeout=SAFETY_TIMEOUT)

    assert "ok" in status["output"]
    assert app.status("reused-child")["name"] == "child_double"


def test_a_child_with_the_parents_own_id_fails_the_parent(app):
    parent = app.start("parent", {"child": "child_double", "input": 1, "child_id": "self-parent"}, instance_id="self-parent")

    status = app.wait_for_completion(parent, timeout=SAFETY_TIMEOUT)

    assert status["runtimeStatus"] == "Failed"
    assert status["output"] == (
        "Orchestrator function 'parent' failed: The instance ID of a sub-orchestration must be different than the "
        "instance ID of a parent orchestration."
    )
