"""POST /api/start_monitoring_job with a real HttpRequest and a fake durable client."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import azure.functions as func
import pytest

from .cases import INVALID
from .fakes import FakeDurableClient, FakeTime

URL = "http://localhost:7071/api/start_monitoring_job"


def post(
    app_functions: dict[str, Any],
    client: FakeDurableClient,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    url: str = URL,
) -> func.HttpResponse:
    request = func.HttpRequest("POST", url, headers=headers or {}, params={}, route_params={}, body=body)
    user_code = app_functions["start_monitoring_job"].get_user_function().client_function
    return asyncio.run(user_code(req=request, client=client))


def body_of(response: func.HttpResponse) -> Any:
    return json.loads(response.get_body())


@pytest.fixture
def client() -> FakeDurableClient:
    return FakeDurableClient()


def test_no_body_and_no_content_type_starts_a_monitor_with_defaults(
    app_functions: dict[str, Any], client: FakeDurableClient, fake_time: FakeTime
) -> None:
    response = post(app_functions, client)

    assert response.status_code == 202
    [(name, instance_id, started_input)] = client.started
    assert name == "monitoring_job_orchestrator"
    assert re.fullmatch(r"job-[0-9a-f]{32}", instance_id or "")
    assert started_input == {
        "job_id": instance_id,
        "polling_interval_seconds": 5,
        "timeout_seconds": 30,
        "workflow_type": "data_processing",
        "batch_size": 100,
        "failure_rate": 0.1,
        "enable_monitoring": True,
        "wait_strategy": "activity",
        "simulated_duration_seconds": 15,
        "simulated_outcome": "completed",
        "error_rate_threshold": 0.05,
        "submitted_at": "2030-01-01T12:00:00.000Z",
    }
    payload = body_of(response)
    assert payload["id"] == instance_id
    assert response.headers["Location"] == payload["statusQueryGetUri"]
    assert payload["statusQueryGetUri"].startswith("http://localhost:7071/runtime/webhooks/durabletask/instances/")


def test_job_id_becomes_the_instance_id(app_functions: dict[str, Any], client: FakeDurableClient, fake_time: FakeTime) -> None:
    response = post(
        app_functions,
        client,
        b'{"job_id": "my-custom-job-123", "polling_interval_seconds": 10, "timeout_seconds": 60}',
        {"Content-Type": "application/json"},
    )

    assert response.status_code == 202
    assert body_of(response)["id"] == "my-custom-job-123"
    [(_, instance_id, started_input)] = client.started
    assert instance_id == "my-custom-job-123"
    assert (started_input["polling_interval_seconds"], started_input["timeout_seconds"]) == (10, 60)


@pytest.mark.parametrize("case_id, body, field, message", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_bodies_get_400_naming_the_field(
    app_functions: dict[str, Any],
    client: FakeDurableClient,
    fake_time: FakeTime,
    case_id: str,
    body: bytes,
    field: str | None,
    message: str,
) -> None:
    response = post(app_functions, client, body, {"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.mimetype == "application/json"
    payload = body_of(response)
    assert (payload["error"], payload["field"]) == ("invalid_request", field)
    assert message in payload["message"]
    assert payload["errors"][0] == {"field": field, "message": payload["message"]}
    assert client.started == []


@pytest.mark.parametrize("state", ["Pending", "Running", "Suspended", "ContinuedAsNew"])
def test_a_job_still_being_monitored_gets_409_with_its_status_link(
    app_functions: dict[str, Any], client: FakeDurableClient, fake_time: FakeTime, state: str
) -> None:
    client.add_instance("job-dup", state, {"job_id": "job-dup"})

    response = post(app_functions, client, b'{"job_id": "job-dup"}', url="https://example.test:8443/api/start_monitoring_job")

    assert response.status_code == 409
    payload = body_of(response)
    assert payload == {
        "error": "job_already_monitored",
        "job_id": "job-dup",
        "instance_id": "job-dup",
        "runtime_status": state,
        "statusQueryGetUri": "https://example.test:8443/runtime/webhooks/durabletask/instances/job-dup"
        "?taskHub=default&connection=Storage",
    }
    assert response.headers["Location"] == payload["statusQueryGetUri"]
    assert client.started == []


@pytest.mark.parametrize("state", ["Completed", "Failed", "Terminated"])
def test_a_finished_job_can_be_monitored_again(
    app_functions: dict[str, Any], client: FakeDurableClient, fake_time: FakeTime, state: str
) -> None:
    client.add_instance("job-again", state, {"job_id": "job-again"})

    response = post(app_functions, client, b'{"job_id": "job-again"}')

    assert response.status_code == 202
    assert [started[1] for started in client.started] == ["job-again"]


def test_losing_a_start_race_is_reported_as_409(
    app_functions: dict[str, Any], client: FakeDurableClient, fake_time: FakeTime
) -> None:
    def someone_else_started_it(fake: FakeDurableClient) -> None:
        fake.add_instance("job-race", "Running", {"job_id": "job-race"})
        fake.fail_start_with = Exception("An Orchestration instance with the status Running already exists.")

    client.on_start = someone_else_started_it

    response = post(app_functions, client, b'{"job_id": "job-race"}')

    assert response.status_code == 409
    assert body_of(response)["runtime_status"] == "Running"


def test_backend_failure_is_a_503_json_error(
    app_functions: dict[str, Any], client: FakeDurableClient, fake_time: FakeTime
) -> None:
    client.fail_start_with = ConnectionError("connection refused")

    response = post(app_functions, client, b'{"job_id": "job-down"}')

    assert response.status_code == 503
    assert body_of(response)["error"] == "orchestration_unavailable"


def test_unreachable_status_backend_is_a_503_json_error(
    app_functions: dict[str, Any], client: FakeDurableClient, fake_time: FakeTime
) -> None:
    client.fail_get_status_with = ConnectionError("connection refused")

    response = post(app_functions, client, b"{}")

    assert response.status_code == 503
    assert client.started == []
