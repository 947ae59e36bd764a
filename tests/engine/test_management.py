"""Instance management end to end on the real engine: terminate, suspend/resume, restart, purge, list, waits."""

from __future__ import annotations

from datetime import timedelta

from tests.engine.conftest import SAFETY_TIMEOUT, WEBHOOKS, at, while_time_runs


def _waiting(app):
    instance_id = app.start("wait_event")
    app.wait_for_status(instance_id, "Running", timeout=SAFETY_TIMEOUT)
    return instance_id


def _iso(when):
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_terminate_moves_a_running_instance_to_terminated_with_the_reason_as_output(app):
    instance_id = _waiting(app)

    response = app.http.post(f"{WEBHOOKS}/instances/{instance_id}/terminate", params={"reason": "no longer needed"})
    status = app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    assert response.status == 202
    assert status["runtimeStatus"] == "Terminated"
    assert status["output"] == "no longer needed"


def test_terminating_a_finished_instance_answers_410(app):
    instance_id = _waiting(app)
    app.terminate(instance_id, "first")
    app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    response = app.http.post(f"{WEBHOOKS}/instances/{instance_id}/terminate", params={"reason": "again"})

    assert response.status == 410


def test_suspended_instance_queues_events_and_completes_after_resume(app):
    instance_id = _waiting(app)

    suspended = app.http.post(f"{WEBHOOKS}/instances/{instance_id}/suspend", params={"reason": "pause"})
    app.advance(0)
    app.raise_event(instance_id, "Approval", "while suspended")
    app.advance(60)
    while_suspended = app.status(instance_id)["runtimeStatus"]
    resumed = app.http.post(f"{WEBHOOKS}/instances/{instance_id}/resume", params={"reason": "go on"})
    status = app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    assert (suspended.status, resumed.status) == (202, 202)
    assert while_suspended == "Suspended"
    assert status["runtimeStatus"] == "Completed"
    assert status["output"]["value"] == "while suspended"


def test_suspended_instance_status_answers_202(app):
    instance_id = _waiting(app)
    app.http.post(f"{WEBHOOKS}/instances/{instance_id}/suspend")

    status = app.wait_for_status(instance_id, "Suspended", timeout=SAFETY_TIMEOUT)
    response = app.http.get(f"{WEBHOOKS}/instances/{instance_id}")

    assert status["runtimeStatus"] == "Suspended"
    assert response.status == 202


def test_restart_starts_a_new_instance_with_the_same_input(app):
    first_id = app.start("chain", {"city": "Oslo"})
    first = app.wait_for_completion(first_id, timeout=SAFETY_TIMEOUT)

    response = app.http.post(f"{WEBHOOKS}/instances/{first_id}/restart")
    second_id = response.json()["id"]
    second = app.wait_for_completion(second_id, timeout=SAFETY_TIMEOUT)

    assert response.status == 202
    assert second_id != first_id
    assert second["input"] == first["input"] == {"city": "Oslo"}
    assert second["output"] == first["output"] == ["Hello Oslo!", "HELLO OSLO!"]


def test_purge_deletes_one_instance_and_its_history(app):
    instance_id = app.start("chain", {"city": "Lima"})
    app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    purged = app.http.delete(f"{WEBHOOKS}/instances/{instance_id}")
    after = app.http.get(f"{WEBHOOKS}/instances/{instance_id}")
    again = app.http.delete(f"{WEBHOOKS}/instances/{instance_id}")

    assert (purged.status, purged.json()) == (200, {"instancesDeleted": 1})
    assert after.status == 404
    assert again.status == 404
    assert app.history(instance_id) == []


def test_purge_by_filter_deletes_the_matching_finished_instances(app):
    start = app.now
    done = [app.start("chain", {"city": c}) for c in ("a", "b")]
    for instance_id in done:
        app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)
    failed = app.start("boom")
    app.wait_for_completion(failed, timeout=SAFETY_TIMEOUT)

    response = app.http.delete(
        f"{WEBHOOKS}/instances",
        params={"createdTimeFrom": _iso(start - timedelta(seconds=1)), "runtimeStatus": "Completed"},
    )
    remaining = {i["instanceId"] for i in app.http.get(f"{WEBHOOKS}/instances").json()}

    assert (response.status, response.json()) == (200, {"instancesDeleted": 2})
    assert remaining == {failed}


