"""The orchestrator, replayed through the real SDK with real histories (see replay.py)."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from typing import Any

import pytest

from devhost.runtime.registry import ActivityFunction
from job_monitor import clock, job_service, monitor_state
from job_monitor.config import MonitorRequest
from job_monitor.timefmt import iso_ms

from .conftest import START
from .fakes import FakeTime
from .runs import Run, run_orchestration

ORCHESTRATOR = "monitoring_job_orchestrator"
ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def monitor_input(fake_time: FakeTime, **fields: Any) -> dict[str, Any]:
    """What the HTTP starter sends: the validated request plus submitted_at."""
    request = MonitorRequest.from_mapping({"job_id": "job-orch", **fields})
    return {**request.to_dict(), "submitted_at": iso_ms(fake_time.now())}


def run(
    handle: Any, activities: dict[str, ActivityFunction], fake_time: FakeTime, input_value: Any, instance_id: str = "job-orch"
) -> Run:
    return run_orchestration(handle, activities, fake_time, name=ORCHESTRATOR, instance_id=instance_id, input_value=input_value)


def checks(result: Run) -> list[dict[str, Any]]:
    return [call_input for name, call_input in result.activity_calls if name == "check_job_status"]


def published(result: Run) -> list[dict[str, Any]]:
    """Custom statuses as they changed (each episode re-sends the current one)."""
    changes: list[dict[str, Any]] = []
    for status in result.custom_statuses:
        if not changes or changes[-1] != status:
            changes.append(status)
    return changes


def waits(result: Run) -> list[Any]:
    return [call_input for name, call_input in result.activity_calls if name == "wait_for_interval"]


# --- the README's two sample outputs ---------------------------------------------------------


def test_default_job_completes_on_the_fourth_check_after_fifteen_seconds(
    orchestrator_handle: Any, activities: dict[str, ActivityFunction], fake_time: FakeTime
) -> None:
    result = run(orchestrator_handle, activities, fake_time, monitor_input(fake_time))

    assert result.status == "Completed"
    output = result.output
    assert {
        k: output[k]
        for k in ("job_id", "final_status", "checks_performed", "monitoring_duration_seconds", "workflow_type", "generations")
    } == {
        "job_id": "job-orch",
        "final_status": "Completed",
        "checks_performed": 4,
        "monitoring_duration_seconds": 15.0,
        "workflow_type": "data_processing",
        "generations": 1,
    }
    assert output["last_job_status"]["status"] == "Completed"
    assert output["last_job_status"]["check_number"] == 4
    assert [c["check_number"] for c in checks(result)] == [1, 2, 3, 4]
    assert waits(result) == [5, 5, 5]
    assert fake_time.sleeps == [5, 5, 5]


@pytest.mark.parametrize("strategy", ["activity", "timer"])
def test_stalled_job_times_out_after_six_checks_and_thirty_seconds(
    orchestrator_handle: Any, activities: dict[str, ActivityFunction], fake_time: FakeTime, strategy: str
) -> None:
    result = run(
        orchestrator_handle, activities, fake_time, monitor_input(fake_time, simulated_outcome="stalled", wait_strategy=strategy)
    )

    output = result.output
    assert (output["final_status"], output["checks_performed"], output["monitoring_duration_seconds"]) == ("Timeout", 6, 30.0)
    assert output["last_job_status"]["status"] == "Running"
    assert fake_time.now() == START + timedelta(seconds=30)  # no check at the deadline itself


# --- waiting ----------------------------------------------------------------------------------


def test_last_wait_is_clamped_to_the_deadline_with_the_activity_strategy(
    orchestrator_handle: Any, activities: dict[str, ActivityFunction], fake_time: FakeTime
) -> None:
    result = run(
        orchestrator_handle,
        activities,
        fake_time,
        monitor_input(fake_time, simulated_outcome="stalled", polling_interval_seconds=7),
    )

    assert waits(result) == [7, 7, 7, 7, 2.0]
    assert [c["check_number"] for c in checks(result)] == [1, 2, 3, 4, 5]
    assert (result.output["final_status"], result.output["monitoring_duration_seconds"]) == ("Timeout", 30.0)


def test_last_timer_is_clamped_to_the_deadline_with_the_timer_strategy(
    orchestrator_handle: Any, activities: dict[str, ActivityFunction], fake_time: FakeTime
) -> None:
    result = run(
        orchestrator_handle,
        activities,
        fake_time,
        monitor_input(fake_time, simulated_outcome="stalled", polling_interval_seconds=7, wait_strategy="timer"),
    )

    assert [t[11:19] for t in result.timers] == ["12:00:07", "12:00:14", "12:00:21", "12:00:28", "12:00:30"]
    assert waits(result) == []
    assert fake_time.sleeps == []
    assert (result.output["final_status"], result.output["checks_performed"]) == ("Timeout", 5)


def test_timer_strategy_completes_the_default_job_like_the_activity_strategy(
    orchestrator_handle: Any, activities: dict[str, ActivityFunction], fake_time: FakeTime
) -> None:
    result = run(orchestrator_handle, activities, fake_time, monitor_input(fake_time, wait_strategy="timer"))

    assert (result.output["final_status"], result.output["checks_performed"], result.output["monitoring_duration_seconds"]) == (
        "Completed",
        4,
        15.0,
    )
    assert len(result.timers) == 3


def test_failed_job_ends_the_monitor_as_failed(
    orchestrator_handle: Any, activities: dict[str, ActivityFunction], fake_time: FakeTime
) -> None:
    result = run(orchestrator_handle, activities, fake_time, monitor_input(fake_time, simulated_outcome="failed"))

    assert result.status == "Completed"  # the monitor itself succeeded
    assert (result.output["final_status"], result.output["checks_performed"]) == ("Failed", 4)
    assert result.output["last_job_status"]["details"].startswith("Failed while processing batch 3 of 4")
    assert result.custom_status["final_status"] == "Failed"


def test_job_finishing_between_checks_is_seen_at_the_next_check(
    orchestrator_handle: Any, activities: dict[str, ActivityFunction], fake_time: FakeTime
) -> None:
    result = run(
        orchestrator_handle,
        activities,
        fake_time,
        monitor_input(fake_time, simulated_duration_seconds=12, polling_interval_seconds=5),
    )

    assert (result.output["final_status"], result.output["checks_performed"], result.output["monitoring_duration_seconds"]) == (
        "Completed",
        4,
        15.0,
    )


# --- continue_as_new --------------------------------------------------------------------------


def test_continue_as_new_carries_the_monitor_across_generations(
    orchestrator_handle: Any, activities: dict[str, ActivityFunction], fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(monitor_state, "CHECKS_PER_GENERATION", 3)
    start_input = monitor_input(fake_time, simulated_outcome="stalled", polling_interval_seconds=1, timeout_seconds=20)

    result = run(orchestrator_handle, activities, fake_time, start_input)

    output = result.output
    assert (output["final_status"], output["checks_performed"], output["monitoring_duration_seconds"]) == ("Timeout", 20, 20.0)
    assert output["generations"] == len(result.histories) == 7
    assert [c["check_number"] for c in checks(result)] == list(range(1, 21))
    assert output["alerts_raised"].count("slow_progress") == 1
    later_input = json.loads(result.histories[-1].input_text or "null")
    assert later_input["submitted_at"] == "2030-01-01T12:00:00.000000Z"
    assert later_input["carry"]["generation"] == 7
    assert later_input["carry"]["deadline"] == "2030-01-01T12:00:20.000000Z"
    assert later_input["carry"]["checks_performed"] == 18


def test_a_week_long_monitor_never_replays_a_long_history(
    orchestrator_handle: Any, activities: dict[str, ActivityFunction], fake_time: FakeTime
) -> None:
    result = run(
        orchestrator_handle,
        activities,
        fake_time,
        monitor_input(
            fake_time, simulated_outcome="stalled", polling_interval_seconds=3600, timeout_seconds=604800, wait_strategy="timer"
        ),
    )

    assert (result.output["final_status"], result.output["checks_performed"]) == ("Timeout", 168)
    assert result.output["monitoring_duration_seconds"] == 604800.0
    assert result.output["generations"] == 7
    assert max(len(h.events) for h in result.histories) <= 25 * 8 + 3  # 8 events per check and wait


# --- custom status ----------------------------------------------------------------------------


def test_custom_status_after_every_check(
    orchestrator_handle: Any, activities: dict[str, ActivityFunction], fake_time: FakeTime
) -> None:
    result = run(orchestrator_handle, activities, fake_time, monitor_input(fake_time))

    per_check = published(result)
    assert [s["check_count"] for s in per_check] == [1, 2, 3, 4]
    assert [s["status"] for s in per_check] == ["Unknown", "Running", "Running", "Completed"]
    assert [s["progress_percent"] for s in per_check] == [0, 33, 66, 100]
    assert [s["last_check_time"][11:23] for s in per_check] == ["12:00:00.000", "12:00:05.000", "12:00:10.000", "12:00:15.000"]
    first = per_check[0]
    assert all(ISO_MS.fullmatch(s["last_check_time"]) for s in per_check)
    assert first["job_id"] == "job-orch"
    assert first["deadline"] == "2030-01-01T12:00:30.000Z"
    assert first["workflow_type"] == "data_processing"
    assert set(first["metrics"]) == {
        "items_processed",
        "items_failed",
        "success_rate",
        "error_rate",
        "throughput_items_per_second",
    }
    assert first["alerts"] == []
    assert per_check[-1]["final_status"] == "Completed"
    assert "final_status" not in per_check[-2]


def test_custom_status_lists_the_active_alerts(
    orchestrator_handle: Any, activities: dict[str, ActivityFunction], fake_time: FakeTime
) -> None:
    result = run(
        orchestrator_handle,
        activities,
        fake_time,
        monitor_input(fake_time, simulated_outcome="stalled", failure_rate=0.5, error_rate_threshold=0.2),
    )

    last_check = published(result)[-2]
    assert {a["name"] for a in last_check["alerts"]} == {"low_success_rate", "high_error_rate", "slow_progress"}
    assert all(set(a) == {"name", "severity", "message"} for a in last_check["alerts"])
    assert result.output["alerts_raised"] == ["low_success_rate", "high_error_rate", "slow_progress"]


def test_with_monitoring_disabled_custom_status_has_only_the_basic_fields(
    orchestrator_handle: Any, activities: dict[str, ActivityFunction], fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="job_monitor")

    result = run(
        orchestrator_handle,
        activities,
        fake_time,
        monitor_input(fake_time, enable_monitoring=False, simulated_outcome="stalled", failure_rate=0.9),
    )

    assert set(published(result)[0]) == {
        "job_id",
        "status",
        "check_count",
        "last_check_time",
        "progress_percent",
        "deadline",
        "workflow_type",
    }
    assert result.output["alerts_raised"] == []
    assert not [r for r in caplog.records if r.getMessage().startswith("Alert ")]


def test_custom_status_stays_small_for_the_largest_inputs(
    orchestrator_handle: Any, activities: dict[str, ActivityFunction], fake_time: FakeTime
) -> None:
    result = run(
        orchestrator_handle,
        activities,
        fake_time,
        monitor_input(
            fake_time,
            job_id="J" * 100,
            workflow_type="W" * 64,
            batch_size=1_000_000,
            failure_rate=0.5,
            simulated_outcome="stalled",
            error_rate_threshold=0.01,
        ),
    )

    sizes = [len(json.dumps(s).encode()) for s in result.custom_statuses]
    assert max(sizes) < 16 * 1024
    assert max(sizes) < 2 * 1024  # nothing in it grows with the input


# --- determinism and logging ------------------------------------------------------------------


def test_replaying_recorded_histories_gives_identical_decisions(
    orchestrator_handle: Any, activities: dict[str, ActivityFunction], fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(monitor_state, "CHECKS_PER_GENERATION", 2)
    result = run(
        orchestrator_handle,
        activities,
        fake_time,
        monitor_input(fake_time, simulated_outcome="stalled", polling_interval_seconds=4, wait_strategy="timer"),
    )
    recorded = [(e.context_json, e.state_json) for e in result.episodes]

    def no_time(*_: Any) -> float:
        raise AssertionError("the orchestrator read the wall clock")

    monkeypatch.setattr(clock.time, "time", no_time)
    replayed = [(context, orchestrator_handle(context)) for context, _ in recorded]

    assert replayed == recorded
    assert len(recorded) > 10


def test_each_check_and_alert_is_logged_once_across_all_replays(
    orchestrator_handle: Any,
    activities: dict[str, ActivityFunction],
    fake_time: FakeTime,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(monitor_state, "CHECKS_PER_GENERATION", 4)
    caplog.set_level(logging.INFO, logger="job_monitor.orchestrator")

    result = run(
        orchestrator_handle,
        activities,
        fake_time,
        monitor_input(fake_time, simulated_outcome="stalled", polling_interval_seconds=2),
    )

    records = [r for r in caplog.records if r.name == "job_monitor.orchestrator"]
    check_lines = [r for r in records if r.getMessage().startswith("Check #")]
    alert_lines = [r for r in records if r.getMessage().startswith("Alert ")]
    started_lines = [r for r in records if r.getMessage().startswith("Monitoring job")]
    assert len(result.episodes) > 2 * result.output["checks_performed"]  # there was plenty of replay
    assert [r.check_number for r in check_lines] == list(range(1, result.output["checks_performed"] + 1))
    assert sorted(r.getMessage().split()[1] for r in alert_lines) == sorted(result.output["alerts_raised"])
    assert all(r.levelno == logging.WARNING for r in alert_lines)
    assert len(started_lines) == 1
    assert all((r.job_id, r.instance_id) == ("job-orch", "job-orch") for r in records)


# --- input handling ---------------------------------------------------------------------------


def test_input_without_submitted_at_or_job_id_uses_the_start_time_and_instance_id(
    orchestrator_handle: Any, activities: dict[str, ActivityFunction], fake_time: FakeTime
) -> None:
    result = run(orchestrator_handle, activities, fake_time, {}, instance_id="started-by-webhook")

    assert (result.output["job_id"], result.output["final_status"], result.output["checks_performed"]) == (
        "started-by-webhook",
        "Completed",
        4,
    )


def test_input_wrapped_in_an_extra_json_string_layer_is_understood(
    orchestrator_handle: Any, activities: dict[str, ActivityFunction], fake_time: FakeTime
) -> None:
    result = run(orchestrator_handle, activities, fake_time, json.dumps(monitor_input(fake_time, batch_size=10)))

    assert result.output["last_job_status"]["items_total"] == 10


def test_invalid_input_fails_the_orchestration_with_the_rule(
    orchestrator_handle: Any, activities: dict[str, ActivityFunction], fake_time: FakeTime
) -> None:
    result = run(orchestrator_handle, activities, fake_time, {"batch_size": 0})

    assert result.status == "Failed"
    assert "batch_size: must be between 1 and 1000000" in (result.error or "")
    assert result.activity_calls == []


def test_a_failing_job_service_fails_the_orchestration_with_its_error(
    orchestrator_handle: Any, activities: dict[str, ActivityFunction], fake_time: FakeTime
) -> None:
    class Broken:
        def get_status(self, plan: Any, now: Any) -> dict[str, Any]:
            raise RuntimeError("batch API returned 503")

    previous = job_service.set_job_service(Broken())
    try:
        result = run(orchestrator_handle, activities, fake_time, monitor_input(fake_time))
    finally:
        job_service.set_job_service(previous)

    assert result.status == "Failed"
    assert "batch API returned 503" in (result.error or "")
