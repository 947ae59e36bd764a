"""A timer's schedule status (Last / Next / LastUpdated) and the past-due check made at start-up (pure).

Ports the timer extension's ``ScheduleMonitor.CheckPastDueAsync`` (``Azure/azure-webjobs-sdk-extensions`` at
2e7550f, ``src/WebJobs.Extensions/Extensions/Timers/Scheduling/ScheduleMonitor.cs:48-128``) and the status update
after each invocation (``Listener/TimerListener.cs:324-341``). "Never" is .NET's ``default(DateTime)``, which the
host serializes as ``0001-01-01T00:00:00+00:00``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from devhost.core.ncrontab import Schedule

NEVER = datetime.min.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class ScheduleStatus:
    last: datetime
    next: datetime | None
    """None for a schedule that never fires again (say the 30th of February)."""
    last_updated: datetime

    def to_json(self) -> dict[str, Any]:
        """The shape of the extension's ScheduleStatus in the timer trigger's JSON (``func.TimerRequest.schedule_status``)."""
        return {
            "Last": self.last.isoformat(),
            "Next": self.next.isoformat() if self.next is not None else None,
            "LastUpdated": self.last_updated.isoformat(),
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> ScheduleStatus:
        """Read what :meth:`to_json` wrote. ValueError/KeyError/TypeError on anything else."""
        nxt = data["Next"]
        return ScheduleStatus(
            last=_aware(datetime.fromisoformat(data["Last"])),
            next=None if nxt is None else _aware(datetime.fromisoformat(nxt)),
            last_updated=_aware(datetime.fromisoformat(data["LastUpdated"])),
        )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def check_past_due(
    schedule: Schedule, now: datetime, recorded: ScheduleStatus | None
) -> tuple[ScheduleStatus, ScheduleStatus | None, bool]:
    """At start-up: ``(status to run with, status to store or None, past due?)``.

    Never recorded: store Next = the next occurrence from now, but run with Last/LastUpdated "never" (the
    listener keeps its own freshly initialized status, TimerListener.cs:112-121). Recorded: recompute the
    expected Next from Last (or LastUpdated); if it differs the schedule changed, so restart from now when
    the expected time has passed (ScheduleMonitor.cs:96-113). Past due when now is after the recorded Next.
    """
    if recorded is None:
        upcoming = schedule.next_after(now)
        stored = ScheduleStatus(last=NEVER, next=upcoming, last_updated=now)
        return ScheduleStatus(last=NEVER, next=upcoming, last_updated=NEVER), stored, False
    if recorded.last != NEVER:
        expected, basis = schedule.next_after(recorded.last), recorded.last
    elif recorded.last_updated != NEVER:
        expected, basis = schedule.next_after(recorded.last_updated), recorded.last_updated
    else:
        expected, basis = schedule.next_after(now), now
    status, to_store = recorded, None
    if recorded.next != expected:
        if expected is not None and now > expected:
            expected, basis = schedule.next_after(now), now
        status = to_store = ScheduleStatus(last=NEVER, next=expected, last_updated=basis)
    past_due = status.next is not None and now > status.next
    return status, to_store, past_due


def after_invocation(schedule: Schedule, status: ScheduleStatus, invoked_at: datetime, *, unscheduled: bool) -> ScheduleStatus:
    """The status after an invocation that started at ``invoked_at`` (TimerListener.cs:324-341): a scheduled
    run that fired early counts from its scheduled time, so Next never repeats."""
    adjusted = invoked_at
    if not unscheduled and status.next is not None and status.next > invoked_at:
        adjusted = status.next
    return ScheduleStatus(last=adjusted, next=schedule.next_after(adjusted), last_updated=adjusted)
