"""Timer-trigger schedules: NCRONTAB expressions and TimeSpan intervals, and their next occurrence (pure).

Follows the timer extension (``Azure/azure-webjobs-sdk-extensions`` at 2e7550f,
``src/WebJobs.Extensions/Extensions/Timers/``) and the NCrontab library it uses (``atifaziz/NCrontab`` at
d122d58, ``NCrontab/``):

- ``TimerSchedule.Create`` (Scheduling/TimerSchedule.cs:61-99) tries a cron expression first, then a .NET
  ``TimeSpan``, and otherwise fails with "The schedule expression '...' was not recognized as a valid cron
  expression or timespan string." (line 90).
- ``CronSchedule.HasSeconds`` (Scheduling/CronSchedule.cs:245-248): an expression of exactly five fields is
  parsed *without* seconds (classic cron, minute first); any other count is parsed with seconds (six fields).
- Field syntax (NCrontab CrontabFieldImpl.cs:182-265): ``*``, ``n``, ``a-b`` (swapped if reversed),
  ``x/step`` where ``n/step`` means ``n-max/step``, comma lists, and English month/day names matched
  case-insensitively by prefix ("Mon", "January"). Ranges: second/minute 0-59, hour 0-23, day 1-31,
  month 1-12, day of week 0-6 (0 = Sunday).
- The next occurrence is strictly after the base time at whole-second resolution, and the day of month and
  the day of week must *both* match (CrontabSchedule.cs:365, unlike Vixie cron's "either").
- A ``TimeSpan`` schedule (ConstantSchedule) fires every interval after the previous run.

Times are UTC (the default of Azure; ``WEBSITE_TIME_ZONE`` is not applied, see docs/timer-triggers.md).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Union

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")

# (label, min, max, names) per field, seconds first.
_FIELDS: tuple[tuple[str, int, int, Sequence[str] | None], ...] = (
    ("Second", 0, 59, None),
    ("Minute", 0, 59, None),
    ("Hour", 0, 23, None),
    ("Day", 1, 31, None),
    ("Month", 1, 12, MONTH_NAMES),
    ("DayOfWeek", 0, 6, DAY_NAMES),
)
_SEARCH_YEARS = 400  # the Gregorian cycle: a date that matches at all matches within it


class ScheduleError(ValueError):
    """The schedule text is neither a valid NCRONTAB expression nor a TimeSpan."""


@dataclass(frozen=True)
class CronSchedule:
    expression: str
    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    days_of_week: frozenset[int]

    def next_after(self, base: datetime) -> datetime | None:
        """The first occurrence strictly after ``base`` (whole seconds), or None if there is none."""
        start = base.replace(microsecond=0) + timedelta(seconds=1)
        month = start.date().replace(day=1)
        for _ in range(_SEARCH_YEARS * 12 + 1):
            if month.month in self.months:
                first = start.day if (month.year, month.month) == (start.year, start.month) else 1
                for number in range(first, calendar.monthrange(month.year, month.month)[1] + 1):
                    candidate = month.replace(day=number)
                    # Python's weekday() is Monday=0; cron counts from Sunday=0.
                    if number not in self.days or (candidate.weekday() + 1) % 7 not in self.days_of_week:
                        continue
                    after = (start.hour, start.minute, start.second) if candidate == start.date() else None
                    hit = self._first_time(after)
                    if hit is not None:
                        return base.replace(
                            year=candidate.year,
                            month=candidate.month,
                            day=number,
                            hour=hit[0],
                            minute=hit[1],
                            second=hit[2],
                            microsecond=0,
                        )
            if month.year >= 9999 and month.month == 12:
                return None
            month = (month + timedelta(days=32)).replace(day=1)
        return None

    def _first_time(self, at_or_after: tuple[int, int, int] | None) -> tuple[int, int, int] | None:
        for hour in self.hours:
            for minute in self.minutes:
                for second in self.seconds:
                    if at_or_after is None or (hour, minute, second) >= at_or_after:
                        return hour, minute, second
        return None

    def fires_more_than_once_a_minute(self, now: datetime) -> bool:
        """TimerSchedule.ShouldDisableScheduleMonitor (TimerSchedule.cs:106-135): every field but the seconds
        is ``*`` and more than one occurrence falls within the next minute."""
        rest = self.expression.split()[1:] if len(self.expression.split()) == 6 else ["x"]
        if any(part != "*" for part in rest):
            return False
        first = self.next_after(now)
        second = self.next_after(first) if first is not None else None
        return second is not None and second < now + timedelta(minutes=1)


@dataclass(frozen=True)
class IntervalSchedule:
    """A TimeSpan schedule: every ``interval`` after the previous occurrence (ConstantSchedule)."""

    expression: str
    interval: timedelta

    def next_after(self, base: datetime) -> datetime | None:
        return base + self.interval

    def fires_more_than_once_a_minute(self, now: datetime) -> bool:
        # TimerSchedule.cs:81: UseMonitor is turned off for TimeSpans under one minute.
        return self.interval < timedelta(minutes=1)


Schedule = Union[CronSchedule, IntervalSchedule]


def parse_schedule(text: str) -> Schedule:
    """A cron expression (six fields, or five without seconds) or a TimeSpan; ScheduleError otherwise."""
    expression = text.strip() if isinstance(text, str) else ""
    try:
        return parse_cron(expression)
    except ScheduleError as cron_error:
        interval = parse_timespan(expression)
        if interval is None:
            raise ScheduleError(
                f"The schedule expression '{text}' was not recognized as a valid cron expression or timespan string"
                f" ({cron_error})"
            ) from None
        if interval <= timedelta(0):
            raise ScheduleError(f"The schedule expression '{text}' is a TimeSpan that is not positive") from None
        return IntervalSchedule(expression, interval)


def parse_cron(expression: str) -> CronSchedule:
    tokens = expression.split()
    if len(tokens) not in (5, 6):
        raise ScheduleError(f"'{expression}' must have 6 fields (second minute hour day month day-of-week) or 5 without seconds")
    if len(tokens) == 5:
        tokens = ["0"] + tokens  # NCrontab without seconds fires at second 0
    values = [_parse_field(token, *spec) for token, spec in zip(tokens, _FIELDS)]
    return CronSchedule(
        expression=expression,
        seconds=tuple(sorted(values[0])),
        minutes=tuple(sorted(values[1])),
        hours=tuple(sorted(values[2])),
        days=frozenset(values[3]),
        months=frozenset(values[4]),
        days_of_week=frozenset(values[5]),
    )


def _parse_field(token: str, label: str, low: int, high: int, names: Sequence[str] | None) -> list[int]:
    chosen: list[int] = []
    for part in token.split(","):
        chosen.extend(_parse_part(part, token, label, low, high, names))
    return chosen


def _parse_part(part: str, token: str, label: str, low: int, high: int, names: Sequence[str] | None) -> list[int]:
    bad = ScheduleError(f"'{token}' is not a valid [{label}] crontab field expression")
    if not part:
        raise bad
    step = 1
    stepped = "/" in part[1:]
    if stepped:
        part, _, step_text = part.partition("/")
        if not step_text.isdigit():
            raise bad
        step = max(1, int(step_text))
    if part == "*":
        first, last = low, high
    elif "-" in part[1:]:
        a, _, b = part.partition("-")
        first, last = sorted((_value(a, bad, names, low), _value(b, bad, names, low)))
    else:
        first = _value(part, bad, names, low)
        last = high if stepped else first  # "n/step" runs from n to the maximum
    if first < low or last > high:
        raise ScheduleError(f"'{token}': [{label}] values must be between {low} and {high}")
    return list(range(first, last + 1, step))


def _value(text: str, bad: ScheduleError, names: Sequence[str] | None, low: int) -> int:
    if text[:1].isdigit():
        if not text.isdigit():
            raise bad
        return int(text)
    if names is not None and text:
        for index, name in enumerate(names):
            if name.lower().startswith(text.lower()):
                return index + low
    raise bad


# .NET TimeSpan.TryParse (invariant culture): "d", "hh:mm", "hh:mm:ss[.fffffff]", "d.hh:mm[:ss[.fffffff]]",
# "d:hh:mm:ss[.fffffff]"; and its well-known quirk that "hh:mm:ss" with hh >= 24 reads as "d:hh:mm" (so
# "24:00:00" is 24 days, as the timer docs' TimeSpan section says: "When the first two digits are 24 or
# greater, the format is dd:hh:mm").
_NUMBER = re.compile(r"^\d+$")
_SECONDS = re.compile(r"^(\d+)(?:\.(\d{1,7}))?$")


def parse_timespan(text: str) -> timedelta | None:
    """The interval .NET ``TimeSpan.TryParse`` reads from ``text``, or None."""
    if _NUMBER.match(text):
        return timedelta(days=int(text))
    days = 0
    head, dot, rest = text.partition(".")
    if dot and _NUMBER.match(head) and ":" in rest and ":" not in head:
        days, text = int(head), rest
    parts = text.split(":")
    if not 2 <= len(parts) <= 4 or not all(_NUMBER.match(p) for p in parts[:-1]):
        return None
    seconds_match = _SECONDS.match(parts[-1]) if len(parts) > 2 else None
    if len(parts) == 2:
        if not _NUMBER.match(parts[1]):
            return None
        hours, minutes, seconds, fraction = int(parts[0]), int(parts[1]), 0, "0"
    elif seconds_match is None:
        return None
    elif len(parts) == 4:
        if days:
            return None
        days, hours, minutes = int(parts[0]), int(parts[1]), int(parts[2])
        seconds, fraction = int(seconds_match[1]), seconds_match[2] or "0"
    elif int(parts[0]) >= 24 and not days and seconds_match[2] is None:
        days, hours, minutes, seconds, fraction = int(parts[0]), int(parts[1]), int(parts[2]), 0, "0"
    else:
        hours, minutes = int(parts[0]), int(parts[1])
        seconds, fraction = int(seconds_match[1]), seconds_match[2] or "0"
    if hours > 23 or minutes > 59 or seconds > 59:
        return None
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds, microseconds=int(fraction.ljust(7, "0")) // 10)
