"""The original README's flows, end to end over HTTP, against the unchanged app on devhost (virtual time)."""

from __future__ import annotations

import time

START = "/api/start_monitoring_job"


def test_default_monitor_completes_on_fourth_check_after_15_seconds(durable_app):
    app = durable_app()
    started = app.http.post(START, headers={"Content-Type": "application/json"})
    assert started.status == 202
    instance_id = started.json()["id"]
    wall = time.perf_counter()

    status = app.wait_for_completion(instance_id)

    assert time.perf_counter() - wall < 5
    assert status["runtimeStatus"] == "Completed"
    output = status["output"]
    assert output["final_status"] == "Completed"
    assert output["checks_performed"] == 4
    assert output["monitoring_duration_seconds"] == 15.0


def test_stalled_job_times_out_after_six_checks_and_thirty_seconds(durable_app):
    app = durable_app()
    started = app.http.post(START, json_body={"simulated_outcome": "stalled"})
    status = app.wait_for_completion(started.json()["id"])
    assert status["output"]["final_status"] == "Timeout"
    assert status["output"]["checks_performed"] == 6
    assert status["output"]["monitoring_duration_seconds"] == 30.0
