"""Alert rules and metrics."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from job_monitor.alerts import Alert, ProgressSample, evaluate
from job_monitor.metrics import job_metrics

T0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
DEADLINE = T0 + timedelta(seconds=30)


def record(processed: int, failed: int = 0, *, status: str = "Running", at: float = 10, total: int = 100) -> dict[str, Any]:
    stamp = (T0 + timedelta(seconds=at)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return {
        "status": status,
        "items_processed": processed,
        "items_failed": failed,
        "items_total": total,
        "last_check_time": stamp,
    }


def alerts_for(rec: dict[str, Any], previous: ProgressSample | None, threshold: float) -> list[Alert]:
    return evaluate(rec, ProgressSample.from_record(rec), previous, DEADLINE, threshold)


def names(rec: dict[str, Any], previous: ProgressSample | None = None, threshold: float = 0.05) -> list[str]:
    return [a.name for a in alerts_for(rec, previous, threshold)]


def sample(processed: int, at: float) -> ProgressSample:
    return ProgressSample(processed, T0 + timedelta(seconds=at))


def test_no_alert_before_anything_was_processed() -> None:
    assert names(record(0, status="Unknown", at=0)) == []


def test_healthy_job_raises_nothing() -> None:
    assert names(record(50, 1), sample(20, 5)) == []


def test_success_rate_below_ninety_percent_is_critical() -> None:
    alerts = alerts_for(record(10, 2), None, 1.0)

    assert [(a.name, a.severity) for a in alerts] == [("low_success_rate", "critical")]
    assert "80.0%" in alerts[0].message


def test_exactly_ninety_percent_success_is_not_low() -> None:
    assert "low_success_rate" not in names(record(100, 10), threshold=1.0)


def test_error_rate_above_threshold_warns_and_equal_does_not() -> None:
    assert names(record(100, 6), threshold=0.05) == ["high_error_rate"]
    assert names(record(100, 5), threshold=0.05) == []


def test_no_progress_since_previous_check_is_slow_progress() -> None:
    alerts = alerts_for(record(50, at=15), sample(50, 10), 1.0)

    assert [a.name for a in alerts] == ["slow_progress"]
    assert "no progress" in alerts[0].message


def test_projection_past_the_deadline_is_slow_progress() -> None:
    # 10 items in 10 s, 80 left -> 80 s more, deadline in 10 s.
    alerts = alerts_for(record(20, at=20), sample(10, 10), 1.0)

    assert [a.name for a in alerts] == ["slow_progress"]
    assert "2030-01-01T12:01:40.000Z" in alerts[0].message


def test_projection_before_the_deadline_is_fine() -> None:
    assert names(record(66, at=10), sample(33, 5), threshold=1.0) == []


def test_finished_jobs_never_get_slow_progress() -> None:
    assert names(record(50, status="Completed", at=15), sample(50, 10), threshold=1.0) == []
    assert names(record(50, status="Failed", at=15), sample(50, 10), threshold=1.0) == []


def test_absurd_projection_does_not_overflow() -> None:
    # One item in a century, a million to go: the projected date is past year 9999.
    alerts = alerts_for(record(2, at=10, total=1_000_000), sample(1, -86400 * 36525), 1.0)

    assert [a.name for a in alerts] == ["slow_progress"]
    assert "projected completion never" in alerts[0].message


def test_metrics_report_rates_in_percent_and_throughput() -> None:
    assert job_metrics(record(200, 30), 20) == {
        "items_processed": 200,
        "items_failed": 30,
        "success_rate": 85.0,
        "error_rate": 15.0,
        "throughput_items_per_second": 10.0,
    }


def test_metrics_before_progress_have_no_rates() -> None:
    metrics = job_metrics(record(0), 0)

    assert (metrics["success_rate"], metrics["error_rate"], metrics["throughput_items_per_second"]) == (None, None, 0.0)
