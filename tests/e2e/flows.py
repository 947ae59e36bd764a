"""What a curl user of the original README does, as helpers over a :class:`DurableAppHandle`."""

from __future__ import annotations

from typing import Any

from devhost.testing import DurableAppHandle, HttpResponse

START = "/api/start_monitoring_job"
JOB_STATUS = "/api/job_status/{}"
MANAGEMENT_LINKS = ("id", "statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri")
CUSTOM_STATUS_KEYS = {"job_id", "status", "check_count", "last_check_time"}
OUTPUT_KEYS = {"job_id", "final_status", "checks_performed", "monitoring_duration_seconds"}


def start_job(app: DurableAppHandle, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """``curl -X POST .../api/start_monitoring_job -H 'Content-Type: application/json' [-d body]``; the 202 body."""
    if body is None:
        response = app.http.post(START, headers={"Content-Type": "application/json"})
    else:
        response = app.http.post(START, json_body=body)
    assert response.status == 202, response.text
    return dict(response.json())


def poll_until_done(app: DurableAppHandle, status_uri: str, *, max_polls: int = 100) -> tuple[HttpResponse, list[HttpResponse]]:
    """GET ``status_uri`` as a client would: while it answers 202, wait Retry-After seconds and ask again.

    Returns the final (non-202) response and every 202 seen on the way.
    """
    running: list[HttpResponse] = []
    for _ in range(max_polls):
        response = app.http.get(status_uri)
        if response.status != 202:
            return response, running
        running.append(response)
        app.advance(float(response.header("Retry-After") or 1))
    raise AssertionError(f"{status_uri} still answered 202 after {max_polls} polls")
