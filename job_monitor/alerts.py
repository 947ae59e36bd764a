"""Alert rules: which alerts are active after a status check.

Three rules (names are stable identifiers, used to log each alert once per monitor):

* ``low_success_rate`` (critical): success rate below :data:`MIN_SUCCESS_RATIO` once items were processed.
* ``high_error_rate`` (warning): error rate above the request's ``error_rate_threshold``.
* ``slow_progress`` (warning): a running job made no progress since the previous check, or its
  progress rate since then projects completion after the monitoring deadline.

Pure: the times compared are the checks' own timestamps and the deadline, never "now". The orchestrator runs
this for every check again on every replay of its history, so the values are named tuples (a frozen dataclass
costs about three times as much to build) and each record's sample is read once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from .metrics import ratios
from .timefmt import iso_ms, iso_us, parse_iso

MIN_SUCCESS_RATIO = 0.90
LOW_SUCCESS_RATE = "low_success_rate"
HIGH_ERROR_RATE = "high_error_rate"
SLOW_PROGRESS = "slow_progress"


class Alert(NamedTuple):
    name: str
    severity: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "severity": self.severity, "message": self.message}


class ProgressSample(NamedTuple):
    """What the next check needs to know about the previous one."""

    items_processed: int
    checked_at: datetime

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> ProgressSample:
        return cls(int(record.get("items_processed") or 0), parse_iso(record["last_check_time"]))

    def to_dict(self) -> dict[str, Any]:
        return {"items_processed": self.items_processed, "checked_at": iso_us(self.checked_at)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProgressSample:
        return cls(int(data["items_processed"]), parse_iso(data["checked_at"]))


def evaluate(
    record: Mapping[str, Any],
    current: ProgressSample,
    previous: ProgressSample | None,
    deadline: datetime,
    error_rate_threshold: float,
) -> list[Alert]:
    """The alerts active for this status record (``current``: its sample), in a fixed order."""
    alerts: list[Alert] = []
    rates = ratios(record)
    if rates is not None:
        success, error = rates
        if success < MIN_SUCCESS_RATIO:
            alerts.append(
                Alert(
                    LOW_SUCCESS_RATE,
                    "critical",
                    f"success rate {success * 100:.1f}% is below {MIN_SUCCESS_RATIO * 100:.0f}%",
                )
            )
        if error > error_rate_threshold:
            alerts.append(
                Alert(
                    HIGH_ERROR_RATE,
                    "warning",
                    f"error rate {error * 100:.1f}% is above the {error_rate_threshold * 100:g}% threshold",
                )
            )
    slow = _slow_progress(record, current, previous, deadline)
    if slow is not None:
        alerts.append(slow)
    return alerts


def _slow_progress(
    record: Mapping[str, Any], now: ProgressSample, previous: ProgressSample | None, deadline: datetime
) -> Alert | None:
    if previous is None or record.get("status") != "Running":
        return None
    seconds = (now.checked_at - previous.checked_at).total_seconds()
    if seconds <= 0:
        return None
    gained = now.items_processed - previous.items_processed
    total = int(record.get("items_total") or 0)
    if gained <= 0:
        return Alert(
            SLOW_PROGRESS,
            "warning",
            f"no progress since the previous check ({now.items_processed} of {total} items processed)",
        )
    remaining = max(0, total - now.items_processed)
    needed = remaining * seconds / gained
    if needed <= (deadline - now.checked_at).total_seconds():
        return None
    try:
        when = iso_ms(now.checked_at + timedelta(seconds=needed))
    except OverflowError:  # beyond year 9999: still just "too late"
        when = "never"
    return Alert(
        SLOW_PROGRESS,
        "warning",
        f"projected completion {when} is after the monitoring deadline {iso_ms(deadline)}",
    )
