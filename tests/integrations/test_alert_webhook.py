"""Alert routing end to end: the unchanged app on devhost (virtual clock) POSTs to a real receiver on 127.0.0.1."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from devhost.testing import DurableAppHandle

from ..e2e.flows import start_job
from .receiver import running_receiver

README_JOB = "job-uuid-12345"
"""The README's default sample job (the simulation is seeded by job id): it raises high_error_rate only."""


def run_default_monitor(app: DurableAppHandle, job_id: str) -> dict[str, Any]:
    started = start_job(app, {"job_id": job_id})
    status = app.wait_for_completion(started["id"])
    assert status["runtimeStatus"] == "Completed", status
    return dict(status["output"])


def test_the_default_monitor_delivers_its_high_error_rate_alert_once(durable_app, monkeypatch: pytest.MonkeyPatch) -> None:
    with running_receiver() as receiver:
        monkeypatch.setenv("ALERT_WEBHOOK_URL", f"{receiver.url}/hooks/teams")
        app = durable_app()

        output = run_default_monitor(app, README_JOB)

    [delivery] = receiver.requests
    assert (delivery.path, delivery.headers["content-type"]) == ("/hooks/teams", "application/json")
    body = delivery.json()
    assert set(body) == {"text", "job_id", "instance_id", "alert", "check_number", "metrics", "status_url"}
    assert (body["job_id"], body["instance_id"], body["alert"]["name"], body["alert"]["severity"]) == (
        README_JOB,
        README_JOB,
        "high_error_rate",
        "warning",
    )
    assert body["status_url"] == f"{app.base_url}/api/job_status/{README_JOB}"
    assert body["metrics"]["error_rate"] > 5
    text = body["text"]
    assert "high_error_rate" in text and README_JOB in text and body["alert"]["message"] in text
    assert body["status_url"] in text and f"check #{body['check_number']}" in text
    assert output["alerts_raised"] == ["high_error_rate"]
    assert output["alert_deliveries"] == {"delivered": 1, "failed": 0}
    # The status link in the alert works.
    assert app.http.get(body["status_url"]).json()["job_id"] == README_JOB


def test_a_receiver_that_fails_twice_still_gets_the_alert_exactly_once(durable_app, monkeypatch: pytest.MonkeyPatch) -> None:
    with running_receiver(statuses=[500, 500]) as receiver:
        monkeypatch.setenv("ALERT_WEBHOOK_URL", receiver.url)
        app = durable_app()

        output = run_default_monitor(app, README_JOB)

    assert [r.status for r in receiver.requests] == [500, 500, 200]
    assert len({r.body for r in receiver.requests}) == 1  # the same alert, retried
    [accepted] = receiver.accepted()
    assert accepted.json()["alert"]["name"] == "high_error_rate"
    assert output["alert_deliveries"] == {"delivered": 1, "failed": 0}


def test_a_receiver_down_for_good_neither_fails_nor_delays_the_monitor(durable_app, monkeypatch: pytest.MonkeyPatch) -> None:
    with running_receiver(default_status=503) as receiver:
        monkeypatch.setenv("ALERT_WEBHOOK_URL", receiver.url)
        app = durable_app()

        output = run_default_monitor(app, README_JOB)

    assert len(receiver.requests) == 4  # every attempt of the retry policy, then it gives up
    assert output["alert_deliveries"] == {"delivered": 0, "failed": 1}
    # Same checks and duration as without alert routing (README: 4 checks, 15 s).
    assert (output["final_status"], output["checks_performed"], output["monitoring_duration_seconds"]) == ("Completed", 4, 15.0)


def test_an_unreachable_receiver_is_counted_as_a_failed_delivery(durable_app, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("ALERT_WEBHOOK_URL", f"http://127.0.0.1:{port}/hook")
    app = durable_app()

    output = run_default_monitor(app, README_JOB)

    assert output["alert_deliveries"] == {"delivered": 0, "failed": 1}
    assert output["checks_performed"] == 4


def test_without_the_setting_nothing_is_routed_and_the_output_is_unchanged(durable_app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALERT_WEBHOOK_URL", raising=False)
    app = durable_app()

    output = run_default_monitor(app, README_JOB)

    assert "alert_deliveries" not in output
    history = app.status(README_JOB, show_history=True)["historyEvents"]
    assert not [e for e in history if e.get("Name") == "deliver_alert" or e.get("name") == "deliver_alert"]
