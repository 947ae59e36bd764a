"""The past-due check and status updates (devhost.core.schedule_status), ported from the timer extension's
ScheduleMonitor.CheckPastDueAsync (Azure/azure-webjobs-sdk-extensions 2e7550f,
src/WebJobs.Extensions/Extensions/Timers/Scheduling/ScheduleMonitor.cs:48-128) and TimerListener.cs:324-341."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from devhost.core.ncrontab import parse_schedule
from devhost.core.schedule_status import NEVER, ScheduleStatus, after_invocation, check_past_due
from devhost.runtime.timer_triggers import ScheduleStatusFile, status_path_for, timer_json

T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)
EVERY_5 = parse_schedule("0 */5 * * * *")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_timer_never_seen_stores_its_next_occurrence_and_is_not_past_due() -> None:
    status, stored, past_due = check_past_due(EVERY_5, at(1), None)

    assert stored == ScheduleStatus(last=NEVER, next=at(5), last_updated=at(1))
    assert status == ScheduleStatus(last=NEVER, next=at(5), last_updated=NEVER)  # TimerListener.cs:112-121
    assert not past_due


def test_a_recorded_next_occurrence_in_the_past_is_past_due() -> None:
    recorded = ScheduleStatus(last=at(5), next=at(10), last_updated=at(5))

    status, stored, past_due = check_past_due(EVERY_5, at(42), recorded)

    assert (status, stored, past_due) == (recorded, None, True)


def test_a_recorded_next_occurrence_still_ahead_is_not_past_due() -> None:
    recorded = ScheduleStatus(last=at(5), next=at(10), last_updated=at(5))

    assert check_past_due(EVERY_5, at(7), recorded) == (recorded, None, False)


def test_a_changed_schedule_restarts_from_now_instead_of_counting_as_past_due() -> None:
    # Recorded under "every 5 minutes"; the app now says hourly: expected Next (01:00 after Last 00:05) differs.
    recorded = ScheduleStatus(last=at(5), next=at(10), last_updated=at(5))

    status, stored, past_due = check_past_due(parse_schedule("0 0 * * * *"), at(90), recorded)

    assert stored == status == ScheduleStatus(last=NEVER, next=at(120), last_updated=at(90))
    assert not past_due


def test_an_early_scheduled_run_counts_from_its_scheduled_time_so_next_never_repeats() -> None:
    status = ScheduleStatus(last=at(0), next=at(5), last_updated=at(0))

    early = after_invocation(EVERY_5, status, at(5) - timedelta(milliseconds=300), unscheduled=False)
    past_due_run = after_invocation(EVERY_5, status, at(7), unscheduled=True)

    assert early == ScheduleStatus(last=at(5), next=at(10), last_updated=at(5))
    assert past_due_run == ScheduleStatus(last=at(7), next=at(10), last_updated=at(7))


def test_statuses_survive_a_reopen_of_the_file(tmp_path: Path) -> None:
    path = status_path_for(tmp_path / "store.sqlite3")
    assert path is not None
    ScheduleStatusFile(path).put("tick", ScheduleStatus(last=at(5), next=at(10), last_updated=at(5)))

    assert ScheduleStatusFile(path).get("tick") == ScheduleStatus(last=at(5), next=at(10), last_updated=at(5))
    assert [p.name for p in tmp_path.iterdir()] == ["store.sqlite3.timers.json"]  # no temporary file left


def test_an_unreadable_status_file_is_ignored_like_a_timer_never_seen(tmp_path: Path) -> None:
    path = tmp_path / "s.timers.json"
    path.write_text("{not json", encoding="utf-8")

    assert ScheduleStatusFile(path).get("tick") is None


def test_the_timer_json_has_the_documented_shape() -> None:
    # The timer docs' "Usage" example: Schedule, ScheduleStatus {Last, LastUpdated, Next}, IsPastDue.
    text = timer_json(ScheduleStatus(last=NEVER, next=at(5), last_updated=NEVER), past_due=False)

    assert text == (
        '{"Schedule": {"AdjustForDST": true}, "ScheduleStatus": {"Last": "0001-01-01T00:00:00+00:00", '
        '"Next": "2030-01-01T00:05:00+00:00", "LastUpdated": "0001-01-01T00:00:00+00:00"}, "IsPastDue": false}'
    )
    assert '"ScheduleStatus": null' in timer_json(None, past_due=True)
