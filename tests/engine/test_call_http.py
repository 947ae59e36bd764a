"""context.call_http end to end: the built-in HTTP activity runs a real request and reports the response."""

from __future__ import annotations

from tests.engine.conftest import SAFETY_TIMEOUT, WEBHOOKS


def test_call_http_returns_the_durable_http_response_to_the_orchestrator(app):
    # The host's own list endpoint: a plain 200 JSON answer that no app function serves.
    instance_id = app.start("http_get", {"uri": app.base_url + WEBHOOKS + "/instances"})

    status = app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    assert status["runtimeStatus"] == "Completed", status["output"]
    assert status["output"]["statusCode"] == 200
    assert [i["instanceId"] for i in status["output"]["content"]] == [instance_id]
