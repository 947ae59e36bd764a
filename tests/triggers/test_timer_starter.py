"""Timer-triggered functions on the test kit's virtual clock: the issue's every-5-minutes starter, past-due
runs after a restart, run_on_startup, and the durable client on timers and activities (issue 11 items 2, 11).

Semantics follow the timer extension's TimerListener (Azure/azure-webjobs-sdk-extensions 2e7550f,
src/WebJobs.Extensions/Extensions/Timers/Listener/TimerListener.cs) and ScheduleMonitor.cs; see
docs/timer-triggers.md.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from devhost.testing import durable_app as run_app
from devhost.testing.handle import AppHandle

APP = Path(__file__).resolve().parent.parent / "apps" / "timer_starter"
START = datetime(2030, 1, 1, tzinfo=timezone.utc)
WEBHOOKS = "/runtime/webhooks/durabletask"


def _instances(app: AppHandle) -> list[dict[str, Any]]:
    response = app.http.get(f"{WEBHOOKS}/instances")
    assert response.status == 200, response.text
    return sorted(response.json(), key=lambda s: s["output"]["started"] if s.get("output") else "")


def test_a_five_minute_schedule_fires_twelve_times_in_a_virtual_hour(durable_app: Any) -> None:
    app = durable_app(APP, start_time=START)

    app.advance(3600)

    runs = _instances(app)
    assert [r["runtimeStatus"] for r in runs] == ["Completed"] * 12
    assert [r["output"]["started"] for r in runs] == [(START + timedelta(minutes=5 * i)).isoformat() for i in range(1, 13)]


def test_the_timer_request_carries_the_schedule_status_and_is_not_past_due(durable_app: Any) -> None:
    app = durable_app(APP, start_time=START)

    app.advance(600)

    first, second = (r["output"] for r in _instances(app))
    # TimerListener.cs:112-121: a timer never run before starts with Last = default(DateTime).
    assert (first["past_due"], first["last"], first["next"]) == (False, "0001-01-01T00:00:00+00:00", "2030-01-01T00:05:00+00:00")
    assert (second["past_due"], second["last"], second["next"]) == (
        False,
        "2030-01-01T00:05:00+00:00",
        "2030-01-01T00:10:00+00:00",
    )


def test_a_durable_client_declared_on_an_activity_is_filled_in(durable_app: Any) -> None:
    app = durable_app(APP, start_time=START)

    app.advance(300)

    (run,) = _instances(app)
    assert run["output"]["seen_by_activity"] == "Running"


def test_an_occurrence_missed_while_the_host_was_down_runs_at_start_as_past_due(tmp_path: Path) -> None:
    # ScheduleMonitor.CheckPastDueAsync (ScheduleMonitor.cs:117-121) and TimerListener.cs:127-136.
    with run_app(APP, store_dir=tmp_path, start_time=START) as app:
        app.advance(600)  # fires at 00:05 and 00:10; the status file records Next = 00:15

    restart = START + timedelta(hours=2)
    with run_app(APP, store_dir=tmp_path, start_time=restart) as app:
        app.advance(0)
        runs = [r["output"] for r in _instances(app)]
        app.advance(300)
        after = [r["output"] for r in _instances(app)]

    assert [(r["past_due"], r["started"]) for r in runs[2:]] == [(True, restart.isoformat())]
    assert runs[2]["next"] == "2030-01-01T00:15:00+00:00"
    assert (after[3]["past_due"], after[3]["started"]) == (False, (restart + timedelta(minutes=5)).isoformat())


def test_a_restart_before_the_next_occurrence_is_not_past_due(tmp_path: Path) -> None:
    with run_app(APP, store_dir=tmp_path, start_time=START) as app:
        app.advance(300)

    with run_app(APP, store_dir=tmp_path, start_time=START + timedelta(minutes=7)) as app:
        app.advance(0)
        assert len(_instances(app)) == 1
        app.advance(180)
        assert [r["output"]["past_due"] for r in _instances(app)] == [False, False]


def test_a_time_zone_setting_is_named_as_ignored(
    durable_app: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("WEBSITE_TIME_ZONE", "Eastern Standard Time")

    with caplog.at_level(logging.WARNING, logger="devhost.timers"):
        app = durable_app(APP, start_time=START)
        app.advance(300)

    assert [r.getMessage() for r in caplog.records if r.name == "devhost.timers"] == [
        "WEBSITE_TIME_ZONE=Eastern Standard Time is ignored: devhost evaluates timer schedules in UTC (Azure's default)"
    ]
    assert [r["output"]["started"] for r in _instances(app)] == [(START + timedelta(minutes=5)).isoformat()]
