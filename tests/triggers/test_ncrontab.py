"""NCRONTAB and TimeSpan schedules as the timer extension reads them (devhost.core.ncrontab).

Sources: Azure/azure-webjobs-sdk-extensions 2e7550f src/WebJobs.Extensions/Extensions/Timers/Scheduling/
(CronSchedule.cs, TimerSchedule.cs), atifaziz/NCrontab d122d58 NCrontab/ (CrontabFieldImpl.cs, CrontabSchedule.cs),
and the timer trigger docs' "NCRONTAB expressions" and "TimeSpan" sections.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devhost.core.ncrontab import CronSchedule, IntervalSchedule, ScheduleError, parse_schedule, parse_timespan

T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)  # a Tuesday


def occurrences(expression: str, count: int, start: datetime = T0) -> list[str]:
    schedule = parse_schedule(expression)
    out, current = [], start
    for _ in range(count):
        nxt = schedule.next_after(current)
        assert nxt is not None
        out.append(nxt.isoformat())
        current = nxt
    return out


@pytest.mark.parametrize(
    ("expression", "first_three"),
    [
        # The docs' examples table.
        ("0 */5 * * * *", ["2030-01-01T00:05:00+00:00", "2030-01-01T00:10:00+00:00", "2030-01-01T00:15:00+00:00"]),
        ("0 0 * * * *", ["2030-01-01T01:00:00+00:00", "2030-01-01T02:00:00+00:00", "2030-01-01T03:00:00+00:00"]),
        ("0 0 */2 * * *", ["2030-01-01T02:00:00+00:00", "2030-01-01T04:00:00+00:00", "2030-01-01T06:00:00+00:00"]),
        ("0 0 9-17 * * *", ["2030-01-01T09:00:00+00:00", "2030-01-01T10:00:00+00:00", "2030-01-01T11:00:00+00:00"]),
        ("0 30 9 * * *", ["2030-01-01T09:30:00+00:00", "2030-01-02T09:30:00+00:00", "2030-01-03T09:30:00+00:00"]),
        ("0 30 9 * * 1-5", ["2030-01-01T09:30:00+00:00", "2030-01-02T09:30:00+00:00", "2030-01-03T09:30:00+00:00"]),
        ("0 30 9 * Jan Mon", ["2030-01-07T09:30:00+00:00", "2030-01-14T09:30:00+00:00", "2030-01-21T09:30:00+00:00"]),
        ("5,8,10 * * * * *", ["2030-01-01T00:00:05+00:00", "2030-01-01T00:00:08+00:00", "2030-01-01T00:00:10+00:00"]),
        # Five fields: no seconds (CronSchedule.HasSeconds, CronSchedule.cs:245-248), fires at second 0.
        ("*/15 * * * *", ["2030-01-01T00:15:00+00:00", "2030-01-01T00:30:00+00:00", "2030-01-01T00:45:00+00:00"]),
        # "n/step" runs from n to the maximum (CrontabFieldImpl.cs:239-241).
        ("10/20 * * * * *", ["2030-01-01T00:00:10+00:00", "2030-01-01T00:00:30+00:00", "2030-01-01T00:00:50+00:00"]),
        # Reversed ranges are swapped, not wrapped (CrontabField.cs:203-208): FRI-wed is Wednesday to Friday.
        # Names match by prefix, in any case (CrontabFieldImpl.cs:256-260).
        ("0 0 12 * * FRI-wed", ["2030-01-02T12:00:00+00:00", "2030-01-03T12:00:00+00:00", "2030-01-04T12:00:00+00:00"]),
    ],
)
def test_documented_expressions_fire_when_the_docs_say(expression: str, first_three: list[str]) -> None:
    assert occurrences(expression, 3) == first_three


def test_day_of_month_and_day_of_week_must_both_match() -> None:
    # NCrontab ANDs them (CrontabSchedule.cs:365): the 13th that is a Friday, not every 13th and every Friday.
    assert occurrences("0 0 0 13 * 5", 2) == ["2030-09-13T00:00:00+00:00", "2030-12-13T00:00:00+00:00"]


def test_the_next_occurrence_is_strictly_after_the_base_at_whole_seconds() -> None:
    schedule = parse_schedule("0 */5 * * * *")

    assert schedule.next_after(T0 + timedelta(minutes=5)) == T0 + timedelta(minutes=10)
    assert schedule.next_after(T0 + timedelta(minutes=4, seconds=59, microseconds=900)) == T0 + timedelta(minutes=5)


def test_a_date_that_never_comes_has_no_next_occurrence() -> None:
    assert parse_schedule("0 0 0 30 2 *").next_after(T0) is None


def test_a_leap_day_on_a_given_weekday_is_found_decades_ahead() -> None:
    assert parse_schedule("0 0 0 29 Feb Mon").next_after(T0) == datetime(2044, 2, 29, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "interval"),
    [
        ("01:00:00", timedelta(hours=1)),  # the docs' TimeSpan examples
        ("00:01:00", timedelta(minutes=1)),
        ("24:00:00", timedelta(days=24)),  # "first two digits 24 or greater: dd:hh:mm" (.NET TimeSpan quirk)
        ("1.02:03:04", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("00:00:01.5", timedelta(seconds=1.5)),
        ("10:20", timedelta(hours=10, minutes=20)),
        ("7", timedelta(days=7)),
    ],
)
def test_timespans_parse_as_dotnet_timespan(text: str, interval: timedelta) -> None:
    schedule = parse_schedule(text)

    assert isinstance(schedule, IntervalSchedule)
    assert schedule.interval == interval
    assert schedule.next_after(T0) == T0 + interval


@pytest.mark.parametrize(
    "text",
    [
        "",
        "every 5 minutes",
        "0 */5 * * *  * *",
        "60 * * * * *",
        "0 0 24 * * *",
        "0 0 0 0 * *",
        "0 0 0 1 13 *",
        "0 0 0 * * 7",
        "0 0 0 1 Foo *",
        "*/x * * * * *",
        "/5 * * * * *",
        "12:60:00",
        "00:00:00",
    ],
)
def test_invalid_schedules_are_refused_with_the_extensions_words(text: str) -> None:
    with pytest.raises(ScheduleError, match="was not recognized as a valid cron expression or timespan string|not positive"):
        parse_schedule(text)


def test_sub_minute_schedules_are_the_ones_that_turn_monitoring_off() -> None:
    # TimerSchedule.ShouldDisableScheduleMonitor (TimerSchedule.cs:106-135) and the TimeSpan rule (line 81).
    assert parse_schedule("*/10 * * * * *").fires_more_than_once_a_minute(T0)
    assert not parse_schedule("0 * * * * *").fires_more_than_once_a_minute(T0)
    assert not parse_schedule("0 */5 * * * *").fires_more_than_once_a_minute(T0)
    assert parse_schedule("00:00:30").fires_more_than_once_a_minute(T0)
    assert not parse_schedule("00:01:00").fires_more_than_once_a_minute(T0)


def test_a_non_digit_timespan_is_not_a_timespan() -> None:
    assert parse_timespan("1:xx") is None


fields = st.tuples(
    st.sets(st.integers(0, 59), min_size=1, max_size=4),
    st.sets(st.integers(0, 59), min_size=1, max_size=4),
    st.sets(st.integers(0, 23), min_size=1, max_size=4),
    st.sets(st.integers(1, 28), min_size=1, max_size=4),
    st.sets(st.integers(1, 12), min_size=1, max_size=4),
    st.sets(st.integers(0, 6), min_size=1, max_size=7),
)


@settings(max_examples=150, deadline=None)
@given(fields, st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_the_next_occurrence_matches_every_field_and_nothing_matches_in_between(values: tuple, base: datetime) -> None:
    expression = " ".join(",".join(str(v) for v in sorted(field)) for field in values)
    schedule = parse_schedule(expression)
    base = base.replace(tzinfo=timezone.utc)

    nxt = schedule.next_after(base)

    assert isinstance(schedule, CronSchedule) and nxt is not None
    seconds, minutes, hours, days, months, weekdays = values
    assert nxt > base
    assert (
        nxt.second in seconds
        and nxt.minute in minutes
        and nxt.hour in hours
        and nxt.day in days
        and nxt.month in months
        and (nxt.weekday() + 1) % 7 in weekdays
    )
    # Nothing earlier qualifies: the minute-level candidates between base and nxt all miss a field.
    probe = base.replace(microsecond=0) + timedelta(seconds=1)
    if nxt - probe < timedelta(hours=2):
        while probe < nxt:
            assert not (
                probe.second in seconds
                and probe.minute in minutes
                and probe.hour in hours
                and probe.day in days
                and probe.month in months
                and (probe.weekday() + 1) % 7 in weekdays
            )
            probe += timedelta(seconds=1)
