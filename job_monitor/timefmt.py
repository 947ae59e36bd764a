"""ISO-8601 UTC timestamps as the app writes and reads them.

Two precisions: milliseconds for everything users read (``2025-09-19T18:05:15.123Z``, the
format of the original sample's ``last_check_time``) and microseconds for values the
orchestrator carries across ``continue_as_new``, where truncation would shift the deadline.
"""

from __future__ import annotations

from datetime import datetime, timezone


def iso_ms(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` (UTC, milliseconds, truncated)."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def iso_us(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC, microseconds): lossless for carried values."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    """Parse an ISO-8601 timestamp that carries a zone (``Z`` or an offset) into UTC.

    Raises ValueError for anything else, including naive timestamps: a naive value would
    silently mix local and UTC time.
    """
    if not isinstance(text, str):
        raise ValueError("timestamp must be a string")
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no time zone")
    return parsed.astimezone(timezone.utc)
