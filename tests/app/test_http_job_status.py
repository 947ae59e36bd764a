"""GET /api/job_status/{jobId} with a real HttpRequest and a fake durable client."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import azure.functions as func
import pytest

from job_monitor.simulation import failed_items

from .fakes import FakeDurableClient, FakeTime


def get(app_functions: dict[str, Any], client: FakeDurableClient, job_id: str) -> func.HttpResponse:
    request = func.HttpRequest(
        "GET", f"http://localhost:7071/api/job_status/{job_id}", headers={}, params={}, route_params={"jobId": job_id}, body=b""
    )
    user_code = app_functions["job_status"].get_user_function().client_function
    return asyncio.run(user_code(req=request, client=client))


def start(app_functions: dict[str, Any], client: FakeDurableClient, body: bytes) -> None:
    request = func.HttpRequest(
        "POST", "http://localhost:7071/api/start_monitoring_job", headers={}, params={}, route_params={}, body=body
    )
    user_code = app_functions["start_monitoring_job"].get_user_function().client_function
    assert asyncio.run(user_code(req=request, client=client)).status_code == 202


@pytest.fixture
def client() -> FakeDurableClient:
    return FakeDurableClient()


def test_unknown_job_is_404(app_functions: dict[str, Any], client: FakeDurableClient, fake_time: FakeTime) -> None:
    response = get(app_functions, client, "job-nope")

    assert response.status_code == 404
    assert json.loads(response.get_body()) == {"error": "job_not_found", "job_id": "job-nope"}


def test_started_job_reports_its_simulated_progress(
    app_functions: dict[str, Any], client: FakeDurableClient, fake_time: FakeTime
) -> None:
    start(app_functions, client, b'{"job_id": "job-42"}')
    client.instances["job-42"]["runtimeStatus"] = "Running"
    fake_time.sleep(10)

    response = get(app_functions, client, "job-42")

    assert response.status_code == 200
    assert json.loads(response.get_body()) == {
        "job_id": "job-42",
        "status": "Running",
        "progress_percent": 66,
        "estimated_completion": "2030-01-01T12:00:15.000Z",
        "last_updated": "2030-01-01T12:00:10.000Z",
        "details": "Processing batch 3 of 4",
        "items_total": 100,
        "items_processed": 66,
        "items_failed": failed_items("job-42", 0.1, 66),
        "monitor_instance_id": "job-42",
        "monitor_status": "Running",
    }


def test_job_status_keeps_answering_after_the_monitor_finished(
    app_functions: dict[str, Any], client: FakeDurableClient, fake_time: FakeTime
) -> None:
    start(app_functions, client, b'{"job_id": "job-done", "simulated_outcome": "failed"}')
    client.instances["job-done"]["runtimeStatus"] = "Completed"
    fake_time.sleep(60)

    payload = json.loads(get(app_functions, client, "job-done").get_body())

    assert (payload["status"], payload["monitor_status"], payload["estimated_completion"]) == ("Failed", "Completed", None)
    assert payload["details"].startswith("Failed while processing batch 3 of 4")


def test_input_stored_as_an_object_and_without_submitted_at_uses_the_creation_time(
    app_functions: dict[str, Any], client: FakeDurableClient, fake_time: FakeTime
) -> None:
    client.add_instance("job-hook", "Running", {"simulated_duration_seconds": 100}, created="2030-01-01T11:59:10Z")
    client.instances["job-hook"]["input"] = {"simulated_duration_seconds": 100}  # started via the webhook

    payload = json.loads(get(app_functions, client, "job-hook").get_body())

    assert (payload["status"], payload["progress_percent"]) == ("Running", 50)


@pytest.mark.parametrize("job_id", ["-bad", "a b", "x" * 101])
def test_impossible_job_ids_are_400(
    app_functions: dict[str, Any], client: FakeDurableClient, fake_time: FakeTime, job_id: str
) -> None:
    response = get(app_functions, client, job_id)

    assert response.status_code == 400
    assert json.loads(response.get_body())["field"] == "job_id"


def test_an_instance_of_another_orchestrator_is_not_a_job(
    app_functions: dict[str, Any], client: FakeDurableClient, fake_time: FakeTime
) -> None:
    client.add_instance("other-1", "Running", {"x": 1}, name="some_other_orchestrator")

    assert get(app_functions, client, "other-1").status_code == 404


def test_an_instance_with_foreign_input_is_not_a_job(
    app_functions: dict[str, Any], client: FakeDurableClient, fake_time: FakeTime
) -> None:
    client.add_instance("odd-1", "Running", '"just a string"')

    response = get(app_functions, client, "odd-1")

    assert response.status_code == 404
    assert json.loads(response.get_body())["message"] == "the instance is not a monitoring job"


def test_unreachable_backend_is_503(app_functions: dict[str, Any], client: FakeDurableClient, fake_time: FakeTime) -> None:
    client.fail_get_status_with = ConnectionError("refused")

    assert get(app_functions, client, "job-1").status_code == 503


def test_a_monitor_that_continued_as_new_still_reports_its_job(
    app_functions: dict[str, Any], client: FakeDurableClient, fake_time: FakeTime
) -> None:
    carry = {
        "monitor_started_at": "2030-01-01T11:59:00.000000Z",
        "deadline": "2030-01-01T12:09:00.000000Z",
        "checks_performed": 25,
        "alerts_raised": [],
        "generation": 2,
        "previous": None,
    }
    client.add_instance(
        "job-long",
        "Running",
        {
            "job_id": "job-long",
            "timeout_seconds": 600,
            "simulated_duration_seconds": 120,
            "submitted_at": "2030-01-01T11:59:00.000000Z",
            "carry": carry,
        },
    )

    payload = json.loads(get(app_functions, client, "job-long").get_body())

    assert (payload["status"], payload["progress_percent"]) == ("Running", 50)