def test_list_pages_through_every_instance_with_the_continuation_token(app):
    started = {app.start("chain", {"city": str(i)}) for i in range(5)}
    for instance_id in started:
        app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    seen, pages, token = [], 0, None
    while True:
        headers = {"x-ms-continuation-token": token} if token else {}
        response = app.http.get(f"{WEBHOOKS}/instances", params={"top": 2}, headers=headers)
        assert response.status == 200
        page = response.json()
        assert len(page) <= 2
        seen += [i["instanceId"] for i in page]
        pages += 1
        token = response.headers.get("x-ms-continuation-token")
        if not token:
            break

    assert sorted(seen) == sorted(started)
    assert pages == 3


def test_start_with_timeout_and_polling_interval_answers_200_with_the_output(app):
    # The orchestration sleeps 20 s of virtual time; the request waits up to 60 s polling every 5 s.
    response = while_time_runs(
        app,
        lambda: app.http.post(
            f"{WEBHOOKS}/orchestrators/sleeper",
            json_body={"seconds": 20},
            params={"timeout": 60, "pollingInterval": 5},
        ),
    )

    assert response.status == 200
    assert response.json()["resumed"] == response.json()["fire_at"]


def test_start_with_timeout_answers_202_when_the_orchestration_outlives_it(app):
    response = while_time_runs(
        app,
        lambda: app.http.post(
            f"{WEBHOOKS}/orchestrators/sleeper",
            json_body={"seconds": 3600},
            params={"timeout": 10, "pollingInterval": 2},
        ),
    )

    assert response.status == 202
    assert "statusQueryGetUri" in response.json()


def test_sdk_wait_for_completion_or_create_check_status_response_answers_200_with_the_output(app):
    response = while_time_runs(
        app,
        lambda: app.http.post(
            "/api/start_and_wait/sleeper",
            json_body={"seconds": 8},
            params={"timeout_ms": 30000, "interval_ms": 1000},
        ),
    )

    assert response.status == 200, response.text
    assert response.json()["resumed"] == response.json()["fire_at"]


def test_sdk_wait_for_completion_or_create_check_status_response_answers_202_after_its_timeout(app):
    response = while_time_runs(
        app,
        lambda: app.http.post(
            "/api/start_and_wait/sleeper",
            json_body={"seconds": 3600},
            params={"timeout_ms": 5000, "interval_ms": 1000},
        ),
    )

    assert response.status == 202, response.text
    body = response.json()
    assert f"/instances/{body['id']}?" in body["statusQueryGetUri"]


def test_terminating_a_suspended_instance_terminates_it(app):
    instance_id = _waiting(app)
    app.http.post(f"{WEBHOOKS}/instances/{instance_id}/suspend")
    app.wait_for_status(instance_id, "Suspended", timeout=SAFETY_TIMEOUT)

    app.terminate(instance_id, "stop while paused")
    status = app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    assert status["runtimeStatus"] == "Terminated"
    assert status["output"] == "stop while paused"


def test_restart_with_the_same_instance_id_runs_the_instance_again(app):
    instance_id = app.start("chain", {"city": "Rome"})
    app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)
    app.advance(60)

    response = app.http.post(f"{WEBHOOKS}/instances/{instance_id}/restart", params={"restartWithNewInstanceId": "false"})
    status = app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    assert response.status == 202
    assert response.json()["id"] == instance_id
    assert status["output"] == ["Hello Rome!", "HELLO ROME!"]
    assert status["createdTime"] == app.now.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_activity_result_that_arrives_while_suspended_is_processed_after_resume(app):
    start = app.now
    instance_id = app.start("fan_out_busy", {"count": 1, "seconds": 10})
    app.wait_for_status(instance_id, "Running", timeout=SAFETY_TIMEOUT)
    app.http.post(f"{WEBHOOKS}/instances/{instance_id}/suspend")
    app.advance(0)

    app.advance(60)  # the activity finishes at +10 s, while the instance is suspended
    during = app.status(instance_id)["runtimeStatus"]
    app.http.post(f"{WEBHOOKS}/instances/{instance_id}/resume")
    status = app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    assert during == "Suspended"
    # The result waited for the resume: the orchestrator saw it at +60 s, not at +10 s.
    assert status["output"] == {"peak": 1, "finished": at(start, seconds=60)}
