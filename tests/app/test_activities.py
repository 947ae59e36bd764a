"""The activities, called as the worker calls them (registered user function, JSON in and out)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from devhost.runtime.registry import ActivityFunction
from job_monitor import job_service
from job_monitor.simulation import JobPlan

from .conftest import START
from .fakes import FakeTime
from .runs import call_activity


def check_input(**overrides: Any) -> dict[str, Any]:
    plan = JobPlan(
        job_id="job-act", submitted_at=START, duration_seconds=15, outcome="completed", batch_size=100, failure_rate=0.1
    )
    return {**plan.to_dict(), "check_number": 3, "instance_id": "job-act", **overrides}


def test_check_job_status_reports_the_job_at_the_current_time(
    activities: dict[str, ActivityFunction], fake_time: FakeTime
) -> None:
    fake_time.sleep(10.1234)

    result = json.loads(call_activity(activities["check_job_status"], json.dumps(check_input())))

    assert result["status"] == "Running"
    assert result["progress_percent"] == 67
    assert result["check_number"] == 3
    assert result["last_check_time"] == "2030-01-01T12:00:10.123Z"
    assert result["last_updated"] == result["last_check_time"]
    assert result["job_id"] == "job-act"


class FixedService:
    def __init__(self) -> None:
        self.asked: list = []

    def get_status(self, plan: JobPlan, now: datetime) -> dict[str, Any]:
        self.asked.append((plan.job_id, now))
        return {
            "job_id": plan.job_id,
            "status": "Completed",
            "progress_percent": 100,
            "items_total": 1,
            "items_processed": 1,
            "items_failed": 0,
        }


@pytest.fixture
def fixed_service() -> Iterator[FixedService]:
    service = FixedService()
    previous = job_service.set_job_service(service)
    yield service
    job_service.set_job_service(previous)


def test_check_job_status_asks_the_installed_job_service(
    activities: dict[str, ActivityFunction], fake_time: FakeTime, fixed_service: FixedService
) -> None:
    result = json.loads(call_activity(activities["check_job_status"], json.dumps(check_input())))

    assert fixed_service.asked == [("job-act", START)]
    assert result["status"] == "Completed"
    assert result["check_number"] == 3


@pytest.mark.parametrize(
    "seconds, message",
    [(5, "Waited for 5 seconds"), (2.5, "Waited for 2.5 seconds"), (2.0, "Waited for 2 seconds"), (0, "Waited for 0 seconds")],
)
def test_wait_for_interval_waits_on_the_app_clock(
    activities: dict[str, ActivityFunction], fake_time: FakeTime, seconds: float, message: str
) -> None:
    result = json.loads(call_activity(activities["wait_for_interval"], json.dumps(seconds)))

    assert result == message
    assert fake_time.sleeps == [seconds]
    assert fake_time.now() == START + timedelta(seconds=seconds)
