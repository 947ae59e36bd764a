"""External events end to end: delivery, buffering, the SDK client's double encoding, and the API codes."""

from __future__ import annotations

from tests.engine.conftest import SAFETY_TIMEOUT, WEBHOOKS, at


def _waiting(app, orchestrator="wait_event"):
    instance_id = app.start(orchestrator)
    app.wait_for_status(instance_id, "Running", timeout=SAFETY_TIMEOUT)
    return instance_id


def test_event_raised_after_the_wait_resumes_the_orchestrator(app):
    instance_id = _waiting(app)
    app.advance(30)
    raised_at = app.now

    app.raise_event(instance_id, "Approval", {"by": "ann"})
    status = app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    assert status["output"] == {"value": {"by": "ann"}, "type": "dict", "at": raised_at.isoformat()}


def test_waiting_instance_stays_running_until_the_event_arrives(app):
    instance_id = _waiting(app)

    app.advance(86400)

    assert app.status(instance_id)["runtimeStatus"] == "Running"


def test_event_raised_before_the_wait_is_buffered_until_the_orchestrator_asks(app):
    start = app.now
    instance_id = _waiting(app, "timer_then_event")

    app.raise_event(instance_id, "Approval", "early")  # while the one-hour timer is still pending
    status = app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    # The wait is satisfied right away when the timer fires at +1 h.
    assert status["output"] == {"value": "early", "at": at(start, hours=1)}


def test_event_raised_through_the_sdk_client_reaches_the_orchestrator_as_json_text(app):
    # Protocol doc §1.12 / SDK issue #295: raise_event double-encodes its data, the extension keeps the
    # JSON string, so the orchestrator receives the str '{"ok": true}', not a dict.
    instance_id = _waiting(app)

    response = app.http.post(f"/api/raise/{instance_id}/Approval", json_body={"ok": True})
    status = app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    assert response.status == 202, response.text
    assert status["output"]["value"] == '{"ok": true}'
    assert status["output"]["type"] == "str"


def test_event_posted_to_the_webhook_with_a_json_body_reaches_the_orchestrator_as_a_dict(app):
    instance_id = _waiting(app)

    response = app.http.post(f"{WEBHOOKS}/instances/{instance_id}/raiseEvent/Approval", json_body={"ok": True})
    status = app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    assert response.status == 202
    assert status["output"]["value"] == {"ok": True}
    assert status["output"]["type"] == "dict"


def test_event_for_another_name_does_not_satisfy_the_wait(app):
    instance_id = _waiting(app)

    app.raise_event(instance_id, "Rejection", "no")
    app.advance(60)

    assert app.status(instance_id)["runtimeStatus"] == "Running"


def test_raising_an_event_to_a_completed_instance_answers_410(app):
    instance_id = _waiting(app)
    app.raise_event(instance_id, "Approval", 1)
    app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    response = app.http.post(f"{WEBHOOKS}/instances/{instance_id}/raiseEvent/Approval", json_body=2)

    assert response.status == 410


def test_raising_an_event_to_an_unknown_instance_answers_404(app):
    response = app.http.post(f"{WEBHOOKS}/instances/no-such-instance/raiseEvent/Approval", json_body=1)

    assert response.status == 404


def test_approval_event_beats_the_deadline_timer_and_the_timer_is_cancelled(app):
    start = app.now
    instance_id = app.start("approval", {"hours": 24})
    app.wait_for_status(instance_id, "Running", timeout=SAFETY_TIMEOUT)
    app.advance(3600)

    app.raise_event(instance_id, "Approval", {"by": "ann"})
    status = app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    assert status["output"] == {"approved": {"by": "ann"}, "at": at(start, hours=1)}
    assert app.host.store.next_visible_at() is None  # the 24-hour timer is gone


def test_approval_deadline_fires_when_no_event_arrives(app):
    start = app.now

    status = app.wait_for_completion(app.start("approval", {"hours": 24}), timeout=SAFETY_TIMEOUT)

    assert status["output"] == {"approved": None, "at": at(start, hours=24)}
