"""The dashboard's routes on the unchanged monitoring app, in-process on the virtual clock."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from devhost.http.dashboard.routes import STATIC_DIR
from devhost.testing import DurableAppFactory, DurableAppHandle

API = "/_devhost/api"
MONITOR = {"job_id": "job-a", "polling_interval_seconds": 10, "timeout_seconds": 600, "simulated_duration_seconds": 120}


@pytest.fixture
def app(durable_app: DurableAppFactory) -> DurableAppHandle:
    handle = durable_app()
    assert isinstance(handle, DurableAppHandle)
    return handle


def start(app: DurableAppHandle, **changes: Any) -> str:
    response = app.http.post("/api/start_monitoring_job", json_body={**MONITOR, **changes})
    assert response.status == 202, response.text
    return str(response.json()["id"])


def get(app: DurableAppHandle, path: str, **params: Any) -> dict[str, Any]:
    response = app.http.get(API + path, params={k: str(v) for k, v in params.items()})
    assert response.status == 200, response.text
    return dict(response.json())


def test_info_reports_the_virtual_clock_and_the_orchestrators(app: DurableAppHandle) -> None:
    app.advance(42)

    info = get(app, "/info")

    assert info["virtualTime"] is True
    assert info["now"] == app.now.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert info["orchestrators"] == ["monitoring_job_orchestrator"]


def test_the_list_shows_a_running_monitor_with_its_progress_and_alerts(app: DurableAppHandle) -> None:
    start(app)
    app.advance(30)

    rows = get(app, "/instances")["instances"]

    assert [(r["instanceId"], r["name"], r["runtimeStatus"]) for r in rows] == [
        ("job-a", "monitoring_job_orchestrator", "Running")
    ]
    assert 0 < rows[0]["progressPercent"] < 100
    assert rows[0]["checkCount"] == 4
    assert "check 4" in rows[0]["customStatusSummary"]
    assert isinstance(rows[0]["alerts"], list)


def test_list_filters_by_status_name_prefix_and_custom_status(app: DurableAppHandle) -> None:
    start(app, job_id="job-a")
    start(app, job_id="other-b", timeout_seconds=5, polling_interval_seconds=5)
    app.advance(20)

    def ids(**params: Any) -> list:
        return [r["instanceId"] for r in get(app, "/instances", **params)["instances"]]

    assert ids(status="Running") == ["job-a"]
    assert ids(status="completed,running") == ["job-a", "other-b"]
    assert ids(prefix="other") == ["other-b"]
    assert ids(name="MONITORING_JOB_ORCHESTRATOR") == ["job-a", "other-b"]
    assert ids(name="nope") == []
    assert ids(q="final") == ["other-b"]


def test_instance_detail_history_event_and_timeline(app: DurableAppHandle) -> None:
    instance_id = start(app)
    app.advance(15)

    detail = get(app, f"/instances/{instance_id}")
    history = get(app, f"/instances/{instance_id}/history", offset=0, limit=5)
    latest = get(app, f"/instances/{instance_id}/history", last=3)
    first_activity = next(e for e in get(app, f"/instances/{instance_id}/history")["events"] if e["type"] == "TaskScheduled")
    event = get(app, f"/instances/{instance_id}/history/{first_activity['index']}")
    timeline = get(app, f"/instances/{instance_id}/timeline")

    assert detail["customStatus"]["job_id"] == "job-a" and detail["input"]["job_id"] == "job-a"
    assert detail["now"].startswith(app.now.strftime("%Y-%m-%dT%H:%M:%S"))
    assert len(history["events"]) == 5 and history["total"] > 5
    assert [e["index"] for e in latest["events"]] == [history["total"] - 3, history["total"] - 2, history["total"] - 1]
    assert event["Name"] == "check_job_status" and event["Input"]["job_id"] == "job-a"
    assert {b["name"] for b in timeline["bars"]} == {"check_job_status", "wait_for_interval"}
    assert timeline["bars"][-1]["state"] == "pending"


def test_pending_timer_shows_time_left_in_virtual_time(app: DurableAppHandle) -> None:
    instance_id = start(app, wait_strategy="timer", polling_interval_seconds=60)
    app.advance(15)

    events = get(app, f"/instances/{instance_id}/history")["events"]
    timer = [e for e in events if e["type"] == "TimerCreated"][-1]

    assert timer["state"] == "pending"
    assert timer["remainingSeconds"] == 45.0
    waiting = get(app, f"/instances/{instance_id}/timeline")["waiting"]
    assert [(w["kind"], w["remainingSeconds"]) for w in waiting] == [("timer", 45.0)]


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/instances?status=Sleeping", 400, "unknown runtime status"),
        ("/instances?from=yesterday", 400, "not an ISO 8601 time"),
        ("/instances?from=2030-01-02&to=2030-01-01", 400, "'from' is after 'to'"),
        ("/instances?top=0", 400, "between 1 and 500"),
        ("/instances?top=9999", 400, "between 1 and 500"),
        ("/instances?cursor=abc", 400, "cursor"),
        ("/instances?colour=red", 400, "unknown query parameter 'colour'"),
        ("/instances?waiting=event", 400, "waiting must be one of timer, activity, suborchestration"),
        ("/instances/nope", 404, "no instance"),
        ("/instances/nope/history", 404, "no instance"),
        ("/instances/nope/timeline", 404, "no instance"),
        ("/instances/job-a/history?offset=-1", 400, "must not be negative"),
        ("/instances/job-a/history?limit=x", 400, "not a whole number"),
        ("/instances/job-a/history?last=5&offset=1", 400, "not both"),
        ("/instances/job-a/history?last=0", 400, "between 1 and 500"),
        ("/instances/job-a/history/x", 400, "not a whole number"),
        ("/instances/job-a/history/100000", 404, "no history event"),
        ("/info?x=1", 400, "unknown query parameter"),
        ("/whatever", 404, "no dashboard resource"),
    ],
)
def test_bad_input_gets_a_json_4xx_naming_the_problem(app: DurableAppHandle, path: str, status: int, message: str) -> None:
    start(app)
    app.advance(0)

    response = app.http.get(API + path)

    assert response.status == status, response.text
    assert response.header("Content-Type").startswith("application/json")
    assert message in response.json()["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/_devhost/static/..%2Froutes.py",
        "/_devhost/static/nope.js",
        "/_devhost/static/.hidden",
        "/_devhost/static/" + "7" * 300,  # longer than the file system allows a name: once an OSError, a 500
        "/_devhost/static/" + "x" * 300 + ".js",
    ],
)
def test_only_the_shipped_static_files_are_served(app: DurableAppHandle, path: str) -> None:
    response = app.http.get(path)

    assert response.status == 404
    assert "no dashboard" in response.json()["message"]


def test_pages_and_static_files_are_served_from_the_package(app: DurableAppHandle) -> None:
    redirect = app.http.get("/_devhost")
    index = app.http.get("/_devhost/")
    instance = app.http.get("/_devhost/instances/anything")
    script = app.http.get("/_devhost/static/list.js")

    assert redirect.status == 302 and redirect.header("Location") == "/_devhost/"
    assert index.status == 200 and index.header("Content-Type").startswith("text/html")
    assert instance.status == 200 and 'id="history"' in instance.text
    assert script.status == 200 and script.header("Content-Type").startswith("text/javascript")


def test_static_files_load_nothing_from_elsewhere() -> None:
    external = re.compile(r"""(src|href)\s*=\s*["']?(https?:)?//|@import|url\(\s*["']?https?:""")
    offenders = [p.name for p in Path(STATIC_DIR).iterdir() if external.search(p.read_text(encoding="utf-8"))]

    assert sorted(p.name for p in STATIC_DIR.iterdir()) == [
        "common.js",
        "dashboard.css",
        "index.html",
        "instance.html",
        "instance.js",
        "list.js",
        "timeline.js",
    ]
    assert offenders == []


@pytest.mark.parametrize("path", ["/_devhost", "/_devhost/", "/_devhost/api/instances", "/_devhost/api/instances/job-a"])
def test_the_dashboard_routes_only_read(app: DurableAppHandle, path: str) -> None:
    response = app.http.post(path, json_body={})

    assert response.status == 405
    assert response.header("Allow") == "GET, HEAD"
    assert "only reads" in response.json()["message"]


def test_the_waiting_filter_finds_monitors_waiting_on_a_timer_or_an_activity(app: DurableAppHandle) -> None:
    start(app, job_id="by-timer", wait_strategy="timer")
    start(app, job_id="by-activity")
    start(app, job_id="finished", timeout_seconds=5, polling_interval_seconds=5)
    app.advance(15)

    def ids(**params: Any) -> list:
        return [r["instanceId"] for r in get(app, "/instances", **params)["instances"]]

    assert ids(waiting="timer") == ["by-timer"]
    assert ids(waiting="activity") == ["by-activity"]
    assert ids(waiting="timer", status="Completed") == []
