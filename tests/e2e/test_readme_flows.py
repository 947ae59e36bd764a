"""The original README's curl flows, over real HTTP, against the unchanged app on devhost (virtual time)."""

from __future__ import annotations

import json
import re
import time
import urllib.parse

from devhost.testing import DurableAppHandle

from .flows import CUSTOM_STATUS_KEYS, JOB_STATUS, MANAGEMENT_LINKS, OUTPUT_KEYS, START, poll_until_done, start_job


def test_start_without_body_or_content_type_answers_202_with_management_links(durable_app) -> None:
    app: DurableAppHandle = durable_app()

    response = app.http.post(START)  # curl -X POST .../api/start_monitoring_job

    assert response.status == 202, response.text
    body = response.json()
    assert set(MANAGEMENT_LINKS) <= set(body)
    assert re.fullmatch(r"job-[0-9a-f]{32}", body["id"])
    assert response.header("Location") == body["statusQueryGetUri"]
    for name in MANAGEMENT_LINKS[1:]:
        assert body[name].startswith(f"{app.base_url}/runtime/webhooks/durabletask/instances/{body['id']}")


def test_start_with_json_content_type_and_no_body_monitors_with_defaults(durable_app) -> None:
    app = durable_app()

    started = start_job(app)  # -H "Content-Type: application/json", no -d
    status = app.wait_for_completion(started["id"])

    request = json.loads(status["input"])  # the SDK client sends the input as JSON text
    assert (request["polling_interval_seconds"], request["timeout_seconds"]) == (5, 30)
    assert status["runtimeStatus"] == "Completed"
    assert status["output"]["final_status"] == "Completed"


def test_default_monitor_polled_through_status_query_uri_completes_after_four_checks(durable_app) -> None:
    app = durable_app()
    started = start_job(app)
    wall = time.perf_counter()

    final, running = poll_until_done(app, started["statusQueryGetUri"])

    elapsed = time.perf_counter() - wall
    assert running, "the first poll should find the monitor running"
    for response in running:
        assert response.header("Location") and response.header("Retry-After")
        assert response.json()["runtimeStatus"] in ("Pending", "Running")
    custom = [r.json()["customStatus"] for r in running if r.json()["customStatus"] is not None]
    assert custom and all(CUSTOM_STATUS_KEYS <= set(c) for c in custom)
    assert [c["check_count"] for c in custom] == sorted(c["check_count"] for c in custom)
    assert final.status == 200
    status = final.json()
    assert status["runtimeStatus"] == "Completed"
    output = status["output"]
    assert OUTPUT_KEYS <= set(output)
    assert output["job_id"] == started["id"]
    assert (output["final_status"], output["checks_performed"], output["monitoring_duration_seconds"]) == (
        "Completed",
        4,
        15.0,
    )
    assert elapsed < 5, f"15 s of virtual time took {elapsed:.2f} s of wall time"


def test_custom_parameters_name_the_instance_and_set_the_polling_interval(durable_app) -> None:
    app = durable_app()

    started = start_job(app, {"job_id": "my-custom-job-123", "polling_interval_seconds": 10, "timeout_seconds": 60})
    status = app.wait_for_completion(started["id"])

    assert started["id"] == "my-custom-job-123"
    assert status["customStatus"]["deadline"] == "2030-01-01T00:01:00.000Z"
    output = status["output"]
    # Checks at 0 s, 10 s and 20 s; the 15-second job is done by the third.
    assert (output["job_id"], output["final_status"], output["checks_performed"]) == ("my-custom-job-123", "Completed", 3)
    assert output["monitoring_duration_seconds"] == 20.0


def test_job_status_endpoint_reports_the_job_while_running_and_after(durable_app) -> None:
    app = durable_app()
    job_id = start_job(app)["id"]
    app.advance(5)

    during = app.http.get(JOB_STATUS.format(job_id))
    app.wait_for_completion(job_id)
    after = app.http.get(JOB_STATUS.format(job_id))

    assert during.status == 200
    assert during.json()["status"] == "Running" and during.json()["monitor_status"] == "Running"
    assert 0 < during.json()["progress_percent"] < 100
    assert during.json()["details"].startswith("Processing batch")
    assert after.status == 200
    assert after.json()["status"] == "Completed" and after.json()["monitor_status"] == "Completed"
    assert after.json()["progress_percent"] == 100


def test_job_status_of_an_unknown_job_is_404(durable_app) -> None:
    app = durable_app()

    response = app.http.get(JOB_STATUS.format("no-such-job"))

    assert response.status == 404
    assert response.json()["error"] == "job_not_found"


def test_terminate_post_uri_with_reason_terminates_the_monitor(durable_app) -> None:
    app = durable_app()
    started = start_job(app, {"simulated_outcome": "stalled"})
    app.advance(5)

    uri = started["terminatePostUri"].replace("{text}", urllib.parse.quote("stopped by operator"))
    response = app.http.post(uri)
    status = app.wait_for_completion(started["id"])

    assert response.status == 202
    assert status["runtimeStatus"] == "Terminated"
    assert status["output"] == "stopped by operator"
    assert app.http.get(JOB_STATUS.format(started["id"])).json()["monitor_status"] == "Terminated"


def test_purge_history_delete_uri_removes_a_finished_monitor(durable_app) -> None:
    app = durable_app()
    started = start_job(app)
    app.wait_for_completion(started["id"])

    purged = app.http.delete(started["purgeHistoryDeleteUri"])
    status_after = app.http.get(started["statusQueryGetUri"])
    purged_again = app.http.delete(started["purgeHistoryDeleteUri"])

    assert purged.status == 200 and purged.json() == {"instancesDeleted": 1}
    assert status_after.status == 404
    assert purged_again.status == 404
    assert app.http.get(JOB_STATUS.format(started["id"])).status == 404
