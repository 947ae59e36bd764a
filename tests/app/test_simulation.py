"""The simulated job: a pure function of its plan and the time it is looked at."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from job_monitor.simulation import JobPlan, failed_items, job_state, seed_for

T0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


def plan(**overrides: Any) -> JobPlan:
    values: dict[str, Any] = dict(
        job_id="job-sim", submitted_at=T0, duration_seconds=15, outcome="completed", batch_size=100, failure_rate=0.1
    )
    values.update(overrides)
    return JobPlan(**values)


def at(job: JobPlan, seconds: float) -> dict[str, Any]:
    return job_state(job, T0 + timedelta(seconds=seconds))


def test_default_job_is_queued_then_running_then_completed_at_the_polling_times() -> None:
    job = plan()

    statuses = [at(job, t)["status"] for t in (0, 5, 10, 15)]

    assert statuses == ["Unknown", "Running", "Running", "Completed"]


def test_running_job_reports_progress_and_its_batch() -> None:
    state = at(plan(), 10)

    assert state["progress_percent"] == 66
    assert state["items_processed"] == 66
    assert state["details"] == "Processing batch 3 of 4"
    assert state["batches_total"] == 4
    assert state["estimated_completion"] == "2030-01-01T12:00:15.000Z"
    assert state["last_updated"] == "2030-01-01T12:00:10.000Z"


def test_completed_job_has_processed_every_item() -> None:
    state = at(plan(), 15)

    assert (state["progress_percent"], state["items_processed"], state["current_batch"]) == (100, 100, 4)
    assert state["details"].startswith("Completed all 4 batches")


def test_queue_phase_lasts_one_second_at_most() -> None:
    job = plan(duration_seconds=0.4)

    assert at(job, 0.3)["status"] == "Unknown"
    assert at(job, 0.4)["status"] == "Completed"
    assert at(plan(), 0.999)["status"] == "Unknown"
    assert at(plan(), 1)["status"] == "Running"


def test_zero_duration_job_is_complete_immediately() -> None:
    assert at(plan(duration_seconds=0), 0)["status"] == "Completed"


def test_failed_job_runs_at_half_speed_and_fails_at_its_duration_naming_the_batch() -> None:
    job = plan(outcome="failed")

    running, failed = at(job, 14.9), at(job, 15)

    assert running["status"] == "Running"
    assert running["estimated_completion"] == "2030-01-01T12:00:30.000Z"
    assert failed["status"] == "Failed"
    assert failed["progress_percent"] == 50
    assert failed["details"] == "Failed while processing batch 3 of 4: simulated processing error"
    assert failed["estimated_completion"] is None
    assert at(job, 1000)["status"] == "Failed"


def test_stalled_job_stops_at_half_and_keeps_running_forever() -> None:
    job = plan(outcome="stalled")

    assert at(job, 5)["progress_percent"] == 33
    assert [at(job, t)["progress_percent"] for t in (7.5, 60, 86400 * 7)] == [50, 50, 50]
    assert at(job, 86400 * 7)["status"] == "Running"
    assert at(job, 60)["estimated_completion"] is None


def test_batches_are_groups_of_25_items() -> None:
    assert plan(batch_size=1).batches_total == 1
    assert plan(batch_size=25).batches_total == 1
    assert plan(batch_size=26).batches_total == 2
    assert at(plan(batch_size=26), 14)["details"] == "Processing batch 1 of 2"  # 24 items done
    assert at(plan(batch_size=26), 14.5)["details"] == "Processing batch 2 of 2"  # 25 items done


def test_failures_are_deterministic_per_job_and_bounded_by_processed_items() -> None:
    first, again = at(plan(), 15), at(plan(), 15)
    other = at(plan(job_id="job-other", batch_size=1000), 15)

    assert first["items_failed"] == again["items_failed"]
    assert 0 < first["items_failed"] < first["items_processed"]
    assert 0 < other["items_failed"] < 1000


@pytest.mark.parametrize("rate, expected", [(0.0, 0), (1.0, 100)])
def test_failure_rate_extremes(rate: float, expected: int) -> None:
    assert at(plan(failure_rate=rate), 15)["items_failed"] == expected


def test_failures_grow_monotonically_with_progress() -> None:
    counts = [failed_items("job-mono", 0.3, n) for n in range(0, 200, 7)]

    assert counts == sorted(counts)


def test_seed_does_not_depend_on_the_process_hash_salt() -> None:
    code = "from job_monitor.simulation import seed_for; print(seed_for('job-x'))"
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": salt, "PYTHONPATH": ":".join(sys.path)},
        ).stdout.strip()
        for salt in ("1", "2")
    }

    assert outputs == {str(seed_for("job-x"))}


def test_before_submission_the_job_is_queued() -> None:
    assert at(plan(), -10)["status"] == "Unknown"


def test_plan_round_trips_through_json_form() -> None:
    job = plan(submitted_at=T0 + timedelta(microseconds=123456))

    assert JobPlan.from_dict(job.to_dict()) == job
