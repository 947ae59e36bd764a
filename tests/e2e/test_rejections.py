"""Requests the app refuses, through the real host: a duplicate monitor (409) and invalid input (400)."""

from __future__ import annotations

import uuid

import pytest

from .flows import JOB_STATUS, START, start_job

INSTANCES = "/runtime/webhooks/durabletask/instances"


def test_duplicate_start_while_running_is_409_with_the_running_monitors_location(durable_app) -> None:
    app = durable_app()
    job_id = f"nightly-etl-{uuid.uuid4().hex[:8]}"
    first = start_job(app, {"job_id": job_id})
    app.advance(5)

    duplicate = app.http.post(START, json_body={"job_id": job_id})

    assert duplicate.status == 409
    assert duplicate.json()["error"] == "job_already_monitored"
    assert duplicate.header("Location") == first["statusQueryGetUri"]
    assert duplicate.json()["statusQueryGetUri"] == first["statusQueryGetUri"]


def test_a_finished_job_can_be_monitored_again(durable_app) -> None:
    app = durable_app()
    job_id = f"nightly-etl-{uuid.uuid4().hex[:8]}"
    first = start_job(app, {"job_id": job_id})
    app.wait_for_completion(first["id"])

    again = app.http.post(START, json_body={"job_id": job_id})

    assert again.status == 202
    assert app.wait_for_completion(job_id)["runtimeStatus"] == "Completed"


@pytest.mark.parametrize(
    "body, field",
    [
        (b'{"polling_interval_seconds": 0}', "polling_interval_seconds"),
        (b'{"timeout_seconds": "30"}', "timeout_seconds"),
        (b'{"polling_interval_seconds": 60, "timeout_seconds": 30}', "polling_interval_seconds"),
        (b'{"job_id": "has spaces"}', "job_id"),
        (b'{"wait_strategy": "busy-loop"}', "wait_strategy"),
        (b'{"unknown_option": true}', "unknown_option"),
        (b'{"job_id": "a", "job_id": "b"}', "job_id"),
        (b'{"timeout_seconds": 30', None),
        (b"[1, 2, 3]", None),
        (b"\xff\xfe", None),
    ],
)
def test_invalid_start_request_is_400_and_starts_nothing(durable_app, body: bytes, field) -> None:
    app = durable_app()
    instances_before = len(app.http.get(INSTANCES).json())

    response = app.http.post(START, data=body, headers={"Content-Type": "application/json"})

    assert response.status == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert response.json()["field"] == field
    assert len(app.http.get(INSTANCES).json()) == instances_before


@pytest.mark.parametrize("job_id", ["has space", "-leading-dash", "x" * 101])
def test_job_status_with_an_impossible_job_id_is_400(durable_app, job_id: str) -> None:
    app = durable_app()

    response = app.http.get(JOB_STATUS.format(job_id.replace(" ", "%20")))

    assert response.status == 400
    assert response.json()["field"] == "job_id"
