"""The alert webhook payload and the status link it carries (pure parts of job_monitor.alert_routing)."""

from __future__ import annotations

import pytest

from job_monitor import alert_routing, names
from job_monitor.alerts import Alert


@pytest.mark.parametrize(
    ("request_url", "expected"),
    [
        ("http://localhost:7071/api/start_monitoring_job", "http://localhost:7071/api/job_status/job-1"),
        (
            "https://func-x.azurewebsites.net/api/start_monitoring_job?code=secret",
            "https://func-x.azurewebsites.net/api/job_status/job-1",
        ),
        ("http://127.0.0.1:7071/start_monitoring_job/", "http://127.0.0.1:7071/job_status/job-1"),  # empty route prefix
    ],
)
def test_the_status_link_is_the_apps_job_status_route_without_the_query(request_url: str, expected: str) -> None:
    assert alert_routing.status_url(request_url, names.START_MONITORING_JOB_ROUTE, names.JOB_STATUS_ROUTE, "job-1") == expected


def test_the_job_id_is_escaped_in_the_status_link() -> None:
    url = alert_routing.status_url(
        "http://h/api/start_monitoring_job", names.START_MONITORING_JOB_ROUTE, names.JOB_STATUS_ROUTE, "a:b"
    )

    assert url == "http://h/api/job_status/a%3Ab"


def test_the_payload_has_exactly_the_documented_fields_and_an_actionable_text() -> None:
    routing = alert_routing.AlertRouting("http://h/api/job_status/job-9")
    alert = Alert("low_success_rate", "critical", "success rate 80.0% is below 90%")

    body = alert_routing.payload(
        routing, job_id="job-9", instance_id="job-9", alert=alert, check_number=4, metrics={"error_rate": 20.0}
    )

    assert body == {
        "text": "[CRITICAL] low_success_rate on job job-9 (check #4): success rate 80.0% is below 90%. "
        "Status: http://h/api/job_status/job-9",
        "job_id": "job-9",
        "instance_id": "job-9",
        "alert": {"name": "low_success_rate", "severity": "critical", "message": "success rate 80.0% is below 90%"},
        "check_number": 4,
        "metrics": {"error_rate": 20.0},
        "status_url": "http://h/api/job_status/job-9",
    }


@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_missing_or_blank_setting_switches_routing_off(value: object) -> None:
    environ = {} if value is None else {"ALERT_WEBHOOK_URL": value}

    assert alert_routing.webhook_url(environ) is None  # type: ignore[arg-type]


def test_a_delivery_without_the_setting_is_skipped_not_retried(activities, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALERT_WEBHOOK_URL", raising=False)
    body = alert_routing.payload(
        alert_routing.AlertRouting("http://h/s"),
        job_id="j",
        instance_id="j",
        alert=Alert("slow_progress", "warning", "m"),
        check_number=1,
        metrics={},
    )

    assert activities["deliver_alert"].fn(alert=body) == {"delivered": False, "reason": "ALERT_WEBHOOK_URL is not set"}
