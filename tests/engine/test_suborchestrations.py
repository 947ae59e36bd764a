"""Sub-orchestrations end to end: results, failures, explicit child ids and what the status API shows."""

from __future__ import annotations

from tests.engine.conftest import SAFETY_TIMEOUT, WEBHOOKS, run

STATUS_KEYS = {"name", "instanceId", "runtimeStatus", "input", "customStatus", "output", "createdTime", "lastUpdatedTime"}


def test_child_result_reaches_the_parent(app):
    instance_id = app.start("parent", {"child": "child_double", "input": 21})

    status = app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    assert status["output"] == {"ok": {"double": 42, "greeting": "Hello 21!", "parent": instance_id}}


def test_child_failure_surfaces_in_the_parent_as_the_child_orchestrator_failure(app):
    status = run(app, "parent", {"child": "child_fails"})

    assert status["runtimeStatus"] == "Completed"
    assert status["output"]["error"].startswith("Orchestrator function 'child_fails' failed: child broke")


def test_child_with_explicit_id_is_visible_through_the_status_api(app):
    run(app, "parent", {"child": "child_double", "input": 5, "child_id": "my-child"})

    response = app.http.get(f"{WEBHOOKS}/instances/my-child")

    assert response.status == 200
    child = response.json()
    # The extension's StatusResponsePayload has no parent field: the child looks like any instance.
    assert set(child) == STATUS_KEYS
    assert child["name"] == "child_double"
    assert child["instanceId"] == "my-child"
    assert child["runtimeStatus"] == "Completed"
    assert child["output"]["double"] == 10
    # The child's input is the JSON text of the parent's call (as for SDK client starts, §1.12).
    assert child["input"] == "5"


def test_child_with_explicit_id_is_listed_with_the_parent(app):
    parent_id = app.start("parent", {"child": "child_double", "input": 1, "child_id": "listed-child"})
    app.wait_for_completion(parent_id, timeout=SAFETY_TIMEOUT)

    listed = app.http.get(f"{WEBHOOKS}/instances").json()

    assert sorted(i["instanceId"] for i in listed) == sorted([parent_id, "listed-child"])


def test_fan_out_of_sub_orchestrations_gathers_every_child_result_in_order(app):
    status = run(app, "children_fan_out", [1, 2, 3, 4])

    assert status["output"] == [2, 4, 6, 8]
    assert len(app.http.get(f"{WEBHOOKS}/instances").json()) == 5


def test_terminating_a_child_fails_the_call_in_the_parent(app):
    parent_id = app.start("parent", {"child": "wait_event", "child_id": "stuck-child"})
    app.wait_for_status("stuck-child", "Running", timeout=SAFETY_TIMEOUT)

    app.terminate("stuck-child", "operator gave up")
    status = app.wait_for_completion(parent_id, timeout=SAFETY_TIMEOUT)

    assert app.status("stuck-child")["runtimeStatus"] == "Terminated"
    assert "operator gave up" in status["output"]["error"]
